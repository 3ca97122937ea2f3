"""``nnkit convolve``: the course's convolution of an image with a filter, on real images."""

from __future__ import annotations

from typing import Annotated, Literal

import numpy as np
import typer

from nnkit.cli.common import Format, Precision, Quiet, environment
from nnkit.cli.completion import complete_names
from nnkit.course.filters import FILTERS, make_filter
from nnkit.course.image_convolution import (
    EXAMPLE_IMAGE,
    EXAMPLE_KERNEL,
    check_fits,
    convolve,
    pad_input,
    padding,
    patch_walkthrough,
)
from nnkit.errors import NnkitInputError
from nnkit.files.arrays import parse_numbers, read_input_file
from nnkit.files.images import (
    check_distinct_names,
    expand_inputs,
    is_folder_target,
    load_image,
    output_targets,
    write_feature_map,
)
from nnkit.term.output import (
    TABLE_MAX_COLS,
    TABLE_MAX_ROWS,
    OutputPlan,
    array_table,
    check_output_path,
    emit,
    format_number,
    resolve_format,
    write_stdout_bytes,
)

# --- options shared with ``nnkit pool`` ---------------------------------------------------------------
Images = Annotated[
    list[str] | None,
    typer.Argument(
        help="Images (.png .jpg .tif .bmp; .nii .nii.gz .dcm with nnkit-cli[medical]), .npy/.csv arrays, "
        'folders or globs, or a small matrix typed in: "1,2,3;4,5,6;7,8,9"; - reads .npy bytes (or a '
        "picture) from stdin.",
        show_default=False,
        metavar="IMAGE…",
    ),
]
ImageInput = Annotated[
    str | None,
    typer.Option(
        "-i",
        "--input",
        help="Read the image or array from this file (as an IMAGE argument); - for stdin.",
        metavar="PATH",
        show_default=False,
    ),
]
Slice = Annotated[
    str | None,
    typer.Option(
        "--slice",
        help="For a 3-D volume: axial:80, coronal:116 or sagittal:98 (a plane alone: its middle slice), "
        "or AXIS:INDEX. NIfTI is read in RAS+ order (axis 0 sagittal, 1 coronal, 2 axial, from the "
        "affine) and every slice is shown radiologically: anterior (axial) or superior up, the "
        "patient's right on the image's left. Default: the middle axial slice; DICOM: the middle "
        "frame, turned by ImageOrientationPatient. A 3-D .npy needs AXIS:INDEX (as stored, not turned).",
        metavar="PLANE:INDEX",
        show_default=False,
    ),
]
ImageOutput = Annotated[
    str | None,
    typer.Option(
        "-o",
        "--output",
        help="Write the result: .png (8-bit, min–max scaled; see --clip), or .npy .csv .tsv .txt .json. "
        "A folder (DIR/) gets one <input name>.png per input.",
        metavar="PATH",
        show_default=False,
    ),
]
SaveArray = Annotated[
    str | None,
    typer.Option(
        "--save-array",
        help="Also keep the raw float64 values as .npy (a folder DIR/ gets one per input).",
        metavar="PATH.npy",
        show_default=False,
    ),
]
Plot = Annotated[
    str | None,
    typer.Option(
        "--plot",
        help="Draw the input, the kernel (pool: one window) and the result side by side to this PNG, "
        "each with its shape and a colour bar (signed maps: red > 0, blue < 0, white = 0). For one "
        "input; -o stays the exact 8-bit map.",
        metavar="PATH.png",
        show_default=False,
    ),
]
Clip = Annotated[
    bool,
    typer.Option("--clip", help="PNG output: clip values to 0..1 instead of min–max scaling."),
]


def _filter_help() -> str:
    return "Named filter: " + ", ".join(FILTERS) + " (see --list-filters)."


