"""Ctrl-C in train-mlp: exit 130 wherever it lands, and the saved model agrees with the report."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import nnkit_executable

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
            process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                       env={**os.environ, "PYTHONUNBUFFERED": "1"})
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
