"""What ``nnkit train`` and ``nnkit train-mlp`` share on the command line: options, the report's rendering.

Each command describes what to train as a :class:`~nnkit.cli.training_run.TrainingRequest` and calls
:func:`train_and_report`, which runs it (:func:`~nnkit.cli.training_run.run_training`: resume, data,
build, fit, evaluate, save) and then draws the ``--plot`` and prints the report.
"""

from __future__ import annotations

import json
import time
from typing import Annotated, Literal

import typer

from nnkit.cli.common import environment
from nnkit.cli.training_run import RESUMED_OPTIONS, TrainingRequest, TrainingRun, run_training
from nnkit.errors import ExitStatus
from nnkit.nn.optimizers import OPTIMIZERS
from nnkit.term.output import format_number, resolve_format, write_stdout_bytes

LR_HELP = ", ".join(f"{name} {cls.DEFAULT_LR:g}" for name, cls in OPTIMIZERS.items())

# --- the options both training commands take, written once --------------------------------------
ReportFormat = Annotated[
    Literal["table", "json", "csv", "tsv"] | None,
    typer.Option(
        "-f",
        "--format",
        help="table (default on a terminal), json: the whole report (default in a pipe), "
        "csv/tsv: the per-epoch history.",
        show_default=False,
    ),
]
Data = Annotated[
    str,
    typer.Option(
        "--data",
        help="'digits' (bundled 8×8 handwritten digits), a named data set downloaded once "
        "(mnist, fashion-mnist, pneumoniamnist …: see nnkit datasets), a CSV table, an .npz "
        "(Keras MNIST or MedMNIST layout) or a folder of MNIST IDX files.",
    ),
]
LabelColumn = Annotated[
    str | None,
    typer.Option(
        "--label-column",
        help="CSV: the label column's name or index (default: the last column).",
        show_default=False,
    ),
]
OptimizerName = Annotated[
    str | None,
    typer.Option("--optimizer", help=f"Optimizer: {', '.join(OPTIMIZERS)}.", show_default=False),
]
LearningRate = Annotated[
    float | None,
    typer.Option("--lr", help=f"Learning rate (default per optimizer: {LR_HELP}).", show_default=False),
]
BatchSize = Annotated[
    str | None,
    typer.Option(
        "--batch-size",
        help="Samples per step: N (mini-batch learning), 1 (online learning) or 'full' (batch learning). "
        "Several, comma-separated (full,1,32): one model each on the same split and seed, compared.",
        show_default=False,
    ),
]
Epochs = Annotated[int | None, typer.Option("--epochs", help="Passes over the training data.", show_default=False)]
ValSplit = Annotated[
    float | None,
    typer.Option(
        "--val-split",
        help="Fraction held out for validation, when the data has no validation part: of all the "
        "data, or of its training part when it has a test part.",
        show_default=False,
    ),
]
ValFrom = Annotated[
    Literal["stratified", "last"] | None,
    typer.Option(
        "--val-from",
        help="How the validation part is taken: 'stratified' (a seeded sample keeping each "
        "class's share) or 'last' (the last rows, unshuffled, as Keras's validation_split).",
        show_default=False,
    ),
]
TestSplit = Annotated[
    float,
    typer.Option(
        "--test-split",
        help="Fraction of the data held out for testing (stratified), when it has none.",
    ),
]
EarlyStopping = Annotated[
    int | None,
    typer.Option(
        "--early-stopping",
        help="Stop after N epochs without a better validation loss; keep the best weights.",
        metavar="N",
        show_default=False,
    ),
]
L2 = Annotated[float, typer.Option("--l2", help="L2 weight decay added to the gradients.")]
Seed = Annotated[int, typer.Option("--seed", min=0, help="Seed of the splits, weights, dropout and shuffles.")]
Positive = Annotated[
    str | None,
    typer.Option(
        "--positive",
        help="Two classes: the positive class for sensitivity, specificity and ROC AUC "
        "(default: the second in sorted order).",
        show_default=False,
    ),
]
Save = Annotated[
    str | None,
    typer.Option("--save", help="Write the trained model (.npz).", metavar="MODEL.npz"),
]
Resume = Annotated[
    str | None,
    typer.Option(
        "--resume",
        help="Continue training a saved model (.npz), with its optimizer, --lr, --batch-size, "
        "--l2, --seed and splits unless given again.",
        metavar="MODEL.npz",
    ),
]
Plot = Annotated[
    str | None,
    typer.Option(
        "--plot",
        help="Draw the learning curves and the confusion matrix (.png).",
        metavar="PATH.png",
    ),
]


def given_options(ctx: typer.Context, names) -> set[str]:
    """The options of ``names`` typed on the command line (not left at their defaults)."""
    return {name for name in names if ctx.get_parameter_source(name).name not in ("DEFAULT", "DEFAULT_MAP")}


def typed_options(ctx: typer.Context) -> frozenset:
    """The options of a training command that a ``--resume`` run must not take from the saved model."""
    return frozenset(given_options(ctx, (*RESUMED_OPTIONS, "data")))


