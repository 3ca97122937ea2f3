r"""A training progress bar on stderr, shown only when stderr is a terminal (docs/conventions.md, "Output").

Used by every training command::

    progress = EpochProgress(env, epochs)
    with progress:
        fit(..., on_epoch=progress.update)

``update`` takes the history row of an epoch (any dict of metrics) and shows its numbers beside the
bar. In a pipe, under ``-q`` or in tests nothing is drawn and Rich is never imported. Under a
Jupyter or Colab ``!`` command (a pseudo-terminal whose output area knows ``\r`` but not cursor
movement) the bar is one plain line rewritten with ``\r`` a few times a second, left in place at the
end, so the finished cell holds no escape sequences.
"""

from __future__ import annotations

import time

from nnkit.term.env import Environment

#: Row keys that are not metrics to show beside the bar.
_NOT_SHOWN = frozenset({"epoch", "seconds"})
#: Shorter names, so that the bar and four metrics fit on an 80-column terminal.
_SHORT = {"accuracy": "acc", "val_accuracy": "val_acc"}


def describe_metrics(row: dict, digits: int = 3) -> str:
    """``"loss 0.123  acc 0.982"``: the row's numeric metrics, None values left out.

    Examples
    --------
    >>> describe_metrics({"epoch": 3, "loss": 0.123456, "accuracy": 1.0, "val_loss": None})
    'loss 0.123  acc 1'
    """
    parts = [
        f"{_SHORT.get(key, key)} {value:.{digits}g}"
        for key, value in row.items()
        if key not in _NOT_SHOWN and isinstance(value, (int, float)) and not isinstance(value, bool)
    ]
    return "  ".join(parts)


class EpochProgress:
    """A context manager drawing ``epoch k/N`` and the latest metrics on a terminal's stderr.

    Parameters
    ----------
    env : Environment
        Decides whether to draw (stderr a terminal, not ``quiet``) and where.
    total : int
        Number of epochs planned.
    description : str, optional
        Text before the bar.
    """

    def __init__(self, env: Environment, total: int, description: str = "epoch", mode: str | None = None):
        self.env = env
        self.total = total
        self.description = description
        self.mode = progress_mode(mode, env)  # --progress: bar, lines (a line each tenth of the run) or none
        self.enabled = self.mode == "bar"
        self._progress = None
        self._task = None
        self._line = None

    def __enter__(self) -> EpochProgress:
        if self.mode == "lines":
            self._line = _PlainLine(self.env.stderr, self.description, self.total, every=max(1, self.total // 10))
        elif self.enabled and (self.env.notebook or not self.env.stderr_isatty):
            self._line = _PlainLine(self.env.stderr, self.description, self.total)
        elif self.enabled:
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
            )

            self._progress = Progress(
                TextColumn("{task.description}"),
                BarColumn(bar_width=8),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                TextColumn("{task.fields[metrics]}"),
                console=self.env.console(stderr=True),
                transient=True,
            )
            self._progress.start()
            self._task = self._progress.add_task(self.description, total=self.total, metrics="")
        return self

    def update(self, row: dict) -> None:
        """Show that epoch ``row["epoch"]`` has ended, with the row's metrics."""
        if self._line is not None:
            self._line.update(row)
        if self._progress is None:
            return
        completed = row.get("epoch")
        self._progress.update(
            self._task,
            completed=completed if isinstance(completed, int) else None,
            advance=None if isinstance(completed, int) else 1,
            metrics=describe_metrics(row),
        )

    def __exit__(self, *exc_info) -> None:
        if self._line is not None:
            self._line.finish()
            self._line = None
        if self._progress is not None:
            self._progress.stop()
            self._progress = None


class _PlainLine:
    r"""``train-xor xor 1200/2000  0:00:01  loss 0.01  acc 1`` rewritten in place with ``\r``."""

    #: Seconds between redraws (the cell's output is sent to the browser as it grows).
    INTERVAL = 0.25

    def __init__(self, stream, description: str, total: int, every: int | None = None):
        self.stream, self.description, self.total = stream, description, total
        self.every = every  # lines mode: a kept line every this many epochs (and at the end)
        self.start = time.monotonic()
        self.last_draw = float("-inf")
        self.width = 0
        self.done, self.metrics = 0, ""

    def update(self, row: dict) -> None:
        completed = row.get("epoch")
        self.done = completed if isinstance(completed, int) else self.done + 1
        self.metrics = describe_metrics(row)
        if self.every is not None:
            if self.done % self.every == 0 or self.done == self.total:
                self._draw(start="", end="\n")  # a log line: no \r
        elif time.monotonic() - self.last_draw >= self.INTERVAL:
            self._draw()

    def _draw(self, start: str = "\r", end: str = "") -> None:
        elapsed = int(time.monotonic() - self.start)
        text = (f"{self.description} {self.done}/{self.total}  {elapsed // 3600}:{elapsed // 60 % 60:02d}:"
                f"{elapsed % 60:02d}  {self.metrics}").rstrip()
        # spaces cover what a longer previous line left
        self.stream.write(start + text.ljust(self.width) + end)
        self.stream.flush()
        self.width = 0 if end else len(text)
        self.last_draw = time.monotonic()

    def finish(self) -> None:
        if self.done and self.every is None:
            self._draw()
            self.stream.write("\n")
            self.stream.flush()


# --- the training display of train, train-mlp and the batch-size comparison ------------------------

#: Seconds between redraws of the batch bar (Keras redraws every 0.05 s; a notebook cell's output
#: is sent to the browser as it grows, so a few times a second is enough).
BATCH_INTERVAL = 0.1
#: Epochs without a better validation loss, while the training loss fell, before the overfitting note.
OVERFIT_EPOCHS = 5
PROGRESS_MODES = ("none", "bar", "lines")


def progress_mode(mode: str | None, env: Environment) -> str:
    """``--progress``: the user's choice, else ``bar`` when stderr is a terminal (and not ``-q``), else none."""
    if mode is not None:
        return mode
    return "bar" if env.stderr_isatty and not env.quiet else "none"


def duration(seconds: float) -> str:
    """``"0:07"``, ``"12:05"``, ``"1:02:03"``: a time as a clock shows it.

    Examples
    --------
    >>> duration(7.4), duration(725), duration(3723)
    ('0:07', '12:05', '1:02:03')
    """
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


def per_step(seconds: float) -> str:
    """Time per step as Keras prints it: ``25ms/step``, ``1s/step``, ``310us/step``.

    Examples
    --------
    >>> per_step(0.0253), per_step(1.4), per_step(0.00031)
    ('25ms/step', '1s/step', '310us/step')
    """
    if seconds >= 1:
        return f"{seconds:.0f}s/step"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.0f}ms/step"
    return f"{seconds * 1e6:.0f}us/step"


