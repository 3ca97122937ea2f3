"""Whole networks: central-difference gradients, losses against SciPy, training behaviour."""

import numpy as np
import pytest
from scipy.special import expit, log_softmax

from nnkit.errors import NnkitInputError
from nnkit.nn.layers import Dense
from nnkit.nn.network import Network
from nnkit.nn.optimizers import make_optimizer
from nnkit.nn.stack import build_mlp, network_from_weights
from nnkit.nn.training import batch_bounds, fit
from tests.nn.test_layers import TOLERANCE, numerical_gradient, relative_error

TRAINER_ACTIVATIONS = ["sigmoid", "tanh", "relu", "leaky-relu", "elu", "gelu", "swish", "softplus"]


def targets(output: str, kind: str, rng, n: int, k: int):
    if output == "softmax" and kind == "indices":
        return rng.integers(0, k, n)
    if output == "softmax":
        return np.eye(k)[rng.integers(0, k, n)]
    return rng.integers(0, 2, (n, k)).astype(float)


@pytest.mark.parametrize("activation", TRAINER_ACTIVATIONS)
@pytest.mark.parametrize(
    ("output", "kind", "k"),
    [("softmax", "indices", 3), ("softmax", "onehot", 3), ("sigmoid", "binary", 1), ("sigmoid", "binary", 2)],
)
def test_network_gradients_match_central_differences(activation, output, kind, k):
    rng = np.random.default_rng(3)
    net = build_mlp(4, [5, 3], k, activation=activation, output=output, dtype=np.float64, rng=4)
    for layer in net.dense_layers:  # nonzero biases, so every term of the gradient is exercised
        layer.b[...] = rng.standard_normal(layer.b.shape) * 0.3
    x = rng.standard_normal((6, 4))
    t = targets(output, kind, rng, 6, k)
    net.loss_and_gradients(x, t)
    analytic = [g.copy() for g in net.gradients()]
    for param, grad in zip(net.parameters(), analytic, strict=True):
        numeric = numerical_gradient(lambda: net.loss(x, t), param)
        assert relative_error(grad, numeric) <= TOLERANCE


def test_single_layer_gradients_match_central_differences():
    rng = np.random.default_rng(5)
    net = build_mlp(3, [], 4, output="softmax", dtype=np.float64, rng=0)
    x, t = rng.standard_normal((5, 3)), rng.integers(0, 4, 5)
    net.loss_and_gradients(x, t)
    W, b = net.parameters()
    dW, db = (g.copy() for g in net.gradients())
    assert relative_error(dW, numerical_gradient(lambda: net.loss(x, t), W)) <= TOLERANCE
    assert relative_error(db, numerical_gradient(lambda: net.loss(x, t), b)) <= TOLERANCE


def test_softmax_cross_entropy_equals_scipy():
    rng = np.random.default_rng(6)
    net = build_mlp(4, [6], 3, activation="tanh", dtype=np.float64, rng=1)
    x, t = rng.standard_normal((7, 4)), rng.integers(0, 3, 7)
    z = net.logits(x)
    expected = -np.mean(log_softmax(z, axis=1)[np.arange(7), t])
    assert net.loss(x, t) == pytest.approx(expected, rel=1e-12)
    assert net.loss(x, np.eye(3)[t]) == pytest.approx(expected, rel=1e-12)
    np.testing.assert_allclose(net.predict_proba(x), np.exp(log_softmax(z, axis=1)), rtol=1e-12)


def test_sigmoid_bce_equals_the_definition_and_is_stable_for_huge_logits():
    net = Network([Dense(np.array([[1.0]]))], "sigmoid")
    x = np.array([[-2.0], [0.5], [3.0]])
    t = np.array([0.0, 1.0, 1.0])
    p = expit(x[:, 0])
    expected = -np.mean(t * np.log(p) + (1 - t) * np.log(1 - p))
    assert net.loss(x, t) == pytest.approx(expected, rel=1e-12)
    # log(1 - sigmoid(1000)) would be -inf; from logits it is exactly 1000.
    assert net.loss(np.array([[1000.0]]), np.array([0.0])) == pytest.approx(1000.0)


def test_course_cross_entropy_number():
    # The course's CCE(y, class 2) = 0.356675 with y = softmax(log y): log-probabilities as logits.
    y = np.array([0.01, 0.03, 0.7, 0.1, 0.01, 0.01, 0.01, 0.02, 0.1, 0.01])
    net = network_from_weights([np.eye(10), np.zeros(10)], [], "softmax")
    assert net.loss(np.log(y)[None, :], np.array([2])) == pytest.approx(0.356675, abs=1e-6)


def test_build_mlp_uses_he_for_relu_and_glorot_for_tanh():
    wide = build_mlp(1000, [400], 10, activation="relu", rng=0)
    assert wide.dense_layers[0].W.std() == pytest.approx(np.sqrt(2 / 1000), rel=0.02)
    limit = np.sqrt(6 / 1400)
    glorot = build_mlp(1000, [400], 10, activation="tanh", rng=0).dense_layers[0].W
    assert np.abs(glorot).max() <= limit and np.abs(glorot).max() > 0.99 * limit
    assert wide.dtype == np.float32
    assert all(np.all(layer.b == 0) for layer in wide.dense_layers)


def test_batch_bounds_cover_every_sample_once():
    assert batch_bounds(10, 1) == [(i, i + 1) for i in range(10)]
    assert batch_bounds(10, 4) == [(0, 4), (4, 8), (8, 10)]
    assert batch_bounds(10, None) == [(0, 10)]
    assert batch_bounds(3, 100) == [(0, 3)]
    with pytest.raises(NnkitInputError, match="--batch-size"):
        batch_bounds(3, 0)


