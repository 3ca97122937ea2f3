"""Matplotlib figures for ``--plot`` and picture outputs: made off-screen, saved atomically.

matplotlib is imported only here, inside functions, and only when a picture is asked for.
"""

from __future__ import annotations

from pathlib import Path

from nnkit.errors import NnkitInputError
from nnkit.plots.style import DPI, pyplot
from nnkit.term.env import Environment
from nnkit.term.output import atomic_write


def save_figure(figure, path: str | Path, env: Environment | None = None, dpi: int | None = None) -> None:
    """Write a figure as PNG at the shared style's resolution (:data:`nnkit.plots.style.DPI`), atomically, and free it."""
    path = Path(path)
    if path.suffix.lower() != ".png":
        raise NnkitInputError(f"pictures are written as PNG; {path} does not end in .png")
    try:
        with atomic_write(path, env) as handle:
            figure.savefig(handle, format="png", dpi=dpi or DPI, bbox_inches="tight")
    finally:
        pyplot().close(figure)


def digits_figure(digits, rows, title: str = "The course's digits: 1 = white ink, 0 = black background"):
    """The six 5×4 digit patterns side by side, and their one-row-per-digit form below with its 0s and 1s.

    Drawn as the course draws them (``cmap='gray'``: 1 is white ink on a black background), each
    digit inside a black margin so that its white strokes never melt into the white page.

    Parameters
    ----------
    digits : (6, 5, 4) array
    rows : (6, 20) array
    """
    from nnkit.plots.style import NOTEBOOK, value_image

    plt = pyplot()
    figure = plt.figure(figsize=NOTEBOOK, layout="constrained")
    top, bottom = figure.subfigures(2, 1, height_ratios=[1.0, 1.05])
    axes = top.subplots(1, len(digits))
    height, width = digits.shape[1:]
    for i, (axis, digit) in enumerate(zip(axes, digits, strict=True)):
        axis.imshow(digit, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
        axis.set_facecolor("black")
        axis.set_xlim(-1.0, width)  # a one-pixel black margin around the digit
        axis.set_ylim(height, -1.0)
        axis.set_title(f"{i}", fontsize=14)
        axis.set_xticks([])
        axis.set_yticks([])
    top.suptitle(f"each digit: {height}×{width} pixels", fontsize=12, fontweight="normal")
    axis = bottom.subplots()
    image = value_image(axis, rows, label="pixel", kind="image", numbers=True, ticks=True,
                        number_format=lambda v: f"{v:g}")
    image.colorbar.set_ticks([0, 1], labels=["0 black", "1 white"])
    image.colorbar.set_label("")
    axis.set_title(f"reshaped: one row per digit, {rows.shape[0]}×{rows.shape[1]}", fontsize=12)
    axis.set_xlabel("pixel (row-major: the digit's row 0, then row 1, …)")
    axis.set_ylabel("digit")
    # lines where a digit row ends
    for boundary in range(width, rows.shape[1], width):
        axis.axvline(boundary - 0.5, color="tab:orange", linewidth=2)
    figure.suptitle(title)
    return figure