def train_and_report(
    ctx: typer.Context, request: TrainingRequest, *, plot: str | None, fmt: str | None, precision: int, quiet: bool
) -> None:
    """The body of both training commands: run the training (:func:`run_training`), then draw and print.

    Ctrl-C is handled from the first line on: exit 130 wherever it lands, and never between an
    epoch's history row and its weights, nor while the model, the picture and the report are written.
    """
    from nnkit.term.interrupts import InterruptGuard

    guard = ctx.with_resource(InterruptGuard())
    started = time.perf_counter()
    env = environment(quiet)
    chosen = resolve_format(fmt or ("table" if env.stdout_isatty else "json"), env)
    run = run_training(request, env, guard, plot)
    report = run.report
    if plot is not None:
        write_run_plot(plot, run, request.command, env)
    report["seconds"] = time.perf_counter() - started
    if chosen == "json":
        write_stdout_bytes(env, (json.dumps(report) + "\n").encode())
    elif chosen in ("csv", "tsv"):
        write_stdout_bytes(env, history_text(report["history"], chosen).encode())
    else:
        _show_report(env.console(), report, precision, run.title)
    guard.release()
    if report["interrupted"]:
        env.note("nnkit: interrupted: the results above are for the epochs completed")
        raise typer.Exit(ExitStatus.INTERRUPTED)


def write_run_plot(plot: str, run: TrainingRun, command: str, env) -> None:
    """``--plot``: the learning curves, confusion matrix and ROC curve (and a conv stack's filters)."""
    from nnkit.plots.conv_maps import conv_plot_extras
    from nnkit.plots.training_run import write_training_plot

    report, prepared = run.report, run.prepared
    test = report["test"]
    write_training_plot(
        plot,
        report["history"],
        None if test is None else test["confusion_matrix"],
        prepared.classes,
        title=f"{command} on {report['data']}: {run.title}",
        env=env,
        best_epoch=report["best_epoch"],
        roc=run.roc,
        positive=report.get("positive"),
        **conv_plot_extras(run.network, prepared.x, prepared.y, prepared.classes),  # filters and feature maps
    )
    env.note(f"nnkit: wrote {plot}")


def history_text(history: list, fmt: str, lead: tuple[str, ...] = ()) -> str:
    """The per-epoch history as CSV or TSV (``-f csv|tsv``); the ``lead`` keys of each row come first.

    Examples
    --------
    >>> print(history_text([{"run": "full", "epoch": 1, "loss": 0.5, "accuracy": 0.75, "val_loss": None,
    ...                      "val_accuracy": None, "seconds": 0.25}], "csv", lead=("run",)), end="")
    run,epoch,loss,accuracy,val_loss,val_accuracy,seconds
    full,1,0.5,0.75,,,0.25
    """
    sep = "," if fmt == "csv" else "\t"
    keys = ["epoch", "loss", "accuracy", "val_loss", "val_accuracy", "seconds"]
    lines = [sep.join([*lead, *keys])]
    for row in history:
        values = [str(row[k]) for k in lead] + ["" if row[k] is None else repr(row[k]) for k in keys]
        lines.append(sep.join(values))
    return "\n".join(lines) + "\n"


def _show_report(console, report: dict, precision: int, title: str) -> None:
    from rich.table import Table
    from rich.text import Text

    def num(value):
        return "—" if value is None else format_number(value, precision)

    summary = Table(title=Text(f"{report['data']}: {title}, {report['epochs_run']} epoch(s)"), header_style="bold")
    for column in ("part", "samples", "loss", "accuracy"):
        summary.add_column(column, justify="right")
    for key in ("train", "validation", "test"):
        part = report[key]
        if part is not None:
            summary.add_row(key, str(part["samples"]), num(part["loss"]), num(part["accuracy"]))
    console.print(summary)
    if report.get("best_epoch") is not None:
        console.print(Text(f"early stopping: the weights of epoch {report['best_epoch']} are kept"))

    test = report["test"]
    if test is None:
        return
    names = [str(c) for c in report["classes"]]
    cm = Table(title="confusion matrix (test): rows true class, columns predicted", header_style="bold")
    cm.add_column("true \\ predicted", justify="right")
    for name in names:
        cm.add_column(Text(name), justify="right")
    for name, row in zip(names, test["confusion_matrix"], strict=True):
        cm.add_row(Text(name), *[str(v) for v in row])
    console.print(cm)

    per_class = Table(title="per class (test)", header_style="bold")
    for column in ("class", "precision", "recall", "F1", "support"):
        per_class.add_column(column, justify="right")
    for row in test["per_class"]:
        per_class.add_row(
            Text(str(row["class"])),
            num(row["precision"]),
            num(row["recall"]),
            num(row["f1"]),
            str(row["support"]),
        )
    console.print(per_class)
    if "sensitivity" in test:
        clinical = Table(title=f"positive class: {report['positive']} (test)", header_style="bold")
        for column in ("sensitivity", "specificity", "ROC AUC"):
            clinical.add_column(column, justify="right")
        clinical.add_row(num(test["sensitivity"]), num(test["specificity"]), num(test["roc_auc"]))
        console.print(clinical)
