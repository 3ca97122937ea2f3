"""``-o x.png`` of an array: a small one drawn as a labelled heat map, a large one kept pixel for pixel.

The rule (``docs/conventions.md``, outputs):

- an array of at most :data:`HEAT_MAP_LIMIT` rows and columns (``activate --random 5x3``, ``onehot``,
  a layer's weights) is drawn as a **heat map**: one square cell per value, row and column numbers on
  the axes, a colour bar (diverging and centred on 0 when the values have both signs, sequential
  otherwise) and, while they fit at a readable size, the numbers themselves in the cells;
- a larger array is an image: **one PNG pixel per value**, 8-bit grey, min–max scaled (the exact map
  that the image commands ``convolve`` and ``pool`` always write, so the next command can read it).

A 1-D array is drawn as one row. matplotlib is imported only when a heat map is drawn.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from nnkit.errors import NnkitInputError
from nnkit.term.env import Environment
from nnkit.term.output import write_png

#: Arrays with at most this many rows and columns are drawn as heat maps; larger ones pixel for pixel.
HEAT_MAP_LIMIT = 64


def is_heat_map(array: np.ndarray) -> bool:
    """Whether ``-o x.png`` draws ``array`` as a heat map (else it is written pixel for pixel).

    Examples
    --------
    >>> is_heat_map(np.zeros((5, 3))), is_heat_map(np.zeros((400, 338)))
    (True, False)
    """
    return np.ndim(array) in (1, 2) and max(np.shape(array) or (0,)) <= HEAT_MAP_LIMIT and np.size(array) > 0


def heat_map_figure(array: np.ndarray, title: str | None = None):
    """The heat map of a 2-D (or 1-D, drawn as one row) array; returns the figure."""
    from nnkit.plots.figures import pyplot
    from nnkit.plots.style import NOTEBOOK, SLIDE, value_image, wrap

    values = np.atleast_2d(np.asarray(array, dtype=np.float64))
    rows, cols = values.shape
    # square cells: as wide as a notebook cell at most, as tall as a slide at most
    cell = min(NOTEBOOK[0] * 0.78 / cols, SLIDE[1] * 0.8 / rows, 0.9)
    size = (max(4.0, cell * cols + 2.4), max(2.6, cell * rows + 1.6))
    figure = pyplot().figure(figsize=size, layout="constrained")
    axis = figure.add_subplot()
    value_image(axis, values, label="value", numbers=None, ticks=max(rows, cols) <= 20)
    axis.set_xlabel("column")
    axis.set_ylabel("row")
    shape = "×".join(map(str, np.shape(array)))
    axis.set_title(wrap(title or f"array {shape}", 48))
    return figure


def write_array_picture(array: np.ndarray, path: str | Path, env: Environment | None = None,
                        title: str | None = None) -> None:
    """Write ``array`` as ``path`` (.png) by the rule above: a heat map when small, else its own pixels."""
    array = np.asarray(array)
    if not is_heat_map(array):
        write_png(array, path, env)
        return
    if not np.all(np.isfinite(array)):
        raise NnkitInputError("cannot write an image of values that are NaN or infinite")
    from nnkit.plots.figures import save_figure

    save_figure(heat_map_figure(array, title), path, env)
