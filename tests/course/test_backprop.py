"""One training step written out: every gradient against float64 central differences computed here from
the engine's own loss, against the engine's backward pass, and every update against the engine's optimizer."""

import numpy as np
import pytest

from nnkit.course.backprop import targets_as_rows, train_steps, walk
from nnkit.course.logic_gates import gate_network, truth_table
from nnkit.nn.optimizers import make_optimizer
from nnkit.nn.stack import build_mlp, network_from_weights


def engine_network(weights, activations, output):
    return network_from_weights([a.copy() for pair in weights for a in pair], activations, output)


def engine_central_differences(weights, activations, output, x, t, h=1e-6):
    """(L(w + h) − L(w − h)) / 2h with the engine's Network.loss, one parameter at a time."""
    net = engine_network(weights, activations, output)
    grads = []
    for p in net.parameters():
        g = np.empty_like(p)
        for index in np.ndindex(p.shape):
            kept = p[index]
            p[index] = kept + h
            up = net.loss(x, t)
            p[index] = kept - h
            down = net.loss(x, t)
            p[index] = kept
            g[index] = (up - down) / (2 * h)
        grads.append(g)
    return grads


CASES = [
    # (hidden, activation, output, data)
    ([2], "sigmoid", "sigmoid", "xor"),
    ([3], "tanh", "sigmoid", "xor"),
    ([4, 3], "tanh", "softmax", "three classes"),
    ([3], "relu", "softmax", "three classes"),
    ([], "sigmoid", "sigmoid", "and"),
]


def case(hidden, activation, output, data, seed=0):
    rng = np.random.default_rng(seed)
    if data == "three classes":
        x = rng.normal(size=(7, 3))
        t = np.array([0, 1, 2, 1, 0, 2, 2])
        n_out = 3
    else:
        x, t = truth_table(data)
        n_out = 1
    net = build_mlp(x.shape[1], hidden, n_out, activation, output, dtype=np.float64, rng=seed)
    # relu's kink: keep every hidden z away from 0 so central differences are exact enough
    weights = [(layer.W.copy(), layer.b + 0.05) for layer in net.dense_layers]
    return weights, [activation] * len(hidden), x, t


@pytest.mark.parametrize(("hidden", "activation", "output", "data"), CASES)
def test_every_gradient_equals_the_central_difference_and_the_engines_backward(hidden, activation, output, data):
    weights, activations, x, t = case(hidden, activation, output, data)
    state = walk(weights, activations, output, x, targets_as_rows(t, output, weights[-1][0].shape[1]))
    ours = [g for pair in state["grads"] for g in pair]
    numerical = engine_central_differences(weights, activations, output, x, t)
    for g, n in zip(ours, numerical, strict=True):
        np.testing.assert_allclose(g, n, rtol=1e-6, atol=1e-9)
    net = engine_network(weights, activations, output)
    loss = net.loss_and_gradients(x, t)
    assert state["loss"] == pytest.approx(loss, rel=1e-12)
    for g, e in zip(ours, net.gradients(), strict=True):
        np.testing.assert_allclose(g, e, rtol=1e-10, atol=1e-15)


def test_the_chain_rule_factors_multiply_to_delta():
    weights, activations, x, t = case([3], "tanh", "sigmoid", "xor")
    state = walk(weights, activations, "sigmoid", x, targets_as_rows(t, "sigmoid", 1))
    for dL_dh, derivative, delta in zip(state["dL_dh"], state["derivative"], state["delta"], strict=True):
        np.testing.assert_allclose(dL_dh * derivative, delta, rtol=1e-12)
    # the hidden layer's ∂L/∂h is the output's δ sent back through W2: Σ_k δ_k·W2[j, k]
    np.testing.assert_allclose(state["dL_dh"][0], state["delta"][1] @ weights[1][0].T)
    # tanh'(z) = 1 − tanh(z)²
    np.testing.assert_allclose(state["derivative"][0], 1 - np.tanh(state["zs"][0]) ** 2)


def test_a_single_unit_by_hand():
    # z = 1·2 + 1·2 − 1 = 3, y = σ(3) = 0.95257…, t = 1: δ = y − 1, ∂L/∂w = x·δ, ∂L/∂b = δ
    run = train_steps([(np.array([[2.0], [2.0]]), np.array([-1.0]))], [], "sigmoid", np.array([[1.0, 1.0]]),
                      np.array([1]), "sgd", 0.5, 1)
    y = 1 / (1 + np.exp(-3.0))
    first = run["first"]
    assert first["y"][0, 0] == pytest.approx(y, rel=1e-15)
    assert first["loss"] == pytest.approx(-np.log(y), rel=1e-12)
    np.testing.assert_allclose(first["grads"][0][0], [[y - 1], [y - 1]], rtol=1e-12)
    np.testing.assert_allclose(first["after"][0][0], [[2 - 0.5 * (y - 1)]] * 2, rtol=1e-15)
    np.testing.assert_allclose(first["after"][0][1], [-1 - 0.5 * (y - 1)], rtol=1e-15)


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adagrad", "rmsprop", "adam"])
def test_the_updates_equal_the_engines_optimizer_over_several_steps(optimizer):
    x, t = truth_table("xor")
    net = gate_network(2, "sigmoid", np.random.default_rng(3))
    weights = [(layer.W.copy(), layer.b.copy()) for layer in net.dense_layers]
    run = train_steps(weights, ["sigmoid"], "sigmoid", x, t, optimizer, 0.3, 5)
    # the engine: its network, its backward pass, its optimizer, five steps
    opt = make_optimizer(optimizer, net.parameters(), lr=0.3)
    losses = []
    for _ in range(5):
        losses.append(net.loss_and_gradients(x, t))
        opt.step(net.gradients())
    losses.append(net.loss(x, t))
    for (W, b), layer in zip(run["weights"], net.dense_layers, strict=True):
        np.testing.assert_allclose(W, layer.W, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(b, layer.b, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(run["losses"], losses, rtol=1e-12)


def test_the_caller_weights_are_left_alone():
    W, b = np.array([[1.0], [1.0]]), np.array([0.0])
    train_steps([(W, b)], [], "sigmoid", np.array([[1.0, 0.0]]), np.array([0]), "sgd", 1.0, 3)
    assert W.tolist() == [[1.0], [1.0]] and b.tolist() == [0.0]
