"""Each optimiser's first two steps against the torch.optim formulas, written out by hand here."""

import math

import numpy as np
import pytest

from nnkit.errors import NnkitInputError
from nnkit.nn.optimizers import OPTIMIZERS, make_optimizer

P0 = np.array([1.0, -2.0, 0.5])
G1 = np.array([0.3, -0.1, 2.0])
G2 = np.array([-0.2, 0.4, 1.0])


def two_steps(name, lr, weight_decay=0.0, dtype=np.float64):
    p = P0.astype(dtype)
    opt = make_optimizer(name, [p], lr=lr, weight_decay=weight_decay)
    opt.step([G1.astype(dtype)])
    after_one = p.copy()
    opt.step([G2.astype(dtype)])
    return after_one, p


def test_sgd():
    lr = 0.1
    p1 = P0 - lr * G1
    p2 = p1 - lr * G2
    one, two = two_steps("sgd", lr)
    np.testing.assert_allclose(one, p1, rtol=1e-15)
    np.testing.assert_allclose(two, p2, rtol=1e-15)


def test_momentum_first_buffer_is_the_gradient():
    lr, mu = 0.1, 0.9
    v1 = G1  # torch: buf = clone(g) on the first step
    p1 = P0 - lr * v1
    v2 = mu * v1 + G2  # dampening 0
    p2 = p1 - lr * v2
    one, two = two_steps("momentum", lr)
    np.testing.assert_allclose(one, p1, rtol=1e-15)
    np.testing.assert_allclose(two, p2, rtol=1e-15)


def test_adagrad():
    lr, eps = 0.1, 1e-10
    s1 = G1**2
    p1 = P0 - lr * G1 / (np.sqrt(s1) + eps)
    s2 = s1 + G2**2
    p2 = p1 - lr * G2 / (np.sqrt(s2) + eps)
    one, two = two_steps("adagrad", lr)
    np.testing.assert_allclose(one, p1, rtol=1e-14)
    np.testing.assert_allclose(two, p2, rtol=1e-14)


def test_rmsprop():
    lr, alpha, eps = 0.01, 0.99, 1e-8
    s1 = (1 - alpha) * G1**2
    p1 = P0 - lr * G1 / (np.sqrt(s1) + eps)
    s2 = alpha * s1 + (1 - alpha) * G2**2
    p2 = p1 - lr * G2 / (np.sqrt(s2) + eps)
    one, two = two_steps("rmsprop", lr)
    np.testing.assert_allclose(one, p1, rtol=1e-14)
    np.testing.assert_allclose(two, p2, rtol=1e-14)


def test_rmsprop_keras_puts_eps_inside_the_square_root():
    # keras/src/optimizers/rmsprop.py: velocity = rho·v + (1 − rho)·g², p −= lr·g / sqrt(v + eps).
    lr, rho, eps = 0.01, 0.9, 1e-7
    s1 = (1 - rho) * G1**2
    p1 = P0 - lr * G1 / np.sqrt(s1 + eps)
    s2 = rho * s1 + (1 - rho) * G2**2
    p2 = p1 - lr * G2 / np.sqrt(s2 + eps)
    one, two = two_steps("rmsprop-keras", lr)
    np.testing.assert_allclose(one, p1, rtol=1e-14)
    np.testing.assert_allclose(two, p2, rtol=1e-14)
    # torch's rule (√s + ε) differs measurably for a tiny gradient, where ε dominates.
    p = np.array([0.0])
    make_optimizer("rmsprop-keras", [p], lr=1.0).step([np.array([1e-4])])
    assert p[0] == pytest.approx(-1e-4 / math.sqrt(0.1 * 1e-8 + 1e-7), rel=1e-12)  # ≈ −0.3015, not −3.16


