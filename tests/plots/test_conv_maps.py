"""Filters and feature-map figures: the drawn values are the layers' real weights and outputs."""

import numpy as np
import pytest
from scipy.signal import correlate2d

from nnkit.nn.stack import build_network
from nnkit.plots.conv_maps import (
    DEFAULT_MAPS,
    conv_plot_extras,
    conv_stages,
    features_figure,
    write_features_plot,
)
from nnkit.plots.training_run import write_training_plot

SPECS = [
    {"type": "conv2d", "filters": 4, "kernel": 3, "activation": "relu"},
    {"type": "maxpool2d", "size": 2},
    {"type": "conv2d", "filters": 40, "kernel": 3},  # no activation: signed maps
    {"type": "flatten"},
    {"type": "dense", "units": 3, "activation": "softmax"},
]


@pytest.fixture(scope="module")
def network():
    return build_network(SPECS, (12, 10, 1), seed=3, init="keras", dtype=np.float64)


@pytest.fixture(scope="module")
def image():
    return np.random.default_rng(0).random((12, 10, 1))


def test_stages_are_each_conv_layers_output_after_its_activation(network, image):
    first, second = conv_stages(network.layers, image)
    assert (first.name, first.activation, second.name, second.activation) == ("conv2d", "relu", "conv2d_1", None)
    conv = network.layers[0]
    for k in range(4):
        expected = np.maximum(correlate2d(image[:, :, 0], conv.W[:, :, 0, k], mode="valid") + conv.b[k], 0)
        np.testing.assert_allclose(first.maps[:, :, k], expected, atol=1e-12)
    assert first.maps.shape == (10, 8, 4) and second.maps.shape == (3, 2, 40)
    assert second.maps.min() < 0  # a linear conv layer's maps keep their sign
    assert first.describe() == "conv2d: 4 filters 3×3, relu → 10×8×4"


def _bands(figure):
    return list(figure.subfigs)


def _tiles(subfigure, shape):
    """The tiles drawn in a band, cut out of its one mosaic image at the labels' places."""
    (axis,) = [a for a in subfigure.axes if a.images]
    picture = axis.images[0].get_array().filled(np.nan)
    tiles = {}
    for text in axis.texts:
        col = round(text.get_position()[0] - (shape[1] - 1) / 2)
        row = round(text.get_position()[1] + 0.6)
        tiles[int(text.get_text().lstrip("#"))] = picture[row : row + shape[0], col : col + shape[1]]
    return axis.images[0], tiles


def test_features_figure_draws_the_weights_and_maps_on_one_scale_per_layer(network, image):
    stages = conv_stages(network.layers, image)
    proba = network.forward(image[np.newaxis])[0]
    figure = features_figure(network.layers, image, proba, [0, 1, 2], "a title")
    top, filters, maps1, maps2 = _bands(figure)
    # The filters: each tile is that filter's 3×3 weights, on one symmetric scale around 0.
    image, tiles = _tiles(filters, (3, 3))
    W = network.layers[0].W
    assert sorted(tiles) == [0, 1, 2, 3]
    for k, tile in tiles.items():
        np.testing.assert_array_equal(tile, W[:, :, 0, k])
    assert image.get_interpolation() == "nearest"
    limit = np.abs(W).max()
    assert (image.norm.vmin, image.norm.vmax) == (-limit, limit)
    assert "the 4 filters of conv2d (3×3 weights each)" in filters._suptitle.get_text()
    # The first layer's maps: all 4, in filter order, on 0..max of the layer.
    image, tiles = _tiles(maps1, (10, 8))
    for k in range(4):
        np.testing.assert_array_equal(tiles[k], stages[0].maps[:, :, k])
    assert (image.norm.vmin, image.norm.vmax) == (0.0, stages[0].maps.max())
    # 40 maps: the DEFAULT_MAPS strongest by mean, in channel order, each labelled with its channel.
    image, tiles = _tiles(maps2, (3, 2))
    means = stages[1].maps.reshape(-1, 40).mean(axis=0)
    assert sorted(tiles) == sorted(np.argsort(-means)[:DEFAULT_MAPS].tolist())
    for k, tile in tiles.items():
        np.testing.assert_array_equal(tile, stages[1].maps[:, :, k])
    assert f"the {DEFAULT_MAPS} most active of 40 maps" in maps2._suptitle.get_text()
    assert image.norm.vmin == -np.abs(stages[1].maps).max()  # signed: red–blue around 0
    # No axes and ticks around the tiles.
    assert not any(axis.axison for band in (filters, maps1, maps2) for axis in band.axes if axis.images)
    # The input and the probabilities, with the prediction named.
    assert "prediction: " + str(int(np.argmax(proba))) in top.axes[-1].get_title()
    import matplotlib.pyplot as plt

    plt.close(figure)


