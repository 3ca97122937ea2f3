"""Convolution against scipy.signal.convolve2d / correlate2d, for every filter, mode and boundary."""

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image
from scipy import signal

from nnkit.course.filters import FILTERS, make_filter
from nnkit.course.image_convolution import convolve, correlate, output_shape, patch_walkthrough
from nnkit.errors import NnkitInputError

BRAIN = np.asarray(Image.open(Path(__file__).parents[2] / "samples" / "brain.png").convert("L")) / 255.0
RNG = np.random.default_rng(42)
RANDOM = RNG.standard_normal((37, 29))
MODES = ("valid", "same", "full")
BOUNDARIES = ("fill", "wrap", "symm")
# Odd, even and non-square kernels besides the named ones.
EXTRA_KERNELS = {
    "random 2×2": RNG.standard_normal((2, 2)),
    "random 4×3": RNG.standard_normal((4, 3)),
    "random 3×6": RNG.standard_normal((3, 6)),
    "row 1×4": RNG.standard_normal((1, 4)),
    "rank-1 5×4": np.outer(RNG.random(5), RNG.random(4)),
    "random 9×9": RNG.standard_normal((9, 9)),
}
KERNELS = {name: make_filter(name) for name in FILTERS} | EXTRA_KERNELS | {
    "box 4": make_filter("box", size=4), "gaussian σ=2": make_filter("gaussian", sigma=2.0)}


@pytest.mark.parametrize("name", list(KERNELS))
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("boundary", BOUNDARIES)
def test_equals_convolve2d_and_correlate2d(name, mode, boundary):
    kernel = KERNELS[name]
    for image in (RANDOM, BRAIN):
        for flip, reference in ((False, signal.convolve2d), (True, signal.correlate2d)):
            expected = reference(image, kernel, mode=mode, boundary=boundary, fillvalue=0.25)
            got = convolve(image, kernel, mode=mode, boundary=boundary, fillvalue=0.25, correlate=flip)
            assert got.shape == expected.shape
            np.testing.assert_allclose(got, expected, rtol=0, atol=1e-10)


@pytest.mark.parametrize("method", ["direct", "fft", "separable"])
@pytest.mark.parametrize("mode", MODES)
def test_every_method_agrees(method, mode):
    # A large rank-1 kernel exercises the banded threads (≥ 100k pixels) and the FFT path alike.
    image = RNG.random((420, 350))
    kernel = make_filter("gaussian", sigma=1.5) if method == "separable" else RNG.standard_normal((7, 5))
    for boundary in BOUNDARIES:
        expected = signal.convolve2d(image, kernel, mode=mode, boundary=boundary, fillvalue=-1.0)
        got = convolve(image, kernel, mode=mode, boundary=boundary, fillvalue=-1.0, method=method)
        np.testing.assert_allclose(got, expected, rtol=0, atol=1e-10)


def test_large_kernel_chooses_fft_and_stays_accurate():
    image = RNG.random((400, 338))
    kernel = RNG.standard_normal((31, 31))
    expected = signal.convolve2d(image, kernel, mode="same", boundary="symm")
    got = convolve(image, kernel, mode="same", boundary="symm")
    # FFT rounding scales with max|image| · sum|kernel|; both are O(1)..O(1000) here.
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-10)


@pytest.mark.parametrize("stride", [2, 3, 5])
def test_stride_keeps_every_nth_value(stride):
    expected = signal.convolve2d(BRAIN, make_filter("sobel-y"), mode="same", boundary="wrap")
    got = convolve(BRAIN, make_filter("sobel-y"), mode="same", boundary="wrap", stride=stride)
    np.testing.assert_allclose(got, expected[::stride, ::stride], rtol=0, atol=1e-12)
    assert got.shape == output_shape(BRAIN.shape, (3, 3), "same", stride)


def test_identity_is_the_courses_eye_and_shapes():
    assert np.array_equal(make_filter("identity"), np.eye(3))
    course = np.random.default_rng(0).random((400, 338))
    feature = convolve(course, make_filter("identity"))
    assert feature.shape == (398, 336)
    np.testing.assert_allclose(feature, signal.convolve2d(course, np.eye(3), boundary="fill", mode="valid"),
                               rtol=0, atol=1e-12)


def test_delta_returns_the_image_and_filters_are_documented():
    np.testing.assert_allclose(convolve(BRAIN, make_filter("delta"), mode="same"), BRAIN, atol=1e-15)
    assert make_filter("delta", size=5)[2, 2] == 1 and make_filter("delta", size=5).sum() == 1
    for entry in FILTERS.values():
        assert entry.description
    np.testing.assert_allclose(make_filter("gaussian", sigma=1.0).sum(), 1.0)
    assert make_filter("gaussian", sigma=1.0).shape == (9, 9)
    np.testing.assert_allclose(make_filter("box", size=3), np.full((3, 3), 1 / 9))


def test_sobel_x_is_positive_where_the_image_brightens_to_the_right():
    ramp = np.tile(np.arange(6.0), (5, 1))
    assert np.all(convolve(ramp, make_filter("sobel-x")) == 8.0)
    assert np.all(convolve(ramp.T, make_filter("sobel-y")) == 8.0)


def test_patch_walkthrough_is_the_courses_and_equals_the_map():
    walk = patch_walkthrough(BRAIN, np.eye(3), 60, 100)
    np.testing.assert_array_equal(walk["patch"], BRAIN[60:63, 100:103])
    np.testing.assert_array_equal(walk["weights"], np.eye(3)[::-1, ::-1])
    assert walk["value"] == pytest.approx(convolve(BRAIN, np.eye(3))[60, 100], abs=1e-15)
    kernel = EXTRA_KERNELS["random 4×3"]
    for mode in MODES:
        for flip in (False, True):
            feature = convolve(BRAIN, kernel, mode=mode, boundary="symm", correlate=flip)
            for row, col in ((0, 0), (5, 7), (feature.shape[0] - 1, feature.shape[1] - 1)):
                walk = patch_walkthrough(BRAIN, kernel, row, col, mode=mode, boundary="symm", correlate=flip)
                assert walk["value"] == pytest.approx(feature[row, col], abs=1e-12)