def _blobs(seed=0, n=120):
    rng = np.random.default_rng(seed)
    t = rng.integers(0, 3, n)
    centres = np.array([[2.0, 0.0], [-2.0, 1.0], [0.0, -2.5]])
    return (centres[t] + rng.standard_normal((n, 2)) * 0.6).astype(np.float32), t


def test_full_batch_epoch_is_one_step_on_the_whole_set():
    x, t = _blobs()
    net = build_mlp(2, [4], 3, activation="tanh", rng=0)
    twin = build_mlp(2, [4], 3, activation="tanh", rng=0)
    fit(net, x, t, optimizer=make_optimizer("sgd", net.parameters(), lr=0.5), epochs=1)
    twin.loss_and_gradients(x, t)
    for p, g in zip(twin.parameters(), twin.gradients(), strict=True):
        p -= 0.5 * g
    for a, b in zip(net.parameters(), twin.parameters(), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-6)


@pytest.mark.parametrize("batch_size", [None, 1, 16])
def test_training_learns_and_same_seed_gives_identical_weights(batch_size):
    x, t = _blobs()
    runs = []
    for _ in range(2):
        net = build_mlp(2, [8], 3, activation="relu", rng=1)
        opt = make_optimizer("adam", net.parameters(), lr=0.02 if batch_size else 0.05)
        history = fit(net, x, t, optimizer=opt, epochs=20 if batch_size else 200, batch_size=batch_size, seed=7)
        runs.append((net.get_weights(), history))
    for a, b in zip(runs[0][0], runs[1][0], strict=True):
        np.testing.assert_array_equal(a, b)
    history = runs[0][1]
    assert history[-1]["loss"] < history[0]["loss"]
    assert history[-1]["accuracy"] > 0.9
    assert all(w.dtype == np.float32 for w in runs[0][0])


def test_different_seeds_shuffle_differently():
    x, t = _blobs()
    weights = []
    for seed in (1, 2):
        net = build_mlp(2, [8], 3, rng=1)
        fit(net, x, t, optimizer="sgd", epochs=2, batch_size=8, seed=seed)
        weights.append(net.get_weights()[0])
    assert not np.array_equal(*weights)


def test_validation_and_early_stopping_restore_the_best_weights():
    x, t = _blobs(n=200)
    net = build_mlp(2, [16], 3, rng=0)
    kept = {}

    def remember(row):
        kept[row["epoch"]] = net.get_weights()

    history = fit(net, x[:100], t[:100], optimizer=make_optimizer("adam", net.parameters(), lr=0.05), epochs=60,
                  batch_size=10, x_val=x[100:], t_val=t[100:], early_stopping=3, on_epoch=remember)
    val = [row["val_loss"] for row in history]
    best = int(np.argmin(val)) + 1
    assert history.best_epoch == best
    assert history.stopped_early == (len(history) < 60)
    for a, b in zip(net.get_weights(), kept[best], strict=True):
        np.testing.assert_array_equal(a, b)
    loss, accuracy = net.evaluate(x[100:], t[100:])
    assert loss == pytest.approx(min(val), rel=1e-5)
    assert 0 <= accuracy <= 1 and all(row["seconds"] >= 0 for row in history)


def test_ctrl_c_ends_training_cleanly_with_the_epochs_done():
    x, t = _blobs()
    net = build_mlp(2, [4], 3, rng=0)

    def interrupt(row):
        if row["epoch"] == 3:
            raise KeyboardInterrupt

    history = fit(net, x, t, optimizer="adam", epochs=10, on_epoch=interrupt)
    assert history.interrupted and [row["epoch"] for row in history] == [1, 2, 3]


def test_ctrl_c_inside_an_epoch_keeps_the_weights_of_the_last_completed_one(monkeypatch):
    x, t = _blobs()
    net = build_mlp(2, [4], 3, rng=0)
    after_epoch = {}
    steps = []
    real_train_batch = net.train_batch

    def train_batch_then_ctrl_c(xb, tb):
        steps.append(1)
        if len(steps) == 2 * 4 + 3:  # the third batch of epoch 3 (4 batches per epoch)
            raise KeyboardInterrupt
        return real_train_batch(xb, tb)

    monkeypatch.setattr(net, "train_batch", train_batch_then_ctrl_c)
    history = fit(net, x, t, optimizer="adam", epochs=10, batch_size=len(x) // 4,
                  on_epoch=lambda row: after_epoch.update({row["epoch"]: net.get_weights()}))
    assert history.interrupted and [row["epoch"] for row in history] == [1, 2]
    for a, b in zip(net.get_weights(), after_epoch[2], strict=True):
        np.testing.assert_array_equal(a, b)


def test_divergence_is_reported_not_a_warning():
    x, t = _blobs()
    x = x * 1e30
    net = build_mlp(2, [4], 3, rng=0)
    with pytest.raises(NnkitInputError, match="diverged"):
        fit(net, x, t, optimizer=make_optimizer("sgd", net.parameters(), lr=1e30), epochs=5)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda net: net.predict(np.ones((2, 3))), "takes 2 input"),
        (lambda net: net.loss(np.ones((2, 2)), np.array([0, 5])), "0..2"),
        (lambda net: net.loss(np.ones((2, 2)), np.array([0.5, 1.0])), "integers"),
        (lambda net: fit(net, np.ones((2, 2)), np.array([0, 1]), optimizer="sgd", epochs=0), "--epochs"),
        (lambda net: fit(net, np.ones((2, 2)), np.array([0]), optimizer="sgd", epochs=1), "targets"),
        (lambda net: build_mlp(2, [0], 3), "--hidden"),
    ],
)
def test_bad_input_is_an_input_error(call, message):
    with pytest.raises(NnkitInputError, match=message):
        call(build_mlp(2, [3], 3, rng=0))
