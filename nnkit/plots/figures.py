"""Matplotlib figures for ``--plot`` and picture outputs: made off-screen, saved atomically.

matplotlib is imported only here, inside functions, and only when a picture is asked for.
"""

from __future__ import annotations

from pathlib import Path

from nnkit.errors import NnkitInputError
from nnkit.term.env import Environment
from nnkit.term.output import atomic_write


def pyplot():
    """``matplotlib.pyplot`` on the off-screen Agg backend (no display is needed or used)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from nnkit.plots.style import apply

    apply()
    return plt


def save_figure(figure, path: str | Path, env: Environment | None = None, dpi: int | None = None) -> None:
    """Write a figure as PNG at the shared style's resolution (:data:`nnkit.plots.style.DPI`), atomically, and free it."""
    from nnkit.plots.style import DPI

    path = Path(path)
    if path.suffix.lower() != ".png":
        raise NnkitInputError(f"pictures are written as PNG; {path} does not end in .png")
    try:
        with atomic_write(path, env) as handle:
            figure.savefig(handle, format="png", dpi=dpi or DPI, bbox_inches="tight")
    finally:
        pyplot().close(figure)


def digits_figure(digits, rows, title: str = "The course's digits"):
    """The six 5×4 digit patterns side by side, and their one-row-per-digit form below.

    Parameters
    ----------
    digits : (6, 5, 4) array
    rows : (6, 20) array
    """
    plt = pyplot()
    figure = plt.figure(figsize=(7.5, 4.2))
    grid = figure.add_gridspec(2, len(digits), height_ratios=[1.2, 1.0], hspace=0.45)
    for i, digit in enumerate(digits):
        axis = figure.add_subplot(grid[0, i])
        axis.imshow(digit, cmap="gray", vmin=0, vmax=1)
        axis.set_title(f"{i}: {digit.shape[0]}×{digit.shape[1]}", fontsize=9)
        axis.set_xticks([])
        axis.set_yticks([])
    axis = figure.add_subplot(grid[1, :])
    axis.imshow(rows, cmap="gray", vmin=0, vmax=1)
    axis.set_title(f"reshaped: one row per digit, {rows.shape[0]}×{rows.shape[1]}", fontsize=10)
    axis.set_xlabel("pixel (row-major: row 0 of the digit, then row 1, …)")
    axis.set_ylabel("digit")
    # ticks at whole pixels (an image axis at 2.5, 7.5 … means nothing); lines where a digit row ends
    width = digits.shape[2]
    axis.set_xticks(range(rows.shape[1]))
    axis.tick_params(axis="x", labelsize=7)
    axis.set_yticks(range(rows.shape[0]))
    for boundary in range(width, rows.shape[1], width):
        axis.axvline(boundary - 0.5, color="tab:orange", linewidth=1.2)
    figure.suptitle(title)
    return figure
