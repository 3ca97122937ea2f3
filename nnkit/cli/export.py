"""``nnkit export MODEL.npz OUT.onnx``: take a trained model to ONNX Runtime, TensorRT or OpenVINO."""

from __future__ import annotations

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
        typer.Argument(help="The ONNX file to write (or -o OUT.onnx).", metavar="[OUT.onnx]", show_default=False),
    ] = None,
    output: Annotated[
        str | None,
        typer.Option("-o", "--output", help="The ONNX file to write.", metavar="OUT.onnx", show_default=False),
    ] = None,
    fmt: ReportFormat = None,
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
      nnkit export cancer.npz -o cancer.onnx -f json   # what was written, as JSON
    """
    from nnkit.files.model_file import load_model
    from nnkit.files.onnx_export import INPUT_NAME, OPSET, build_onnx
    from nnkit.term.output import atomic_write

    env = environment(quiet)
    resolve_format(fmt, env, report=True)
    if (target is None) == (output is None):
        raise NnkitInputError("give the ONNX file to write once: nnkit export MODEL.npz OUT.onnx (or -o OUT.onnx)")
    out = Path(output if output is not None else target)
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
    def dims(value) -> list:  # the shapes as the graph declares them (one place: build_onnx)
        return [d.dim_param or d.dim_value for d in value.type.tensor_type.shape.dim]

    report = {
        "path": str(out),
        "bytes": len(data),
        "opset": OPSET,
        "input": {"name": INPUT_NAME, "type": "float32", "shape": dims(graph.graph.input[0])},
        "outputs": [{"name": value.name, "shape": dims(value)} for value in graph.graph.output],
    }
    env.note(f"nnkit: wrote {out}")

    def render(console) -> None:
        from rich.text import Text

        shape = lambda value: "(" + ", ".join(map(str, value["shape"])) + ")"  # noqa: E731
        outputs = ", ".join(f"'{value['name']}' {shape(value)}" for value in report["outputs"])
        console.print(Text(f"{out}: {len(data) / 1e3:.1f} kB, opset {OPSET}: input '{INPUT_NAME}' float32 "
                           f"{shape(report['input'])} → {outputs}"))

    emit_report(report, env, fmt, None, None, render)