def convolve_command(
    images: Images = None,
    input: ImageInput = None,
    filter_name: Annotated[
        str | None,
        typer.Option(
            "--filter",
            help=_filter_help(),
            metavar="NAME",
            show_default=False,
            autocompletion=complete_names(FILTERS, lambda entry: entry.description),
        ),
    ] = None,
    kernel_text: Annotated[
        str | None,
        typer.Option("--kernel", help='Your own kernel: "1,0,-1;2,0,-2;1,0,-1" (rows split by ;).',
                     show_default=False),
    ] = None,
    kernel_file: Annotated[
        str | None,
        typer.Option("--kernel-file", help="Read the kernel from .csv .txt .npy.", metavar="PATH",
                     show_default=False),
    ] = None,
    list_filters: Annotated[
        bool, typer.Option("--list-filters", help="Print every named filter with its matrix, then exit.")
    ] = False,
    mode: Annotated[
        Literal["valid", "same", "full"],
        typer.Option(help="Output size, as scipy.signal.convolve2d: valid (no padding, the course's), "
                     "same (as the input) or full."),
    ] = "valid",
    boundary: Annotated[
        Literal["fill", "wrap", "symm"],
        typer.Option(help="Beyond the edges (same/full): fill with --fillvalue, wrap around, or mirror."),
    ] = "fill",
    fillvalue: Annotated[float, typer.Option(help="The value outside the image with --boundary fill.")] = 0.0,
    stride: Annotated[int, typer.Option(help="Keep every N-th output row and column.")] = 1,
    correlate: Annotated[
        bool,
        typer.Option("--correlate", help="Cross-correlation (no kernel flip, what CNN layers compute) "
                     "instead of true convolution."),
    ] = False,
    size: Annotated[
        int | None, typer.Option(help="Size of box, delta and gaussian kernels.", show_default=False)
    ] = None,
    sigma: Annotated[
        float | None, typer.Option(help="Standard deviation of the gaussian filter (default 1).",
                                   show_default=False)
    ] = None,
    example: Annotated[
        bool,
        typer.Option("--example", help="Use the course's 5×5 example image of 0s and 1s (3-2) instead of an "
                     "IMAGE, and its 3×3 filter unless --filter or --kernel is given."),
    ] = False,
    patch: Annotated[
        str | None,
        typer.Option("--patch", help="Walk through one output value as the course does: the patch under "
                     "the kernel, its product with the (flipped) kernel, the sum; 'all' walks every "
                     "position in turn (at most 64), stride included. ROW,COL of the output "
                     "(in valid mode the patch's top-left pixel: 22,102 is the course's brain[22:25, 102:105], "
                     "background on samples/brain.png; 150,60 is the brain's edge; with --stride, of "
                     "the strided map).",
                     metavar="ROW,COL", show_default=False),
    ] = None,
    slice_spec: Slice = None,
    output: ImageOutput = None,
    save_array: SaveArray = None,
    plot: Plot = None,
    clip: Clip = False,
    fmt: Format = None,
    precision: Precision = 6,
    quiet: Quiet = False,
) -> None:
    r"""Convolve images with a filter: the feature maps of a CNN's first layer, as in the course.

    \b
    Examples:
      nnkit convolve samples/brain.png --filter identity -o feature.png
      nnkit convolve samples/brain.png --filter identity --patch 150,60
      nnkit convolve samples/brain.png --filter sobel-x --mode same -o edges.png
      nnkit convolve samples/brain.png --filter sobel-x --plot sobel.png
      nnkit convolve samples/brain.png --filter identity -f npy > feature.npy
      nnkit convolve "1,2,3;4,5,6;7,8,9" --kernel "1,0;0,-1"   # shown in full
      nnkit convolve --list-filters
      nnkit convolve --example --patch all   # the course's 5×5 image and filter
      nnkit convolve --example --mode same --plot zero_padding.png

    --patch 150,60 lies in the brain on the shipped samples/brain.png (400×338, the course's size);
    the course's own --patch 22,102, brain[22:25, 102:105], is a position of the course's image.
    """
    env = environment(quiet)
    if list_filters:
        _list_filters(env, fmt, precision, size, sigma)
        return
    given = [*(images or []), *([input] if input is not None else [])]
    kernel, filter_name = _kernel_of(env, example, given, filter_name, kernel_text, kernel_file, size, sigma)
    options = {"mode": mode, "boundary": boundary, "fillvalue": fillvalue, "correlate": correlate}
    sources = sources_of(given, output, save_array, fmt, plot, example=example)
    how = "cross-correlation" if correlate else "convolution"

    def load(source):
        return EXAMPLE_IMAGE.copy() if example else load_image(source, env, slice_spec)

    def draw(source, image, feature, walk=None):
        if plot is not None:
            from nnkit.plots.image_ops import plot_convolution

            plot_convolution(plot, source, image, kernel, feature, kernel_name=filter_name or "your kernel",
                             how=how, mode=mode, stride=stride, orientation=env.orientations.get(source),
                             patch=walk, env=env,
                             padded=None if mode == "valid" else pad_input(image, kernel.shape, **options),
                             pads=padding(kernel.shape, mode, correlate),
                             padding_name=_padding_name(boundary, fillvalue, japanese=False))
            env.note(f"nnkit: wrote {plot}")

    if patch is not None:
        if len(sources) > 1:
            raise NnkitInputError("--patch walks through one image; give one IMAGE")
        image = load(sources[0])
        if fmt not in (None, "table", "json"):
            raise NnkitInputError("--patch prints a walk-through (a report): use the table view or -f json")
        fmt = resolve_format(fmt, env, report=True)  # a report: JSON in a pipe
        feature = convolve(image, kernel, stride=stride, **options)
        boundary_text = f"fill {fillvalue:g}" if boundary == "fill" else boundary
        if patch.strip().lower() == "all":
            positions = [(r, c) for r in range(feature.shape[0]) for c in range(feature.shape[1])]
            if len(positions) > 64:
                raise NnkitInputError(f"--patch all walks every position: {len(positions)} is too many (at most 64)",
                                      hint="use --example, a small array, or --patch ROW,COL")
            walks = [patch_walkthrough(image, kernel, r, c, stride=stride, **options) for r, c in positions]
            for path in write_feature_map(feature, sources[0], env, output, save_array, clip):
                env.note(f"nnkit: wrote {path}")
            draw(sources[0], image, feature)
            _show_all_patches(env, fmt, image, kernel, feature, walks, positions, mode, stride, precision,
                              options)
            return
        row, col = _parse_position(patch)
        walk = patch_walkthrough(image, kernel, row, col, stride=stride, **options)
        for path in write_feature_map(feature, sources[0], env, output, save_array, clip):
            env.note(f"nnkit: wrote {path}")
        draw(sources[0], image, feature, {**walk, "position": (row, col)})
        _show_patch(env, fmt, image, feature, walk, row, col, precision, boundary_text)
        return
    check_inputs(env, sources, slice_spec, lambda image: check_fits(image.shape, kernel.shape, mode))
    for source in sources:
        image = load(source)
        feature = convolve(image, kernel, stride=stride, **options)
        draw(source, image, feature)
        deliver(env, source, feature, output, save_array, clip, fmt, precision,
                render=lambda console, image=image, feature=feature, source=source: _summary(
                    console, source, image, feature, kernel, filter_name, options, stride, precision,
                    env.orientations.get(source)))


