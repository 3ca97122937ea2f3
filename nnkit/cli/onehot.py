"""``nnkit onehot``: class labels → one-hot rows, and back with ``--decode``."""

from __future__ import annotations

from typing import Annotated

import numpy as np
import typer

from nnkit.cli.common import Column, Format, Input, Key, Output, Precision, Quiet, emit, environment
from nnkit.course.onehot import decode as decode_rows
from nnkit.course.onehot import encode_labels, one_hot
from nnkit.errors import NnkitInputError
from nnkit.files.arrays import load_array, load_tokens
from nnkit.files.orientation import column_as_vector
from nnkit.term.limits import require_array
from nnkit.term.output import blocks, format_number


def onehot(
    values: Annotated[
        list[str] | None,
        typer.Argument(
            help="Labels: class numbers from 0 (0 2 1) or names (healthy patient healthy). "
            "With --decode: rows of one-hot vectors or probabilities. Without labels, stdin is read.",
            show_default=False,
            metavar="[LABELS]...",
        ),
    ] = None,
    classes: Annotated[
        int | None,
        typer.Option(
            "-c",
            "--classes",
            min=1,
            help="Number of classes (row width). Default: the largest label + 1, or the number of names.",
            show_default=False,
        ),
    ] = None,
    names: Annotated[
        str | None,
        typer.Option(
            "--names",
            help="Class names in class order, comma-separated: healthy,patient. Default for word labels: sorted order.",
            show_default=False,
        ),
    ] = None,
    decode: Annotated[
        bool,
        typer.Option(
            "--decode",
            help="Turn rows (one-hot or probabilities) back into labels: the class of each row's largest value.",
        ),
    ] = False,
    column: Column = None,
    input: Input = None,
    key: Key = None,
    fmt: Format = None,
    output: Output = None,
    precision: Precision = 6,
    quiet: Quiet = False,
) -> None:
    r"""Turn class labels into one-hot vectors (one 1 per row), or decode rows back into labels.

    \b
    Examples:
      nnkit onehot 0 2 1 --classes 3
      nnkit onehot healthy patient healthy           # classes in sorted order
      nnkit onehot healthy patient --names patient,healthy
      nnkit onehot --decode "0.1,0.7,0.2;0.9,0.05,0.05" --names cat,dog,bird
      nnkit onehot --decode "0;0;1;0"                # a one-hot column: 2
    """
    env = environment(quiet)
    name_list = [name.strip() for name in names.split(",")] if names is not None else None
    if decode:
        rows = load_array(values, env, input, key)
        if column_as_vector(rows, env, column, "the input", other=" (each row its own label: all 0)"):
            rows = rows[:, 0]  # the course's one-hot column: one label
        labels = decode_rows(rows)
        if name_list is not None:
            width = rows.shape[-1]
            if len(name_list) != width:
                raise NnkitInputError(f"--names gives {len(name_list)} names for rows of {width} classes")
            result = np.array(name_list)[labels]
        else:
            result = labels
        emit(
            result, env, fmt, output, precision, render=lambda console: _show_decoded(console, rows, result, precision)
        )
        return

    tokens = load_tokens(values, env, input, key)
    if isinstance(tokens, np.ndarray):
        tokens = [str(token) for token in np.asarray(tokens).ravel().tolist()]
    indices, class_names = encode_labels(tokens, name_list)
    if class_names is not None:
        if classes is not None and classes != len(class_names):
            raise NnkitInputError(
                f"--classes {classes} does not match the {len(class_names)} class names {', '.join(class_names)}"
            )
        classes = len(class_names)
    width = classes if classes is not None else int(np.max(indices, initial=-1)) + 1
    rows = f"{len(indices)} one-hot row" + ("s" if len(indices) != 1 else "")
    require_array((len(indices), width), 8 * 2, f"{rows} of {width} classes")
    encoded = one_hot(indices, classes)
    if class_names is not None and name_list is None and not env.stdout_isatty:
        env.note("nnkit: classes: " + ", ".join(f"{i}={name}" for i, name in enumerate(class_names)))
    emit(
        encoded,
        env,
        fmt,
        output,
        precision,
        render=lambda console: _show_encoded(console, tokens, encoded, class_names),
    )


def _show_encoded(console, tokens: list[str], encoded: np.ndarray, class_names: list[str] | None) -> None:
    from rich.table import Table
    from rich.text import Text

    n_classes = encoded.shape[1]
    headers = class_names or [str(i) for i in range(n_classes)]
    table = Table(title=f"one-hot: {len(tokens)} labels × {n_classes} classes", header_style="bold")
    table.add_column("label", justify="right")
    if class_names is not None:
        table.add_column("class", justify="right", style="dim")
    for header in headers:
        table.add_column(header, justify="right")
    table.add_column("", justify="left")
    for token, row in zip(tokens, encoded, strict=True):
        cells = [Text(token)] + ([str(int(np.argmax(row)))] if class_names is not None else [])
        cells += ["[bold green]1[/]" if value else "[dim]0[/]" for value in row]
        cells.append(blocks(row.reshape(1, -1)))
        table.add_row(*cells)
    console.print(table)


def _show_decoded(console, rows: np.ndarray, result: np.ndarray, precision: int) -> None:
    from rich.table import Table
    from rich.text import Text

    rows = rows.reshape(1, -1) if rows.ndim == 1 else rows
    table = Table(title="decoded: the class of each row's largest value", header_style="bold")
    for j in range(rows.shape[1]):
        table.add_column(str(j), justify="right")
    table.add_column("label", justify="right", style="bold")
    for row, label in zip(rows, result, strict=True):
        best = int(np.argmax(row))
        cells = [
            f"[bold]{format_number(value, precision)}[/]" if j == best else format_number(value, precision)
            for j, value in enumerate(row)
        ]
        table.add_row(*cells, Text(str(label)))
    console.print(table)
