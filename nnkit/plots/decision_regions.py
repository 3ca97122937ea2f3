"""Decision regions of a two-input classifier with its training points (``train-xor --plot``).

matplotlib is imported only inside the functions, through :func:`nnkit.plots.figures.pyplot`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from nnkit.plots.figures import pyplot, save_figure
from nnkit.term.env import Environment


def decision_grid(
    predict_proba: Callable[[np.ndarray], np.ndarray], lo: float = -0.5, hi: float = 1.5, n: int = 201
):
    """Evaluate ``predict_proba`` on an ``n × n`` grid over ``[lo, hi]²``.

    Returns
    -------
    g1, g2 : (n, n) ndarray
        Grid coordinates (x1 along columns, x2 along rows).
    p : (n, n) ndarray
        The probability of class 1 at each grid point.

    Examples
    --------
    >>> g1, g2, p = decision_grid(lambda x: (x[:, 0] > 0.5).astype(float), n=3)
    >>> p.tolist()
    [[0.0, 0.0, 1.0], [0.0, 0.0, 1.0], [0.0, 0.0, 1.0]]
    """
    axis = np.linspace(lo, hi, n)
    g1, g2 = np.meshgrid(axis, axis)
    points = np.column_stack([g1.ravel(), g2.ravel()])
    p = np.asarray(predict_proba(points), dtype=np.float64).reshape(n, n)
    return g1, g2, p


def decision_figure(
    predict_proba: Callable[[np.ndarray], np.ndarray],
    x: np.ndarray,
    t: np.ndarray,
    title: str,
    lines: list[tuple[np.ndarray, float, str]] | None = None,
):
    """The plane coloured by the predicted class, the 0.5 boundary, and the points by target.

    Parameters
    ----------
    predict_proba : callable
        ``(n, 2) → (n,)`` or ``(n, 1)`` probabilities of class 1.
    x : (n, 2) ndarray
        The points (the four truth-table rows).
    t : (n,) ndarray
        Their 0/1 targets.
    title : str
        Figure title.
    lines : list of (w, b, label), optional
        Hidden units to draw as their lines ``w·x + b = 0`` (where each unit switches on).

    Returns
    -------
    matplotlib.figure.Figure
    """
    figure, axis = pyplot().subplots(figsize=(5.6, 5.0))
    draw_decision(axis, predict_proba, x, t, title, lines)
    return figure


def draw_decision(
    axis,
    predict_proba: Callable[[np.ndarray], np.ndarray],
    x: np.ndarray,
    t: np.ndarray,
    title: str,
    lines: list[tuple[np.ndarray, float, str]] | None = None,
    limits: tuple[float, float] = (-0.5, 1.5),
    names: tuple[str, str] = ("x1", "x2"),
    legend: str = "right",
) -> None:
    """Draw :func:`decision_figure`'s picture into ``axis`` over ``limits``² (``legend``: right or below)."""
    plt = pyplot()
    from matplotlib.colors import ListedColormap

    lo, hi = limits
    g1, g2, p = decision_grid(predict_proba, lo, hi)
    regions = axis.contourf(
        g1, g2, p, levels=[0.0, 0.5, 1.0], cmap=ListedColormap(["#d6e6f5", "#f9d9c4"]), alpha=0.9
    )
    if p.min() < 0.5 < p.max():
        axis.contour(g1, g2, p, levels=[0.5], colors="k", linewidths=1.5, zorder=2)
    # hidden units' lines go over the boundary (they often lie on it): wide, dashed, coloured
    for (w, b, label), colour in zip(lines or [], _LINE_COLOURS * 4, strict=False):
        _draw_line(axis, w, b, label, colour, limits)
    t = np.asarray(t).ravel()
    for value, marker, colour in ((0, "o", "#1f5fa8"), (1, "D", "#c2410c")):
        chosen = t == value
        axis.scatter(
            x[chosen, 0], x[chosen, 1], s=140, marker=marker, c=colour, edgecolors="k",
            zorder=3, label=f"target {value}",
        )
    axis.plot([], [], "k-", label="decision boundary (p = 0.5)")
    handles, labels = axis.get_legend_handles_labels()
    patches = [
        plt.Rectangle((0, 0), 1, 1, fc=regions.cmap(0.0)),
        plt.Rectangle((0, 0), 1, 1, fc=regions.cmap(1.0)),
    ]
    where = ({"loc": "upper left", "bbox_to_anchor": (1.02, 1.0)} if legend == "right"
             else {"loc": "upper center", "bbox_to_anchor": (0.5, -0.14), "ncol": 2})
    axis.legend(handles + patches, [*labels, "predicted 0", "predicted 1"], fontsize=8, **where)
    axis.set_xlim(lo, hi)
    axis.set_ylim(lo, hi)
    # ticks every 0.5 (every 0.25 collides at this size)
    ticks = np.arange(np.ceil(lo * 2) / 2, hi + 1e-9, 0.5 if hi - lo <= 3 else 1.0)
    axis.set_xticks(ticks)
    axis.set_yticks(ticks)
    axis.set_xlabel(names[0])
    axis.set_ylabel(names[1])
    axis.set_aspect("equal")
    axis.set_title(title, fontsize=10)


#: Colours of hidden units' lines, apart from the regions' blue and orange and the black boundary.
_LINE_COLOURS = ["#7b2cbf", "#2a9d8f", "#e9c46a", "#d62828"]


def _draw_line(axis, w: np.ndarray, b: float, label: str, colour: str,
               limits: tuple[float, float] = (-0.5, 1.5)) -> None:
    """Draw ``w[0]·x1 + w[1]·x2 + b = 0`` across the plotted square, its unit's name on the "on" side."""
    lo, hi = limits
    span = np.linspace(lo, hi, 2)
    if abs(w[1]) > abs(w[0]):
        xs, ys = span, -(w[0] * span + b) / w[1]
    elif w[0] != 0:
        xs, ys = -(w[1] * span + b) / w[0], span
    else:
        return
    axis.plot(xs, ys, linestyle=(0, (5, 3)), lw=2.4, color=colour, label=label, zorder=4)
    # the name just beside the line's middle inside the square, towards where w·x + b > 0
    inside = np.linspace(0, 1, 101)
    px, py = xs[0] + inside * (xs[1] - xs[0]), ys[0] + inside * (ys[1] - ys[0])
    margin = 0.025 * (hi - lo)
    visible = (px >= lo + margin) & (px <= hi - margin) & (py >= lo + margin) & (py <= hi - margin)
    if visible.any():
        middle = np.flatnonzero(visible)[visible.sum() // 2]
        normal = np.asarray(w, dtype=float) / np.hypot(*w)
        axis.annotate(label.split()[0] + " on", (px[middle], py[middle]), xytext=tuple(normal * 14),
                      textcoords="offset points", ha="center", va="center", fontsize=8, color=colour,
                      fontweight="bold", zorder=5)


def write_decision_plot(
    path: str | Path,
    predict_proba: Callable[[np.ndarray], np.ndarray],
    x: np.ndarray,
    t: np.ndarray,
    title: str,
    lines: list[tuple[np.ndarray, float, str]] | None = None,
    env: Environment | None = None,
) -> None:
    """Draw :func:`decision_figure` and write it as a PNG, atomically."""
    save_figure(decision_figure(predict_proba, x, t, title, lines), path, env)
