"""Decision regions of a two-input classifier with its training points (``train-xor --plot``).

matplotlib is imported only inside the functions, through :func:`nnkit.plots.figures.pyplot`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from nnkit.plots.figures import save_figure
from nnkit.plots.style import wrap
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
    linear: tuple[np.ndarray, float] | None = None,
):
    """The plane coloured by the probability of class 1, the 0.5 boundary, and the points by target.

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
    linear : (w, b), optional
        A model without a hidden layer: its boundary is the straight line ``w·x + b = 0``, drawn
        (or, when it lies outside the square, said so), and beside it straight lines that show how
        many of the points any one line can put on their right sides.

    Returns
    -------
    matplotlib.figure.Figure
    """
    from nnkit.plots.style import NOTEBOOK, new_figure

    figure, axis = new_figure((NOTEBOOK[0], NOTEBOOK[1] + 1.4))
    shading = draw_decision(axis, predict_proba, x, t, title, lines, linear=linear)
    add_probability_bar(figure, shading, axis)
    return figure


def add_probability_bar(figure, shading, axes) -> None:
    """The colour bar of :func:`draw_decision`'s shading, for one panel or several sharing it."""
    bar = figure.colorbar(shading, ax=axes, shrink=0.8, pad=0.02)
    bar.set_label("p(class 1): blue → 0, white = 0.5, red → 1")


def draw_decision(
    axis,
    predict_proba: Callable[[np.ndarray], np.ndarray],
    x: np.ndarray,
    t: np.ndarray,
    title: str,
    lines: list[tuple[np.ndarray, float, str]] | None = None,
    limits: tuple[float, float] = (-0.5, 1.5),
    names: tuple[str, str] = ("x1", "x2"),
    linear: tuple[np.ndarray, float] | None = None,
    title_chars: int = 70,
    legend_below: float = -0.13,
):
    """Draw :func:`decision_figure`'s picture into ``axis`` over ``limits``²; returns the shading (for a colour bar).

    ``names`` label the axes (a hidden plane's are h1, h2); ``title_chars`` is where the title wraps;
    ``legend_below`` is how far below the panel its legend starts (a fraction of the panel's height).
    """
    lo, hi = limits
    g1, g2, p = decision_grid(predict_proba, lo, hi)
    # p itself, blue (0) through white (0.5, undecided) to red (1): an undecided model shows as white
    shading = axis.imshow(p, origin="lower", extent=(lo, hi, lo, hi), cmap="RdBu_r", vmin=0, vmax=1,
                          alpha=0.55, interpolation="bilinear", zorder=0)
    if linear is not None:  # its boundary is the straight line w·x + b = 0
        _draw_linear(axis, x, t, *linear, undecided=float(np.abs(p - 0.5).max()) < 0.005)
    elif p.min() < 0.5 < p.max():
        axis.contour(g1, g2, p, levels=[0.5], colors="k", linewidths=2, zorder=2)
        axis.plot([], [], "k-", lw=2, label="decision boundary (p = 0.5)")
    # hidden units' lines go over the boundary (they often lie on it): wide, dashed, coloured
    for (w, b, label), colour in zip(lines or [], _LINE_COLOURS * 4, strict=False):
        _draw_line(axis, w, b, label, colour, limits=limits)
    t = np.asarray(t).ravel()
    for value, marker, colour in ((0, "o", "#1f5fa8"), (1, "D", "#c2410c")):
        chosen = t == value
        axis.scatter(
            x[chosen, 0], x[chosen, 1], s=160, marker=marker, c=colour, edgecolors="k",
            zorder=6, label=f"target {value}",
        )
    axis.legend(loc="upper center", bbox_to_anchor=(0.5, legend_below), fontsize=10.5, ncol=2)
    axis.set_xlim(lo, hi)
    axis.set_ylim(lo, hi)
    # ticks every 0.5 (every 0.25 collides at this size), every 1 on a wider plane
    ticks = np.arange(np.ceil(lo * 2) / 2, hi + 1e-9, 0.5 if hi - lo <= 3 else 1.0)
    axis.set_xticks(ticks)
    axis.set_yticks(ticks)
    axis.set_xlabel(names[0])
    axis.set_ylabel(names[1])
    axis.set_aspect("equal")
    axis.set_title(wrap(title, title_chars))
    return shading


#: Straight lines (w, b) shown beside a linear model's own: a diagonal below, one above, a vertical.
_STRAIGHT = ((np.array([1.0, 1.0]), -0.5), (np.array([1.0, 1.0]), -1.5), (np.array([1.0, 0.0]), -0.5))
#: Their colours and dashes: each legend entry must point at one line (not the points' blue and orange).
_STRAIGHT_LOOKS = (("#6a4c93", (2, 2)), ("#2a9d8f", (6, 2)), ("#8d6e63", (6, 2, 1, 2)))


