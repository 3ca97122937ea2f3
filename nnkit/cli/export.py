"""``nnkit export MODEL.npz OUT.onnx|OUT.keras``: take a trained model to ONNX Runtime, or to Keras to train on."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from nnkit.cli.common import Quiet, ReportFormat, environment
from nnkit.errors import NnkitInputError
from nnkit.term.output import emit_report, resolve_format


def export(
    model: Annotated[str, typer.Argument(help="A model saved by nnkit train, train-mlp or train-xor --save.", metavar="MODEL.npz")],
    target: Annotated[
        str | None,
        typer.Argument(help="The file to write: .onnx (to run anywhere) or .keras (to train on in Keras); "
                       "or -o.", metavar="[OUT.onnx|OUT.keras]", show_default=False),
    ] = None,
    output: Annotated[
        str | None,
        typer.Option("-o", "--output", help="The file to write (.onnx or .keras).", metavar="OUT",
                     show_default=False),
    ] = None,
    fmt: ReportFormat = None,
    quiet: Quiet = False,
) -> None:
    r"""Write a saved model as an ONNX or Keras file that takes the same raw inputs as nnkit predict.

    The stored preprocessing (pixels ÷ 255, or the training standardisation) is part of the file.
    ONNX (.onnx), to run anywhere (ONNX Runtime, TensorRT, OpenVINO; PyTorch through onnx2torch):
    conv stacks run channels-first (NCHW) inside, Dropout is left out; input 'input' float32: (batch,
    H, W) images or (batch, features) rows; outputs 'probabilities' (batch, classes) and 'label'
    (batch,) int64; dynamic batch size; opset 21; checked with onnx.checker. Keras 3 (.keras), to go on
    training in Keras (on a GPU in Colab): keras.models.load_model gives a compiled Sequential model
    (the optimizer it was trained with, sparse categorical or binary cross-entropy, accuracy) whose
    predict equals nnkit predict; its optimizer state starts afresh. Netron (netron.app) draws both.
    Needs the export extra: pip install 'nnkit-cli[export]'.

    \b
    Examples:
      nnkit train --model course-cnn --data mnist --save cnn.npz
      nnkit export cnn.npz cnn.onnx
      nnkit export cnn.npz cnn.keras
      nnkit export cancer.npz -o cancer.onnx -f json   # what was written, as JSON
    """
    from nnkit.files.model_file import load_model
    from nnkit.term.output import atomic_write

    env = environment(quiet)
    resolve_format(fmt, env, report=True)
    if (target is None) == (output is None):
        raise NnkitInputError("give the file to write once: nnkit export MODEL.npz OUT.onnx (or -o OUT.keras)")
    written = output if output is not None else target
    if written.endswith(("/", os.sep)):  # Path() would drop the slash and write out.onnx
        raise NnkitInputError(f"{written} names a folder; give the file to write, ending in .onnx or .keras")
    out = Path(written)
    kind = out.suffix.lower()
    if kind not in WRITERS:
        raise NnkitInputError(f"models are exported as .onnx or .keras files; {out} ends in neither")
    source = Path(model)
    env.inputs.append(source)
    package = WRITERS[kind][0]
    try:
        __import__(package)  # checked before the model is read: a clear message, nothing written
    except ImportError:
        raise NnkitInputError(
            f"nnkit export to {kind} needs the {package} package", hint="pip install 'nnkit-cli[export]'"
        ) from None
    network, meta = load_model(source)
    data, report, line = WRITERS[kind][1](network, meta)
    with atomic_write(out, env) as handle:
        handle.write(data)
    report = {"path": str(out), "bytes": len(data), **report}
    env.note(f"nnkit: wrote {out}")

    def render(console) -> None:
        from rich.text import Text

        console.print(Text(f"{out}: {len(data) / 1e3:.1f} kB, {line}; Netron (netron.app) draws it"))

    emit_report(report, env, fmt, None, None, render)


def _shape(shape) -> str:
    return "(" + ", ".join(map(str, shape)) + ")"


def _onnx(network, meta) -> tuple[bytes, dict, str]:
    from nnkit.files.onnx_export import INPUT_NAME, OPSET, build_onnx

    graph = build_onnx(network, meta)

    def dims(value) -> list:  # the shapes as the graph declares them (one place: build_onnx)
        return [d.dim_param or d.dim_value for d in value.type.tensor_type.shape.dim]

    report = {
        "format": "onnx",
        "opset": OPSET,
        "input": {"name": INPUT_NAME, "type": "float32", "shape": dims(graph.graph.input[0])},
        "outputs": [{"name": value.name, "shape": dims(value)} for value in graph.graph.output],
    }
    outputs = ", ".join(f"'{value['name']}' {_shape(value['shape'])}" for value in report["outputs"])
    line = f"opset {OPSET}: input '{INPUT_NAME}' float32 {_shape(report['input']['shape'])} → {outputs}"
    return graph.SerializeToString(), report, line


def _keras(network, meta) -> tuple[bytes, dict, str]:
    from nnkit.files.keras_export import KERAS_VERSION, keras_archive, raw_input_shape

    shape = ["batch", *raw_input_shape(network, meta)]
    report = {"format": "keras", "keras_version": KERAS_VERSION, "input": {"type": "float32", "shape": shape}}
    line = f"Keras {KERAS_VERSION} format: keras.models.load_model gives a compiled model of raw inputs {_shape(shape)}"
    return keras_archive(network, meta), report, line


#: Each target's suffix: the package it needs, and its writer (the bytes, the report, one line for a terminal).
WRITERS = {".onnx": ("onnx", _onnx), ".keras": ("h5py", _keras)}
