"""``nnkit explain MODEL IMAGE``: where in the image the decision came from.

Thin: the image is prepared as ``predict`` prepares it, the maps come from :mod:`nnkit.nn.explain`,
the figure from :mod:`nnkit.plots.explanation`. Conventions: ``docs/conventions.md``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Literal

import numpy as np
import typer

from nnkit.cli.common import MapsFormat, Output, Precision, Quiet, environment
from nnkit.errors import NnkitInputError
from nnkit.term.output import format_number, resolve_format, to_npy_bytes, to_text, write_stdout_bytes

METHODS = ("gradcam", "saliency", "occlusion")


def explain(
    model: Annotated[str, typer.Argument(help="A model saved by nnkit train or train-mlp --save.", metavar="MODEL.npz")],
    image: Annotated[str, typer.Argument(help="The image: PNG/JPEG … (a photographed digit is prepared as predict "
                                         "prepares it), .npy, or a NIfTI/DICOM slice (--slice).", metavar="IMAGE")],
    cls: Annotated[str | None, typer.Option("--class", help="The class to explain (default: the predicted one).",
                                            show_default=False)] = None,
    method: Annotated[Literal["all", "gradcam", "saliency", "occlusion"], typer.Option(
        "--method", help="gradcam (conv models), saliency (any model), occlusion (any model), or all that apply.")] = "all",
    layer: Annotated[str | None, typer.Option("--layer", help="Grad-CAM's conv layer: conv2d, conv2d_1 … (or 1, 2 …); "
                                              "default the last.", show_default=False)] = None,
    patch: Annotated[int | None, typer.Option("--patch", min=1, help="Occlusion: the side of the covered square in "
                                              "pixels (default: a seventh of the image's side).", show_default=False)] = None,
    stride: Annotated[int | None, typer.Option("--stride", min=1, help="Occlusion: the step between squares "
                                               "(default: half the patch).", show_default=False)] = None,
    slice_spec: Annotated[str | None, typer.Option("--slice", help="A slice of a 3-D volume: AXIS:INDEX or axial:80.",
                                                   metavar="PLANE:INDEX", show_default=False)] = None,
    plot: Annotated[str | None, typer.Option("--plot", help="The image, each map, the overlay and the probabilities.",
                                             metavar="PATH.png", show_default=False)] = None,
    output: Output = None,
    fmt: MapsFormat = None,
    precision: Precision = 4,
    quiet: Quiet = False,
) -> None:
    r"""Show where in an image a model's decision came from: Grad-CAM, saliency and occlusion.

    Grad-CAM weighs a conv layer's maps by the mean gradient of the class score (as Keras's example);
    saliency is |gradient of the class score| per pixel; occlusion is the drop in the class's
    probability when a square is covered.

    \b
    Examples:
      nnkit explain cnn.npz samples/my_digit.png --plot why.png
      nnkit explain cnn.npz digit.png --layer conv2d_1 -f json > maps.json
      nnkit explain cnn.npz digit.png --method occlusion --patch 7 -f npy > o.npy
    """
    from nnkit.files.model_file import load_model
    from nnkit.nn import explain as maps

    env = environment(quiet)
    chosen = resolve_format(fmt or ("table" if env.stdout_isatty else "json"), env)
    if chosen in ("csv", "tsv", "npy") and method == "all":
        raise NnkitInputError(f"-f {chosen} writes one map: choose it with --method gradcam, saliency or occlusion")
    _plan_outputs(env, model, image, plot, output, method)
    network, meta = load_model(model)
    has_conv = bool(maps.conv_layer_names(network))
    if method == "gradcam" or layer is not None:
        maps.choose_conv_layer(network, layer)  # a dense model or an unknown layer: said before any work
    sample, shape, proba = _read_sample(network, meta, image, slice_spec, env)
    classes = list(meta.get("classes") or range(len(proba)))
    target = _class_index(cls, [str(c) for c in classes], proba)
    from nnkit.nn.novelty import caution

    warning = caution(meta.get("training_summary"), sample, proba)
    if warning:
        env.note(f"nnkit: caution: {warning}")
    wanted = [m for m in METHODS if m != "gradcam" or has_conv] if method == "all" else [method]
    image2d = sample.reshape(*shape[:2], -1)
    result = _maps(network, sample, image2d, target, wanted, layer, patch, stride, env)
    report = {"model": Path(model).name, "input": image, "prediction": classes[int(np.argmax(proba))],
              "class": classes[target],
              "probabilities": {str(c): float(p) for c, p in zip(classes, proba, strict=True)},
              "caution": warning, "maps": result}
    _write_outputs(env, plot, output, image2d, report, method)
    if chosen == "json":
        write_stdout_bytes(env, (json.dumps(report) + "\n").encode())
    elif chosen == "npy":
        write_stdout_bytes(env, to_npy_bytes(np.asarray(result[method]["values"])))
    elif chosen in ("csv", "tsv"):
        write_stdout_bytes(env, to_text(np.asarray(result[method]["values"]), chosen).encode())
    else:
        _show(env.console(), report, precision)


def _plan_outputs(env, model: str, image: str, plot: str | None, output: str | None, method: str) -> None:
    """Check --plot and -o before any work (all or nothing)."""
    from nnkit.term.output import OutputPlan

    plan = OutputPlan(env, inputs=[model, image])
    if plot is not None:
        plan.add(plot, "--plot", ".png")
    if output is not None:
        suffix = Path(output).suffix.lower()
        if suffix not in (".json", ".npy"):
            raise NnkitInputError(f"-o writes the report as .json or one map as .npy; {output} is neither")
        if suffix == ".npy" and method == "all":
            raise NnkitInputError("-o .npy writes one map: choose it with --method gradcam, saliency or occlusion")
        plan.add(output, "-o")


def _read_sample(network, meta: dict, image: str, slice_spec: str | None, env):
    """(the one input as the network takes it, the image's shape, the class probabilities)."""
    from nnkit.cli.predict import _Inputs
    from nnkit.nn.metrics import class_probabilities

    n_inputs = int(np.prod(network.input_shape))
    collected = _Inputs(meta.get("preprocessing"), None, None, n_inputs)
    if collected.image_shape is None:
        raise NnkitInputError("explain draws maps over images; this model was trained on a table of features")
    env.inputs.append(Path(image))
    _add_image(collected, image, slice_spec, env)
    x = collected.matrix(n_inputs)
    if len(x) != 1:
        raise NnkitInputError(f"explain takes one image; {image} holds {len(x)}",
                              hint="save the one to explain on its own, e.g. np.save('one.npy', stack[0])")
    for note in collected.notes:
        env.note(note)
    sample = x.reshape(network.input_shape) if len(network.input_shape) == 3 else x[0]
    proba = class_probabilities(network.forward(sample[np.newaxis]))[0].astype(np.float64)
    return sample, collected.image_shape, proba


def _class_index(cls: str | None, names: list[str], proba) -> int:
    """``--class`` by name, or the predicted class."""
    if cls is None:
        return int(np.argmax(proba))
    if cls not in names:
        raise NnkitInputError(f"--class {cls!r} is not a class; the classes are {', '.join(names)}")
    return names.index(cls)


def _maps(network, sample, image2d, target: int, wanted: list[str], layer, patch, stride, env) -> dict:
    """Each asked-for map with what it was made from (JSON-ready, at its own resolution)."""
    from nnkit.nn import explain as maps

    shape = image2d.shape
    result: dict = {}
    if "gradcam" in wanted:
        cam = maps.grad_cam(network, sample, target, layer)
        result["gradcam"] = {"layer": cam.layer, "shape": list(cam.heatmap.shape), "values": cam.heatmap.tolist(),
                             "empty": cam.raw_max == 0}
        if cam.raw_max == 0:
            env.note("nnkit: Grad-CAM is empty here: no channel of the layer speaks for the class on average "
                     "(common behind flatten → dense); see saliency and occlusion")
    if "saliency" in wanted:
        sal = maps.saliency(network, sample, target)  # (H, W), or one value per input of a dense model
        sal = sal.reshape(shape).max(axis=-1) if sal.ndim == 1 else sal
        result["saliency"] = {"shape": list(sal.shape), "values": sal.tolist()}
    if "occlusion" in wanted:
        size = patch or max(1, min(shape[:2]) // 7)
        drops, _ = maps.occlusion(network, image2d, target, size, stride)
        result["occlusion"] = {"patch": size, "stride": stride or max(1, size // 2), "shape": list(drops.shape),
                               "values": drops.tolist()}
    return result


def _write_outputs(env, plot: str | None, output: str | None, image2d, report: dict, method: str) -> None:
    if plot is not None:
        from nnkit.plots.explanation import write_explanation_plot

        write_explanation_plot(plot, image2d, report["maps"], report, env=env)
        env.note(f"nnkit: wrote {plot}")
    if output is not None:
        from nnkit.term.output import atomic_write

        as_map = Path(output).suffix.lower() == ".npy"
        values = report["maps"][method]["values"] if as_map else None
        data = to_npy_bytes(np.asarray(values)) if as_map else (json.dumps(report) + "\n").encode()
        with atomic_write(output, env) as handle:
            handle.write(data)
        env.note(f"nnkit: wrote {output}")


def _add_image(collected, image: str, slice_spec: str | None, env) -> None:
    """Read the image as ``predict`` takes it.

    An ``.npy`` of raw values (grey or colour) gets the model's preprocessing; a picture is read as
    grey 0..1 (a learner's digit prepared as MNIST's); a medical slice is scaled from its own
    minimum and maximum to 0..1.
    """
    from nnkit.files.images import read_image
    from nnkit.files.npyfile import load_npy_file

    name = image.lower()
    if name.endswith(".npy") and slice_spec is None:
        collected.add_rows(load_npy_file(Path(image)), [image])
        return
    picture = read_image(image, slice_spec)
    if name.endswith((".nii", ".nii.gz", ".dcm", ".npy")):
        low, high = float(picture.min()), float(picture.max())
        picture = (picture - low) / (high - low) if high > low else np.zeros_like(picture)
        env.note(f"nnkit: {image}: the slice's values {low:.4g}..{high:.4g} scaled to 0..1")
    collected.add_picture(picture, image)


def _show(console, report: dict, precision: int) -> None:
    from rich.table import Table
    from rich.text import Text

    console.print(Text(f"{report['input']}: predicted {report['prediction']}; explaining class {report['class']} "
                       f"(p = {format_number(report['probabilities'][str(report['class'])], precision)})"))
    table = Table(title="maps (-f json: every value; --plot: the picture)", header_style="bold")
    for column in ("method", "size", "peak at (row, col)", "peak", "share of the total in the top 10 %"):
        table.add_column(column, justify="right")
    for name, entry in report["maps"].items():
        values = np.asarray(entry["values"])
        peak = np.unravel_index(int(np.argmax(values)), values.shape)
        positive = np.clip(values, 0, None).ravel()
        top = np.sort(positive)[::-1][: max(1, positive.size // 10)].sum() / positive.sum() if positive.sum() else 0
        label = f"{name} ({entry['layer']})" if "layer" in entry else name
        table.add_row(label, "×".join(map(str, values.shape)), f"{peak[0]}, {peak[1]}",
                      format_number(values.max(), precision), format_number(top, 3))
    console.print(table)