def points_right(w: np.ndarray, b: float, x: np.ndarray, t: np.ndarray) -> int:
    """How many points a straight boundary ``w·x + b = 0`` classifies right, on its better side.

    Examples
    --------
    >>> xor = np.array([[0, 0], [0, 1], [1, 0], [1, 1]]), np.array([0, 1, 1, 0])
    >>> points_right(np.array([1.0, 1.0]), -0.5, *xor), points_right(np.array([1.0, 0.0]), -0.5, *xor)
    (3, 2)
    """
    above = (np.asarray(x, dtype=float) @ w + b > 0).astype(int)
    right = int((above == np.asarray(t).ravel()).sum())
    return max(right, len(above) - right)


def _draw_linear(axis, x: np.ndarray, t: np.ndarray, w: np.ndarray, b: float, undecided: bool = False) -> None:
    """A linear model's boundary ``w·x + b = 0`` and, in grey, other straight lines with their scores."""
    w = np.asarray(w, dtype=float).ravel()
    if not _draw_line(axis, w, b, "", "black", label_on=False, style="-", width=2.6):
        why = ": w ≈ 0, p ≈ 0.5 everywhere" if undecided else ""
        axis.plot([], [], " ", label=f"the model's boundary w·x + b = 0\nlies outside this square{why}")
    else:
        axis.get_lines()[-1].set_label(f"the model's boundary (p = 0.5)\n{_equation(w, b)}")
    if points_right(w, b, x, t) == len(x):
        return  # one straight line separates the points: no need to show others failing
    for k, ((line_w, line_b), (colour, dashes)) in enumerate(zip(_STRAIGHT, _STRAIGHT_LOOKS, strict=True)):
        score = points_right(line_w, line_b, x, t)
        drawn = _draw_line(axis, line_w, line_b, "", colour, label_on=False, style=(0, dashes), width=1.8)
        if drawn:
            axis.get_lines()[-1].set_label(f"{_equation(line_w, line_b)}: {score} of {len(x)} right" if k == 0
                                           else f"{_equation(line_w, line_b)}: {score} of {len(x)}")


def _equation(w: np.ndarray, b: float) -> str:
    """``w·x + b = 0`` written out.

    Examples
    --------
    >>> _equation(np.array([1.0, -2.0]), -0.5)
    '1·x1 − 2·x2 − 0.5 = 0'
    """

    def signed(value: float) -> str:
        return f"− {abs(value):.3g}" if value < 0 else f"+ {value:.3g}"

    return f"{w[0]:.3g}·x1 {signed(w[1])}·x2 {signed(b)} = 0"


#: Colours of hidden units' lines, apart from the regions' blue and orange and the black boundary.
_LINE_COLOURS = ["#7b2cbf", "#2a9d8f", "#e9c46a", "#d62828"]


def _draw_line(axis, w: np.ndarray, b: float, label: str, colour: str, label_on: bool = True,
               style=(0, (5, 3)), width: float = 2.4, limits: tuple[float, float] = (-0.5, 1.5)) -> bool:
    """Draw ``w[0]·x1 + w[1]·x2 + b = 0`` across the plotted square, its unit's name on the "on" side.

    Returns whether the line crosses the square (and so was drawn).
    """
    lo, hi = limits
    span = np.linspace(lo, hi, 2)
    if abs(w[1]) > abs(w[0]):
        xs, ys = span, -(w[0] * span + b) / w[1]
    elif w[0] != 0:
        xs, ys = -(w[1] * span + b) / w[0], span
    else:
        return False
    # the part inside the square: where it is visible
    inside = np.linspace(0, 1, 101)
    px, py = xs[0] + inside * (xs[1] - xs[0]), ys[0] + inside * (ys[1] - ys[0])
    margin = 0.025 * (hi - lo)
    visible = (px >= lo + margin) & (px <= hi - margin) & (py >= lo + margin) & (py <= hi - margin)
    if not visible.any():
        return False
    axis.plot(xs, ys, linestyle=style, lw=width, color=colour, label=label, zorder=4)
    if label_on:
        # the name just beside the line's middle inside the square, towards where w·x + b > 0
        middle = np.flatnonzero(visible)[visible.sum() // 2]
        normal = np.asarray(w, dtype=float) / np.hypot(*w)
        axis.annotate(label.split()[0] + " on", (px[middle], py[middle]), xytext=tuple(normal * 14),
                      textcoords="offset points", ha="center", va="center", fontsize=10, color=colour,
                      fontweight="bold", zorder=5)
    return True


def write_decision_plot(
    path: str | Path,
    predict_proba: Callable[[np.ndarray], np.ndarray],
    x: np.ndarray,
    t: np.ndarray,
    title: str,
    lines: list[tuple[np.ndarray, float, str]] | None = None,
    env: Environment | None = None,
    linear: tuple[np.ndarray, float] | None = None,
) -> None:
    """Draw :func:`decision_figure` and write it as a PNG, atomically."""
    save_figure(decision_figure(predict_proba, x, t, title, lines, linear), path, env)
