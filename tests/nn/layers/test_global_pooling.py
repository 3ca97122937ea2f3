"""GlobalAveragePooling2D: values, float64 gradients, and every place a layer type must work.

The layer was added by its own module and one entry in the registry's list; these tests show that
``train --layers``, ``summary`` (Keras's names, shapes and counts), saved models, ``predict``,
``export`` (ONNX Runtime's own GlobalAveragePool equal to ``predict`` to 1e-5) and the memory check
all take it without any other change.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from nnkit.cli.layers_grammar import parse_layers, stack_text
from nnkit.errors import NnkitInputError
from nnkit.files.model_file import load_model
from nnkit.nn.layers import LAYER_TYPES, GlobalAveragePooling2D
from nnkit.nn.optimizers import make_optimizer
from nnkit.nn.stack import build_network, stack_footprint, summary
from nnkit.nn.training import fit
from tests.conftest import run_cli

STACK = "conv 4 3 relu, gap, dense 2 softmax"


def test_forward_is_each_channels_mean_and_backward_shares_it_equally():
    x = np.arange(2 * 3 * 2 * 2, dtype=np.float64).reshape(2, 3, 2, 2)
    layer = GlobalAveragePooling2D()
    y = layer.forward(x, training=True)
    # sample 0, channel 0: 0, 2, 4, 6, 8, 10 → 5; channel 1: 1, 3, …, 11 → 6; sample 1 adds 12.
    np.testing.assert_array_equal(y, [[5.0, 6.0], [17.0, 18.0]])
    dx = layer.backward(np.array([[6.0, 12.0], [0.0, -6.0]]))
    assert dx.shape == x.shape
    np.testing.assert_array_equal(dx[0, :, :, 0], np.full((3, 2), 1.0))  # 6 / (3·2)
    np.testing.assert_array_equal(dx[1, :, :, 1], np.full((3, 2), -1.0))
    assert layer.output_shape((26, 26, 32)) == (32,)
    with pytest.raises(NnkitInputError, match="needs images"):
        layer.output_shape((64,))


def _numerical_gradient(net, x, t, param, eps=1e-6):
    grad = np.zeros_like(param)
    for i in np.ndindex(param.shape):
        keep = param[i]
        param[i] = keep + eps
        up = net.loss(x, t)
        param[i] = keep - eps
        down = net.loss(x, t)
        param[i] = keep
        grad[i] = (up - down) / (2 * eps)
    return grad


def test_float64_gradients_match_central_differences():
    specs = parse_layers("conv 3 2 tanh, gap, dense 3 softmax")
    net = build_network(specs, (5, 4, 2), seed=1, dtype=np.float64)
    rng = np.random.default_rng(0)
    x, t = rng.standard_normal((4, 5, 4, 2)), np.array([0, 2, 1, 2])
    net.loss_and_gradients(x, t)
    analytic = [g.copy() for g in net.gradients()]
    for param, grad in zip(net.parameters(), analytic, strict=True):
        np.testing.assert_allclose(grad, _numerical_gradient(net, x, t, param), rtol=1e-6, atol=1e-9)


def _stripes(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Class 0: a bright row anywhere; class 1: a bright column anywhere (position carries no class)."""
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 60, (n, 10, 10), dtype=np.uint8)
    y = (np.arange(n) % 2).astype(np.uint8)
    for i, k in enumerate(y):
        at = rng.integers(0, 10)
        if k == 0:
            x[i, at, :] = 230
        else:
            x[i, :, at] = 230
    return x, y


def test_a_conv_gap_network_learns_where_position_does_not_matter():
    x, y = _stripes(240, seed=3)
    images = (x / 255.0).astype(np.float32)[..., np.newaxis]
    net = build_network(parse_layers(STACK), (10, 10, 1), seed=0)
    adam = make_optimizer("adam", net.parameters(), lr=0.05)
    fit(net, images[:160], y[:160], optimizer=adam, epochs=15, batch_size=16, seed=0)
    assert np.mean(net.predict(images[160:]) == y[160:]) > 0.9  # chance is 0.5


