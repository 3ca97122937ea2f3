"""Random hostile runs of the installed ``nnkit``: how many break a promise of docs/conventions.md ("Errors and exit codes").

    python benchmarks/fuzz_cli.py [N_CASES] [SEED]

Each case is a random command line built from valid and hostile words (numbers, non-numbers,
names too long, option values out of range, the hostile files of tests/cli/test_hostile.py),
random stdin (bytes, hostile files, closed), run in its own empty folder. A promise is broken when
the run exits with anything but 0 or 2, prints a traceback, a warning or an internal error, prints
more than one error line (plus a hint), leaves files behind after failing, changes the shared
hostile files, or runs for more than 60 s. Prints the counts and each broken case.
"""

from __future__ import annotations

import hashlib
import os
import random
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.cli.test_hostile import make_files

NNKIT = str(Path(sys.executable).parent / "nnkit")

NUMBERS = ["1", "-2", "0.5", "1e308", "-1e308", "inf", "-inf", "nan", "0", "1e-320", "3", "2,3;4,5",
           "1,2,3", "1;2;3", "0x10", "1_000", "١٢", "abc", "", " ", ";", ",", "1,,2", "1e", "--", "-",
           "9" * 400, ",".join(["1"] * 300), "1,2;3", "[1,2]", "%s", "🙂", "a" * 300]
INTS = ["0", "1", "2", "3", "-1", "5", "1000000000", "99999999999999999999", "x", "1.5", "", "2,3", "-5"]
FLOATS = ["0", "0.1", "-1", "1e308", "nan", "inf", "1e-300", "x", "", "0.999", "1"]
FORMATS = ["table", "csv", "tsv", "json", "npy", "xml"]
OUTPUTS = ["o.csv", "o.json", "o.npy", "o.png", "o.txt", "o.xyz", "missing/o.csv", "x" * 300 + ".csv",
           "d/", "{ro}", "{input}"]


def hostile_files(shared: Path) -> list[str]:
    return [str(p) for p in sorted(shared.rglob("*")) if p.is_file()] + [str(shared / "images") + "/"]


def build(rng: random.Random, shared: Path) -> tuple[list[str], bytes | str]:
    files = hostile_files(shared)
    pick = rng.choice

    def value(kind):
        return {"num": lambda: pick(NUMBERS), "int": lambda: pick(INTS), "float": lambda: pick(FLOATS),
                "file": lambda: pick(files), "fmt": lambda: pick(FORMATS),
                "out": lambda: pick(OUTPUTS).replace("{ro}", str(shared / "ro.csv")).replace(
                    "{input}", pick(files))}[kind]()

    commands = {
        "activate": ([pick(["relu", "softmax", "sigmoid", "gelu", "leaky-relu", "step", "bogus"])],
                     {"-d": None, "--axis": "int", "--alpha": "float", "-i": "file", "--random": "num",
                      "--seed": "int", "--plot": "out", "--range": "num", "-f": "fmt", "-o": "out", "--key": "int"}),
        "loss": ([pick(["mse", "sse", "mae", "bce", "cce", "bogus"])],
                 {"--pred": "num", "--target": "num", "--from-logits": None, "-g": None, "--delta": "float",
                  "--reduction": "fmt", "--plot": "out", "-f": "fmt", "-o": "out"}),
        "onehot": ([], {"--classes": "int", "--names": "num", "--decode": None, "-i": "file", "-f": "fmt",
                        "-o": "out"}),
        "reshape": ([], {"--shape": "num", "--flatten": None, "-i": "file", "--random": "num", "--digits": None,
                         "-f": "fmt", "-o": "out", "--slice": "num"}),
        "convolve": ([value("file")], {"--filter": None, "--kernel": "num", "--kernel-file": "file",
                                       "--mode": "fmt", "--stride": "int", "--size": "int", "--sigma": "float",
                                       "--patch": "num", "-o": "out", "--save-array": "out", "-f": "fmt"}),
        "pool": ([value("file")], {"--size": "int", "--stride": "int", "--op": "fmt", "--edge": "fmt",
                                   "-o": "out", "--save-array": "out", "-f": "fmt"}),
        "train-xor": ([], {"--hidden": "int", "--epochs": "int", "--lr": "float", "--gate": "fmt",
                           "--no-hidden": None, "--wired": None, "--save": "out", "--plot": "out", "-f": "fmt"}),
        "train-mlp": ([], {"--data": "file", "--hidden": "num", "--lr": "float", "--batch-size": "int",
                           "--val-split": "float", "--test-split": "float", "--resume": "file", "--save": "out",
                           "--plot": "out", "-f": "fmt", "--label-column": "int"}),
        "predict": ([value("file")], {"-f": "fmt"}),
    }
    name = pick(list(commands))
    fixed, options = commands[name]
    args = [name, *fixed]
    if name in ("activate", "onehot", "predict", "reshape") and rng.random() < 0.6:
        args += [value("num") for _ in range(rng.randint(1, 3))]
    for option in rng.sample(list(options), rng.randint(0, min(4, len(options)))):
        kind = options[option]
        if option == "--filter":
            args += [option, pick(["box", "gaussian", "sobel-x", "identity", "bogus"])]
        elif kind is None:
            args.append(option)
        else:
            args += [option, value(kind)]
    if name == "train-mlp":
        args += ["--epochs", pick(["1", "2"])]
    if name == "train-xor" and "--epochs" not in args:
        args += ["--epochs", "50"]
    roll = rng.random()
    if roll < 0.1:
        stdin: bytes | str = pick(["<&-", ">&-", "2>&-"])
    elif roll < 0.4:
        stdin = Path(pick(files[:-1])).read_bytes()[:100000]
    elif roll < 0.55:
        stdin = bytes(rng.randrange(256) for _ in range(rng.randint(0, 64)))
    else:
        stdin = b""
    return args, stdin


