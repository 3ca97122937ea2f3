"""The numbers the README prints are the numbers the commands print.

Two kinds of claims: every example line whose comment starts with numbers (``# 0.0559``,
``# 1,0,0 / 0,0,1``) is run as it stands and its output compared with them, digit for digit as
written; and the claims written in prose or shapes are listed below with the command that shows
them.
"""

import io
import json
import re

import numpy as np
import pytest

from tests.conftest import ROOT, run_shell

README = (ROOT / "README.md").read_text()
NUMBER = r"-?\d+(?:\.\d+)?(?:e-?\d+)?"


def example_lines() -> list[tuple[str, str]]:
    """(command, comment) of every ``sh`` example line, continuation lines joined."""
    found = []
    for block in re.findall(r"```sh\n(.*?)```", README, re.S):
        for line in block.replace("\\\n", " ").splitlines():
            command, sep, comment = line.partition("  # ")
            if sep and command.strip().startswith("nnkit"):
                found.append((command.strip(), comment.strip()))
    return found


NUMERIC = [(command, comment) for command, comment in example_lines()
           if re.fullmatch(rf"{NUMBER}(?:\s*[,/]\s*{NUMBER})*(?:\s*\(.*\))?", comment)]


def test_the_readme_has_numeric_examples_to_check():
    commands = [command for command, _ in NUMERIC]
    assert any(command.startswith("nnkit loss sse") for command in commands)
    assert any(command.startswith("nnkit onehot 0 2 1 --classes 3 -f npy") for command in commands)


@pytest.mark.parametrize(("command", "comment"), NUMERIC, ids=[c for c, _ in NUMERIC])
def test_numbers_in_example_comments(command, comment):
    claimed = re.findall(NUMBER, comment.split("(")[0])
    run = run_shell(command)
    assert run.returncode == 0, run.stderr
    printed = re.findall(NUMBER, run.stdout.decode())
    assert len(printed) == len(claimed), (printed, claimed)
    for said, got in zip(claimed, printed, strict=True):
        digits = len(said.split(".")[1]) if "." in said else 0
        if "e" in said or digits == 0:
            assert float(got) == pytest.approx(float(said), abs=0.5), (said, got)
        else:  # "0.0559" claims 0.0559 to the last digit written; "0.356675" six digits
            significant = len(said.lstrip("-0.").replace(".", ""))
            assert float(f"{float(got):.{significant}g}") == float(said), (said, got)


def readme_says(text: str) -> None:
    assert text in README, f"the README no longer says {text!r}: update this test with it"


def test_the_brains_shapes_and_patch():
    readme_says("--flatten -f npy > brain_row.npy   # (1, 135200)")
    row = run_shell("nnkit reshape samples/brain.png --flatten -f npy")
    assert np.load(io.BytesIO(row.stdout)).shape == (1, 135200)
    readme_says("# 398×336 → 80×68")
    readme_says("(398×336, then 80×68 pooled)")
    feature = run_shell("nnkit convolve samples/brain.png --filter identity -f npy")
    assert np.load(io.BytesIO(feature.stdout)).shape == (398, 336)
    pooled = run_shell("nnkit convolve samples/brain.png --filter identity -f npy | nnkit pool - --size 5 -f npy")
    assert np.load(io.BytesIO(pooled.stdout)).shape == (80, 68)
    readme_says("--patch 150,60")
    readme_says("(sum 1.00784)")
    walk = json.loads(run_shell("nnkit convolve samples/brain.png --filter identity --patch 150,60 -f json").stdout)
    assert round(walk["value"], 5) == 1.00784
    readme_says("that patch is background (0: the\n  brain starts at row 42)")
    walk = json.loads(run_shell("nnkit convolve samples/brain.png --filter identity --patch 22,102 -f json").stdout)
    assert walk["value"] == 0


def xor_report(*options: str) -> dict:
    run = run_shell("nnkit train-xor -f json " + " ".join(options))
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)


def test_train_xor_claims():
    readme_says("(seed 3 stops at 2/4)")
    assert xor_report("--seed", "3")["accuracy"] == 0.5
    readme_says("# XOR, seed 0: h1 ≈ NOR(x1, x2), h2 ≈ NAND(x1, x2), y ≈ NOT(h1) AND h2")
    seed_0 = xor_report()
    assert seed_0["accuracy"] == 1 and seed_0["hidden_gates"] == ["NOR", "NAND"]
    assert seed_0["output_gate"] == "NOT(h1) AND h2"
    readme_says("--seed 10                # the course's own decomposition: NAND and OR, then AND")
    seed_10 = xor_report("--seed", "10")
    assert sorted(seed_10["hidden_gates"]) == ["NAND", "OR"] and seed_10["output_gate"] == "AND(h1, h2)"
    readme_says('--hidden none            # one layer: 2/4, "XOR is not linearly separable"')
    assert xor_report("--hidden", "none")["accuracy"] == 0.5
