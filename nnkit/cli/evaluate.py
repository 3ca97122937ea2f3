"""``nnkit evaluate MODEL --data DATA``: how good a saved classifier is, for the cases given.

Thin: reads the model and the cases (:func:`evaluation_cases`), calls
:func:`nnkit.nn.evaluation.evaluate_classifier`, renders tables, JSON and the figure
(:mod:`nnkit.plots.evaluation`). Conventions: ``docs/conventions.md``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

import numpy as np
import typer

from nnkit.cli.common import Output, Precision, Quiet, ReportFormat, Seed, environment
from nnkit.errors import NnkitInputError
from nnkit.term.output import emit_report, format_number, resolve_format

PARTS = ("auto", "test", "validation", "train", "all")


@dataclass
class Cases:
    """The labelled cases a model is evaluated on, as the network takes them."""

    x: np.ndarray
    y: np.ndarray
    part: str
    note: str
    data: str
    kind: str
    raw_rows: np.ndarray | None = None  # tables: the feature values as given
    feature_names: list | None = None
    image_shape: tuple | None = None


def evaluation_cases(meta: dict, input_shape: tuple, source: str, part: str, label_column: str | None,
                     env) -> Cases:
    """Read ``--data`` and take the part to evaluate, prepared with the model's own preprocessing.

    ``auto``: the data's own test part; else, when the model was trained on this very data, the
    test part its training run held out (the same seed and fractions give the same cases); else all
    of it (held out by the user).
    """
    from nnkit.data.labelled import load_dataset, prepare

    if "classes" not in meta or "preprocessing" not in meta:
        raise NnkitInputError("the model was not saved by a training command (no classes/preprocessing)")
    dataset = load_dataset(source, label_column, env)
    image_model = (meta.get("preprocessing") or {}).get("kind") == "scale"
    if image_model != (dataset.kind == "images"):
        what = "images" if image_model else "a table of features"
        raise NnkitInputError(f"the model was trained on {what}; {dataset.name} is {'images' if dataset.kind == 'images' else 'a table of features'}")
    options = meta.get("options") or {}
    from nnkit.data.labelled import dataset_digest

    # The same name is not enough (train/data.csv, test/data.csv); older files keep no digest.
    same_data = meta.get("data") == dataset.name and meta.get("data_digest") in (None, dataset_digest(dataset))
    if part == "auto":
        part = "test" if "test" in dataset.parts or same_data else "all"
    split = {"val_split": 0.0, "test_split": 0.0, "seed": 0}
    note = f"all {dataset.name}"
    if part != "all":
        if part not in dataset.parts:
            if not same_data:
                raise NnkitInputError(
                    f"{dataset.name} has no {part} part, and the model was trained on {meta.get('data')!r}",
                    hint="--part all evaluates every case of it",
                )
            split = {key: options.get(key, default) for key, default in
                     (("val_split", 0.1), ("test_split", 0.2), ("seed", 0))}
            split["val_from"] = options.get("val_from", "stratified")
            note = (f"the {part} part of {dataset.name} held out by the training run "
                    f"(seed {split['seed']}, test split {split['test_split']}, validation split {split['val_split']})")
        else:
            note = f"the {part} part of {dataset.name}"
    elif len(dataset.parts) > 1:
        raise NnkitInputError(f"--part all takes a data set without parts; {dataset.name} has "
                              f"{', '.join(dataset.parts)}", hint="choose one of them with --part")
    prepared = prepare(dataset, classes=meta["classes"], preprocessing=meta["preprocessing"],
                       keep_image_shape=len(input_shape) == 3, **split)
    key = "train" if part == "all" else part
    if key not in prepared.x:
        raise NnkitInputError(f"{dataset.name} has no {part} part")
    x, y = prepared.x[key], prepared.y[key]
    if tuple(x.shape[1:]) != tuple(input_shape):
        raise NnkitInputError(f"the data's cases have shape {'×'.join(map(str, x.shape[1:]))}; the model "
                              f"takes {'×'.join(map(str, input_shape))}")
    raw = None
    spec = meta["preprocessing"]
    if spec["kind"] == "standardize":
        raw = x * np.asarray(spec["std"]) + np.asarray(spec["mean"])
    return Cases(x, y, part, note, dataset.name, dataset.kind, raw, spec.get("feature_names"),
                 tuple(spec["image_shape"]) if spec.get("image_shape") else None)


def evaluate(
    model: Annotated[str, typer.Argument(help="A model saved by nnkit train or train-mlp --save.", metavar="MODEL.npz")],
    data: Annotated[
        str,
        typer.Option("--data", help="Labelled cases: 'digits', a named data set (mnist, pneumoniamnist …), a CSV "
                     "table, an .npz (Keras MNIST or MedMNIST layout) or an MNIST IDX folder."),
    ],
    part: Annotated[
        Literal["auto", "test", "validation", "train", "all"],
        typer.Option("--part", help="Which cases: auto = the data's test part, or the test part the model's own "
                     "training run held out when it was trained on this data, else all of it."),
    ] = "auto",
    label_column: Annotated[str | None, typer.Option("--label-column", help="CSV: the label column (default: the last).",
                                                     show_default=False)] = None,
    positive: Annotated[str | None, typer.Option("--positive", help="Two classes: the positive class (default: the second).",
                                                 show_default=False)] = None,
    threshold: Annotated[float | None, typer.Option(
        "--threshold", help="Two classes: call a case positive when p(positive) >= T (default 0.5).",
        metavar="T", show_default=False)] = None,
    target_sensitivity: Annotated[float | None, typer.Option(
        "--target-sensitivity", help="Two classes: use the highest threshold that reaches this sensitivity on "
        "these cases (chosen on them: it flatters them; choose on a validation part).", show_default=False)] = None,
    bootstrap: Annotated[int, typer.Option("--bootstrap", min=0, max=100_000,
                                           help="Resamples for the 95 % confidence intervals (0: none).")] = 1000,
    bins: Annotated[int, typer.Option("--bins", min=1, max=1000, help="Bins of the reliability table.")] = 10,
    top: Annotated[int, typer.Option("--top", min=0, max=1000, help="How many of the worst cases (largest losses) to list.")] = 9,
    seed: Seed = 0,
    plot: Annotated[str | None, typer.Option("--plot", help="One figure: ROC with the operating point, reliability "
                                             "diagram, confusion matrix, worst cases.", metavar="PATH.png",
                                             show_default=False)] = None,
    output: Output = None,
    fmt: ReportFormat = None,
    precision: Precision = 4,
    quiet: Quiet = False,
) -> None:
    r"""Evaluate a saved classifier on labelled cases: how good it is, at which threshold, how sure.

    Per class sensitivity, specificity, PPV, NPV with 95 % bootstrap intervals; ROC AUC and average
    precision; the threshold and its sweep (two classes); calibration; the worst cases.

    \b
    Examples:
      nnkit train-mlp --data samples/breast_cancer_wdbc.csv --save cancer.npz
      nnkit evaluate cancer.npz --data samples/breast_cancer_wdbc.csv
      nnkit evaluate cancer.npz --data cancer.csv --target-sensitivity 0.95
      nnkit evaluate cnn.npz --data mnist --plot eval.png -f json > report.json
    """
    from nnkit.files.model_file import load_model
    from nnkit.nn.evaluation import evaluate_classifier
    from nnkit.nn.metrics import class_probabilities
    from nnkit.term.output import OutputPlan

    env = environment(quiet)
    resolve_format(fmt, env, report=True)  # a format the terminal cannot take is refused before any work
    if threshold is not None and not 0.0 <= threshold <= 1.0:
        raise NnkitInputError(f"--threshold must lie in [0, 1], got {threshold}")
    if target_sensitivity is not None and not 0.0 < target_sensitivity <= 1.0:
        raise NnkitInputError(f"--target-sensitivity must lie in (0, 1], got {target_sensitivity}")
    plan = OutputPlan(env, inputs=[model, None if data == "digits" else data])
    if plot is not None:
        plan.add(plot, "--plot", ".png")
    if output is not None:
        plan.add(output, "-o", ".json")
    network, meta = load_model(model)
    cases = evaluation_cases(meta, network.input_shape, data, part, label_column, env)
    classes = list(meta["classes"])
    names = [str(c) for c in classes]
    positive_index = None
    if len(classes) == 2:
        positive_index = 1 if positive is None else _class_index(positive, names)
    elif positive is not None:
        raise NnkitInputError(f"--positive applies to two classes; the model has {len(classes)}")
    proba = class_probabilities(network.forward(cases.x)).astype(np.float64)
    report = evaluate_classifier(cases.y, proba, positive=positive_index, threshold=threshold,
                                 target_sensitivity=target_sensitivity, bootstrap=bootstrap, seed=seed,
                                 bins=bins, top=top)
    report = _named(report, classes, cases)
    report = {"model": Path(model).name, "data": cases.data, "part": cases.part, "cases": cases.note, **report}
    if "threshold" in report and report["threshold"]["chosen_by"] == "target sensitivity":
        value = report["threshold"]["value"]
        report["threshold"]["chosen_on"] = cases.note
        if cases.part == "validation":
            env.note(f"nnkit: threshold {value:.6g} chosen on {cases.note}; judge it on the test part: "
                     f"--threshold {value:.6g}")
        else:
            report["threshold"]["warning"] = (
                f"chosen on the very cases it is judged on ({cases.note}): its numbers there flatter it; "
                "choose it with --part validation and judge it on the test part")
            env.note(f"nnkit: the threshold {value:.4g} was chosen on {cases.note}, the cases it is judged on: "
                     "its numbers flatter it (choose it with --part validation)")
    if plot is not None:
        from nnkit.plots.evaluation import write_evaluation_plot

        write_evaluation_plot(plot, report, proba, cases, positive_index, env=env)
        env.note(f"nnkit: wrote {plot}")
    header = ["class", "support", "sensitivity", "specificity", "ppv", "npv", "f1"]
    rows = [[row["class"], row["support"], *(row[k]["value"] if isinstance(row[k], dict) else row[k]
                                             for k in header[2:])] for row in report["per_class"]]
    emit_report(report, env, fmt, output, (header, rows), lambda console: _show(console, report, precision))


def _class_index(positive: str, names: list[str]) -> int:
    if positive not in names:
        raise NnkitInputError(f"--positive {positive!r} is not a class; the classes are {', '.join(names)}")
    return names.index(positive)


def _named(report: dict, classes: list, cases: Cases) -> dict:
    """Class indices → names; the worst cases get their values (tables) or their index."""
    report["classes"] = classes
    for row in report["per_class"]:
        row["class"] = classes[row["class"]]
    for pair in report["most_confused"]:
        pair["true"], pair["predicted"] = classes[pair["true"]], classes[pair["predicted"]]
    for case in report["top_losses"]:
        case["true"], case["predicted"] = classes[case["true"]], classes[case["predicted"]]
        if cases.raw_rows is not None:
            names = cases.feature_names or [f"x{j}" for j in range(cases.raw_rows.shape[1])]
            case["values"] = dict(zip(names, map(float, cases.raw_rows[case["index"]]), strict=True))
    if "positive" in report:
        report["positive"] = classes[report["positive"]]
    return report


def _interval(entry, precision: int) -> str:
    if entry is None or entry["value"] is None:
        return "—"
    text = format_number(entry["value"], precision)
    if entry["low"] is not None:
        text += f" ({format_number(entry['low'], 3)}–{format_number(entry['high'], 3)})"
    return text


def _show(console, report: dict, precision: int) -> None:
    from rich.text import Text

    boot = report["bootstrap"]
    ci = f"95 % CI, {boot['resamples']} bootstrap resamples (seed {boot['seed']})" if boot["resamples"] else "no CI"
    console.print(Text(f"{report['model']} on {report['cases']}: {report['samples']} cases; in brackets: {ci}"))
    _show_overall(console, report, precision)
    _show_per_class(console, report, precision)
    if "sweep" in report:
        _show_sweep(console, report, precision)
    _show_calibration(console, report["calibration"], precision)
    _show_errors(console, report, precision)


def _table(title: str, columns):
    from rich.table import Table

    table = Table(title=title, header_style="bold")
    for column in columns:
        table.add_column(column, justify="right")
    return table


def _show_overall(console, report: dict, precision: int) -> None:
    from rich.text import Text

    ranked = ("roc_auc", "average_precision") if "roc_auc" in report else ()
    names = {"roc_auc": "ROC AUC", "average_precision": "average precision"}
    overall = _table("overall", ("accuracy", "balanced accuracy", *(names[k] for k in ranked)))
    overall.add_row(*(_interval(report[k], precision) for k in ("accuracy", "balanced_accuracy", *ranked)))
    console.print(overall)
    if "threshold" in report:
        t = report["threshold"]
        console.print(Text(f"positive class: {report['positive']}; threshold {t['value']:.4g} ({t['chosen_by']}): "
                           f"TP {t['tp']}, FP {t['fp']}, FN {t['fn']}, TN {t['tn']}"))


def _show_per_class(console, report: dict, precision: int) -> None:
    from rich.text import Text

    multi = "roc_auc" in report["per_class"][0]
    table = _table("per class (one vs the rest)", ("class", "sensitivity", "specificity", "PPV", "NPV", "F1",
                                                  "support", *(("ROC AUC",) if multi else ())))
    for row in report["per_class"]:
        cells = [Text(str(row["class"])), _interval(row["sensitivity"], precision),
                 _interval(row["specificity"], precision), *(_num(row[k], precision) for k in ("ppv", "npv", "f1")),
                 str(row["support"])]
        table.add_row(*cells, *((_interval(row["roc_auc"], precision),) if multi else ()))
    console.print(table)


def _show_sweep(console, report: dict, precision: int) -> None:
    from rich.text import Text

    table = _table(f"threshold sweep (positive: {report['positive']})",
                   ("threshold", "sensitivity", "specificity", "PPV", "NPV", "TP", "FP", "FN", "TN"))
    for row in report["sweep"]:
        mark = "bold" if row["threshold"] == report["threshold"]["value"] else ""
        table.add_row(Text(format_number(row["threshold"], 4), style=mark),
                      *(_num(row[k], precision) for k in ("sensitivity", "specificity", "ppv", "npv")),
                      *(str(row[k]) for k in ("tp", "fp", "fn", "tn")))
    console.print(table)


def _show_calibration(console, cal: dict, precision: int) -> None:
    table = _table(f"calibration ({cal['event']}): ECE {format_number(cal['ece'], precision)}, "
                   f"Brier {format_number(cal['brier'], precision)}", ("bin", "cases", "mean predicted", "observed"))
    for row in cal["rows"]:
        table.add_row(f"{row['low']:.2f}–{row['high']:.2f}", str(row["count"]),
                      _num(row["mean_predicted"], precision), _num(row["observed"], precision))
    console.print(table)


def _show_errors(console, report: dict, precision: int) -> None:
    from rich.text import Text

    if report["most_confused"]:
        console.print(Text("most confused (true → predicted: cases): " + "; ".join(
            f"{p['true']} → {p['predicted']}: {p['count']}" for p in report["most_confused"])))
    if report["top_losses"]:
        table = _table("worst cases (largest loss −log p(true class))",
                       ("case", "true", "predicted", "p(true)", "p(predicted)", "loss"))
        for case in report["top_losses"]:
            table.add_row(str(case["index"]), Text(str(case["true"])), Text(str(case["predicted"])),
                          *(_num(case[k], precision) for k in ("p_true", "p_predicted", "loss")))
        console.print(table)


def _num(value, precision: int) -> str:
    return "—" if value is None else format_number(value, precision)
