"""Ctrl-C while training: handled from the first line of a command, never in the middle of a commit.

Python turns SIGINT into ``KeyboardInterrupt`` wherever the program happens to be. In a training
loop that can be between appending an epoch to the history and copying that epoch's weights, so
the saved model and the report disagree by an epoch. :class:`InterruptGuard` keeps the usual
behaviour but holds a Ctrl-C back while a :meth:`~InterruptGuard.critical` block runs (an epoch's
commit, writing the outputs and the report) and raises it as soon as the block ends.

While a network trains, :meth:`~InterruptGuard.stop_after_batch` makes the first Ctrl-C a request:
it is answered at once ("stopping after this batch …") and training stops when the batch in hand
is done (:meth:`~InterruptGuard.check`); a second Ctrl-C stops at once.
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
        self._say = None  # while training: how to answer the first Ctrl-C
        self.stop_requested = False

    def _handle(self, signum, frame) -> None:
        if self._say is not None and not self.stop_requested:
            self.stop_requested = True
            self._say("nnkit: stopping after this batch (Ctrl-C again to stop at once); the report "
                      "will cover the epochs completed")
            return
        if self._depth:
            self.pending = True
            return
        raise KeyboardInterrupt

    @contextmanager
    def stop_after_batch(self, say) -> Iterator[None]:
        """Inside the block the first Ctrl-C only asks to stop: ``say`` answers it at once."""
        self._say, self.stop_requested = say, False
        try:
            yield
        finally:
            self._say = None

    def check(self) -> None:
        """Raise ``KeyboardInterrupt`` if a stop was asked for (call it between batches)."""
        if self.stop_requested:
            raise KeyboardInterrupt

    def __enter__(self) -> InterruptGuard:
        # A process started with Ctrl-C ignored (a background job of a script: `nnkit train … &`)
        # keeps ignoring it, as it did while its modules loaded: the guard does not switch it on.
        if threading.current_thread() is threading.main_thread() and signal.getsignal(signal.SIGINT) is not signal.SIG_IGN:
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
