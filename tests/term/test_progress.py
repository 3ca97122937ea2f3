"""The progress line under a notebook's ``!`` command: plain text, rewritten with \\r, left in place."""

import io
import sys

from nnkit.term.env import Environment, in_notebook
from nnkit.term.progress import EpochProgress


def test_notebook_progress_is_one_plain_line_that_stays():
    err = io.StringIO()
    env = Environment(stdin=sys.stdin, stdout=io.StringIO(), stderr=err, stdin_isatty=True,
                      stdout_isatty=True, stderr_isatty=True, notebook=True)
    with EpochProgress(env, 3, description="train-xor xor") as progress:
        for epoch in (1, 2, 3):
            progress.update({"epoch": epoch, "loss": 1.0 / epoch, "accuracy": 0.5})
    text = err.getvalue()
    assert "\x1b" not in text  # no colours, cursor moves or line erasing
    assert text.startswith("\rtrain-xor xor 1/3  0:00:00  loss 1  acc 0.5")
    assert text.endswith("\rtrain-xor xor 3/3  0:00:00  loss 0.333  acc 0.5\n")  # the last state, kept
    assert text.count("\n") == 1


def test_notebook_is_told_by_the_kernels_environment():
    assert in_notebook({"JPY_PARENT_PID": "123"}) and in_notebook({"COLAB_RELEASE_TAG": "release-colab"})
    assert not in_notebook({}) and not in_notebook({"MPLBACKEND": "Agg"})
