"""Reading arrays: numbers on the command line, text tables, ``.npy``/``.npz`` files and stdin.

Every command that takes an array gets it through :func:`load_array`, so the rules are the same
everywhere (docs/conventions.md, "Input"):

- numbers on the command line: ``1 -2 3`` is a vector; ``"1,2;3,4"`` a matrix (``;`` between rows,
  ``,`` or spaces inside a row);
- ``-i FILE``: ``.csv``/``.tsv``/``.txt`` (comma, tab or whitespace separated; a header row of names is
  skipped), ``.npy``, ``.npz`` (``--key``, default: the only array), or ``-`` for stdin;
- nothing at all: stdin, when it is not a terminal (text or ``.npy`` bytes);
- ``--random RxC --seed N``: ``np.random.seed(N); np.random.randn(R, C)``, the course's demo arrays.

A text table with one line is a vector; with several lines, a matrix (one row per line). Integer
literals stay integers; anything else is float64.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from nnkit.errors import NnkitInputError
from nnkit.files.npyfile import NPY_MAGIC, ZIP_MAGIC, NpzArchive, load_npy
from nnkit.files.tables import integer_literals, parse_stream_text, read_numbers, read_words, to_number
from nnkit.term.env import Environment
from nnkit.term.limits import require_array, require_memory

__all__ = ["NPY_MAGIC", "ZIP_MAGIC"]
_NUMBER_HINT = "numbers are written like 1, -2.5, 1e-3, inf or nan (not 0x10 or 1_000)"
_ROW_SPLIT = re.compile(r"[;\n]")
_ITEM_SPLIT = re.compile(r"[,\s]+")


def parse_numbers(tokens: Sequence[str]) -> np.ndarray:
    """Parse numbers given on the command line.

    Parameters
    ----------
    tokens : sequence of str
        Command-line words; ``;`` separates the rows of a matrix, ``,`` or spaces the values in a row.

    Returns
    -------
    array : (n,) or (rows, cols) array, int64 when every value is an integer literal, else float64

    Examples
    --------
    >>> parse_numbers(["1", "-2", "3"])
    array([ 1, -2,  3])
    >>> parse_numbers(["1,2;3,4.5"])
    array([[1. , 2. ],
           [3. , 4.5]])
    """
    text = " ".join(tokens)
    rows = [row.strip() for row in _ROW_SPLIT.split(text)]
    if rows and rows[-1] == "":  # a trailing ';' ends the last row
        rows.pop()
    if not rows or all(row == "" for row in rows):
        raise NnkitInputError("no numbers given")
    parsed = []
    for number, row in enumerate(rows, start=1):
        items = [item for item in _ITEM_SPLIT.split(row) if item]
        if not items:
            raise NnkitInputError(f"row {number} of the matrix is empty")
        values = []
        for column, item in enumerate(items, start=1):
            value = to_number(item)
            if value is None:
                where = f" (row {number}, value {column})" if len(rows) > 1 or len(items) > 1 else ""
                raise NnkitInputError(f"not a number: {item!r}{where}", hint=_NUMBER_HINT)
            values.append(value)
        parsed.append(values)
    widths = {len(row) for row in parsed}
    if len(widths) > 1:
        raise NnkitInputError(
            "the rows of the matrix have different lengths: " + ", ".join(str(len(row)) for row in parsed),
            hint='write a matrix as "1,2;3,4": ";" between rows, "," inside a row',
        )
    array = np.array(parsed[0] if len(parsed) == 1 else parsed, dtype=np.float64)
    return _keep_integers(array, text)


def _keep_integers(array: np.ndarray, text: str) -> np.ndarray:
    if integer_literals([text]) and np.all(np.abs(array) < 2**53):
        return array.astype(np.int64)
    return array


def parse_text_table(text: str, source: str = "input", suffix: str = "") -> np.ndarray:
    """Parse a text table of numbers (or the JSON ``-f json`` prints), by :mod:`nnkit.files.tables`' rules.

    Returns
    -------
    array : (cols,) for one line, (rows, cols) otherwise; int64 or float64

    Examples
    --------
    >>> parse_text_table(chr(10).join(["a,b", "1,2", "3,4"]))
    array([[1, 2],
           [3, 4]])
    """
    return read_numbers(text, source, suffix)


def _load_npz(data: bytes, source: str, key: str | None) -> np.ndarray:
    with NpzArchive(io.BytesIO(data), source) as archive:
        keys = archive.files
        if key is None:
            if len(keys) != 1:
                raise NnkitInputError(
                    f"{source} holds {len(keys)} arrays; choose one with --key",
                    hint="keys: " + ", ".join(keys) if keys else None,
                )
            key = keys[0]
        if key not in keys:
            raise NnkitInputError(f"{source} has no array named {key!r}", hint="keys: " + ", ".join(keys))
        return archive.read(key)


def parse_bytes(data: bytes, source: str, key: str | None = None, suffix: str = "") -> np.ndarray:
    """Read an array from raw bytes: ``.npy`` and ``.npz`` by their magic number, else text (or JSON)."""
    if data.startswith(NPY_MAGIC):
        return load_npy(data, source)
    if data.startswith(ZIP_MAGIC):
        return _load_npz(data, source, key)
    return parse_text_table(parse_stream_text(data, source), source, suffix)


def _read_file(path: Path) -> bytes:
    """A file's bytes, refused before reading when they cannot fit in memory."""
    size = path.stat().st_size
    require_memory(size, f"reading {path}")
    return path.read_bytes()


