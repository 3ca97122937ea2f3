"""The shared style on the figures not covered by their own files: slide or notebook size, no text
below the floor, titles apart, every image of values with a colour bar."""

import numpy as np

from nnkit.plots import style
from nnkit.plots.figures import pyplot


def _in_style(figure, limit=style.SLIDE):
    width, height = figure.get_size_inches()
    assert width <= limit[0] + 1e-9 and height <= limit[1] + 1e-9
    assert style.overlapping_titles(figure) == []
    assert style.small_texts(figure) == []
    images, with_bar = style.colour_bar_images(figure)
    assert images == with_bar
    pyplot().close(figure)


def test_the_dense_layer_figure():
    from nnkit.course.dense_walkthrough import dense_forward
    from nnkit.plots.dense_layer import dense_figure

    result = dense_forward(np.array([[1.0, 2.0]]), np.array([[0.1, 0.2, 0.3, 0.4], [0.5, 0.6, 0.7, 0.8]]),
                           np.array([0.1, 0.2, 0.3, 0.4]), "sigmoid")
    figure = dense_figure(result)
    assert figure.get_size_inches()[0] == style.NOTEBOOK[0]
    _in_style(figure, style.NOTEBOOK[:1] + style.SLIDE[1:])


def test_the_batch_modes_figure():
    from nnkit.plots.batch_modes import batch_modes_figure

    history = [{"epoch": e, "loss": 1 / e, "accuracy": 0.5, "val_loss": 1 / e, "val_accuracy": 0.6 + e / 100,
                "seconds": 0.1 * e} for e in range(1, 4)]
    runs = [{"batch_size": size, "mode": mode, "updates_per_epoch": updates, "history": history}
            for size, mode, updates in (("full", "batch learning", 1), (1, "online learning", 1259))]
    figure = batch_modes_figure(runs, "batch modes")
    assert tuple(figure.get_size_inches()) == style.SLIDE
    _in_style(figure)


def test_the_curves_of_activate_and_loss_are_notebook_sized(cli, tmp_path):
    from PIL import Image

    path = tmp_path / "s.png"
    run = cli("activate", "sigmoid", "1", "-2", "3", "--plot", str(path))
    assert run.exit_code == 0, run.stderr
    with Image.open(path) as picture:
        assert picture.size == (round(style.NOTEBOOK[0] * style.DPI), round(style.NOTEBOOK[1] * style.DPI))


def test_the_batch_modes_legend_hides_no_curve():
    from nnkit.plots.batch_modes import batch_modes_figure

    # full batch learning barely learns in 3 epochs: its accuracy runs along the bottom, where the legend was
    def history(accuracy):
        return [{"epoch": e, "loss": 1 / e, "accuracy": accuracy, "val_loss": 1 / e, "val_accuracy": accuracy,
                 "seconds": 0.1 * e} for e in range(1, 4)]

    runs = [{"batch_size": size, "mode": mode, "updates_per_epoch": updates, "history": history(accuracy)}
            for size, mode, updates, accuracy in (("full", "batch learning", 1, 0.15),
                                                  (1, "online learning", 1259, 0.94),
                                                  (32, "mini-batch learning", 40, 0.88))]
    figure = batch_modes_figure(runs, "batch modes")
    assert style.hidden_by_legends(figure) == []
    labels = [text.get_text() for legend in figure.legends for text in legend.get_texts()]
    assert len(labels) == 3 and labels[0].startswith("batch size full")  # one legend lists every run
    _in_style(figure)