def test_an_mlp_gets_the_input_and_the_probabilities_only():
    net = build_network([{"type": "dense", "units": 3, "activation": "softmax"}], (64,), seed=0)
    x = np.linspace(0, 1, 64).reshape(8, 8)
    figure = features_figure(net.layers, x, np.array([0.2, 0.5, 0.3]), ["a", "b", "c"], "t")
    assert len(figure.subfigs) == 1
    np.testing.assert_array_equal(figure.subfigs[0].axes[0].images[0].get_array(), x)
    import matplotlib.pyplot as plt

    plt.close(figure)


def test_the_prepared_picture_is_shown_beside_the_input(network, image, tmp_path):
    original = np.ones((50, 40))
    figure = features_figure(
        network.layers, image, np.array([0.1, 0.2, 0.7]), [0, 1, 2], "t", original=original, prepared="inverted"
    )
    top = figure.subfigs[0].axes
    assert top[0].get_title() == "your picture (50×40)" and "inverted" in top[1].get_xlabel()
    import matplotlib.pyplot as plt

    plt.close(figure)
    path = tmp_path / "f.png"
    write_features_plot(path, network.layers, image, np.array([0.1, 0.2, 0.7]), [0, 1, 2], "t")
    assert path.read_bytes()[:4] == b"\x89PNG"


def test_training_plot_shows_a_misclassified_test_image_beside_a_correct_one(network, monkeypatch):
    import nnkit.plots.training_run
    from nnkit.plots import style

    drawn = []
    monkeypatch.setattr(nnkit.plots.training_run, "save_figure", lambda figure, path, env: drawn.append(figure))
    rng = np.random.default_rng(1)
    xs = {"train": rng.random((5, 12, 10, 1)), "test": rng.random((4, 12, 10, 1))}
    predicted = network.forward(xs["test"]).argmax(axis=1)
    # image 0 right, images 1 and 3 wrong: the first wrong one (1) is drawn beside the first right one (0)
    labels = predicted.copy()
    labels[1], labels[3] = (predicted[1] + 1) % 3, (predicted[3] + 2) % 3
    ys = {"train": np.zeros(5, int), "test": labels}
    extras = conv_plot_extras(network, xs, ys, ["a", "b", "c"])
    names = "abc"
    assert extras["example_caption"] == f"✗ wrong: test image 1\ntrue {names[labels[1]]}, predicted {names[predicted[1]]}"
    assert extras["contrast_caption"] == f"✓ right: test image 0\ntrue {names[labels[0]]}, predicted {names[predicted[0]]}"
    history = [{"epoch": 1, "loss": 1.0, "accuracy": 0.5, "val_loss": None, "val_accuracy": None}]
    write_training_plot("run.png", history, np.eye(3, dtype=int), ["a", "b", "c"], "run", maps=3, **extras)
    (figure,) = drawn
    curves, filters, maps1, maps2 = figure.subfigs
    assert [a.get_title() for a in curves.axes[:3]] == ["loss per epoch", "accuracy per epoch", "confusion matrix (test)"]
    wrong, right = filters.subfigs[0].axes
    np.testing.assert_array_equal(wrong.images[0].get_array(), xs["test"][1][:, :, 0])
    np.testing.assert_array_equal(right.images[0].get_array(), xs["test"][0][:, :, 0])
    assert wrong.get_title().startswith("✗ wrong: test image 1") and right.get_title().startswith("✓ right")
    # each conv layer: the same 3 most active maps (of the wrong image) for both images, one scale
    first, second = conv_stages(network.layers, xs["test"][1]), conv_stages(network.layers, xs["test"][0])
    for band, k in ((maps1, 0), (maps2, 1)):
        (axis,) = [a for a in band.axes if a.images]
        chosen = np.sort(np.argsort(-first[k].maps.reshape(-1, first[k].maps.shape[2]).mean(axis=0), kind="stable")[:3])
        labels_drawn = [t.get_text() for t in axis.texts if t.get_text().startswith("#")]
        assert labels_drawn == [f"#{c}" for c in chosen] * 2
        captions = [t.get_text() for t in axis.texts if not t.get_text().startswith("#")]
        assert captions[0].startswith("✗ wrong: test image 1, true") and captions[1].startswith("✓ right: test image 0")
        picture = axis.images[0].get_array().filled(np.nan)
        h, w = first[k].maps.shape[:2]
        np.testing.assert_array_equal(picture[:h, :w], first[k].maps[:, :, chosen[0]])
        everything = np.concatenate([first[k].maps[..., chosen].ravel(), second[k].maps[..., chosen].ravel()])
        assert axis.images[0].norm.vmax == np.abs(everything).max()
    assert "3 of the 4 filters" in filters.subfigs[1]._suptitle.get_text()
    width, height = figure.get_size_inches()
    assert width == style.SLIDE[0] and height <= style.SLIDE[1]
    assert style.overlapping_titles(figure) == [] and style.small_texts(figure) == []
    import matplotlib.pyplot as plt

    plt.close(figure)


