"""Start-up time of nnkit commands against the bare imports they cannot avoid (docs/conventions.md, "Start-up time").

Run: python benchmarks/startup.py [--repeat N]

Each command runs N times, interleaved with the baseline ``python -c "import numpy, typer, rich"`` so
that both see the same machine load; the table reports the median wall time of each and the ratio.
Target: ≤ 1.5× the baseline.
"""

from __future__ import annotations

import argparse
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


def nnkit() -> str:
    beside = Path(sys.executable).parent / "nnkit"
    return str(beside) if beside.exists() else shutil.which("nnkit")


def wall(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20)
    repeat = parser.parse_args().repeat
    executable = nnkit()
    for command in [BASELINE, *([executable, *args] for args in COMMANDS.values())]:
        wall(command)  # warm the file cache
    times: dict[str, list[float]] = {"baseline": [], **{name: [] for name in COMMANDS}}
    for _ in range(repeat):
        times["baseline"].append(wall(BASELINE))
        for name, args in COMMANDS.items():
            times[name].append(wall([executable, *args]))
    base = statistics.median(times["baseline"])
    print(f"{'command':<36} {'median ms':>10} {'ratio':>7}   (target ≤ 1.50)")
    label = 'python -c "import numpy, typer, rich"'
    print(f"{label:<36} {base * 1e3:>10.1f} {1.0:>7.2f}")
    for name in COMMANDS:
        median = statistics.median(times[name])
        print(f"{name:<36} {median * 1e3:>10.1f} {median / base:>7.2f}")


if __name__ == "__main__":
    main()
