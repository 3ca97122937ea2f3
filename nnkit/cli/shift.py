"""``nnkit shift``: move an image a few pixels and see what a CNN's layers make of it (平行移動不変性)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import numpy as np
import typer

from nnkit.cli.common import Precision, Quiet, ReportFormat, ReportOutput, environment, plot_option
from nnkit.cli.completion import complete_names
from nnkit.course.filters import FILTERS
from nnkit.errors import NnkitInputError
from nnkit.term.output import OutputPlan, check_report_target, emit_report, format_number, resolve_format

#: Inputs read as arrays of the data set's own values (pictures are read as 0..1).
_ARRAY_SUFFIXES = (".npy", ".npz", ".csv", ".tsv", ".txt")
#: The input shape of the course's MNIST models: a picture of another size is prepared as MNIST's digits were.
MNIST_SHAPE = (28, 28)


def shift(
    image: Annotated[
        str,
        typer.Argument(help="An image (.png .jpg …; samples/my_digit.png, samples/brain.png) or a 2-D .npy/.csv array.",
                       metavar="IMAGE"),
    ],
    by: Annotated[
        str, typer.Option("--by", help="Move the image ROWS down and COLS right (negative: up, left).",
                          metavar="ROWS,COLS"),
    ] = "0,2",
    model: Annotated[
        str | None,
        typer.Option("--trained", help="A trained conv model (.npz from nnkit train --save): every layer's output "
                     "and the prediction, for the image and the shifted image.", metavar="MODEL.npz",
                     show_default=False),
    ] = None,
    filter_name: Annotated[
        str,
        typer.Option("--filter", help="Without --trained: the filter to convolve with (see nnkit convolve "
                     "--list-filters).", metavar="NAME", autocompletion=complete_names(FILTERS)),
    ] = "sobel-x",
    pool: Annotated[int, typer.Option("--pool", min=1, max=64, help="Without --trained: max pooling window.")] = 2,
    plot: plot_option("Draw the image, its feature map and its pooled map, unshifted and shifted") = None,
    fmt: ReportFormat = None,
    output: ReportOutput = None,
    precision: Precision = 4,
    quiet: Quiet = False,
) -> None:
    r"""Shift an image by a few pixels: the feature map shifts with it, pooled features and prediction barely change.

    The course's 3-1 平行移動不変性 (translation invariance): a pattern learned in one place is
    recognised in another. The convolution's feature map of the shifted image is the feature map
    shifted (exactly, away from the edges); max pooling and each further layer make the outputs
    depend less on where the pattern is. The table gives, layer by layer, the correlation between the
    outputs for the image and for the shifted image at the same positions, and with --trained both
    predictions.

    \b
    Examples:
      nnkit shift samples/brain.png --by 3,0 --plot shift.png
      nnkit shift samples/my_digit.png --trained cnn.npz --by 0,2
      nnkit shift samples/brain.png --filter laplacian --pool 4 -f json
    """
    env = environment(quiet)
    resolve_format(fmt, env, report=True)
    rows, cols = _parse_by(by)
    plan = OutputPlan(env, inputs=[image, model])
    check_report_target(output, plan)
    if plot is not None:
        plan.add(plot, "--plot", ".png")
    from nnkit.files.images import load_image

    picture = load_image(image, env)
    if model is not None:
        report, stages = _through_model(env, model, picture, image, rows, cols)
    else:
        report, stages = _through_filter(picture, filter_name, pool, rows, cols)
    report = {"image": image, "by": [rows, cols], **report}
    if plot is not None:
        from nnkit.plots.figures import save_figure
        from nnkit.plots.translation import shift_figure

        save_figure(shift_figure(stages, report), plot, env)
        env.note(f"nnkit: wrote {plot}")
    table = (["layer", "shape", "correlation"],
             [[layer["layer"], "x".join(map(str, layer["shape"])), layer["correlation"]] for layer in report["layers"]])
    emit_report(report, env, fmt, output, table, render=lambda console: _show(console, report, precision))


def _parse_by(text: str) -> tuple[int, int]:
    try:
        rows, cols = (int(part) for part in text.replace(" ", "").split(","))
    except ValueError:
        raise NnkitInputError(f"--by takes ROWS,COLS such as 0,2 or -3,1, got {text!r}") from None
    if rows == 0 and cols == 0:
        raise NnkitInputError("--by 0,0 does not move the image")
    return rows, cols


def _through_filter(picture, filter_name, pool, rows, cols):
    """The course's single-filter CNN: convolution (valid), then max pooling."""
    from nnkit.course.filters import make_filter
    from nnkit.course.image_convolution import convolve
    from nnkit.course.translation import correlation, interior_difference, max_pool, shift_image

    kernel = make_filter(filter_name)
    moved = shift_image(picture, rows, cols)
    maps = [convolve(picture, kernel), convolve(moved, kernel)]
    pooled = [max_pool(m, pool) for m in maps]
    margin = max(kernel.shape)
    report = {
        "filter": filter_name,
        "pool": pool,
        "feature_map_shift_difference": interior_difference(maps[0], maps[1], rows, cols, margin),
        # the strongest response anywhere: where the pattern is does not matter, only that it is there
        "strongest_response": [[float(m.max())] for m in maps],
        "layers": [
            {"layer": "input", "shape": list(picture.shape), "correlation": correlation(picture, moved)},
            {"layer": f"convolution ({filter_name})", "shape": list(maps[0].shape),
             "correlation": correlation(*maps)},
            {"layer": f"max pooling {pool}×{pool}", "shape": list(pooled[0].shape), "correlation": correlation(*pooled)},
        ],
    }
    stages = [("input", picture, moved), (f"feature map ({filter_name})", *maps), (f"max pooled {pool}×{pool}", *pooled)]
    return report, stages


