"""One epoch of a 784-256-128-10 ReLU MLP, Adam, batch 128, on 60000×784 float32.

Side by side, in one run:
- the matrix-multiply bound: the epoch's GEMMs (forward, the weight gradients and the input
  gradients that backpropagation needs), timed with NumPy on exactly those shapes;
- nnkit's epoch time (the ``seconds`` of its training history);
- PyTorch on the CPU and scikit-learn's ``MLPClassifier`` (one ``partial_fit`` epoch), when they are
  installed (they are benchmark-only, never dependencies);
- the peak resident memory of ``nnkit train-mlp`` on a 60000×784 uint8 MNIST IDX folder, against
  2.5 × the float32 training array.

Each contender runs in its own process (so thread pools do not interfere) and reports the epoch
time it measured itself, imports excluded. The data are the real MNIST test images (t10k) tiled to
60000 when ``../shared/data/mnist`` is beside the repository, else synthetic.

    python benchmarks/train_mlp.py [--epochs 3] [--rounds 2] [--skip-memory] [--json results.json]
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
MNIST = ROOT.parent / "shared" / "data" / "mnist"
N, D, H1, H2, K, BATCH = 60000, 784, 256, 128, 10, 128
SIZES = [D, H1, H2, K]


def load_images() -> tuple[np.ndarray, np.ndarray, str]:
    """60000×28×28 uint8 images and labels: MNIST t10k tiled six times, or synthetic."""
    images_path = MNIST / "t10k-images-idx3-ubyte.gz"
    if images_path.exists():
        from nnkit.data.labelled import read_idx

        images = read_idx(images_path)
        labels = read_idx(MNIST / "t10k-labels-idx1-ubyte.gz")
        reps = -(-N // len(images))
        return np.tile(images, (reps, 1, 1))[:N], np.tile(labels, reps)[:N], "MNIST t10k ×6"
    rng = np.random.default_rng(0)
    labels = rng.integers(0, K, N).astype(np.uint8)
    images = rng.integers(0, 256, (N, 28, 28), dtype=np.uint8)
    return images, labels, "synthetic"


def float_data() -> tuple[np.ndarray, np.ndarray, str]:
    images, labels, source = load_images()
    from nnkit.data.preprocessing import scale_images

    return scale_images(images, 255.0), labels.astype(np.int64), source


def blas_info() -> str:
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "threadpoolctl not installed"
    blas = [i for i in threadpool_info() if i.get("user_api") == "blas"]
    return "; ".join(
        f"{i.get('internal_api')} {i.get('version')} {i.get('architecture')} {i.get('num_threads')} threads"
        for i in blas[:1]
    )


# ---------------------------------------------------------------------------------------------
# Workers: each prints one JSON line {"epoch_seconds": [...], ...}


def worker_gemm(epochs: int) -> dict:
    """Time exactly the matrix products of one epoch, with preallocated outputs."""
    rng = np.random.default_rng(0)
    f32 = np.float32
    steps = [BATCH] * (N // BATCH) + ([N % BATCH] if N % BATCH else [])
    x = rng.standard_normal((BATCH, D), dtype=f32)
    W = [rng.standard_normal((a, b), dtype=f32) for a, b in itertools.pairwise(SIZES)]
    flops = 0
    for m in steps:
        for i, (a, b) in enumerate(itertools.pairwise(SIZES)):
            flops += 2 * m * a * b  # forward  h_i @ W_i
            flops += 2 * m * a * b  # backward dW_i = h_iᵀ @ dz_i
            if i > 0:
                flops += 2 * m * a * b  # backward dh_i = dz_i @ W_iᵀ (not for the input layer)

    # Outputs preallocated per batch size, as a tuned trainer keeps them: the bound counts the
    # multiplications alone, not allocation or page faults.
    outs = {}
    for m in set(steps):
        acts = [np.empty((m, b), f32) for b in SIZES[1:]]
        grads_w = [np.empty_like(w) for w in W]
        grads_h = [np.empty((m, a), f32) for a in SIZES[:-1]]
        outs[m] = (acts, grads_w, grads_h)

    def one_epoch() -> float:
        start = time.perf_counter()
        for m in steps:
            acts, grads_w, grads_h = outs[m]
            h = [x[:m]]
            for w, out in zip(W, acts, strict=True):
                h.append(np.matmul(h[-1], w, out=out))
            dz = h[-1]
            for i in range(len(W) - 1, -1, -1):
                np.matmul(h[i].T, dz, out=grads_w[i])
                if i > 0:
                    dz = np.matmul(dz, W[i].T, out=grads_h[i])
        return time.perf_counter() - start

    one_epoch()
    times = [one_epoch() for _ in range(max(epochs, 3))]
    return {"epoch_seconds": times, "flops": flops}


def worker_nnkit(epochs: int) -> dict:
    from nnkit.nn.optimizers import make_optimizer
    from nnkit.nn.stack import build_mlp
    from nnkit.nn.training import fit

    x, y, _ = float_data()
    net = build_mlp(D, [H1, H2], K, rng=0)
    opt = make_optimizer("adam", net.parameters())
    history = fit(net, x, y, optimizer=opt, epochs=epochs, batch_size=BATCH, seed=0)
    return {
        "epoch_seconds": [row["seconds"] for row in history],
        "accuracy": history[-1]["accuracy"],
        "blas": blas_info(),
    }


def worker_torch(epochs: int) -> dict:
    import torch

    x_np, y_np, _ = float_data()
    torch.manual_seed(0)
    x = torch.from_numpy(x_np)
    y = torch.from_numpy(y_np)
    model = torch.nn.Sequential(
        torch.nn.Linear(D, H1),
        torch.nn.ReLU(),
        torch.nn.Linear(H1, H2),
        torch.nn.ReLU(),
        torch.nn.Linear(H2, K),
    )
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = torch.nn.CrossEntropyLoss()
    times = []
    accuracy = 0.0
    for _ in range(epochs):
        start = time.perf_counter()
        order = torch.randperm(N)
        xs, ys = x[order], y[order]
        correct = 0
        for s in range(0, N, BATCH):
            xb, yb = xs[s : s + BATCH], ys[s : s + BATCH]
            opt.zero_grad(set_to_none=True)
            out = model(xb)
            loss = loss_fn(out, yb)
            loss.backward()
            opt.step()
            correct += int((out.argmax(1) == yb).sum())
        times.append(time.perf_counter() - start)
        accuracy = correct / N
    return {
        "epoch_seconds": times,
        "accuracy": accuracy,
        "version": torch.__version__,
        "threads": torch.get_num_threads(),
    }


def worker_sklearn(epochs: int) -> dict:
    import warnings

    import sklearn
    from sklearn.neural_network import MLPClassifier

    x, y, _ = float_data()
    model = MLPClassifier(
        hidden_layer_sizes=(H1, H2),
        solver="adam",
        batch_size=BATCH,
        learning_rate_init=1e-3,
        alpha=0.0,
        random_state=0,
    )
    classes = np.arange(K)
    times = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(epochs):
            start = time.perf_counter()
            model.partial_fit(x, y, classes=classes)
            times.append(time.perf_counter() - start)
    return {"epoch_seconds": times, "version": sklearn.__version__}


WORKERS = {
    "gemm": worker_gemm,
    "nnkit": worker_nnkit,
    "torch": worker_torch,
    "sklearn": worker_sklearn,
}


def worker_env() -> dict:
    """The environment of the workers: this machine's OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE
    overrides removed, so OpenBLAS picks its own kernel (reported by threadpoolctl)."""
    return {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")}


def run_worker(name: str, epochs: int) -> dict | None:
    done = subprocess.run(
        [sys.executable, __file__, "--worker", name, "--epochs", str(epochs)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=worker_env(),
    )
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["?"])[-1]
        print(f"  {name}: not measured ({last})", file=sys.stderr)
        return None
    return json.loads(done.stdout.strip().splitlines()[-1])


def peak_memory() -> dict:
    """Peak RSS of ``nnkit train-mlp`` (one epoch) on a 60000×784 uint8 IDX folder."""
    from nnkit.data.labelled import write_idx

    images, labels, _ = load_images()
    float_bytes = images.size * 4
    nnkit = Path(sys.executable).with_name("nnkit")
    with tempfile.TemporaryDirectory() as folder:
        write_idx(Path(folder) / "train-images-idx3-ubyte.gz", images)
        write_idx(Path(folder) / "train-labels-idx1-ubyte.gz", labels)
        del images
        command = [
            str(nnkit),
            "train-mlp",
            "--data",
            folder,
            "--hidden",
            f"{H1},{H2}",
            "--batch-size",
            str(BATCH),
            "--epochs",
            "1",
            "--val-split",
            "0",
            "--test-split",
            "0",
            "-f",
            "json",
            "-q",
        ]
        timer = Path("/usr/bin/time")
        if timer.exists():
            done = subprocess.run([str(timer), "-v", *command], capture_output=True, text=True)
            line = [s for s in done.stderr.splitlines() if "Maximum resident set size" in s]
            peak = int(line[0].split(":")[1]) * 1024 if line else None
        else:
            import resource

            done = subprocess.run(command, capture_output=True, text=True)
            peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    if done.returncode != 0:
        print(done.stderr[-2000:], file=sys.stderr)
    return {
        "peak_bytes": peak,
        "float32_training_array_bytes": float_bytes,
        "limit_bytes": 2.5 * float_bytes,
        "ok": done.returncode == 0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3, help="epochs per contender (best taken)")
    parser.add_argument("--rounds", type=int, default=2, help="round-robin rounds of all contenders")
    parser.add_argument("--worker", choices=sorted(WORKERS), help=argparse.SUPPRESS)
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(WORKERS[args.worker](args.epochs)))
        return

    _, _, source = load_images()
    # Round-robin: the machine is shared, so each contender gets runs spread over the same period.
    results: dict = {name: None for name in WORKERS}
    for _ in range(args.rounds):
        for name in WORKERS:
            got = run_worker(name, args.epochs)
            if got is None:
                continue
            if results[name] is None:
                results[name] = got
            else:
                results[name]["epoch_seconds"] += got["epoch_seconds"]
    print(
        f"train-mlp benchmark: {N}×{D} float32 ({source}), {'-'.join(map(str, SIZES))} ReLU, "
        f"Adam, batch {BATCH}; BLAS (in the workers): {(results['nnkit'] or {}).get('blas', '?')}; "
        f"OPENBLAS_CORETYPE/L2_SIZE unset for the workers; load average {os.getloadavg()[0]:.1f}"
    )
    # The median of all epochs measured (the machine may be shared; the best is printed beside it).
    best = {name: float(np.median(r["epoch_seconds"])) for name, r in results.items() if r}
    fastest = {name: min(r["epoch_seconds"]) for name, r in results.items() if r}
    gemm = results["gemm"]
    rows = []
    if "gemm" in best:
        rate = gemm["flops"] / best["gemm"] / 1e9
        rows.append(("gemm", "GEMM bound", best["gemm"], f"{gemm['flops'] / 1e9:.1f} GFLOP at {rate:.1f} GFLOP/s"))
    if "nnkit" in best:
        note = f"{best['nnkit'] / best['gemm']:.2f}× the GEMM bound" if "gemm" in best else ""
        rows.append(("nnkit", "nnkit", best["nnkit"], note))
    for name, label in (("torch", "PyTorch CPU"), ("sklearn", "scikit-learn MLPClassifier")):
        if name in best and "nnkit" in best:
            version = results[name].get("version", "")
            rows.append((name, f"{label} {version}", best[name], f"nnkit is {best[name] / best['nnkit']:.2f}× faster"))
    print(f"\n| contender | median epoch (s) of {args.rounds}×{args.epochs} | best | note (medians) |"
          "\n|---|---:|---:|---|")
    for key, name, seconds, note in rows:
        print(f"| {name} | {seconds:.3f} | {fastest[key]:.3f} | {note} |")
    memory = None
    if not args.skip_memory:
        memory = peak_memory()
        if memory["peak_bytes"]:
            mb = 1024 * 1024
            print(
                f"\npeak RSS of `nnkit train-mlp` on 60000×784 uint8 (IDX, 1 epoch): "
                f"{memory['peak_bytes'] / mb:.0f} MB; float32 training array "
                f"{memory['float32_training_array_bytes'] / mb:.0f} MB; limit 2.5× = "
                f"{memory['limit_bytes'] / mb:.0f} MB → "
                f"{memory['peak_bytes'] / memory['float32_training_array_bytes']:.2f}×"
            )
    if args.json:
        Path(args.json).write_text(json.dumps({"results": results, "memory": memory}, indent=1))


if __name__ == "__main__":
    main()
