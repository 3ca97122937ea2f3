"""The course's dense layer [1 x]·[b; W] against x @ W + b and PyTorch's x @ W.T + b."""

import numpy as np
import pytest

from nnkit.course.dense_walkthrough import dense_forward, random_layer, stacked_labels, weight_label
from nnkit.errors import NnkitInputError
from nnkit.nn.activations import ACTIVATIONS


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("activation", ["identity", "relu", "sigmoid", "tanh", "softmax"])
def test_equals_every_way_of_writing_the_layer(seed, activation):
    rng = np.random.default_rng(seed)
    n, n_in, n_out = rng.integers(1, 9, size=3)
    x = rng.normal(size=(n, n_in))
    W = rng.normal(size=(n_in, n_out))  # the course's layout: one row per input
    b = rng.normal(size=n_out)
    act = ACTIVATIONS[activation]
    out = dense_forward(x, W, b, activation)
    keras = act.fn(x @ W + b)
    W_torch = W.T.copy()  # nn.Linear's layout: one row per unit
    torch = act.fn(x @ W_torch.T + b)
    course = act.fn(np.hstack([np.ones((n, 1)), x]) @ np.vstack([b, W]))
    terms = np.stack([out.terms(s) for s in range(n)])  # (n, n_in + 1, n_out)
    scale = np.abs(terms).sum(axis=1).max()
    for reference in (keras, torch, course):
        np.testing.assert_allclose(out.y, reference, rtol=0, atol=1e-15 * max(1.0, scale))
    np.testing.assert_array_equal(out.z, x @ W + b)
    assert terms.shape == (n, n_in + 1, n_out)
    np.testing.assert_allclose(terms.sum(axis=1), out.z, rtol=0, atol=1e-14 * scale)


def test_a_big_input_does_not_build_every_product():
    # 1000 rows of 784 inputs into 128 units: z is 1 MB, every product x_i·w_ji would be 0.8 GB
    import tracemalloc

    rng = np.random.default_rng(0)
    x, W = rng.random((1000, 784)), rng.normal(size=(784, 128))
    tracemalloc.start()
    out = dense_forward(x, W)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 10 * x.nbytes, peak
    terms = out.terms(5)
    np.testing.assert_allclose(terms.sum(axis=0), out.z[5], rtol=0, atol=1e-14 * np.abs(terms).sum(axis=0).max())


def test_the_course_index_table_by_hand():
    # 3 inputs, 3 units: W[i-1, j-1] is w_ji, the weight from input i to unit j
    W = np.array([[11.0, 21.0, 31.0], [12.0, 22.0, 32.0], [13.0, 23.0, 33.0]])
    b = np.array([1.0, 2.0, 3.0])
    out = dense_forward([1.0, 0.0, 0.0], W, b)
    assert stacked_labels(3, 3) == [
        ["b_1", "b_2", "b_3"],
        ["w_11", "w_21", "w_31"],
        ["w_12", "w_22", "w_32"],
        ["w_13", "w_23", "w_33"],
    ]
    labels = stacked_labels(3, 3)
    # every labelled cell holds the number its name spells: w_ji = 10·j + i, b_j = j
    for row, names in zip(out.Wb, labels, strict=True):
        for value, name in zip(row, names, strict=True):
            digits = name.split("_")[1]
            expected = int(digits) if name[0] == "b" else 10 * int(digits[0]) + int(digits[1])
            assert value == expected, (name, value)
    # x = (1, 0, 0) picks input 1: h_j = b_j + w_j1
    np.testing.assert_array_equal(out.x1, [[1, 1, 0, 0]])
    np.testing.assert_array_equal(out.z, [[1 + 11, 2 + 21, 3 + 31]])
    out = dense_forward([1.0, 2.0, 3.0], W, b)
    assert out.z[0, 0] == 1 + 1 * 11 + 2 * 12 + 3 * 13  # h1 = b1 + x1·w11 + x2·w12 + x3·w13


def test_the_minimal_unit_of_2_1():
    out = dense_forward([3.0], [2.0], [-1.0], "sigmoid")  # y = a(xw + b) = sigmoid(5)
    assert out.y[0, 0] == pytest.approx(1 / (1 + np.exp(-5.0)), abs=1e-16)


def test_labels_with_two_digit_indices():
    assert weight_label(1, 3) == "w_13"
    assert weight_label(10, 2) == "w_10,2"
    assert stacked_labels(12, 1)[12] == ["w_1,12"]


def test_random_layer_is_the_course_generator():
    W, b = random_layer(3, 2, 42)
    np.random.seed(42)
    np.testing.assert_array_equal(W, np.random.randn(3, 2))
    np.testing.assert_array_equal(b, np.random.randn(2))


@pytest.mark.parametrize(
    ("x", "W", "b", "message"),
    [
        ([1.0, 2.0], [[1.0, 2.0]], None, "2 value(s) but --weights has 1 row(s)"),
        ([1.0], [[1.0, 2.0]], [1.0], "--bias has 1 value(s) but --weights has 2 column(s)"),
        ([np.nan], [[1.0]], None, "input contains NaN"),
        ([1.0], [[np.inf]], None, "--weights contains NaN or infinity"),
    ],
)
def test_bad_shapes_and_values(x, W, b, message):
    with pytest.raises(NnkitInputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        dense_forward(x, W, b)
