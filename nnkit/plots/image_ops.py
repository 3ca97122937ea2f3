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
from nnkit.plots.style import SLIDE, colour_scale, short, title_width, wrap, write_numbers
from nnkit.term.env import Environment

#: The patient directions at the top, bottom, left and right of a radiological picture of each plane.
RADIOLOGICAL_EDGES = {
    "axial": ("anterior", "posterior", "R", "L"),
    "coronal": ("superior", "inferior", "R", "L"),
    "sagittal": ("superior", "inferior", "A", "P"),
}
#: Kernels and windows up to this many rows and columns get their numbers written in the cells (if they fit).
_ANNOTATE_LIMIT = 9
#: A signed map larger than a kernel is coloured up to this percentile of |value| (beyond it, saturated),
#: so that a few strong edges do not leave every other edge near white.
_SIGNED_PERCENTILE = 99.5
#: The colour of boxes and of the zoom's frame: amber reads on grey, red and blue alike.
_AMBER = "#ffbf00"

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
    #: A region (row, col, height, width) shown enlarged in an inset, with its numbers when they fit.
    zoom: tuple[int, int, int, int] | None = None
    #: Pixels of a picture (not weights): their numbers written with two decimals, which fit more often.
    pixels: bool = False
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


def maps_figure(panels: list[Panel], title: str, note: str | None = None):
    """The panels left to right (a kernel or window narrower) on one slide-wide figure.

    Parameters
    ----------
    panels : list of Panel
        Input, kernel or window, result.
    title : str
        The figure's title.
    note : str, optional
        One line under the figure (how the result was computed).
    """
    plt = pyplot()
    ratios = [1.0 if p.values.size > _ANNOTATE_LIMIT**2 else 0.62 for p in panels]
    figure, axes = plt.subplots(1, len(panels), figsize=(SLIDE[0], 5.8), gridspec_kw={"width_ratios": ratios},
                                layout="constrained")
    figure.suptitle(title)
    for axis, panel in zip(np.atleast_1d(axes), panels, strict=True):
        _draw(axis, panel, figure)
    if note:
        figure.supxlabel(wrap(note, 150), fontsize=11, color="0.25")
    return figure


def _draw(axis, panel: Panel, figure) -> None:
    from matplotlib.colors import Normalize
    from matplotlib.patches import Rectangle

    values = panel.values
    low, high = float(values.min()), float(values.max())
    cmap, norm, signed = colour_scale(values, "image")
    extend = "neither"
    if signed:
        label = f"{panel.label}: red > 0, blue < 0, white = 0"
        if values.size > _ANNOTATE_LIMIT**2:
            reach = float(np.percentile(np.abs(values), _SIGNED_PERCENTILE))
            if 0 < reach < norm.vmax:
                norm, extend = Normalize(-reach, reach), "both"
                label += f"\n(colours saturate beyond ±{short(reach)}; range {short(low)} to {short(high)})"
        grey = png_grey_of_zero(values)
        if grey is not None and not panel.annotate:
            label += f"\n(0 is grey {grey}/255 in the -o PNG)"
    else:
        label = f"{panel.label} (black = {short(low)}, white = {short(high)})"
    image = axis.imshow(values, cmap=cmap, norm=norm, interpolation="nearest")
    colourbar = figure.colorbar(image, ax=axis, shrink=0.82, pad=0.02, extend=extend)
    colourbar.set_label(label, fontsize=10)
    if panel.annotate:
        write_numbers(axis, values, image, _pixel_format(values) if panel.pixels else short)
        # a kernel's or window's narrow panel: its title in short lines, so it never reaches the colour bars
        axis.set_title(wrap(panel.title, title_width(axis, layout=True)))
    else:
        axis.set_title(panel.title)
    if panel.annotate:
        axis.set_xticks(range(values.shape[1]))
        axis.set_yticks(range(values.shape[0]))
        axis.tick_params(length=0)
    if panel.frame is not None:
        row, col, height, width = panel.frame
        axis.add_patch(Rectangle((col - 0.5, row - 0.5), width, height, fill=False, edgecolor="#2a9d8f",
                                 linewidth=2.0, linestyle=(0, (4, 2))))
    for row, col, height, width in panel.boxes:
        axis.add_patch(Rectangle((col - 0.5, row - 0.5), width, height, fill=False, edgecolor=_AMBER,
                                 linewidth=2.0))
    if panel.edges is not None:  # the patient's directions, inside the picture's edges
        for text, x, y, ha, va in zip(panel.edges, (0.5, 0.5, 0.015, 0.985), (0.985, 0.015, 0.5, 0.5),
                                      ("center", "center", "left", "right"),
                                      ("top", "bottom", "center", "center"), strict=True):
            axis.text(x, y, text, transform=axis.transAxes, ha=ha, va=va, fontsize=10, color=_AMBER)
    axis.set_xlabel("column")
    axis.set_ylabel("row")
    if panel.zoom is not None:
        _zoom(axis, values, panel.zoom, cmap, norm)


