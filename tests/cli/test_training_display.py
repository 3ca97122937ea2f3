"""The training display end to end: a real pseudo-terminal, a pipe, ``--progress``, a NaN loss."""

from __future__ import annotations

import json
import os
import re

from tests.conftest import read_terminal, start_on_a_terminal


def test_a_terminal_shows_the_batch_counter_eta_and_keeps_one_line_per_epoch():
    # stderr a pseudo-terminal, stdout a pipe: the display on the one, the clean JSON report on the other
    process, master = start_on_a_terminal(["train-mlp", "--epochs", "3", "--batch-size", "16"])
    seen: list[str] = []
    try:
        read_terminal(master, seen, lambda text: False, timeout=120)  # to the end
        out = process.communicate(timeout=60)[0].decode()
    finally:
        os.close(master)
    text = "".join(seen)
    assert process.returncode == 0, text
    report = json.loads(out)  # nothing of the display on stdout
    assert "\x1b" not in text  # plain \r text, as in a notebook cell
    # within the epoch: batch/batches, the bar, ETA and the time per step (the first batch is always drawn)
    assert re.search(r"\rEpoch 1/3 +1/79 \[[=>.]+\] +ETA \d+:\d\d +\d+(us|ms|s)/step +loss \d\.\d{4}", text), text[:300]
    # one kept line per epoch, each the last state of its line
    kept = [line.split("\r")[-1] for line in text.replace("\r\n", "\n").split("\n") if line.split("\r")[-1]]
    assert [line.split()[1] for line in kept] == ["1/3", "2/3", "3/3"], kept
    for line, row in zip(kept, report["history"], strict=True):
        assert "79/79" in line
        for key, short in (("loss", "loss"), ("val_loss", "val_loss")):
            assert re.search(rf"\b{short} {row[key]:.4f}\b", line), (line, row)
        assert re.search(rf"\b(accuracy|acc) {row['accuracy']:.4f}\b", line), line
        assert re.search(rf"\b(val_accuracy|val_acc) {row['val_accuracy']:.4f}\b", line), line


def test_a_pipe_gets_no_display_unless_asked_for_lines(shell):
    quiet = shell("nnkit train-mlp --epochs 2")
    assert quiet.returncode == 0 and quiet.stderr == b""
    assert json.loads(quiet.stdout)["epochs_run"] == 2
    logged = shell("nnkit train-mlp --epochs 2 --progress lines 2> log.txt; cat log.txt; rm log.txt")
    lines = logged.stdout.decode().splitlines()
    assert json.loads(lines[0])["epochs_run"] == 2
    assert [line.split()[:2] for line in lines[1:]] == [["Epoch", "1/2"], ["Epoch", "2/2"]]
    assert "\r" not in logged.stdout.decode()
    none = shell("nnkit train-mlp --epochs 2 --progress none")
    assert none.stderr == b"" and json.loads(none.stdout)["epochs_run"] == 2


def test_the_comparison_of_batch_sizes_shows_each_models_epochs(shell):
    run = shell("nnkit train-mlp --epochs 2 --batch-size full,64 --progress lines")
    assert run.returncode == 0, run.stderr
    err = run.stderr.decode().splitlines()
    assert [line.split()[:2] for line in err if line.startswith("Epoch")] == [["Epoch", "1/2"], ["Epoch", "2/2"]] * 2