def epoch_line(row: dict, epochs: int, batches: int | None, width: int | None = None) -> str:
    """The line kept for one epoch, Keras's ``fit`` line with the epoch's number in front.

    Within ``width`` columns when given: shorter names (acc, val_acc) first, then without the time
    per step.

    Examples
    --------
    >>> row = {"epoch": 3, "loss": 0.12345, "accuracy": 0.96, "val_loss": 0.2, "val_accuracy": 0.9, "seconds": 1.5}
    >>> epoch_line(row, 10, 50)
    'Epoch  3/10  50/50  0:02 30ms/step  loss 0.1235  accuracy 0.9600  val_loss 0.2000  val_accuracy 0.9000'
    >>> epoch_line(row, 10, 50, width=80)
    'Epoch  3/10 50/50 0:02 loss 0.1235 acc 0.9600 val_loss 0.2000 val_acc 0.9000'
    """
    seconds = row.get("seconds") or 0.0
    metrics = [(key, row.get(key)) for key in ("loss", "accuracy", "val_loss", "val_accuracy")]
    metrics = [(key, value) for key, value in metrics
               if isinstance(value, (int, float)) and not isinstance(value, bool)]
    head = f"Epoch {row['epoch']:>{len(str(epochs))}}/{epochs}"
    count = f"{batches}/{batches}" if batches else ""
    step = per_step(seconds / batches) if batches else ""
    for short, with_step in ((False, True), (True, True), (True, False)):
        names = _SHORT if short else {}
        parts = [head, count, duration(seconds) + (" " + step if with_step and step else "")]
        parts += [f"{names.get(key, key)} {value:.4f}" for key, value in metrics]
        line = (" " if short else "  ").join(part for part in parts if part)
        if width is None or len(line) <= width:
            break
    return line


def overfitting_from(history: list[dict], patience: int = OVERFIT_EPOCHS) -> int | None:
    """The epoch from which the network overfits, or None.

    Overfitting: the validation loss has stayed above its best for ``patience`` epochs while the
    training loss went on falling (what ``--early-stopping`` watches); the epoch returned is the
    first one after the best.

    Examples
    --------
    >>> val = [.9, .5, .4, .45, .5, .6, .55, .7]
    >>> rows = [{"epoch": e, "loss": 1 / e, "val_loss": v} for e, v in enumerate(val, 1)]
    >>> overfitting_from(rows)
    4
    >>> overfitting_from(rows[:7]) is None
    True
    """
    if len(history) <= patience or any(row.get("val_loss") is None for row in history):
        return None
    best = min(range(len(history)), key=lambda i: history[i]["val_loss"])
    last = history[-1]
    if len(history) - 1 - best >= patience and last["loss"] < history[best]["loss"]:
        return int(history[best]["epoch"]) + 1
    return None


