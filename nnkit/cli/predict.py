"""``nnkit predict MODEL INPUT…``: classify rows or images with a model saved by ``train``/``train-mlp``.

Pictures of another size than an MNIST-like model's 28×28 (a learner's own digit) are prepared as
MNIST's digits were (:mod:`nnkit.data.own_digit`), saying so on stderr; ``--plot`` draws the
input as the model sees it beside its probabilities, and for conv models the first layer's filters
and the feature maps of every conv layer (:mod:`nnkit.plots.conv_maps`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import numpy as np
import typer

from nnkit.cli.common import (
    DEFAULT_MAPS,
    Column,
    Format,
    Input,
    Maps,
    Precision,
    Quiet,
    environment,
    old_spelling,
    plot_option,
    renamed,
)
from nnkit.data.preprocessing import apply_preprocessing
from nnkit.errors import NnkitInputError, no_such_file, shape_text
from nnkit.files.arrays import NPY_MAGIC, parse_bytes, parse_numbers, read_source
from nnkit.files.images import IMAGE_SUFFIXES, read_image, read_picture_bytes
from nnkit.files.orientation import column_as_vector
from nnkit.nn.metrics import class_probabilities
from nnkit.term.output import (
    OutputPlan,
    atomic_write,
    check_output_path,
    format_number,
    refuse_input_overwrite,
    report_text,
    resolve_format,
    to_npy_bytes,
    write_stdout_bytes,
)

TABLE_SUFFIXES = (".csv", ".tsv", ".txt")


def _table_rows(text: str, suffix: str, source: str, preprocessing: dict):
    """Feature rows of a text table; a training-style header selects and orders the columns."""
    from nnkit.data.labelled import feature_matrix
    from nnkit.files.tables import is_json, read_json_array, read_table

    if is_json(text):
        x = read_json_array(text, source)
        return x, [source]
    table = read_table(text, source, suffix)
    if not table.lines:
        raise NnkitInputError(f"{source} has a header but no data rows")
    names = preprocessing.get("feature_names") or []
    header = table.header
    if header is not None and names and all(name in header for name in names):
        columns = [header.index(name) for name in names]  # drops the label column if present
    else:
        columns = list(range(table.width))
    # The training hint (--label-column) means nothing here: predict takes features only.
    x = feature_matrix(
        table,
        columns,
        hint="give the feature columns only, or a header row naming the training columns "
        "so that the label column is skipped",
    )
    labels = [f"{source}:{line}" for line, _ in table.lines]
    return x, labels


def _is_file(path: Path) -> bool:
    try:
        return path.is_file()
    except OSError:  # a long row of numbers is "File name too long", not a file
        return False


#: The image size of MNIST-like models, whose inputs of other sizes are prepared as MNIST's digits.
MNIST_SHAPE = (28, 28)


class _Inputs:
    """Collects raw rows (to be preprocessed) and images (already scaled to 0..1) in order."""

    def __init__(self, preprocessing: dict | None, env=None, column: str | None = None, n_features: int = 0):
        # A model of one feature reads a column as samples: nothing to choose between.
        self.env, self.column = (env if n_features != 1 else None), column
        self.spec = preprocessing or None  # none stored: the values are used as they are
        self.preprocessing = preprocessing or {}
        self.blocks: list[tuple[np.ndarray, bool]] = []  # (rows, already scaled)
        self.labels: list[str] = []
        #: The picture each prepared input was made from (a learner's own digit) and what was done
        #: to it, by input index.
        self.originals: dict[int, tuple[np.ndarray, str]] = {}
        #: What was done to the inputs, said on stderr once every input has been read.
        self.notes: list[str] = []

    @property
    def image_shape(self):
        shape = self.preprocessing.get("image_shape")
        return tuple(shape) if shape else None

    def add_rows(self, x: np.ndarray, labels: list[str]) -> None:
        x = np.asarray(x)
        shape = self.image_shape
        if shape is not None and x.shape[-len(shape) :] == shape and x.ndim in (len(shape), len(shape) + 1):
            x = x.reshape(-1, int(np.prod(shape)))  # one image or a stack of images (raw pixels)
        elif self.env is not None and column_as_vector(x, self.env, self.column, "the input"):
            x = x.reshape(1, -1)  # the course's column vector: one input
            labels = labels[:1]
        elif x.ndim == 1:
            x = x.reshape(1, -1)
        elif x.ndim != 2:
            raise NnkitInputError(f"expected rows of features, got an array of shape {x.shape}")
        if len(labels) != x.shape[0]:
            labels = [f"{labels[0]}[{i}]" for i in range(x.shape[0])] if labels else []
        if not np.issubdtype(x.dtype, np.number) or not np.all(np.isfinite(x)):
            raise NnkitInputError(f"{labels[0] if labels else 'input'}: values must be finite numbers")
        self.blocks.append((x, False))
        self.labels.extend(labels)

    def add_image(self, path: Path) -> None:
        self.add_picture(read_image(path), str(path))

    def add_picture(self, image: np.ndarray, path: str) -> None:
        """One picture read as grayscale 0..1 (a file or stdin), prepared when it is a learner's digit."""
        from nnkit.data.own_digit import is_dark_on_light, prepare_digit

        shape = self.image_shape
        if shape is None:
            raise NnkitInputError(f"{path} is an image, but the model was trained on a table of features")
        mnist_like = shape == MNIST_SHAPE
        if mnist_like and (image.shape != shape or is_dark_on_light(image)):
            digit = prepare_digit(image, path)
            self.notes.append(digit.describe(path))
            self.originals[len(self.labels)] = (image, digit.short())
            image = digit.image
        elif len(shape) == 3:
            raise NnkitInputError(
                f"the model takes {shape_text(shape)} images ({shape[2]} channels); "
                f"{path} is read as grayscale",
                hint=f"give the images as an (N, {', '.join(map(str, shape))}) .npy array",
            )
        elif image.shape != shape:
            raise NnkitInputError(
                f"{path} is {image.shape[0]}×{image.shape[1]} pixels; the model takes "
                f"{shape_text(shape)} images",
                hint="resize the image to the training images' size first",
            )
        self.blocks.append((image.reshape(1, -1), True))
        self.labels.append(path)

    def matrix(self, n_features: int) -> np.ndarray:
        parts = []
        for x, scaled in self.blocks:
            if x.shape[1] != n_features:
                raise NnkitInputError(f"the model takes {n_features} values per input, got rows of {x.shape[1]}")
            parts.append(x.astype(np.float32) if scaled else apply_preprocessing(x, self.spec))
        return np.concatenate(parts)


