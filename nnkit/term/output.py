"""Writing results: every output format of nnkit in one place (docs/conventions.md, "Output").

- ``table``: a Rich table for people (the default when stdout is a terminal);
- ``csv``, ``tsv``: one line per row, no header, no index (the default in a pipe); a 0-D result is one
  number, a 1-D result one line;
- ``json``: a number or a (nested) list;
- ``npy``: ``.npy`` bytes (refused on a terminal);
- ``-o PATH``: the same, chosen by the extension (``.csv .tsv .txt .json .npy``, and ``.png`` for 2-D
  arrays), written atomically (a temporary file renamed into place) and never over an input file.

CSV and JSON keep full precision: floats print as their shortest round-tripping ``repr``. Tables round
to ``--precision`` significant digits.
"""

from __future__ import annotations

import io
import json
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from nnkit.errors import NnkitInputError, at_least_one, shape_text
from nnkit.term.env import Environment
from nnkit.term.limits import require_array

FORMATS = ("table", "csv", "tsv", "json", "npy")
#: Extension of ``-o PATH`` → format written.
SUFFIX_FORMATS = {".csv": "csv", ".tsv": "tsv", ".txt": "txt", ".json": "json", ".npy": "npy", ".png": "png"}
_SEPARATORS = {"csv": ",", "tsv": "\t", "txt": " "}
#: Largest block of a matrix a terminal table shows; the rest is elided like NumPy's summaries.
TABLE_MAX_ROWS = 24
TABLE_MAX_COLS = 12


def resolve_format(fmt: str | None, env: Environment, to_file: bool = False) -> str:
    """The format to print in: the user's ``-f``, else ``table`` on a terminal and ``csv`` in a pipe."""
    if fmt is None:
        return "table" if env.stdout_isatty else "csv"
    if fmt not in FORMATS:
        raise NnkitInputError(f"unknown format {fmt!r}", hint="choose one of " + ", ".join(FORMATS))
    if fmt == "npy" and env.stdout_isatty and not to_file:
        raise NnkitInputError(
            "refusing to write .npy bytes to a terminal",
            hint="redirect it (> out.npy), pipe it into another nnkit, or use -o out.npy",
        )
    return fmt


# --- numbers as text -------------------------------------------------------------------------------


def _text_items(values: np.ndarray) -> list[str]:
    """Each value of a 1-D array as text that reads back to the same value."""
    kind = values.dtype.kind
    if kind == "f" and values.dtype != np.float64:
        return [str(value) for value in values]  # NumPy's shortest repr for float32/float16
    if kind == "b":
        return [str(int(value)) for value in values.tolist()]
    if kind == "f":
        return [repr(value) for value in values.tolist()]
    return [str(value) for value in values.tolist()]


def to_text(array: np.ndarray, fmt: str) -> str:
    """Render an array as ``csv``, ``tsv``, ``txt`` (space-separated) or ``json`` text.

    Examples
    --------
    >>> print(to_text(np.array([[1, 0], [0, 1]]), "csv"), end="")
    1,0
    0,1
    >>> print(to_text(np.array([0.1, 1e-20]), "json"), end="")
    [0.1, 1e-20]
    """
    array = np.asarray(array)
    if fmt == "json":
        return json.dumps(_jsonable(array)) + "\n"
    separator = _SEPARATORS[fmt]
    if array.ndim == 0:
        return _text_items(array.reshape(1))[0] + "\n"
    if array.ndim == 1:
        return separator.join(_text_items(array)) + "\n"
    rows = array.reshape(-1, array.shape[-1]) if array.ndim > 2 else array
    return "".join(separator.join(_text_items(row)) + "\n" for row in rows)


def _jsonable(array: np.ndarray):
    if array.dtype.kind == "f" and array.dtype != np.float64:
        # float(str(x)) keeps float32's short decimal form (0.1, not 0.10000000149011612).
        short = [float(str(value)) for value in array.reshape(-1)]
        return np.array(short, dtype=object).reshape(array.shape).tolist()
    if array.dtype.kind == "b":
        return array.astype(int).tolist()
    return array.tolist()


