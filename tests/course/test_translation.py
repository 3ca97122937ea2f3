"""Translation invariance: the shift against scipy.ndimage, correlation against NumPy, pooling against scikit-image."""

import numpy as np
import pytest
from scipy import ndimage, signal
from skimage.measure import block_reduce

from nnkit.course.translation import correlation, interior_difference, max_pool, shift_image
from nnkit.errors import NnkitInputError


@pytest.mark.parametrize("by", [(0, 2), (3, -1), (-2, 0), (-1, -4)])
def test_the_shift_is_scipys_nearest_shift(by):
    image = np.random.default_rng(0).normal(size=(9, 11))
    np.testing.assert_array_equal(shift_image(image, *by), ndimage.shift(image, by, order=0, mode="nearest"))


@pytest.mark.parametrize("by", [(0, 2), (3, -1), (-2, 0)])
def test_the_feature_map_of_the_moved_image_is_the_feature_map_moved(by):
    rng = np.random.default_rng(1)
    image, kernel = rng.normal(size=(20, 17)), rng.normal(size=(3, 3))
    before = signal.convolve2d(image, kernel, mode="valid")
    after = signal.convolve2d(shift_image(image, *by), kernel, mode="valid")
    assert interior_difference(before, after, *by, margin=3) < 1e-12
    # and without the margin the edges differ: the measure can fail
    assert np.max(np.abs(after - shift_image(before, *by))) > 1e-3


def test_correlation_and_pooling_against_references():
    rng = np.random.default_rng(2)
    a, b = rng.normal(size=(6, 7)), rng.normal(size=(6, 7))
    assert correlation(a, b) == pytest.approx(np.corrcoef(a.ravel(), b.ravel())[0, 1], rel=1e-12)
    maps = rng.normal(size=(9, 7, 3))
    np.testing.assert_array_equal(max_pool(maps, 2), block_reduce(maps[:8, :6], (2, 2, 1), np.max))


def test_a_shift_out_of_the_frame_is_an_input_error():
    with pytest.raises(NnkitInputError, match="out of its frame"):
        shift_image(np.ones((4, 4)), 0, 4)


def test_a_map_without_a_part_away_from_its_edges_has_no_difference_to_tell():
    assert interior_difference(np.ones((4, 4)), np.ones((4, 4)), 0, 1, margin=3) is None
