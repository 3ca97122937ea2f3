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


def test_the_grad_cam_panel_shows_the_map_at_its_resolution_with_its_peak():
    cam = np.zeros((4, 4))
    cam[1, 2] = 1.0  # one peak cell, as Grad-CAM divides by the maximum
    report = {"model": "m.npz", "input": "x.npy", "prediction": 0, "class": 0, "probabilities": {"0": 0.9, "1": 0.1}}
    figure = explanation_figure(np.zeros((8, 8, 1)), {"gradcam": {"layer": "conv2d", "values": cam.tolist()}}, report)
    shown = figure.axes[1].images[0].get_array()
    assert shown.shape == (4, 4) and shown.max() == 1.0  # not smoothed down by an 8×8 resize
    overlay = figure.axes[2].images[1].get_array()
    assert overlay.shape == (8, 8)  # the overlay is at the image's size, as Keras's example draws it
