"""explain --plot: one slide, not a strip wider than a slide; every map with its colour bar."""

import numpy as np

from nnkit.plots import style
from nnkit.plots.explanation import explanation_figure
from nnkit.plots.figures import pyplot


def _figure():
    rng = np.random.default_rng(0)
    image = rng.random((8, 8))
    maps = {"gradcam": {"values": rng.random((6, 6)), "layer": "conv2d"},
            "saliency": {"values": rng.random((8, 8))},
            "occlusion": {"values": rng.random((8, 8)) - 0.5}}
    probabilities = {str(k): 0.1 for k in range(10)}
    report = {"probabilities": probabilities, "class": 3, "prediction": 3, "model": "cnn.npz", "input": "three.png"}
    return explanation_figure(image, maps, report)


def test_the_explanation_fits_a_slide_with_readable_text():
    figure = _figure()
    width, height = figure.get_size_inches()
    assert width <= style.SLIDE[0] + 1e-9 and height <= style.SLIDE[1] + 1e-9  # was 20.4 × 3.9 inches
    assert style.overlapping_titles(figure) == [] and style.small_texts(figure) == []
    pyplot().close(figure)


def test_every_panel_of_values_has_a_colour_bar():
    figure = _figure()
    with_images = [axis for axis in figure.get_axes() if axis.get_images()]
    assert len(with_images) == 5  # input, Grad-CAM, Grad-CAM over the image, saliency, occlusion
    # the input and the Grad-CAM overlay had none
    assert all(any(image.colorbar is not None for image in axis.get_images()) for axis in with_images)
    overlay = next(axis for axis in with_images if axis.get_title() == "Grad-CAM over the image")
    assert overlay.get_images()[-1].colorbar is not None  # the bar is the heat map's, not the grey input's
    pyplot().close(figure)