def check_inputs(env, sources, slice_spec, check) -> None:
    """With several inputs, read and check each before anything is written (all or nothing)."""
    if len(sources) > 1:
        for source in sources:
            check(load_image(source, env, slice_spec))


def deliver(env, source, result, output, save_array, clip, fmt, precision, render) -> None:
    """Write one input's result to the files asked for, then show it (or print it in a pipe)."""
    files = output is not None or save_array is not None
    quiet_pipe = files and fmt is None and not env.stdout_isatty
    if not quiet_pipe:
        resolve_format(fmt, env)  # refuses -f npy on a terminal before anything is written
    for path in write_feature_map(result, source, env, output, save_array, clip):
        env.note(f"nnkit: wrote {path}")
    if quiet_pipe:
        return
    emit(result, env, fmt, None, precision, render=render)


#: The name ``--example`` stands under in messages and as the stem of folder outputs.
EXAMPLE_SOURCE = "course_5x5"


def sources_of(images, output, save_array, fmt=None, plot=None, example: bool = False) -> list[str]:
    """The input files of a run; several need folders as their -o/--save-array targets."""
    sources = [EXAMPLE_SOURCE] if example else expand_inputs(list(images or []))
    if plot is not None:
        if len(sources) > 1:
            raise NnkitInputError(f"--plot draws one input; got {len(sources)}",
                                  hint="run once per image, or write the maps with -o DIR/")
        check_output_path(plot, ".png", "pictures")  # its folder too: checked before anything is written
    if len(sources) > 1:
        for option, target in (("-o", output), ("--save-array", save_array)):
            if target is not None and not is_folder_target(target):
                raise NnkitInputError(
                    f"{len(sources)} inputs need a folder for {option} (one file each), got {target}",
                    hint=f"use {option} DIR/",
                )
        if output is None and save_array is None:
            raise NnkitInputError(f"{len(sources)} inputs: say where the results go with -o DIR/")
        if fmt not in (None, "table"):
            raise NnkitInputError("several inputs write to files only; use -o DIR/ (and --save-array DIR/)")
        check_distinct_names(sources)
    # Every target checked before the first write: one that cannot be written, or would replace
    # an input, fails the run with nothing written (all or nothing).
    plan = OutputPlan(inputs=sources)
    for source in sources:
        for option, base in (("-o", output), ("--save-array", save_array)):
            if base is not None:
                target = output_targets(source, **{"output" if option == "-o" else "save_array": base})[0]
                plan.add(target, option, create_folder=is_folder_target(base))
    if plot is not None:
        plan.add(plot, "--plot", ".png")
    return sources


