"""The picture of ``nnkit shift``: the image, its feature map and its pooled map, before and after a shift.

Two rows (the image as given, the image moved) and one column per stage; each column's title gives the
correlation of its two pictures position by position, so a reader sees the feature map move with the
image while the pooled map, coarser, changes less. Signed maps use a diverging colour map centred at 0.
"""

from __future__ import annotations

import numpy as np

from nnkit.course.translation import correlation
from nnkit.plots.figures import pyplot


def shift_figure(stages: list[tuple[str, np.ndarray, np.ndarray]], report: dict):
    """``stages``: (name, for the image, for the moved image); ``report``: ``nnkit shift``'s report."""
    plt = pyplot()
    figure, axes = plt.subplots(2, len(stages), figsize=(4.4 * len(stages), 8.0), squeeze=False,
                                layout="constrained")
    by = report["by"]
    for column, (name, before, after) in enumerate(stages):
        low, high = min(before.min(), after.min()), max(before.max(), after.max())
        signed = low < 0 < high
        reach = max(-low, high)
        style = ({"cmap": "RdBu_r", "vmin": -reach, "vmax": reach} if signed
                 else {"cmap": "gray", "vmin": low, "vmax": high if high > low else low + 1})
        for row, (values, label) in enumerate(((before, "as given"), (after, f"moved {by[0]},{by[1]}"))):
            axis = axes[row, column]
            shown = axis.imshow(values, interpolation="nearest", **style)
            axis.set_title(f"{name} {values.shape[0]}×{values.shape[1]}, {label}", fontsize=9)
            axis.tick_params(labelsize=7)
            if row == 1:
                figure.colorbar(shown, ax=axes[:, column], shrink=0.6)
        axes[1, column].set_xlabel(f"correlation with the one above: {correlation(before, after):.3f}", fontsize=9)
    figure.suptitle(f"{report['image']} moved {by[0]} down, {by[1]} right: the feature map moves with it, "
                    "the pooled map changes less", fontsize=11)
    return figure
