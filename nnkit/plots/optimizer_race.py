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
from nnkit.plots.style import SLIDE
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


#: Marker sizes (points) of the start, the minimum's star and each path's end.
_START_SIZE, _MINIMUM_SIZE, _END_SIZE = 10, 18, 11


def _draw_ends(axis, ends, fixed) -> None:
    """Each path's end as an X in its colour, moved onto a small ring when it would hide another marker.

    Ends that land within a marker of the minimum, the start or one another (momentum and Adam both
    reach Rosenbrock's minimum) are drawn around that spot, each joined by a thin line to where it
    really ended, so every marker stays visible.
    """
    from matplotlib.transforms import offset_copy

    to_points = axis.transData + axis.figure.dpi_scale_trans.inverted()  # data → inches
    where = [to_points.transform(point) * 72 for point, _ in ends]
    anchors = [(to_points.transform(point) * 72, size) for point, size in fixed]
    offsets = spread_apart(where, anchors, _END_SIZE)
    figure = axis.get_figure(root=True)
    for ((point, colour), (dx, dy)) in zip(ends, offsets, strict=True):
        shifted = offset_copy(axis.transData, figure, x=dx, y=dy, units="points")
        if dx or dy:
            axis.annotate("", point, xytext=(dx, dy), textcoords="offset points",
                          arrowprops={"arrowstyle": "-", "color": colour, "lw": 1.2}, zorder=5)
        axis.plot(*point, marker="X", color=colour, ms=_END_SIZE, mec="black", mew=0.7, transform=shifted,
                  zorder=6)


def spread_apart(points, anchors, size: float) -> list[tuple[float, float]]:
    """Offsets (points) that keep markers of ``size`` from covering each other or the ``anchors``.

    Parameters
    ----------
    points : list of (2,) arrays
        The markers' places, in points on the page.
    anchors : list of ((2,) array, size)
        Markers that stay where they are (the minimum, the start), with their sizes.
    size : float
        The moving markers' size in points.

    Returns
    -------
    list of (dx, dy)
        (0, 0) for a marker that is clear; otherwise a place on a ring around the spot it shares.

    Examples
    --------
    >>> spread_apart([np.array([0.0, 0.0]), np.array([100.0, 0.0])], [(np.array([0.0, 1.0]), 18)], 11)
    [(11.7, 12.7), (0.0, 0.0)]
    """
    groups: list[dict] = [{"centre": np.asarray(c, float), "size": s, "members": []} for c, s in anchors]
    for index, point in enumerate(points):
        for group in groups:
            if np.hypot(*(point - group["centre"])) < (size + group["size"]) / 2 + 1:
                group["members"].append(index)
                break
        else:
            groups.append({"centre": np.asarray(point, float), "size": size, "members": [index], "free": True})
    offsets = [(0.0, 0.0)] * len(points)
    for group in groups:
        members = group["members"]
        if group.get("free"):
            if len(members) == 1:
                continue
        elif not members:
            continue
        radius = (size + group["size"]) / 2 + 2 + (size if len(members) > 4 else 0)
        for k, index in enumerate(members):
            angle = np.pi / 4 + 2 * np.pi * k / max(len(members), 4)  # up-right first, then round the ring
            target = group["centre"] + radius * np.array([np.cos(angle), np.sin(angle)])
            dx, dy = target - points[index]
            offsets[index] = (round(float(dx), 1), round(float(dy), 1))
    return offsets


def _local_minimum_lines(curve, surface: Surface, paths) -> None:
    """On the f − f_min panel, a dashed line at the height of each local minimum some path stopped in."""
    stopped = {surface.basin_point(p.points[-1]) for p in paths} - {surface.minimum}
    for height in sorted({round(float(surface.fn(*m)) - surface.f_min, 12) for m in stopped}):
        curve.axhline(height, color="black", ls="--", lw=0.8)
        curve.text(len(paths[0].values) - 1 if paths else 0, height,
                   f"stopped in a local minimum: f - f_min = {height:.4g}", va="bottom", ha="right", fontsize=10)


def optimize_figure(surface: Surface, paths: list[Trajectory], start, tol: float):
    """Draw the race; returns the matplotlib figure."""
    plt = pyplot()
    from matplotlib.colors import LogNorm

    figure, (axis, curve) = plt.subplots(1, 2, figsize=SLIDE, gridspec_kw={"width_ratios": [1.3, 1]},
                                         layout="constrained")
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
    ends = []
    for k, path in enumerate(paths):
        colour = colours(k % 10)
        dense = len(path.points) > 200
        label = f"{path.optimizer} (lr {path.lr:g}, {path.steps} steps{', diverged' if path.diverged else ''})"
        axis.plot(path.points[:, 0], path.points[:, 1], "-" if dense else "o-", color=colour, lw=1.4, ms=3,
                  label=label, alpha=0.9)
        ends.append((path.points[-1], colour))
        steps = np.arange(len(path.values))
        # a path of one point (--steps 0, or diverged at once) is a dot: a line needs two
        curve.plot(steps, np.maximum(path.values - surface.f_min, _FLOOR), color=colour, lw=1.4,
                   marker="o" if len(steps) == 1 else None, label=path.optimizer)
    axis.plot(*start, "o", color="black", ms=_START_SIZE, label=f"start ({start[0]:g}, {start[1]:g})")
    axis.plot(*surface.minimum, "*", color="gold", mec="black", ms=_MINIMUM_SIZE,
              label=f"minimum ({surface.minimum[0]:g}, {surface.minimum[1]:g})")
    for k, (mx, my) in enumerate(surface.local_minima):
        axis.plot(mx, my, "^", color="white", mec="black", ms=10,
                  label="local minima" if k == 0 else None)
    axis.set_xlim(x0, x1)
    axis.set_ylim(y0, y1)
    axis.set_aspect("equal")
    figure.draw_without_rendering()  # the final layout: where each marker lands on the page
    _draw_ends(axis, ends, [(np.asarray(start, float), _START_SIZE), (np.asarray(surface.minimum, float),
                                                                      _MINIMUM_SIZE)])
    axis.set_xlabel("x")
    axis.set_ylabel("y")
    axis.set_title(f"f(x, y) = {surface.formula}\neach optimizer's path (X: where it ends)")
    # below both panels (constrained layout makes room): it never runs into the x axis's label
    figure.legend(*axis.get_legend_handles_labels(), loc="outside lower left", ncol=3, frameon=False)
    _local_minimum_lines(curve, surface, paths)
    curve.axhline(tol, color="grey", ls=":", lw=1)
    curve.text(0, tol, f" tolerance {tol:g}", va="bottom", fontsize=10, color="0.35")
    curve.set_yscale("log")
    curve.set_xlabel("step")
    curve.set_ylabel("f - f_min (log scale)")
    curve.set_title("how fast each one gets down")
    curve.grid(alpha=0.3)
    # "best" searches every point: slow, and a warning, for long runs; a local minimum's line is written
    # at the panel's top right, so the legend then goes to the bottom left, below where the paths start
    curve.legend(loc="lower left" if surface.local_minima else "upper right")
    figure.suptitle(f"nnkit optimize --function {surface.name}: the course's 2-8 optimizers side by side")
    return figure


def write_optimize_plot(path: str | Path, surface: Surface, paths: list[Trajectory], start, tol: float,
                        env: Environment | None = None) -> None:
    """Draw :func:`optimize_figure` and write it as a PNG, atomically."""
    save_figure(optimize_figure(surface, paths, start, tol), path, env)
