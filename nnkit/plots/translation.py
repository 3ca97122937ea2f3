"""The picture of ``nnkit shift``: the image, its feature map and its pooled map, before and after a shift.

Two rows (the image as given, the image moved) and one column per stage; each column's title gives the
correlation of its two pictures position by position, so a reader sees the feature map move with the
image while the pooled map, coarser, changes less. Signed maps use a diverging colour map centred at 0.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from nnkit.course.translation import correlation


def shift_figure(stages: list[tuple[str, np.ndarray, np.ndarray]], report: dict):
    """``stages``: (name, for the image, for the moved image); ``report``: ``nnkit shift``'s report.

    One column per stage (the image and the moved image, one colour scale and bar each), in the shared
    slide style (:mod:`nnkit.plots.style`).
    """
    from nnkit.plots.style import SLIDE, colour_scale, new_figure, title_width, wrap

    figure, axes = new_figure(SLIDE, 2, len(stages), squeeze=False)
    by = report["by"]
    for column, (name, before, after) in enumerate(stages):
        cmap, norm, _ = colour_scale(np.concatenate([np.ravel(before), np.ravel(after)]), kind="image")
        for row, (values, label) in enumerate(((before, "as given"), (after, f"moved {by[0]},{by[1]}"))):
            axis = axes[row, column]
            shown = axis.imshow(values, interpolation="nearest", cmap=cmap, norm=norm)
            axis.set_title(wrap(f"{name} {values.shape[0]}×{values.shape[1]}, {label}",
                                title_width(axis, font=11)), fontsize=11)
            if row == 1:
                figure.colorbar(shown, ax=axes[:, column], shrink=0.6)
        axes[1, column].set_xlabel(wrap(f"correlation with the one above: {correlation(before, after):.3f}",
                                        title_width(axes[1, column], font=10)), fontsize=10)
    figure.suptitle(wrap(f"{Path(report['image']).name} moved {by[0]} down, {by[1]} right: the feature map moves with it, "
                         "the pooled map changes less", 110))
    return figure