def report_text(header: list[str], rows: list[list], fmt: str) -> str:
    """A report's table (``train-xor``, ``train-mlp``, ``predict``) as ``csv`` or ``tsv`` text.

    Unlike an array, a report's columns have names, so the first line is a header row naming them
    (the array readers detect and skip it); every other line is one row. Floats keep full precision,
    ``None`` is an empty cell, and a cell holding the separator or a quote is quoted.

    Examples
    --------
    >>> print(report_text(["prediction", "p(a,b)"], [["a,b", 0.1], ["c", None]], "csv"), end="")
    prediction,"p(a,b)"
    "a,b",0.1
    c,
    """
    import csv

    def cell(value) -> str:
        if value is None:
            return ""
        if isinstance(value, (float, np.floating)):
            return repr(float(value))
        return str(value)

    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter="\t" if fmt == "tsv" else ",", lineterminator="\n")
    writer.writerow(header)
    writer.writerows([cell(value) for value in row] for row in rows)
    return buffer.getvalue()


def to_npy_bytes(array: np.ndarray) -> bytes:
    """The ``.npy`` file of an array, as bytes."""
    buffer = io.BytesIO()
    np.save(buffer, np.asarray(array), allow_pickle=False)
    return buffer.getvalue()


def format_number(value, precision: int = 6) -> str:
    """A number for a table: integers exactly, floats to ``precision`` significant digits.

    Examples
    --------
    >>> format_number(0.356674801, 4), format_number(3), format_number(float("-inf"))
    ('0.3567', '3', '-inf')
    """
    if isinstance(value, (bool, np.bool_)):
        return str(int(value))
    if isinstance(value, (int, np.integer)):
        return str(value)
    if isinstance(value, (float, np.floating)):
        return f"{float(value):.{precision}g}"
    return str(value)


# --- files ------------------------------------------------------------------------------------------


def refuse_input_overwrite(path: Path, env: Environment) -> None:
    """Raise if ``path`` is one of the files this run has read."""
    if not path.exists():
        return
    for source in env.inputs:
        try:
            if source.exists() and os.path.samefile(source, path):
                raise NnkitInputError(f"refusing to overwrite the input file {path}")
        except OSError:
            continue


def check_target(path: str | Path, env: Environment | None = None, create_folder: bool = False) -> Path:
    """Refuse an output path before anything is written: everything :func:`atomic_write` would refuse.

    Refused: one of the run's inputs, a missing folder, a folder, a path the system cannot use (a
    name too long), a folder nnkit may not create files in, and an existing file the user may not
    write. A file with no write permission for anyone (``chmod 444``) is refused even for root,
    whom the system would let replace it: its owner marked it "do not change", as ``rm`` reads it.
    With ``create_folder``, a missing folder is fine if nnkit can create it.
    """
    path = Path(path)
    if env is not None:
        refuse_input_overwrite(path, env)
    folder = path.parent
    try:
        folder_ok = folder.is_dir()
        is_folder = path.is_dir()
        exists = path.exists() or path.is_symlink()
        if not folder_ok and create_folder:
            ancestor = next(p for p in folder.parents if p.exists())
            if not ancestor.is_dir() or not os.access(ancestor, os.W_OK | os.X_OK):
                raise NnkitInputError(f"cannot create the folder {folder}: {ancestor} is not a writable folder")
            return path
    except OSError as exc:
        raise NnkitInputError(f"cannot write {_short(path)}: {exc.strerror}") from None
    if not folder_ok:
        raise NnkitInputError(f"cannot write {path}: the folder {folder} does not exist")
    if is_folder:
        raise NnkitInputError(f"cannot write {path}: it is a folder")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise NnkitInputError(f"cannot write {path}: the folder {folder} is not writable")
    if exists:
        try:
            mode = path.stat().st_mode
        except OSError as exc:
            raise NnkitInputError(f"cannot write {path}: {exc.strerror}") from None
        if not os.access(path, os.W_OK) or not mode & 0o222:
            raise NnkitInputError(
                f"refusing to replace {path}: it is read-only (mode {mode & 0o777:o})",
                hint="make it writable (chmod u+w) or write somewhere else",
            )
    return path


