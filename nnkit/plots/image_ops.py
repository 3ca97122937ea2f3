"""The ``--plot`` picture of ``convolve`` and ``pool``: input, kernel (or window) and result side by side.

A teacher's slide rather than a data file (``-o x.png`` stays the exact 8-bit map): every panel has a
title with its shape and a colour bar; a map with negative and positive values is drawn with a
diverging colour map centred at 0 (white = 0), and its colour bar says which grey level 0 has in the
min–max scaled ``-o`` PNG; small maps are scaled up with nearest-neighbour pixels to the size of the
input's panel, so a 80×68 pooled map is as large on the page as the 400×338 image it came from.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nnkit.plots.figures import pyplot, save_figure
from nnkit.term.env import Environment

#: The patient directions at the top, bottom, left and right of a radiological picture of each plane.
RADIOLOGICAL_EDGES = {
    "axial": ("anterior", "posterior", "R", "L"),
    "coronal": ("superior", "inferior", "R", "L"),
    "sagittal": ("superior", "inferior", "A", "P"),
}
#: Kernels and windows up to this many rows and columns get their numbers written in the cells.
_ANNOTATE_LIMIT = 9


@dataclass
class Panel:
    """One picture of the figure: its values, its title and what its colour bar measures."""

    values: np.ndarray
    title: str
    label: str = "value"
    #: Rectangles (row, col, height, width) drawn over the picture, in its own pixels.
    boxes: tuple[tuple[int, int, int, int], ...] = ()
    annotate: bool = False
    #: The patient directions at the picture's edges (top, bottom, left, right), when known.
    edges: tuple[str, str, str, str] | None = None
    #: A rectangle (row, col, height, width) drawn dashed: the image's own pixels inside its padding.
    frame: tuple[int, int, int, int] | None = None


def plane_edges(orientation: str | None) -> tuple[str, str, str, str] | None:
    """The edge labels of a medical slice, from its orientation note (``"axial slice …"``)."""
    if not orientation:
        return None
    return RADIOLOGICAL_EDGES.get(orientation.split()[0].rstrip(";"))


def png_grey_of_zero(values: np.ndarray) -> int | None:
    """The 8-bit grey level that 0 becomes in a min–max scaled PNG of ``values`` (None if 0 is outside).

    Examples
    --------
    >>> png_grey_of_zero(np.array([-1.0, 3.0]))
    64
    """
    low, high = float(values.min()), float(values.max())
    if not low <= 0 <= high or high == low:
        return None
    return int(np.rint(-low / (high - low) * 255))


def plot_maps(path: str | Path, panels: list[Panel], title: str, env: Environment | None = None,
              note: str | None = None) -> None:
    """Draw the panels left to right (the middle one narrower, for a kernel) and save a PNG.

    Parameters
    ----------
    path : str or Path
        The ``.png`` to write (atomically).
    panels : list of Panel
        Input, kernel or window, result.
    title : str
        The figure's title.
    note : str, optional
        One line under the figure (how the result was computed).
    """
    plt = pyplot()
    ratios = [1.0 if p.values.size > _ANNOTATE_LIMIT**2 else 0.62 for p in panels]
    figure, axes = plt.subplots(1, len(panels), figsize=(4.6 * sum(ratios) + 1.6, 5.0),
                                gridspec_kw={"width_ratios": ratios}, layout="constrained")
    for axis, panel in zip(np.atleast_1d(axes), panels, strict=True):
        _draw(axis, panel, figure)
    figure.suptitle(title, fontsize=13)
    if note:
        figure.text(0.5, -0.02, note, ha="center", va="top", fontsize=9, color="0.25")
    save_figure(figure, path, env)


def _draw(axis, panel: Panel, figure) -> None:
    from matplotlib.patches import Rectangle

    values = panel.values
    low, high = float(values.min()), float(values.max())
    signed = low < 0 < high
    if signed:
        reach = max(-low, high)
        image = axis.imshow(values, cmap="RdBu_r", vmin=-reach, vmax=reach, interpolation="nearest")
        grey = png_grey_of_zero(values)
        label = f"{panel.label}: red > 0, blue < 0, white = 0"
        if grey is not None and not panel.annotate:
            label += f"\n(0 is grey {grey}/255 in the -o PNG)"
    else:
        span = (low, high) if high > low else (low - 0.5, high + 0.5)
        image = axis.imshow(values, cmap="gray", vmin=span[0], vmax=span[1], interpolation="nearest")
        label = f"{panel.label} (black = {_short(low)}, white = {_short(high)})"
    colourbar = figure.colorbar(image, ax=axis, shrink=0.82, pad=0.02)
    colourbar.set_label(label, fontsize=8)
    colourbar.ax.tick_params(labelsize=7)
    axis.set_title(panel.title, fontsize=10)
    if panel.annotate:
        _annotate(axis, values, signed, low, high)
        axis.set_xticks(range(values.shape[1]))
        axis.set_yticks(range(values.shape[0]))
        axis.tick_params(labelsize=7, length=0)
    else:
        axis.tick_params(labelsize=7)
    if panel.frame is not None:
        row, col, height, width = panel.frame
        axis.add_patch(Rectangle((col - 0.5, row - 0.5), width, height, fill=False, edgecolor="#2a9d8f",
                                 linewidth=2.0, linestyle=(0, (4, 2))))
    for row, col, height, width in panel.boxes:
        axis.add_patch(Rectangle((col - 0.5, row - 0.5), width, height, fill=False, edgecolor="#ffbf00",
                                 linewidth=1.6))
    if panel.edges is not None:  # the patient's directions, inside the picture's edges
        for text, x, y, ha, va in zip(panel.edges, (0.5, 0.5, 0.015, 0.985), (0.985, 0.015, 0.5, 0.5),
                                      ("center", "center", "left", "right"),
                                      ("top", "bottom", "center", "center"), strict=True):
            axis.text(x, y, text, transform=axis.transAxes, ha=ha, va=va, fontsize=8, color="#ffbf00")
    axis.set_xlabel("column", fontsize=8)
    axis.set_ylabel("row", fontsize=8)


def _annotate(axis, values: np.ndarray, signed: bool, low: float, high: float) -> None:
    """Write each cell's number in it, in black or white, whichever reads on its colour."""
    if values.shape[0] > _ANNOTATE_LIMIT or values.shape[1] > _ANNOTATE_LIMIT:
        return
    reach = max(abs(low), abs(high)) or 1.0
    for (row, col), value in np.ndenumerate(values):
        # signed: the deep red/blue ends; grey: the dark half
        dark = abs(value) / reach > 0.6 if signed else high > low and (value - low) / (high - low) < 0.5
        axis.text(col, row, _short(value), ha="center", va="center", fontsize=8,
                  color="white" if dark else "black")


