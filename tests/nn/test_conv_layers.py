"""Conv2D, MaxPool2D, Flatten, Dropout: SciPy and loop references, central differences (float64)."""

import numpy as np
import pytest
from scipy.signal import correlate2d

from nnkit.errors import NnkitInputError
from nnkit.nn.layers import Activation, Conv2D, Dense, Dropout, Flatten, MaxPool2D
from nnkit.nn.network import Network
from tests.nn.test_layers import TOLERANCE, numerical_gradient, relative_error


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


def test_flatten_is_keras_channels_last_c_order_and_backward_restores_the_shape():
    x = np.arange(2 * 3 * 2 * 4.0).reshape(2, 3, 2, 4)
    layer = Flatten()
    y = layer.forward(x, training=True)
    np.testing.assert_array_equal(y[1], x[1].ravel())
    assert y[0, :5].tolist() == [x[0, 0, 0, 0], x[0, 0, 0, 1], x[0, 0, 0, 2], x[0, 0, 0, 3],
                                 x[0, 0, 1, 0]]
    np.testing.assert_array_equal(layer.backward(y), x)


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


STACKS = {
    # stride 2 + same padding, several channels, odd sizes, a partial pooling window
    "strided-same": lambda rng: [
        Conv2D(rng.standard_normal((3, 3, 2, 3)) * 0.5, rng.standard_normal(3) * 0.1, 2, "same"),
        Activation("tanh"),
        Conv2D(rng.standard_normal((2, 2, 3, 4)) * 0.5, rng.standard_normal(4) * 0.1),
        Activation("relu"),
        MaxPool2D(2),
        Flatten(),
        Dense(rng.standard_normal((4, 3)) * 0.5, rng.standard_normal(3) * 0.1),
    ],
    "course-like": lambda rng: [
        Conv2D(rng.standard_normal((3, 3, 2, 3)) * 0.5, rng.standard_normal(3) * 0.1),
        Activation("sigmoid"),
        MaxPool2D(2, op="mean"),
        Conv2D(rng.standard_normal((2, 2, 3, 2)) * 0.5, rng.standard_normal(2) * 0.1, 1, "same"),
        Activation("elu"),
        MaxPool2D(2),
        Flatten(),
        Dropout(0.0),
        Dense(rng.standard_normal((2, 5)) * 0.5, rng.standard_normal(5) * 0.1),
        Activation("tanh"),
        Dense(rng.standard_normal((5, 3)) * 0.5, rng.standard_normal(3) * 0.1),
    ],
}


@pytest.mark.parametrize("output", ["softmax", "sigmoid"])
@pytest.mark.parametrize("stack", sorted(STACKS))
def test_whole_conv_stacks_match_central_differences(stack, output):
    rng = np.random.default_rng(8)
    net = Network(STACKS[stack](rng), output=output, input_shape=(7, 7, 2))
    x = rng.standard_normal((3, 7, 7, 2))
    t = rng.integers(0, 3, 3) if output == "softmax" else rng.integers(0, 2, (3, 3)).astype(float)
    net.loss_and_gradients(x, t)
    analytic = [g.copy() for g in net.gradients()]
    assert len(analytic) == len(net.parameters()) >= 6
    for param, grad in zip(net.parameters(), analytic, strict=True):
        numeric = numerical_gradient(lambda: net.loss(x, t), param)
        assert relative_error(grad, numeric) <= TOLERANCE


def test_conv_network_stays_float32_and_takes_grey_images_without_a_channel_axis():
    rng = np.random.default_rng(9)
    net = Network([Conv2D(rng.standard_normal((3, 3, 1, 4)).astype(np.float32)), Activation("relu"),
                   MaxPool2D(2), Flatten(), Dense(rng.standard_normal((144, 3)).astype(np.float32))],
                  input_shape=(14, 14, 1))
    x = rng.random((5, 14, 14), dtype=np.float32)
    assert net.logits(x).dtype == np.float32
    np.testing.assert_array_equal(net.logits(x), net.logits(x[..., None]))
    net.train_batch(x[..., None], np.array([0, 1, 2, 0, 1]))
    assert all(g.dtype == np.float32 for g in net.gradients())
    np.testing.assert_allclose(net.logits(x[0]), net.logits(x)[:1], rtol=1e-6)  # one image
    with pytest.raises(NnkitInputError, match="14×14×1"):
        net.logits(np.zeros((2, 12, 12, 1)))


def test_logits_in_chunks_equal_one_pass():
    rng = np.random.default_rng(10)
    net = Network([Conv2D(rng.standard_normal((3, 3, 1, 2))), Flatten(),
                   Dense(rng.standard_normal((72, 2)))], input_shape=(8, 8, 1))
    x = rng.standard_normal((50, 8, 8, 1))
    chunk = net.chunk_size(budget=7 * (6 * 6 * 2 + 6 * 6 * 9))  # conv output and patches
    assert chunk == 7
    whole = net._logits(x)
    net.chunk_size = lambda: chunk
    np.testing.assert_allclose(net.logits(x), whole, atol=1e-12)


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


def test_relu_then_max_pool_runs_swapped_with_the_same_values_and_gradients():
    rng = np.random.default_rng(11)

    def make():
        r = np.random.default_rng(12)
        return Network([Conv2D(r.standard_normal((3, 3, 2, 4))), Activation("relu"), MaxPool2D(2),
                        Flatten(), Dense(r.standard_normal((144, 3)))], input_shape=(15, 14, 2))

    swapped, declared = make(), make()
    assert [type(layer).__name__ for layer in swapped._run] == [
        "Conv2D", "MaxPool2D", "Activation", "Flatten", "Dense"]
    declared._run = list(declared.layers)  # compute in the order the layers were given
    x, t = rng.standard_normal((5, 15, 14, 2)), rng.integers(0, 3, 5)
    np.testing.assert_allclose(swapped.logits(x), declared.logits(x), atol=1e-12)
    assert swapped.loss_and_gradients(x, t) == pytest.approx(declared.loss_and_gradients(x, t))
    for a, b in zip(swapped.gradients(), declared.gradients(), strict=True):
        np.testing.assert_allclose(a, b, atol=1e-12)


@pytest.mark.parametrize("first", [[], [Flatten()], [Flatten(), Dropout(0.0)]])
def test_training_never_overwrites_the_data(first):
    rng = np.random.default_rng(13)
    net = Network([*first, Activation("relu"), Dense(rng.standard_normal((12, 2)))],
                  input_shape=(12,) if not first else (3, 4, 1))
    x = rng.standard_normal((6, 12) if not first else (6, 3, 4, 1))
    kept = x.copy()
    net.loss_and_gradients(x, rng.integers(0, 2, 6))
    np.testing.assert_array_equal(x, kept)