def path_exists(word: str) -> bool:
    """Whether ``word`` names an existing file or folder.

    A word the system cannot take as a path (a row of 300 numbers: "File name too long") is not one.

    Examples
    --------
    >>> path_exists("0.5," * 300), path_exists(".")
    (False, True)
    """
    try:
        return Path(word).exists()
    except (OSError, ValueError):  # ENAMETOOLONG; ValueError: an embedded NUL
        return False


def read_source(input_path: str | Path | None, env: Environment) -> tuple[bytes, str, str]:
    """The bytes of a file, or of stdin for ``-`` or ``None``; with a name for messages and the suffix.

    A file read is remembered as one of the run's inputs, so no output is written over it.
    """
    if input_path is None or str(input_path) == "-":
        if env.stdin_isatty:
            env.note("nnkit: reading from the terminal; end with Ctrl-D")
        data = env.read_stdin_bytes()
        if not data.strip():
            raise NnkitInputError("stdin is empty", hint="pipe numbers or a .npy file into nnkit")
        return data, "stdin", ""
    path = Path(input_path)
    try:
        if path.is_dir():
            raise NnkitInputError(f"{path} is a folder, not a file")
        data = _read_file(path)
    except NnkitInputError:
        raise
    except FileNotFoundError:
        raise NnkitInputError(f"no such file: {path}") from None
    except OSError as exc:
        shown = str(path) if len(str(path)) <= 60 else f"{str(path)[:60]}… ({len(str(path))} characters)"
        raise NnkitInputError(f"cannot read {shown}: {exc.strerror}") from None
    except ValueError:  # an embedded NUL byte
        raise NnkitInputError(f"cannot read {str(path)[:60]!r}: a file name cannot hold a NUL character") from None
    env.inputs.append(path)
    return data, str(path), path.suffix.lower()


def read_input_file(path: str | Path, env: Environment, key: str | None = None) -> np.ndarray:
    """Read an array from a file, or from stdin for ``-``."""
    data, source, suffix = read_source(path, env)
    return parse_bytes(data, source, key, suffix)


def read_stdin(env: Environment, key: str | None = None) -> np.ndarray:
    """Read an array from standard input (text or ``.npy``/``.npz`` bytes)."""
    return read_input_file("-", env, key)


#: What an option that takes an array (``loss --pred``, ``dense --weights``) accepts, for its help.
OPERAND_HELP = 'numbers ("0.1,0.9;0.8,0.2": ";" between rows), a file (.csv .npy …), or - for stdin'
_OPERAND_FILE_SUFFIXES = (".csv", ".tsv", ".txt", ".dat", ".npy", ".npz")


def load_operand(text: str, option: str, env: Environment, key: str | None = None) -> np.ndarray:
    """The array of an option such as ``--pred``: numbers written inline, a file, or ``-`` for stdin.

    A word that names an existing file, ends in a data file's extension or contains ``/`` is read as
    a file; anything else is parsed as numbers (``"0.1,0.9;0.8,0.2"``). Errors name the option.
    """
    word = text.strip()
    if not word:
        raise NnkitInputError(f"{option} is empty", hint=f"give {OPERAND_HELP}")
    if word == "-":
        return read_input_file("-", env, key)
    if not (path_exists(word) or word.lower().endswith(_OPERAND_FILE_SUFFIXES) or "/" in word):
        try:
            return parse_numbers([word])
        except NnkitInputError as error:
            raise NnkitInputError(f"{option}: {error.message}", error.hint) from None
    return read_input_file(word, env, key)


