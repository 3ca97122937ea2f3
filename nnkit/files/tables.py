r"""The one reader of text tables: ``-i`` arrays, labels, ``--data`` tables and ``predict`` rows.

What a text input may be (the same for a file, stdin and every command):

- **Encoding**: UTF-8, with or without a byte-order mark. Line ends ``\\n``, ``\\r\\n`` or ``\\r``.
  Control characters other than tab (NUL, form feed, escape …) are refused with their line and
  character position: they mean a binary file or a damaged one.
- **Lines**: blank lines, and lines whose first non-blank character is ``#``, are skipped anywhere.
- **Fields**: the delimiter is a tab for ``.tsv``; otherwise the first data line decides: a tab,
  else a comma, else a semicolon, else runs of white space. Delimited fields follow the ``csv``
  module's rules (``"quoted, with commas"`` is one field; a quoted field cannot span lines) and
  lose surrounding spaces. Every row must have as many fields as the first.
- **Header**: the first row is a header of names when a column holds a non-number above a number,
  or when the whole first row is non-numbers and the second row holds a number — and never when one
  of its cells is a number or written like one (``0x1``, ``1_000``, ``1,5``): such a row is data,
  and its malformed numbers are errors rather than a header silently dropped.
- **Numbers**: decimal, as in ``1``, ``-2.5``, ``+.5``, ``1e-3``, ``inf``, ``-Infinity``, ``nan``, in
  ASCII digits. Not numbers: ``0x10``, ``1_000``, ``١٢``, ``1,5``, ``1.5f``, an empty field. Integer
  literals stay integers where the result can keep them.
- **JSON**: a text whose first character is ``[`` (or ``{``) is JSON, as ``-f json`` prints it: a (nested,
  rectangular) list of numbers (or, for labels, of names).

Errors name the source, the line (counted in the file, comments included) and the column (the
field, counted from 1) of the first bad cell.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass

import numpy as np

from nnkit.errors import NnkitInputError, reason

#: A number as nnkit reads it, from the command line and from text (see the module's docstring).
NUMBER = re.compile(r"[+-]?(?:(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|inf(?:inity)?|nan)\Z", re.IGNORECASE)
_NON_INTEGER = re.compile(r"[.eEnNiI]")  # a decimal point, an exponent, nan or inf
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_CONTROL_NAMES = {"\x00": "NUL", "\x1b": "ESC", "\x0c": "form feed", "\x0b": "vertical tab", "\x7f": "DEL"}
#: Deepest JSON nesting read: far beyond any array nnkit prints, far below Python's recursion limit.
_MAX_JSON_DEPTH = 32


def is_number(text: str) -> bool:
    """Whether ``text`` (surrounding spaces aside) is a number nnkit reads.

    Examples
    --------
    >>> [is_number(t) for t in ("-1e-3", " inf", "0x10", "1_000", "")]
    [True, True, False, False, False]
    """
    return NUMBER.match(text.strip()) is not None


def to_number(text: str) -> float | None:
    """``float(text)`` for what :func:`is_number` accepts, else None."""
    return float(text) if is_number(text) else None


def integer_literals(cells) -> bool:
    """Whether every cell is written as an integer (no point, exponent, inf or nan)."""
    return not any(_NON_INTEGER.search(cell) for cell in cells)


@dataclass
class TextTable:
    """A text table: its header (or None) and its data lines, split into fields on demand.

    ``lines`` are ``(line number, text)``; every one has :attr:`width` fields (checked on reading).
    """

    source: str
    header: list[str] | None
    lines: list[tuple[int, str]]
    delimiter: str | None
    width: int

    def split(self, text: str) -> list[str]:
        """The fields of one line."""
        if self.delimiter is None:
            return text.split()
        return [field.strip() for field in next(csv.reader([text], delimiter=self.delimiter, strict=True))]

    @property
    def rows(self) -> list[tuple[int, list[str]]]:
        """``(line number, fields)`` of every data line (Python-level: for small tables and errors)."""
        return [(number, self.split(text)) for number, text in self.lines]

    def column_name(self, j: int) -> str:
        """``"column 3 ('age')"`` for messages."""
        name = f" ({self.header[j]!r})" if self.header is not None and self.header[j] else ""
        return f"column {j + 1}{name}"

    def cell_error(self, line: int, j: int, problem: str, hint: str | None = None) -> NnkitInputError:
        """An input error about the cell at ``line`` (a file line number), column ``j`` (from 0)."""
        return NnkitInputError(f"{self.source} line {line}, {self.column_name(j)}: {problem}", hint=hint)

    def numbers(
        self, columns: list[int] | None = None, hint: str | None = None, missing: frozenset = frozenset()
    ) -> np.ndarray:
        """The cells of ``columns`` (default: all) as a float64 ``(rows, columns)`` array.

        NumPy's C parser converts (its syntax is the one this module describes); when it refuses,
        the first bad cell is found and named with its line and column (``hint`` for it; a cell in
        ``missing``, lower-cased, is called a missing value).
        """
        columns = list(range(self.width)) if columns is None else list(columns)
        if not self.lines or not columns:
            return np.empty((len(self.lines), len(columns)))
        try:
            return np.loadtxt(
                [text for _, text in self.lines],
                delimiter=self.delimiter,
                usecols=columns,
                comments=None,
                quotechar='"' if self.delimiter is not None else None,
                dtype=np.float64,
                ndmin=2,
            )
        except ValueError as exc:
            for line, fields in self.rows:
                for j in columns:
                    cell = fields[j]
                    if cell.lower() in missing:
                        raise self.cell_error(
                            line, j, f"a missing value ({cell!r})", "remove or fill in rows with missing values first"
                        ) from None
                    if not is_number(cell):
                        problem = "an empty cell" if cell == "" else f"not a number: {cell!r}"
                        raise self.cell_error(line, j, problem, hint) from None
            raise NnkitInputError(f"{self.source}: {reason(exc)}") from None

    def strings(self, column: int) -> list[str]:
        """The cells of one column, as text (NumPy's C reader: fast on a 60000-line table)."""
        if not self.lines:
            return []
        cells = np.loadtxt(
            [text for _, text in self.lines],
            delimiter=self.delimiter,
            usecols=[column],
            comments=None,
            quotechar='"' if self.delimiter is not None else None,
            dtype=str,
            ndmin=1,
        )
        return [cell.strip() for cell in cells.tolist()]

    def first_non_finite(self, x: np.ndarray, columns: list[int]) -> NnkitInputError | None:
        """The error naming the first NaN or infinite cell of ``x`` (read from ``columns``), if any."""
        bad = np.argwhere(~np.isfinite(x))
        if bad.size == 0:
            return None
        r, c = bad[0]
        line, fields = self.lines[r][0], self.split(self.lines[r][1])
        return self.cell_error(line, columns[c], f"a value that is not finite ({fields[columns[c]]!r})")


def _lines(text: str, source: str) -> list[tuple[int, str]]:
    """The data lines of ``text`` with their line numbers: no blank or comment lines."""
    text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    control = _CONTROL.search(text)
    if control is not None:
        line = text.count("\n", 0, control.start()) + 1
        position = control.start() - (text.rfind("\n", 0, control.start()) + 1) + 1
        char = control.group()
        name = _CONTROL_NAMES.get(char, f"U+{ord(char):04X}")
        raise NnkitInputError(
            f"{source} line {line}, character {position}: a control character ({name}); not a text table",
            hint="give a text table (CSV, TSV, numbers separated by spaces), a .npy or an .npz file",
        )
    return [
        (number, line)
        for number, line in enumerate(text.split("\n"), start=1)
        if line.strip() and not line.lstrip().startswith("#")
    ]


def sniff_delimiter(line: str, suffix: str = "") -> str | None:
    r"""The delimiter of a table whose first data line is ``line`` (None: white space).

    Examples
    --------
    >>> sniff_delimiter("a;b"), sniff_delimiter("1 2", ".tsv"), sniff_delimiter("1  2")
    (';', '\t', None)
    """
    if suffix == ".tsv" or "\t" in line:
        return "\t"
    for candidate in (",", ";"):
        if candidate in line:
            return candidate
    return None


#: A cell written like a number that nnkit does not read as one: hexadecimal, octal or binary
#: literals, digits with underscores or a decimal comma, digits of other scripts.
_NUMBER_LIKE = re.compile(r"[+-]?(0[xob][0-9a-f_]+|[0-9_]+([.,][0-9_]*)?(e[+-]?[0-9_]+)?|\d+)", re.IGNORECASE)


def _has_header(first: list[str], second: list[str]) -> bool:
    if any(is_number(cell) or _NUMBER_LIKE.fullmatch(cell) for cell in first):
        return False
    names = [not is_number(cell) for cell in first]
    numbers = [is_number(cell) for cell in second]
    return any(n and m for n, m in zip(names, numbers, strict=False)) or (all(names) and any(numbers))


def read_table(text: str, source: str = "input", suffix: str = "", lone_header: bool = True) -> TextTable:
    """Split ``text`` into a :class:`TextTable` by the rules of this module.

    With ``lone_header``, a single line without a number is a header without data (``lines`` is
    empty); without it (labels), that line is data.

    Raises
    ------
    NnkitInputError
        Control characters, bad quoting, or a row of another width than the first (with its line).

    Examples
    --------
    >>> table = read_table("# vitals" + chr(10) + "age,hr" + chr(10) + "61,72" + chr(10) + "45,80")
    >>> table.header, table.rows, table.width
    (['age', 'hr'], [(3, ['61', '72']), (4, ['45', '80'])], 2)
    """
    lines = _lines(text, source)
    if not lines:
        raise NnkitInputError(f"{source} is empty" if not text.strip() else f"{source} holds only comments")
    delimiter = sniff_delimiter(lines[0][1], suffix)
    table = TextTable(source, None, lines, delimiter, 0)
    try:
        if delimiter is None or not any('"' in line for _, line in lines):
            # No quotes: counting delimiters is exact, and fast for a 60000-line table.
            widths = [len(line.split()) if delimiter is None else line.count(delimiter) + 1 for _, line in lines]
        else:
            widths = [len(table.split(line)) for _, line in lines]
        first = table.split(lines[0][1])
        second = table.split(lines[1][1]) if len(lines) > 1 else None
    except csv.Error as exc:
        bad = next(number for number, line in lines if _bad_quoting(table, line))
        raise NnkitInputError(f"{source} line {bad}: {exc}") from None
    if (second is not None and _has_header(first, second)) or (
        second is None and lone_header and not any(is_number(cell) for cell in first)
    ):
        table.header, table.lines, widths = first, lines[1:], widths[1:]
    table.width = widths[0] if table.header is None else len(first)
    for (number, _), width in zip(table.lines, widths, strict=True):
        if width != table.width:
            raise NnkitInputError(
                f"{source} line {number} has {width} fields; line {lines[0][0]} has {table.width}",
                hint="every row of a table needs the same number of fields",
            )
    return table


def _bad_quoting(table: TextTable, line: str) -> bool:
    try:
        table.split(line)
    except csv.Error:
        return True
    return False


def is_json(text: str) -> bool:
    """Whether a text input is JSON (what ``-f json`` prints): it starts with ``[`` (or ``{``)."""
    return text.lstrip("\ufeff \t\r\n").startswith(("[", "{"))


def _depth(value, limit: int) -> int:
    depth = 0
    while isinstance(value, list):
        depth += 1
        if depth > limit or not value:
            break
        value = value[0]
    return depth


def read_json_array(text: str, source: str, names: bool = False) -> np.ndarray:
    """A (nested, rectangular) JSON list of numbers (or of names, with ``names``) as an array.

    Examples
    --------
    >>> read_json_array("[[0.5, 0.25], [1, 2]]", "stdin")
    array([[0.5 , 0.25],
           [1.  , 2.  ]])
    >>> read_json_array("[1, 2, 3]", "stdin")
    array([1, 2, 3])
    """
    import json  # here, not at start-up: most inputs are not JSON

    try:
        value = json.loads(text)
    except RecursionError:
        raise NnkitInputError(f"{source}: the JSON is nested too deeply") from None
    except ValueError as exc:
        raise NnkitInputError(f"{source} is not valid JSON: {exc}") from None
    if isinstance(value, dict):
        raise NnkitInputError(
            f"{source} is a JSON object (a report?), not a list of numbers",
            hint="give an array: a CSV table, a .npy file, or a JSON list as -f json prints it",
        )
    if _depth(value, _MAX_JSON_DEPTH) > _MAX_JSON_DEPTH:
        raise NnkitInputError(f"{source}: the JSON is nested more than {_MAX_JSON_DEPTH} lists deep")
    allowed = (int, float, str) if names else (int, float)
    flat: list = []
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(item)
        elif type(item) not in allowed:
            kind = "a number or a name" if names else "a number"
            raise NnkitInputError(f"{source}: the JSON holds {json.dumps(item)[:40]}, not {kind}")
        else:
            flat.append(item)
    if not flat:
        raise NnkitInputError(f"{source}: the JSON list is empty")
    try:
        if names and any(type(item) is str for item in flat):
            array = np.array(value, dtype=str)
        else:
            array = np.array(value, dtype=np.float64)
    except (ValueError, OverflowError):
        raise NnkitInputError(f"{source}: the JSON lists have different lengths (not a matrix)") from None
    if array.dtype.kind == "f" and all(type(item) is int for item in flat) and np.all(np.abs(array) < 2**53):
        return array.astype(np.int64)
    return array


def read_numbers(text: str, source: str = "input", suffix: str = "") -> np.ndarray:
    """A text table (or JSON) of numbers: ``(cols,)`` for one line, ``(rows, cols)`` otherwise.

    Integer literals give int64; anything else float64.

    Examples
    --------
    >>> read_numbers(chr(10).join(["a,b", "1,2", "3,4"]))
    array([[1, 2],
           [3, 4]])
    >>> read_numbers("0x10,1", "t.csv")
    Traceback (most recent call last):
    ...
    nnkit.errors.NnkitInputError: t.csv line 1, column 1: not a number: '0x10'
    """
    if is_json(text):
        return read_json_array(text, source)
    table = read_table(text, source, suffix)
    if not table.lines:
        raise NnkitInputError(f"{source} has a header but no rows of numbers")
    array = table.numbers()
    if integer_literals(text for _, text in table.lines) and np.all(np.abs(array) < 2**53):
        array = array.astype(np.int64)
    return array[0] if array.shape[0] == 1 else array


def read_words(text: str, source: str = "input") -> list[str]:
    """Labels from text: the cells of a table row by row (a header above numbers skipped), or JSON.

    Examples
    --------
    >>> read_words("# diagnoses" + chr(10) + "healthy,patient" + chr(10) + "healthy")
    Traceback (most recent call last):
    ...
    nnkit.errors.NnkitInputError: input line 3 has 1 fields; line 2 has 2
    >>> read_words("label" + chr(10) + "0" + chr(10) + "2")
    ['0', '2']
    """
    if is_json(text):
        array = read_json_array(text, source, names=True)
        return [str(item) for item in array.ravel().tolist()]
    table = read_table(text, source, lone_header=False)
    return [cell for _, fields in table.rows for cell in fields]


def parse_stream_text(data: bytes, source: str) -> str:
    """Bytes of a text input as text (UTF-8), or an input error saying it is not text."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise NnkitInputError(
            f"{source} is neither text (UTF-8; byte {exc.start} on line {line} is not) nor a .npy/.npz file",
            hint="images are read by convolve, pool and reshape",
        ) from None

