"""One epoch of the course CNN on 48 000 28×28 float32 images, batch 128, RMSprop.

The network is the course's next chapter's model 2: conv 32 3×3 relu, max-pool 2, conv 64 3×3 relu,
max-pool 2, conv 128 3×3 relu, flatten, dense 10 softmax (104 202 parameters); RMSprop with
Keras's defaults (lr 1e-3, rho 0.9, eps 1e-7). Side by side, in one run, each contender in its own
process reporting the epoch time it measured itself (imports and data preparation excluded):

- the matrix-multiply bound: every GEMM of the epoch (each conv's im2col product forward, its
  weight gradient, its input gradient except the first layer's; the same for the dense layer),
  timed with NumPy on exactly those shapes, FLOPs ÷ that rate;
- nnkit's epoch (the ``seconds`` of its training history) and its peak resident memory
  (``resource.getrusage``) against the float32 training array (target below 3×);
- PyTorch on the CPU with the same architecture, optimiser and thread count (benchmark-only).

OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE are unset for the workers; every worker uses the same
thread count (``--threads``, 2 by default). The machine may be shared: the contenders run
round-robin (``--rounds``) and the medians are reported, with each contender's CPU time beside
its wall time (with one thread, ``--threads 1``, the CPU time is close to the quiet machine's wall
time even when the cores are shared). ``--layers`` adds nnkit's time per layer,
forward and backward.

    python benchmarks/train_cnn.py [--rounds 3] [--epochs 1] [--threads 2] [--layers] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from train_mlp import MNIST, ROOT, blas_info  # the benchmarks folder is not a package

N, BATCH, K = 48_000, 128, 10
SPECS = [
    {"type": "conv2d", "filters": 32, "kernel": 3, "activation": "relu"},
    {"type": "maxpool2d", "size": 2},
    {"type": "conv2d", "filters": 64, "kernel": 3, "activation": "relu"},
    {"type": "maxpool2d", "size": 2},
    {"type": "conv2d", "filters": 128, "kernel": 3, "activation": "relu"},
    {"type": "flatten"},
    {"type": "dense", "units": K, "activation": "softmax"},
]
RMSPROP = {"lr": 1e-3, "rho": 0.9, "eps": 1e-7}  # Keras's defaults


def images() -> tuple[np.ndarray, np.ndarray, str]:
    """(48000, 28, 28, 1) float32 in [0, 1] and labels: MNIST t10k tiled when present, else random."""
    path = MNIST / "t10k-images-idx3-ubyte.gz"
    if path.exists():
        from nnkit.data.labelled import read_idx

        raw = read_idx(path)
        labels = read_idx(MNIST / "t10k-labels-idx1-ubyte.gz")
        reps = -(-N // len(raw))
        x = np.tile(raw, (reps, 1, 1))[:N].astype(np.float32)
        x *= 1 / 255
        return x[..., None], np.tile(labels, reps)[:N].astype(np.int64), "MNIST t10k tiled"
    rng = np.random.default_rng(0)
    return (rng.random((N, 28, 28, 1), dtype=np.float32), rng.integers(0, K, N),
            "random uniform")


def gemm_shapes() -> list[tuple[str, int, int, int]]:
    """(what, M, K, N) of every matrix product of one training step, from the network's shapes."""
    from nnkit.nn.layers import Conv2D, Dense
    from nnkit.nn.stack import build_layers

    shapes = []
    shape = (28, 28, 1)
    first = True
    for layer in build_layers(SPECS, shape, seed=0):
        out = layer.output_shape(shape)
        if isinstance(layer, Conv2D):
            kh, kw, c, o = layer.W.shape
            m, k = BATCH * out[0] * out[1], kh * kw * c
        elif isinstance(layer, Dense):
            m, k, o = BATCH, layer.n_in, layer.n_out
        else:
            shape = out
            continue
        name = type(layer).__name__
        shapes.append((f"{name} forward", m, k, o))
        shapes.append((f"{name} dW", k, m, o))
        if not first:
            shapes.append((f"{name} dx", m, o, k))
        first = False
        shape = out
    return shapes


# ---------------------------------------------------------------------------------------------
# Workers: each prints one JSON line.


def worker_gemm(epochs: int) -> dict:
    """Median time of each GEMM shape (preallocated outputs) × the epoch's steps."""
    rng = np.random.default_rng(0)
    steps = N // BATCH + (1 if N % BATCH else 0)
    total_seconds = total_cpu = 0.0
    flops = 0
    parts = []
    for what, m, k, n in gemm_shapes():
        a = rng.standard_normal((m, k), dtype=np.float32)
        b = rng.standard_normal((k, n), dtype=np.float32)
        out = np.empty((m, n), np.float32)
        np.matmul(a, b, out=out)
        times, cpu = [], []
        for _ in range(max(15, 5 * epochs)):
            start, start_cpu = time.perf_counter(), time.process_time()
            np.matmul(a, b, out=out)
            times.append(time.perf_counter() - start)
            cpu.append(time.process_time() - start_cpu)
        seconds = statistics.median(times) * steps
        total_seconds += seconds
        total_cpu += statistics.median(cpu) * steps
        flops += 2 * m * k * n * steps
        parts.append({"gemm": what, "shape": [m, k, n], "epoch_seconds": seconds})
    return {"epoch_seconds": [total_seconds], "cpu_seconds": [total_cpu], "flops": flops,
            "parts": parts, "blas": blas_info()}


