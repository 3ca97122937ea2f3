"""``-o x.png`` of an array: a small one a heat map with its numbers, a large one pixel for pixel."""

import numpy as np
from PIL import Image

from nnkit.plots import style
from nnkit.plots.arrays import HEAT_MAP_LIMIT, heat_map_figure, is_heat_map
from nnkit.plots.figures import pyplot


def _cells(axis):
    return {(round(t.get_position()[1]), round(t.get_position()[0])): t.get_text() for t in axis.texts}


def test_a_small_array_is_a_heat_map_of_its_numbers_with_a_colour_bar():
    values = np.array([[0.315, 0.0, -1.25], [2.0, 0.5, 1e-4]])
    figure = heat_map_figure(values)
    axis = figure.axes[0]
    assert _cells(axis) == {(0, 0): "0.315", (0, 1): "0", (0, 2): "-1.25", (1, 0): "2", (1, 1): "0.5",
                            (1, 2): "0.0001"}
    assert style.colour_bar_images(figure) == (1, 1)
    image = axis.get_images()[0]
    assert (image.norm.vmin, image.norm.vmax) == (-2.0, 2.0)  # signed: centred on 0
    assert axis.get_title() == "array 2×3" and axis.get_xlabel() == "column"
    assert style.overlapping_titles(figure) == [] and style.small_texts(figure) == []
    width, height = figure.get_size_inches()
    assert width <= style.NOTEBOOK[0] and height <= style.SLIDE[1]
    pyplot().close(figure)


def test_a_one_dimensional_result_is_one_row():
    figure = heat_map_figure(np.array([1.0, 0.0, 3.0]))
    assert _cells(figure.axes[0]) == {(0, 0): "1", (0, 1): "0", (0, 2): "3"}
    assert figure.axes[0].get_title() == "array 3"
    pyplot().close(figure)


def test_the_limit_between_heat_maps_and_pixels():
    assert is_heat_map(np.zeros((HEAT_MAP_LIMIT, 3))) and not is_heat_map(np.zeros((HEAT_MAP_LIMIT + 1, 3)))
    assert not is_heat_map(np.zeros((2, 2, 2))) and not is_heat_map(np.zeros((0, 3)))


def test_activate_random_5x3_png_is_a_readable_heat_map(cli, tmp_path):
    path = tmp_path / "m.png"
    run = cli("activate", "relu", "--random", "5x3", "-o", str(path))
    assert run.exit_code == 0, run.stderr
    with Image.open(path) as picture:
        width, height = picture.size
        pixels = np.asarray(picture.convert("RGB")).astype(int)
    assert 400 < width <= style.NOTEBOOK[0] * style.DPI and 500 < height <= style.SLIDE[1] * style.DPI
    # viridis's yellow (the largest value) and purple (the zeros) are both drawn
    assert ((pixels[..., 0] > 200) & (pixels[..., 1] > 200) & (pixels[..., 2] < 80)).sum() > 1000
    assert ((pixels[..., 0] > 50) & (pixels[..., 0] < 90) & (pixels[..., 2] > 70) & (pixels[..., 1] < 20)).sum() > 1000


def test_a_large_array_keeps_one_pixel_per_value(cli, tmp_path):
    path = tmp_path / "r.png"
    run = cli("reshape", "--random", "70x2", "--seed", "3", "--shape", "2,70", "-o", str(path))
    assert run.exit_code == 0, run.stderr
    np.random.seed(3)
    values = np.random.randn(70, 2).reshape(2, 70)
    expected = np.rint((values - values.min()) / (values.max() - values.min()) * 255)
    np.testing.assert_array_equal(np.asarray(Image.open(path)), expected.astype(np.uint8))
