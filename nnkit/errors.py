"""The one exception type for bad input, the exit statuses, and the helpers every message shares.

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


def at_least_one(value, option: str) -> int:
    """``value`` as a whole number of at least 1 (a count, a size, a stride), or the error naming ``option``.

    Every check of that kind in nnkit is this one, so the messages read alike.

    Examples
    --------
    >>> at_least_one(32, "--batch-size"), at_least_one(2.0, "--stride")
    (32, 2)
    >>> at_least_one(0, "--epochs")
    Traceback (most recent call last):
    ...
    nnkit.errors.NnkitInputError: --epochs must be at least 1, got 0
    >>> at_least_one(1.5, "--stride")
    Traceback (most recent call last):
    ...
    nnkit.errors.NnkitInputError: --stride must be a whole number, got 1.5
    """
    if isinstance(value, float) and not value.is_integer():  # NaN and infinity too
        raise NnkitInputError(f"{option} must be a whole number, got {value}")
    if value < 1:
        raise NnkitInputError(f"{option} must be at least 1, got {value}")
    return int(value)


def shape_text(shape) -> str:
    """A shape as messages and reports write it: ``(26, 26, 32)`` → ``26×26×32`` (an unknown size ``?``).

    Examples
    --------
    >>> shape_text((26, 26, 32)), shape_text((None, 10)), shape_text(())
    ('26×26×32', '?×10', '')
    """
    return "×".join("?" if size is None else str(size) for size in shape)
