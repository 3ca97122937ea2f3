"""Dropout: statistics, scaling, seeding, inference, and its gradient (float64)."""

import numpy as np

from nnkit.nn.layers import Dropout
from tests.nn.layers.test_dense import TOLERANCE, numerical_gradient, relative_error


def test_dropout_statistics_scaling_and_inference():
    layer = Dropout(0.3, seed=7)
    x = np.ones((400, 250), dtype=np.float32)
    y = layer.forward(x, training=True)
    assert y.dtype == np.float32
    dropped = float(np.mean(y == 0))
    sigma = np.sqrt(0.3 * 0.7 / x.size)
    assert abs(dropped - 0.3) < 5 * sigma
    np.testing.assert_allclose(np.unique(y), [0.0, 1 / 0.7], rtol=1e-6)
    assert abs(float(y.mean(dtype=np.float64)) - 1.0) < 5 * sigma / 0.7
    # the gradient passes exactly where the value was kept, with the same scale
    dout = np.full_like(x, 2.0)
    np.testing.assert_allclose(layer.backward(dout), 2.0 * y, rtol=1e-6)
    assert layer.forward(x) is x  # inference: nothing dropped, nothing scaled


def test_dropout_seeding():
    x = np.ones((50, 40))
    a = Dropout(0.5, seed=1).forward(x, training=True).copy()
    b = Dropout(0.5, seed=1).forward(x, training=True).copy()
    c = Dropout(0.5, seed=2).forward(x, training=True).copy()
    np.testing.assert_array_equal(a, b)
    assert (a != c).any()
    layer = Dropout(0.5, seed=1)
    first = layer.forward(x, training=True).copy()
    assert (layer.forward(x, training=True) != first).any()  # a new mask every step


def test_dropout_gradient_with_a_fixed_mask_matches_central_differences():
    rng = np.random.default_rng(6)
    layer = Dropout(0.4, seed=3)
    x = rng.standard_normal((3, 5))
    mask = layer.forward(np.ones_like(x), training=True).copy()
    r = rng.standard_normal(x.shape)
    dx = layer.backward(r.copy())
    numeric = numerical_gradient(lambda: float(np.sum(x * mask * r)), x)
    assert relative_error(dx, numeric) <= TOLERANCE