def _kernel_of(env, example, images, filter_name, kernel_text, kernel_file, size, sigma):
    """``(kernel, its name)``: the one asked for, or with ``--example`` and none asked for the course's filter."""
    if example and images:
        raise NnkitInputError("--example is the image: give no IMAGE with it")
    if example and filter_name is None and kernel_text is None and kernel_file is None:
        return EXAMPLE_KERNEL.copy(), "the course's filter"
    return _kernel(env, filter_name, kernel_text, kernel_file, size, sigma), filter_name


def _kernel(env, filter_name, kernel_text, kernel_file, size, sigma) -> np.ndarray:
    given = [name for name, value in (("--filter", filter_name), ("--kernel", kernel_text),
                                      ("--kernel-file", kernel_file)) if value is not None]
    if len(given) != 1:
        raise NnkitInputError("give exactly one of --filter, --kernel and --kernel-file"
                              + (f" (got {', '.join(given)})" if given else ""),
                              hint="nnkit convolve --list-filters shows the named filters")
    if filter_name is not None:
        return make_filter(filter_name, size=size, sigma=sigma)
    if size is not None or sigma is not None:
        raise NnkitInputError("--size and --sigma shape named filters; your own kernel has its own size")
    if kernel_text is not None:
        if not kernel_text.strip():
            raise NnkitInputError("--kernel is empty")
        return np.atleast_2d(parse_numbers([kernel_text]).astype(np.float64))
    kernel = read_input_file(kernel_file, env)
    if kernel.size == 0:
        raise NnkitInputError(f"the kernel in {kernel_file} is empty")
    return np.atleast_2d(np.asarray(kernel, dtype=np.float64))


def _parse_position(spec: str) -> tuple[int, int]:
    try:
        row, col = (int(part) for part in spec.replace(" ", "").split(","))
    except ValueError:
        raise NnkitInputError(f"--patch takes ROW,COL such as 22,102, got {spec!r}") from None
    return row, col


def _list_filters(env, fmt, precision, size, sigma) -> None:
    if fmt not in (None, "table", "json"):
        raise NnkitInputError("--list-filters prints a table, or JSON with -f json")
    kernels = {name: make_filter(name, size=size if "size" in entry.uses else None,
                                 sigma=sigma if "sigma" in entry.uses else None)
               for name, entry in FILTERS.items()}
    if fmt == "json" or (fmt is None and not env.stdout_isatty):
        import json

        data = {name: {"description": FILTERS[name].description, "kernel": kernels[name].tolist()}
                for name in FILTERS}
        write_stdout_bytes(env, (json.dumps(data, indent=1) + "\n").encode())
        return
    from rich.table import Table
    from rich.text import Text

    table = Table(title="nnkit convolve --filter NAME (kernels as written; convolution flips them)",
                  header_style="bold", show_lines=True)
    table.add_column("filter", style="bold")
    table.add_column("kernel", justify="right")
    table.add_column("what it does")
    for name, entry in FILTERS.items():
        table.add_row(Text(name), Text(_matrix_text(kernels[name], precision, max_width=30)),
                      Text(entry.description))
    env.console().print(table)


def _matrix_text(matrix: np.ndarray, precision: int, max_width: int = 48) -> str:
    """A small matrix as aligned text whose rows fit ``max_width`` characters.

    At most 4 significant digits, fewer if that makes it fit; a matrix too wide even at 2 digits is
    named by its shape and sum instead.
    """
    for digits in range(min(precision, 4), 1, -1):
        cells = [[format_number(float(v), digits) for v in row] for row in matrix]
        width = max(len(c) for row in cells for c in row)
        if matrix.shape[1] * (width + 1) - 1 <= max_width:
            return "\n".join(" ".join(c.rjust(width) for c in row) for row in cells)
    return f"{matrix.shape[0]}×{matrix.shape[1]} (sum {format_number(float(matrix.sum()), precision)})"


