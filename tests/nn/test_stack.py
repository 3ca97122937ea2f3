"""Layer specs → layers: the chapter's two models (shapes, 101 770 / 104 202), init, configs, errors."""

import json

import numpy as np
import pytest

from nnkit.errors import NnkitInputError
from nnkit.nn.layers import LAYER_TYPES, Activation, Conv2D, Dense, Dropout
from nnkit.nn.network import Network
from nnkit.nn.optimizers import make_optimizer
from nnkit.nn.stack import (
    build_layers,
    build_mlp,
    build_network,
    layers_from_config,
    output_activation,
    summary,
)
from nnkit.nn.training import fit

COURSE_MLP = [
    {"type": "flatten"},
    {"type": "dense", "units": 128, "activation": "relu"},
    {"type": "dropout", "rate": 0.2},
    {"type": "dense", "units": 10, "activation": "softmax"},
]
COURSE_CNN = [
    {"type": "conv2d", "filters": 32, "kernel": 3, "activation": "relu"},
    {"type": "maxpool2d", "size": 2},
    {"type": "conv2d", "filters": 64, "kernel": 3, "activation": "relu"},
    {"type": "maxpool2d", "size": 2},
    {"type": "conv2d", "filters": 128, "kernel": 3, "activation": "relu"},
    {"type": "flatten"},
    {"type": "dense", "units": 10, "activation": "softmax"},
]


def test_course_cnn_summary_is_the_chapters_table():
    table = summary(COURSE_CNN, (28, 28, 1))
    rows = [(r["layer"], r["output_shape"], r["params"]) for r in table["rows"]]
    assert rows == [
        ("conv2d", (26, 26, 32), 320),            # 3·3·1·32 + 32
        ("max_pooling2d", (13, 13, 32), 0),
        ("conv2d", (11, 11, 64), 18_496),         # 3·3·32·64 + 64
        ("max_pooling2d", (5, 5, 64), 0),         # 11 → 5: the partial window is dropped
        ("conv2d", (3, 3, 128), 73_856),          # 3·3·64·128 + 128
        ("flatten", (1152,), 0),
        ("dense", (10,), 11_530),                 # 1152·10 + 10
    ]
    assert [r["activation"] for r in table["rows"]] == ["relu", None, "relu", None, "relu", None,
                                                        "softmax"]
    assert table["total_params"] == 104_202


def test_course_mlp_summary_is_the_chapters_table():
    table = summary(COURSE_MLP, (28, 28, 1))
    rows = [(r["layer"], r["output_shape"], r["params"]) for r in table["rows"]]
    assert rows == [("flatten", (784,), 0), ("dense", (128,), 100_480), ("dropout", (128,), 0),
                    ("dense", (10,), 1_290)]
    assert table["total_params"] == 101_770
    # a built network's layers give the same table (the activations folded into their rows)
    net = build_network(COURSE_MLP, (28, 28, 1), seed=0)
    assert summary(net.layers, (28, 28, 1))["total_params"] == 101_770


def test_same_padding_and_stride_in_the_summary():
    specs = [{"type": "conv2d", "filters": 8, "kernel": 5, "stride": 2, "padding": "same"},
             {"type": "maxpool2d", "size": 3, "stride": 2, "op": "mean"}, {"type": "flatten"},
             {"type": "dense", "units": 1, "activation": "sigmoid"}]
    rows = summary(specs, (29, 30, 3))["rows"]
    assert [r["output_shape"] for r in rows] == [(15, 15, 8), (7, 7, 8), (392,), (1,)]
    assert rows[1]["layer"] == "average_pooling2d"
    assert rows[0]["params"] == 5 * 5 * 3 * 8 + 8


def test_keras_init_is_glorot_uniform_with_zero_biases():
    layers = build_layers(COURSE_CNN, (28, 28, 1), seed=0, init="keras")
    convs = [layer for layer in layers if isinstance(layer, Conv2D | Dense)]
    for layer in convs:
        W = layer.W
        if W.ndim == 4:
            kh, kw, c_in, c_out = W.shape
            fan_in, fan_out = kh * kw * c_in, kh * kw * c_out  # Keras's fans for conv kernels
        else:
            fan_in, fan_out = W.shape
        limit = np.sqrt(6 / (fan_in + fan_out))
        assert W.dtype == np.float32
        assert np.abs(W).max() <= limit
        assert abs(float(W.std()) - limit / np.sqrt(3)) < 0.1 * limit  # uniform's std
        assert not layer.b.any()
    assert [type(layer) for layer in layers].count(Activation) == 3  # the softmax is fused


