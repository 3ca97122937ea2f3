"""What every command shares: the one option vocabulary of nnkit, written once.

A command's signature lists the options it takes with these ``Annotated`` aliases, so each option has
one name, one help text and one behaviour everywhere (sqlite-utils' idea, in Typer's idiom):

    def onehot(values: Values = None, input: Input = None, fmt: Format = None, ...):
        env = environment(quiet)
        labels = load_array(values, env, input, ...)
        emit(result, env, fmt, output, precision, render=...)

The vocabulary (docs/conventions.md, "Options"): ``-i/--input PATH`` reads an array (``-`` is stdin);
``-o/--output PATH`` writes the result; ``-f/--format`` with ``table`` on a terminal and, in a pipe,
CSV for arrays (:data:`Format`) and JSON for reports (:data:`ReportFormat`); ``--plot PATH.png`` for
every picture; ``--random SHAPE`` with ``--seed N`` (default 0 everywhere); ``--precision N``;
``--hidden 256,128`` or ``--hidden none``; ``--progress none|bar|lines``; ``-q/--quiet``. An old
spelling keeps working for one release through :func:`old_spelling` and :func:`renamed`, with a note on
stderr; tests/cli/test_dialect.py fails when two commands spell one meaning differently.
"""

from __future__ import annotations

from typing import Annotated, Literal

import typer

from nnkit.files.orientation import COLUMN_HELP, COLUMN_OPTION
from nnkit.term.env import Environment

# --- input ------------------------------------------------------------------------------------------
Values = Annotated[
    list[str] | None,
    typer.Argument(
        help='Numbers: 1 -2 3 (negative numbers need no "--"), or a matrix "1,2;3,4". '
        "Without numbers or --input, stdin is read.",
        show_default=False,
        metavar="[VALUES]...",
    ),
]
Input = Annotated[
    str | None,
    typer.Option(
        "-i",
        "--input",
        help="Read the array from a file: .csv .tsv .txt (a header row is skipped), .npy, .npz; - for stdin.",
        metavar="PATH",
        show_default=False,
    ),
]
Key = Annotated[
    str | None,
    typer.Option("--key", help="The array to take from an .npz file (default: its only array).", show_default=False),
]
Random = Annotated[
    str | None,
    typer.Option(
        "--random",
        help="Use a random normal array of this shape, as the course does: np.random.seed(SEED); np.random.randn(R, C).",
        metavar="SHAPE",
        show_default=False,
    ),
]
Seed = Annotated[
    int,
    typer.Option(
        "--seed",
        min=0,
        max=2**32 - 1,
        help="Seed of everything random in the run (--random arrays, weights, splits, shuffles): the same "
        "seed gives the same numbers. --random uses the legacy NumPy generator, so 42 gives the course's.",
    ),
]

Column = Annotated[
    Literal["vector", "samples"] | None,
    typer.Option(COLUMN_OPTION, help=COLUMN_HELP, show_default=False),
]

# --- output -----------------------------------------------------------------------------------------
#: What a pipe gets: arrays as CSV, reports as JSON (a terminal gets a table either way).
PIPE_RULE = "Default: table on a terminal; in a pipe, CSV for arrays and JSON for reports."
Format = Annotated[
    Literal["table", "csv", "tsv", "json", "npy"] | None,
    typer.Option(
        "-f",
        "--format",
        help="Output format of the array. Default: table on a terminal, CSV in a pipe. npy writes .npy "
        "bytes (not to a terminal).",
        show_default=False,
    ),
]
ReportFormat = Annotated[
    Literal["table", "json", "csv", "tsv"] | None,
    typer.Option(
        "-f",
        "--format",
        help="Output format of the report. Default: table on a terminal, JSON in a pipe; csv/tsv print "
        "the report's main table with a header row.",
        show_default=False,
    ),
]
MapsFormat = Annotated[
    Literal["table", "json", "csv", "tsv", "npy"] | None,
    typer.Option(
        "-f",
        "--format",
        help="table (default on a terminal) or json: the report with every map (default in a pipe); "
        "csv, tsv or npy: the one map of --method, as an array.",
        show_default=False,
    ),
]
Output = Annotated[
    str | None,
    typer.Option(
        "-o",
        "--output",
        help="Also write the result to this file, the format chosen by its extension: .csv .tsv .txt .json .npy .png.",
        metavar="PATH",
        show_default=False,
    ),
]
ReportOutput = Annotated[
    str | None,
    typer.Option(
        "-o",
        "--output",
        help="Also write the report to this file, the format chosen by its extension: .json (the whole "
        "report) or .csv .tsv (its main table).",
        metavar="PATH",
        show_default=False,
    ),
]


