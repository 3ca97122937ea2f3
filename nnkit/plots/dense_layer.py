"""The picture of one dense layer (``nnkit dense --plot``): the course's 2-1 and 2-4 figures, with numbers.

Inputs on the left (the bias unit "1" on top), the layer's units on the right, one line per weight
labelled in the course's convention (``w_13`` joins unit 1 to input 3), and inside each unit its
pre-activation z and activation h for the first input row.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from nnkit.course.dense_walkthrough import DenseForward, stacked_labels
from nnkit.plots.figures import pyplot, save_figure
from nnkit.term.env import Environment

#: Above this many inputs or units the weights are drawn without their labels (they would overlap).
_MAX_LABELLED = 5
#: Most inputs or units drawn; a bigger layer shows its first ones and a "⋮".
_MAX_DRAWN = 12


def _positions(count: int) -> np.ndarray:
    """Heights of ``count`` nodes, evenly spaced and centred on 0 (top first)."""
    return (count - 1) / 2 - np.arange(count)


def _math(label: str) -> str:
    """``"w_13"`` → ``"$w_{13}$"``: the course's subscripts, in matplotlib's mathtext."""
    name, sub = label.split("_", 1)
    return f"${name}_{{{sub}}}$"


def dense_figure(result: DenseForward, sample: int = 0):
    """Draw the layer for input row ``sample``; returns the matplotlib figure."""
    plt = pyplot()
    n_in, n_out = result.W.shape
    shown_in, shown_out = min(n_in, _MAX_DRAWN), min(n_out, _MAX_DRAWN)
    left = _positions(shown_in + 1)  # the bias unit, then the inputs
    right = _positions(shown_out)
    labelled = n_in <= _MAX_LABELLED and n_out <= _MAX_LABELLED
    height = max(3.2, 0.9 * max(len(left), len(right)) + 1.4)
    figure, axis = plt.subplots(figsize=(8.6, height))
    colours = plt.get_cmap("tab10")
    _draw_weights(axis, result.Wb, stacked_labels(n_in, n_out) if labelled else None, left, right, colours)
    _draw_units(axis, result, sample, left, right, colours)
    if shown_in < n_in:
        axis.text(0.0, left[-1] - 0.7, f"⋮ {n_in - shown_in} more inputs", ha="center", fontsize=9)
    if shown_out < n_out:
        axis.text(1.0, right[-1] - 0.7, f"⋮ {n_out - shown_out} more units", ha="center", fontsize=9)
    axis.text(0.0, left[0] + 0.75, "inputs [1 x]", ha="center", fontsize=10, weight="bold")
    axis.text(1.0, max(right[0], left[0]) + 0.75, f"units h = {result.activation}(z)", ha="center", fontsize=10,
              weight="bold")
    axis.set_xlim(-0.35, 1.35)
    top = max(left[0], right[0]) + 1.2
    bottom = min(left[-1], right[-1]) - 1.0
    axis.set_ylim(bottom, top)
    axis.axis("off")
    note = "" if labelled else " (weights unlabelled: the line width is |w|)"
    axis.set_title(
        f"dense layer, input row {sample}: $z_j = b_j + \\sum_i x_i w_{{ji}}$, $h_j$ = {result.activation}($z_j$)\n"
        f"$w_{{ji}}$ joins unit j to input i; dashed: the bias $b_j$ (the weight of the constant 1){note}",
        fontsize=10,
    )
    return figure


def _draw_weights(axis, weights: np.ndarray, labels, left, right, colours) -> None:
    """A line per drawn weight of ``[b; W]`` (the bias row dashed), as wide as ``|w|``; labelled with ``labels``.

    Lines go from the ``left`` positions (bias, inputs) to the ``right`` ones (units): as many as drawn.
    """
    scale = float(np.abs(weights).max()) or 1.0
    n_out = weights.shape[1]
    for j in range(len(right)):
        colour = colours(j % 10)
        for i in range(len(left)):
            value = weights[i, j]
            axis.plot([0.0, 1.0], [left[i], right[j]], color=colour, lw=0.6 + 2.4 * abs(value) / scale,
                      ls="--" if i == 0 else "-", alpha=0.8, zorder=1)
            if labels is not None:
                # each label sits on its line, a different distance along it for each unit, so
                # the labels of lines that cross near the inputs do not overlap
                t = 0.28 + 0.44 * (j + 0.5) / n_out
                axis.text(t, left[i] + t * (right[j] - left[i]), f"{_math(labels[i][j])}={value:.3g}", color=colour,
                          fontsize=8, ha="center", va="center", zorder=3,
                          bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.85})


def _draw_units(axis, result: DenseForward, sample: int, left, right, colours) -> None:
    """The bias and input circles (with the sample's values) and the units (with z and h)."""
    x = result.x1[sample]
    for i in range(len(left)):
        text = "1\n(bias)" if i == 0 else f"{_math(f'x_{i}')}\n{x[i]:.3g}"
        axis.scatter([0.0], [left[i]], s=1500, color="#eeeeee" if i == 0 else "#d9e8f5",
                     edgecolors="black", zorder=2)
        axis.text(0.0, left[i], text, ha="center", va="center", fontsize=9, zorder=4)
    for j in range(len(right)):
        axis.scatter([1.0], [right[j]], s=2600, color="#fde7c7", edgecolors=colours(j % 10), linewidths=2,
                     zorder=2)
        axis.text(1.0, right[j], f"unit {j + 1}\nz={result.z[sample, j]:.3g}\nh={result.y[sample, j]:.3g}",
                  ha="center", va="center", fontsize=8.5, zorder=4)


def write_dense_plot(path: str | Path, result: DenseForward, env: Environment | None = None) -> None:
    """Draw :func:`dense_figure` and write it as a PNG, atomically."""
    save_figure(dense_figure(result), path, env)