def _summary(console, source, image, feature, kernel, filter_name, options, stride, precision,
             orientation=None) -> None:
    how = "cross-correlation" if options["correlate"] else "convolution"
    kernel_name = filter_name or "your kernel"
    rows = [
        *orientation_rows(orientation),
        ("input shape", f"{image.shape[0]} × {image.shape[1]}"),
        ("kernel", f"{kernel_name} {kernel.shape[0]}×{kernel.shape[1]}\n"
                   + _matrix_text(kernel, precision)),
        ("mode / boundary", f"{options['mode']} / {options['boundary']}"
                            + (f" (fill {options['fillvalue']:g})" if options["boundary"] == "fill"
                               and options["mode"] != "valid" else "")
                            + (f", stride {stride}" if stride > 1 else "")),
        ("feature map shape", f"{feature.shape[0]} × {feature.shape[1]}"),
    ]
    pads = padding(kernel.shape, options["mode"], options["correlate"])
    if any(pads):
        top, bottom, left, right = pads
        padded = pad_input(image, kernel.shape, **options)
        rows.insert(-1, ("padding", f"{_padding_name(options['boundary'], options['fillvalue'])}: {top} row(s) "
                                    f"above, {bottom} below, {left} column(s) left, {right} right → "
                                    f"{padded.shape[0]} × {padded.shape[1]}"))
    summary_table(console, f"{how} of {source}", rows, feature, precision)
    if max(image.shape) <= _SMALL:
        from rich.text import Text

        if any(pads):
            console.print(Text(f"the input with its padding ({_padding_name(options['boundary'], options['fillvalue'])}"
                               "), as the kernel slides over it:", style="bold"))
            console.print(array_table(padded, precision))
        console.print(Text(f"feature map ({feature.shape[0]} × {feature.shape[1]}):", style="bold"))
        console.print(array_table(feature, precision))


#: Images up to this many rows and columns have their padded input and feature map printed in full.
_SMALL = 12


def _padding_name(boundary: str, fillvalue: float, japanese: bool = True) -> str:
    """How the edges are padded, in the course's words where it has them (pictures: English only).

    Examples
    --------
    >>> _padding_name("fill", 0.0), _padding_name("fill", 1.5), _padding_name("symm", 0.0)
    ('ゼロパディング (zero padding)', 'padding with 1.5', 'padding by mirroring the edge (symm)')
    """
    if boundary == "fill":
        if fillvalue == 0:
            return "ゼロパディング (zero padding)" if japanese else "zero padding"
        return f"padding with {fillvalue:g}"
    return "padding by wrapping around (wrap)" if boundary == "wrap" else "padding by mirroring the edge (symm)"


def orientation_rows(orientation: str | None) -> list[tuple[str, str]]:
    """The summary rows saying how a medical slice was taken and turned (none for other inputs)."""
    if orientation is None:
        return []
    taken, _, turned = orientation.rpartition("; ")
    return [("slice", taken)] * bool(taken) + [("orientation", turned)]


def summary_table(console, title: str, rows: list[tuple[str, str]], result: np.ndarray,
                  precision: int) -> None:
    """Print a two-column summary, ending with the result's shape and its min, max and mean."""
    from rich.table import Table
    from rich.text import Text

    table = Table(title=title, header_style="bold", show_header=False)
    table.add_column("", style="bold")
    table.add_column("")
    rows = [*rows, ("min", format_number(float(result.min()), precision)),
            ("max", format_number(float(result.max()), precision)),
            ("mean", format_number(float(result.mean()), precision))]
    for label, value in rows:
        table.add_row(label, Text(value))
    console.print(table)
    print_if_fits(console, result, precision)


def print_if_fits(console, result: np.ndarray, precision: int) -> bool:
    """Print a small result in full (every value) when it fits the screen; say whether it did."""
    from rich.measure import Measurement

    if result.ndim != 2 or result.shape[0] > TABLE_MAX_ROWS or result.shape[1] > TABLE_MAX_COLS:
        return False
    table = array_table(result, precision)
    if Measurement.get(console, console.options, table).maximum > console.width:
        return False
    console.print(table)
    return True


