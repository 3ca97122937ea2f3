"""The shared picture style: sizes, fonts, colour scales, matrices with numbers, and its own checks."""

import numpy as np
import pytest

from nnkit.plots import style
from nnkit.plots.figures import pyplot


def test_sizes_are_a_16_9_slide_and_a_notebook_cell():
    assert style.SLIDE[0] / style.SLIDE[1] == pytest.approx(16 / 9, rel=1e-3)
    assert style.NOTEBOOK[0] / style.NOTEBOOK[1] == pytest.approx(16 / 9, rel=1e-3)
    assert (round(style.SLIDE[0] * style.DPI), round(style.SLIDE[1] * style.DPI)) == (1600, 900)
    with pytest.raises(ValueError, match="larger than a slide"):
        style.new_figure((16.0, 9.0))


def test_pyplot_applies_the_fonts():
    import matplotlib

    pyplot()
    assert matplotlib.rcParams["font.size"] == style.FONT
    assert matplotlib.rcParams["axes.titlesize"] == style.TITLE_FONT
    assert min(matplotlib.rcParams["xtick.labelsize"], matplotlib.rcParams["legend.fontsize"]) >= style.MIN_FONT


def test_signed_values_get_a_diverging_scale_centred_on_zero():
    cmap, norm, signed = style.colour_scale(np.array([[-1.0, 3.0]]))
    assert (cmap, norm.vmin, norm.vmax, signed) == (style.DIVERGING, -3.0, 3.0, True)
    assert norm(0.0) == 0.5  # white, the middle of RdBu_r
    cmap, norm, signed = style.colour_scale(np.array([[0.0, 2.0]]))
    assert (cmap, norm.vmin, norm.vmax, signed) == (style.SEQUENTIAL, 0.0, 2.0, False)
    assert style.colour_scale(np.array([[0.2, 0.9]]), "image")[0] == "gray"
    _, norm, _ = style.colour_scale(np.full((2, 2), 4.0))
    assert (norm.vmin, norm.vmax) == (3.5, 4.5)


def test_a_small_matrix_is_drawn_with_its_numbers_and_a_colour_bar():
    figure, axis = style.new_figure()
    values = np.array([[0.0, -1.5, 2.0], [0.25, 1.0, -0.001]])
    image = style.value_image(axis, values, label="weight", title="weights")
    written = [[None] * 3 for _ in range(2)]
    for text in axis.texts:
        col, row = text.get_position()
        written[row][col] = (text.get_text(), text.get_color())
    assert [[w[0] for w in row] for row in written] == [["0", "-1.5", "2"], ["0.25", "1", "-0.001"]]
    # the deepest red (2.0) gets white numbers, the white 0 black ones
    assert written[0][2][1] == "white" and written[0][0][1] == "black"
    assert image.colorbar is not None and "white = 0" in image.colorbar.ax.get_ylabel()
    assert style.colour_bar_images(figure) == (1, 1)
    assert list(axis.get_xticks()) == [0, 1, 2]
    pyplot().close(figure)


def test_a_large_matrix_has_no_numbers_but_a_colour_bar():
    figure, axis = style.new_figure()
    style.value_image(axis, np.arange(40 * 30.0).reshape(40, 30))
    assert not axis.texts
    assert style.colour_bar_images(figure) == (1, 1)
    pyplot().close(figure)


def test_the_checks_find_colliding_titles_and_tiny_text():
    figure = pyplot().figure(figsize=style.NOTEBOOK, layout="none")
    axis = figure.add_axes((0.1, 0.1, 0.8, 0.8))
    axis.set_title("a panel title")
    figure.suptitle("the figure's title", y=0.915)  # pushed down onto the panel's title
    axis.text(0.5, 0.5, "tiny", fontsize=6)
    assert ("the figure's title", "a panel title") in style.overlapping_titles(figure)
    assert style.small_texts(figure) == ["'tiny' at 6 pt"]
    figure.suptitle("the figure's title", y=0.99)
    assert style.overlapping_titles(figure) == []
    pyplot().close(figure)


def test_a_title_reaching_into_a_colour_bar_is_found():
    figure, axis = style.new_figure(style.NOTEBOOK, 1, 3, width_ratios=[1, 0.3, 1])
    image = axis[1].imshow(np.eye(3))
    figure.colorbar(image, ax=axis[1])
    axis[1].set_title("kernel identity 3×3 (as written; convolution flips it)")
    assert ("kernel identity 3×3 (as written; convolution flips it)", "axes: unnamed") in style.overlapping_titles(figure)
    pyplot().close(figure)


def test_wrap_keeps_titles_within_their_panel():
    figure, axes = style.new_figure(style.SLIDE, 1, 3)
    long = "the kernel gaussian 5×5 as written; convolution flips it before it slides over the image"
    for axis in axes:
        axis.set_title(style.wrap(long, style.title_width(axis)))
    figure.suptitle("three panels, one long title each")
    assert style.overlapping_titles(figure) == []
    pyplot().close(figure)
