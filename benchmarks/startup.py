"""Start-up time of nnkit commands against the bare imports they cannot avoid (docs/conventions.md, "Start-up time").

Run: python benchmarks/startup.py [--repeat N]

Each command runs N times, interleaved with the baseline ``python -c "import numpy, typer, rich"`` so
that both see the same machine load; the table reports the median wall time of each and the ratio.
Target: ≤ 1.2× the baseline. The CPU time of each run is reported beside the wall time: on a
shared machine it is the steadier of the two. Bytecode must be cached (PYTHONDONTWRITEBYTECODE
unset, one run before): otherwise every import compiles nnkit's sources again and the ratio
measures the compiler.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

BASELINE = [sys.executable, "-c", "import numpy, typer, rich"]
COMMANDS = {
    "nnkit onehot 0 1 --classes 2": ["onehot", "0", "1", "--classes", "2"],
    "nnkit activate relu 1 -2 3": ["activate", "relu", "1", "-2", "3"],
}


# As installed from a wheel, with nnkit's bytecode cached: an editable install under
# PYTHONDONTWRITEBYTECODE=1 recompiles every nnkit module at each start (1.33× instead of 1.12×
# on CPU time, measured on the same machine), while NumPy, Typer and Rich have theirs.
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def nnkit() -> str:
    beside = Path(sys.executable).parent / "nnkit"
    return str(beside) if beside.exists() else shutil.which("nnkit")


def wall(command: list[str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one run; the CPU time (user + system of the child) barely
    moves when other processes share the cores, the wall time does."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False,
                   env=ENV)
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return seconds, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20)
    repeat = parser.parse_args().repeat
    executable = nnkit()
    for command in [BASELINE, *([executable, *args] for args in COMMANDS.values())]:
        wall(command)  # warm the file cache
    times: dict[str, list[tuple[float, float]]] = {"baseline": [], **{n: [] for n in COMMANDS}}
    for _ in range(repeat):
        times["baseline"].append(wall(BASELINE))
        for name, args in COMMANDS.items():
            times[name].append(wall([executable, *args]))
    base = [statistics.median(t[i] for t in times["baseline"]) for i in (0, 1)]
    print(f"{'command':<36} {'median ms':>10} {'ratio':>7} {'CPU ms':>8} {'ratio':>7}"
          "   (target ≤ 1.2)")
    label = 'python -c "import numpy, typer, rich"'
    print(f"{label:<36} {base[0] * 1e3:>10.1f} {1.0:>7.2f} {base[1] * 1e3:>8.1f} {1.0:>7.2f}")
    for name in COMMANDS:
        wall_s, cpu_s = (statistics.median(t[i] for t in times[name]) for i in (0, 1))
        print(f"{name:<36} {wall_s * 1e3:>10.1f} {wall_s / base[0]:>7.2f} {cpu_s * 1e3:>8.1f} "
              f"{cpu_s / base[1]:>7.2f}")


if __name__ == "__main__":
    main()