def _add_test_part(collected: _Inputs, source: str, env) -> None:
    """The raw test images of a data set, as rows to classify (``--data``)."""
    from nnkit.data.labelled import load_dataset

    if collected.image_shape is None:  # checked before a download
        raise NnkitInputError(
            "--data classifies the test images of a data set, but the model was trained on a table of features",
            hint="give the rows to classify as INPUT arguments",
        )
    dataset = load_dataset(source, env=env)
    if "test" not in dataset.parts:
        raise NnkitInputError(
            f"{source} has no test part to classify",
            hint="give the rows or images to classify as INPUT arguments",
        )
    x, _ = dataset.parts["test"]
    collected.add_rows(x, [f"{dataset.name}:test[{i}]" for i in range(x.shape[0])])


def predict(
    model: Annotated[
        str, typer.Argument(help="A model saved by nnkit train or train-mlp --save.", metavar="MODEL.npz")
    ],
    inputs: Annotated[
        list[str] | None,
        typer.Argument(
            help='Rows to classify: numbers ("1,2,3;4,5,6"), CSV/TSV/TXT files (a header row with '
            "the training column names picks the features), .npy arrays (rows, or an (N, H, W) "
            "stack of raw images such as uint8 MNIST) or images (PNG, JPEG …) of the training "
            "images' size; for a 28×28 (MNIST-like) model a picture of any size, or dark on light, "
            "is prepared as MNIST's digits were. - or nothing reads stdin (rows, .npy bytes or a picture).",
            show_default=False,
            metavar="[INPUT]...",
        ),
    ] = None,
    column: Column = None,
    data: Annotated[
        str | None,
        typer.Option(
            "--data",
            help="Also classify the test part of a data set: a named one (mnist, pneumoniamnist …, "
            "downloaded once, see nnkit datasets), an .npz or an MNIST IDX folder; its images are "
            "labelled NAME:test[i].",
            show_default=False,
        ),
    ] = None,
    input: Input = None,
    plot: plot_option(
        "Draw the first input as the model sees it beside its class probabilities (and the picture it "
        "was prepared from); for conv models also the first layer's filters and the feature maps of "
        "every conv layer"
    ) = None,
    features: old_spelling("--features") = None,
    fmt: Format = None,
    output: Annotated[
        str | None,
        typer.Option(
            "-o",
            "--output",
            help="Also write the predictions to this file, the format chosen by its extension: .csv .tsv "
            "(prediction and one probability column per class), .json, .npy (the probabilities).",
            metavar="PATH",
            show_default=False,
        ),
    ] = None,
    maps: Maps = DEFAULT_MAPS,
    precision: Precision = 6,
    quiet: Quiet = False,
) -> None:
    r"""Predict the class and class probabilities of each input row or image with a saved model.

    The preprocessing of training (image scaling, feature standardisation) is stored in the model
    and applied here. A column of numbers is one input (the course's notation, see --column).

    \b
    Examples:
      nnkit train-mlp --data samples/breast_cancer_wdbc.csv --save cancer.npz
      nnkit predict cancer.npz samples/breast_cancer_wdbc.csv
      nnkit predict mnist.npz digit.png --plot seen.png
      nnkit predict cancer.npz -i rows.csv -o predictions.csv
      cut -d, -f1-30 rows.csv | nnkit predict cancer.npz -f json
    """
    from nnkit.files.model_file import load_model

    env = environment(quiet)
    chosen = resolve_format(fmt, env)
    features = renamed(env, "--features", "--plot", features, plot)
    _plan_outputs(env, model, input, features, output)
    network, meta = load_model(model)
    env.inputs.append(Path(model))
    n_out = network.layers[-1].n_out
    classes = list(meta.get("classes") or range(n_out if n_out > 1 else 2))
    collected = _Inputs(meta.get("preprocessing"), env, column, int(np.prod(network.input_shape)))
    if features is not None and collected.image_shape is None:
        raise NnkitInputError(
            "--plot draws images and what a model sees in them; this model takes rows of features"
        )
    tokens = list(inputs or []) + ([input] if input is not None else [])
    if data is not None:
        _add_test_part(collected, data, env)
    elif not tokens:
        tokens = ["-"]
    _collect(collected, tokens, env)
    for target in (features, output):
        if target is not None:
            refuse_input_overwrite(Path(target), env)  # before the notes and predictions, not after
    x, proba = _classify(network, collected)
    predicted = [classes[k] for k in np.argmax(proba, axis=1)]
    for note in collected.notes:
        env.note(note)
    _cautions(meta.get("training_summary"), x, proba, collected.labels, env)
    if features is not None:
        _draw_features(features, network, x, proba, classes, collected, Path(model).name, env, maps)
    _deliver(env, chosen, output, collected.labels, predicted, proba, classes, precision)