def parse_shape(spec: str, option: str = "--shape") -> tuple[int, ...]:
    """Parse ``"5x3"``, ``"5,3"`` or ``"2,-1"`` into a tuple of ints.

    Examples
    --------
    >>> parse_shape("5x3")
    (5, 3)
    >>> parse_shape(" 1,-1")
    (1, -1)
    """
    parts = [part for part in re.split(r"[x×,\s]+", spec.strip()) if part]
    try:
        shape = tuple(int(part) for part in parts)
    except ValueError:
        raise NnkitInputError(f"{option} {spec.strip()!r} is not a shape like 5x3") from None
    if not shape:
        raise NnkitInputError(f"{option} needs at least one size")
    return shape


def random_array(spec: str, seed: int | None) -> np.ndarray:
    """The course's demo array: ``np.random.seed(seed); np.random.randn(*shape)``.

    ``RandomState(seed)`` draws exactly what the legacy global generator draws after ``seed(seed)``,
    without touching the global state.

    Examples
    --------
    >>> random_array("2x2", 42).round(4)
    array([[ 0.4967, -0.1383],
           [ 0.6477,  1.523 ]])
    """
    shape = parse_shape(spec, "--random")
    if any(size < 1 for size in shape):
        raise NnkitInputError(f"--random sizes must be positive, got {spec.strip()}")
    if seed is not None and not 0 <= seed < 2**32:
        raise NnkitInputError(f"--seed must be between 0 and 2**32 - 1, got {seed}")
    # The array, the command's result and their temporaries: refused before NumPy tries.
    require_array(shape, 8, f"--random {spec.strip()}", copies=4)
    return np.random.RandomState(seed).randn(*shape)


def load_array(
    values: Sequence[str] | None,
    env: Environment,
    input_path: str | None = None,
    key: str | None = None,
    random: str | None = None,
    seed: int | None = None,
) -> np.ndarray:
    """The array a command works on, from exactly one of its possible sources (docs/conventions.md, "Input").

    Parameters
    ----------
    values : sequence of str or None
        Numbers given on the command line.
    env : Environment
        Where stdin is and whether it is a terminal.
    input_path : str, optional
        ``-i/--input``: a file, or ``-`` for stdin.
    key : str, optional
        ``--key``: the array to take from an ``.npz``.
    random : str, optional
        ``--random RxC``.
    seed : int, optional
        ``--seed`` for ``--random``.
    """
    sources = [
        name
        for name, given in (
            ("numbers", bool(values)),
            ("--input", input_path is not None),
            ("--random", random is not None),
        )
        if given
    ]
    if len(sources) > 1:
        raise NnkitInputError(f"give the array one way, not with {' and '.join(sources)}")
    if values:
        return parse_numbers(values)
    if input_path is not None:
        return read_input_file(input_path, env, key)
    if random is not None:
        return random_array(random, seed)
    if env.stdin_isatty:
        raise NnkitInputError(
            "no input", hint="give numbers (nnkit CMD 1 -2 3), --input FILE, --random RxC, or pipe data in"
        )
    return read_stdin(env, key)


def load_tokens(
    values: Sequence[str] | None, env: Environment, input_path: str | None = None, key: str | None = None
) -> list[str] | np.ndarray:
    """Labels as the user wrote them: words from the command line, a text file or stdin.

    Words may be names (``healthy patient``) or numbers; ``.npy``/``.npz`` input gives its array. A
    text file is a table read by :func:`nnkit.files.tables.read_words` (labels row by row, a header
    above numbers skipped, comments ignored, ragged rows refused) or the JSON ``-f json`` prints.
    """
    if values and input_path is not None:
        raise NnkitInputError("give the labels one way, not with numbers and --input")
    if values:
        return [token for value in values for token in _ITEM_SPLIT.split(value.strip()) if token]
    if input_path is None and env.stdin_isatty:
        raise NnkitInputError("no labels", hint="give labels (nnkit onehot 0 2 1), --input FILE, or pipe them in")
    data, source, _ = read_source(input_path, env)
    if data.startswith((NPY_MAGIC, ZIP_MAGIC)):
        return parse_bytes(data, source, key)
    return read_words(parse_stream_text(data, source), source)
