"""What ``nnkit train`` and ``nnkit train-mlp`` share on the command line: options, the report's rendering.

Each command describes what to train as a :class:`~nnkit.cli.training_run.TrainingRequest` and calls
:func:`train_and_report`, which runs it (:func:`~nnkit.cli.training_run.run_training`: resume, data,
build, fit, evaluate, save) and then draws the ``--plot`` and prints the report.
"""

from __future__ import annotations

import time
from typing import Annotated, Literal

import numpy as np
import typer

from nnkit.cli import common
from nnkit.cli.common import DEFAULT_MAPS, environment
from nnkit.cli.training_run import RESUMED_OPTIONS, TrainingRequest, TrainingRun, run_training
from nnkit.errors import ExitStatus
from nnkit.nn.optimizers import OPTIMIZERS
from nnkit.term.output import check_report_target, emit_report, format_number, resolve_format

LR_HELP = ", ".join(f"{name} {cls.DEFAULT_LR:g}" for name, cls in OPTIMIZERS.items())

# --- the options both training commands take, written once --------------------------------------
ReportFormat = common.ReportFormat  # the one report -f: table on a terminal, JSON in a pipe, csv/tsv the history
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
Seed = common.Seed  # the one --seed of every command (default 0)
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
LrFind = Annotated[
    bool,
    typer.Option("--lr-find", help="Find a learning rate instead of training: the loss while the rate grows "
                 "from 1e-7 to 10 over 100 mini-batches (fastai's lr_find), and a suggested rate (fastai's "
                 "valley rule). Weights are left untouched; then train with --lr RATE."),
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
    ctx: typer.Context, request: TrainingRequest, *, plot: str | None, fmt: str | None, output: str | None = None,
    precision: int, quiet: bool, maps: int = DEFAULT_MAPS,
) -> None:
    """The body of both training commands: run the training (:func:`run_training`), then draw and print.

    Ctrl-C is handled from the first line on: exit 130 wherever it lands, and never between an
    epoch's history row and its weights, nor while the model, the picture and the report are written.
    The report goes to ``-o`` by its extension (.json the whole report, .csv/.tsv the history) and
    to stdout: a table on a terminal, JSON in a pipe.
    """
    from nnkit.term.interrupts import InterruptGuard

    guard = ctx.with_resource(InterruptGuard())
    started = time.perf_counter()
    env = environment(quiet)
    resolve_format(fmt, env, report=True)
    check_report_target(output, env=env)
    run = run_training(request, env, guard, plot)
    report = run.report
    if plot is not None:
        write_run_plot(plot, run, request.command, env, maps)
    report["seconds"] = time.perf_counter() - started
    emit_report(report, env, fmt, output, history_table(report["history"]),
                render=lambda console: _show_report(console, report, precision, run.title))
    guard.release()
    if report["interrupted"]:
        env.note("nnkit: interrupted: the results above are for the epochs completed")
        raise typer.Exit(ExitStatus.INTERRUPTED)


def write_run_plot(plot: str, run: TrainingRun, command: str, env, maps: int = DEFAULT_MAPS) -> None:
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
        operating=None if test is None or "sensitivity" not in test else (test["sensitivity"], test["specificity"]),
        maps=maps,
        **conv_plot_extras(run.network, prepared.x, prepared.y, prepared.classes),  # filters and feature maps
    )
    env.note(f"nnkit: wrote {plot}")


#: The columns of the per-epoch history (``-f csv``, ``-o history.csv``).
HISTORY_KEYS = ("epoch", "loss", "accuracy", "val_loss", "val_accuracy", "seconds")


def history_table(history: list, lead: tuple[str, ...] = ()) -> tuple[list[str], list[list]]:
    """The per-epoch history as (header, rows) for CSV or TSV; the ``lead`` keys of each row come first.

    Examples
    --------
    >>> from nnkit.term.output import report_text
    >>> print(report_text(*history_table([{"run": "full", "epoch": 1, "loss": 0.5, "accuracy": 0.75,
    ...       "val_loss": None, "val_accuracy": None, "seconds": 0.25}], lead=("run",)), "csv"), end="")
    run,epoch,loss,accuracy,val_loss,val_accuracy,seconds
    full,1,0.5,0.75,,,0.25
    """
    header = [*lead, *HISTORY_KEYS]
    return header, [[row[key] for key in header] for row in history]


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

    per_class = Table(title="per class (test; sensitivity and specificity one vs the rest; nnkit evaluate: "
                      "intervals, thresholds, calibration)", header_style="bold")
    for column in ("class", "precision (PPV)", "recall (sensitivity)", "specificity", "F1", "support"):
        per_class.add_column(column, justify="right")
    for row in test["per_class"]:
        per_class.add_row(
            Text(str(row["class"])),
            num(row["precision"]),
            num(row["recall"]),
            num(row["specificity"]),
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


def find_lr_and_report(request: TrainingRequest, *, plot: str | None, fmt: str | None, output: str | None,
                       precision: int, quiet: bool) -> None:
    """``--lr-find``: run the range test, draw the loss against the rate, print the suggestion."""
    from nnkit.cli.training_run import range_test

    env = environment(quiet)
    resolve_format(fmt, env, report=True)
    check_report_target(output, env=env)
    report = range_test(request, env, plot)
    if plot is not None:
        from nnkit.plots.figures import save_figure
        from nnkit.plots.lr_finder import lr_find_figure

        save_figure(lr_find_figure(report, f"{request.command} --lr-find on {report['data']}"), plot, env)
        env.note(f"nnkit: wrote {plot}")
    table = (["lr", "loss", "smoothed_loss"],
             [list(row) for row in zip(report["lrs"], report["losses"], report["smoothed"], strict=True)])
    emit_report(report, env, fmt, output, table, render=lambda console: _show_lr_find(console, report, precision))


def _show_lr_find(console, report: dict, precision: int) -> None:
    from rich.table import Table
    from rich.text import Text

    num = lambda v: format_number(v, min(precision, 4))  # noqa: E731
    table = Table(title=f"loss while the learning rate grows ({report['optimizer']}, batch "
                  f"{report['batch_size'] or 'full'})", header_style="bold")
    for column in ("step", "lr", "loss", "smoothed loss"):
        table.add_column(column, justify="right")
    lrs, steps = report["lrs"], report["steps"]
    for i in sorted({round(k) for k in np.linspace(0, steps - 1, 15)}):
        table.add_row(str(i + 1), num(lrs[i]), num(report["losses"][i]), num(report["smoothed"][i]))
    console.print(table)
    if report["stopped_early"]:
        console.print(Text(f"stopped after {steps} of {report['steps_planned']} steps: the smoothed loss passed 4× "
                           "its lowest (the rate is far too large beyond)"))
    start, end = report["valley"]
    console.print(Text(f"suggested --lr {num(report['suggestion'])}", style="bold"))
    console.print(Text(f"rule (fastai's valley): the longest stretch where the smoothed loss keeps falling runs from "
                       f"lr {num(start)} to {num(end)}; the suggestion lies half-way between its first and "
                       f"second third. Older rule (lowest loss ÷ 10): {num(report['minimum_rule'])}. The "
                       f"optimizer's default: {num(report['default_lr'])}."))
