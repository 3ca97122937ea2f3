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


def close_names(word: str, choices, cutoff: float = 0.6) -> list[str]:
    """The names among ``choices`` closest to a mistyped ``word`` (``difflib``, imported only here).

    Case is ignored, so ``ReLU`` finds ``relu``; a word that differs only by case comes first.

    Examples
    --------
    >>> close_names("activte", ["activate", "loss", "dense"])
    ['activate']
    >>> close_names("sobelx", ["sobel_x", "sobel_y", "gaussian"])
    ['sobel_x', 'sobel_y']
    """
    from difflib import get_close_matches

    choices = [str(choice) for choice in choices]
    by_lower = {}
    for choice in choices:
        by_lower.setdefault(choice.lower(), choice)
    found = get_close_matches(str(word).lower(), list(by_lower), n=3, cutoff=cutoff)
    return [by_lower[name] for name in found]


def did_you_mean(word: str, choices, also: str | None = None) -> str:
    """A hint for an unknown name: ``did you mean 'relu'?`` and, after it, the full list (or ``also``).

    Examples
    --------
    >>> did_you_mean("malignent", ["malignant", "benign"])
    "did you mean 'malignant'? (choose one of: malignant, benign)"
    >>> did_you_mean("zzz", ["a", "b"])
    'choose one of: a, b'
    """
    choices = [str(choice) for choice in choices]
    listing = also if also is not None else f"choose one of: {', '.join(choices)}"
    close = close_names(word, choices)
    if not close:
        return listing
    guess = " or ".join(repr(name) for name in close[:2])
    return f"did you mean {guess}? ({listing})"


def unknown_name(what: str, name: str, choices, also: str | None = None) -> NnkitInputError:
    """The error for a name that is not in a registry, with a "did you mean" hint.

    ``raise unknown_name("activation", "relú", ACTIVATIONS)`` reads
    ``nnkit: error: unknown activation 'relú'`` / ``hint: did you mean 'relu'? (choose one of: …)``.
    """
    return NnkitInputError(f"unknown {what} {name!r}", hint=did_you_mean(name, choices, also))


def no_such_file(path, what: str = "file", names=(), also: str | None = None) -> NnkitInputError:
    """The error for a missing file, with the closest names in its folder (``brain.png`` for ``brian.png``).

    ``names`` are other words the same place accepts (the named data sets for ``--data``); ``also``
    is the hint when nothing is close.
    """
    import os

    path = os.fsdecode(path)
    folder, base = os.path.split(path)
    try:
        entries = [name for name in os.listdir(folder or ".") if not name.startswith(".")]
    except OSError:
        entries = []
    # a file's name is compared with the folder's entries, the whole word with the other names
    files = [os.path.join(folder, name) if folder else name for name in close_names(base, entries)] if entries else []
    named = close_names(path, list(names)) if names else []
    close = [*files, *named] if folder else [*named, *files]
    hint = also
    if close:
        hint = "did you mean " + " or ".join(repr(name) for name in close[:2]) + "?"
        hint += f" ({also})" if also else ""
    return NnkitInputError(f"no such {what}: {path}", hint=hint)


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


def shape_text(shape, unknown: str = "?") -> str:
    """A shape as messages and reports write it: ``(26, 26, 32)`` → ``26×26×32`` (a None size: ``unknown``).

    Examples
    --------
    >>> shape_text((26, 26, 32)), shape_text((None, 10)), shape_text((None, 10), "any"), shape_text(())
    ('26×26×32', '?×10', 'any×10', '')
    """
    return "×".join(unknown if size is None else str(size) for size in shape)