@pytest.mark.parametrize(
    ("kernel", "options", "message"),
    [
        (np.zeros((0, 3)), {}, "empty"),
        (np.ones((500, 3)), {}, "larger than"),
        ([[1.0, np.nan]], {}, "NaN"),
        (np.eye(3), {"stride": 0}, "--stride"),
        (np.eye(3), {"mode": "wide"}, "--mode"),
        (np.eye(3), {"boundary": "zero"}, "--boundary"),
        (np.eye(3), {"fillvalue": np.inf}, "--fillvalue"),
        (np.eye(3), {"method": "separable"}, "rank-1"),
    ],
)
def test_bad_input_is_an_input_error(kernel, options, message):
    with pytest.raises(NnkitInputError, match=message):
        convolve(BRAIN, kernel, **options)


def test_bad_filter_parameters():
    with pytest.raises(NnkitInputError, match="--size"):
        make_filter("box", size=0)
    with pytest.raises(NnkitInputError, match="odd"):
        make_filter("delta", size=4)
    with pytest.raises(NnkitInputError, match="--sigma"):
        make_filter("gaussian", sigma=0)
    with pytest.raises(NnkitInputError, match="does not apply"):
        make_filter("sobel-x", size=5)
    with pytest.raises(NnkitInputError, match="unknown filter"):
        make_filter("blur")
    # Huge sizes are input errors, not a MemoryError building the kernel.
    with pytest.raises(NnkitInputError, match="at most 4095"):
        make_filter("box", size=100_000)
    with pytest.raises(NnkitInputError, match="--sigma 1e\\+06"):
        make_filter("gaussian", sigma=1e6)
    with pytest.raises(NnkitInputError, match="2-D"):
        convolve(np.ones(5), np.eye(3))


@settings(max_examples=40, deadline=None)
@given(h=st.integers(1, 12), w=st.integers(1, 12), kh=st.integers(1, 5), kw=st.integers(1, 5),
       mode=st.sampled_from(["same", "full"]), boundary=st.sampled_from(BOUNDARIES), seed=st.integers(0, 99))
def test_any_small_shape_matches_scipy(h, w, kh, kw, mode, boundary, seed):
    rng = np.random.default_rng(seed)
    image, kernel = rng.standard_normal((h, w)), rng.standard_normal((kh, kw))
    expected = signal.correlate2d(image, kernel, mode=mode, boundary=boundary)
    np.testing.assert_allclose(correlate(image, kernel, mode=mode, boundary=boundary), expected,
                               rtol=0, atol=1e-10)


def test_patch_walkthrough_with_stride_is_the_strided_maps():
    kernel = EXTRA_KERNELS["random 4×3"]
    for mode in MODES:
        feature = convolve(BRAIN, kernel, mode=mode, stride=3)
        for row, col in ((0, 0), (7, 5), (feature.shape[0] - 1, feature.shape[1] - 1)):
            walk = patch_walkthrough(BRAIN, kernel, row, col, mode=mode, stride=3)
            assert walk["value"] == pytest.approx(feature[row, col], abs=1e-12)
    with pytest.raises(NnkitInputError, match="outside the 133×112"):  # 398×336 every third
        patch_walkthrough(BRAIN, np.eye(3), 133, 0, stride=3)
    with pytest.raises(NnkitInputError, match="larger than"):
        patch_walkthrough(BRAIN[:2], np.eye(3), 0, 0)


def test_the_courses_5x5_example_gives_the_courses_feature_map():
    from nnkit.course.image_convolution import EXAMPLE_IMAGE, EXAMPLE_KERNEL

    expected = [[4, 3, 4], [2, 4, 3], [2, 3, 4]]  # the course's 3-2 feature map, summed by hand
    assert convolve(EXAMPLE_IMAGE, EXAMPLE_KERNEL).tolist() == expected
    assert signal.correlate2d(EXAMPLE_IMAGE, EXAMPLE_KERNEL, mode="valid").tolist() == expected


@pytest.mark.parametrize("shape", [(3, 3), (2, 4), (4, 1), (1, 2)])
@pytest.mark.parametrize("mode", ["same", "full"])
@pytest.mark.parametrize("correlate_", [False, True])
def test_the_padded_input_is_what_the_kernel_slides_over(shape, mode, correlate_):
    # padding(...) zeros around the image, then a valid slide, is scipy's same/full result
    from nnkit.course.image_convolution import pad_input, padding

    rng = np.random.default_rng(1)
    image, kernel = rng.normal(size=(6, 7)), rng.normal(size=shape)
    padded = pad_input(image, kernel.shape, mode, correlate=correlate_)
    top, bottom, left, right = padding(kernel.shape, mode, correlate_)
    assert padded.shape == (6 + top + bottom, 7 + left + right)
    np.testing.assert_array_equal(padded[top:top + 6, left:left + 7], image)
    assert np.count_nonzero(padded) == np.count_nonzero(image)  # everything added is 0
    reference = (signal.correlate2d if correlate_ else signal.convolve2d)(image, kernel, mode=mode)
    weights = kernel if correlate_ else kernel[::-1, ::-1]
    np.testing.assert_allclose(signal.correlate2d(padded, weights, mode="valid"), reference, atol=1e-12)
