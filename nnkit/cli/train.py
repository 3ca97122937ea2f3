"""``nnkit train``: train any stack of conv, pool, dropout and dense layers, or the course's models."""

from __future__ import annotations

from typing import Annotated

import typer

from nnkit.cli import training_core as core
from nnkit.cli import training_run as run
from nnkit.cli.batch_modes import run_request
from nnkit.cli.common import DEFAULT_MAPS, Maps, Precision, Progress, Quiet, ReportOutput, Threads
from nnkit.cli.layers_grammar import COURSE_MODELS, grammar_help, parse_layers, stack_text
from nnkit.errors import NnkitInputError, unknown_name
from nnkit.nn.stack import INITS

#: The defaults of a --layers stack (those of a --model are in COURSE_MODELS).
DEFAULTS = {"optimizer": "adam", "lr": None, "batch_size": "32", "epochs": 10, "val_split": 0.1,
            "val_from": "stratified", "init": "auto"}
_MODELS_HELP = "; ".join(f"{name}: {m.description} = {m.layers!r}" for name, m in COURSE_MODELS.items())

LayersOption = Annotated[
    str | None,
    typer.Option(
        "--layers",
        help="The layer stack, comma-separated, e.g. \"conv 32 3 relu, maxpool 2, flatten, dense 10 softmax\". "
        + grammar_help(),
        metavar="STACK",
        show_default=False,
    ),
]
ModelOption = Annotated[
    str | None,
    typer.Option(
        "--model",
        help=f"One of the course's models with its chapter's settings (RMSprop as Keras: lr 1e-3, "
        f"rho 0.9, eps 1e-7; batch 128; 10 epochs; the last 20 % for validation; Glorot uniform "
        f"weights), each overridable; the last layer has one unit per class of the data (10 for MNIST): "
        f"{_MODELS_HELP}.",
        metavar="NAME",
        show_default=False,
    ),
]


def resolve_stack(layers: str | None, model: str | None) -> tuple[list[dict], str, dict]:
    """(specs, how to describe them, the settings they come with) from --layers or --model."""
    if layers is not None and model is not None:
        raise NnkitInputError("give --layers or --model, not both")
    if model is not None:
        chosen = COURSE_MODELS.get(model)
        if chosen is None:
            raise unknown_name("--model", model, COURSE_MODELS)
        settings = {"optimizer": chosen.optimizer, "lr": chosen.lr, "batch_size": str(chosen.batch_size),
                    "epochs": chosen.epochs, "val_split": chosen.val_split, "val_from": chosen.val_from,
                    "init": chosen.init}
        specs = parse_layers(chosen.layers)
        specs[-1]["units"] = None  # one softmax unit per class of the data: 10 on MNIST, as in the chapter
        return specs, model, settings
    if layers is None:
        return [], "", dict(DEFAULTS)
    specs = parse_layers(layers)
    return specs, stack_text(specs), dict(DEFAULTS)


def train(
    ctx: typer.Context,
    layers: LayersOption = None,
    model: ModelOption = None,
    data: core.Data = "digits",
    label_column: core.LabelColumn = None,
    optimizer: core.OptimizerName = None,
    lr: core.LearningRate = None,
    batch_size: core.BatchSize = None,
    epochs: core.Epochs = None,
    val_split: core.ValSplit = None,
    val_from: core.ValFrom = None,
    test_split: core.TestSplit = 0.2,
    early_stopping: core.EarlyStopping = None,
    l2: core.L2 = 0.0,
    seed: core.Seed = 0,
    init: Annotated[
        str | None,
        typer.Option(
            "--init",
            help=f"Initial weights: {', '.join(INITS)} (keras: Glorot uniform and zero biases, "
            "Keras's defaults; auto: He before ReLU, Glorot otherwise). Default auto, keras for --model.",
            show_default=False,
        ),
    ] = None,
    positive: core.Positive = None,
    save: core.Save = None,
    resume: core.Resume = None,
    plot: core.Plot = None,
    maps: Maps = DEFAULT_MAPS,
    progress: Progress = None,
    lr_find: core.LrFind = False,
    fmt: core.ReportFormat = None,
    output: ReportOutput = None,
    precision: Precision = 6,
    quiet: Quiet = False,
    threads: Threads = None,
) -> None:
    r"""Train a network of conv, pool, dropout and dense layers (or a course model) and report on it.

    \b
    Examples:
      nnkit train --model course-cnn --data mnist/ --plot cnn.png
      nnkit train --layers "conv 8 3 relu, maxpool 2, flatten, dense 10 softmax"
      nnkit train --resume cnn.npz --data mnist/ --epochs 5
    """
    specs, describe, defaults = resolve_stack(layers, model)
    if not specs and resume is None:
        raise NnkitInputError(
            "nnkit train needs --layers or --model",
            hint=f"e.g. --model {next(iter(COURSE_MODELS))}, or --layers \"conv 8 3 relu, maxpool 2, "
            "flatten, dense 10 softmax\"",
        )
    if init is not None and init not in INITS:
        raise unknown_name("--init", init, INITS)
    typed = {"optimizer": optimizer, "lr": lr, "batch_size": batch_size, "epochs": epochs,
             "val_split": val_split, "val_from": val_from, "init": init}
    chosen = {name: typed[name] if name in core.given_options(ctx, typed) else default
              for name, default in defaults.items()}
    if specs:
        architecture = run.Architecture(specs, describe, extra_meta={"model": model} if model else {"layers": describe})
    else:  # --resume without layers: continue the saved ones
        architecture = run.Architecture([], "the saved layers", given=False, from_saved=_saved_extra)
    request = run.TrainingRequest(
        command="train",
        architecture=architecture,
        settings=run.Settings(test_split=test_split, early_stopping=early_stopping, l2=l2, seed=seed,
                              threads=threads, **chosen),
        data=data,
        label_column=label_column,
        positive=positive,
        save=save,
        resume=resume,
        typed=core.typed_options(ctx),
        progress=progress,
    )
    run_request(ctx, request, lr_find=lr_find, batch_size=batch_size, plot=plot, fmt=fmt, output=output,
                     precision=precision, quiet=quiet, maps=maps)


def _saved_extra(saved: dict) -> dict:
    options = saved.get("options") or {}
    return {key: options[key] for key in ("model", "layers") if isinstance(options.get(key), str)}
