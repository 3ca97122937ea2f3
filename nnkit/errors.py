"""The one exception type for bad input, shared by the io and engine layers.

The CLI turns it into ``nnkit: error: <message>`` on stderr and exit status 2, in exactly one place
(:mod:`nnkit.cli.app`).
"""

from enum import IntEnum


class ExitStatus(IntEnum):
    """Exit statuses of the ``nnkit`` command."""

    SUCCESS = 0
    ERROR = 1  # an unexpected internal failure
    INPUT_ERROR = 2  # bad input of any kind, including command-line usage errors
    INTERRUPTED = 130  # Ctrl-C
    BROKEN_PIPE = 141  # the reader of stdout went away (128 + SIGPIPE), as `cat` would


class NnkitInputError(ValueError):
    """Bad input: a message for the user and, where useful, a hint.

    Parameters
    ----------
    message : str
        What is wrong, in one short line (no trailing period needed).
    hint : str, optional
        What to do about it.
    """

    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint


def reason(error: BaseException) -> str:
    r"""The first line of an exception's message, or its type when it has none (``EOFError()``).

    Examples
    --------
    >>> reason(EOFError()), reason(ValueError("bad header\nmore"))
    ('EOFError', 'bad header')
    """
    lines = str(error).splitlines()
    return lines[0] if lines and lines[0].strip() else type(error).__name__


def printable(text: str) -> str:
    r"""``text`` safe for one line of a terminal: control and format characters written as escapes.

    A class name or a path from a file may hold a newline, a NUL or a right-to-left override
    (U+202E), which would break the one-line message or reverse what follows it on the screen.

    Examples
    --------
    >>> printable("cat\ndog\x00 \u202eevil"), printable("héllo 日本")
    ('cat\\ndog\\x00 \\u202eevil', 'héllo 日本')
    """
    import unicodedata  # only on the error path

    return "".join(
        ch.encode("unicode_escape").decode("ascii") if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") else ch
        for ch in text
    )
