"""Conv2D against SciPy's correlate2d and central differences (float64); bad layers and shapes."""

import numpy as np
import pytest
from scipy.signal import correlate2d

from nnkit.errors import NnkitInputError
from nnkit.nn.layers import Conv2D, Dense, Dropout, MaxPool2D
from tests.nn.layers.test_dense import TOLERANCE, numerical_gradient, relative_error


def reference_conv(x, W, b, stride, padding):
    """Keras's Conv2D from scipy.signal.correlate2d: per output channel, the sum over input
    channels of the 'valid' correlation of the (zero-padded) image, taken at the stride."""
    n, h, w, c = x.shape
    kh, kw, _, c_out = W.shape
    if padding == "same":
        oh, ow = -(-h // stride), -(-w // stride)
        ph = max((oh - 1) * stride + kh - h, 0)
        pw = max((ow - 1) * stride + kw - w, 0)
        x = np.pad(x, ((0, 0), (ph // 2, ph - ph // 2), (pw // 2, pw - pw // 2), (0, 0)))
    out = []
    for i in range(n):
        maps = []
        for o in range(c_out):
            full = sum(correlate2d(x[i, :, :, ci], W[:, :, ci, o], mode="valid") for ci in range(c))
            maps.append(full[::stride, ::stride] + b[o])
        out.append(np.stack(maps, axis=-1))
    return np.stack(out)


CONV_CASES = [
    # (input (n, h, w, c), kernel (kh, kw), c_out, stride, padding)
    ((2, 7, 6, 1), (3, 3), 2, 1, "valid"),
    ((2, 7, 7, 3), (3, 3), 4, 2, "same"),
    ((1, 9, 8, 2), (2, 3), 3, 2, "valid"),
    ((2, 5, 6, 3), (4, 4), 2, 1, "same"),
    ((1, 8, 9, 2), (2, 2), 3, 3, "valid"),
    ((1, 6, 5, 2), (3, 2), 2, 3, "same"),
]


@pytest.mark.parametrize(("shape", "kernel", "c_out", "stride", "padding"), CONV_CASES)
def test_conv2d_forward_equals_scipy_correlate2d_summed_over_channels(shape, kernel, c_out, stride,
                                                                      padding):
    rng = np.random.default_rng(1)
    x = rng.standard_normal(shape)
    W = rng.standard_normal((*kernel, shape[3], c_out))
    b = rng.standard_normal(c_out)
    layer = Conv2D(W, b, stride=stride, padding=padding)
    expected = reference_conv(x, W, b, stride, padding)
    for training in (False, True):
        got = layer.forward(x, training=training)
        assert got.shape == expected.shape
        assert layer.output_shape(shape[1:]) == expected.shape[1:]
        np.testing.assert_allclose(got, expected, rtol=0, atol=1e-10)


@pytest.mark.parametrize(("shape", "kernel", "c_out", "stride", "padding"), CONV_CASES)
def test_conv2d_gradients_match_central_differences(shape, kernel, c_out, stride, padding):
    rng = np.random.default_rng(2)
    x = rng.standard_normal(shape)
    layer = Conv2D(rng.standard_normal((*kernel, shape[3], c_out)), rng.standard_normal(c_out),
                   stride=stride, padding=padding)
    r = rng.standard_normal((shape[0], *layer.output_shape(shape[1:])))

    def loss():
        return float(np.sum(layer.forward(x) * r))

    layer.forward(x, training=True)
    dx = layer.backward(r).copy()
    assert dx.shape == x.shape
    assert relative_error(layer.dW, numerical_gradient(loss, layer.W)) <= TOLERANCE
    assert relative_error(layer.db, numerical_gradient(loss, layer.b)) <= TOLERANCE
    assert relative_error(dx, numerical_gradient(loss, x)) <= TOLERANCE


def test_conv2d_without_input_gradient_fills_dw_and_returns_none():
    rng = np.random.default_rng(3)
    layer = Conv2D(rng.standard_normal((3, 3, 2, 4)))
    layer.input_gradient = False
    x = rng.standard_normal((2, 5, 5, 2))
    layer.forward(x, training=True)
    assert layer.backward(np.ones((2, 3, 3, 4))) is None
    cols = np.lib.stride_tricks.sliding_window_view(x, (3, 3), axis=(1, 2))  # (2,3,3,2,3,3)
    np.testing.assert_allclose(layer.dW, cols.sum(axis=(0, 1, 2)).transpose(1, 2, 0)[..., None]
                               .repeat(4, axis=-1), atol=1e-12)




@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: Conv2D(np.ones((3, 3, 1, 2))).output_shape((2, 2, 1)),
         "conv2d with a 3×3 kernel does not fit its 2×2×1 input"),
        (lambda: Conv2D(np.ones((3, 3, 1, 2))).output_shape((8, 8, 3)), "1 input channel"),
        (lambda: Conv2D(np.ones((3, 3, 1, 2))).output_shape((64,)), "needs images"),
        (lambda: MaxPool2D(2).output_shape((1, 5, 4)), "maxpool2d with a 2×2 window does not fit"),
        (lambda: Conv2D(np.ones((3, 3, 2))), "4-D"),
        (lambda: Conv2D(np.ones((3, 3, 1, 2)), padding="full"), "padding"),
        (lambda: Conv2D(np.ones((3, 3, 1, 2)), stride=0), "stride"),
        (lambda: MaxPool2D(2, op="median"), "pooling"),
        (lambda: Dropout(1.0), "rate"),
        (lambda: Dense(np.ones((4, 2))).output_shape((2, 2, 1)), "dense needs flat inputs"),
    ],
)
def test_bad_layers_and_shapes_are_input_errors(make, message):
    with pytest.raises(NnkitInputError, match=message):
        make()
