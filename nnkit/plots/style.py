"""The one picture style of every nnkit figure: sizes, fonts, colour maps, matrices with numbers.

Every figure is made for a teacher's slide or a notebook cell, so they all share:

- **Sizes**: :data:`SLIDE` fills a 16:9 slide at 100 % (13.33 × 7.5 inches, PowerPoint's and Google
  Slides' default page); :data:`NOTEBOOK` fits one Jupyter cell without being shrunk. PNGs are saved at
  :data:`DPI`, so a slide figure is 1600 × 900 pixels. No figure is larger than :data:`SLIDE`.
- **Fonts** readable when the figure fills a slide: text of 12 pt, titles of 14 pt, nothing below
  :data:`MIN_FONT` (the numbers written in a big matrix's cells are the smallest).
- **Titles that never collide**: figures use matplotlib's *constrained* layout (it makes room for the
  figure's title, every panel's title and colour bar) and long titles are wrapped to their panel's
  width by :func:`wrap`; :func:`overlapping_titles` finds any that still touch (the tests use it).
- **Colour maps**: :data:`SEQUENTIAL` for intensities and counts, :data:`DIVERGING` centred on 0 (white)
  for signed values, :data:`IMAGE` grey for pictures; every image of values gets a colour bar.
- **Small matrices are drawn with their numbers** in the cells, in black or white, whichever reads on
  the cell's colour (:func:`value_image`).

Figures get the style by being made through :func:`pyplot` (also :func:`nnkit.plots.figures.pyplot`,
which calls :func:`apply`) or :func:`new_figure`. matplotlib is imported only inside the functions here.

Example (a new figure module)::

    from nnkit.plots.style import NOTEBOOK, new_figure, value_image
    figure, axis = new_figure(NOTEBOOK)
    value_image(axis, matrix, label="weight", title="the layer's weights")
"""

from __future__ import annotations

import textwrap

import numpy as np

#: A 16:9 slide at 100 % (inches).
SLIDE = (13.33, 7.5)
#: One Jupyter notebook cell at 100 % (inches; 16:9).
NOTEBOOK = (9.6, 5.4)
#: Dots per inch of every PNG (a slide figure is 1600 × 900 pixels).
DPI = 120
#: Font sizes in points: body text, panel titles, the figure's title; and the smallest allowed anywhere.
FONT = 12
TITLE_FONT = 14
SUPTITLE_FONT = 15
MIN_FONT = 9
#: Colour maps: intensities and counts; signed values (centred on 0 = white); pictures.
SEQUENTIAL = "viridis"
DIVERGING = "RdBu_r"
IMAGE = "gray"
#: Matrices with at most this many rows and columns get their numbers written in the cells.
NUMBERS_LIMIT = 16

_RC = {
    "font.size": FONT,
    "axes.titlesize": TITLE_FONT,
    "axes.labelsize": FONT,
    "xtick.labelsize": FONT - 1.5,
    "ytick.labelsize": FONT - 1.5,
    "legend.fontsize": FONT - 1.5,
    "legend.title_fontsize": FONT - 1,
    "figure.titlesize": SUPTITLE_FONT,
    "figure.titleweight": "bold",
    "figure.dpi": DPI,
    "savefig.dpi": DPI,
    "image.interpolation": "nearest",
    "axes.grid.which": "major",
    "grid.alpha": 0.3,
    "figure.constrained_layout.use": True,
}


