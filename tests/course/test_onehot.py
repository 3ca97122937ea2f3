import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from nnkit.course.onehot import as_class_indices, decode, encode_labels, one_hot
from nnkit.errors import NnkitInputError


def test_one_hot_matches_the_course():
    # the course's one-hot vectors for the digits 0..5 among 10 classes: the identity's first six rows
    np.testing.assert_array_equal(one_hot(range(6), 10), np.eye(10, dtype=int)[:6])
    np.testing.assert_array_equal(one_hot([0, 2, 1], 3), [[1, 0, 0], [0, 0, 1], [0, 1, 0]])
    assert one_hot([1, 1]).shape == (2, 2)


@pytest.mark.parametrize(
    ("labels", "classes", "message"),
    [
        ([0, 3], 3, "label 3 is outside 0..2"),
        ([-1], None, "label -1 is outside"),
        ([1.5], 3, "1.5 is not a whole number"),
    ],
)
def test_bad_labels_are_named(labels, classes, message):
    with pytest.raises(NnkitInputError, match=message):
        one_hot(labels, classes)


def test_index_checks():
    with pytest.raises(NnkitInputError, match="one number per sample"):
        as_class_indices(np.zeros((2, 2)))
    with pytest.raises(NnkitInputError, match="no labels"):
        as_class_indices([])
    with pytest.raises(NnkitInputError, match="--classes must be at least 1"):
        one_hot([0], 0)


def test_decode_takes_the_largest_value_first_on_ties():
    np.testing.assert_array_equal(decode([[0.1, 0.7, 0.2], [0.5, 0.5, 0.0], [0, 0, 1]]), [1, 0, 2])
    np.testing.assert_array_equal(decode([0.7, 0.01, 0.03, 0.01, 0.01, 0.01, 0.01, 0.01, 0.2, 0.01]), [0])
    with pytest.raises(NnkitInputError, match="NaN"):
        decode([[np.nan, 1.0]])


def test_word_labels():
    indices, names = encode_labels(["patient", "healthy", "patient"])
    assert names == ["healthy", "patient"]
    np.testing.assert_array_equal(indices, [1, 0, 1])
    indices, names = encode_labels(["healthy", "patient"], names=["patient", "healthy"])
    np.testing.assert_array_equal(indices, [1, 0])
    with pytest.raises(NnkitInputError, match="label 'sick' is not one of --names"):
        encode_labels(["sick"], names=["healthy", "patient"])
    with pytest.raises(NnkitInputError, match="distinct"):
        encode_labels(["a"], names=["a", "a"])


@given(st.lists(st.integers(0, 9), min_size=1, max_size=50), st.integers(10, 20))
def test_one_hot_decode_round_trip(labels, classes):
    encoded = one_hot(labels, classes)
    assert encoded.sum() == len(labels)
    np.testing.assert_array_equal(decode(encoded), labels)


@given(st.lists(st.sampled_from(["cat", "dog", "bird", "fish"]), min_size=1, max_size=30))
def test_word_round_trip(words):
    indices, names = encode_labels(words)
    assert [names[i] for i in decode(one_hot(indices, len(names)))] == words
