"""The streams nnkit talks to, and the facts about them that decide how it talks.

One :class:`Environment` is made per command run (httpie's idea): the CLI reads every "is this a
terminal?" question from it, and tests replace it by running under ``CliRunner``, whose streams are not
terminals.
"""

from __future__ import annotations

import errno
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO


def in_notebook(environ=None) -> bool:
    r"""Whether nnkit runs under a Jupyter or Colab ``!`` command.

    IPython runs ``!`` commands on a pseudo-terminal, so the streams look like a terminal, but the
    cell's output area understands ``\r`` and colours only, not cursor movement. The kernel leaves
    its marks in the environment: ``JPY_PARENT_PID`` (jupyter_client), ``MPLBACKEND`` set to
    matplotlib-inline (ipykernel, Colab's included) and ``COLAB_RELEASE_TAG`` (Colab).

    Examples
    --------
    >>> in_notebook({"MPLBACKEND": "module://matplotlib_inline.backend_inline"})
    True
    >>> in_notebook({"TERM": "xterm-256color"})
    False
    """
    environ = os.environ if environ is None else environ
    return ("JPY_PARENT_PID" in environ or "COLAB_RELEASE_TAG" in environ
            or "matplotlib_inline" in environ.get("MPLBACKEND", ""))


def _isatty(stream) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


class ClosedStream:
    """Stands in for a standard stream the shell closed (``>&-``, ``<&-``): Python leaves ``None``.

    Reading or writing raises ``OSError(EBADF)``, which nnkit reports as an input error, except on
    a closed stderr (``discard=True``), where notes and errors go nowhere: there is no one to tell.
    """

    def __init__(self, name: str, discard: bool = False):
        self.name = name
        self.discard = discard
        self.buffer = self
        self.closed = False

    def _refuse(self, *_):
        raise OSError(errno.EBADF, f"{self.name} is closed")

    def write(self, data):
        if self.discard:
            return len(data)
        return self._refuse()

    read = readline = fileno = _refuse

    def flush(self) -> None:
        return None

    def isatty(self) -> bool:
        return False


def mend_closed_streams() -> None:
    """Replace the ``None`` Python leaves for a closed stdin, stdout or stderr (start of ``main``)."""
    if sys.stdin is None:
        sys.stdin = ClosedStream("standard input")
    if sys.stdout is None:
        sys.stdout = ClosedStream("standard output")
    if sys.stderr is None:
        sys.stderr = ClosedStream("standard error", discard=True)


@dataclass
class Environment:
    """Standard streams, whether each is a terminal, and the user's quiet/colour wishes."""

    stdin: IO
    stdout: IO
    stderr: IO
    stdin_isatty: bool
    stdout_isatty: bool
    stderr_isatty: bool
    no_color: bool = False
    quiet: bool = False
    #: Files read during this run; nnkit refuses to write its output over one of them.
    inputs: list[Path] = field(default_factory=list)
    #: Running under a notebook's ``!`` command (see :func:`in_notebook`): progress is plain text.
    notebook: bool = False
    #: How each medical input's slice was taken and turned (for the summary table), by source.
    orientations: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_sys(cls, quiet: bool = False) -> Environment:
        """Describe the process's current standard streams."""
        return cls(
            stdin=sys.stdin,
            stdout=sys.stdout,
            stderr=sys.stderr,
            stdin_isatty=_isatty(sys.stdin),
            stdout_isatty=_isatty(sys.stdout),
            stderr_isatty=_isatty(sys.stderr),
            # https://no-color.org: any non-empty value disables colour.
            no_color=bool(os.environ.get("NO_COLOR")),
            quiet=quiet,
            notebook=in_notebook(),
        )

    def console(self, stderr: bool = False):
        """A Rich console on stdout (or stderr); made at run time, never at import."""
        from rich.console import Console

        stream = self.stderr if stderr else self.stdout
        isatty = self.stderr_isatty if stderr else self.stdout_isatty
        return Console(
            file=stream,
            no_color=self.no_color or not isatty,
            force_terminal=isatty,
            highlight=False,
            emoji=False,
            width=None if isatty else 100,
        )

    def note(self, message: str) -> None:
        """Tell the user something on stderr (not the result); silenced by ``-q``."""
        if not self.quiet:
            print(message, file=self.stderr, flush=True)

    def read_stdin_bytes(self) -> bytes:
        """All of standard input as bytes (text and ``.npy`` bytes alike)."""
        from nnkit.term.limits import read_capped

        return read_capped(getattr(self.stdin, "buffer", None) or self.stdin, "standard input")
