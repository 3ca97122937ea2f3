"""Ctrl-C while training: handled from the first line of a command, never in the middle of a commit.

Python turns SIGINT into ``KeyboardInterrupt`` wherever the program happens to be. In a training
loop that can be between appending an epoch to the history and copying that epoch's weights, so
the saved model and the report disagree by an epoch. :class:`InterruptGuard` keeps the usual
behaviour but holds a Ctrl-C back while a :meth:`~InterruptGuard.critical` block runs (an epoch's
commit, writing the outputs and the report) and raises it as soon as the block ends.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager


class InterruptGuard:
    """Install with ``with InterruptGuard() as guard:``; ``guard.critical()`` defers Ctrl-C."""

    def __init__(self) -> None:
        self.pending = False
        self._depth = 0
        self._previous = None

    def _handle(self, signum, frame) -> None:
        if self._depth:
            self.pending = True
            return
        raise KeyboardInterrupt

    def __enter__(self) -> InterruptGuard:
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def __exit__(self, *exc) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
            self._previous = None

    def hold(self) -> None:
        """Hold Ctrl-C back from here until :meth:`release`."""
        self._depth += 1

    def release(self) -> None:
        """End a :meth:`hold`; a Ctrl-C that came meanwhile is raised now."""
        self._depth -= 1
        if self._depth == 0 and self.pending:
            self.pending = False
            raise KeyboardInterrupt

    @contextmanager
    def critical(self) -> Iterator[None]:
        """Run the block whole: a Ctrl-C during it is raised when it ends."""
        self.hold()
        try:
            yield
        finally:
            self.release()
