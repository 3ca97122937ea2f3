import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from nnkit.course.reshaping import DIGITS, flatten, reshape
from nnkit.errors import NnkitInputError


def test_the_course_digits():
    assert DIGITS.shape == (6, 5, 4) and DIGITS.ndim == 3
    # the course's zero: a ring; its one: a bar in column 2
    np.testing.assert_array_equal(DIGITS[0], [[1, 1, 1, 1], [1, 0, 0, 1], [1, 0, 0, 1], [1, 0, 0, 1], [1, 1, 1, 1]])
    np.testing.assert_array_equal(DIGITS[1][:, 2], np.ones(5))
    rows = flatten(DIGITS)
    assert rows.shape == (6, 20)
    np.testing.assert_array_equal(rows[0], DIGITS[0].reshape(1, -1)[0])
    # reshape is reversible: the third row (index 2) back to 5×4 is the two
    np.testing.assert_array_equal(reshape(rows[2], (5, 4)), DIGITS[2])


def test_reshape_errors_show_both_sizes():
    with pytest.raises(
        NnkitInputError, match=r"cannot reshape 6 values \(shape \(6,\)\) into shape \(4, 2\) = 8 values"
    ):
        reshape(np.arange(6), (4, 2))
    with pytest.raises(NnkitInputError, match="6 is not a multiple of 4"):
        reshape(np.arange(6), (4, -1))
    with pytest.raises(NnkitInputError, match="more than one -1"):
        reshape(np.arange(6), (-1, -1))
    with pytest.raises(NnkitInputError, match="sizes must be positive"):
        reshape(np.arange(6), (0, 6))


def test_flatten_shapes():
    assert flatten(np.zeros((233, 197))).shape == (1, 233 * 197)
    assert flatten(np.zeros((10, 28, 28))).shape == (10, 784)
    assert flatten(np.zeros(5)).shape == (1, 5)


@given(st.integers(1, 6), st.integers(1, 6), st.integers(1, 4))
def test_reshape_round_trip(a, b, c):
    array = np.arange(a * b * c).reshape(a, b, c)
    there = reshape(array, (-1, c))
    assert there.shape == (a * b, c)
    np.testing.assert_array_equal(reshape(there, array.shape), array)
    np.testing.assert_array_equal(reshape(flatten(array), array.shape), array)