def _through_model(env, model_path, picture, source, rows, cols):
    """Every layer of a trained model, for the image and the shifted image, and both predictions."""
    from nnkit.course.translation import correlation, interior_difference, layer_outputs, shift_image
    from nnkit.files.model_file import load_model

    network, meta = load_model(model_path)
    shape = network.input_shape
    if len(shape) != 3 or not any(getattr(layer, "type_name", "") == "conv2d" for layer in network.layers):
        raise NnkitInputError(f"{model_path} has no convolution layer: shift shows what conv layers do",
                              hint="train one with nnkit train --model course-cnn, or use --filter")
    if tuple(shape[:2]) == MNIST_SHAPE and picture.shape != MNIST_SHAPE:
        from nnkit.data.own_digit import prepare_digit

        digit = prepare_digit(picture, source)
        env.note("nnkit: " + digit.describe(source))
        picture = digit.image
    elif Path(source).suffix.lower() in _ARRAY_SUFFIXES and meta.get("preprocessing", {}).get("kind") == "scale":
        # an array holds the data set's own values (digits: 0..16): scaled as the model was trained
        picture = picture / float(meta["preprocessing"]["divisor"])
    if picture.shape != tuple(shape[:2]) or shape[2] != 1:
        raise NnkitInputError(f"{source} is {picture.shape[0]}×{picture.shape[1]}; {model_path} takes "
                              f"{'×'.join(map(str, shape))} images")
    moved = shift_image(picture, rows, cols)
    outputs = [layer_outputs(network, image[..., np.newaxis]) for image in (picture, moved)]
    classes = meta.get("classes") or list(range(network.layers[-1].n_out))
    probabilities = [network.predict_proba(image[np.newaxis, ..., np.newaxis])[0].astype(np.float64)
                     for image in (picture, moved)]
    first_conv = next(i for i, layer in enumerate(network.layers) if getattr(layer, "type_name", "") == "conv2d")
    kernel = network.layers[first_conv].kernel
    layers = [{"layer": "input", "shape": list(picture.shape), "correlation": correlation(picture, moved)}]
    for (name, a), (_, b) in zip(*outputs, strict=True):
        layers.append({"layer": name, "shape": list(a.shape), "correlation": correlation(a, b)})
    report = {
        "model": model_path,
        "feature_map_shift_difference": interior_difference(outputs[0][first_conv][1], outputs[1][first_conv][1],
                                                            rows, cols, max(kernel)),
        "layers": layers,
        "strongest_response": [out[first_conv + 1 if _is_activation(network, first_conv + 1) else first_conv][1]
                               .max(axis=(0, 1)).tolist() for out in outputs],
        "classes": [str(c) for c in classes],
        "probabilities": [p.tolist() for p in probabilities],
        "predicted": [str(classes[int(np.argmax(p))]) for p in probabilities],
    }
    pooled = next((i for i, layer in enumerate(network.layers) if getattr(layer, "type_name", "") == "maxpool2d"),
                  first_conv)
    stages = [("input", picture, moved),
              (f"{outputs[0][first_conv][0]} (channel 1)", outputs[0][first_conv][1][..., 0],
               outputs[1][first_conv][1][..., 0]),
              (f"{outputs[0][pooled][0]} (channel 1)", outputs[0][pooled][1][..., 0], outputs[1][pooled][1][..., 0])]
    return report, stages


def _is_activation(network, index: int) -> bool:
    return index < len(network.layers) and getattr(network.layers[index], "type_name", "") == "activation"


def _show(console, report: dict, precision: int) -> None:
    from rich.table import Table
    from rich.text import Text

    num = lambda v: format_number(v, precision)  # noqa: E731
    rows, cols = report["by"]
    console.print(Text(f"{report['image']} moved {rows} row(s) down and {cols} column(s) right "
                       f"(平行移動不変性, translation invariance)", style="bold"))
    difference = report["feature_map_shift_difference"]
    console.print(Text("feature map of the moved image vs the feature map moved: " + (
        "the map is too small to have a part away from its edges" if difference is None else
        f"largest difference {num(difference)} (away from the edges) — it shifts with the image")))
    table = Table(title="each layer's output for the image and for the moved image, compared position by position",
                  header_style="bold")
    for column in ("layer", "output shape", "correlation"):
        table.add_column(column, justify="left" if column == "layer" else "right")
    for layer in report["layers"]:
        table.add_row(layer["layer"], "×".join(map(str, layer["shape"])), num(layer["correlation"]))
    console.print(table)
    before, after = report["strongest_response"]
    console.print(Text(f"the strongest response of each filter anywhere in the image (global max): "
                       f"{', '.join(num(v) for v in before)} as given, {', '.join(num(v) for v in after)} moved — "
                       "a pattern is found wherever it is, as long as it stays in the frame"))
    if "probabilities" in report:
        probs = Table(title="the prediction: probability of each class", header_style="bold")
        for column in ("class", "image", "moved"):
            probs.add_column(column, justify="right")
        for k, c in enumerate(report["classes"]):
            probs.add_row(c, *(num(p[k]) for p in report["probabilities"]))
        console.print(probs)
        console.print(Text(f"predicted: {report['predicted'][0]} for the image, {report['predicted'][1]} moved"))
    console.print(Text("correlation 1: the same numbers at the same places. Max pooling absorbs a shift "
                       "within its window; a dense layer compares positions, so a model recognises a moved "
                       "pattern only as far as its pooling or its training images (shifted examples) allow."))
