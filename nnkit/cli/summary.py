"""``nnkit summary``: Keras's ``model.summary()`` for a saved model or a ``--layers``/``--model`` stack."""

from __future__ import annotations

from typing import Annotated

import typer

from nnkit.cli.common import Quiet, ReportFormat, ReportOutput, environment
from nnkit.cli.train import LayersOption, ModelOption
from nnkit.errors import NnkitInputError
from nnkit.term.output import check_report_target, emit_report, resolve_format

#: The input the course's chapter gives its two models: MNIST's 28×28 grey images.
COURSE_INPUT_SHAPE = (28, 28, 1)
#: … and its ten digits (a course model trained on other data has one output per class of that data).
COURSE_CLASSES = 10
#: The course models whose chapter ends the Keras model in a Softmax layer of its own (``Dense(10)``,
#: then ``Softmax()``), where the other puts softmax inside the last Dense: Keras prints it as a row.
KERAS_SOFTMAX_ROW = {"course-mlp"}


def softmax_as_its_own_row(table: dict) -> dict:
    """Move the last layer's softmax into a row of its own, as Keras's ``Softmax()`` layer is printed.

    Examples
    --------
    >>> table = {"rows": [{"layer": "dense", "activation": "softmax", "output_shape": (10,), "params": 1290}]}
    >>> [(r["layer"], r["activation"], r["params"]) for r in softmax_as_its_own_row(table)["rows"]]
    [('dense', None, 1290), ('softmax', None, 0)]
    """
    *rows, last = table["rows"]
    if last.get("activation") != "softmax":
        return table
    softmax = {"layer": "softmax", "type": "Softmax", "activation": None, "output_shape": last["output_shape"],
               "params": 0}
    return {**table, "rows": [*rows, {**last, "activation": None}, softmax]}


def readable_memory_size(n_bytes: float) -> str:
    """Bytes as Keras's summary writes them (powers of 1024, two decimals).

    Examples
    --------
    >>> readable_memory_size(101770 * 4), readable_memory_size(0)
    ('397.54 KB', '0.00 B')
    """
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if n_bytes < 1024:
            return f"{n_bytes:.2f} {unit}"
        n_bytes /= 1024
    return f"{n_bytes:.2f} PB"


def parse_input_shape(text: str) -> tuple[int, ...]:
    """``"28,28,1"`` (or ``28x28x1``) → ``(28, 28, 1)``; one size for rows of features.

    Examples
    --------
    >>> parse_input_shape("28,28,1"), parse_input_shape("30")
    ((28, 28, 1), (30,))
    """
    parts = text.replace("x", ",").replace("×", ",").split(",")
    try:
        shape = tuple(int(p) for p in parts)
    except ValueError:
        raise NnkitInputError(
            f"--input-shape takes sizes like 28,28,1 (height, width, channels) or 30 (features), got {text!r}"
        ) from None
    if len(shape) not in (1, 3) or min(shape) < 1:
        raise NnkitInputError(
            f"--input-shape is height,width,channels (28,28,1) or a number of features, got {text!r}"
        )
    return shape


def keras_rows(table: dict) -> list[dict]:
    """Name the rows as Keras does: ``conv2d``, ``conv2d_1``, … of type ``Conv2D``.

    Examples
    --------
    >>> [r["name"] for r in keras_rows({"rows": [{"layer": "dense", "type": "Dense"}] * 2})]
    ['dense', 'dense_1']
    """
    seen: dict[str, int] = {}
    rows = []
    for row in table["rows"]:
        count = seen.get(row["layer"], 0)
        seen[row["layer"]] = count + 1
        name = row["layer"] if count == 0 else f"{row['layer']}_{count}"
        rows.append({**row, "name": name})
    return rows


