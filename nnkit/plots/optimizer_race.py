"""The picture of an optimiser race (``nnkit optimize --plot``): every path over the contours, and f per step.

Left: the surface's contour lines, each optimiser's path in its own colour (dots at every step), the
start and the minimum marked. Right: ``f - f_min`` against the step on a log scale, with the
tolerance drawn, so "who gets there first" can be read off.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from nnkit.course.optimizer_race import Surface, Trajectory
from nnkit.plots.figures import pyplot, save_figure
from nnkit.term.env import Environment

_GRID = 400
#: Below this, f - f_min is drawn at this floor (a log axis has no 0).
_FLOOR = 1e-16


def _view(surface: Surface, paths: list[Trajectory], start) -> tuple[tuple[float, float], tuple[float, float]]:
    """The surface's region, widened (by at most a few times) to hold paths that leave it."""
    (x0, x1), (y0, y1) = surface.xlim, surface.ylim
    points = np.vstack([np.reshape(start, (1, 2))] + [p.points for p in paths])
    width, height = x1 - x0, y1 - y0
    lo = np.maximum(points.min(axis=0), [x0 - 2 * width, y0 - 2 * height])
    hi = np.minimum(points.max(axis=0), [x1 + 2 * width, y1 + 2 * height])
    # the start is marked, so it stays in view however far out it is (a path need not)
    lo, hi = np.minimum(lo, start), np.maximum(hi, start)
    # a margin of 5 % of the widened view, so that a marker on its edge is drawn whole
    pad = 0.05 * (np.maximum(hi, [x1, y1]) - np.minimum(lo, [x0, y0]))
    x0, x1 = min(x0, lo[0] - pad[0]), max(x1, hi[0] + pad[0])
    y0, y1 = min(y0, lo[1] - pad[1]), max(y1, hi[1] + pad[1])
    return (float(x0), float(x1)), (float(y0), float(y1))


def optimize_figure(surface: Surface, paths: list[Trajectory], start, tol: float):
    """Draw the race; returns the matplotlib figure."""
    plt = pyplot()
    from matplotlib.colors import LogNorm

    figure, (axis, curve) = plt.subplots(1, 2, figsize=(13.5, 5.4), gridspec_kw={"width_ratios": [1.45, 1]})
    (x0, x1), (y0, y1) = _view(surface, paths, start)
    gx, gy = np.meshgrid(np.linspace(x0, x1, _GRID), np.linspace(y0, y1, _GRID))
    with np.errstate(over="ignore"):
        gz = surface.fn(gx, gy) - surface.f_min
    if surface.log_levels:
        top = float(np.nanmax(gz[np.isfinite(gz)]))
        levels = np.logspace(-2, np.log10(max(top, 1.0)), 14)
        axis.contour(gx, gy, np.maximum(gz, 1e-3), levels=levels, cmap="Greys", norm=LogNorm(), linewidths=0.8)
    else:
        # a quadratic's contours at evenly spaced "radii": as many lines near the minimum as far out;
        # with several valleys, evenly spaced heights up to twice the highest ridge between them
        top = float(np.nanmax(gz[np.isfinite(gz)]))
        if surface.local_minima:
            ridge = float(surface.fn(*np.mean((*surface.local_minima, surface.minimum), axis=0)) - surface.f_min)
            levels = np.linspace(0.0, min(top, 2 * ridge), 18)[1:]
        else:
            levels = np.linspace(0.0, np.sqrt(top), 16)[1:] ** 2
        axis.contour(gx, gy, gz, levels=levels, cmap="Greys", linewidths=0.8)
    colours = plt.get_cmap("tab10")
    for k, path in enumerate(paths):
        colour = colours(k % 10)
        dense = len(path.points) > 200
        label = f"{path.optimizer} (lr {path.lr:g}, {path.steps} steps{', diverged' if path.diverged else ''})"
        axis.plot(path.points[:, 0], path.points[:, 1], "-" if dense else "o-", color=colour, lw=1.4, ms=3,
                  label=label, alpha=0.9)
        axis.plot(*path.points[-1], marker="X", color=colour, ms=9, mec="black", mew=0.6)
        steps = np.arange(len(path.values))
        # a path of one point (--steps 0, or diverged at once) is a dot: a line needs two
        curve.plot(steps, np.maximum(path.values - surface.f_min, _FLOOR), color=colour, lw=1.4,
                   marker="o" if len(steps) == 1 else None, label=path.optimizer)
    axis.plot(*start, "o", color="black", ms=9, label=f"start ({start[0]:g}, {start[1]:g})")
    axis.plot(*surface.minimum, "*", color="gold", mec="black", ms=17,
              label=f"minimum ({surface.minimum[0]:g}, {surface.minimum[1]:g})")
    for k, (mx, my) in enumerate(surface.local_minima):
        axis.plot(mx, my, "^", color="white", mec="black", ms=10,
                  label="local minima" if k == 0 else None)
    axis.set_xlim(x0, x1)
    axis.set_ylim(y0, y1)
    axis.set_aspect("equal")
    axis.set_xlabel("x")
    axis.set_ylabel("y")
    axis.set_title(f"f(x, y) = {surface.formula}: each optimizer's path (X: where it ends)", fontsize=10)
    axis.legend(fontsize=8, loc="upper left", bbox_to_anchor=(0.0, -0.16), ncol=2, frameon=False)
    # the local minima some path stopped in, at their height
    stopped = {surface.basin_point(p.points[-1]) for p in paths} - {surface.minimum}
    for height in sorted({round(float(surface.fn(*m)) - surface.f_min, 12) for m in stopped}):
        curve.axhline(height, color="black", ls="--", lw=0.8)
        curve.text(len(paths[0].values) - 1 if paths else 0, height, f"stopped in a local minimum: f - f_min = {height:.4g}",
                   va="bottom", ha="right", fontsize=8)
    curve.axhline(tol, color="grey", ls=":", lw=1)
    curve.text(0, tol, f" tolerance {tol:g}", va="bottom", fontsize=8, color="grey")
    curve.set_yscale("log")
    curve.set_xlabel("step")
    curve.set_ylabel("f - f_min (log scale)")
    curve.set_title("how fast each one gets down", fontsize=10)
    curve.grid(alpha=0.3)
    curve.legend(fontsize=8)
    figure.suptitle(f"nnkit optimize --function {surface.name}: the course's 2-8 optimizers side by side")
    figure.tight_layout()
    return figure


def write_optimize_plot(path: str | Path, surface: Surface, paths: list[Trajectory], start, tol: float,
                        env: Environment | None = None) -> None:
    """Draw :func:`optimize_figure` and write it as a PNG, atomically."""
    save_figure(optimize_figure(surface, paths, start, tol), path, env)
