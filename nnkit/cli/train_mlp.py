"""``nnkit train-mlp``: train a multilayer perceptron on real data and report what clinicians read."""

from __future__ import annotations

from typing import Annotated

import typer

from nnkit.cli import training_core as core
from nnkit.cli import training_run as run
from nnkit.cli.batch_modes import run_request
from nnkit.cli.common import Precision, Progress, Quiet, ReportOutput, Threads, hidden_option, parse_hidden
from nnkit.errors import NnkitInputError, unknown_name
from nnkit.nn.layers import HIDDEN_ACTIVATIONS

DEFAULT_HIDDEN = "256"
DEFAULT_BATCH = "32"


def mlp_specs(hidden: list[int], activation: str, dropout: float) -> list[dict]:
    """The layer specs of ``--hidden/--activation/--dropout``; the output layer fits the classes.

    Examples
    --------
    >>> mlp_specs([16], "relu", 0.2)
    [{'type': 'dense', 'units': 16, 'activation': 'relu'}, {'type': 'dropout', 'rate': 0.2}, {'type': 'dense', 'units': None}]
    """
    specs: list[dict] = []
    for size in hidden:
        specs.append({"type": "dense", "units": size, "activation": activation})
        if dropout:
            specs.append({"type": "dropout", "rate": dropout})
    return [*specs, {"type": "dense", "units": None}]


def train_mlp(
    ctx: typer.Context,
    data: core.Data = "digits",
    label_column: core.LabelColumn = None,
    hidden: hidden_option(DEFAULT_HIDDEN) = None,
    activation: Annotated[
        str | None,
        typer.Option(
            "-a",
            "--activation",
            help=f"Hidden activation: {', '.join(HIDDEN_ACTIVATIONS)} (default relu).",
            show_default=False,
        ),
    ] = None,
    dropout: Annotated[
        float | None,
        typer.Option(
            "--dropout",
            help="Dropout rate after each hidden layer, in [0, 1): that fraction of the hidden "
            "values is zeroed in each training step (none when predicting). Default 0.",
            show_default=False,
        ),
    ] = None,
    optimizer: core.OptimizerName = "adam",
    lr: core.LearningRate = None,
    batch_size: Annotated[
        str,
        typer.Option(
            "--batch-size",
            help="Samples per step: N (mini-batch learning), 1 (online learning) or 'full' (batch learning). "
            "Several, comma-separated (full,1,32): one model each on the same split and seed, compared.",
        ),
    ] = DEFAULT_BATCH,
    epochs: core.Epochs = 50,
    val_split: core.ValSplit = 0.1,
    val_from: core.ValFrom = "stratified",
    test_split: core.TestSplit = 0.2,
    early_stopping: core.EarlyStopping = None,
    l2: core.L2 = 0.0,
    seed: core.Seed = 0,
    positive: core.Positive = None,
    save: core.Save = None,
    resume: core.Resume = None,
    plot: core.Plot = None,
    progress: Progress = None,
    lr_find: core.LrFind = False,
    fmt: core.ReportFormat = None,
    output: ReportOutput = None,
    precision: Precision = 6,
    quiet: Quiet = False,
    threads: Threads = None,
) -> None:
    r"""Train a multilayer perceptron and report loss, accuracy, the confusion matrix and per-class metrics.

    With two classes also sensitivity, specificity and ROC AUC. --batch-size 1 is online learning,
    full is batch learning, anything between mini-batch learning (the course's バッチ処理); several
    sizes train one model each, side by side.

    \b
    Examples:
      nnkit train-mlp                                # the bundled 8×8 digits
      nnkit train-mlp --data samples/breast_cancer_wdbc.csv --positive malignant
      nnkit train-mlp --data mnist/ --hidden 256,128 --save mnist.npz
      nnkit train-mlp --batch-size full,1,32 --epochs 20 --plot modes.png
    """
    if activation is not None and activation not in HIDDEN_ACTIVATIONS:
        raise unknown_name("activation", activation, HIDDEN_ACTIVATIONS)
    if dropout is not None and not 0.0 <= dropout < 1.0:
        raise NnkitInputError(f"--dropout must be a rate in [0, 1), got {dropout}")
    hidden_sizes = parse_hidden(hidden or DEFAULT_HIDDEN)

    def check_saved(saved: dict) -> dict:
        saved_hidden, saved_activations = _saved_mlp(saved)
        if hidden is not None and hidden_sizes != saved_hidden:
            raise NnkitInputError(f"--hidden {hidden} differs from the resumed model's {saved_hidden}")
        if activation is not None and any(a != activation for a in saved_activations):
            raise NnkitInputError(
                f"--activation {activation} differs from the resumed model's {', '.join(saved_activations) or 'none'}"
            )
        return {}

    request = run.TrainingRequest(
        command="train-mlp",
        architecture=run.Architecture(
            mlp_specs(hidden_sizes, activation or "relu", dropout or 0.0),
            f"--hidden {hidden_sizes}",
            given=resume is None or dropout is not None,
            from_saved=check_saved,
        ),
        settings=run.Settings(
            optimizer=optimizer, lr=lr, batch_size=batch_size, epochs=epochs, val_split=val_split,
            val_from=val_from, test_split=test_split, early_stopping=early_stopping, l2=l2, seed=seed,
            threads=threads,
        ),
        data=data,
        label_column=label_column,
        positive=positive,
        save=save,
        resume=resume,
        typed=core.typed_options(ctx),
        progress=progress,
    )
    run_request(ctx, request, lr_find=lr_find, batch_size=batch_size, plot=plot, fmt=fmt, output=output,
                     precision=precision, quiet=quiet)


def _saved_mlp(saved: dict) -> tuple[list[int], list[str]]:
    """The hidden sizes and activations of a resumed model; a conv network is refused."""
    layers = saved.get("layers")
    if layers is None:  # a file from before the layer list
        return saved["sizes"][1:-1], saved["activations"]
    other = sorted({c["type"] for c in layers} - {"dense", "activation", "dropout"})
    if other:
        raise NnkitInputError(
            f"the resumed model has {', '.join(other)} layers, not a multilayer perceptron",
            hint="continue it with nnkit train --resume",
        )
    units = [c["units"] for c in layers if c["type"] == "dense"]
    return units[:-1], [c["name"] for c in layers if c["type"] == "activation"]
