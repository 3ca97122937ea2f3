"""The picture of a training run: learning curves, the confusion matrix and, for two classes, the ROC curve.

(``train-mlp --plot``.) With early stopping, the epoch whose weights were kept is marked on the
learning curves.

matplotlib is imported only inside :func:`training_figure`, through :func:`nnkit.plots.figures.pyplot`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from nnkit.plots.conv_maps import DEFAULT_MAPS, conv_band_heights, conv_stages, draw_conv_bands, has_conv_layers
from nnkit.plots.figures import pyplot, save_figure
from nnkit.plots.style import SLIDE, place_legend
from nnkit.term.env import Environment


def training_figure(history, confusion=None, classes=None, title: str = "train-mlp", figure=None, best_epoch=None,
                    roc=None, positive=None, operating=None, strip: bool = False):
    """Loss and accuracy per epoch (training and validation), the test confusion matrix and ROC curve.

    Laid out 2 × 2 on a slide (loss and accuracy on the left, the confusion matrix and the ROC curve
    on the right; without a ROC curve the matrix takes the whole right column).

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
    operating : (sensitivity, specificity), optional
        The reported sensitivity and specificity (the predicted class, i.e. probability ≥ 0.5): marked
        on the ROC curve at (1 − specificity, sensitivity).
    strip : bool
        All panels in one row (a band of the conv figure) instead of 2 × 2.

    Returns
    -------
    matplotlib.figure.Figure
    """
    plt = pyplot()
    if figure is None:
        figure = plt.figure(figsize=SLIDE, layout="constrained")
    has_matrix, has_roc = confusion is not None, roc is not None
    if strip:
        grid = figure.add_gridspec(1, 2 + has_matrix + has_roc, width_ratios=[1, 1] + [1.25] * (has_matrix + has_roc))
        places = [grid[0, 0], grid[0, 1], grid[0, 2] if has_matrix else None, grid[0, -1] if has_roc else None]
    elif has_matrix:
        grid = figure.add_gridspec(2, 2, width_ratios=[1.15, 1])
        places = [grid[0, 0], grid[1, 0], grid[0, 1] if has_roc else grid[:, 1], grid[1, 1] if has_roc else None]
    else:
        grid = figure.add_gridspec(1, 2)
        places = [grid[0, 0], grid[0, 1], None, None]
    # every panel made before any colour bar, so the figure's axes are loss, accuracy, matrix, ROC
    loss, accuracy, matrix, curve = (None if place is None else figure.add_subplot(place) for place in places)
    _draw_curves(loss, accuracy, history, best_epoch)
    if has_matrix:
        _draw_confusion(matrix, confusion, classes, numbers_up_to=5 if strip else 20)
    if has_roc:
        _draw_roc(curve, *roc, positive, operating)
    figure.suptitle(title)
    _place_curve_legends(figure)
    return figure


def _place_curve_legends(figure) -> None:
    """The loss and accuracy panels' legends moved off their curves (once the panels have their final size)."""
    for axis in figure.axes[:2]:
        if axis.get_legend() is not None:
            place_legend(axis)


def _draw_curves(loss, accuracy, history, best_epoch) -> None:
    """Training (and validation) loss and accuracy per epoch, the kept epoch marked."""
    from matplotlib.ticker import MaxNLocator

    epochs = [row["epoch"] for row in history]
    for axis, key, label in ((loss, "loss", "loss"), (accuracy, "accuracy", "accuracy")):
        if epochs:
            axis.plot(epochs, [row[key] for row in history], "o-", ms=4, label=f"training {label}")
            val = [row.get(f"val_{key}") for row in history]
            if any(v is not None for v in val):
                axis.plot(epochs, [np.nan if v is None else v for v in val], "s-", ms=4,
                          label=f"validation {label}")
            if best_epoch is not None:
                last = epochs[-1]
                stopped = f", stopped at {last}" if last > best_epoch else ""
                axis.axvline(best_epoch, color="tab:green", linestyle="--", linewidth=1.8,
                             label=f"weights kept: epoch {best_epoch}{stopped}")
            axis.legend()
        axis.xaxis.set_major_locator(MaxNLocator(integer=True))
        if len(epochs) == 1:  # one point: matplotlib would span ±5 % of an epoch in fractions
            axis.set_xlim(epochs[0] - 0.5, epochs[0] + 0.5)
            axis.set_xticks(epochs)
        axis.set_xlabel("epoch")
        axis.set_ylabel(label)
        axis.set_title(f"{label} per epoch")
        axis.grid(alpha=0.3)