def _zoom(axis, values: np.ndarray, region: tuple[int, int, int, int], cmap, norm) -> None:
    """An inset enlarging ``region`` with its numbers (when they fit), in the corner of ``axis`` away from it."""
    row, col, height, width = region
    # the corner farthest from the region, so the inset never hides it
    x = 0.02 if col + width / 2 > values.shape[1] / 2 else 0.48
    y = 0.48 if row + height / 2 > values.shape[0] / 2 else 0.02
    inset = axis.inset_axes([x, y, 0.5, 0.5])
    crop = values[row:row + height, col:col + width]
    extent = (col - 0.5, col + width - 0.5, row + height - 0.5, row - 0.5)
    image = inset.imshow(crop, cmap=cmap, norm=norm, interpolation="nearest", extent=extent)
    write_numbers(inset, crop, image, _pixel_format(crop), origin=(row, col))
    inset.set_xticks([])
    inset.set_yticks([])
    for spine in inset.spines.values():
        spine.set_edgecolor(_AMBER)
        spine.set_linewidth(2.5)
    inset.set_title(f"the patch: rows {row}–{row + height - 1}, columns {col}–{col + width - 1}", fontsize=10,
                    backgroundcolor="white")
    axis.indicate_inset_zoom(inset, edgecolor=_AMBER)


def _pixel_format(values: np.ndarray):
    """Pixels below 10 (a picture's 0..1 or a map of it) with two decimals, others in 3 significant digits."""
    return (lambda v: f"{v:.2f}") if np.abs(values).max() < 10 else short


def _input_title(source: str) -> str:
    """The input panel's title: ``input brain.png``, or ``the input`` from a pipe."""
    return "the input" if source == "-" else f"input {_name(source)}"


def _name(source: str) -> str:
    """The input's file name, or "the input" when it came through a pipe."""
    return "the input" if source == "-" else Path(source).name


def plot_convolution(path, *args, env: Environment | None = None, **kwargs) -> None:
    """Draw :func:`convolution_figure` and save it as a PNG."""
    save_figure(convolution_figure(*args, **kwargs), path, env)


