"""What the --plot figures draw: checked on the matplotlib objects, before any pixels."""

import numpy as np
import pytest

from nnkit.nn.metrics import roc_auc, roc_curve


def close(figure):
    from nnkit.plots.figures import pyplot

    pyplot().close(figure)


def test_roc_curve_against_its_definition_and_its_area_is_the_auc():
    rng = np.random.default_rng(0)
    labels = rng.random(200) < 0.4
    scores = np.round(rng.random(200) + labels * 0.5, 1)  # rounded: many ties
    fpr, tpr = roc_curve(labels, scores)
    thresholds = np.unique(scores)[::-1]
    expected_tpr = [0.0] + [float((scores[labels] >= t).mean()) for t in thresholds]
    expected_fpr = [0.0] + [float((scores[~labels] >= t).mean()) for t in thresholds]
    np.testing.assert_allclose(tpr, expected_tpr)
    np.testing.assert_allclose(fpr, expected_fpr)
    assert np.trapezoid(tpr, fpr) == pytest.approx(roc_auc(labels, scores), abs=1e-12)


def test_training_figure_marks_the_kept_epoch_and_draws_roc_for_two_classes():
    from nnkit.plots.training_run import training_figure

    history = [{"epoch": e, "loss": 1 / e, "accuracy": 0.5 + e / 20, "val_loss": 1 / e + (e > 3) * 0.1 * e,
                "val_accuracy": 0.6} for e in range(1, 9)]
    figure = training_figure(history, [[5, 1], [2, 4]], ["benign", "malignant"], best_epoch=5,
                             roc=(np.array([0, 0, 1, 1]), np.array([0.1, 0.4, 0.35, 0.8])), positive="malignant")
    loss, accuracy, confusion, roc = figure.axes[:4]
    assert confusion.get_title() == "confusion matrix (test)"
    for axis in (loss, accuracy):
        kept = [line for line in axis.get_lines() if line.get_label().startswith("weights kept")]
        assert len(kept) == 1 and kept[0].get_label() == "weights kept: epoch 5, stopped at 8"
        assert list(kept[0].get_xdata()) == [5, 5]
    curve = roc.get_lines()[0]
    assert curve.get_label() == "ROC, AUC = 0.750"
    assert list(curve.get_xdata()) == [0.0, 0.0, 0.5, 0.5, 1.0]
    assert "malignant" in roc.get_title()
    close(figure)
    plain = training_figure(history, [[5, 1], [2, 4]], ["a", "b"])
    assert len([a for a in plain.axes if a.get_title()]) == 3  # no ROC without scores
    assert not any(line.get_label().startswith("weights kept") for line in plain.axes[0].get_lines())
    close(plain)


def test_digits_figure_ticks_whole_pixels():
    from nnkit.plots.figures import digits_figure

    digits = np.zeros((6, 5, 4))
    figure = digits_figure(digits, digits.reshape(6, 20))
    rows = figure.axes[6]  # after the six digits (the last axes is its colour bar)
    assert list(rows.get_xticks()) == list(range(20))
    assert [line.get_xdata()[0] for line in rows.get_lines()] == [3.5, 7.5, 11.5, 15.5]  # digit rows
    close(figure)


def test_xor_figure_ticks_and_hidden_lines_above_the_boundary():
    from nnkit.plots.decision_regions import decision_figure

    x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
    lines = [(np.array([1.0, 1.0]), -0.5, "h1 switches on"), (np.array([-1.0, -1.0]), 1.5, "h2 switches on")]
    figure = decision_figure(lambda p: ((p.sum(1) > 0.5) & (p.sum(1) < 1.5)).astype(float), x,
                             np.array([0, 1, 1, 0]), "XOR", lines)
    axis = figure.axes[0]
    assert list(axis.get_xticks()) == [-0.5, 0.0, 0.5, 1.0, 1.5]
    hidden = [line for line in axis.get_lines() if "switches on" in line.get_label()]
    assert len(hidden) == 2 and all(line.get_zorder() > 2 for line in hidden)  # over the boundary (2)
    assert hidden[0].get_color() != hidden[1].get_color()
    names = sorted(text.get_text() for text in axis.texts)
    assert names == ["h1 on", "h2 on"]
    close(figure)


def test_softmax_plot_puts_each_dot_on_its_own_curve():
    import io
    import sys

    from nnkit.cli.activate import _softmax_curves
    from nnkit.nn.activations import get_activation
    from nnkit.term.env import Environment

    env = Environment(sys.stdin, io.StringIO(), io.StringIO(), False, False, False)
    act = get_activation("softmax")
    x = np.array([1.0, 2.0, 3.0])
    curves, (px, py) = _softmax_curves(act, x, x, False, env)  # the grid is the inputs themselves
    assert len(curves) == 3 and px.tolist() == x.tolist()
    for i, (_, curve, _style) in enumerate(curves):
        assert curve[i] == pytest.approx(py[i], abs=1e-15)  # dot i lies on curve i
    np.testing.assert_allclose(py, np.exp(x) / np.exp(x).sum())
    many, points = _softmax_curves(act, x, np.arange(8.0), False, env)
    assert points is None and len(many) == 1 and "not marked" in env.stderr.getvalue()


def test_digits_are_white_ink_on_black_inside_a_black_margin_with_their_numbers_below():
    from nnkit.course.reshaping import DIGITS, flatten
    from nnkit.plots import style
    from nnkit.plots.figures import digits_figure

    rows = flatten(DIGITS)
    figure = digits_figure(DIGITS, rows)
    assert "1 = white ink, 0 = black" in figure.get_suptitle()
    digit_axes = figure.axes[:6]
    for axis, digit in zip(digit_axes, DIGITS, strict=True):
        image = axis.get_images()[0]
        assert image.get_cmap().name == "gray" and (image.norm.vmin, image.norm.vmax) == (0, 1)
        np.testing.assert_array_equal(image.get_array(), digit)
        assert axis.get_facecolor()[:3] == (0.0, 0.0, 0.0)  # the margin around the white strokes is black
        assert axis.get_xlim() == (-1.0, 4.0) and axis.get_ylim() == (5.0, -1.0)
    matrix = figure.axes[6]
    cells = {(round(t.get_position()[1]), round(t.get_position()[0])): t.get_text() for t in matrix.texts}
    assert cells == {(r, c): str(int(rows[r, c])) for r in range(6) for c in range(20)}
    assert style.overlapping_titles(figure) == [] and style.small_texts(figure) == []
    assert tuple(figure.get_size_inches()) == style.NOTEBOOK
    close(figure)