def _short(value: float) -> str:
    """A number in at most 3 significant digits (``-0`` written as ``0``)."""
    text = f"{float(value):.3g}"
    return "0" if text == "-0" else text


def _name(source: str) -> str:
    return "stdin" if source == "-" else Path(source).name


def plot_convolution(path, source: str, image: np.ndarray, kernel: np.ndarray, feature: np.ndarray, *,
                     kernel_name: str, how: str, mode: str, stride: int = 1,
                     orientation: str | None = None, patch: dict | None = None,
                     env: Environment | None = None, padded: np.ndarray | None = None,
                     pads: tuple[int, int, int, int] = (0, 0, 0, 0), padding_name: str = "zero padding") -> None:
    """Input ∗ kernel → feature map, with the ``--patch`` window boxed when one was walked through.

    ``patch`` is :func:`nnkit.course.image_convolution.patch_walkthrough`'s result plus ``position`` (row, col).
    ``padded`` (mode same or full) is the input with its padding (``pads``: top, bottom, left, right),
    drawn as a panel of its own with the image's own pixels boxed, and the patch boxed there.
    """
    kh, kw = kernel.shape
    image_boxes, feature_boxes, padded_boxes = (), (), ()
    if patch is not None:
        (r0, c0), (row, col) = patch["top_left"], patch["position"]
        image_boxes, feature_boxes = ((r0, c0, kh, kw),), ((row, col, 1, 1),)
        padded_boxes = ((r0 + pads[0], c0 + pads[2], kh, kw),)
    flipped = "as written; convolution flips it" if how == "convolution" else "as applied, not flipped"
    small = max(image.shape) <= _ANNOTATE_LIMIT
    panels = [
        Panel(image, f"input {_name(source)}  {image.shape[0]}×{image.shape[1]}", "input value",
              image_boxes if padded is None else (), edges=plane_edges(orientation), annotate=small),
        Panel(kernel, f"kernel {kernel_name}  {kh}×{kw}\n({flipped})", "weight",
              annotate=max(kh, kw) <= _ANNOTATE_LIMIT),
        Panel(feature, f"feature map  {feature.shape[0]}×{feature.shape[1]}", "feature value",
              feature_boxes, edges=plane_edges(orientation), annotate=max(feature.shape) <= _ANNOTATE_LIMIT),
    ]
    if padded is not None:
        top, bottom, left, right = pads
        around = (f"+{top} each side" if len({top, bottom, left, right}) == 1
                  else f"+{top} top, +{bottom} bottom,\n+{left} left, +{right} right")
        panels.insert(1, Panel(padded, f"{padding_name} → {padded.shape[0]}×{padded.shape[1]}\n({around}, "
                                        "dashed: input)",
                               "input value", padded_boxes, annotate=max(padded.shape) <= _ANNOTATE_LIMIT,
                               frame=(top, left, image.shape[0], image.shape[1])))
    note = f"{how}, mode {mode}" + (f", stride {stride}" if stride > 1 else "")
    if patch is not None:
        note += (f"; the boxed {kh}×{kw} patch × kernel, summed, is feature_map[{patch['position'][0]}, "
                 f"{patch['position'][1]}] = {patch['value']:.6g}")
    plot_maps(path, panels, f"{how}: {_name(source)} with {kernel_name} → feature map", env, note)


