"""``nnkit evaluate --plot``: ROC with the operating point, reliability diagram, confusion matrix, worst cases."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from nnkit.plots.figures import pyplot, save_figure
from nnkit.plots.style import MIN_FONT, NOTEBOOK, SLIDE, wrap
from nnkit.term.env import Environment

#: The most worst cases the figure draws (one readable row on a slide); -f json lists every --top case.
GALLERY = 10


def evaluation_figure(report: dict, probabilities: np.ndarray, cases, positive: int | None):
    """One slide: ROC, reliability and confusion panels on top, the worst cases (images or rows) below."""
    plt = pyplot()
    worst = report["top_losses"][:GALLERY]
    figure = plt.figure(figsize=(SLIDE[0], SLIDE[1] if worst else NOTEBOOK[1]), layout="constrained")
    top, bottom = figure.subfigures(2, 1, height_ratios=[1.0, 0.8]) if worst else (figure, None)
    roc_axis, cal_axis, cm_axis = top.subplots(1, 3)
    classes = [str(c) for c in report["classes"]]
    _draw_roc(roc_axis, report, probabilities, cases.y, classes, positive)
    _draw_reliability(cal_axis, report["calibration"])
    _draw_confusion(cm_axis, np.asarray(report["confusion_matrix"]), classes, report["samples"])
    if bottom is not None:
        (_gallery if cases.kind == "images" else _rows)(bottom, worst, cases)
    figure.suptitle(wrap(f"nnkit evaluate {report['model']} on {report['cases']}", 100), fontsize=12)
    return figure


def _draw_roc(axis, report: dict, probabilities, y, classes: list[str], positive: int | None) -> None:
    """The positive class's ROC curve with the operating point, or one curve per class."""
    from nnkit.nn.metrics import roc_auc, roc_curve

    ranked = [positive] if positive is not None else range(len(classes))
    for c in ranked:
        is_c = y == c
        if 0 < is_c.sum() < is_c.size:
            fpr, tpr = roc_curve(is_c, probabilities[:, c])
            label = f"{classes[c]}: AUC {roc_auc(is_c, probabilities[:, c]):.3f}"
            axis.plot(fpr, tpr, linewidth=2 if positive is not None else 1.2, label=label)
    t = report.get("threshold")
    if positive is not None and t["sensitivity"] is not None and t["specificity"] is not None:
        axis.plot(1 - t["specificity"], t["sensitivity"], "o", ms=10, color="tab:red", zorder=5,
                  label=f"threshold {t['value']:.3g}: sens {t['sensitivity']:.3f}, spec {t['specificity']:.3f}")
    axis.plot([0, 1], [0, 1], ":", color="0.5", label="chance")
    axis.set(xlim=(-0.02, 1.02), ylim=(-0.02, 1.02), xlabel="1 − specificity", ylabel="sensitivity",
             title="ROC" + (f" (positive: {classes[positive]})" if positive is not None else " (one vs the rest)"))
    axis.set_aspect("equal")
    axis.legend(loc="lower right", fontsize=MIN_FONT, ncol=1 if len(ranked) <= 4 else 2, columnspacing=0.8,
                handlelength=1.2)
    axis.grid(alpha=0.3)


def _draw_reliability(axis, cal: dict) -> None:
    """Observed frequency per bin of predicted probability, the diagonal, and each bin's count."""
    rows = cal["rows"]
    width = 1.0 / cal["bins"]
    axis.bar([r["low"] for r in rows], [r["observed"] for r in rows], width=width, align="edge",
             color="tab:blue", alpha=0.7, edgecolor="white", label="observed frequency")
    axis.plot([r["mean_predicted"] for r in rows], [r["observed"] for r in rows], "o", color="tab:orange",
              label="at the bin's mean prediction")
    axis.plot([0, 1], [0, 1], ":", color="0.3", label="perfect calibration")
    event = "positive" if cal["event"] == "positive" else "top class correct"
    axis.set(xlim=(0, 1), ylim=(0, 1.02), xlabel=f"predicted probability ({event})", ylabel="observed frequency",
             title=f"reliability: ECE {cal['ece']:.3f}, Brier {cal['brier']:.3f}")
    for r in rows:
        axis.text(r["low"] + width / 2, 0.02, str(r["count"]), ha="center", fontsize=MIN_FONT,
                  color="white" if r["observed"] > 0.08 else "black")
    axis.legend(loc="best", fontsize=MIN_FONT)  # bars often fill the upper left
    axis.grid(alpha=0.3)


def _draw_confusion(axis, cm: np.ndarray, classes: list[str], samples: int) -> None:
    image = axis.imshow(cm, cmap="Blues")
    axis.figure.colorbar(image, ax=axis, shrink=0.9, pad=0.02).set_label("cases")
    ticks = range(len(classes))
    axis.set_xticks(ticks, classes, rotation=45 if len(classes) > 4 else 0)
    axis.set_yticks(ticks, classes)
    if len(classes) <= 20:
        for i in ticks:
            for j in ticks:
                axis.text(j, i, str(cm[i, j]), ha="center", va="center", fontsize=MIN_FONT if len(classes) > 6 else 11,
                          color="white" if cm[i, j] > cm.max() / 2 else "black")
    axis.set(xlabel="predicted class", ylabel="true class", title=f"confusion matrix ({samples} cases)")


def _gallery(subfigure, worst: list[dict], cases) -> None:
    count = len(worst)
    axes = np.atleast_1d(subfigure.subplots(1, count))
    for axis, case in zip(axes, worst, strict=True):
        image = cases.x[case["index"]].reshape(cases.image_shape or cases.x.shape[1:])
        image = image[..., 0] if image.ndim == 3 and image.shape[-1] == 1 else image
        axis.imshow(np.clip(image, 0, 1), cmap="gray" if image.ndim == 2 else None, vmin=0, vmax=1)
        axis.set_title(f"case {case['index']}\ntrue {case['true']}\npredicted {case['predicted']} "
                       f"(p {case['p_predicted']:.2f})", fontsize=9)
        axis.set_xticks([])
        axis.set_yticks([])
    subfigure.suptitle(f"the {count} worst cases: the largest losses (−log p(true class))", fontsize=11)


def _rows(subfigure, worst: list[dict], cases) -> None:
    axis = subfigure.subplots()
    axis.axis("off")
    names = list(worst[0].get("values", {}))[:6]
    header = ["case", "true", "predicted", "p(pred)", *names]
    body = [[str(c["index"]), str(c["true"]), str(c["predicted"]), f"{c['p_predicted']:.2f}",
             *(f"{c['values'][n]:.4g}" for n in names)] for c in worst]
    table = axis.table(cellText=body, colLabels=header, loc="center", cellLoc="right")
    table.auto_set_font_size(False)
    table.set_fontsize(9)
    table.scale(1, 1.4)
    more = len(worst[0].get("values", {})) - len(names)
    extra = f" (first {len(names)} features; {more} more in -f json)" if more > 0 else ""
    subfigure.suptitle(f"the {len(worst)} worst cases: the largest losses, with their values{extra}", fontsize=11)


def write_evaluation_plot(path: str | Path, report: dict, probabilities, cases, positive, env: Environment | None = None) -> None:
    """Draw :func:`evaluation_figure` and write it as a PNG, atomically."""
    save_figure(evaluation_figure(report, probabilities, cases, positive), path, env)
