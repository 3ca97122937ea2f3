"""train-xor's hidden-space panel: its points are the hidden layer's outputs, its line the output unit's."""

import numpy as np

from nnkit.course.logic_gates import train_gate, truth_table
from nnkit.plots.figures import pyplot
from nnkit.plots.hidden_space import xor_trained_figure, xor_wired_figure


def scatter_points(axis) -> np.ndarray:
    """Every point the axis's scatter plots draw, in drawing order."""
    return np.vstack([c.get_offsets() for c in axis.collections if hasattr(c, "get_offsets")
                      and len(c.get_offsets()) and c.__class__.__name__ == "PathCollection"])


def test_the_trained_panel_draws_the_hidden_outputs():
    network, _ = train_gate("xor", seed=0)
    x, t = truth_table("xor")
    figure = xor_trained_figure(network, x, t, "XOR", [])
    try:
        _, hidden = figure.axes[:2]
        first = network.dense_layers[0]
        h = 1 / (1 + np.exp(-(x @ first.W + first.b)))  # the sigmoid hidden layer, by hand
        # the scatter draws the target-0 points, then the target-1 points
        expected = np.vstack([h[t == 0], h[t == 1]])
        np.testing.assert_allclose(scatter_points(hidden), expected, rtol=1e-12)
        # the dashed line is the output unit's w·h + b = 0
        out = network.dense_layers[1]
        line = next(ln for ln in hidden.get_lines() if ln.get_label() == "y switches on")
        for h1, h2 in np.column_stack(line.get_data()):
            assert abs(out.W[0, 0] * h1 + out.W[1, 0] * h2 + out.b[0]) < 1e-9
        # and it separates: the 1s on its positive side, the 0s on the other
        side = h @ out.W[:, 0] + out.b[0]
        assert ((side > 0) == (t == 1)).all()
    finally:
        pyplot().close(figure)


def test_a_network_without_two_hidden_units_has_the_input_panel_only():
    network, _ = train_gate("xor", hidden=3, seed=0)
    x, t = truth_table("xor")
    figure = xor_trained_figure(network, x, t, "XOR", [])
    try:
        panels = [axis for axis in figure.axes if axis.get_label() != "<colorbar>"]
        assert len(panels) == 1 and len(figure.axes) == 2  # the input plane and its colour bar
    finally:
        pyplot().close(figure)


def test_the_wired_panel_puts_the_points_at_nand_and_or():
    x, t = truth_table("xor")
    s = np.array([[1.0, 0.0], [1.0, 1.0], [1.0, 1.0], [0.0, 1.0]])
    figure = xor_wired_figure(lambda g: g[:, 0], [], lambda g: g[:, 0], [], s, x, t, lambda g: g[:, 0],
                              (np.array([1.0, 1.0]), -1.5, "y = AND"))
    try:
        hidden = figure.axes[2]
        np.testing.assert_array_equal(scatter_points(hidden), np.vstack([s[t == 0], s[t == 1]]))
        labels = [text.get_text() for text in hidden.texts]
        assert "from (0, 1) and (1, 0)" in labels and "from (0, 0)" in labels
    finally:
        pyplot().close(figure)