def test_a_model_that_gets_every_image_right_shows_one():
    net = build_network([*SPECS[:1], {"type": "flatten"}, {"type": "dense", "units": 3, "activation": "softmax"}],
                        (12, 10, 1), seed=3, dtype=np.float64)
    x = np.random.default_rng(4).random((3, 12, 10, 1))
    extras = conv_plot_extras(net, {"test": x}, {"test": net.forward(x).argmax(axis=1)}, [0, 1, 2])
    assert extras["contrast"] is None and extras["example_caption"].startswith("✓ right: test image 0")


def test_an_mlp_run_has_no_extras_and_keeps_todays_figure(monkeypatch):
    import nnkit.plots.training_run

    drawn = []
    monkeypatch.setattr(nnkit.plots.training_run, "save_figure", lambda figure, path, env: drawn.append(figure))
    net = build_network([{"type": "dense", "units": 3, "activation": "softmax"}], (4,), seed=0)
    extras = conv_plot_extras(net, {"test": np.zeros((2, 4))}, {"test": np.zeros(2, int)}, [0, 1, 2])
    assert extras == {}
    history = [{"epoch": 1, "loss": 1.0, "accuracy": 0.5, "val_loss": None, "val_accuracy": None}]
    write_training_plot("run.png", history, None, [0, 1, 2], "run", **extras)
    assert not drawn[0].subfigs and len(drawn[0].axes) == 2
    import matplotlib.pyplot as plt

    plt.close(drawn[0])


def test_a_one_epoch_run_has_one_whole_epoch_tick():
    import matplotlib.pyplot as plt

    from nnkit.plots.training_run import training_figure

    figure = training_figure([{"epoch": 1, "loss": 1.0, "accuracy": 0.5, "val_loss": 0.9, "val_accuracy": 0.6}])
    figure.canvas.draw()
    assert [t.get_text() for t in figure.axes[0].get_xticklabels()] == ["1"]
    plt.close(figure)


def test_colour_filters_show_each_input_channel_side_by_side():
    import matplotlib.pyplot as plt

    net = build_network(
        [
            {"type": "conv2d", "filters": 5, "kernel": 3},
            {"type": "flatten"},
            {"type": "dense", "units": 2, "activation": "softmax"},
        ],
        (6, 6, 3),
        seed=1,
        dtype=np.float64,
    )
    image = np.random.default_rng(2).random((6, 6, 3))
    figure = features_figure(net.layers, image, np.array([0.4, 0.6]), ["a", "b"], "rgb")
    _, tiles = _tiles(figure.subfigs[1], (3, 3 * 3 + 2))
    W = net.layers[0].W
    for k, tile in tiles.items():
        for c in range(3):
            np.testing.assert_array_equal(tile[:, 4 * c : 4 * c + 3], W[:, :, c, k])
        assert np.isnan(tile[:, [3, 7]]).all()  # one blank column between channels
    frames = [p for p in figure.subfigs[1].axes[0].patches]
    assert len(frames) == 5 * 3  # each channel of each filter framed
    plt.close(figure)
