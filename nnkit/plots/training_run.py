"""The picture of a training run: learning curves, the confusion matrix and, for two classes, the ROC curve.

(``train-mlp --plot``.) With early stopping, the epoch whose weights were kept is marked on the
learning curves.

matplotlib is imported only inside :func:`training_figure`, through :func:`nnkit.plots.figures.pyplot`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from nnkit.plots.conv_maps import conv_band_heights, conv_stages, draw_conv_bands, has_conv_layers
from nnkit.plots.figures import pyplot, save_figure
from nnkit.term.env import Environment


def training_figure(history, confusion=None, classes=None, title: str = "train-mlp", figure=None, best_epoch=None,
                    roc=None, positive=None):
    """Loss and accuracy per epoch (training and validation) beside the test confusion matrix.

    Parameters
    ----------
    history : list of dict
        Rows ``{epoch, loss, accuracy, val_loss, val_accuracy}`` (``val_*`` may be None).
    confusion : (n_classes, n_classes) array, optional
        Rows true classes, columns predictions; omitted when there is no test part.
    classes : list, optional
        Class names for the matrix's axes.
    title : str
        Figure title.
    figure : matplotlib Figure or SubFigure, optional
        Draw into it (a band of a larger figure) instead of a new figure.
    best_epoch : int, optional
        The epoch whose weights early stopping kept: a vertical line on the learning curves.
    roc : (is_positive, scores), optional
        Two classes: the test part's labels and the positive class's probabilities, drawn as the
        ROC curve with its area.
    positive : str, optional
        The positive class's name, for the ROC panel.

    Returns
    -------
    matplotlib.figure.Figure
    """
    plt = pyplot()
    from matplotlib.ticker import MaxNLocator

    panels = 2 + (confusion is not None) + (roc is not None)
    if figure is None:
        figure, axes = plt.subplots(1, panels, figsize=(5.2 * panels, 4.4), layout="tight")
    else:
        axes = figure.subplots(1, panels)
    epochs = [row["epoch"] for row in history]
    for axis, key, label in ((axes[0], "loss", "loss"), (axes[1], "accuracy", "accuracy")):
        if epochs:
            axis.plot(epochs, [row[key] for row in history], "o-", ms=3, label=f"training {label}")
            val = [row.get(f"val_{key}") for row in history]
            if any(v is not None for v in val):
                axis.plot(
                    epochs,
                    [np.nan if v is None else v for v in val],
                    "s-",
                    ms=3,
                    label=f"validation {label}",
                )
            if best_epoch is not None:
                last = epochs[-1]
                stopped = f", stopped at {last}" if last > best_epoch else ""
                axis.axvline(best_epoch, color="tab:green", linestyle="--", linewidth=1.5,
                             label=f"weights kept: epoch {best_epoch}{stopped}")
            axis.legend(fontsize=8)
        axis.xaxis.set_major_locator(MaxNLocator(integer=True))
        if len(epochs) == 1:  # one point: matplotlib would span ±5 % of an epoch in fractions
            axis.set_xlim(epochs[0] - 0.5, epochs[0] + 0.5)
            axis.set_xticks(epochs)
        axis.set_xlabel("epoch")
        axis.set_ylabel(label)
        axis.set_title(f"{label} per epoch")
        axis.grid(alpha=0.3)
    if confusion is not None:
        cm = np.asarray(confusion)
        names = [str(c) for c in (classes if classes is not None else range(cm.shape[0]))]
        axis = axes[2]
        image = axis.imshow(cm, cmap="Blues")
        figure.colorbar(image, ax=axis, fraction=0.046, pad=0.04, label="samples")
        ticks = range(cm.shape[0])
        axis.set_xticks(ticks, names, rotation=45 if len(names) > 4 else 0, ha="right")
        axis.set_yticks(ticks, names)
        if cm.shape[0] <= 20:
            threshold = cm.max() / 2 if cm.size else 0
            for i in ticks:
                for j in ticks:
                    colour = "white" if cm[i, j] > threshold else "black"
                    axis.text(j, i, str(cm[i, j]), ha="center", va="center", color=colour)
        axis.set_xlabel("predicted class")
        axis.set_ylabel("true class")
        axis.set_title("confusion matrix (test)")
    if roc is not None:
        _draw_roc(axes[-1], *roc, positive)
    figure.suptitle(title)
    return figure


def _draw_roc(axis, is_positive, scores, positive) -> None:
    """Sensitivity against 1 − specificity as the threshold falls, with the chance diagonal."""
    from nnkit.nn.metrics import roc_auc, roc_curve

    fpr, tpr = roc_curve(is_positive, scores)
    axis.plot(fpr, tpr, drawstyle="default", linewidth=2, label=f"ROC, AUC = {roc_auc(is_positive, scores):.3f}")
    axis.plot([0, 1], [0, 1], ":", color="0.5", label="chance (AUC 0.5)")
    axis.set_xlim(-0.02, 1.02)
    axis.set_ylim(-0.02, 1.02)
    axis.set_aspect("equal")
    axis.set_xlabel("1 − specificity (false-positive rate)")
    axis.set_ylabel("sensitivity (true-positive rate)")
    axis.set_title("ROC curve (test)" + (f", positive: {positive}" if positive is not None else ""))
    axis.legend(loc="lower right", fontsize=8)
    axis.grid(alpha=0.3)


def training_conv_figure(history, confusion, classes, title: str, layers, example: np.ndarray, caption: str,
                         **curves):
    """``--plot`` of a model with conv layers: the learning curves, then filters and feature maps.

    Parameters
    ----------
    history, confusion, classes, title
        As :func:`training_figure` takes them.
    layers : list of engine layers
        The trained stack.
    example : (H, W, C) ndarray
        One (test) image as the network takes it, whose feature maps are drawn.
    caption : str
        What that image is (``test image 0: true 7, predicted 7``).
    **curves
        ``best_epoch``, ``roc`` and ``positive``, as :func:`training_figure` takes them.

    Returns
    -------
    matplotlib.figure.Figure
    """
    plt = pyplot()
    shaped = example if example.ndim == 3 else example[:, :, np.newaxis]
    stages = conv_stages(layers, shaped)
    heights = [4.6, *conv_band_heights(stages)]
    figure = plt.figure(figsize=(15.6, sum(heights)), layout="constrained")
    bands = figure.subfigures(len(heights), 1, height_ratios=heights)
    training_figure(history, confusion, classes, title, figure=bands[0], **curves)
    draw_conv_bands(bands[1:], stages, (shaped, caption))
    return figure


def write_training_plot(
    path: str | Path,
    history,
    confusion=None,
    classes=None,
    title: str = "train-mlp",
    env: Environment | None = None,
    layers=None,
    example=None,
    example_caption: str = "an example image",
    best_epoch=None,
    roc=None,
    positive=None,
) -> None:
    """Draw :func:`training_figure` and write it as a PNG, atomically.

    With the network's ``layers`` and one ``example`` image (H, W, C) as it takes them, a model
    with convolution layers also gets its first filters and the example's feature maps
    (:func:`training_conv_figure`); both draw the kept epoch and the ROC curve alike.
    """
    curves = {"best_epoch": best_epoch, "roc": roc, "positive": positive}
    if layers is not None and example is not None and has_conv_layers(layers):
        figure = training_conv_figure(history, confusion, classes, title, layers, example, example_caption, **curves)
    else:
        figure = training_figure(history, confusion, classes, title, **curves)
    save_figure(figure, path, env)