def pyplot():
    """``matplotlib.pyplot`` on the off-screen Agg backend (no display is needed or used), styled."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    apply()
    return plt


def apply() -> None:
    """Set the shared style on matplotlib (idempotent; called by :func:`nnkit.plots.figures.pyplot`)."""
    import matplotlib

    matplotlib.rcParams.update(_RC)


def new_figure(size: tuple[float, float] = NOTEBOOK, rows: int = 1, cols: int = 1, **subplots):
    """A styled figure of ``size`` inches with a ``rows × cols`` grid of panels (constrained layout).

    Returns ``(figure, axes)`` like ``plt.subplots`` (``axes`` is one Axes for a 1 × 1 grid).
    """
    plt = pyplot()
    _check_size(size)
    return plt.subplots(rows, cols, figsize=size, layout="constrained", **subplots)


def _check_size(size: tuple[float, float]) -> None:
    if size[0] > SLIDE[0] + 1e-9 or size[1] > SLIDE[1] + 1e-9:
        raise ValueError(f"a figure of {size[0]}×{size[1]} inches is larger than a slide {SLIDE}")


def wrap(text: str, width: int = 60) -> str:
    r"""Break a long title into lines of at most ``width`` characters (existing line breaks kept).

    Examples
    --------
    >>> wrap("a b c d", 3)
    'a b\nc d'
    """
    return "\n".join(textwrap.fill(line, width) if line else line for line in text.split("\n"))


def title_width(axis, font: float = TITLE_FONT, layout: bool = False) -> int:
    """How many characters of a ``font``-point title fit across ``axis`` (for :func:`wrap`).

    With ``layout`` the figure's layout is run first, so the axes' final width is measured.
    """
    if layout:
        _root(axis).draw_without_rendering()
    width_inches = axis.get_position().width * _root(axis).get_figwidth()
    return max(12, int(width_inches * 72 / (0.55 * font)))


def _root(axis):
    """The figure an axis is drawn in, through any subfigures."""
    return axis.get_figure(root=True)


def colour_scale(values: np.ndarray, kind: str | None = None):
    """``(cmap, norm, signed)`` for an image of ``values``.

    Signed values (some below 0 and some above) get :data:`DIVERGING` centred on 0, so 0 is white;
    others :data:`SEQUENTIAL` (or ``kind``: ``"image"`` for grey pictures, or any colour-map name)
    from their minimum to their maximum. A constant array gets a range of ±0.5 around its value.
    """
    from matplotlib.colors import Normalize

    finite = np.asarray(values, dtype=np.float64)
    finite = finite[np.isfinite(finite)]
    low, high = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    signed = low < 0 < high
    if signed:
        reach = max(-low, high)
        return DIVERGING, Normalize(-reach, reach), True
    if high <= low:
        low, high = low - 0.5, high + 0.5
    cmap = IMAGE if kind == "image" else (kind or SEQUENTIAL)
    return cmap, Normalize(low, high), False


def short(value: float) -> str:
    """A number in at most 3 significant digits, ``-0`` written as ``0``.

    Examples
    --------
    >>> short(-0.0001), short(1234.5), short(0.5)
    ('-0.0001', '1.23e+03', '0.5')
    """
    text = f"{float(value):.3g}"
    return "0" if text in ("-0", "0") else text


def value_image(axis, values, *, label: str = "value", title: str | None = None, kind: str | None = None,
                numbers: bool | None = None, colour_bar: bool = True, ticks: bool | None = None,
                number_format=short):
    """Draw a 2-D array on ``axis`` with the shared colour scale, a colour bar and, if small, its numbers.

    Parameters
    ----------
    axis : matplotlib Axes
    values : 2-D array
    label : str
        What the colour bar measures.
    title : str, optional
        The panel's title (wrapped to its width).
    kind : str, optional
        ``"image"`` for a grey picture (when not signed), or a colour-map name; default sequential.
    numbers : bool, optional
        Write each cell's number (default: when both sides are at most :data:`NUMBERS_LIMIT`).
    colour_bar : bool
        Add the colour bar (default yes: every image of values has one).
    ticks : bool, optional
        A tick at every row and column (default: when the numbers are written).
    number_format : callable
        ``value → str`` for the cells.

    Returns
    -------
    matplotlib.image.AxesImage
    """
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 2:
        raise ValueError(f"value_image draws a 2-D array, not shape {values.shape}")
    cmap, norm, signed = colour_scale(values, kind)
    image = axis.imshow(values, cmap=cmap, norm=norm, interpolation="nearest")
    if colour_bar:
        bar = axis.figure.colorbar(image, ax=axis, shrink=0.9, pad=0.02)
        bar.set_label(label + (" (red > 0, blue < 0, white = 0)" if signed else ""))
    small = max(values.shape) <= NUMBERS_LIMIT
    if numbers is None:
        numbers = small
        forced = False
    else:
        forced = numbers
    if numbers:
        write_numbers(axis, values, image, number_format, forced)
    if ticks if ticks is not None else small:
        axis.set_xticks(range(values.shape[1]))
        axis.set_yticks(range(values.shape[0]))
        axis.tick_params(length=0)
    if title:
        axis.set_title(wrap(title, title_width(axis)))
    return image


def cell_points(shape: tuple[int, int], axis) -> tuple[float, float]:
    """The width and height in points of one cell of a ``shape`` matrix drawn on ``axis``."""
    position = axis.get_position()
    figure = _root(axis)
    return (72 * position.width * figure.get_figwidth() / shape[1],
            72 * position.height * figure.get_figheight() / shape[0])


def write_numbers(axis, values: np.ndarray, image, number_format=short, forced: bool = False,
                  origin: tuple[int, int] = (0, 0)) -> bool:
    """Write each cell's number in it, in black or white, whichever reads on its colour.

    The font is as large as the cells hold (at most :data:`FONT`). When even :data:`MIN_FONT` does
    not fit, nothing is written (the colour bar alone tells the values) unless ``forced``. ``origin``
    (row, col) is where ``values[0, 0]`` lies on the axis (a crop drawn at its place). Returns whether
    the numbers were written.
    """
    _root(axis).draw_without_rendering()  # the layout places the axes: their cells' size is then known
    labels = {index: number_format(value) for index, value in np.ndenumerate(values) if np.isfinite(value)}
    longest = max((len(text) for text in labels.values()), default=1)
    width, height = cell_points(values.shape, axis)
    # DejaVu Sans digits are 0.64 em wide, a point or minus sign less: 0.62 em a character on average
    size = min(FONT, 0.8 * width / (0.62 * max(longest, 2)), height / 1.5)
    if size < MIN_FONT:
        if not forced:
            return False
        size = MIN_FONT
    cmap, norm = image.get_cmap(), image.norm
    for (row, col), text in labels.items():
        red, green, blue, _ = cmap(norm(values[row, col]))
        dark = 0.299 * red + 0.587 * green + 0.114 * blue < 0.5
        axis.text(origin[1] + col, origin[0] + row, text, ha="center", va="center", fontsize=size, color="white" if dark else "black")
    return True


# --- what the tests read back from a figure ------------------------------------------------------


def title_texts(figure) -> list:
    """Every visible title of a figure: its own, its subfigures' and every panel's (left, centre, right)."""
    texts = []

    def walk(container) -> None:
        for name in ("_suptitle", "_supxlabel", "_supylabel"):
            text = getattr(container, name, None)
            if text is not None and text.get_visible() and text.get_text():
                texts.append(text)
        for sub in getattr(container, "subfigs", []):
            walk(sub)

    walk(figure)
    for axis in figure.get_axes():
        if not axis.get_visible():
            continue
        for text in (axis.title, axis._left_title, axis._right_title):
            if text.get_visible() and text.get_text():
                texts.append(text)
    return texts


def overlapping_titles(figure) -> list[tuple[str, str]]:
    """Titles that collide (empty when none do).

    Pairs of titles whose drawn bounding boxes overlap, and titles reaching into another panel or
    colour bar, given as ``(title, "axes: <its title or label>")``.
    """
    figure.canvas.draw()
    renderer = figure.canvas.get_renderer()
    texts = title_texts(figure)
    boxes = [text.get_window_extent(renderer) for text in texts]
    pairs = []
    for i in range(len(texts)):
        for j in range(i + 1, len(texts)):
            if boxes[i].overlaps(boxes[j]):
                pairs.append((texts[i].get_text(), texts[j].get_text()))
    for text, box in zip(texts, boxes, strict=True):
        for axis in figure.get_axes():
            if axis.get_visible() and text.axes is not axis and box.overlaps(axis.get_window_extent(renderer)):
                name = axis.get_title() or axis.get_ylabel() or axis.get_xlabel() or "unnamed"
                pairs.append((text.get_text(), f"axes: {name}"))
    return pairs


def small_texts(figure, limit: float = MIN_FONT) -> list[str]:
    """The visible texts of a figure (titles, labels, tick labels, legends, notes) set below ``limit`` points."""
    from matplotlib.text import Text

    figure.canvas.draw()
    found = []
    for text in figure.findobj(Text):
        if text.get_visible() and text.get_text().strip() and text.get_fontsize() < limit - 1e-9:
            found.append(f"{text.get_text()!r} at {text.get_fontsize():g} pt")
    return found


def colour_bar_images(figure) -> tuple[int, int]:
    """``(images of values, of them with a colour bar)``: the two are equal in a well-made figure."""
    from matplotlib.image import AxesImage

    images = [artist for axis in figure.get_axes() for artist in axis.get_images() if isinstance(artist, AxesImage)]
    with_bar = [image for image in images if getattr(image, "colorbar", None) is not None]
    return len(images), len(with_bar)


def hidden_by_legends(figure) -> list[str]:
    """The curves with a drawn part (a point or a stretch of line) under their panel's legend (empty when none)."""
    figure.canvas.draw()
    return [f"{axis.get_title()}: {label}" for axis in figure.get_axes() for label in _under_legend(axis)]


