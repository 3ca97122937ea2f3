"""``nnkit train-mlp``: train a multilayer perceptron on real data and report what clinicians read."""

from __future__ import annotations

import json
import time
from typing import Annotated, Literal

import numpy as np
import typer

from nnkit.cli.common import Precision, Quiet, environment
from nnkit.engine.layers import HIDDEN_ACTIVATIONS
from nnkit.engine.network import build_mlp
from nnkit.engine.optimizers import OPTIMIZERS, make_optimizer
from nnkit.engine.training import fit
from nnkit.errors import ExitStatus, NnkitInputError
from nnkit.io.output import format_number, resolve_format, write_stdout_bytes

DEFAULT_HIDDEN = "256"
DEFAULT_BATCH = "32"
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
_LR_HELP = ", ".join(f"{name} {cls.DEFAULT_LR:g}" for name, cls in OPTIMIZERS.items())


def parse_hidden(text: str) -> list[int]:
    """``"128,64"`` → ``[128, 64]``; ``""`` or ``"none"`` → no hidden layer."""
    if text.strip().lower() in ("", "none", "0"):
        return []
    sizes = []
    for item in text.split(","):
        try:
            size = int(item)
        except ValueError:
            raise NnkitInputError(f"--hidden takes sizes like 128,64, got {text!r}") from None
        if size < 1:
            raise NnkitInputError(f"--hidden sizes must be at least 1, got {size}")
        sizes.append(size)
    return sizes


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
RESUMED_OPTIONS = ("optimizer", "lr", "batch_size", "l2", "seed", "val_split", "test_split")


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


def _named(report: dict, classes: list) -> dict:
    """Replace class indices in a metrics report by the class names."""
    for row in report["per_class"]:
        row["class"] = classes[row["class"]]
    return report


