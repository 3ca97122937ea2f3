"""``nnkit reshape``: reshape arrays and images, flatten images into rows, and the course's digits."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import numpy as np
import typer

from nnkit.cli.common import (
    Format,
    Input,
    Key,
    Output,
    Precision,
    Quiet,
    Random,
    Seed,
    emit,
    environment,
    plot_option,
    renamed,
)
from nnkit.course.reshaping import DIGITS, flatten
from nnkit.course.reshaping import reshape as reshape_array
from nnkit.errors import NnkitInputError
from nnkit.files.arrays import load_array, parse_shape, path_exists, read_input_file
from nnkit.term.output import blocks, render_array


def _is_image(path: str) -> bool:
    from nnkit.files.images import IMAGE_SUFFIXES

    return path.lower().endswith(tuple(IMAGE_SUFFIXES))


def _looks_like_path(values: list[str]) -> bool:
    if len(values) != 1:
        return False
    word = values[0].strip()
    return path_exists(word) or _is_image(word) or word.lower().endswith((".npy", ".npz", ".csv", ".tsv", ".txt"))


def reshape(
    values: Annotated[
        list[str] | None,
        typer.Argument(
            help='Numbers (1 2 3 4 or "1,2;3,4"), or one IMAGE or array file (.png .jpg .tif .bmp .nii .dcm '
            ".npy .csv …). Without them, --input, --random or stdin.",
            show_default=False,
            metavar="[VALUES…|IMAGE]",
        ),
    ] = None,
    shape: Annotated[
        str | None,
        typer.Option(
            "-s",
            "--shape",
            help="The new shape, e.g. 2,3 or 1,-1 (one -1 is worked out from the others, as in NumPy).",
            show_default=False,
        ),
    ] = None,
    flatten_rows: Annotated[
        bool,
        typer.Option("--flatten", help="One row per sample: (N, H, W) → (N, H·W); an image → one row."),
    ] = False,
    digits: Annotated[
        bool,
        typer.Option(
            "--digits",
            help="Show the course's six 5×4 digit patterns (0–5) and their 6×20 one-row-per-digit form; --plot PATH.png draws them.",
        ),
    ] = False,
    slice_spec: Annotated[
        str | None,
        typer.Option(
            "--slice",
            help="For a 3-D volume (NIfTI, DICOM): axial:80, coronal:…, sagittal:… or AXIS:INDEX of the "
            "RAS+ volume, shown radiologically (anterior or superior up, the patient's right on the "
            "left). Default: the middle axial slice.",
            metavar="PLANE:INDEX",
            show_default=False,
        ),
    ] = None,
    input: Input = None,
    key: Key = None,
    random: Random = None,
    seed: Seed = 0,
    plot: plot_option("--digits: draw the digit patterns and their one-row form") = None,
    fmt: Format = None,
    output: Output = None,
    precision: Precision = 6,
    quiet: Quiet = False,
) -> None:
    r"""Reshape an array or image with NumPy's rules, or flatten images into one row each.

    \b
    Examples:
      nnkit reshape 1 2 3 4 5 6 --shape 2,3
      nnkit reshape 1 2 3 4 5 6 --shape -1,2         # -1: worked out (3×2)
      nnkit reshape --digits                         # the course's digits, 6×20
      nnkit reshape --digits --plot digits.png
      nnkit reshape samples/brain.png --flatten -f npy > brain_row.npy
    """
    env = environment(quiet)
    chosen = sum([shape is not None, flatten_rows, digits])
    if chosen != 1:
        raise NnkitInputError("give exactly one of --shape, --flatten and --digits")

    if digits:
        if values or input is not None or random is not None:
            raise NnkitInputError("--digits uses the course's own patterns; give no other input")
        rows = flatten(DIGITS)
        if output is not None and output.lower().endswith(".png"):  # the old spelling of --plot
            plot = renamed(env, "--digits -o PATH.png", "--plot PATH.png", output, plot)
            output = None
        if plot is not None:
            from nnkit.plots.figures import digits_figure, save_figure

            save_figure(digits_figure(DIGITS, rows), plot, env)
            env.note(f"nnkit: wrote {plot}")
            if output is None and fmt is None and not env.stdout_isatty:
                return
        emit(rows, env, fmt, output, precision, render=lambda console: _show_digits(console, rows))
        return

    if values and _looks_like_path(values):
        path = values[0].strip()
        if _is_image(path):
            from nnkit.files.images import read_image

            array = read_image(path, slice_spec)
            env.inputs.append(Path(path))
        else:
            array = read_input_file(path, env, key)
            if slice_spec is not None:  # a 3-D .npy or table: the slice is taken, never ignored
                from nnkit.files.images import take_slice

                array = take_slice(array, slice_spec, path)
    else:
        if slice_spec is not None:
            raise NnkitInputError("--slice applies to image volumes (.nii, .dcm) only")
        array = load_array(values, env, input, key, random, seed)

    if plot is not None:
        raise NnkitInputError("--plot draws the course's digits: use it with --digits")
    result = flatten(array) if flatten_rows else reshape_array(array, parse_shape(shape))
    emit(result, env, fmt, output, precision, render=lambda console: _show_reshaped(console, array, result, precision))


def _show_reshaped(console, before: np.ndarray, after: np.ndarray, precision: int) -> None:
    from rich.text import Text

    console.print(Text(f"shape {before.shape} → {after.shape}  ({after.size} values, same order)", style="bold"))
    render_array(after, console, precision)


def _show_digits(console, rows: np.ndarray) -> None:
    from rich.text import Text

    console.print(Text("The course's digits, each a 5×4 matrix (█ = 1):", style="bold"))
    pictures = [blocks(digit).splitlines() for digit in DIGITS]
    console.print(Text("   ".join(f"{i:<8}" for i in range(len(DIGITS)))))
    for line in zip(*pictures, strict=True):
        console.print(Text("   ".join(line)))
    console.print()
    console.print(Text(f"reshape({DIGITS.shape[0]}, -1): one row of {rows.shape[1]} pixels per digit:", style="bold"))
    for i, row in enumerate(rows):
        console.print(Text(f"{i}  {blocks(row.reshape(1, -1))}"))
