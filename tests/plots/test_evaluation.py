"""``nnkit evaluate --plot``: the worst-case gallery stays readable whatever --top lists."""

import numpy as np

from nnkit.cli.evaluate import Cases
from nnkit.nn.evaluation import evaluate_classifier
from nnkit.plots.evaluation import GALLERY, evaluation_figure


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