def _under_legend(axis) -> list[str]:
    """The labels of ``axis``'s lines that pass under its legend box (the figure drawn already)."""
    legend = axis.get_legend()
    if legend is None or not legend.get_visible():
        return []
    box = legend.get_window_extent(_root(axis).canvas.get_renderer())
    hidden = []
    for line in axis.get_lines():
        if not line.get_visible() or line.get_transform() != axis.transData:
            continue  # a marker line across the whole panel (axvline) stays visible around a legend
        points = line.get_transform().transform(np.column_stack([line.get_xdata(), line.get_ydata()]))
        points = points[np.isfinite(points).all(axis=1)]
        if len(points) > 1 and line.get_linestyle() not in ("None", " ", ""):  # the segments between points too
            steps = np.linspace(0, 1, 25)[:, None, None]
            points = (points[:-1] + steps * (points[1:] - points[:-1])).reshape(-1, 2)
        if any(box.contains(x, y) for x, y in points):
            hidden.append(line.get_label())
    return hidden


#: Where :func:`place_legend` tries a panel's legend, in order.
_LEGEND_PLACES = ("upper right", "upper left", "lower right", "lower left", "center right", "center left")


def place_legend(axis, **options) -> None:
    """Put ``axis``'s legend in the first place where it hides no curve, making head room above if none is free.

    matplotlib's ``loc="best"`` only counts the points under the box, so a legend can still cover a line
    between two points (or, on a narrow panel, a point): here the whole drawn line is checked. The legend
    stays inside its panel, so the figure's layout does not change.
    """
    figure = _root(axis)
    for _ in range(4):
        for place in _LEGEND_PLACES:
            axis.legend(loc=place, **options)
            figure.draw_without_rendering()
            if not _under_legend(axis):
                return
        low, high = axis.get_ylim()  # no free corner: raise the top by a third, the curves move down
        if axis.get_yscale() == "log":
            axis.set_ylim(low, high * (high / low) ** 0.35)
        else:
            axis.set_ylim(low, high + 0.35 * (high - low))
    axis.legend(loc="upper right", **options)