def test_grammar_registry_summary_and_memory_read_it_from_its_own_module():
    specs = parse_layers("conv 32 3 relu, globalaveragepooling2d, dense 10 softmax")
    assert specs[1] == {"type": "global_avgpool2d"} and LAYER_TYPES["global_avgpool2d"] is GlobalAveragePooling2D
    assert stack_text(specs) == "conv 32 3 relu, gap, dense 10 softmax"
    table = summary(specs, (28, 28, 1))
    # Keras: Conv2D(32, 3) 3·3·1·32 + 32 = 320; GlobalAveragePooling2D (None, 32), 0; Dense(10) 32·10 + 10.
    assert [(r["layer"], r["type"], r["output_shape"], r["params"]) for r in table["rows"]] == [
        ("conv2d", "Conv2D", (26, 26, 32), 320),
        ("global_average_pooling2d", "GlobalAveragePooling2D", (32,), 0),
        ("dense", "Dense", (10,), 330),
    ]
    # Memory per sample: conv output 26·26·32 and patches 26·26·9, then 32 means and 10 scores.
    assert stack_footprint(specs, (28, 28, 1)) == (650, 26 * 26 * 32 + 26 * 26 * 9 + 32 + 10)
    with pytest.raises(NnkitInputError, match="needs images"):
        parse_layers("flatten, gap, dense 2")
    with pytest.raises(NnkitInputError, match="too many values for gap"):
        parse_layers("conv 4 3, gap 2, dense 2")


def test_train_summary_predict_and_export_through_the_cli(tmp_path):
    ort = pytest.importorskip("onnxruntime")
    x, y = _stripes(200, seed=5)
    data, model, onnx_file = tmp_path / "stripes.npz", tmp_path / "gap.npz", tmp_path / "gap.onnx"
    np.savez(data, x_train=x[:120], y_train=y[:120], x_test=x[120:], y_test=y[120:])
    run = run_cli("train", "--layers", STACK, "--data", str(data), "--epochs", "3", "--save", str(model), "-f", "json")
    assert run.exit_code == 0, run.stderr
    assert json.loads(run.stdout)["network"]["layers"][2] == {"type": "global_avgpool2d"}

    shown = json.loads(run_cli("summary", str(model), "-f", "json").stdout)
    assert [(r["name"], r["type"], r["output_shape"], r["params"]) for r in shown["layers"]] == [
        ("conv2d", "Conv2D", [8, 8, 4], 40), ("global_average_pooling2d", "GlobalAveragePooling2D", [4], 0),
        ("dense", "Dense", [2], 10)]

    network, _ = load_model(model)
    np.save(tmp_path / "test.npy", x[120:])
    run = run_cli("predict", str(model), str(tmp_path / "test.npy"), "-f", "csv")
    assert run.exit_code == 0, run.stderr
    printed = np.array([[float(v) for v in line.split(",")[1:]] for line in run.stdout.splitlines()[1:]])
    expected = network.predict_proba((x[120:] / 255.0).astype(np.float32)[..., np.newaxis])
    np.testing.assert_allclose(printed, expected, rtol=0, atol=1e-6)

    assert run_cli("export", str(model), str(onnx_file)).exit_code == 0
    session = ort.InferenceSession(str(onnx_file), providers=["CPUExecutionProvider"])
    probabilities, label = session.run(None, {"input": x[120:].astype(np.float32)})
    np.testing.assert_allclose(probabilities, printed, rtol=0, atol=1e-5)
    assert label.tolist() == np.argmax(printed, axis=1).tolist()
    import onnx

    assert "GlobalAveragePool" in {node.op_type for node in onnx.load(str(onnx_file)).graph.node}


def test_the_memory_check_refuses_a_huge_gap_stack_before_building_it(cli):
    run = cli("summary", "--layers", "conv 1000000 30, gap, dense 10", "--input-shape", "2000,2000,3")
    run.assert_input_error("needs")