def test_adam_with_torch_bias_correction():
    lr, b1, b2, eps = 0.001, 0.9, 0.999, 1e-8
    m1 = (1 - b1) * G1
    v1 = (1 - b2) * G1**2
    p1 = P0 - lr / (1 - b1) * m1 / (np.sqrt(v1) / math.sqrt(1 - b2) + eps)
    m2 = b1 * m1 + (1 - b1) * G2
    v2 = b2 * v1 + (1 - b2) * G2**2
    p2 = p1 - lr / (1 - b1**2) * m2 / (np.sqrt(v2) / math.sqrt(1 - b2**2) + eps)
    one, two = two_steps("adam", lr)
    np.testing.assert_allclose(one, p1, rtol=1e-14)
    np.testing.assert_allclose(two, p2, rtol=1e-14)
    # The first Adam step moves every weight by almost exactly lr, whatever the gradient's size.
    np.testing.assert_allclose(np.abs(one - P0), lr, rtol=1e-6)


def test_weight_decay_is_added_to_the_gradient_as_torch_does():
    lr, wd, mu = 0.1, 0.01, 0.9
    g1 = G1 + wd * P0
    p1 = P0 - lr * g1
    g2 = G2 + wd * p1
    p2 = p1 - lr * (mu * g1 + g2)
    one, two = two_steps("momentum", lr, weight_decay=wd)
    np.testing.assert_allclose(one, p1, rtol=1e-15)
    np.testing.assert_allclose(two, p2, rtol=1e-15)


def test_weight_decay_leaves_the_callers_gradient_alone():
    g = G1.copy()
    make_optimizer("sgd", [P0.copy()], lr=0.1, weight_decay=0.5).step([g])
    np.testing.assert_array_equal(g, G1)


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_float32_parameters_and_state_stay_float32(name):
    _, two = two_steps(name, None, weight_decay=1e-4, dtype=np.float32)
    assert two.dtype == np.float32
    reference = two_steps(name, None, weight_decay=1e-4)[1]
    np.testing.assert_allclose(two, reference, rtol=1e-5, atol=1e-6)


def test_registry_names_and_defaults():
    assert list(OPTIMIZERS) == ["sgd", "momentum", "adagrad", "rmsprop", "rmsprop-keras", "adam"]
    keras = OPTIMIZERS["rmsprop-keras"]
    assert (keras.DEFAULT_LR, keras.rho, keras.eps) == (0.001, 0.9, 1e-7)  # Keras's defaults
    assert OPTIMIZERS["adam"].DEFAULT_LR == 0.001  # PyTorch's default
    assert OPTIMIZERS["momentum"].momentum == 0.9
    assert (OPTIMIZERS["adam"].beta1, OPTIMIZERS["adam"].beta2, OPTIMIZERS["adam"].eps) == (0.9, 0.999, 1e-8)
    assert (OPTIMIZERS["rmsprop"].alpha, OPTIMIZERS["rmsprop"].eps) == (0.99, 1e-8)
    assert OPTIMIZERS["adagrad"].eps == 1e-10


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"lr": 0.0}, "--lr"), ({"lr": float("nan")}, "--lr"), ({"weight_decay": -1.0}, "--l2")],
)
def test_bad_settings_are_input_errors(kwargs, message):
    with pytest.raises(NnkitInputError, match=message):
        make_optimizer("adam", [P0.copy()], **kwargs)
    with pytest.raises(NnkitInputError, match="unknown optimizer"):
        make_optimizer("lbfgs", [P0.copy()])


def test_adam_moments_are_torchs_exp_avg_and_exp_avg_sq():
    p = P0.copy()
    opt = make_optimizer("adam", [p])
    opt.step([G1])
    opt.step([G2])
    m2 = 0.9 * (0.1 * G1) + 0.1 * G2
    v2 = 0.999 * (0.001 * G1**2) + 0.001 * G2**2
    np.testing.assert_allclose(opt.m[0], m2, rtol=1e-14)
    np.testing.assert_allclose(opt.v[0], v2, rtol=1e-13)
