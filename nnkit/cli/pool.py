"""``nnkit pool``: the course's max pooling (and mean, min, median, sum) of a feature map or image."""

from __future__ import annotations

from typing import Annotated, Literal

import typer

from nnkit.cli.common import Format, Precision, Quiet, environment, old_spelling, renamed
from nnkit.cli.convolve import (
    Clip,
    ImageInput,
    ImageOutput,
    Images,
    Plot,
    SaveArray,
    Slice,
    check_inputs,
    deliver,
    orientation_rows,
    sources_of,
    summary_table,
)
from nnkit.course.image_pooling import pool, pool_output_shape
from nnkit.errors import NnkitInputError
from nnkit.files.images import load_image


def pool_command(
    images: Images = None,
    input: ImageInput = None,
    size: Annotated[
        str | None,
        typer.Option("--size", help="Window size: 5 (5×5) or 2,3 (rows,columns).", show_default=False),
    ] = None,
    size_k: old_spelling("-k") = None,
    stride: Annotated[
        str | None,
        typer.Option(help="Step between windows: N or ROWS,COLS. Default: the size (non-overlapping "
                     "blocks); smaller overlaps the windows.", show_default=False),
    ] = None,
    op: Annotated[
        Literal["max", "mean", "min", "median", "sum"],
        typer.Option(help="How each window is reduced (max pooling is the course's)."),
    ] = "max",
    edge: Annotated[
        Literal["keep", "drop"],
        typer.Option(help="keep: a partial window at the bottom/right edge is reduced over its real "
                     "pixels only (398×336 → 80×68 with 5×5, as in the course; unlike "
                     "skimage's block_reduce a partial mean is not pulled towards zero padding). "
                     "drop: discard partial windows."),
    ] = "keep",
    slice_spec: Slice = None,
    output: ImageOutput = None,
    save_array: SaveArray = None,
    plot: Plot = None,
    clip: Clip = False,
    fmt: Format = None,
    precision: Precision = 6,
    quiet: Quiet = False,
) -> None:
    r"""Pool an image or feature map: the largest (or mean, …) value of each window, as in the course.

    \b
    Examples:
      nnkit pool "1,2,3,4;5,6,7,8;9,10,11,12;13,14,15,16" --size 2   # → 6,8;14,16
      nnkit pool feature.npy --size 5 -o pooled.png
      nnkit convolve samples/brain.png --filter identity -f npy \
        | nnkit pool - --size 5 -o pooled.png        # 398×336 → 80×68
      nnkit pool feature.npy --size 2,3 --stride 1 --op mean -f npy > p.npy
      nnkit pool feature.npy --size 5 --plot pool.png   # before and after
    """
    env = environment(quiet)
    size = renamed(env, "-k", "--size", size_k, size)
    if size is None:
        raise NnkitInputError("--size is required: the window, e.g. --size 5 or --size 2,3")
    sizes = _pair("--size", size)
    strides = None if stride is None else _pair("--stride", stride)
    sources = sources_of([*(images or []), *([input] if input is not None else [])], output, save_array, fmt, plot)
    check_inputs(env, sources, slice_spec, lambda array: pool_output_shape(array.shape, sizes, strides, edge))
    for source in sources:
        array = load_image(source, env, slice_spec)
        pooled = pool(array, sizes, strides, op=op, edge=edge)
        if plot is not None:
            from nnkit.plots.image_ops import plot_pooling

            plot_pooling(plot, source, array, pooled, sizes, strides or sizes, op,
                         orientation=env.orientations.get(source), env=env)
            env.note(f"nnkit: wrote {plot}")
        deliver(env, source, pooled, output, save_array, clip, fmt, precision,
                render=lambda console, array=array, pooled=pooled, source=source: _summary(
                    console, source, array, pooled, sizes, strides or sizes, op, edge, precision,
                    env.orientations.get(source)))


def _pair(option: str, text: str) -> tuple[int, int]:
    parts = text.replace("x", ",").replace("×", ",").split(",")
    try:
        values = [int(part) for part in parts]
    except ValueError:
        raise NnkitInputError(f"{option} takes N or ROWS,COLS of integers, got {text!r}") from None
    if len(values) not in (1, 2):
        raise NnkitInputError(f"{option} takes N or ROWS,COLS, got {text!r}")
    return (values[0], values[-1])


def _summary(console, source, array, pooled, sizes, strides, op, edge, precision, orientation=None) -> None:
    rows = [
        *orientation_rows(orientation),
        ("input shape", f"{array.shape[0]} × {array.shape[1]}"),
        ("window / stride", f"{sizes[0]}×{sizes[1]} / {strides[0]},{strides[1]}, edge {edge}"),
        ("pooled shape", f"{pooled.shape[0]} × {pooled.shape[1]}"),
    ]
    summary_table(console, f"{op} pooling of {source}", rows, pooled, precision)
