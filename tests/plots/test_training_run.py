"""train-mlp --plot: 2 × 2 on a slide, and the ROC curve marks the reported sensitivity and specificity."""

import json

import numpy as np
import pytest

from nnkit.plots import style
from nnkit.plots.figures import pyplot
from nnkit.plots.training_run import training_figure
from tests.conftest import SAMPLES

HISTORY = [{"epoch": e, "loss": 1 / e, "accuracy": 0.5 + e / 20, "val_loss": 1.2 / e, "val_accuracy": 0.6}
           for e in range(1, 9)]


def _centre(axis):
    box = axis.get_position()
    return (box.x0 + box.x1) / 2, (box.y0 + box.y1) / 2


def test_two_classes_are_laid_out_two_by_two_with_the_operating_point_marked():
    figure = training_figure(HISTORY, [[5, 1], [2, 4]], ["benign", "malignant"],
                             roc=(np.array([0, 0, 1, 1]), np.array([0.1, 0.6, 0.35, 0.8])), positive="malignant",
                             operating=(0.5, 0.5))
    figure.draw_without_rendering()
    loss, accuracy, matrix, roc = figure.axes[:4]
    (lx, ly), (ax, ay), (mx, my), (rx, ry) = (_centre(a) for a in (loss, accuracy, matrix, roc))
    assert lx == pytest.approx(ax, abs=0.02) and ly > ay  # the curves one above the other, on the left
    assert mx > lx and rx > lx and my > ry  # matrix above ROC, on the right
    (point,) = [line for line in roc.get_lines() if line.get_label().startswith("the predicted class")]
    assert (point.get_xdata()[0], point.get_ydata()[0]) == (0.5, 0.5)  # (1 − specificity, sensitivity)
    assert "sensitivity 0.500" in point.get_label() and "specificity 0.500" in point.get_label()
    cells = sorted(t.get_text() for t in matrix.texts)
    assert cells == ["1", "2", "4", "5"]
    assert tuple(figure.get_size_inches()) == style.SLIDE
    assert style.overlapping_titles(figure) == [] and style.small_texts(figure) == []
    pyplot().close(figure)


def test_many_classes_give_the_matrix_the_whole_right_column():
    cm = np.diag(np.arange(10, 20))
    figure = training_figure(HISTORY, cm, list(range(10)))
    loss, _, matrix = figure.axes[:3]
    figure.draw_without_rendering()
    assert matrix.get_position().height > 1.5 * loss.get_position().height
    assert len(matrix.texts) == 100
    assert style.overlapping_titles(figure) == [] and style.small_texts(figure) == []
    pyplot().close(figure)


def test_the_plotted_point_is_the_reported_sensitivity_and_specificity_and_lies_on_the_curve(cli, tmp_path,
                                                                                              monkeypatch):
    import nnkit.plots.training_run

    drawn = []
    monkeypatch.setattr(nnkit.plots.training_run, "save_figure", lambda figure, path, env: drawn.append(figure))
    run = cli("train-mlp", "--data", str(SAMPLES / "breast_cancer_wdbc.csv"), "--positive", "malignant",
              "--epochs", "3", "--hidden", "8", "--plot", str(tmp_path / "p.png"), "-f", "json")
    assert run.exit_code == 0, run.stderr
    test = json.loads(run.stdout)["test"]
    (figure,) = drawn
    roc = figure.axes[3]
    curve = roc.get_lines()[0]
    (point,) = [line for line in roc.get_lines() if line.get_label().startswith("the predicted class")]
    x, y = point.get_xdata()[0], point.get_ydata()[0]
    assert (x, y) == pytest.approx((1 - test["specificity"], test["sensitivity"]), abs=1e-12)
    # threshold 0.5 is one of the curve's thresholds: the point is one of its vertices
    vertices = np.column_stack([curve.get_xdata(), curve.get_ydata()])
    assert np.min(np.hypot(*(vertices - [x, y]).T)) < 1e-12
    assert 0 < test["sensitivity"] < 1 or 0 < test["specificity"] < 1  # a point inside, not a corner
    pyplot().close(figure)


#: A CNN's first 3 epochs: both accuracies climb to the upper right, where the legend went and hid them.
CLIMBING = [{"epoch": e, "loss": loss, "accuracy": acc, "val_loss": val_loss, "val_accuracy": val_acc}
            for e, loss, acc, val_loss, val_acc in ((1, 2.48, 0.13, 2.26, 0.17), (2, 2.18, 0.24, 2.03, 0.36),
                                                    (3, 1.96, 0.38, 1.80, 0.52))]


@pytest.mark.parametrize("strip", [True, False])
def test_the_curves_legends_hide_no_curve(strip):
    figure = pyplot().figure(figsize=style.SLIDE, layout="constrained")
    # the strip is the top band of a CNN's figure, 2.5 inches high, as training_conv_figure makes it
    band = figure.subfigures(2, 1, height_ratios=[2.5, 5.0])[0] if strip else figure
    training_figure(CLIMBING, np.eye(10, dtype=int) * 5, [str(k) for k in range(10)], figure=band, strip=strip)
    assert style.hidden_by_legends(figure) == []
    assert [text.get_text() for text in band.axes[1].get_legend().get_texts()] == [
        "training accuracy", "validation accuracy"]
    pyplot().close(figure)


def test_the_kept_epochs_line_does_not_squash_the_curves():
    # a line across the whole panel (the kept epoch) runs under any legend: it must not make head room
    history = [{"epoch": e, "loss": 1 / e, "accuracy": 1 - 1 / (e + 1), "val_loss": 1.2 / e, "val_accuracy": 0.9}
               for e in range(1, 21)]
    figure = training_figure(history, [[5, 1], [2, 4]], ["a", "b"], best_epoch=10)
    assert figure.axes[0].get_ylim()[1] < 1.8  # the curves reach 1.2; it was 4.2, the curves squashed
    assert figure.axes[1].get_ylim()[1] < 1.4  # they reach 0.95; it was 2.1
    pyplot().close(figure)
