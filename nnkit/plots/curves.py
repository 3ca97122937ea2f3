"""PNG figures of function and loss curves, like the course's (title, axis labels, legend).

matplotlib is imported only here, inside the function that draws, with the non-interactive Agg
backend, so no command pays for it unless ``--plot`` is asked for. The file is written atomically
(a temporary file in the same folder, renamed into place).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from nnkit.errors import NnkitInputError
from nnkit.term.env import Environment
from nnkit.term.output import atomic_write

#: Largest |LOW| or |HIGH| of a plot's x range.
_RANGE_LIMIT = 1e100


def parse_range(spec: str, option: str = "--range") -> tuple[float, float]:
    """Parse ``"-5:5"`` (or ``"-5,5"``) into ``(low, high)`` with ``low < high``.

    Examples
    --------
    >>> parse_range("-5:5")
    (-5.0, 5.0)
    >>> parse_range(" -2.5,10")
    (-2.5, 10.0)
    """
    parts = [p for p in spec.strip().replace(",", ":").split(":") if p.strip()]
    try:
        low, high = (float(p) for p in parts)
    except ValueError:
        raise NnkitInputError(f"{option} {spec.strip()!r} is not a range like -5:5") from None
    if not (np.isfinite(low) and np.isfinite(high) and low < high):
        raise NnkitInputError(f"{option} needs finite LOW < HIGH, got {spec.strip()!r}")
    # beyond these a grid of x values (high - low overflows) or the axis ticks cannot be drawn
    largest = max(abs(low), abs(high))
    if largest > _RANGE_LIMIT or high - low < 1e-9 * max(1.0, largest):
        raise NnkitInputError(
            f"{option} {spec.strip()!r} cannot be drawn: use bounds within ±{_RANGE_LIMIT:g} "
            "and a width of at least 1e-9 of their size"
        )
    return low, high


def _off_scale_top(curves, py: np.ndarray) -> float | None:
    """The top of the y axis when some points lie far above all curves, else None."""
    values = np.concatenate([np.ravel(curve[1]) for curve in curves])
    values = values[np.isfinite(values)]
    if not values.size or not py.size:
        return None
    low, high = float(values.min()), float(values.max())
    span = max(high - low, 1e-12)
    if py.max() <= high + 0.5 * span:
        return None
    return high + 0.1 * span


def plot_curves(
    path: str | Path,
    x: np.ndarray,
    curves: Sequence[tuple[str, np.ndarray]],
    *,
    title: str,
    xlabel: str,
    ylabel: str,
    points: tuple[np.ndarray, np.ndarray] | None = None,
    points_label: str = "your inputs",
    ylim: tuple[float, float] | None = None,
    xlim: tuple[float, float] | None = None,
    env: Environment | None = None,
) -> None:
    """Draw one or more curves over `x`, mark the user's points, and save a PNG atomically.

    Parameters
    ----------
    path : str or Path
        Where the PNG goes; must end in ``.png``.
    x : (m,) array
        The horizontal axis.
    curves : sequence of (label, (m,) array) or (label, (m,) array, style)
        Each curve and its legend entry; ``style`` is keyword arguments of ``Axes.plot``
        (``{"color": "C0", "linestyle": "--"}``).
    title, xlabel, ylabel : str
        As in the course's figures (``"ReLU function"``, ``"x"``, ``"y"``).
    points : ((p,) array, (p,) array), optional
        The user's inputs and their values, drawn as markers.
    ylim : (low, high), optional
        Vertical limits (the course's sigmoid figure uses -0.1..1.1).
    xlim : (low, high), optional
        Horizontal limits; points outside them are left out (default: fit curves and points).
    env : Environment, optional
        The run's environment, so the plot is never written over an input file.
    """
    path = Path(path)
    if path.suffix.lower() != ".png":
        raise NnkitInputError(f"--plot must name a .png file, got {path}")
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    from nnkit.plots.style import NOTEBOOK, apply

    apply()
    # A bare Figure (not pyplot) keeps no global state between calls and needs no GUI.
    fig = Figure(figsize=NOTEBOOK, layout="constrained")
    ax = fig.add_subplot()
    for label, y, *style in curves:
        ax.plot(x, y, label=label, linewidth=2, **(style[0] if style else {}))
    if points is not None and np.size(points[0]):
        px, py = (np.ravel(p) for p in points)
        shown = np.isfinite(px) & np.isfinite(py)
        if xlim is not None:
            shown &= (xlim[0] <= px) & (px <= xlim[1])
        px, py = px[shown], py[shown]
        top = _off_scale_top(curves, py) if ylim is None else None
        high = py > top if top is not None else np.zeros(py.shape, dtype=bool)
        if not high.all():
            ax.scatter(px[~high], py[~high], color="crimson", zorder=3, label=points_label, s=36)
        if high.any():
            # a point far above every curve (BCE's clamp at 100) would squash the curves flat:
            # it is drawn at the top edge as an arrow head, with its value written beside it
            ylim = (ax.get_ylim()[0], top)
            ax.scatter(
                px[high],
                np.full(high.sum(), top),
                marker="^",
                color="crimson",
                zorder=3,
                s=64,
                clip_on=False,
                label=f"{points_label} above the scale",
            )
            for x_value, y_value in zip(px[high], py[high], strict=True):
                ax.annotate(
                    f"{y_value:.4g}",
                    (x_value, top),
                    textcoords="offset points",
                    xytext=(6, -12),
                    color="crimson",
                    fontsize=10,
                )
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if ylim is not None:
        ax.set_ylim(*ylim)
    if xlim is not None:
        ax.set_xlim(*xlim)
    ax.axhline(0, color="0.7", linewidth=0.8, zorder=0)
    ax.axvline(0, color="0.7", linewidth=0.8, zorder=0)
    ax.grid(True, alpha=0.3)
    ax.legend(loc="best")
    with atomic_write(path, env) as handle:
        fig.savefig(handle, format="png")
