"""MaxPool2D (max and mean) against a loop reference and central differences (float64)."""

import numpy as np
import pytest

from nnkit.nn.layers import MaxPool2D
from tests.nn.layers.test_dense import TOLERANCE, numerical_gradient, relative_error


def reference_pool(x, size, stride, op):
    """Loop over every output pixel; a window sticking out of the image is dropped (Keras)."""
    n, h, w, c = x.shape
    ho, wo = (h - size) // stride + 1, (w - size) // stride + 1
    out = np.empty((n, ho, wo, c))
    reduce = np.max if op == "max" else np.mean
    for i in range(ho):
        for j in range(wo):
            window = x[:, i * stride : i * stride + size, j * stride : j * stride + size, :]
            out[:, i, j, :] = reduce(window, axis=(1, 2))
    return out


POOL_CASES = [
    ((2, 6, 6, 3), 2, None, "max"),   # exact tiling
    ((2, 5, 7, 2), 2, None, "max"),   # partial windows at the bottom and right, dropped
    ((1, 11, 11, 2), 2, None, "mean"),
    ((2, 7, 8, 2), 3, 2, "max"),      # overlapping windows
    ((1, 7, 8, 2), 3, 2, "mean"),
    ((1, 9, 8, 1), 2, 3, "max"),      # gaps between windows
]


@pytest.mark.parametrize(("shape", "size", "stride", "op"), POOL_CASES)
def test_pool_forward_equals_a_loop_reference(shape, size, stride, op):
    x = np.random.default_rng(4).standard_normal(shape)
    layer = MaxPool2D(size, stride, op)
    expected = reference_pool(x, size, stride or size, op)
    for training in (False, True):
        np.testing.assert_allclose(layer.forward(x, training=training), expected, atol=1e-12)
    assert layer.output_shape(shape[1:]) == expected.shape[1:]


@pytest.mark.parametrize(("shape", "size", "stride", "op"), POOL_CASES)
def test_pool_gradients_match_central_differences(shape, size, stride, op):
    rng = np.random.default_rng(5)
    x = rng.standard_normal(shape)
    layer = MaxPool2D(size, stride, op)
    r = rng.standard_normal((shape[0], *layer.output_shape(shape[1:])))
    layer.forward(x, training=True)
    dx = layer.backward(r).copy()
    numeric = numerical_gradient(lambda: float(np.sum(layer.forward(x) * r)), x)
    assert relative_error(dx, numeric) <= TOLERANCE
    if (shape[1] - size) % (stride or size):  # the dropped edge row gets no gradient
        assert not dx[:, -1].any()


def test_keras_drops_the_partial_window_26_to_13_and_11_to_5():
    layer = MaxPool2D(2)
    assert layer.output_shape((26, 26, 32)) == (13, 13, 32)
    assert layer.output_shape((11, 11, 64)) == (5, 5, 64)


def test_max_pool_gradient_goes_to_the_first_maximum_of_a_tie():
    layer = MaxPool2D(2)
    x = np.ones((1, 2, 2, 1))
    layer.forward(x, training=True)
    np.testing.assert_array_equal(layer.backward(np.full((1, 1, 1, 1), 3.0))[0, :, :, 0],
                                  [[3.0, 0.0], [0.0, 0.0]])
