"""Pictures of what the convolution layers learned: filters and feature maps.

The course says a CNN's first layer learns basic shapes (edges, strokes) and the next layers combine
them into larger patterns. These figures make that visible for a trained model:

- the **filters** of the first convolution layer, one small image per filter (its kh×kw weights),
  red for positive and blue for negative weights on one colour scale shared by all filters of the
  layer, so strong and weak filters can be compared;
- the **feature maps** of one image through every convolution layer (after its activation, which is
  what the next layer sees), on one colour scale per layer, so that the maps that respond strongly
  stand out; tile *k* of the first layer's maps is the image filtered by filter *k* above it.

Pixels are drawn as blocks (nearest neighbour), without axis ticks. matplotlib is imported only
inside the functions, through :func:`nnkit.plots.figures.pyplot`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nnkit.plots.figures import pyplot, save_figure
from nnkit.term.env import Environment

#: Tiles per row in a grid of filters or maps, and the most maps drawn for one layer.
COLUMNS = 16
MAX_MAPS = 32


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


def _tiles(subfigure, tiles: list[np.ndarray], labels: list[str], title: str, signed: bool, unit: str, parts: int = 1):
    """A grid of small images on one shared colour scale, with a colour bar and a title.

    ``parts`` > 1: each tile is that many equal images side by side with one blank column between
    (a filter's input channels), each framed.
    """
    import matplotlib as mpl
    from matplotlib.patches import Rectangle

    cmap, norm = _scale(tiles, signed)
    colours = mpl.colormaps[cmap].with_extremes(bad="white")
    picture, origins = mosaic(tiles)
    axis = subfigure.subplots(1, 1)
    image = axis.imshow(picture, cmap=colours, norm=norm, interpolation="nearest")
    h, w = tiles[0].shape
    for (top, left), label in zip(origins, labels, strict=True):
        axis.text(left + (w - 1) / 2, top - 0.6, label, ha="center", va="bottom", fontsize=7)
        # A thin frame: a filter's near-zero (white) edge would otherwise melt into the gap.
        part = (w - (parts - 1)) // parts
        for p in range(parts):
            corner = (left + p * (part + 1) - 0.5, top - 0.5)
            axis.add_patch(Rectangle(corner, part, h, fill=False, lw=0.5, ec="0.35"))
    # The colour bar sits right beside the tiles (however few), in room added to the data limits.
    height, width = picture.shape
    bar = max(0.6, 0.015 * width)
    x_max = width - 0.5 + 6 * bar
    y_top = -max(1.0, 0.3 * h)  # room for the first row's labels
    axis.set_xlim(-0.5, x_max)
    axis.set_ylim(height - 0.5, y_top)
    axis.set_axis_off()
    axis.set_anchor("W")  # a few tiles start at the left, under the band's title
    span_x, span_y = x_max + 0.5, height - 0.5 - y_top
    bar_axis = axis.inset_axes([(width + bar) / span_x, 0.0, bar / span_x, height / span_y])
    from matplotlib.ticker import MaxNLocator

    colour_bar = subfigure.colorbar(image, cax=bar_axis, label=unit)
    colour_bar.locator = MaxNLocator(nbins=4)  # a one-row band has room for few labels
    colour_bar.update_ticks()
    subfigure.suptitle(title, fontsize=10, x=0.01, ha="left")


def _filter_tile(kernel: np.ndarray) -> np.ndarray:
    """One filter (kh, kw, c_in) as a 2-D picture: its input channels side by side, a gap between."""
    if kernel.shape[2] == 1:
        return kernel[:, :, 0]
    gap = np.full((kernel.shape[0], 1), np.nan)
    parts = []
    for c in range(kernel.shape[2]):
        parts += [kernel[:, :, c], gap]
    return np.hstack(parts[:-1])


def draw_filters(subfigure, stage: ConvStage) -> None:
    """The first convolution layer's filters as a grid of small images (one shared scale)."""
    W = np.asarray(stage.layer.W, dtype=np.float64)
    kh, kw, c_in, c_out = W.shape
    tiles = [_filter_tile(W[:, :, :, k]) for k in range(c_out)]
    channels = "" if c_in == 1 else f"; each tile: its weights on the {c_in} input channels, left to right"
    title = (
        f"what the first layer learned: the {c_out} filters of {stage.name} ({kh}×{kw} weights each{channels}); "
        "red = positive weight, blue = negative, one colour scale for all"
    )
    labels = [f"#{k}" for k in range(c_out)]
    _tiles(subfigure, tiles, labels, title, signed=True, unit="weight", parts=c_in)


def _chosen_channels(maps: np.ndarray) -> np.ndarray:
    """All channels up to MAX_MAPS; beyond that the most active ones (highest mean), in order."""
    c = maps.shape[2]
    if c <= MAX_MAPS:
        return np.arange(c)
    strength = maps.reshape(-1, c).mean(axis=0)
    return np.sort(np.argsort(-strength, kind="stable")[:MAX_MAPS])


def draw_feature_maps(subfigure, stage: ConvStage) -> None:
    """One convolution layer's feature maps of one image (one shared colour scale)."""
    maps = np.asarray(stage.maps, dtype=np.float64)
    chosen = _chosen_channels(maps)
    tiles = [maps[:, :, k] for k in chosen]
    c = maps.shape[2]
    which = f"all {c} maps" if len(chosen) == c else f"the {len(chosen)} most active of {c} maps"
    title = f"{stage.describe()}: {which}, one colour scale for the layer (bright = strong response)"
    if stage.name == "conv2d":
        title += "; map #k is the input filtered by filter #k"
    _tiles(subfigure, tiles, [f"#{k}" for k in chosen], title, signed=bool(maps.min() < 0), unit="activation")


def _band_height(count: int, tile_shape: tuple[int, int]) -> float:
    """Inches for a band of ``count`` tiles: its title, then the mosaic 14 inches wide (tiles at most 1.2 tall)."""
    h, w = tile_shape
    columns = columns_for(count, tile_shape)
    rows = math.ceil(count / columns)
    row_gap, col_gap = _gaps(tile_shape)
    aspect = (rows * (h + row_gap)) / (columns * (w + col_gap))
    return 0.6 + min(14.0 * aspect, 1.2 * rows * (h + row_gap) / h)


def draw_conv_bands(subfigures, stages: list[ConvStage], example: tuple[np.ndarray, str] | None = None) -> None:
    """Filters of the first conv layer, then each conv layer's maps, one subfigure each.

    ``example`` (image, caption), when given, is drawn left of the filters: the image whose
    feature maps follow.
    """
    first = subfigures[0]
    if example is not None:
        left, first = first.subfigures(1, 2, width_ratios=[1, 7])
        axis = left.subplots(1, 1)
        _show_input(axis, example[0], example[1])
    draw_filters(first, stages[0])
    for subfigure, stage in zip(subfigures[1:], stages, strict=True):
        draw_feature_maps(subfigure, stage)


def conv_band_heights(stages: list[ConvStage]) -> list[float]:
    """Heights (inches) of the filter band and of each feature-map band."""
    kh, kw, c_in, filters = stages[0].layer.W.shape
    heights = [_band_height(filters, (kh, c_in * kw + c_in - 1))]
    return heights + [_band_height(len(_chosen_channels(s.maps)), s.maps.shape[:2]) for s in stages]


def _show_input(axis, image: np.ndarray, title: str) -> None:
    picture = image[:, :, 0] if image.ndim == 3 and image.shape[2] == 1 else image
    if picture.ndim == 3:
        axis.imshow(np.clip(picture, 0, 1), interpolation="nearest")
    else:
        axis.imshow(picture, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    axis.set_title(title, fontsize=9)
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
    axis.set_title(f"prediction: {names[best]} (p = {proba[best]:.3f})", fontsize=10)
    for k, p in enumerate(proba):
        inside = p > 0.85  # no room right of a long bar: write inside it, in white
        x, align, colour = (p - 0.02, "right", "white") if inside else (p + 0.02, "left", "black")
        axis.text(x, k, f"{p:.3f}", va="center", ha=align, color=colour, fontsize=8)
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

    Returns
    -------
    matplotlib.figure.Figure
    """
    plt = pyplot()
    shaped = image if image.ndim == 3 else image[:, :, np.newaxis]
    stages = conv_stages(layers, shaped) if has_conv_layers(layers) else []
    heights = [3.2] + (conv_band_heights(stages) if stages else [])
    figure = plt.figure(figsize=(15.0, sum(heights)), layout="constrained")
    bands = np.atleast_1d(figure.subfigures(len(heights), 1, height_ratios=heights))
    panels = 3 if original is not None else 2
    axes = bands[0].subplots(1, panels, width_ratios=[1] * (panels - 1) + [2.2])
    if original is not None:
        axis = axes[0]
        axis.imshow(original, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
        axis.set_title(f"{original_title} ({original.shape[0]}×{original.shape[1]})", fontsize=9)
        axis.set_xticks([])
        axis.set_yticks([])
    h, w = shaped.shape[:2]
    _show_input(axes[-2], shaped, f"input to the model ({h}×{w})")
    if prepared:
        axes[-2].set_xlabel(f"prepared as MNIST's digits:\n{prepared}", fontsize=8)
    _show_probabilities(axes[-1], np.asarray(proba, dtype=np.float64), classes)
    if stages:
        draw_conv_bands(bands[1:], stages)
    figure.suptitle(title, fontsize=12)
    return figure


def write_features_plot(path: str | Path, *args, env: Environment | None = None, **kwargs) -> None:
    """Draw :func:`features_figure` and write it as a PNG, atomically."""
    save_figure(features_figure(*args, **kwargs), path, env)


def conv_plot_extras(network, xs: dict, ys: dict, classes) -> dict:
    """What ``write_training_plot`` needs to add filters and feature maps, or ``{}`` for an MLP.

    Parameters
    ----------
    network : Network
        The trained network.
    xs, ys : dict
        Prepared inputs and class indices per part (``PreparedData.x`` and ``.y``); the first
        test image is drawn (or the first validation or training image when there is no test part).
    classes : list
        Class names.

    Returns
    -------
    dict
        ``{"layers", "example", "example_caption"}`` keyword arguments, or ``{}`` without conv layers.
    """
    if not has_conv_layers(network.layers) or not xs:
        return {}
    part = next(p for p in ("test", "validation", "train") if p in xs)
    example = xs[part][0]
    predicted = int(np.argmax(network.forward(example[np.newaxis])[0]))
    true = classes[int(ys[part][0])]
    return {
        "layers": network.layers,
        "example": example,
        "example_caption": f"{part} image 0: true {true}, predicted {classes[predicted]}",
    }
