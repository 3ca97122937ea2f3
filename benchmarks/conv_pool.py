"""nnkit convolve / pool against SciPy and scikit-image, side by side in one run.

Run: ``python benchmarks/conv_pool.py`` (``--quick`` for fewer repeats). Times are the best of
several repeats, in milliseconds; a ratio > 1 means nnkit is faster. Kernels are dense random
(the worst case for nnkit: no zeros to skip, not separable) unless named.
Peak memory of ``convolve`` on a 2048² image is measured in a fresh subprocess with
``resource.getrusage`` (max RSS minus the RSS before the call) and compared with the image's
float64 size (SPEC §4: below 10×).
"""

import argparse
import subprocess
import sys
import time

import numpy as np

from nnkit.engine.conv import convolve
from nnkit.engine.filters import make_filter
from nnkit.engine.pool import pool


def best(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times) * 1e3


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
        slow_reps = 1 if big and k > 7 else reps
        t_nnkit = best(lambda x=x, kernel=kernel: convolve(x, kernel), reps)
        t_c2d = best(lambda x=x, kernel=kernel: signal.convolve2d(x, kernel, mode="valid"), slow_reps)
        t_nd = best(lambda x=x, kernel=kernel: ndimage.convolve(x, kernel), slow_reps)
        t_fft = best(lambda x=x, kernel=kernel: signal.fftconvolve(x, kernel, mode="valid"), reps)
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
        for op, fn in (("max", np.max), ("mean", np.mean)):
            t_nnkit = best(lambda x=x, op=op, size=size: pool(x, size, op=op), reps)
            t_br = best(lambda x=x, fn=fn, size=size: block_reduce(x, (size, size), fn), reps)
            rows.append((f"{shape[0]}×{shape[1]}", f"{op} {size}×{size}", t_nnkit, t_br,
                         t_br / t_nnkit))
    return rows


_MEMORY_CHILD = """
import resource, numpy as np
from nnkit.engine.conv import convolve
x = np.random.default_rng(0).random((2048, 2048))
k = np.random.default_rng(1).standard_normal(({k}, {k}))
convolve(x[:64, :64], k[:3, :3])  # import scipy and warm up before the baseline
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
convolve(x, k, mode="{mode}")
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print((after - before) * 1024 / x.nbytes)
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
    print("\n## peak memory of convolve on 2048×2048 (extra max RSS ÷ image float64 size)\n")
    print("| kernel | peak ÷ image |")
    print("| --- | ---: |")
    for label, ratio in memory_rows():
        print(f"| {label} | {ratio:.1f}× |")


if __name__ == "__main__":
    main()
