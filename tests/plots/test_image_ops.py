"""convolve/pool --plot: what is drawn (titles apart, colour bars, the zoomed patch, signed maps, names)."""

import numpy as np
import pytest
from PIL import Image
from scipy.signal import convolve2d

from nnkit.course.image_convolution import patch_walkthrough
from nnkit.plots import style
from nnkit.plots.figures import pyplot
from nnkit.plots.image_ops import convolution_figure, pooling_figure
from tests.conftest import SAMPLES

BRAIN = np.asarray(Image.open(SAMPLES / "brain.png").convert("L")) / 255.0


def _well_made(figure):
    assert style.overlapping_titles(figure) == []
    assert style.small_texts(figure) == []
    images, with_bar = style.colour_bar_images(figure)
    assert images == with_bar == 3
    width, height = figure.get_size_inches()
    assert width <= style.SLIDE[0] and height <= style.SLIDE[1]


@pytest.fixture(scope="module")
def gaussian():
    from nnkit.cli.convolve import _kernel as command_kernel

    return command_kernel(None, "gaussian", None, None, None, None)


def test_gaussian_with_a_patch_titles_apart_and_the_patch_enlarged_with_its_numbers(gaussian):
    row, col = 150, 60
    walk = patch_walkthrough(BRAIN, gaussian, row, col)
    feature = convolve2d(BRAIN, gaussian, mode="valid")
    figure = convolution_figure("samples/brain.png", BRAIN, gaussian, feature, kernel_name="gaussian",
                                how="convolution", mode="valid", patch={**walk, "position": (row, col)})
    _well_made(figure)
    source = figure.axes[0]
    (inset,) = source.child_axes
    kh, kw = gaussian.shape
    image = inset.get_images()[0]
    np.testing.assert_array_equal(image.get_array(), BRAIN[row:row + kh, col:col + kw])
    assert inset.get_title() == f"the patch: rows {row}–{row + kh - 1}, columns {col}–{col + kw - 1}"
    # 9×9 numbers do not fit the inset at a readable size: none are written, its colours tell them
    assert not inset.texts
    # the 9×9 kernel's tiny weights do not fit their cells either; its colour bar gives them
    assert not figure.axes[1].texts
    assert "kernel gaussian" in figure.axes[1].get_title()
    pyplot().close(figure)


def test_a_3x3_patch_is_enlarged_with_its_values_written_in():
    kernel = np.eye(3)
    row, col = 150, 60
    walk = patch_walkthrough(BRAIN, kernel, row, col)
    figure = convolution_figure("brain.png", BRAIN, kernel, convolve2d(BRAIN, kernel, mode="valid"),
                                kernel_name="identity", how="convolution", mode="valid",
                                patch={**walk, "position": (row, col)})
    _well_made(figure)
    (inset,) = figure.axes[0].child_axes
    cells = {(round(t.get_position()[1]), round(t.get_position()[0])): t.get_text() for t in inset.texts}
    assert cells == {(row + r, col + c): f"{BRAIN[row + r, col + c]:.2f}" for r in range(3) for c in range(3)}
    assert {t.get_text() for t in figure.axes[1].texts} == {"0", "1"}  # the kernel's numbers
    pyplot().close(figure)


def test_a_signed_map_is_red_and_blue_around_white_zero_and_saturates_past_the_995th_percentile():
    laplacian = np.array([[0.0, 1, 0], [1, -4, 1], [0, 1, 0]])
    feature = convolve2d(BRAIN, laplacian, mode="same")
    figure = convolution_figure("-", BRAIN, laplacian, feature, kernel_name="laplacian", how="convolution",
                                mode="same")
    _well_made(figure)
    image = figure.axes[2].get_images()[0]
    reach = np.percentile(np.abs(feature), 99.5)
    assert image.get_cmap().name == style.DIVERGING
    assert (image.norm.vmin, image.norm.vmax) == pytest.approx((-reach, reach))
    assert reach < 0.5 * np.abs(feature).max()  # without the saturation most edges would be near white
    assert image.colorbar.extend == "both"
    assert "the input" in figure.get_suptitle() and "stdin" not in figure.get_suptitle()
    assert figure.axes[0].get_title() == "the input  400×338"
    pyplot().close(figure)


def test_pooling_from_a_pipe_names_the_input_not_stdin():
    pooled = BRAIN[: 400 // 5 * 5, : 338 // 5 * 5].reshape(80, 5, 67, 5).max(axis=(1, 3))
    figure = pooling_figure("-", BRAIN, pooled, (5, 5), (5, 5), "max")
    _well_made(figure)
    assert figure.get_suptitle() == "max pooling: the input → 80×67"
    window = figure.axes[1]
    r0, c0 = 40 * 5, 33 * 5  # the middle window, pooled[40, 33]
    cells = {(round(t.get_position()[1]), round(t.get_position()[0])): t.get_text() for t in window.texts}
    assert cells == {(r, c): f"{BRAIN[r0 + r, c0 + c]:.2f}" for r in range(5) for c in range(5)}
    pyplot().close(figure)
