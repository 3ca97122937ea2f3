"""Ctrl-C in train-mlp: exit 130 wherever it lands, and the saved model agrees with the report."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import nnkit_executable, read_terminal, start_on_a_terminal

#: Seconds after nnkit's code is running at which SIGINT arrives: imports, data loading, training.
DELAYS = (0.0, 0.3, 0.7, 1.2, 2.0, 3.0)


def _wait_for_nnkit(pid: int, timeout: float = 60.0) -> None:
    """Wait until the process maps NumPy's core library, which only nnkit's own code imports.

    A SIGINT before Python has imported ``site`` lands in CPython's start-up ("Fatal Python error:
    init_import_site", exit 1), before any code of nnkit runs: nothing nnkit can handle.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if "_multiarray_umath" in Path(f"/proc/{pid}/maps").read_text():
                return
        except OSError:
            return  # the process ended already
        time.sleep(0.005)


def _interrupt(process, delay: float) -> None:
    _wait_for_nnkit(process.pid)
    time.sleep(delay)
    process.send_signal(signal.SIGINT)


@pytest.mark.slow
def test_sigint_at_any_moment_is_130_and_the_model_matches_the_report(tmp_path):
    first = tmp_path / "first.npz"
    done = subprocess.run([nnkit_executable(), "train-mlp", "--epochs", "2", "--save", str(first), "-q"],
                          capture_output=True, timeout=120)
    assert done.returncode == 0, done.stderr
    runs = []
    for i, delay in enumerate(DELAYS):
        for resume in (False, True):
            model = tmp_path / f"m{i}{'r' if resume else ''}.npz"
            args = [nnkit_executable(), "train-mlp", "--epochs", "400", "--save", str(model), "-f", "json"]
            if resume:
                args += ["--resume", str(first)]
            # Ctrl-C on: a pytest-xdist worker may run with SIGINT ignored, which its children inherit
            # (and then keep ignoring, as a background job of a script does).
            process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                       env={**os.environ, "PYTHONUNBUFFERED": "1"},
                                       preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
            runs.append((delay, resume, model, process))
    threads = [threading.Thread(target=_interrupt, args=(process, delay)) for delay, _, _, process in runs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for delay, resume, model, process in runs:
        out, err = process.communicate(timeout=180)
        err = err.decode()
        assert process.returncode == 130, (delay, resume, process.returncode, err)
        assert "Traceback" not in err and "Warning" not in err, err
        assert "nnkit: interrupted" in err
        if not out.strip():
            continue  # interrupted before the report: nothing is claimed
        report = json.loads(out)
        assert report["interrupted"] is True
        with np.load(model, allow_pickle=False) as archive:
            meta = json.loads(str(archive["meta"]))
        before = 2 if resume else 0
        assert meta["epochs_run"] == report["epochs_run"] == before + report["epochs_this_run"], (delay, resume)
        if report["history"]:
            assert report["history"][-1]["epoch"] == meta["epochs_run"]


# --- Ctrl-C while the training display runs on a terminal --------------------------------------------

#: One step per sample (1259 steps an epoch on the digits): a few seconds an epoch.
SLOW_EPOCHS = ["train-mlp", "--hidden", "256", "--batch-size", "1", "--epochs", "5", "-f", "json"]


def _interrupted_run(wait_for: str):
    process, master = start_on_a_terminal(SLOW_EPOCHS)
    seen: list[str] = []
    try:
        assert read_terminal(master, seen, lambda text: re.search(wait_for, text)), "".join(seen)[-300:]
        sent = time.monotonic()
        process.send_signal(signal.SIGINT)
        assert read_terminal(master, seen, lambda text: "stopping after this batch" in text, timeout=10)
        answered = time.monotonic() - sent
        read_terminal(master, seen, lambda text: False, timeout=60)  # the rest, to the end
        out = process.communicate(timeout=60)[0].decode()
    finally:
        os.close(master)
        if process.poll() is None:
            process.kill()
    return process.returncode, out, "".join(seen), answered


def test_ctrl_c_before_the_first_epoch_ends_says_so_and_prints_no_report():
    code, out, err, answered = _interrupted_run(wait_for=r"Epoch 1/5 +1/1259 \[")  # the first batch's bar
    assert code == 130, err
    assert answered < 2.0  # at once, not after the epoch
    assert "nnkit: stopping after this batch (Ctrl-C again to stop at once)" in err
    assert "interrupted before the first epoch ended: nothing was trained, so there is no report" in err
    assert out == ""  # no report of an untrained network
    assert "Traceback" not in err


def test_ctrl_c_after_the_first_epoch_reports_the_epochs_completed():
    code, out, err, answered = _interrupted_run(wait_for=r"Epoch 1/5 +1259/1259 +\d")  # the first kept line
    assert code == 130, err
    assert answered < 2.0
    report = json.loads(out)
    assert report["interrupted"] is True and report["epochs_run"] >= 1
    assert [row["epoch"] for row in report["history"]] == list(range(1, report["epochs_run"] + 1))
    assert "the results above are for the epochs completed" in err


def test_a_run_started_with_ctrl_c_ignored_keeps_ignoring_it(tmp_path):
    """A background job of a script (`nnkit train … &`) starts with SIGINT ignored and keeps it so."""
    model = tmp_path / "bg.npz"
    process = subprocess.Popen([nnkit_executable(), "train-mlp", "--epochs", "3", "--save", str(model), "-q"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
    import time

    time.sleep(1.0)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 0, err
    assert model.exists()
