"""Decision regions of a two-input classifier with its training points (``train-xor --plot``).

matplotlib is imported only inside the functions, through :func:`nnkit.io.figures.pyplot`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from nnkit.io.env import Environment
from nnkit.io.figures import pyplot, save_figure


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
    plt = pyplot()
    from matplotlib.colors import ListedColormap

    g1, g2, p = decision_grid(predict_proba)
    figure, axis = plt.subplots(figsize=(5.6, 5.0))
    regions = axis.contourf(
        g1, g2, p, levels=[0.0, 0.5, 1.0], cmap=ListedColormap(["#d6e6f5", "#f9d9c4"]), alpha=0.9
    )
    axis.contour(g1, g2, p, levels=[0.5], colors="k", linewidths=1.5)
    for w, b, label in lines or []:
        _draw_line(axis, w, b, label)
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
    axis.legend(
        handles + patches, [*labels, "predicted 0", "predicted 1"], loc="upper left",
        bbox_to_anchor=(1.02, 1.0), fontsize=8,
    )
    axis.set_xlim(-0.5, 1.5)
    axis.set_ylim(-0.5, 1.5)
    axis.set_xlabel("x1")
    axis.set_ylabel("x2")
    axis.set_aspect("equal")
    axis.set_title(title)
    return figure


def _draw_line(axis, w: np.ndarray, b: float, label: str) -> None:
    """Draw ``w[0]·x1 + w[1]·x2 + b = 0`` across the plotted square."""
    span = np.linspace(-0.5, 1.5, 2)
    if abs(w[1]) > abs(w[0]):
        axis.plot(span, -(w[0] * span + b) / w[1], "--", lw=1, label=label)
    elif w[0] != 0:
        axis.plot(-(w[1] * span + b) / w[0], span, "--", lw=1, label=label)


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