def _show_patch(env, fmt, image, feature, walk, row, col, precision, boundary="fill") -> None:
    value = walk["value"]
    if not np.isclose(value, feature[row, col], rtol=1e-12, atol=1e-12):  # pragma: no cover
        raise RuntimeError(f"patch sum {value} differs from the feature map's {feature[row, col]}")
    if fmt == "json":
        import json

        data = {key: (walk[key].tolist() if isinstance(walk[key], np.ndarray) else walk[key])
                for key in ("patch", "weights", "product", "value", "top_left")}
        data["position"] = [row, col]
        write_stdout_bytes(env, (json.dumps(data) + "\n").encode())
        return
    from rich.text import Text

    console = env.console()
    tables = _fitting_tables(console, [walk["patch"], walk["weights"], walk["product"]], precision)
    (r0, c0), (kh, kw) = walk["top_left"], walk["weights"].shape
    h, w = image.shape
    if r0 >= 0 and c0 >= 0 and r0 + kh <= h and c0 + kw <= w:
        where = f"patch image[{r0}:{r0 + kh}, {c0}:{c0 + kw}]"
    else:  # image[-1:2] would mean something else in Python
        where = (f"patch of rows {r0}..{r0 + kh - 1}, columns {c0}..{c0 + kw - 1} (past the image's "
                 f"edge: --boundary {boundary})")
    console.print(Text(f"{where} under the kernel (output position {row},{col}):", style="bold"))
    console.print(tables[0])
    console.print(Text("× the kernel as applied (flipped for convolution; --correlate does not flip):",
                       style="bold"))
    console.print(tables[1])
    console.print(Text("= element-wise product:", style="bold"))
    console.print(tables[2])
    console.print(Text(f"sum = {format_number(value, precision)}  → feature_map[{row}, {col}] "
                       f"(of {feature.shape[0]}×{feature.shape[1]})", style="bold"))


def _show_all_patches(env, fmt, image, kernel, feature, walks, positions, mode, stride, precision, options) -> None:
    """Every output position in turn: where the kernel sits, the patch, the sum (the course's animation)."""
    for walk, (row, col) in zip(walks, positions, strict=True):
        if not np.isclose(walk["value"], feature[row, col], rtol=1e-12, atol=1e-12):  # pragma: no cover
            raise RuntimeError(f"patch sum {walk['value']} differs from the feature map's {feature[row, col]}")
    if fmt == "json":
        import json

        data = {
            "image": image.tolist(), "kernel": kernel.tolist(), "mode": mode, "stride": stride,
            "padded": pad_input(image, kernel.shape, **options).tolist(),
            "walks": [{"position": [r, c], "top_left": list(w["top_left"]), "patch": w["patch"].tolist(),
                       "product": w["product"].tolist(), "value": w["value"]}
                      for w, (r, c) in zip(walks, positions, strict=True)],
            "feature_map": feature.tolist(),
        }
        write_stdout_bytes(env, (json.dumps(data) + "\n").encode())
        return
    from rich.text import Text

    console = env.console()
    num = lambda v: format_number(float(v), min(precision, 4))  # noqa: E731
    pads = padding(kernel.shape, mode, options["correlate"])
    if any(pads):
        console.print(Text(f"the input with its padding ({_padding_name(options['boundary'], options['fillvalue'])}):",
                           style="bold"))
        console.print(array_table(pad_input(image, kernel.shape, **options), precision))
    console.print(Text("the kernel as applied (flipped for convolution; --correlate does not flip):", style="bold"))
    console.print(array_table(walks[0]["weights"], precision))
    step = f", stride {stride}: the window moves {stride} pixels at a time" if stride > 1 else ""
    console.print(Text(f"the window slides left to right, top to bottom{step}:", style="bold"))
    for walk, (row, col) in zip(walks, positions, strict=True):
        r0, c0 = walk["top_left"]
        rows = " / ".join(" ".join(num(v) for v in line) for line in walk["patch"])
        console.print(Text(f"  [{row},{col}] rows {r0}..{r0 + kernel.shape[0] - 1}, columns {c0}..{c0 + kernel.shape[1] - 1}:"
                           f" patch {rows} → Σ patch × kernel = {num(walk['value'])}"))
    console.print(Text(f"feature map ({feature.shape[0]} × {feature.shape[1]}, 特徴量マップ):", style="bold"))
    console.print(array_table(feature, precision))


def _fitting_tables(console, arrays, precision):
    """A table of each array at the most digits (down to 3) that fit the terminal's width.

    One too wide even then folds its numbers onto two lines rather than cut them to a misleading
    ``5.93…``.
    """
    from rich.measure import Measurement

    unbounded = console.options.update_width(10_000)
    tables = []
    for array in arrays:
        for digits in range(precision, 2, -1):
            table = array_table(array, digits)
            if Measurement.get(console, unbounded, table).maximum <= console.width:
                break
        else:
            for column in table.columns:
                column.overflow = "fold"
        tables.append(table)
    return tables