def _plan_outputs(env, model: str, input: str | None, features: str | None, output: str | None) -> None:
    """--plot and -o checked together before any work (all or nothing)."""
    plan = OutputPlan(env, inputs=[model, input])
    if features is not None:
        check_output_path(features, ".png", "pictures")
        plan.add(features, "--plot", ".png")
    if output is not None:
        if Path(output).suffix.lower() not in (".csv", ".tsv", ".json", ".npy"):
            raise NnkitInputError(f"-o writes .csv, .tsv, .json or .npy; {output} ends in "
                                  f"{Path(output).suffix or 'nothing'}")
        plan.add(output, "-o")


def _collect(collected: _Inputs, tokens: list[str], env) -> None:
    """Every input word into ``collected``: numbers (runs of them are one row), files, or - for stdin."""
    numbers: list[str] = []
    for token in tokens:
        path = Path(token)
        if token != "-" and not _is_file(path):
            if path.suffix.lower() in (*IMAGE_SUFFIXES, *TABLE_SUFFIXES, ".npy", ".npz"):
                raise no_such_file(token)
            numbers.append(token)
            continue
        if numbers:
            collected.add_rows(parse_numbers(numbers), ["arguments"])
            numbers = []
        if token == "-":
            _add_stdin(collected, env)
        else:
            _add_file(collected, path, env)
    if numbers:
        collected.add_rows(parse_numbers(numbers), ["arguments"])


def _add_stdin(collected: _Inputs, env) -> None:
    data, source, _ = read_source("-", env)
    picture = read_picture_bytes(data, source)
    if data.startswith(NPY_MAGIC):
        collected.add_rows(parse_bytes(data, source), [source])
    elif picture is not None:  # cat digit.jpg | nnkit predict mnist.npz
        collected.add_picture(picture, source)
    else:
        text = data.decode("utf-8-sig", errors="replace")
        collected.add_rows(*_table_rows(text, ".csv", source, collected.preprocessing))


def _add_file(collected: _Inputs, path: Path, env) -> None:
    suffix = path.suffix.lower()
    if suffix in IMAGE_SUFFIXES:
        env.inputs.append(path)  # --plot never overwrites an input
        collected.add_image(path)
    elif suffix in TABLE_SUFFIXES:
        data, source, _ = read_source(path, env)
        text = data.decode("utf-8-sig", errors="replace")
        if not text.strip():
            raise NnkitInputError(f"{path} is empty")
        collected.add_rows(*_table_rows(text, suffix, path.name, collected.preprocessing))
    elif suffix in (".npy", ".npz"):
        data, source, _ = read_source(path, env)
        collected.add_rows(parse_bytes(data, source, suffix=suffix), [path.name])
    else:
        raise NnkitInputError(f"cannot tell the format of {path}")


