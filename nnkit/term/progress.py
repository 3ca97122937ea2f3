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

    def __init__(self, env: Environment, total: int, description: str = "epoch"):
        self.env = env
        self.total = total
        self.description = description
        self.enabled = env.stderr_isatty and not env.quiet
        self._progress = None
        self._task = None
        self._line = None

    def __enter__(self) -> "EpochProgress":
        if self.enabled and self.env.notebook:
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

    def __init__(self, stream, description: str, total: int):
        self.stream, self.description, self.total = stream, description, total
        self.start = time.monotonic()
        self.last_draw = float("-inf")
        self.width = 0
        self.done, self.metrics = 0, ""

    def update(self, row: dict) -> None:
        completed = row.get("epoch")
        self.done = completed if isinstance(completed, int) else self.done + 1
        self.metrics = describe_metrics(row)
        if time.monotonic() - self.last_draw >= self.INTERVAL:
            self._draw()

    def _draw(self) -> None:
        elapsed = int(time.monotonic() - self.start)
        text = (f"{self.description} {self.done}/{self.total}  {elapsed // 3600}:{elapsed // 60 % 60:02d}:"
                f"{elapsed % 60:02d}  {self.metrics}").rstrip()
        # spaces cover what a longer previous line left
        self.stream.write("\r" + text.ljust(self.width))
        self.stream.flush()
        self.width = len(text)
        self.last_draw = time.monotonic()

    def finish(self) -> None:
        if self.done:
            self._draw()
            self.stream.write("\n")
            self.stream.flush()
