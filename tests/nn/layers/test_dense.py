"""Dense (and the gradient-check helpers of the layer tests) against central differences (float64, relative error ≤ 1e-6) and hand-computed values."""

import numpy as np
import pytest

from nnkit.errors import NnkitInputError
from nnkit.nn.layers import Activation, Dense

TOLERANCE = 1e-6


def numerical_gradient(f, array: np.ndarray, h: float = 1e-6) -> np.ndarray:
    """Central differences of the scalar ``f()`` with respect to every entry of ``array`` (in place)."""
    grad = np.zeros_like(array)
    for index in np.ndindex(array.shape):
        old = array[index]
        array[index] = old + h
        plus = f()
        array[index] = old - h
        minus = f()
        array[index] = old
        grad[index] = (plus - minus) / (2 * h)
    return grad


def relative_error(a: np.ndarray, b: np.ndarray) -> float:
    scale = max(np.abs(a).max(), np.abs(b).max(), 1e-12)
    return float(np.abs(a - b).max() / scale)


def test_dense_forward_and_backward_by_hand():
    layer = Dense(np.array([[1.0, -2.0, 0.5], [3.0, 0.0, -1.0]]), np.array([0.1, 0.2, 0.3]))
    x = np.array([[1.0, 2.0], [-1.0, 0.5]])
    z = layer.forward(x, training=True)
    np.testing.assert_allclose(z, [[7.1, -1.8, -1.2], [0.6, 2.2, -0.7]])
    dout = np.array([[1.0, 0.0, 2.0], [0.0, 1.0, -1.0]])
    dx = layer.backward(dout)
    np.testing.assert_allclose(dx, [[2.0, 1.0], [-2.5, 1.0]])
    np.testing.assert_allclose(layer.dW, [[1.0, -1.0, 3.0], [2.0, 0.5, 3.5]])
    np.testing.assert_allclose(layer.db, [1.0, 1.0, 1.0])


def test_dense_gradients_match_central_differences():
    rng = np.random.default_rng(0)
    layer = Dense(rng.standard_normal((4, 3)), rng.standard_normal(3))
    x = rng.standard_normal((5, 4))
    weights = rng.standard_normal((5, 3))  # L = Σ weights · z, so ∂L/∂z = weights

    def loss():
        return float(np.sum(weights * layer.forward(x)))

    layer.forward(x, training=True)
    dx = layer.backward(weights)
    assert relative_error(layer.dW, numerical_gradient(loss, layer.W)) <= TOLERANCE
    assert relative_error(layer.db, numerical_gradient(loss, layer.b)) <= TOLERANCE
    assert relative_error(dx, numerical_gradient(loss, x)) <= TOLERANCE


def test_dense_without_input_gradient_returns_none_but_fills_dw():
    layer = Dense(np.ones((2, 2)))
    layer.input_gradient = False
    layer.forward(np.ones((3, 2)), training=True)
    assert layer.backward(np.ones((3, 2))) is None
    np.testing.assert_array_equal(layer.dW, np.full((2, 2), 3.0))


def test_float32_stays_float32():
    layer = Dense(np.ones((3, 2), dtype=np.float32))
    z = layer.forward(np.ones((4, 3), dtype=np.float32), training=True)
    act = Activation("sigmoid")
    assert z.dtype == np.float32 and act.forward(z, training=True).dtype == np.float32
    assert act.backward(np.ones((4, 2), dtype=np.float32)).dtype == np.float32
    layer.backward(np.ones((4, 2), dtype=np.float32))
    assert layer.dW.dtype == np.float32 and layer.db.dtype == np.float32


def test_bad_layers_are_input_errors():
    with pytest.raises(NnkitInputError, match="unknown activation"):
        Activation("softmax")
    with pytest.raises(NnkitInputError, match="2-D"):
        Dense(np.ones(3))
    with pytest.raises(NnkitInputError, match="bias"):
        Dense(np.ones((2, 3)), np.ones(2))
