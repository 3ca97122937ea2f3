"""The progress line under a notebook's ``!`` command: plain text, rewritten with \\r, left in place."""

import io
import sys

from nnkit.term.env import Environment, in_notebook
from nnkit.term.progress import EpochProgress, TrainingDisplay, epoch_line, overfitting_from


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


# --- the training display of train and train-mlp -----------------------------------------------------


def _env(tty: bool = True, quiet: bool = False) -> Environment:
    return Environment(stdin=sys.stdin, stdout=io.StringIO(), stderr=io.StringIO(), stdin_isatty=True,
                       stdout_isatty=False, stderr_isatty=tty, quiet=quiet)


def _row(epoch, loss, val_loss, seconds=0.5):
    return {"epoch": epoch, "loss": loss, "accuracy": 0.5, "val_loss": val_loss, "val_accuracy": 0.25,
            "seconds": seconds}


def test_the_bar_counts_batches_and_each_epoch_leaves_one_kept_line():
    env = _env()
    with TrainingDisplay(env, 2, "bar") as display:
        for _ in range(2):
            for number in range(1, 5):
                display.batch(number, 4, 1.0 / number)
            display.epoch(_row(len(display.history) + 1, 0.5, 0.6))
    text = env.stderr.getvalue()
    assert "\x1b" not in text  # plain text and \r: a notebook cell keeps it as it is
    assert "\rEpoch 1/2  1/4 [" in text and "ETA " in text and "/step" in text  # the first batch is always drawn
    kept = [line.split("\r")[-1] for line in text.split("\n") if line]
    assert kept == [epoch_line(_row(1, 0.5, 0.6), 2, 4, display.columns),
                    epoch_line(_row(2, 0.5, 0.6), 2, 4, display.columns)]
    assert kept[0].startswith("Epoch 1/2 4/4 0:00") and "loss 0.5000" in kept[0] and "val_loss 0.6000" in kept[0]


def test_lines_mode_writes_the_epoch_lines_only_and_none_nothing():
    lines, none = _env(tty=False), _env(tty=False)
    for env, mode in ((lines, "lines"), (none, None)):  # no terminal: the default is none
        with TrainingDisplay(env, 1, mode) as display:
            display.batch(1, 2, 1.0)
            display.epoch(_row(1, 0.25, 0.5, seconds=2.0))
    assert lines.stderr.getvalue() == ("Epoch 1/1  2/2  0:02 1s/step  loss 0.2500  accuracy 0.5000  "
                                       "val_loss 0.5000  val_accuracy 0.2500\n")
    assert none.stderr.getvalue() == ""


def test_overfitting_is_noted_once_with_the_epoch_it_began():
    val = [0.9, 0.5, 0.4, 0.45, 0.5, 0.6, 0.55, 0.7, 0.8]
    rows = [_row(epoch, 1.0 / epoch, v) for epoch, v in enumerate(val, 1)]
    assert overfitting_from(rows[:7]) is None  # 4 epochs above the best (epoch 3): not yet
    assert overfitting_from(rows[:8]) == 4
    falling = [_row(epoch, 1.0 / epoch, 1.0 / epoch) for epoch in range(1, 20)]
    assert overfitting_from(falling) is None
    worse_training = [{**row, "loss": 1.0} for row in rows]  # the training loss did not fall either
    assert overfitting_from(worse_training) is None
    env = _env(tty=False)
    with TrainingDisplay(env, len(rows), "none") as display:
        for row in rows:
            display.epoch(row)
    notes = env.stderr.getvalue().splitlines()
    assert notes == ["nnkit: note: overfitting from epoch 4: the validation loss has not improved on epoch 3's "
                     "for 5 epochs while the training loss fell; try --early-stopping 5 or fewer epochs (--epochs 3)"]
    quiet = _env(tty=False, quiet=True)
    with TrainingDisplay(quiet, len(rows), "none") as display:
        for row in rows:
            display.epoch(row)
    assert quiet.stderr.getvalue() == ""