class OutputPlan:
    """Every file a command will write, checked together before the first is written (all or nothing).

    A command with several outputs (``-o`` and ``--save-array``, ``--save`` and ``--plot``, one file
    per input) adds each target as soon as it knows it, then writes; a target that cannot be
    written, that two outputs share, or that is one of the inputs (read already, or still to be
    read: ``--data``, ``--resume``) is refused before anything is written.

    Examples
    --------
    >>> plan = OutputPlan(inputs=["k.npz"])
    >>> plan.add("k.npz", "--save")
    Traceback (most recent call last):
    ...
    nnkit.errors.NnkitInputError: --save k.npz is one of the inputs; refusing to overwrite it
    """

    def __init__(self, env: Environment | None = None, inputs=()):
        self.env = env
        self.inputs = [Path(p) for p in inputs if p is not None and str(p) != "-"]
        self.targets: dict[Path, str] = {}

    def add(self, path: str | Path, option: str, suffix: str | None = None, create_folder: bool = False) -> Path:
        """Check one target (``option`` names it in messages; ``suffix`` is the extension it needs)."""
        path = Path(path)
        if suffix is not None and path.suffix.lower() != suffix:
            raise NnkitInputError(f"{option} writes {suffix} files; {path} does not end in {suffix}")
        for source in [*self.inputs, *(self.env.inputs if self.env is not None else [])]:
            if _same_file(source, path):
                raise NnkitInputError(f"{option} {path} is one of the inputs; refusing to overwrite it")
        key = _identity(path)
        if key in self.targets:
            raise NnkitInputError(f"{self.targets[key]} and {option} would both write {path}")
        check_target(path, self.env, create_folder=create_folder)
        self.targets[key] = option
        return path


def check_output_path(path: str | Path, suffix: str, what: str) -> None:
    """Refuse an output path that cannot be written, before a long training run rather than after.

    Parameters
    ----------
    path : str or Path
        Where ``--save`` or ``--plot`` will write.
    suffix : str
        The extension the file needs (``.npz`` or ``.png``).
    what : str
        What is written there, for the message (``models``, ``pictures``).

    Examples
    --------
    >>> check_output_path("model.txt", ".npz", "models")
    Traceback (most recent call last):
    ...
    nnkit.errors.NnkitInputError: models are saved as .npz files; model.txt does not end in .npz
    """
    path = Path(path)
    if path.suffix.lower() != suffix:
        raise NnkitInputError(f"{what} are saved as {suffix} files; {path} does not end in {suffix}")
    check_target(path)


def _identity(path: Path) -> Path:
    try:
        return path.resolve()
    except OSError:
        return path.absolute()


def _same_file(a: Path, b: Path) -> bool:
    try:
        if a.exists() and b.exists():
            return os.path.samefile(a, b)
    except OSError:
        return False
    return _identity(a) == _identity(b)


def _short(path: Path) -> str:
    text = str(path)
    return text if len(text) <= 60 else f"{text[:60]}… ({len(text)} characters)"