def terminal_columns(stream, default: int = 80) -> int:
    """The width of the terminal behind ``stream`` (80 when it does not say, as under a notebook's ``!``)."""
    import os

    try:
        columns = os.get_terminal_size(stream.fileno()).columns
    except (AttributeError, OSError, ValueError):
        columns = 0
    return columns if columns >= 40 else default


class TrainingDisplay:
    r"""What a learner sees while a network trains, on stderr (stdout keeps the report).

    ``bar``: within each epoch one line rewritten with ``\r``, ``Epoch 3/10  37/469 [=====>....]
    ETA 0:12  25ms/step  loss 0.1234``, a few times a second; when the epoch ends the line is
    replaced by the epoch's kept line (:func:`epoch_line`) and a newline, so the history stays on
    the screen, in a terminal and in a notebook cell alike (plain text and ``\r``, no escape codes).
    ``lines``: the kept lines only (log files). ``none``: nothing. Notes (overfitting) are printed
    in every mode unless ``-q``.

    Use as ``with TrainingDisplay(env, epochs, mode) as display: fit(..., on_batch=display.batch,
    on_epoch=display.epoch)``.
    """

    def __init__(self, env: Environment, epochs: int, mode: str | None = None, title: str | None = None):
        self.env, self.epochs, self.title = env, epochs, title
        self.mode = progress_mode(mode, env)
        self.stream = env.stderr
        self.history: list[dict] = []
        self.batches: int | None = None
        self.epoch_started = time.monotonic()
        self.last_draw = float("-inf")
        self.width = 0
        self.columns = terminal_columns(self.stream) - 1 if self.mode == "bar" else None
        self.overfit_said = False

    def __enter__(self) -> TrainingDisplay:
        if self.title and self.mode != "none":
            self._write(self.title + "\n")
        self.epoch_started = time.monotonic()
        return self

    def __exit__(self, *exc_info) -> None:
        self.clear()

    def _write(self, text: str) -> None:
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):
            self.mode = "none"  # stderr went away: train on, silently

    def clear(self) -> None:
        """Blank the live bar (before a note or the end), leaving the kept lines."""
        if self.width:
            self._write("\r" + " " * self.width + "\r")
            self.width = 0

    def batch(self, number: int, batches: int, loss: float) -> None:
        """After each optimiser step: redraw the bar now and then (and always at the first batch)."""
        self.batches = batches
        if self.mode != "bar":
            return
        now = time.monotonic()
        if number != 1 and now - self.last_draw < BATCH_INTERVAL:
            return
        self.last_draw = now
        elapsed = now - self.epoch_started
        step = elapsed / number
        epoch = len(self.history) + 1
        width = len(str(self.epochs))
        count = f"{number:>{len(str(batches))}}/{batches}"
        rest = f"ETA {duration(step * (batches - number))}  {per_step(step)}  loss {loss:.4f}"
        head = f"Epoch {epoch:>{width}}/{self.epochs}  {count} "
        size = max(5, min(20, self.columns - len(head) - len(rest) - 4))  # the bar shrinks to fit
        done = size * number // batches
        bar = "=" * max(done - 1, 0) + (">" if done < size else "=") + "." * (size - done)
        text = f"{head}[{bar}]  {rest}"[: self.columns]
        self._write("\r" + text.ljust(self.width))
        self.width = len(text)

    def epoch(self, row: dict) -> None:
        """When an epoch ends: its kept line (bar and lines modes), then the overfitting note once."""
        self.history.append(row)
        if self.mode != "none":
            self.clear()
            self._write(epoch_line(row, self.epochs, self.batches, self.columns) + "\n")
        self.epoch_started = time.monotonic()
        self.last_draw = float("-inf")
        start = overfitting_from(self.history)
        if start is not None and not self.overfit_said:
            self.overfit_said = True
            self.note(f"nnkit: note: overfitting from epoch {start}: the validation loss has not improved on "
                      f"epoch {start - 1}'s for {len(self.history) - start + 1} epochs while the training loss "
                      f"fell; try --early-stopping {OVERFIT_EPOCHS} or fewer epochs (--epochs {start - 1})")

    def note(self, message: str) -> None:
        """A note on stderr between the kept lines (silenced by ``-q``)."""
        if self.env.quiet:
            return
        self.clear()
        self._write(message + "\n")
