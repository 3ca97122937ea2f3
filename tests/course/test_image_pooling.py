"""Pooling against skimage's block_reduce and a hand-written loop, for every op, edge mode and stride."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from skimage.measure import block_reduce

from nnkit.course.image_convolution import convolve
from nnkit.course.image_pooling import OPS, pool, pool_output_shape
from nnkit.errors import NnkitInputError

RNG = np.random.default_rng(7)
REDUCERS = {"max": np.max, "mean": np.mean, "min": np.min, "median": np.median, "sum": np.sum}


def loop_pool(x, size, stride, op, edge):
    """The obvious reference: windows starting every stride; keep partial ones that start inside."""
    (kh, kw), (sh, sw) = size, stride
    rows = [i for i in range(0, x.shape[0], sh) if i + kh <= x.shape[0] or edge == "keep"]
    cols = [j for j in range(0, x.shape[1], sw) if j + kw <= x.shape[1] or edge == "keep"]
    # A keep window is dropped if the one before already reached the edge (nothing new in it).
    rows = [i for n, i in enumerate(rows) if n == 0 or rows[n - 1] + kh < x.shape[0]]
    cols = [j for n, j in enumerate(cols) if n == 0 or cols[n - 1] + kw < x.shape[1]]
    return np.array([[REDUCERS[op](x[i:i + kh, j:j + kw]) for j in cols] for i in rows])


@pytest.mark.parametrize("op", OPS)
@pytest.mark.parametrize("edge", ["keep", "drop"])
@pytest.mark.parametrize(("size", "stride"), [((2, 2), None), ((5, 5), None), ((2, 3), None),
                                              ((3, 3), (1, 1)), ((3, 2), (2, 1)), ((2, 2), (3, 4)),
                                              ((4, 4), (3, 3))])
def test_equals_the_loop_reference(op, edge, size, stride):
    x = RNG.standard_normal((23, 17))
    got = pool(x, size, stride, op=op, edge=edge)
    expected = loop_pool(x, size, stride or size, op, edge)
    assert got.shape == expected.shape == pool_output_shape(x.shape, size, stride, edge)
    np.testing.assert_allclose(got, expected, rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize("size", [2, 3, 5, (2, 3)])
def test_max_keep_equals_block_reduce_on_non_negative_data(size):
    x = RNG.random((398, 336))
    k = (size, size) if isinstance(size, int) else size
    np.testing.assert_array_equal(pool(x, size), block_reduce(x, k, np.max))
    # Mean and sum agree where every block is whole.
    np.testing.assert_allclose(pool(x[:396, :336], 2, op="mean"), block_reduce(x[:396], (2, 2), np.mean))


def test_courses_shapes_400x338_to_80x68():
    brain = RNG.random((400, 338))
    feature = convolve(brain, np.eye(3))
    assert feature.shape == (398, 336)
    pooled = pool(feature, 5)
    assert pooled.shape == (80, 68)
    assert pool(feature, 5, edge="drop").shape == (79, 67)


def test_partial_mean_is_not_pulled_towards_zero():
    x = np.ones((7, 7))
    assert np.all(pool(x, 5, op="mean") == 1.0)
    assert block_reduce(x, (5, 5), np.mean)[1, 1] < 1.0  # what skimage does instead
    assert np.all(pool(x, 5, op="min") == 1.0)
    np.testing.assert_array_equal(pool(x, 5, op="sum"), [[25, 10], [10, 4]])


def test_hand_computed_example():
    x = np.array([[1, 2, 5, 0, 3], [4, 3, 1, 2, 9], [0, 7, 8, 1, 1.0]])
    np.testing.assert_array_equal(pool(x, 2), [[4, 5, 9], [7, 8, 1]])
    np.testing.assert_array_equal(pool(x, 2, op="mean"), [[2.5, 2, 6], [3.5, 4.5, 1]])
    np.testing.assert_array_equal(pool(x, 2, op="median", edge="drop"), [[2.5, 1.5]])


@pytest.mark.parametrize(
    ("args", "message"),
    [((np.ones((4, 4)), 0), "--size must be at least 1, got 0"),
     ((np.ones((4, 4)), (2, 0)), "--size"),
     ((np.ones((4, 4)), 2, 0), "--stride"),
     ((np.ones((4, 4)), 5, None, "max", "drop"), "larger than"),
     ((np.ones((4, 4)), 2, None, "avg"), "--op"),
     ((np.ones((4, 4)), 2, None, "max", "pad"), "--edge"),
     ((np.ones((2, 2, 2)), 2), "2-D"),
     ((np.ones((0, 3)), 2), "empty")],
)
def test_bad_input(args, message):
    with pytest.raises(NnkitInputError, match=message):
        pool(*args)


@settings(max_examples=60, deadline=None)
@given(h=st.integers(1, 15), w=st.integers(1, 15), kh=st.integers(1, 6), kw=st.integers(1, 6),
       sh=st.integers(1, 7), sw=st.integers(1, 7), op=st.sampled_from(OPS), seed=st.integers(0, 99))
def test_any_shape_keep_matches_the_loop(h, w, kh, kw, sh, sw, op, seed):
    x = np.random.default_rng(seed).standard_normal((h, w))
    got = pool(x, (kh, kw), (sh, sw), op=op)
    np.testing.assert_allclose(got, loop_pool(x, (kh, kw), (sh, sw), op, "keep"), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(("size", "stride"), [(2, None), (3, None), (5, None), ((2, 3), (1, 2))])
def test_median_equals_block_reduce_on_whole_blocks_and_leaves_the_input_alone(size, stride):
    x = RNG.random((61, 47))
    kept = x.copy()
    got = pool(x, size, stride, op="median")
    np.testing.assert_array_equal(x, kept)
    if stride is None:
        k = (size, size) if isinstance(size, int) else size
        rows, cols = 61 // k[0], 47 // k[1]
        np.testing.assert_array_equal(got[:rows, :cols], block_reduce(x, k, np.median)[:rows, :cols])