@contextmanager
def atomic_write(path: str | Path, env: Environment | None = None) -> Iterator[io.BufferedWriter]:
    """Open ``path`` for binary writing so that it appears whole or not at all.

    The data goes to a temporary file in the same folder, which is renamed over ``path`` only when the
    ``with`` block ends without an exception: an interrupted run never leaves a half-written file, and
    a failed one (a full disk) leaves the old file as it was and no temporary file behind. A system
    error on the way is an input error that names the path and the cause.
    """
    path = check_target(path, env)
    try:
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name[:100]}.", suffix=".part")
    except OSError as exc:
        raise NnkitInputError(f"cannot write {path}: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)  # mkstemp makes 0600 files; give the usual permissions
        os.replace(temporary, path)
    except OSError as exc:
        Path(temporary).unlink(missing_ok=True)
        raise NnkitInputError(f"cannot write {path}: {exc.strerror or exc}") from None
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def array_to_uint8(image: np.ndarray, clip: bool = False) -> np.ndarray:
    """Map a 2-D array to 0..255: min–max scaled, or clipped to 0..1 with ``clip``.

    A constant array maps to all zeros.

    Examples
    --------
    >>> array_to_uint8(np.array([[0.0, 0.5], [1.0, 2.0]]))
    array([[  0,  64],
           [128, 255]], dtype=uint8)
    """
    image = np.asarray(image, dtype=np.float64)
    if not np.all(np.isfinite(image)):
        raise NnkitInputError("cannot write an image of values that are NaN or infinite")
    if clip:
        scaled = np.clip(image, 0.0, 1.0)
    else:
        low, high = (float(image.min()), float(image.max())) if image.size else (0.0, 0.0)
        scaled = (image - low) / (high - low) if high > low else np.zeros_like(image)
    return np.rint(scaled * 255.0).astype(np.uint8)


def write_png(image: np.ndarray, path: str | Path, env: Environment | None = None, clip: bool = False) -> None:
    """Write a 2-D array as an 8-bit grayscale PNG (see :func:`array_to_uint8`), atomically."""
    from PIL import Image

    image = np.asarray(image)
    if image.ndim != 2:
        raise NnkitInputError(f"only a 2-D array can be written as an image; this one has shape {image.shape}")
    picture = Image.fromarray(array_to_uint8(image, clip), mode="L")
    with atomic_write(path, env) as handle:
        picture.save(handle, format="PNG")


def output_format(path: str | Path) -> str:
    """The format ``-o PATH`` writes, from its extension."""
    suffix = Path(path).suffix.lower()
    if suffix not in SUFFIX_FORMATS:
        raise NnkitInputError(
            f"cannot tell what to write to {path} from its extension",
            hint="use one of " + " ".join(SUFFIX_FORMATS),
        )
    return SUFFIX_FORMATS[suffix]


def write_array_file(array: np.ndarray, path: str | Path, env: Environment) -> None:
    """Write ``array`` to ``path`` in the format its extension names (``-o``; docs/conventions.md, "Output")."""
    fmt = output_format(path)
    if fmt == "png":
        write_png(array, path, env)
        return
    data = to_npy_bytes(array) if fmt == "npy" else to_text(array, fmt).encode()
    with atomic_write(path, env) as handle:
        handle.write(data)


# --- the terminal -----------------------------------------------------------------------------------


def _elided(size: int, limit: int) -> list[int | None]:
    """Indices to show along an axis of ``size``; ``None`` marks the elided middle."""
    if size <= limit:
        return list(range(size))
    half = limit // 2
    return [*range(half), None, *range(size - half, size)]


def array_table(
    array: np.ndarray,
    precision: int = 6,
    title: str | None = None,
    row_labels: list[str] | None = None,
    col_labels: list[str] | None = None,
    width: int | None = None,
):
    """A Rich table of a 0-, 1- or 2-D array (large ones elided in the middle, like NumPy).

    With ``width`` (the terminal's), only as many columns as fit are shown, so numbers are never cut.
    """
    from rich.table import Table

    array = np.asarray(array)
    if array.ndim == 0:
        array = array.reshape(1, 1)
        col_labels = col_labels or ["value"]
    elif array.ndim == 1:
        array = array.reshape(1, -1)
    elif array.ndim > 2:
        array = array.reshape(-1, array.shape[-1])
    rows = _elided(array.shape[0], TABLE_MAX_ROWS)
    max_cols = TABLE_MAX_COLS
    if width is not None:
        # "-1.23457e-05" is precision + 6 characters; each column adds 3 for padding and its border.
        max_cols = max(2, min(TABLE_MAX_COLS, (width - 8) // (precision + 9)))
    cols = _elided(array.shape[1], max_cols)
    table = Table(title=title, show_header=True, header_style="bold")
    table.add_column("", style="dim", justify="right")
    for j in cols:
        header = "…" if j is None else (col_labels[j] if col_labels else str(j))
        table.add_column(header, justify="right")
    for i in rows:
        if i is None:
            table.add_row("…", *["…" for _ in cols])
            continue
        label = row_labels[i] if row_labels else str(i)
        table.add_row(label, *["…" if j is None else format_number(array[i, j], precision) for j in cols])
    return table


def is_small_binary(array: np.ndarray, max_cols: int = 60) -> bool:
    """Whether a 2-D/3-D array is small and all zeros and ones (worth drawing as blocks)."""
    array = np.asarray(array)
    return (
        array.ndim in (2, 3)
        and 0 < array.size <= 4000
        and array.shape[-1] <= max_cols
        and bool(np.isin(array, (0, 1)).all())
    )


def blocks(matrix: np.ndarray) -> str:
    """Draw a 0/1 matrix with block characters: ``██`` for 1, ``··`` for 0.

    Examples
    --------
    >>> print(blocks(np.array([[1, 0], [0, 1]])))
    ██··
    ··██
    """
    return "\n".join("".join("██" if value else "··" for value in row) for row in np.asarray(matrix))


#: How many 2-D slices of a 3-D or larger array a terminal shows, at the start and at the end.
TABLE_MAX_SLICES = 6


def render_array(array: np.ndarray, console, precision: int = 6, title: str | None = None) -> None:
    """Show an array on a terminal: a table (one per 2-D slice), and blocks for a small 0/1 matrix."""
    array = np.asarray(array)
    if array.ndim > 2:
        from rich.text import Text

        slices = array.reshape(-1, *array.shape[-2:])
        console.print(Text(f"shape {array.shape}: {len(slices)} slices of {array.shape[-2]}×{array.shape[-1]}"))
        for i in _elided(len(slices), TABLE_MAX_SLICES):
            if i is None:
                console.print(Text("…"))
                continue
            index = np.unravel_index(i, array.shape[:-2])
            label = "[" + ", ".join(str(int(k)) for k in index) + ", :, :]"
            console.print(array_table(slices[i], precision, title=label, width=console.width))
    else:
        console.print(array_table(array, precision, title=title, width=console.width))
    if is_small_binary(array):
        from rich.text import Text

        for matrix in array.reshape(-1, *array.shape[-2:]):
            console.print(Text(blocks(matrix)))
            console.print()


def emit(
    result: np.ndarray,
    env: Environment,
    fmt: str | None = None,
    output: str | None = None,
    precision: int = 6,
    render: Callable | None = None,
) -> None:
    """Hand a command's result to the user, in the one way docs/conventions.md ("Output") describes.

    Parameters
    ----------
    result : array
        What the command computed; machine formats print this and nothing else.
    env : Environment
        The streams.
    fmt : str, optional
        ``-f``; by default ``table`` on a terminal, ``csv`` in a pipe.
    output : str, optional
        ``-o PATH``: also write the result there (format from the extension). Then stdout shows the
        table on a terminal and nothing in a pipe, unless ``-f`` asks for a format.
    precision : int
        Significant digits in tables.
    render : callable, optional
        ``render(console)`` draws the command's own table view instead of the plain array table.
    """
    at_least_one(precision, "--precision")
    chosen = resolve_format(fmt, env)
    if chosen in ("csv", "tsv", "json") or (output is not None and output_format(output) in _SEPARATORS):
        # Text is made in memory: about 64 bytes per number while it is being joined.
        require_array(np.shape(result), 64, f"printing a {shape_text(np.shape(result))} result as text")
    if output is not None:
        write_array_file(result, output, env)
        env.note(f"nnkit: wrote {output}")
        if fmt is None and not env.stdout_isatty:
            return
    if chosen == "table":
        console = env.console()
        if render is not None:
            render(console)
        else:
            render_array(result, console, precision)
    elif chosen == "npy":
        write_stdout_bytes(env, to_npy_bytes(result))
    else:
        write_stdout_bytes(env, to_text(result, chosen).encode())


def write_stdout_bytes(env: Environment, data: bytes) -> None:
    """Write bytes to stdout (through its binary buffer when it has one) and flush."""
    buffer = getattr(env.stdout, "buffer", None)
    try:
        if buffer is not None:
            env.stdout.flush()
            buffer.write(data)
            buffer.flush()
        else:
            env.stdout.write(data.decode())
            env.stdout.flush()
    except BrokenPipeError:
        raise
    except OSError as exc:
        raise NnkitInputError(f"cannot write the result to standard output: {exc.strerror or exc}") from None
