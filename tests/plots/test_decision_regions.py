"""train-xor --plot: a linear model's boundary is drawn, and why it cannot separate XOR is shown."""

import json

import numpy as np
import pytest

from nnkit.plots import style
from nnkit.plots.figures import pyplot


@pytest.fixture
def drawn(monkeypatch):
    import nnkit.plots.decision_regions

    figures = []
    monkeypatch.setattr(nnkit.plots.decision_regions, "save_figure", lambda figure, path, env: figures.append(figure))
    return figures


def _legend(axis):
    return [text.get_text() for text in axis.get_legend().get_texts()]


def test_linear_xor_shows_the_straight_lines_that_each_get_at_most_3_of_4(cli, tmp_path, drawn):
    run = cli("train-xor", "--no-hidden", "--plot", str(tmp_path / "x.png"), "-f", "json")
    assert run.exit_code == 0, run.stderr
    report = json.loads(run.stdout)
    assert report["accuracy"] == 0.5 and report["linearly_separable"] is False
    (figure,) = drawn
    axis = figure.axes[0]
    assert "no straight line puts the 1s apart from the 0s, 3 of 4 at best" in axis.get_title().replace("\n", " ")
    labels = _legend(axis)
    # the three straight lines, each scored by hand: x1 + x2 = 0.5 misses (1,1); x1 + x2 = 1.5 misses
    # (0,0); x1 = 0.5 misses (0,1) and (1,1)
    assert "1·x1 + 1·x2 − 0.5 = 0: 3 of 4 right" in labels
    assert "1·x1 + 1·x2 − 1.5 = 0: 3 of 4" in labels
    assert "1·x1 + 0·x2 − 0.5 = 0: 2 of 4" in labels
    lines = {line.get_label(): line for line in axis.get_lines()}
    diagonal = lines["1·x1 + 1·x2 − 0.5 = 0: 3 of 4 right"]
    np.testing.assert_allclose(diagonal.get_xdata() + diagonal.get_ydata(), 0.5)
    # the trained weights are ≈ 0: its boundary is off the square, and p = 0.5 (white) everywhere
    assert any(label.startswith("the model's boundary w·x + b = 0\nlies outside this square: w ≈ 0")
               for label in labels)
    shading = axis.get_images()[0].get_array()
    assert np.abs(shading - 0.5).max() < 0.005 and axis.get_images()[0].colorbar is not None
    assert "decision boundary (p = 0.5)" not in labels and "predicted 1" not in labels  # only what is drawn
    assert style.overlapping_titles(figure) == [] and style.small_texts(figure) == []
    width, height = figure.get_size_inches()
    assert width <= style.NOTEBOOK[0] and height <= style.SLIDE[1]
    pyplot().close(figure)


def test_a_separable_gate_draws_the_models_own_straight_boundary(cli, tmp_path, drawn):
    run = cli("train-xor", "--gate", "nand", "--no-hidden", "--plot", str(tmp_path / "n.png"), "-f", "json")
    assert run.exit_code == 0, run.stderr
    weights = json.loads(run.stdout)["weights"]
    w, b = np.array(weights["W0"])[:, 0], weights["b0"][0]
    (figure,) = drawn
    axis = figure.axes[0]
    (boundary,) = [line for line in axis.get_lines() if line.get_label().startswith("the model's boundary")]
    points = np.column_stack([boundary.get_xdata(), boundary.get_ydata()])
    np.testing.assert_allclose(points @ w + b, 0.0, atol=1e-9)  # the line is w·x + b = 0
    assert not [label for label in _legend(axis) if " of 4" in label]  # separable: no failing lines shown
    assert "one straight line separates NAND" in axis.get_title().replace("\n", " ")
    pyplot().close(figure)


def test_the_straight_lines_beside_a_linear_model_can_be_told_apart(cli, tmp_path, drawn):
    run = cli("train-xor", "--hidden", "none", "--plot", str(tmp_path / "x.png"))
    assert run.exit_code == 0, run.stderr
    (figure,) = drawn
    axis = figure.axes[0]
    lines = [line for line in axis.get_lines() if " of 4" in line.get_label()]
    assert len(lines) == 3
    # each legend entry must point at one line: all three were the same grey dots
    assert len({line.get_color() for line in lines}) == 3
    assert not {line.get_color() for line in lines} & {"#1f5fa8", "#c2410c", "black", "k"}  # not the points' colours
    pyplot().close(figure)