def _keras_rmsprop(params):
    from nnkit.nn.optimizers import make_optimizer

    return make_optimizer("rmsprop-keras", params, lr=RMSPROP["lr"])


def worker_nnkit(epochs: int) -> dict:
    from nnkit.nn.stack import build_network
    from nnkit.nn.training import fit

    x, y, _ = images()
    net = build_network(SPECS, (28, 28, 1), seed=0, init="keras")
    start_cpu = time.process_time()
    history = fit(net, x, y, optimizer=_keras_rmsprop(net.parameters()), epochs=epochs,
                  batch_size=BATCH, seed=0)
    cpu = (time.process_time() - start_cpu) / epochs
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return {"epoch_seconds": [row["seconds"] for row in history], "cpu_seconds": [cpu],
            "accuracy": history[-1]["accuracy"], "peak_bytes": peak,
            "float32_training_array_bytes": x.nbytes, "blas": blas_info()}


def worker_layers(epochs: int) -> dict:
    """nnkit's forward and backward time per layer (in the order they run), over one epoch."""
    from nnkit.nn.layers import Activation
    from nnkit.nn.stack import build_network

    x, y, _ = images()
    net = build_network(SPECS, (28, 28, 1), seed=0, init="keras")
    opt = _keras_rmsprop(net.parameters())
    grads = net.gradients()
    fwd = [0.0] * len(net._run)
    bwd = [0.0] * len(net._run)
    other = 0.0
    order = np.random.default_rng(0).permutation(N)
    xb = np.empty((BATCH, 28, 28, 1), np.float32)
    for start in range(0, N, BATCH):
        t0 = time.perf_counter()
        rows = order[start : start + BATCH]
        h = np.take(x, rows, axis=0, out=xb[: len(rows)], mode="clip")
        tb = y[rows]
        other += time.perf_counter() - t0
        for i, layer in enumerate(net._run):
            t0 = time.perf_counter()
            h = layer.forward(h, training=True)
            fwd[i] += time.perf_counter() - t0
        t0 = time.perf_counter()
        _, _, g = net._loss_and_dz(h, tb, need_grad=True)
        other += time.perf_counter() - t0
        for i in range(len(net._run) - 1, -1, -1):
            layer = net._run[i]
            t0 = time.perf_counter()
            g = layer.backward(g, out=g) if isinstance(layer, Activation) else layer.backward(g)
            bwd[i] += time.perf_counter() - t0
            if g is None:
                break
        t0 = time.perf_counter()
        opt.step(grads)
        other += time.perf_counter() - t0
    return {"epoch_seconds": [sum(fwd) + sum(bwd) + other],
            "layers": [{"layer": repr(layer), "forward": f, "backward": b}
                       for layer, f, b in zip(net._run, fwd, bwd, strict=True)],
            "batching_loss_optimizer": other}


def worker_torch(epochs: int) -> dict:
    import torch

    threads = int(os.environ.get("BENCH_THREADS", "2"))
    torch.set_num_threads(threads)
    x_np, y_np, _ = images()
    torch.manual_seed(0)
    x = torch.from_numpy(np.ascontiguousarray(x_np.transpose(0, 3, 1, 2)))  # NCHW
    y = torch.from_numpy(y_np)
    nn = torch.nn
    model = nn.Sequential(
        nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(64, 128, 3), nn.ReLU(), nn.Flatten(), nn.Linear(1152, K),
    )
    opt = torch.optim.RMSprop(model.parameters(), lr=RMSPROP["lr"], alpha=RMSPROP["rho"],
                              eps=RMSPROP["eps"])
    loss_fn = nn.CrossEntropyLoss()
    times, cpu = [], []
    correct = 0
    for _ in range(epochs):
        start, start_cpu = time.perf_counter(), time.process_time()
        order = torch.randperm(N)
        correct = 0
        for s in range(0, N, BATCH):
            rows = order[s : s + BATCH]
            xb, yb = x[rows], y[rows]
            opt.zero_grad(set_to_none=True)
            out = model(xb)
            loss = loss_fn(out, yb)
            loss.backward()
            opt.step()
            correct += int((out.argmax(1) == yb).sum())
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return {"epoch_seconds": times, "cpu_seconds": cpu, "accuracy": correct / N,
            "version": torch.__version__,
            "threads": torch.get_num_threads()}


WORKERS = {"gemm": worker_gemm, "nnkit": worker_nnkit, "torch": worker_torch,
           "layers": worker_layers}


