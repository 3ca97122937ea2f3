"""evaluate --plot: one slide (not 16 × 9.6 inches), no text below the floor, the confusion matrix with its colour bar."""

from pathlib import Path

import numpy as np
import pytest

from nnkit.cli.evaluate import Cases
from nnkit.nn.evaluation import evaluate_classifier
from nnkit.plots import style
from nnkit.plots.evaluation import GALLERY, evaluation_figure
from nnkit.plots.figures import pyplot

CANCER = Path(__file__).parents[2] / "samples" / "breast_cancer_wdbc.csv"


@pytest.fixture
def drawn(monkeypatch):
    import nnkit.plots.evaluation

    figures = []
    monkeypatch.setattr(nnkit.plots.evaluation, "save_figure", lambda figure, path, env: figures.append(figure))
    return figures


@pytest.mark.parametrize("train", [
    ("train-mlp", "--data", str(CANCER), "--epochs", "3", "--hidden", "8"),  # two classes, rows
    ("train-mlp", "--epochs", "2", "--hidden", "8"),  # ten digits, images
])
def test_the_evaluation_fits_a_slide_with_readable_text(cli, tmp_path, drawn, train):
    model = tmp_path / "m.npz"
    assert cli(*train, "--save", str(model)).exit_code == 0
    data = str(CANCER) if str(CANCER) in train else "digits"
    run = cli("evaluate", str(model), "--data", data, "--plot", str(tmp_path / "e.png"))
    assert run.exit_code == 0, run.stderr
    (figure,) = drawn
    width, height = figure.get_size_inches()
    assert width <= style.SLIDE[0] + 1e-9 and height <= style.SLIDE[1] + 1e-9  # was 16 × 9.6 inches
    assert style.small_texts(figure) == []  # legends and bin counts were 6-8 pt
    assert style.overlapping_titles(figure) == []
    confusion = next(axis for axis in figure.get_axes() if axis.get_title().startswith("confusion matrix"))
    assert confusion.get_images()[0].colorbar is not None
    # the figure's long title stays inside the figure
    renderer = figure.canvas.get_renderer()
    box = figure._suptitle.get_window_extent(renderer)
    assert box.x0 >= 0 and box.x1 <= figure.bbox.x1
    pyplot().close(figure)


def test_the_gallery_shows_at_most_a_slides_worth_of_the_worst_cases():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 60)
    p = rng.dirichlet(np.ones(3), 60)
    report = evaluate_classifier(y, p, bootstrap=0, top=40)
    report.update(model="m.npz", cases="all", classes=[0, 1, 2])
    cases = Cases(rng.random((60, 8, 8, 1)), y, "all", "all", "x.npz", "images", image_shape=(8, 8))
    figure = evaluation_figure(report, p, cases, None)
    gallery = [a for a in figure.axes if a.images and a.get_title().startswith("case")]
    assert len(report["top_losses"]) == 40 and len(gallery) == GALLERY
    assert [a.get_title().split("\n")[0] for a in gallery] == [f"case {c['index']}" for c in report["top_losses"][:GALLERY]]