def summary(
    model_file: Annotated[
        str | None,
        typer.Argument(help="A saved model (.npz from nnkit train or train-mlp).", metavar="[MODEL.npz]", show_default=False),
    ] = None,
    layers: LayersOption = None,
    model: ModelOption = None,
    input_shape: Annotated[
        str | None,
        typer.Option(
            "--input-shape",
            help="One sample's shape: height,width,channels (28,28,1) or a number of features. "
            "Default: the model file's, 28,28,1 for --model, else that of --data.",
            metavar="H,W,C",
            show_default=False,
        ),
    ] = None,
    data: Annotated[
        str | None,
        typer.Option("--data", help="Take the input shape from this data set (as nnkit train reads it).", show_default=False),
    ] = None,
    fmt: ReportFormat = None,
    output: ReportOutput = None,
    quiet: Quiet = False,
) -> None:
    r"""Show each layer's output shape and number of parameters, with the totals (Keras's model.summary()).

    \b
    Examples:
      nnkit summary --model course-cnn             # 104 202 parameters
      nnkit summary --model course-mlp             # 101 770 parameters
      nnkit summary cnn.npz
      nnkit summary --layers "conv 8 3, flatten, dense 10" --input-shape 8,8
      nnkit summary --model course-cnn -o cnn_summary.csv
    """
    from nnkit.cli.layers_grammar import keeps_image_shape
    from nnkit.nn.stack import summary as layer_summary

    env = environment(quiet)
    resolve_format(fmt, env, report=True)
    check_report_target(output, env=env)
    asked = sum(x is not None for x in (model_file, layers, model))
    if asked != 1:
        raise NnkitInputError(
            "nnkit summary takes one of: a model file, --layers or --model",
            hint="e.g. nnkit summary --model course-cnn",
        )
    shape = None if input_shape is None else parse_input_shape(input_shape)
    if model_file is not None:
        from nnkit.files.model_file import load_model

        if data is not None:
            raise NnkitInputError("--data applies to --layers; a model file knows its input shape")
        network, _ = load_model(model_file)
        if shape is not None and shape != network.input_shape:
            raise NnkitInputError(f"{model_file} takes inputs of shape {','.join(map(str, network.input_shape))}, "
                                  f"not {input_shape}")
        table = layer_summary(network.layers, network.input_shape)
        table["rows"][-1]["activation"] = network.output
        shape, title = network.input_shape, model_file
    else:
        from nnkit.cli.train import resolve_stack

        specs, title, _ = resolve_stack(layers, model)
        if shape is None and data is not None:
            shape = _data_shape(data, keeps_image_shape(specs))
        if shape is None and model is not None:
            shape = COURSE_INPUT_SHAPE
        if shape is None:
            raise NnkitInputError("--layers needs an input shape", hint="give --input-shape 28,28,1 or --data PATH")
        if specs[-1]["units"] is None:
            specs[-1]["units"] = COURSE_CLASSES
        if specs[-1].get("activation") is None:
            specs[-1]["activation"] = "sigmoid" if specs[-1]["units"] == 1 else "softmax"
        from nnkit.cli.layers_grammar import require_stack_memory

        require_stack_memory(specs, shape)
        table = layer_summary(specs, shape)
        if model in KERAS_SOFTMAX_ROW:
            table = softmax_as_its_own_row(table)
    rows = keras_rows(table)
    result = {
        "input_shape": list(shape),
        "layers": [
            {"name": r["name"], "type": r["type"], "activation": r["activation"],
             "output_shape": list(r["output_shape"]), "params": r["params"]}
            for r in rows
        ],
        "total_params": table["total_params"],
        "trainable_params": table["total_params"],
    }
    header = ["layer", "type", "activation", "output_shape", "params"]
    lines = [[r["name"], r["type"], r["activation"], "x".join(map(str, r["output_shape"])), r["params"]]
             for r in result["layers"]]
    emit_report(result, env, fmt, output, (header, lines),
                render=lambda console: _render(console, result, title, as_keras=model is not None))


def _render(console, result: dict, title: str, as_keras: bool) -> None:
    """The course models as Keras's own model.summary() table, others nnkit's (with activations)."""
    if as_keras:
        _show_as_keras(console, result)
    else:
        _show(console, result, title)


def _data_shape(data: str, keep_image_shape: bool) -> tuple[int, ...]:
    from nnkit.data.labelled import channels_last, load_dataset

    dataset = load_dataset(data)
    if dataset.kind == "images" and keep_image_shape:
        return channels_last(dataset.image_shape)
    x = dataset.parts["train"][0]
    return (int(x[0].size),)


def _show(console, result: dict, title: str) -> None:
    from rich.table import Table
    from rich.text import Text

    table = Table(title=Text(f"{title}: input {tuple(result['input_shape'])}"), header_style="bold")
    for column, justify in (("Layer (type)", "left"), ("Activation", "left"), ("Output Shape", "left"),
                            ("Param #", "right")):
        table.add_column(column, justify=justify)
    for r in result["layers"]:
        shape = "(None, " + ", ".join(map(str, r["output_shape"])) + ")"
        table.add_row(Text(f"{r['name']} ({r['type']})"), Text(r["activation"] or ""), Text(shape), f"{r['params']:,}")
    console.print(table)
    total = result["total_params"]
    console.print(Text(f" Total params: {total:,}\n Trainable params: {total:,}\n Non-trainable params: 0"))


def _show_as_keras(console, result: dict) -> None:
    """The course models as the chapter's ``model.summary()`` prints them (Keras 3).

    Three columns splitting 88 characters at 45 % and 80 %, a line between rows, the parameters'
    size as float32.
    """
    from rich.table import Column, Table
    from rich.text import Text

    width = min(88, console.width - 4)
    widths = [int(0.45 * width), int(0.80 * width) - int(0.45 * width), width - int(0.80 * width)]
    columns = [Column(name, justify=justify, width=w) for name, justify, w in
               zip(("Layer (type)", "Output Shape", "Param #"), ("left", "left", "right"), widths, strict=True)]
    table = Table(*columns, width=width, show_lines=True)
    for r in result["layers"]:
        shape = "(None, " + ", ".join(map(str, r["output_shape"])) + ")"
        table.add_row(Text(f"{r['name']} ({r['type']})"), Text(shape), f"{r['params']:,}")
    console.print(Text('Model: "sequential"', style="bold"))
    console.print(table)
    total = result["total_params"]
    size = readable_memory_size(4 * total)
    for label, count, text in (("Total", total, size), ("Trainable", total, size),
                               ("Non-trainable", 0, readable_memory_size(0))):
        console.print(Text(f" {label} params: ", style="bold") + Text(f"{count:,} ({text})"))