def worker_env(threads: int) -> dict:
    env = {k: v for k, v in os.environ.items()
           if k not in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")}
    env.update(OPENBLAS_NUM_THREADS=str(threads), OMP_NUM_THREADS=str(threads),
               MKL_NUM_THREADS=str(threads), BENCH_THREADS=str(threads))
    return env


def run_worker(name: str, epochs: int, threads: int) -> dict | None:
    done = subprocess.run([sys.executable, __file__, "--worker", name, "--epochs", str(epochs)],
                          capture_output=True, text=True, cwd=ROOT, env=worker_env(threads))
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["?"])[-1]
        print(f"  {name}: not measured ({last})", file=sys.stderr)
        return None
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=1, help="epochs per run")
    parser.add_argument("--rounds", type=int, default=3, help="round-robin rounds of all contenders")
    parser.add_argument("--threads", type=int, default=2, help="BLAS / PyTorch threads")
    parser.add_argument("--layers", action="store_true", help="also time nnkit per layer")
    parser.add_argument("--only", help="comma-separated contenders (gemm,nnkit,torch)")
    parser.add_argument("--worker", choices=sorted(WORKERS), help=argparse.SUPPRESS)
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(WORKERS[args.worker](args.epochs)))
        return

    names = args.only.split(",") if args.only else ["gemm", "nnkit", "torch"]
    if args.layers:
        names.append("layers")
    _, _, source = images()
    runs: dict[str, list[dict]] = {name: [] for name in names}
    for _ in range(args.rounds):
        for name in names:
            got = run_worker(name, args.epochs, args.threads)
            if got is not None:
                runs[name].append(got)
                seconds = ", ".join(f"{t:.2f}" for t in got["epoch_seconds"])
                print(f"  {name}: {seconds} s (load average {os.getloadavg()[0]:.1f})",
                      file=sys.stderr, flush=True)
    median = {name: statistics.median(s for r in rs for s in r["epoch_seconds"])
              for name, rs in runs.items() if rs}
    cpu = {name: statistics.median(s for r in rs for s in r.get("cpu_seconds", [float("nan")]))
           for name, rs in runs.items() if rs}
    blas = next((r["blas"] for r in runs.get("nnkit", []) + runs.get("gemm", [])), "?")
    print(f"course CNN, one epoch: {N}×28×28×1 float32 ({source}), batch {BATCH}, RMSprop "
          f"(Keras defaults); {args.threads} threads; BLAS: {blas}; OPENBLAS_CORETYPE/L2_SIZE "
          f"unset; load average {os.getloadavg()[0]:.1f}")
    print(f"\n| contender | median epoch (s), {args.rounds} runs | CPU s | note (wall-time ratios) |"
          "\n|---|---:|---:|---|")
    if "gemm" in median:
        gemm = runs["gemm"][0]
        rate = gemm["flops"] / median["gemm"] / 1e9
        print(f"| GEMM bound | {median['gemm']:.2f} | {cpu['gemm']:.2f} | "
              f"{gemm['flops'] / 1e12:.3f} TFLOP at "
              f"{rate:.0f} GFLOP/s |")
    if "nnkit" in median:
        note = f"{median['nnkit'] / median['gemm']:.2f}× the GEMM bound" if "gemm" in median else ""
        print(f"| nnkit | {median['nnkit']:.2f} | {cpu['nnkit']:.2f} | {note} |")
    if "torch" in median:
        r = runs["torch"][0]
        note = (f"{median['torch'] / median['nnkit']:.2f}× nnkit's time"
                if "nnkit" in median else "")
        if "gemm" in median:
            note += f"; {median['torch'] / median['gemm']:.2f}× the GEMM bound"
        print(f"| PyTorch {r['version']} CPU, {r['threads']} threads | {median['torch']:.2f} | "
              f"{cpu['torch']:.2f} | {note} |")
    if runs.get("nnkit"):
        peak = max(r["peak_bytes"] for r in runs["nnkit"])
        array = runs["nnkit"][0]["float32_training_array_bytes"]
        mb = 1 << 20
        print(f"\nnnkit peak RSS {peak / mb:.0f} MB; float32 training array {array / mb:.0f} MB "
              f"→ {peak / array:.2f}× (target < 3×)")
    if runs.get("layers"):
        r = runs["layers"][-1]
        print("\nnnkit per layer (one epoch, last run): layer | forward s | backward s")
        for row in r["layers"]:
            print(f"  {row['layer']:42s} {row['forward']:6.2f} {row['backward']:6.2f}")
        print(f"  batching + loss + optimiser              {r['batching_loss_optimizer']:6.2f}")
    if runs.get("gemm"):
        print("\nGEMM bound per product (one epoch): "
              + ", ".join(f"{p['gemm']} {p['epoch_seconds']:.2f}s" for p in runs["gemm"][0]["parts"]))
    if args.json:
        Path(args.json).write_text(json.dumps(runs, indent=1))


if __name__ == "__main__":
    main()