def _classify(network, collected: _Inputs) -> tuple[np.ndarray, np.ndarray]:
    """The inputs as the network takes them, and its class probabilities (float64), all finite."""
    input_shape = tuple(network.input_shape)
    x = collected.matrix(int(np.prod(input_shape)))
    x = x.reshape(len(x), *input_shape)  # rows → (N, H, W, C) for conv models (C order, as trained)
    proba = class_probabilities(network.forward(x)).astype(np.float64)
    if not np.all(np.isfinite(proba)):
        bad = collected.labels[int(np.argmax(~np.all(np.isfinite(proba), axis=1)))]
        raise NnkitInputError(
            f"the model's outputs for {bad} are not finite numbers: its weights or the inputs are too large"
        )
    return x, proba


def _deliver(env, chosen: str, output: str | None, labels, predicted, proba, classes, precision: int) -> None:
    """-o by its extension, then stdout in the chosen format (a table on a terminal)."""

    def as_bytes(kind: str) -> bytes:
        if kind == "json":
            result = [
                {
                    "input": label,
                    "prediction": p,
                    "probabilities": {str(c): float(v) for c, v in zip(classes, row, strict=True)},
                }
                for label, p, row in zip(labels, predicted, proba, strict=True)
            ]
            return (json.dumps(result) + "\n").encode()
        if kind == "npy":
            return to_npy_bytes(proba)
        rows = [[p, *row] for p, row in zip(predicted, proba, strict=True)]
        return report_text(["prediction", *map(str, classes)], rows, kind).encode()

    if output is not None:
        data_bytes = as_bytes(Path(output).suffix.lower().lstrip("."))
        with atomic_write(output, env) as handle:
            handle.write(data_bytes)
        env.note(f"nnkit: wrote {output}")
    if chosen == "table":
        _show(env.console(), labels, predicted, proba, classes, precision)
    else:
        write_stdout_bytes(env, as_bytes(chosen))


def _cautions(summary, x, proba, labels, env, most: int = 5) -> None:
    """One line on stderr per input unlike the training inputs (stdout is unchanged)."""
    from nnkit.nn.novelty import caution

    flagged = [(label, text) for label, row, p in zip(labels, x.reshape(len(x), -1), proba, strict=True)
               if (text := caution(summary, row, p))]
    for label, text in flagged[:most]:
        env.note(f"nnkit: caution: {label}: {text}")
    if len(flagged) > most:
        env.note(f"nnkit: caution: {len(flagged) - most} more of the {len(labels)} inputs are unlike the training inputs")


def _draw_features(path, network, x, proba, classes, collected: _Inputs, model_name: str, env,
                   maps: int = DEFAULT_MAPS) -> None:
    """``--features``: the first input as the model sees it, its probabilities, filters and maps."""
    from nnkit.plots.conv_maps import write_features_plot

    label = collected.labels[0]
    image = x[0] if x.ndim == 4 else x[0].reshape(collected.image_shape)
    original, prepared = collected.originals.get(0, (None, None))
    write_features_plot(
        path,
        network.layers,
        image,
        proba[0],
        classes,
        f"nnkit predict {model_name}: {label}",
        original=original,
        prepared=prepared,
        maps=maps,
        env=env,
    )
    more = f" (the first of {len(x)} inputs)" if len(x) > 1 else ""
    env.note(f"nnkit: wrote {path}: what the model sees in {label}{more}")


def _show(console, labels, predicted, proba, classes, precision: int) -> None:
    from rich.measure import Measurement
    from rich.table import Table
    from rich.text import Text

    table = Table(title="predictions: class probabilities per input", header_style="bold")
    table.add_column("input")
    table.add_column("prediction", justify="right", style="bold")
    for c in classes:
        table.add_column(Text(f"p({c})"), justify="right")
    for label, p, row in zip(labels, predicted, proba, strict=True):
        best = int(np.argmax(row))
        cells = [Text(format_number(v, precision), style="bold" if j == best else "") for j, v in enumerate(row)]
        table.add_row(Text(label), Text(str(p)), *cells)
    if Measurement.get(console, console.options.update_width(10_000), table).maximum <= console.width:
        console.print(table)
        return
    # One column per class does not fit (ten digits on 80 columns): show each input's most likely
    # classes instead, and point to the formats that keep every probability.
    compact = Table(
        title="predictions: the most likely classes per input (-f csv or -f json: all probabilities)",
        header_style="bold",
    )
    compact.add_column("input", overflow="fold")
    compact.add_column("prediction", justify="right", style="bold")
    compact.add_column("p", justify="right")
    compact.add_column("next most likely: p", no_wrap=True)
    for label, p, row in zip(labels, predicted, proba, strict=True):
        order = np.argsort(-row, kind="stable")
        runners = ", ".join(f"{classes[j]}: {format_number(row[j], 3)}" for j in order[1:3])
        compact.add_row(Text(label), Text(str(p)), format_number(row[order[0]], precision), Text(runners))
    console.print(compact)