def convolution_figure(source: str, image: np.ndarray, kernel: np.ndarray, feature: np.ndarray, *,
                       kernel_name: str, how: str, mode: str, stride: int = 1,
                       orientation: str | None = None, patch: dict | None = None,
                       padded: np.ndarray | None = None, pads: tuple[int, int, int, int] = (0, 0, 0, 0),
                       padding_name: str = "zero padding"):
    """Input ∗ kernel → feature map, with the ``--patch`` window boxed (and enlarged when one was walked through).

    ``patch`` is :func:`nnkit.course.image_convolution.patch_walkthrough`'s result plus ``position`` (row, col).
    ``padded`` (mode same or full) is the input with its padding (``pads``: top, bottom, left, right),
    drawn as a panel of its own with the image's own pixels boxed, and the patch boxed there.
    """
    kh, kw = kernel.shape
    image_boxes, feature_boxes, padded_boxes, zoom = (), (), (), None
    if patch is not None:
        (r0, c0), (row, col) = patch["top_left"], patch["position"]
        image_boxes, feature_boxes = ((r0, c0, kh, kw),), ((row, col, 1, 1),)
        padded_boxes = ((r0 + pads[0], c0 + pads[2], kh, kw),)
        if padded is None and max(image.shape) > _ANNOTATE_LIMIT:  # a small input shows its numbers already
            zoom = (r0, c0, kh, kw)
    flipped = "as written; convolution flips it" if how == "convolution" else "as applied, not flipped"
    small = max(image.shape) <= _ANNOTATE_LIMIT
    panels = [
        Panel(image, f"{_input_title(source)}  {image.shape[0]}×{image.shape[1]}", "input value",
              image_boxes if padded is None else (), edges=plane_edges(orientation), zoom=zoom, annotate=small),
        Panel(kernel, f"kernel {kernel_name}  {kh}×{kw}\n({flipped})", "weight",
              annotate=max(kh, kw) <= _ANNOTATE_LIMIT),
        Panel(feature, f"feature map  {feature.shape[0]}×{feature.shape[1]}", "feature value",
              feature_boxes, edges=plane_edges(orientation), annotate=max(feature.shape) <= _ANNOTATE_LIMIT),
    ]
    if padded is not None:
        top, bottom, left, right = pads
        around = (f"+{top} each side" if len({top, bottom, left, right}) == 1
                  else f"+{top} top, +{bottom} bottom,\n+{left} left, +{right} right")
        panels.insert(1, Panel(padded, f"{padding_name} → {padded.shape[0]}×{padded.shape[1]}\n({around};\n"
                                        "dashed: the input)",
                               "input value", padded_boxes, annotate=max(padded.shape) <= _ANNOTATE_LIMIT,
                               frame=(top, left, image.shape[0], image.shape[1])))
    note = f"{how}, mode {mode}" + (f", stride {stride}" if stride > 1 else "")
    if patch is not None:
        note += (f"; the boxed {kh}×{kw} patch × kernel, summed, is feature_map[{patch['position'][0]}, "
                 f"{patch['position'][1]}] = {patch['value']:.6g}")
    return maps_figure(panels, f"{how}: {_name(source)} with {kernel_name} → feature map", note)


def plot_pooling(path, *args, env: Environment | None = None, **kwargs) -> None:
    """Draw :func:`pooling_figure` and save it as a PNG."""
    save_figure(pooling_figure(*args, **kwargs), path, env)


def pooling_figure(source: str, array: np.ndarray, pooled: np.ndarray, sizes: tuple[int, int],
                   strides: tuple[int, int], op: str, *, orientation: str | None = None):
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
        Panel(array, f"{_input_title(source)}  {array.shape[0]}×{array.shape[1]}", "input value",
              ((r0, c0, h, w),), edges=plane_edges(orientation)),
        Panel(window, f"one {h}×{w} window\ninput[{r0}:{r0 + h}, {c0}:{c0 + w}] → {op} "
              f"{short(pooled[row, col])}", "input value", boxes,
              annotate=max(h, w) <= _ANNOTATE_LIMIT, pixels=True),
        Panel(pooled, f"{op}-pooled map  {pooled.shape[0]}×{pooled.shape[1]}", f"{op} of each window",
              ((row, col, 1, 1),), edges=plane_edges(orientation)),
    ]
    note = (f"{sizes[0]}×{sizes[1]} windows, stride {strides[0]},{strides[1]}: each window of the input "
            f"becomes one pixel; the boxed window is pooled[{row}, {col}]")
    return maps_figure(panels, f"{op} pooling: {_name(source)} → {pooled.shape[0]}×{pooled.shape[1]}", note)