def _draw_confusion(axis, confusion, classes, numbers_up_to: int = 20) -> None:
    """The test confusion matrix: counts in blue, each cell's count written in it up to ``numbers_up_to`` classes."""
    from nnkit.plots.style import value_image

    cm = np.asarray(confusion)
    names = [str(c) for c in (classes if classes is not None else range(cm.shape[0]))]
    value_image(axis, cm, label="samples", kind="Blues", numbers=cm.shape[0] <= numbers_up_to, ticks=True,
                number_format=lambda v: f"{int(v)}")
    ticks = range(cm.shape[0])
    axis.set_xticks(ticks, names, rotation=45 if len(names) > 4 else 0, ha="right" if len(names) > 4 else "center")
    axis.set_yticks(ticks, names)
    axis.set_xlabel("predicted class")
    axis.set_ylabel("true class")
    axis.set_title("confusion matrix (test)")


def _draw_roc(axis, is_positive, scores, positive, operating=None) -> None:
    """Sensitivity against 1 − specificity as the threshold falls, the chance diagonal and the reported point."""
    from nnkit.nn.metrics import roc_auc, roc_curve

    fpr, tpr = roc_curve(is_positive, scores)
    axis.plot(fpr, tpr, drawstyle="default", linewidth=2, label=f"ROC, AUC = {roc_auc(is_positive, scores):.3f}")
    axis.plot([0, 1], [0, 1], ":", color="0.5", label="chance (AUC 0.5)")
    if operating is not None:
        sensitivity, specificity = operating
        axis.plot([1 - specificity], [sensitivity], "o", color="tab:red", ms=10, mec="black", zorder=4,
                  label=f"the predicted class\n(p ≥ 0.5):\nsensitivity {sensitivity:.3f}\nspecificity {specificity:.3f}")
    axis.set_xlim(-0.02, 1.02)
    axis.set_ylim(-0.02, 1.02)
    axis.set_aspect("equal")
    axis.set_xlabel("1 − specificity (false-positive rate)")
    axis.set_ylabel("sensitivity\n(true-positive rate)")
    axis.set_title("ROC curve (test)" + (f", positive: {positive}" if positive is not None else ""))
    axis.legend(loc="lower left", bbox_to_anchor=(1.03, 0.0), borderaxespad=0)
    axis.grid(alpha=0.3)


def training_conv_figure(history, confusion, classes, title: str, layers, example: np.ndarray, caption: str,
                         contrast: np.ndarray | None = None, contrast_caption: str = "", maps: int = DEFAULT_MAPS,
                         **curves):
    """``--plot`` of a model with conv layers, on one slide: the curves in a row, then filters and maps.

    Parameters
    ----------
    history, confusion, classes, title
        As :func:`training_figure` takes them.
    layers : list of engine layers
        The trained stack.
    example : (H, W, C) ndarray
        One (test) image as the network takes it (one it got wrong, when there is one).
    caption : str
        What that image is (``✗ wrong: test image 8, true 3, predicted 8``).
    contrast : (H, W, C) ndarray, optional
        A second image (one it got right), whose same maps are drawn beside the first's.
    contrast_caption : str
        What that image is.
    maps : int
        How many maps of each conv layer (``--maps``): the most active ones for ``example``.
    **curves
        ``best_epoch``, ``roc``, ``positive`` and ``operating``, as :func:`training_figure` takes them.

    Returns
    -------
    matplotlib.figure.Figure
    """
    plt = pyplot()
    images = [(example, caption)] + ([(contrast, contrast_caption)] if contrast is not None else [])
    images = [(image if image.ndim == 3 else image[:, :, np.newaxis], text) for image, text in images]
    stages = [conv_stages(layers, image) for image, _ in images]
    heights = [2.5, *conv_band_heights(stages[0], captions=len(images) > 1)]
    figure = plt.figure(figsize=(SLIDE[0], sum(heights) + 0.4), layout="constrained")
    bands = figure.subfigures(len(heights), 1, height_ratios=heights)
    training_figure(history, confusion, classes, title, figure=bands[0], strip=True, **curves)
    draw_conv_bands(bands[1:], stages, images, maps)
    _place_curve_legends(bands[0])
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
    operating=None,
    contrast=None,
    contrast_caption: str = "",
    maps: int = DEFAULT_MAPS,
) -> None:
    """Draw :func:`training_figure` and write it as a PNG, atomically.

    With the network's ``layers`` and one ``example`` image (H, W, C) as it takes them, a model
    with convolution layers also gets its first filters and the example's feature maps
    (:func:`training_conv_figure`); both draw the kept epoch and the ROC curve alike.
    """
    curves = {"best_epoch": best_epoch, "roc": roc, "positive": positive, "operating": operating}
    if layers is not None and example is not None and has_conv_layers(layers):
        figure = training_conv_figure(history, confusion, classes, title, layers, example, example_caption,
                                      contrast, contrast_caption, maps, **curves)
    else:
        figure = training_figure(history, confusion, classes, title, **curves)
    save_figure(figure, path, env)
