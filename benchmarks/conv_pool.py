"""nnkit convolve / pool against SciPy and scikit-image, side by side in one run.

Run: ``python benchmarks/conv_pool.py`` (``--quick`` for fewer repeats). Times are the best of
several repeats, in milliseconds; a ratio > 1 means nnkit is faster. Kernels are dense random
(the worst case for nnkit: no zeros to skip, not separable) unless named.
Peak memory of ``convolve`` on a 2048² image is measured in a fresh subprocess (peak resident
size ``VmHWM`` minus the resident size before the image was made, so the image itself counts) and compared with the image's float64 size (the promise: below 10×).
"""

import argparse
import subprocess
import sys
import time

import numpy as np

from nnkit.course.filters import make_filter
from nnkit.course.image_convolution import convolve
from nnkit.course.image_pooling import pool


def best(candidates: dict, repeats: int) -> dict:
    """Best time in ms of each candidate, run round-robin so that a busy moment hits all alike."""
    times = {name: [] for name in candidates}
    for _ in range(repeats):
        for name, fn in candidates.items():
            t0 = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t0)
    return {name: min(values) * 1e3 for name, values in times.items()}


def conv_rows(quick: bool):
    from scipy import ndimage, signal

    rng = np.random.default_rng(0)
    rows = []
    cases = [((400, 338), k, None) for k in (3, 7, 31)]
    cases += [((2048, 2048), k, None) for k in (3, 7, 31)]
    cases += [((400, 338), 3, "identity"), ((2048, 2048), 3, "identity"),
              ((2048, 2048), 3, "sobel-x")]
    for shape, k, name in cases:
        x = rng.random(shape)
        kernel = rng.standard_normal((k, k)) if name is None else make_filter(name)
        big = shape[0] > 1000
        reps = 2 if quick else (5 if big else 20)
        candidates = {
            "nnkit": lambda x=x, kernel=kernel: convolve(x, kernel),
            "fft": lambda x=x, kernel=kernel: signal.fftconvolve(x, kernel, mode="valid"),
            "c2d": lambda x=x, kernel=kernel: signal.convolve2d(x, kernel, mode="valid"),
            "nd": lambda x=x, kernel=kernel: ndimage.convolve(x, kernel),
        }
        if big and k > 7:
            # convolve2d and ndimage take seconds here: once each, beside the fast ones' repeats.
            fast = best({name: candidates[name] for name in ("nnkit", "fft")}, reps)
            slow = best({name: candidates[name] for name in ("c2d", "nd")}, 1)
        else:
            # All four in one round-robin, so each runs in the same state of caches and allocator.
            fast = slow = best(candidates, reps)
        t_nnkit, t_fft, t_c2d, t_nd = fast["nnkit"], fast["fft"], slow["c2d"], slow["nd"]
        fastest = min(t_c2d, t_nd, t_fft)
        label = f"{shape[0]}×{shape[1]}"
        rows.append((label, name or f"random {k}×{k}", t_nnkit, t_c2d, t_nd, t_fft,
                     t_c2d / t_nnkit, fastest / t_nnkit))
    return rows


def pool_rows(quick: bool):
    from skimage.measure import block_reduce

    rng = np.random.default_rng(0)
    rows = []
    for shape, size in (((398, 336), 5), ((2048, 2048), 2), ((2048, 2048), 5)):
        x = rng.random(shape)
        reps = 3 if quick else 20
        for op, fn in (("max", np.max), ("mean", np.mean), ("median", np.median)):
            times = best({"nnkit": lambda x=x, size=size, op=op: pool(x, size, op=op),
                          "block_reduce": lambda x=x, size=size, fn=fn: block_reduce(x, (size, size), fn)}, reps)
            t_nnkit, t_br = times["nnkit"], times["block_reduce"]
            rows.append((f"{shape[0]}×{shape[1]}", f"{op} {size}×{size}", t_nnkit, t_br,
                         t_br / t_nnkit))
    return rows


_MEMORY_CHILD = """
import numpy as np
from nnkit.course.image_convolution import convolve

def status(field):  # kB; VmHWM is this process's own peak (ru_maxrss is inherited from the parent)
    for line in open("/proc/self/status"):
        if line.startswith(field):
            return int(line.split()[1])

convolve(np.ones((64, 64)), np.ones((3, 3)))  # import scipy and start the threads first
before = status("VmRSS")  # the image is counted in the peak
x = np.random.default_rng(0).random((2048, 2048))
k = np.random.default_rng(1).standard_normal(({k}, {k}))
convolve(x, k, mode="{mode}")
print((status("VmHWM") - before) * 1024 / x.nbytes)
"""


def memory_rows():
    rows = []
    for k, mode in ((3, "valid"), (31, "valid"), (31, "same"), (7, "full")):
        code = _MEMORY_CHILD.format(k=k, mode=mode)
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             check=True)
        rows.append((f"{k}×{k} {mode}", float(out.stdout.strip())))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    args = parser.parse_args()

    print("## convolve (valid mode, float64), best time in ms\n")
    print("| image | kernel | nnkit | convolve2d | ndimage.convolve | fftconvolve "
          "| vs convolve2d | vs fastest SciPy |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for label, kernel, t, a, b, c, r2d, rfast in conv_rows(args.quick):
        print(f"| {label} | {kernel} | {t:.2f} | {a:.2f} | {b:.2f} | {c:.2f} "
              f"| {r2d:.1f}× | {rfast:.2f}× |")
    print("\n## pool (edge keep), best time in ms\n")
    print("| image | op | nnkit | block_reduce | ratio |")
    print("| --- | --- | ---: | ---: | ---: |")
    for label, op, t, b, r in pool_rows(args.quick):
        print(f"| {label} | {op} | {t:.2f} | {b:.2f} | {r:.2f}× |")
    print("\n## peak memory of convolve on 2048×2048 (max RSS growth, image included, ÷ its float64 size)\n")
    print("| kernel | peak ÷ image |")
    print("| --- | ---: |")
    for label, ratio in memory_rows():
        print(f"| {label} | {ratio:.1f}× |")


if __name__ == "__main__":
    main()