def snapshot(folder: Path) -> str:
    digest = hashlib.sha1()
    for path in sorted(folder.rglob("*")):
        digest.update(str(path).encode() + oct(path.lstat().st_mode).encode())
        if path.is_file():
            digest.update(path.read_bytes())
    return digest.hexdigest()


def run(args, stdin, cwd: Path) -> list[str]:
    redirect = stdin if isinstance(stdin, str) else ""
    command = " ".join("'" + a.replace("'", "'\\''") + "'" for a in [NNKIT, *args]) + " " + redirect
    try:
        result = subprocess.run(["sh", "-c", command], cwd=cwd, input=None if redirect else stdin,
                                capture_output=True, timeout=60, env={**os.environ, "COLUMNS": "100"})
    except subprocess.TimeoutExpired:
        return ["ran for more than 60 s"]
    err = result.stderr.decode(errors="replace")
    lines = err.strip().splitlines()
    broken = []
    if result.returncode not in (0, 2):
        broken.append(f"exit {result.returncode}")
    for word in ("Traceback", "Warning", "internal error"):
        if word in err:
            broken.append(f"{word} on stderr")
    if result.returncode == 2 and redirect != "2>&-":
        errors = [line for line in lines if line.startswith("nnkit: error: ")]
        after = lines[lines.index(errors[0]):] if errors else []
        if len(errors) != 1 or any(not line.startswith(("nnkit: error: ", "  hint: ")) for line in after):
            broken.append("not one error line (plus a hint)")
        if any(cwd.iterdir()):
            broken.append(f"failed but left {sorted(p.name for p in cwd.iterdir())}")
    return [f"{problem}: nnkit {' '.join(a[:40] for a in args)} {redirect} | {err.strip()[:200]}" for problem in broken]


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    seed = int(sys.argv[2]) if len(sys.argv) > 2 else 0
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory() as tmp:
        shared = Path(tmp, "shared")
        shared.mkdir()
        make_files(shared)
        before = snapshot(shared)
        cases = [build(rng, shared) for _ in range(n)]
        folders = [Path(tmp, f"c{i}") for i in range(n)]
        for folder in folders:
            folder.mkdir()
        with ThreadPoolExecutor(max_workers=4) as pool:
            results = list(pool.map(lambda c: run(*c[0], c[1]), zip(cases, folders, strict=True)))
        broken = [r for r in results if r]
        print(f"{n} cases (seed {seed}); {len(broken)} broke a promise")
        for problems in broken:
            for problem in problems:
                print("  " + problem)
        if snapshot(shared) != before:
            print("  the shared hostile files were changed")


if __name__ == "__main__":
    main()
