"""The picture of a training run: learning curves and the confusion matrix (``train-mlp --plot``).

matplotlib is imported only inside :func:`training_figure`, through :func:`nnkit.io.figures.pyplot`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from nnkit.io.env import Environment
from nnkit.io.figures import pyplot, save_figure


def training_figure(history, confusion=None, classes=None, title: str = "train-mlp", figure=None):
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

    Returns
    -------
    matplotlib.figure.Figure
    """
    plt = pyplot()
    from matplotlib.ticker import MaxNLocator

    panels = 3 if confusion is not None else 2
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
            axis.legend()
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
    figure.suptitle(title)
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
) -> None:
    """Draw :func:`training_figure` and write it as a PNG, atomically.

    With the network's ``layers`` and one ``example`` image (H, W, C) as it takes them, a model
    with convolution layers also gets its first filters and the example's feature maps
    (:func:`nnkit.io.plot_conv.training_conv_figure`).
    """
    from nnkit.io.plot_conv import has_conv_layers, training_conv_figure

    if layers is not None and example is not None and has_conv_layers(layers):
        figure = training_conv_figure(history, confusion, classes, title, layers, example, example_caption)
    else:
        figure = training_figure(history, confusion, classes, title)
    save_figure(figure, path, env)
