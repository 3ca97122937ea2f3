"""What every command shares: its input and output options, written once.

A command's signature lists the options it takes with these ``Annotated`` aliases, so each option has
one name, one help text and one behaviour everywhere (sqlite-utils' idea, in Typer's idiom):

    def onehot(values: Values = None, input: Input = None, fmt: Format = None, ...):
        env = environment(quiet)
        labels = load_array(values, env, input, ...)
        emit(result, env, fmt, output, precision, render=...)
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
        metavar="RxC",
        show_default=False,
    ),
]
Seed = Annotated[
    int | None,
    typer.Option(
        "--seed",
        help="Seed for --random (the legacy NumPy generator, so 42 gives the course's numbers).",
        show_default=False,
    ),
]

Column = Annotated[
    Literal["vector", "samples"] | None,
    typer.Option(COLUMN_OPTION, help=COLUMN_HELP, show_default=False),
]

# --- output -----------------------------------------------------------------------------------------
Format = Annotated[
    Literal["table", "csv", "tsv", "json", "npy"] | None,
    typer.Option(
        "-f",
        "--format",
        help="Output format. Default: table on a terminal, csv in a pipe. npy writes .npy bytes (not to a terminal).",
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
