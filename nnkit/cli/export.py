"""``nnkit export MODEL.npz OUT.onnx``: take a trained model to ONNX Runtime, TensorRT or OpenVINO."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from nnkit.cli.common import Quiet, environment
from nnkit.errors import NnkitInputError


def export(
    model: Annotated[str, typer.Argument(help="A model saved by nnkit train, train-mlp or train-xor --save.", metavar="MODEL.npz")],
    output: Annotated[str, typer.Argument(help="The ONNX file to write.", metavar="OUT.onnx")],
    quiet: Quiet = False,
) -> None:
    r"""Write a saved model as an ONNX file that takes the same raw inputs as nnkit predict.

    The stored preprocessing (pixels ÷ 255, or the training standardisation) is part of the graph;
    conv stacks run channels-first (NCHW) inside, Dropout is left out. Input 'input' float32: (batch,
    H, W) images or (batch, features) rows; outputs 'probabilities' (batch, classes) and 'label'
    (batch,) int64; dynamic batch size; opset 21; checked with onnx.checker. Needs the export extra:
    pip install 'nnkit-cli[export]'.

    \b
    Examples:
      nnkit train --model course-cnn --data mnist --save cnn.npz
      nnkit export cnn.npz cnn.onnx
      nnkit export cancer.npz cancer.onnx
    """
    from nnkit.files.model_file import load_model
    from nnkit.files.onnx_export import INPUT_NAME, OPSET, build_onnx
    from nnkit.term.output import atomic_write

    env = environment(quiet)
    out = Path(output)
    if out.suffix.lower() != ".onnx":
        raise NnkitInputError(f"ONNX models are saved as .onnx files; {out} does not end in .onnx")
    source = Path(model)
    env.inputs.append(source)
    try:
        import onnx  # noqa: F401 (checked before the model is read: a clear message, nothing written)
    except ImportError:
        raise NnkitInputError(
            "nnkit export needs the onnx package", hint="pip install 'nnkit-cli[export]' (or pip install onnx)"
        ) from None
    network, meta = load_model(source)
    graph = build_onnx(network, meta)
    data = graph.SerializeToString()
    with atomic_write(out, env) as handle:
        handle.write(data)
    def dims(value) -> str:  # the shapes as the graph declares them (one place: build_onnx)
        return ", ".join(str(d.dim_param or d.dim_value) for d in value.type.tensor_type.shape.dim)

    env.note(
        f"wrote {out} ({len(data) / 1e3:.1f} kB, opset {OPSET}): input '{INPUT_NAME}' float32 "
        f"({dims(graph.graph.input[0])}) → 'probabilities' ({dims(graph.graph.output[0])}), 'label' (batch,)"
    )