def train_mlp(
    ctx: typer.Context,
    data: Annotated[
        str,
        typer.Option(
            "--data",
            help="'digits' (bundled 8×8 handwritten digits), a named data set downloaded once "
            "(mnist, fashion-mnist, pneumoniamnist …: see nnkit datasets), a CSV table, an .npz "
            "(Keras MNIST or MedMNIST layout) or a folder of MNIST IDX files.",
        ),
    ] = "digits",
    label_column: Annotated[
        str | None,
        typer.Option(
            "--label-column",
            help="CSV: the label column's name or index (default: the last column).",
            show_default=False,
        ),
    ] = None,
    hidden: Annotated[
        str | None,
        typer.Option(
            "--hidden",
            help=f"Hidden layer sizes, comma-separated: 128,64 (default {DEFAULT_HIDDEN}; 'none' for no hidden layer).",
            show_default=False,
        ),
    ] = None,
    activation: Annotated[
        str | None,
        typer.Option(
            "--activation",
            help=f"Hidden activation: {', '.join(HIDDEN_ACTIVATIONS)} (default relu).",
            show_default=False,
        ),
    ] = None,
    optimizer: Annotated[
        str,
        typer.Option("--optimizer", help=f"Optimizer: {', '.join(OPTIMIZERS)}."),
    ] = "adam",
    lr: Annotated[
        float | None,
        typer.Option(
            "--lr",
            help=f"Learning rate (default per optimizer: {_LR_HELP}).",
            show_default=False,
        ),
    ] = None,
    batch_size: Annotated[
        str,
        typer.Option(
            "--batch-size",
            help="Samples per step: N (mini-batch learning), 1 (online learning) or 'full' (batch learning).",
        ),
    ] = DEFAULT_BATCH,
    epochs: Annotated[int, typer.Option("--epochs", help="Passes over the training data.")] = 50,
    val_split: Annotated[
        float,
        typer.Option(
            "--val-split",
            help="Fraction held out for validation (stratified), when the data has no validation "
            "part: of all the data, or of its training part when it has a test part.",
        ),
    ] = 0.1,
    test_split: Annotated[
        float,
        typer.Option(
            "--test-split",
            help="Fraction of the data held out for testing (stratified), when it has none.",
        ),
    ] = 0.2,
    early_stopping: Annotated[
        int | None,
        typer.Option(
            "--early-stopping",
            help="Stop after N epochs without a better validation loss; keep the best weights.",
            metavar="N",
            show_default=False,
        ),
    ] = None,
    l2: Annotated[float, typer.Option("--l2", help="L2 weight decay added to the gradients.")] = 0.0,
    seed: Annotated[int, typer.Option("--seed", min=0, help="Seed of the splits, weights and shuffles.")] = 0,
    positive: Annotated[
        str | None,
        typer.Option(
            "--positive",
            help="Two classes: the positive class for sensitivity, specificity and ROC AUC "
            "(default: the second in sorted order).",
            show_default=False,
        ),
    ] = None,
    save: Annotated[
        str | None,
        typer.Option("--save", help="Write the trained model (.npz).", metavar="MODEL.npz"),
    ] = None,
    resume: Annotated[
        str | None,
        typer.Option(
            "--resume",
            help="Continue training a saved model (.npz), with its optimizer, --lr, --batch-size, "
            "--l2, --seed and splits unless given again.",
            metavar="MODEL.npz",
        ),
    ] = None,
    plot: Annotated[
        str | None,
        typer.Option(
            "--plot",
            help="Draw the learning curves and the confusion matrix (.png).",
            metavar="PATH.png",
        ),
    ] = None,
    fmt: ReportFormat = None,
    precision: Precision = 6,
    quiet: Quiet = False,
) -> None:
    """Train a multilayer perceptron and report loss, accuracy, the confusion matrix and per-class metrics.

    With two classes also sensitivity, specificity and ROC AUC. nnkit train-mlp (bundled digits) ·
    nnkit train-mlp --data samples/breast_cancer_wdbc.csv --positive malignant ·
    nnkit train-mlp --data mnist/ --hidden 256,128 --save mnist.npz --plot curves.png
    """
    # Imported here so that other commands do not pay for the data readers at start-up.
    from nnkit.engine.metrics import class_probabilities, classification_report
    from nnkit.io.datasets import PART_NAMES, load_dataset, prepare
    from nnkit.io.model import check_output_path, load_model, save_model
    from nnkit.io.named_datasets import lookup
    from nnkit.io.progress import EpochProgress

    started = time.perf_counter()
    env = environment(quiet)
    chosen = resolve_format(fmt or ("table" if env.stdout_isatty else "json"), env)
    if save is not None:
        check_output_path(save, ".npz", "models")
    if plot is not None:
        check_output_path(plot, ".png", "pictures")
    if resume is not None:
        network, meta = load_model(resume)
        given = {
            name: value
            for name, value in (
                ("optimizer", optimizer), ("lr", lr), ("batch_size", batch_size), ("l2", l2),
                ("seed", seed), ("val_split", val_split), ("test_split", test_split),
            )
            if ctx.get_parameter_source(name).name not in ("DEFAULT", "DEFAULT_MAP")
        }
        trained_on = meta.get("data")
        if ctx.get_parameter_source("data").name == "DEFAULT" and trained_on not in (None, "digits"):
            raise NnkitInputError(
                f"{resume} was trained on {trained_on}, not on the bundled digits",
                hint=f"give its data again: --data {'' if lookup(trained_on) else 'PATH/'}{trained_on}",
            )
        options = resumed_options(meta.get("options") or {}, given)
        optimizer, lr = options.get("optimizer", optimizer), options.get("lr", lr)
        batch_size, l2 = options.get("batch_size", batch_size), options.get("l2", l2)
        seed, val_split = options.get("seed", seed), options.get("val_split", val_split)
        test_split = options.get("test_split", test_split)
    optimizer_class = OPTIMIZERS.get(optimizer)
    if optimizer_class is None:
        raise NnkitInputError(f"unknown optimizer {optimizer!r}", hint=f"choose one of: {', '.join(OPTIMIZERS)}")
    batch = parse_batch_size(batch_size)
    if epochs < 1:
        raise NnkitInputError(f"--epochs must be at least 1, got {epochs}")
    if l2 < 0:
        raise NnkitInputError(f"--l2 must not be negative, got {l2}")
    if lr is not None and not lr > 0:
        raise NnkitInputError(f"--lr must be positive, got {lr}")
    for name, fraction in (("--val-split", val_split), ("--test-split", test_split)):
        if not 0.0 <= fraction < 1.0:  # NaN too
            raise NnkitInputError(f"{name} must be a fraction in [0, 1), got {fraction}")

    dataset = load_dataset(data, label_column, env)
    if resume is not None:
        if hidden is not None and parse_hidden(hidden) != network.sizes[1:-1]:
            raise NnkitInputError(f"--hidden {hidden} differs from the resumed model's {network.sizes[1:-1]}")
        if activation is not None and any(a != activation for a in network.activations):
            raise NnkitInputError(
                f"--activation {activation} differs from the resumed model's {', '.join(network.activations) or 'none'}"
            )
        if "classes" not in meta or "preprocessing" not in meta:
            raise NnkitInputError(f"{resume} was not saved by train-mlp (no classes/preprocessing)")
        prepared = prepare(
            dataset,
            val_split=val_split,
            test_split=test_split,
            seed=seed,
            classes=meta["classes"],
            preprocessing=meta["preprocessing"],
        )
        if prepared.n_features != network.sizes[0]:
            raise NnkitInputError(
                f"the data has {prepared.n_features} features, the resumed model takes {network.sizes[0]}"
            )
        epochs_before = int(meta.get("epochs_run", 0))
    else:
        prepared = prepare(dataset, val_split=val_split, test_split=test_split, seed=seed)
        hidden_sizes = parse_hidden(hidden or DEFAULT_HIDDEN)
        binary = len(prepared.classes) == 2
        network = build_mlp(
            prepared.n_features,
            hidden_sizes,
            1 if binary else len(prepared.classes),
            activation=activation or "relu",
            output="sigmoid" if binary else "softmax",
            dtype=np.float32,
            rng=seed,
        )
        epochs_before = 0
    del dataset
    classes = prepared.classes
    positive_index = _positive_index(positive, classes)
    x, y = prepared.x, prepared.y

    opt = make_optimizer(optimizer, network.parameters(), lr=lr, weight_decay=l2)
    progress = EpochProgress(env, epochs)
    with progress:
        history = fit(
            network,
            x["train"],
            y["train"],
            optimizer=opt,
            epochs=epochs,
            batch_size=batch,
            seed=seed,
            x_val=x.get("validation"),
            t_val=y.get("validation"),
            early_stopping=early_stopping,
            on_epoch=progress.update,
        )
    for row in history:
        row["epoch"] += epochs_before

    report = {
        "task": "classification",
        "classes": classes,
        "epochs_run": len(history),
        "history": list(history),
    }
    for part in PART_NAMES:
        key = "validation" if part == "validation" else part
        if part not in x:
            report[key] = None
            continue
        loss, accuracy = network.evaluate(x[part], y[part])
        result = {"loss": loss, "accuracy": accuracy, "samples": int(x[part].shape[0])}
        if part == "test":
            proba = class_probabilities(network.forward(x[part]))
            result.update(_named(classification_report(y[part], proba, positive_index), classes))
            result["accuracy"] = accuracy
        report[key] = result
    if positive_index is not None:
        report["positive"] = classes[positive_index]
    report.update(
        {
            "data": prepared.info["data"],
            "network": {
                "sizes": network.sizes,
                "activations": network.activations,
                "output": network.output,
            },
            "options": {
                "optimizer": optimizer,
                "lr": opt.lr,
                "batch_size": "full" if batch is None else batch,
                "epochs": epochs,
                "l2": l2,
                "seed": seed,
                "val_split": val_split,
                "test_split": test_split,
                "early_stopping": early_stopping,
            },
            "best_epoch": None if history.best_epoch is None else history.best_epoch + epochs_before,
            "stopped_early": history.stopped_early,
            "interrupted": history.interrupted,
        }
    )

    if save is not None:
        meta = {
            "task": "classification",
            "classes": classes,
            "preprocessing": prepared.preprocessing,
            "data": prepared.info["data"],
            "epochs_run": epochs_before + len(history),
            "options": report["options"],
        }
        save_model(save, network, meta, env)
        env.note(f"nnkit: wrote {save}")
    if plot is not None:
        from nnkit.io.plot_metrics import write_training_plot

        test = report["test"]
        write_training_plot(
            plot,
            report["history"],
            None if test is None else test["confusion_matrix"],
            classes,
            title=f"train-mlp on {prepared.info['data']}: {'-'.join(map(str, network.sizes))}",
            env=env,
        )
        env.note(f"nnkit: wrote {plot}")
    report["seconds"] = time.perf_counter() - started

    if chosen == "json":
        write_stdout_bytes(env, (json.dumps(report) + "\n").encode())
    elif chosen in ("csv", "tsv"):
        write_stdout_bytes(env, _history_text(report["history"], chosen).encode())
    else:
        _show_report(env.console(), report, precision)
    if history.interrupted:
        env.note("nnkit: interrupted: the results above are for the epochs completed")
        raise typer.Exit(ExitStatus.INTERRUPTED)


def _history_text(history: list, fmt: str) -> str:
    sep = "," if fmt == "csv" else "\t"
    keys = ["epoch", "loss", "accuracy", "val_loss", "val_accuracy", "seconds"]
    lines = [sep.join(keys)]
    for row in history:
        lines.append(sep.join("" if row[k] is None else repr(row[k]) for k in keys))
    return "\n".join(lines) + "\n"


def _show_report(console, report: dict, precision: int) -> None:
    from rich.table import Table
    from rich.text import Text

    def num(value):
        return "—" if value is None else format_number(value, precision)

    sizes = "-".join(map(str, report["network"]["sizes"]))
    summary = Table(
        title=f"{report['data']}: {sizes} network, {report['epochs_run']} epoch(s)",
        header_style="bold",
    )
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
