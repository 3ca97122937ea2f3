"""Pictures of what the convolution layers learned: filters and feature maps.

The course says a CNN's first layer learns basic shapes (edges, strokes) and the next layers combine
them into larger patterns. These figures make that visible for a trained model:

- the **filters** of the first convolution layer, one small image per filter (its kh×kw weights),
  red for positive and blue for negative weights on one colour scale shared by all filters of the
  layer, so strong and weak filters can be compared;
- the **feature maps** of one image through every convolution layer (after its activation, which is
  what the next layer sees), on one colour scale per layer, so that the maps that respond strongly
  stand out; tile *k* of the first layer's maps is the image filtered by filter *k* above it.

Only ``--maps N`` maps of a layer are drawn (the most active ones for the example, default
:data:`DEFAULT_MAPS`), and the first layer's filters of the same channels, so every figure fits a slide.
Pixels are drawn as blocks (nearest neighbour), without axis ticks. matplotlib is imported only
inside the functions, through :func:`nnkit.plots.figures.pyplot`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nnkit.plots.figures import pyplot, save_figure
from nnkit.plots.style import FONT, MIN_FONT, SLIDE, wrap
from nnkit.term.env import Environment

#: Tiles per row in a grid of filters or maps, and how many maps of a layer are drawn (``--maps N``).
COLUMNS = 16
DEFAULT_MAPS = 8
#: Height in inches of one tile in a band of filters or maps (large enough to read at slide width).
TILE = 0.62


@dataclass
class ConvStage:
    """The output of one convolution layer (after its activation) for one image.

    Attributes
    ----------
    name : str
        The layer's name as Keras prints it (``conv2d``, ``conv2d_1`` …).
    layer : Conv2D
        The layer itself (its weights ``W`` of shape (kh, kw, c_in, c_out)).
    activation : str or None
        The activation applied after it.
    maps : (H, W, C) ndarray
        The feature maps, one channel per filter.
    """

    name: str
    layer: object
    activation: str | None
    maps: np.ndarray

    def describe(self) -> str:
        kh, kw, _, c_out = self.layer.W.shape
        activation = f", {self.activation}" if self.activation else ""
        h, w, c = self.maps.shape
        return f"{self.name}: {c_out} filters {kh}×{kw}{activation} → {h}×{w}×{c}"


def is_conv(layer) -> bool:
    return getattr(layer, "type_name", None) == "conv2d"


def has_conv_layers(layers) -> bool:
    """Whether a stack of layers has a convolution layer (and so filters and maps to show)."""
    return any(is_conv(layer) for layer in layers)


def conv_stages(layers, image: np.ndarray) -> list[ConvStage]:
    """Run one image through ``layers`` and keep what each convolution layer produced.

    Parameters
    ----------
    layers : list of engine layers
        A network's stack (``Network.layers``).
    image : (H, W, C) ndarray
        One input image as the network takes it (scaled, channels last).

    Returns
    -------
    list of ConvStage
        One per convolution layer, in order, with the activation that follows it applied.
    """
    h = np.asarray(image)[np.newaxis]
    stages: list[ConvStage] = []
    pending: ConvStage | None = None
    for layer in layers:
        h = layer.forward(h)
        if pending is not None:
            if getattr(layer, "type_name", None) == "activation":
                pending.activation = layer.name
                pending.maps = h[0]
                continue
            pending = None
        if is_conv(layer):
            name = "conv2d" if not stages else f"conv2d_{len(stages)}"
            pending = ConvStage(name, layer, None, h[0])
            stages.append(pending)
    return stages


def _scale(arrays: list[np.ndarray], signed: bool):
    """One colour scale for a whole layer: symmetric red–blue for signed values, else 0..max."""
    from matplotlib.colors import Normalize

    top = max((float(np.nanmax(np.abs(a))) for a in arrays), default=0.0) or 1.0
    if signed:
        return "RdBu_r", Normalize(-top, top)
    return "viridis", Normalize(0.0, top)


def columns_for(count: int, tile_shape: tuple[int, int]) -> int:
    """Tiles per row: 16 square tiles, fewer wide ones (a filter's input channels side by side)."""
    h, w = tile_shape
    return max(1, min(COLUMNS, count, round(2 * COLUMNS * h / w) if w > h else COLUMNS))


def _gaps(tile_shape: tuple[int, int]) -> tuple[int, int]:
    """Blank rows between tile rows (room for the labels) and blank columns between tiles."""
    h, w = tile_shape
    return max(1, math.ceil(0.3 * h)), max(1, math.ceil(0.12 * w))


def mosaic(tiles: list[np.ndarray], columns: int | None = None) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """Tiles of one shape laid out in rows, NaN (drawn blank) between them, in one array.

    One image per band instead of one plot per tile keeps a figure of hundreds of maps quick to
    draw. The gap between rows leaves room for each tile's label.

    Parameters
    ----------
    tiles : list of 2-D arrays of one shape
    columns : int, optional
        Tiles per row (default :func:`columns_for`).

    Returns
    -------
    picture : 2-D float64 array
    origins : list of (row, col)
        Where each tile's top-left pixel lies in ``picture``.

    Examples
    --------
    >>> picture, origins = mosaic([np.zeros((2, 2)), np.ones((2, 2))], columns=2)
    >>> picture.shape, origins
    ((2, 5), [(0, 0), (0, 3)])
    """
    h, w = tiles[0].shape
    columns = min(columns or columns_for(len(tiles), (h, w)), len(tiles))
    rows = math.ceil(len(tiles) / columns)
    row_gap, col_gap = _gaps((h, w))
    picture = np.full((rows * (h + row_gap) - row_gap, columns * (w + col_gap) - col_gap), np.nan)
    origins = []
    for k, tile in enumerate(tiles):
        top, left = (k // columns) * (h + row_gap), (k % columns) * (w + col_gap)
        picture[top : top + h, left : left + w] = tile
        origins.append((top, left))
    return picture, origins


def _tiles(subfigure, tiles: list[np.ndarray], labels: list[str], title: str, signed: bool, unit: str, parts: int = 1,
           groups: list[str] | None = None):
    """A row (or grid) of small images on one shared colour scale, with a colour bar and a title.

    ``parts`` > 1: each tile is that many equal images side by side with one blank column between
    (a filter's input channels), each framed. ``groups``: the tiles are that many equal groups (the
    same maps of different images), laid side by side with a wider gap, each captioned.
    """
    import matplotlib as mpl
    from matplotlib.patches import Rectangle

    cmap, norm = _scale(tiles, signed)
    colours = mpl.colormaps[cmap].with_extremes(bad="white")
    h, w = tiles[0].shape
    count = len(groups) if groups else 1
    size = len(tiles) // count
    pictures = [mosaic(tiles[g * size:(g + 1) * size]) for g in range(count)]
    gap = np.full((pictures[0][0].shape[0], 2 * w), np.nan)
    picture = np.hstack([part for p, _ in pictures for part in (p, gap)][:-1])
    origins, left_edges, offset = [], [], 0
    for p, group_origins in pictures:
        left_edges.append(offset)
        origins += [(top, left + offset) for top, left in group_origins]
        offset += p.shape[1] + gap.shape[1]
    axis = subfigure.subplots(1, 1)
    image = axis.imshow(picture, cmap=colours, norm=norm, interpolation="nearest")
    for (top, left), label in zip(origins, labels, strict=True):
        axis.text(left + (w - 1) / 2, top - 0.6, label, ha="center", va="bottom", fontsize=MIN_FONT)
        # A thin frame: a filter's near-zero (white) edge would otherwise melt into the gap.
        part = (w - (parts - 1)) // parts
        for p in range(parts):
            corner = (left + p * (part + 1) - 0.5, top - 0.5)
            axis.add_patch(Rectangle(corner, part, h, fill=False, lw=0.6, ec="0.35"))
    # The colour bar sits right beside the tiles (however few), in room added to the data limits.
    height, width = picture.shape
    bar = max(0.6, 0.015 * width)
    x_max = width - 0.5 + 6 * bar
    y_top = -max(1.0, 0.3 * h) * (2.8 if groups else 1)  # room for the labels (and the captions)
    if groups:
        for left, caption in zip(left_edges, groups, strict=True):
            axis.text(left - 0.5, y_top, caption.replace("\n", ", "), ha="left", va="top", fontsize=FONT - 1)
    axis.set_xlim(-0.5, x_max)
    axis.set_ylim(height - 0.5, y_top)
    axis.set_axis_off()
    axis.set_anchor("W")  # a few tiles start at the left, under the band's title
    span_x, span_y = x_max + 0.5, height - 0.5 - y_top
    bar_axis = axis.inset_axes([(width + bar) / span_x, 0.0, bar / span_x, height / span_y])
    from matplotlib.ticker import MaxNLocator

    colour_bar = subfigure.colorbar(image, cax=bar_axis, label=unit)
    colour_bar.locator = MaxNLocator(nbins=3)  # a one-row band has room for few labels
    colour_bar.update_ticks()
    subfigure.suptitle(wrap(title, 150), fontsize=FONT, x=0.01, ha="left", fontweight="normal")


def _filter_tile(kernel: np.ndarray) -> np.ndarray:
    """One filter (kh, kw, c_in) as a 2-D picture: its input channels side by side, a gap between."""
    if kernel.shape[2] == 1:
        return kernel[:, :, 0]
    gap = np.full((kernel.shape[0], 1), np.nan)
    parts = []
    for c in range(kernel.shape[2]):
        parts += [kernel[:, :, c], gap]
    return np.hstack(parts[:-1])


def draw_filters(subfigure, stage: ConvStage, chosen: np.ndarray | None = None) -> None:
    """The first convolution layer's filters (the ``chosen`` ones) as a row of small images, one scale."""
    W = np.asarray(stage.layer.W, dtype=np.float64)
    kh, kw, c_in, c_out = W.shape
    chosen = np.arange(c_out) if chosen is None else chosen
    tiles = [_filter_tile(W[:, :, :, k]) for k in chosen]
    channels = "" if c_in == 1 else f"; each tile: its weights on the {c_in} input channels, left to right"
    which = f"the {c_out} filters" if len(chosen) == c_out else f"{len(chosen)} of the {c_out} filters"
    title = (
        f"what the first layer learned: {which} of {stage.name} ({kh}×{kw} weights each{channels}); "
        "red = positive weight, blue = negative"
    )
    labels = [f"#{k}" for k in chosen]
    _tiles(subfigure, tiles, labels, title, signed=True, unit="weight", parts=c_in)


def _chosen_channels(maps: np.ndarray, limit: int = DEFAULT_MAPS) -> np.ndarray:
    """All channels up to ``limit``; beyond that the most active ones (highest mean), in order."""
    c = maps.shape[2]
    if c <= limit:
        return np.arange(c)
    strength = maps.reshape(-1, c).mean(axis=0)
    return np.sort(np.argsort(-strength, kind="stable")[:limit])


def draw_feature_maps(subfigure, stage: ConvStage, chosen: np.ndarray | None = None,
                      others: list[ConvStage] = (), captions: list[str] | None = None) -> None:
    """One convolution layer's ``chosen`` feature maps of one image, beside the same maps of ``others``.

    All on one colour scale, so that the maps that respond strongly stand out.
    """
    maps = [np.asarray(s.maps, dtype=np.float64) for s in (stage, *others)]
    c = maps[0].shape[2]
    chosen = _chosen_channels(maps[0]) if chosen is None else chosen
    tiles = [m[:, :, k] for m in maps for k in chosen]
    which = f"all {c} maps" if len(chosen) == c else f"the {len(chosen)} most active of {c} maps"
    title = f"{stage.describe()}: {which} (bright = strong response)"
    if stage.name == "conv2d":
        title += "; map #k is the input filtered by filter #k"
    signed = bool(min(m.min() for m in maps) < 0)
    _tiles(subfigure, tiles, [f"#{k}" for _ in maps for k in chosen], title, signed=signed, unit="activation",
           groups=captions if others else None)


def _band_height(rows: int = 1, captions: bool = False) -> float:
    """Inches for a band: its title, the tiles' labels (and captions), ``rows`` rows of tiles."""
    return 0.4 + rows * (TILE + 0.22) + (0.25 if captions else 0.0)


def draw_conv_bands(subfigures, stages: list[list[ConvStage]], examples: list[tuple[np.ndarray, str]] | None = None,
                    maps: int = DEFAULT_MAPS) -> None:
    """Filters of the first conv layer, then each conv layer's maps, one subfigure each.

    ``stages`` holds each example's stages (one list per image); ``examples`` (image, caption), when
    given, are drawn left of the filters: the images whose feature maps follow, side by side.
    """
    first = subfigures[0]
    chosen = [_chosen_channels(np.asarray(s.maps), maps) for s in stages[0]]
    if examples:
        left, first = first.subfigures(1, 2, width_ratios=[1.2 * len(examples), 7])
        axes = np.atleast_1d(left.subplots(1, len(examples)))
        for axis, (image, caption) in zip(axes, examples, strict=True):
            _show_input(axis, image, caption)
    draw_filters(first, stages[0][0], chosen[0])
    captions = [caption for _, caption in examples or []]
    for k, subfigure in enumerate(subfigures[1:]):
        draw_feature_maps(subfigure, stages[0][k], chosen[k], [s[k] for s in stages[1:]], captions)


def conv_band_heights(stages: list[ConvStage], captions: bool = False) -> list[float]:
    """Heights (inches) of the filter band and of each feature-map band."""
    return [_band_height() + 0.25] + [_band_height(captions=captions) for _ in stages]


def _show_input(axis, image: np.ndarray, title: str) -> None:
    picture = image[:, :, 0] if image.ndim == 3 and image.shape[2] == 1 else image
    if picture.ndim == 3:
        axis.imshow(np.clip(picture, 0, 1), interpolation="nearest")
    else:
        axis.imshow(picture, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    axis.set_title(title, fontsize=FONT - 1)
    axis.set_xticks([])
    axis.set_yticks([])


def _show_probabilities(axis, proba: np.ndarray, classes) -> None:
    names = [str(c) for c in classes]
    best = int(np.argmax(proba))
    colours = ["#c2410c" if k == best else "#7a9cc6" for k in range(len(names))]
    axis.barh(range(len(names)), proba, color=colours)
    axis.set_yticks(range(len(names)), names)
    axis.invert_yaxis()
    axis.set_xlim(0, 1)
    axis.set_xlabel("probability")
    axis.set_title(f"prediction: {names[best]} (p = {proba[best]:.3f})")
    for k, p in enumerate(proba):
        inside = p > 0.85  # no room right of a long bar: write inside it, in white
        x, align, colour = (p - 0.02, "right", "white") if inside else (p + 0.02, "left", "black")
        axis.text(x, k, f"{p:.3f}", va="center", ha=align, color=colour, fontsize=MIN_FONT + 1)
    axis.grid(axis="x", alpha=0.3)


def features_figure(
    layers,
    image: np.ndarray,
    proba: np.ndarray,
    classes,
    title: str,
    original: np.ndarray | None = None,
    original_title: str = "your picture",
    prepared: str | None = None,
    maps: int = DEFAULT_MAPS,
):
    """``predict --features``: the input as the model sees it, its probabilities, filters and maps.

    Parameters
    ----------
    layers : list of engine layers
        The model's stack.
    image : (H, W, C) or (H, W) ndarray
        The prepared input (scaled as in training).
    proba : (n_classes,) ndarray
        The model's probabilities for it.
    classes : list
        Class names, in output order.
    title : str
        Figure title (which input, which model).
    original : 2-D ndarray, optional
        The picture before preparation (a learner's own digit), drawn beside the prepared input.
    original_title : str
        Its caption.
    prepared : str, optional
        What was done to make the input from it (``inverted, cropped to the ink, …``).
    maps : int
        How many feature maps of each conv layer to draw (``--maps``; the most active ones).

    Returns
    -------
    matplotlib.figure.Figure
    """
    plt = pyplot()
    shaped = image if image.ndim == 3 else image[:, :, np.newaxis]
    stages = conv_stages(layers, shaped) if has_conv_layers(layers) else []
    heights = [3.0] + (conv_band_heights(stages) if stages else [])
    figure = plt.figure(figsize=(SLIDE[0], sum(heights) + 0.4), layout="constrained")
    bands = np.atleast_1d(figure.subfigures(len(heights), 1, height_ratios=heights))
    panels = 3 if original is not None else 2
    axes = bands[0].subplots(1, panels, width_ratios=[1] * (panels - 1) + [2.2])
    if original is not None:
        axis = axes[0]
        axis.imshow(original, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
        axis.set_title(f"{original_title} ({original.shape[0]}×{original.shape[1]})", fontsize=FONT - 1)
        axis.set_xticks([])
        axis.set_yticks([])
    h, w = shaped.shape[:2]
    _show_input(axes[-2], shaped, f"input to the model ({h}×{w})")
    if prepared:
        axes[-2].set_xlabel(f"prepared as MNIST's digits:\n{prepared}", fontsize=MIN_FONT + 1)
    _show_probabilities(axes[-1], np.asarray(proba, dtype=np.float64), classes)
    if stages:
        draw_conv_bands(bands[1:], [stages], maps=maps)
    figure.suptitle(title)
    return figure


def write_features_plot(path: str | Path, *args, env: Environment | None = None, **kwargs) -> None:
    """Draw :func:`features_figure` and write it as a PNG, atomically."""
    save_figure(features_figure(*args, **kwargs), path, env)


def conv_plot_extras(network, xs: dict, ys: dict, classes) -> dict:
    """What ``write_training_plot`` needs to add filters and feature maps, or ``{}`` for an MLP.

    The example is the first test image the model got wrong, drawn beside the first one it got
    right (only the first image when it got all, or none, right).

    Parameters
    ----------
    network : Network
        The trained network.
    xs, ys : dict
        Prepared inputs and class indices per part (``PreparedData.x`` and ``.y``); the test images
        are searched (or the validation or training images when there is no test part).
    classes : list
        Class names.

    Returns
    -------
    dict
        ``{"layers", "example", "example_caption", "contrast", "contrast_caption"}`` keyword arguments
        (``contrast`` None when there is no second image), or ``{}`` without conv layers.
    """
    if not has_conv_layers(network.layers) or not xs:
        return {}
    part = next(p for p in ("test", "validation", "train") if p in xs)
    images, labels = xs[part][:_SEARCHED], np.asarray(ys[part][:_SEARCHED]).astype(int)
    predicted = np.concatenate([network.forward(images[i:i + 256]).argmax(axis=1)
                                for i in range(0, len(images), 256)])
    wrong, right = np.flatnonzero(predicted != labels), np.flatnonzero(predicted == labels)
    chosen = [int(wrong[0])] if wrong.size else []
    chosen += [int(right[0])] if right.size else []

    def caption(i: int) -> str:
        mark = "✗ wrong" if predicted[i] != labels[i] else "✓ right"
        return f"{mark}: {part} image {i}\ntrue {classes[labels[i]]}, predicted {classes[predicted[i]]}"

    second = chosen[1] if len(chosen) > 1 else None
    return {
        "layers": network.layers,
        "example": xs[part][chosen[0]],
        "example_caption": caption(chosen[0]),
        "contrast": None if second is None else xs[part][second],
        "contrast_caption": "" if second is None else caption(second),
    }


#: How many images of a part are searched for a wrong and a right prediction.
_SEARCHED = 2048
