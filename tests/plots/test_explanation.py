"""``nnkit explain --plot``: the Grad-CAM panel shows the map's own values (its peak is 1)."""

import numpy as np

from nnkit.plots.explanation import explanation_figure


def test_the_grad_cam_panel_shows_the_map_at_its_resolution_with_its_peak():
    cam = np.zeros((4, 4))
    cam[1, 2] = 1.0  # one peak cell, as Grad-CAM divides by the maximum
    report = {"model": "m.npz", "input": "x.npy", "prediction": 0, "class": 0, "probabilities": {"0": 0.9, "1": 0.1}}
    figure = explanation_figure(np.zeros((8, 8, 1)), {"gradcam": {"layer": "conv2d", "values": cam.tolist()}}, report)
    shown = figure.axes[1].images[0].get_array()
    assert shown.shape == (4, 4) and shown.max() == 1.0  # not smoothed down by an 8×8 resize
    overlay = figure.axes[2].images[1].get_array()
    assert overlay.shape == (8, 8)  # the overlay is at the image's size, as Keras's example draws it
