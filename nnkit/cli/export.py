"""``nnkit export MODEL.npz OUT.onnx|OUT.keras``: take a trained model to ONNX Runtime, or to Keras to train on."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from nnkit.cli.common import Quiet, environment
from nnkit.errors import NnkitInputError


def export(
    model: Annotated[str, typer.Argument(help="A model saved by nnkit train, train-mlp or train-xor --save.", metavar="MODEL.npz")],
    output: Annotated[str, typer.Argument(help="The file to write: .onnx (to run anywhere) or .keras (to train on in Keras).", metavar="OUT.onnx|OUT.keras")],
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
      nnkit export cancer.npz cancer.onnx
    """
    from nnkit.files.model_file import load_model
    from nnkit.term.output import atomic_write

    env = environment(quiet)
    if output.endswith(("/", os.sep)):  # Path() would drop the slash and write out.onnx
        raise NnkitInputError(f"{output} names a folder; give the file to write, ending in .onnx or .keras")
    out = Path(output)
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
    data, header, body = WRITERS[kind][1](network, meta)
    with atomic_write(out, env) as handle:
        handle.write(data)
    env.note(f"wrote {out} ({len(data) / 1e3:.1f} kB, {header}): {body}; Netron (netron.app) draws it")


def _onnx(network, meta) -> tuple[bytes, str, str]:
    from nnkit.files.onnx_export import INPUT_NAME, OPSET, build_onnx

    graph = build_onnx(network, meta)

    def dims(value) -> str:  # the shapes as the graph declares them (one place: build_onnx)
        return ", ".join(str(d.dim_param or d.dim_value) for d in value.type.tensor_type.shape.dim)

    return graph.SerializeToString(), f"opset {OPSET}", (
        f"input '{INPUT_NAME}' float32 ({dims(graph.graph.input[0])}) → "
        f"'probabilities' ({dims(graph.graph.output[0])}), 'label' (batch,)"
    )


def _keras(network, meta) -> tuple[bytes, str, str]:
    from nnkit.files.keras_export import KERAS_VERSION, keras_archive, raw_input_shape

    shape = ", ".join(map(str, raw_input_shape(network, meta)))
    return keras_archive(network, meta), f"Keras {KERAS_VERSION} format", (
        f"keras.models.load_model gives a compiled model taking raw inputs (batch, {shape})"
    )


#: Each target's suffix: the package it needs, and its writer (the bytes, and the note's two parts).
WRITERS = {".onnx": ("onnx", _onnx), ".keras": ("h5py", _keras)}