def plot_option(what: str):
    """``--plot PATH.png``: the one spelling of every picture, with what this command draws."""
    return Annotated[
        str | None,
        typer.Option("--plot", help=f"{what} (.png).", metavar="PATH.png", show_default=False),
    ]


def hidden_option(default: str):
    """``--hidden SIZES``: hidden layer sizes as one comma list, or ``none`` (see :func:`parse_hidden`)."""
    return Annotated[
        str | None,
        typer.Option(
            "--hidden",
            help=f"Hidden layer sizes as one comma list with no spaces, 256,128 (default {default}); "
            "'none' for no hidden layer.",
            metavar="SIZES",
            show_default=False,
        ),
    ]


def parse_hidden(text: str) -> list[int]:
    """``"128,64"`` → ``[128, 64]``; ``""`` or ``"none"`` → no hidden layer.

    Examples
    --------
    >>> parse_hidden("256,128"), parse_hidden("none")
    ([256, 128], [])
    """
    from nnkit.errors import NnkitInputError

    if text.strip().lower() in ("", "none", "0"):
        return []
    sizes = []
    for item in text.split(","):
        try:
            size = int(item)
        except ValueError:
            raise NnkitInputError(f"--hidden takes sizes like 128,64 or none, got {text!r}") from None
        if size < 1:
            raise NnkitInputError(f"--hidden sizes must be at least 1, got {size}")
        sizes.append(size)
    return sizes


Progress = Annotated[
    Literal["none", "bar", "lines"] | None,
    typer.Option(
        "--progress",
        help="While training: bar (a per-batch bar and one kept line per epoch; the default on a "
        "terminal), lines (one line per epoch on stderr, for log files) or none (the default when "
        "stderr is not a terminal).",
        show_default=False,
    ),
]
Precision = Annotated[
    int,
    typer.Option("--precision", min=1, max=17, help="Significant digits in tables (CSV and JSON keep full precision)."),
]
Quiet = Annotated[bool, typer.Option("-q", "--quiet", help="Print the result only: no notes on stderr.")]
#: Default of --maps (nnkit.plots.conv_maps.DEFAULT_MAPS, repeated here so --help imports no plotting).
DEFAULT_MAPS = 8
Maps = Annotated[
    int,
    typer.Option(
        "--maps",
        min=1,
        max=64,
        metavar="N",
        help="Pictures of conv layers: draw N feature maps of each layer (the most active ones) and the "
        "first layer's filters of the same channels.",
    ),
]


def environment(quiet: bool = False) -> Environment:
    """The streams of this run (see :class:`nnkit.term.env.Environment`)."""
    return Environment.from_sys(quiet=quiet)


# --- output -----------------------------------------------------------------------------------------
def emit(result, env: Environment, fmt: str | None = None, output: str | None = None, precision: int = 6,
         render=None) -> None:
    """:func:`nnkit.term.output.emit`, with ``-o x.png`` drawn by the array-as-picture rule.

    A small array becomes a labelled heat map with its numbers, a large one keeps one pixel per value
    (:mod:`nnkit.plots.arrays`).
    """
    from nnkit.term.output import emit as emit_result

    emit_result(result, env, fmt, output, precision, render=render, picture=_array_picture)


def _array_picture(array, path, env: Environment) -> None:
    from nnkit.plots.arrays import write_array_picture

    write_array_picture(array, path, env)


def old_spelling(name: str, *more: str, flag: bool = False):
    """A hidden option keeping an old spelling working for one release (see :func:`renamed`)."""
    if flag:
        return Annotated[bool, typer.Option(name, *more, hidden=True)]
    return Annotated[str | None, typer.Option(name, *more, hidden=True, show_default=False)]


def renamed(env: Environment, old: str, new: str, old_value, new_value):
    """The value of ``new``, taken from its old spelling ``old`` when only that was given (with a note).

    Examples
    --------
    >>> import io
    >>> env = Environment(None, None, io.StringIO(), False, False, False)
    >>> renamed(env, "--features", "--plot", "maps.png", None)
    'maps.png'
    >>> print(env.stderr.getvalue(), end="")
    nnkit: note: --features is now --plot; the old spelling goes in the next release
    """
    if old_value is None or old_value is False:
        return new_value
    if new_value is not None and new_value is not False:
        from nnkit.errors import NnkitInputError

        raise NnkitInputError(f"give {new} once: {old} is its old spelling")
    print(f"nnkit: note: {old} is now {new}; the old spelling goes in the next release", file=env.stderr, flush=True)
    return old_value
