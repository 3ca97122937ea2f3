"""The picture of several batch sizes trained side by side (``train-mlp --batch-size full,1,32 --plot``).

Four panels: the training loss and the validation accuracy (the training accuracy without a
validation part), each against epochs and against seconds of training, one colour per batch size.
Against epochs online learning looks best; against seconds the cost of its many updates shows.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from nnkit.plots.figures import pyplot, save_figure
from nnkit.plots.style import SLIDE
from nnkit.term.env import Environment


def batch_modes_figure(runs: list[dict], title: str = "batch modes"):
    """Draw the learning curves of ``runs`` (rows of :func:`nnkit.cli.batch_modes._summary`)."""
    plt = pyplot()
    from matplotlib.ticker import MaxNLocator

    figure, axes = plt.subplots(2, 2, figsize=SLIDE, layout="constrained")
    validated = all(row["val_accuracy"] is not None for run in runs for row in run["history"])
    accuracy_key, accuracy_label = ("val_accuracy", "validation accuracy") if validated else ("accuracy",
                                                                                              "training accuracy")
    colours = plt.get_cmap("tab10")
    for k, run in enumerate(runs):
        history = run["history"]
        if not history:
            continue
        epochs = [row["epoch"] for row in history]
        seconds = np.cumsum([row["seconds"] for row in history])
        label = f"batch size {run['batch_size']} ({run['mode']}, {run['updates_per_epoch']} update{'s' if run['updates_per_epoch'] != 1 else ''}/epoch)"
        style = {"color": colours(k % 10), "lw": 1.6, "marker": "o" if len(history) <= 30 else None, "ms": 3}
        for row_axes, key in ((axes[0], "loss"), (axes[1], accuracy_key)):
            values = [row[key] for row in history]
            row_axes[0].plot(epochs, values, label=label, **style)
            row_axes[1].plot(seconds, values, label=label, **style)
    for row_axes, ylabel in ((axes[0], "training loss"), (axes[1], accuracy_label)):
        for axis, xlabel in zip(row_axes, ("epoch", "seconds of training (cumulative, log scale)"), strict=True):
            axis.set_xlabel(xlabel)
            axis.set_ylabel(ylabel)
            axis.set_title(f"{ylabel} against {xlabel.split(' (')[0]}")
            axis.grid(alpha=0.3)
        row_axes[0].xaxis.set_major_locator(MaxNLocator(integer=True))
        # online learning's epochs cost hundreds of times a full batch's: only a log axis shows both
        row_axes[1].set_xscale("log")
    axes[0][0].set_yscale("log")
    axes[0][1].set_yscale("log")
    # below the panels, not inside one: a run that barely learns runs along any corner of an axis
    handles, labels = axes[1][0].get_legend_handles_labels()
    figure.legend(handles, labels, loc="outside lower center", ncol=min(len(labels), 2))
    figure.suptitle(title)
    return figure


def write_batch_modes_plot(path: str | Path, runs: list[dict], title: str = "batch modes",
                           env: Environment | None = None) -> None:
    """Draw :func:`batch_modes_figure` and write it as a PNG, atomically."""
    save_figure(batch_modes_figure(runs, title), path, env)
