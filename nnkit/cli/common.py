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
ReportFormat = Annotated[
    Literal["table", "json"] | None,
    typer.Option("-f", "--format", help="table (default on a terminal) or json (default in a pipe).",
                 show_default=False),
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
    typer.Option("-o", "--output", help="Also write the whole report to this .json file.", metavar="PATH.json",
                 show_default=False),
]
Precision = Annotated[
    int,
    typer.Option("--precision", min=1, max=17, help="Significant digits in tables (CSV and JSON keep full precision)."),
]
Quiet = Annotated[bool, typer.Option("-q", "--quiet", help="Print the result only: no notes on stderr.")]


def environment(quiet: bool = False) -> Environment:
    """The streams of this run (see :class:`nnkit.term.env.Environment`)."""
    return Environment.from_sys(quiet=quiet)


def emit_report(env: Environment, report: dict, chosen: str, output: str | None, show) -> None:
    """A command's report: to ``-o PATH.json`` if asked, then as JSON or as its table view.

    JSON with ``-f json`` (the default in a pipe), else ``show(console)`` (a terminal, ``-f table``).
    """
    import json

    from nnkit.term.output import atomic_write, write_stdout_bytes

    text = (json.dumps(report) + "\n").encode()
    if output is not None:
        with atomic_write(output, env) as handle:
            handle.write(text)
        env.note(f"nnkit: wrote {output}")
    if chosen == "json":
        write_stdout_bytes(env, text)
    else:
        show(env.console())