def plot_pooling(path, source: str, array: np.ndarray, pooled: np.ndarray, sizes: tuple[int, int],
                 strides: tuple[int, int], op: str, *, orientation: str | None = None,
                 env: Environment | None = None) -> None:
    """Input → one window of it (the middle one, its chosen pixel boxed for max/min) → pooled map."""
    row, col = pooled.shape[0] // 2, pooled.shape[1] // 2
    r0, c0 = row * strides[0], col * strides[1]
    window = array[r0:r0 + sizes[0], c0:c0 + sizes[1]]
    boxes = ()
    if op in ("max", "min"):
        where = np.unravel_index(np.argmax(window) if op == "max" else np.argmin(window), window.shape)
        boxes = ((int(where[0]), int(where[1]), 1, 1),)
    h, w = window.shape
    panels = [
        Panel(array, f"input {_name(source)}  {array.shape[0]}×{array.shape[1]}", "input value",
              ((r0, c0, h, w),), edges=plane_edges(orientation)),
        Panel(window, f"one {h}×{w} window\ninput[{r0}:{r0 + h}, {c0}:{c0 + w}] → {op} "
              f"{_short(pooled[row, col])}", "input value", boxes,
              annotate=max(h, w) <= _ANNOTATE_LIMIT),
        Panel(pooled, f"{op}-pooled map  {pooled.shape[0]}×{pooled.shape[1]}", f"{op} of each window",
              ((row, col, 1, 1),), edges=plane_edges(orientation)),
    ]
    note = (f"{sizes[0]}×{sizes[1]} windows, stride {strides[0]},{strides[1]}: each window of the input "
            f"becomes one pixel; the boxed window is pooled[{row}, {col}]")
    plot_maps(path, panels, f"{op} pooling: {_name(source)} → {pooled.shape[0]}×{pooled.shape[1]}", env, note)
