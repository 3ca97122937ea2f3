"""What ``nnkit train`` and ``nnkit train-mlp`` share: options, resume rules, checks, the run, the report.

Each command only says which layers it wants (:class:`Architecture`); :func:`run_training` does the
rest in one order: check the options and outputs, read and prepare the data (images keep their
height × width × channels when the stack has conv or pool layers), build or resume the network,
train it with a progress bar, evaluate every part, save, plot and print the report.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Literal

import typer

from nnkit.cli.common import environment
from nnkit.errors import ExitStatus, NnkitInputError
from nnkit.nn.optimizers import OPTIMIZERS, make_optimizer
from nnkit.nn.training import fit
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


def parse_batch_size(text: str) -> int | None:
    """``"full"`` → None (batch learning), ``"1"`` → online learning, ``"N"`` → mini-batches."""
    if text.strip().lower() == "full":
        return None
    try:
        size = int(text)
    except ValueError:
        raise NnkitInputError(f"--batch-size takes a number or 'full', got {text!r}") from None
    if size < 1:
        raise NnkitInputError(f"--batch-size must be at least 1, got {size}")
    return size


def _positive_index(positive: str | None, classes: list) -> int | None:
    if len(classes) != 2:
        if positive is not None:
            raise NnkitInputError(f"--positive applies to two classes; the data has {len(classes)}")
        return None
    if positive is None:
        return 1  # the second class in sorted order, as scikit-learn's pos_label default
    names = [str(c) for c in classes]
    if positive not in names:
        raise NnkitInputError(f"--positive {positive!r} is not a class; the classes are {', '.join(names)}")
    return names.index(positive)


#: Options a resumed run takes from the saved model unless given again: the same optimiser, batch
#: size and decay continue the training, and the same seed and split fractions give the same
#: validation and test parts (another split would move test samples into the training part).
RESUMED_OPTIONS = ("optimizer", "lr", "batch_size", "l2", "seed", "val_split", "val_from", "test_split")


def resumed_options(saved: dict, given: dict) -> dict:
    """The options of a ``--resume`` run: each one given on the command line, else the saved one.

    Parameters
    ----------
    saved : dict
        The ``options`` stored in the model's meta data.
    given : dict
        The values of :data:`RESUMED_OPTIONS` typed on the command line (absent if not typed).

    Returns
    -------
    dict of the options to use; ``lr`` is None (the optimiser's default) when another optimiser
    than the saved one is chosen without an ``--lr``.

    Examples
    --------
    >>> resumed_options({"optimizer": "sgd", "lr": 0.05, "seed": 3}, {"seed": 1})
    {'optimizer': 'sgd', 'lr': 0.05, 'seed': 1}
    >>> resumed_options({"optimizer": "sgd", "lr": 0.05}, {"optimizer": "adam"})
    {'optimizer': 'adam', 'lr': None}
    """
    options = {key: saved[key] for key in RESUMED_OPTIONS if saved.get(key) is not None}
    if "optimizer" in given and given["optimizer"] != options.get("optimizer"):
        options["lr"] = None  # a saved rate belongs to the saved optimiser
    options.update(given)
    if isinstance(options.get("batch_size"), int):
        options["batch_size"] = str(options["batch_size"])
    return options


@dataclass
class Settings:
    """The training options of one run, before ``--resume`` fills in the saved ones."""

    optimizer: str
    lr: float | None
    batch_size: str
    epochs: int
    val_split: float
    val_from: str
    test_split: float
    early_stopping: int | None
    l2: float
    seed: int
    init: str = "auto"

    def check(self) -> int | None:
        """Refuse impossible values; returns the batch size (None: full batch)."""
        if self.optimizer not in OPTIMIZERS:
            raise NnkitInputError(
                f"unknown optimizer {self.optimizer!r}", hint=f"choose one of: {', '.join(OPTIMIZERS)}"
            )
        from nnkit.term.limits import check_epochs

        batch = parse_batch_size(self.batch_size)
        check_epochs(self.epochs)
        if self.l2 < 0:
            raise NnkitInputError(f"--l2 must not be negative, got {self.l2}")
        if self.lr is not None and not self.lr > 0:
            raise NnkitInputError(f"--lr must be positive, got {self.lr}")
        for name, fraction in (("--val-split", self.val_split), ("--test-split", self.test_split)):
            if not 0.0 <= fraction < 1.0:  # NaN too
                raise NnkitInputError(f"{name} must be a fraction in [0, 1), got {fraction}")
        return batch


def given_options(ctx: typer.Context, names) -> set[str]:
    """The options of ``names`` typed on the command line (not left at their defaults)."""
    return {name for name in names if ctx.get_parameter_source(name).name not in ("DEFAULT", "DEFAULT_MAP")}


@dataclass
class Architecture:
    """The layers a command asks for, as engine spec dicts.

    ``specs`` may end with a dense layer whose ``units`` is None: the output layer then takes
    the task's size and activation (one sigmoid unit for two classes, a softmax unit per class).
    ``given`` is False when the command line named no architecture (a resumed run then keeps the
    saved one); ``describe`` is the stack in the command's own words, for titles.
    """

    specs: list[dict]
    describe: str
    given: bool = True
    extra_meta: dict = field(default_factory=dict)


def output_specs(specs: list[dict], classes: list) -> list[dict]:
    """Fill in or check the last dense layer against the number of classes.

    Examples
    --------
    >>> output_specs([{"type": "dense", "units": None}], ["no", "yes"])
    [{'type': 'dense', 'units': 1, 'activation': 'sigmoid'}]
    >>> output_specs([{"type": "dense", "units": None, "activation": "softmax"}], ["no", "yes"])
    [{'type': 'dense', 'units': 2, 'activation': 'softmax'}]
    >>> output_specs([{"type": "dense", "units": 3}], [0, 1, 2])
    [{'type': 'dense', 'units': 3, 'activation': 'softmax'}]
    """
    specs = [dict(s) for s in specs]
    last = specs[-1]
    k = len(classes)
    if last.get("units") is None:
        if last.get("activation") == "softmax":  # a course model: one softmax unit per class
            last["units"] = k
            return specs
        last["units"] = 1 if k == 2 else k
        last["activation"] = "sigmoid" if k == 2 else "softmax"
        return specs
    units, activation = last["units"], last.get("activation")
    if activation not in ("softmax", "sigmoid"):
        activation = "sigmoid" if units == 1 else "softmax"
        if last.get("activation") is not None:
            raise NnkitInputError(
                f"the last layer's activation is {last['activation']}; it gives the class scores, "
                "so it is softmax or sigmoid",
                hint=f"end with 'dense {k} softmax'" + (" or 'dense 1 sigmoid'" if k == 2 else ""),
            )
        last["activation"] = activation
    fits = (activation == "softmax" and units == k) or (activation == "sigmoid" and units == 1 and k == 2)
    if not fits:
        shown = ", ".join(map(str, classes[:10])) + (", …" if k > 10 else "")
        raise NnkitInputError(
            f"the last layer 'dense {units} {activation}' does not fit the data's {k} classes ({shown})",
            hint=f"end with 'dense {k} softmax'" + (" or 'dense 1 sigmoid'" if k == 2 else ""),
        )
    return specs


def _named(report: dict, classes: list) -> dict:
    """Replace class indices in a metrics report by the class names."""
    for row in report["per_class"]:
        row["class"] = classes[row["class"]]
    return report


def run_training(
    *,
    command: str,
    ctx: typer.Context,
    architecture: Callable[[object, dict | None], Architecture],
    settings: Settings,
    data: str,
    label_column: str | None,
    positive: str | None,
    save: str | None,
    resume: str | None,
    plot: str | None,
    fmt: str | None,
    precision: int,
    quiet: bool,
    threads: int | None = None,
) -> None:
    """Train, evaluate, save, plot and report: the body of both training commands.

    ``architecture(dataset, saved_meta)`` is called once the data is read (``saved_meta`` is the
    resumed model's meta data, or None) and returns the :class:`Architecture` to build; on
    ``--resume`` a given architecture must equal the saved one.
    """
    # Imported here so that other commands do not pay for the data readers at start-up.
    from nnkit.cli.layers_grammar import keeps_image_shape, needs_images, require_stack_memory
    from nnkit.data.labelled import PART_NAMES, load_dataset, prepare
    from nnkit.data.named import lookup
    from nnkit.files.model_file import load_model, save_model
    from nnkit.nn.metrics import class_probabilities, classification_report
    from nnkit.nn.stack import build_network, summary
    from nnkit.term.interrupts import InterruptGuard
    from nnkit.term.output import OutputPlan
    from nnkit.term.progress import EpochProgress

    # Ctrl-C from the first line on: exit 130 wherever it lands, and never between an epoch's
    # history row and its weights, nor while the model and the report are written.
    guard = ctx.with_resource(InterruptGuard())
    started = time.perf_counter()
    env = environment(quiet)
    chosen = resolve_format(fmt or ("table" if env.stdout_isatty else "json"), env)
    # Every target checked before any work; --data and --resume are inputs, never overwritten.
    plan = OutputPlan(env, inputs=[resume, None if data == "digits" else data])
    if save is not None:
        plan.add(save, "--save", ".npz")
    if plot is not None:
        plan.add(plot, "--plot", ".png")
    meta = None
    if resume is not None:
        network, meta = load_model(resume)
        given = {name: getattr(settings, name) for name in given_options(ctx, RESUMED_OPTIONS)}
        trained_on = meta.get("data")
        if ctx.get_parameter_source("data").name == "DEFAULT" and trained_on not in (None, "digits"):
            raise NnkitInputError(
                f"{resume} was trained on {trained_on}, not on the bundled digits",
                hint=f"give its data again: --data {'' if lookup(trained_on) else 'PATH/'}{trained_on}",
            )
        for name, value in resumed_options(meta.get("options") or {}, given).items():
            setattr(settings, name, value)
    batch = settings.check()

    dataset = load_dataset(data, label_column, env)
    wanted = architecture(dataset, meta)
    if dataset.kind != "images" and needs_images(wanted.specs):
        raise NnkitInputError(
            f"conv and pool layers need images; {dataset.name} is a table of feature rows",
            hint="use dense layers for tables (nnkit train-mlp), or image data: an MNIST npz/IDX "
            "folder or the digits",
        )
    common = {"val_split": settings.val_split, "val_from": settings.val_from,
              "test_split": settings.test_split, "seed": settings.seed}
    if resume is not None:
        if len(network.input_shape) == 3 and dataset.kind != "images":
            raise NnkitInputError(
                f"{resume} takes images of {_shape_text(network.input_shape)}; {dataset.name} is a table of feature rows"
            )
        if "classes" not in meta or "preprocessing" not in meta:
            raise NnkitInputError(f"{resume} was not saved by a training command (no classes/preprocessing)")
        prepared = prepare(
            dataset,
            classes=meta["classes"],
            preprocessing=meta["preprocessing"],
            keep_image_shape=len(network.input_shape) == 3,
            **common,
        )
        if prepared.input_shape != network.input_shape:
            raise NnkitInputError(
                f"the data's samples have shape {_shape_text(prepared.input_shape)}, the resumed "
                f"model takes {_shape_text(network.input_shape)}"
            )
        if wanted.given:
            asked = build_network(output_specs(wanted.specs, prepared.classes), prepared.input_shape, seed=0)
            if asked.configs() != network.configs():
                raise NnkitInputError(
                    f"{wanted.describe} differs from the resumed model's layers",
                    hint="leave the architecture out to continue the saved model",
                )
        epochs_before = int(meta.get("epochs_run", 0))
    else:
        prepared = prepare(dataset, keep_image_shape=keeps_image_shape(wanted.specs) and dataset.kind == "images",
                           **common)
        specs = output_specs(wanted.specs, prepared.classes)
        n_train = len(prepared.y["train"])
        require_stack_memory(specs, prepared.input_shape, min(batch or n_train, n_train))
        network = build_network(specs, prepared.input_shape, seed=settings.seed, init=settings.init)
        epochs_before = 0
    del dataset
    classes = prepared.classes
    positive_index = _positive_index(positive, classes)
    x, y = prepared.x, prepared.y

    opt = make_optimizer(settings.optimizer, network.parameters(), lr=settings.lr, weight_decay=settings.l2)
    progress = EpochProgress(env, settings.epochs)
    with progress:
        history = fit(
            network,
            x["train"],
            y["train"],
            optimizer=opt,
            epochs=settings.epochs,
            batch_size=batch,
            seed=settings.seed,
            x_val=x.get("validation"),
            t_val=y.get("validation"),
            early_stopping=settings.early_stopping,
            on_epoch=progress.update,
            critical=guard.critical,
            threads=threads,
        )
    guard.hold()  # from the trained network to the written model and report: all of it, together
    for row in history:
        row["epoch"] += epochs_before

    report = {"task": "classification", "classes": classes, "epochs_run": len(history), "history": list(history)}
    roc = None
    for part in PART_NAMES:
        if part not in x:
            report[part] = None
            continue
        loss, accuracy = network.evaluate(x[part], y[part])
        result = {"loss": loss, "accuracy": accuracy, "samples": int(x[part].shape[0])}
        if part == "test":
            proba = class_probabilities(network.forward(x[part]))
            result.update(_named(classification_report(y[part], proba, positive_index), classes))
            if positive_index is not None:  # for --plot's ROC curve
                roc = (y[part] == positive_index, proba[:, positive_index])
            result["accuracy"] = accuracy
        report[part] = result
    if positive_index is not None:
        report["positive"] = classes[positive_index]
    table = summary(network.layers, network.input_shape)
    described = {
        "input_shape": list(network.input_shape),
        "layers": network.configs(),
        "parameters": table["total_params"],
        "output": network.output,
    }
    if network.is_mlp:
        described.update({"sizes": network.sizes, "activations": network.activations})
    report.update(
        {
            "data": prepared.info["data"],
            "network": described,
            "options": {
                "optimizer": settings.optimizer,
                "lr": opt.lr,
                "batch_size": "full" if batch is None else batch,
                "epochs": settings.epochs,
                "l2": settings.l2,
                "seed": settings.seed,
                "val_split": settings.val_split,
                "val_from": settings.val_from,
                "test_split": settings.test_split,
                "early_stopping": settings.early_stopping,
                "init": settings.init,
                **wanted.extra_meta,
            },
            "best_epoch": None if history.best_epoch is None else history.best_epoch + epochs_before,
            "stopped_early": history.stopped_early,
            "interrupted": history.interrupted,
        }
    )

    if save is not None:
        saved = {
            "task": "classification",
            "classes": classes,
            "preprocessing": prepared.preprocessing,
            "data": prepared.info["data"],
            "epochs_run": epochs_before + len(history),
            "command": command,
            "options": report["options"],
        }
        save_model(save, network, saved, env)
        env.note(f"nnkit: wrote {save}")
    if plot is not None:
        from nnkit.plots.conv_maps import conv_plot_extras
        from nnkit.plots.training_run import write_training_plot

        test = report["test"]
        write_training_plot(
            plot,
            report["history"],
            None if test is None else test["confusion_matrix"],
            classes,
            title=f"{command} on {prepared.info['data']}: {_title(network, wanted)}",
            env=env,
            best_epoch=report["best_epoch"],
            roc=roc,
            positive=report.get("positive"),
            **conv_plot_extras(network, x, y, classes),  # conv stacks: filters and feature maps
        )
        env.note(f"nnkit: wrote {plot}")
    report["seconds"] = time.perf_counter() - started

    if chosen == "json":
        write_stdout_bytes(env, (json.dumps(report) + "\n").encode())
    elif chosen in ("csv", "tsv"):
        write_stdout_bytes(env, _history_text(report["history"], chosen).encode())
    else:
        _show_report(env.console(), report, precision, _title(network, wanted))
    guard.release()
    if history.interrupted:
        env.note("nnkit: interrupted: the results above are for the epochs completed")
        raise typer.Exit(ExitStatus.INTERRUPTED)


def _shape_text(shape) -> str:
    return "×".join(map(str, shape))


def _title(network, wanted: Architecture) -> str:
    if network.is_mlp:
        return f"{'-'.join(map(str, network.sizes))} network"
    return wanted.describe


def _history_text(history: list, fmt: str) -> str:
    sep = "," if fmt == "csv" else "\t"
    keys = ["epoch", "loss", "accuracy", "val_loss", "val_accuracy", "seconds"]
    lines = [sep.join(keys)]
    for row in history:
        lines.append(sep.join("" if row[k] is None else repr(row[k]) for k in keys))
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