def test_auto_init_reproduces_build_mlp_weights_for_the_same_seed():
    specs = [{"type": "dense", "units": 16, "activation": "relu"},
             {"type": "dense", "units": 8, "activation": "tanh"},
             {"type": "dense", "units": 3, "activation": "softmax"}]
    net = build_network(specs, (5,), seed=11, init="auto")
    old = build_mlp(5, [16, 8], 3, activation=["relu", "tanh"], rng=11)
    for a, b in zip(net.get_weights(), old.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    assert net.activations == ["relu", "tanh"] and net.sizes == [5, 16, 8, 3]


def test_configs_round_trip_through_json_and_predict_the_same():
    net = build_network(COURSE_CNN, (28, 28, 1), seed=3)
    configs = json.loads(json.dumps(net.configs()))
    again = Network(layers_from_config(configs, net.get_weights()), output="softmax",
                    input_shape=(28, 28, 1))
    x = np.random.default_rng(0).random((4, 28, 28, 1), dtype=np.float32)
    np.testing.assert_array_equal(again.logits(x), net.logits(x))
    assert [type(a) for a in again.layers] == [type(b) for b in net.layers]


@pytest.mark.parametrize(
    ("configs", "weights", "message"),
    [
        ([{"type": "conv3d"}], [], "unknown type"),
        (["dense"], [], "unknown type"),
        ([{"type": "dense", "units": 2}], [], "has no weights"),
        ([{"type": "dense", "units": 3}], [np.ones((4, 2)), np.zeros(2)], "do not match"),
        ([{"type": "dense", "units": 2}], [np.ones((4, 2)), np.zeros(2), np.ones(1)],
         "use 2 weight arrays, the file has 3"),
        ([{"type": "conv2d", "filters": 2, "kernel": [3, 3], "stride": 1, "padding": "valid"},
          {"type": "flatten"}, {"type": "dense", "units": 2}],
         [np.ones((2, 2, 1, 2)), np.zeros(2), np.ones((8, 2)), np.zeros(2)], "do not match"),
        ([{"type": "maxpool2d", "size": "two"}], [], "layer 1 (maxpool2d)"),
        ([{"type": "activation", "name": "softmax"}], [], "name must be one of relu"),
        ([], [], "empty"),
    ],
)
def test_a_damaged_layer_list_is_an_input_error(configs, weights, message):
    with pytest.raises(NnkitInputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        layers_from_config(configs, weights)


@pytest.mark.parametrize(
    ("specs", "shape", "message"),
    [
        ([{"type": "conv"}], (8, 8, 1), "unknown layer type 'conv'"),
        ([{"type": "conv2d", "kernel": 3}], (8, 8, 1), "layer 1 (conv2d) needs its filters"),
        ([{"type": "dense"}], (4,), "needs its units"),
        ([{"type": "conv2d", "filters": 4, "kernel": 3, "size": 2}], (8, 8, 1), "no setting 'size'"),
        ([{"type": "conv2d", "filters": 4, "kernel": 3, "padding": "full"}], (8, 8, 1),
         "padding must be one of valid, same, not 'full'"),
        ([{"type": "conv2d", "filters": 0, "kernel": 3}], (8, 8, 1), "filters must be an integer (a whole number) from 1 to 1000000, not 0"),
        ([{"type": "conv2d", "filters": 2.5, "kernel": 3}], (8, 8, 1), "whole number"),
        ([{"type": "conv2d", "filters": 4, "kernel": 3}], (13,), "needs images"),
        ([{"type": "maxpool2d"}], (13,), "needs images"),
        ([{"type": "dense", "units": 3}], (8, 8, 1), "layer 1 (dense): dense needs flat inputs (one row of values per sample), got inputs of shape 8×8×1"),
        ([{"type": "dense", "units": 3, "activation": "softmax"}, {"type": "dense", "units": 2}],
         (4,), "softmax can only be the last layer's activation"),
        ([{"type": "dense", "units": 3, "activation": "relux"}], (4,), "unknown activation 'relux'"),
        ([{"type": "dropout", "rate": 1.5}], (4,), "rate must be"),
        ([{"type": "maxpool2d", "size": 2, "op": "median"}], (8, 8, 1), "op must be one of max, mean, not 'median'"),
        ([], (4,), "at least one layer"),
    ],
)
def test_bad_specs_are_input_errors_naming_the_layer(specs, shape, message):
    with pytest.raises(NnkitInputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        build_layers(specs, shape)


def test_a_stack_shrinking_below_one_pixel_names_the_layer_and_the_shapes():
    specs = [*COURSE_CNN[:4], {"type": "maxpool2d", "size": 2}, *COURSE_CNN[4:]]
    with pytest.raises(NnkitInputError) as err:
        build_layers(specs, (28, 28, 1))
    assert err.value.message == ("layer 6 (conv2d): conv2d with a 3×3 kernel does not fit its "
                                 "2×2×64 input (valid padding would leave 0×0)")


def test_output_activation_needs_a_final_dense_softmax_or_sigmoid():
    assert output_activation(COURSE_CNN) == "softmax"
    with pytest.raises(NnkitInputError, match="last layer must be dense"):
        output_activation(COURSE_CNN[:-1])
    with pytest.raises(NnkitInputError, match="last layer must be dense"):
        output_activation([{"type": "dense", "units": 10, "activation": "relu"}])


def test_every_layer_type_documents_its_settings():
    for name, layer_type in LAYER_TYPES.items():
        assert layer_type.type_name == name and layer_type.description and layer_type.keras_class
        for setting in layer_type.settings:
            assert setting.meaning


def test_dropout_layers_are_seeded_from_the_network_seed():
    a = build_layers(COURSE_MLP, (28, 28, 1), seed=5)[3]
    b = build_layers(COURSE_MLP, (28, 28, 1), seed=5)[3]
    assert isinstance(a, Dropout)
    x = np.ones((4, 128), dtype=np.float32)
    np.testing.assert_array_equal(a.forward(x, training=True), b.forward(x, training=True))


def test_a_small_cnn_learns_the_bundled_digits():
    from nnkit.data.labelled import load_digits

    images, y = load_digits().parts["train"]
    x = (images.astype(np.float32) / 16.0)[..., np.newaxis]
    specs = [{"type": "conv2d", "filters": 8, "kernel": 3, "activation": "relu"},
             {"type": "maxpool2d", "size": 2}, {"type": "flatten"},
             {"type": "dense", "units": 10, "activation": "softmax"}]
    net = build_network(specs, (8, 8, 1), seed=0, init="keras")
    adam = make_optimizer("adam", net.parameters(), lr=0.01)
    history = fit(net, x[:1400], y[:1400], optimizer=adam, epochs=10, batch_size=32, seed=0,
                  x_val=x[1400:], t_val=y[1400:])
    assert history[-1]["val_accuracy"] > 0.85  # chance is 0.1; the last 397 digits are held out
    assert history[-1]["loss"] < history[0]["loss"]
