"""2-D convolution and cross-correlation with ``scipy.signal.convolve2d``'s meaning, made fast.

``mode`` (valid|same|full), ``boundary`` (fill|wrap|symm) and ``fillvalue`` mean exactly what they
mean in :func:`scipy.signal.convolve2d`; ``stride`` keeps every ``stride``-th output row and column.
The work is done in one of three ways, chosen per call by a cost model fitted to measurements
(``benchmarks/conv_pool.py``):

``direct``
    ``scipy.ndimage.correlate`` over bands of rows run on all cores (ndimage releases the GIL);
    the bands overlap by the kernel's height so every kept row sees its real neighbours.
``separable``
    a rank-1 kernel (box, Gaussian, Sobel, Prewitt) as two 1-D passes, banded the same way.
``fft``
    ``scipy.fft.rfft2`` on all cores. The valid part of a circular convolution is already a linear
    one, so the transform only needs the (padded) image's own fast size, not image + kernel.

Accuracy: every method agrees with ``scipy.signal.convolve2d`` within ``1e-10`` absolute for images
scaled to 0..1 and kernels of moderate L1 norm; the FFT error grows like ``eps · max|image| ·
sum|kernel| · log(size)``.
"""

import functools
import itertools
import os

import numpy as np

from nnkit.errors import NnkitInputError

MODES = ("valid", "same", "full")
BOUNDARIES = ("fill", "wrap", "symm")
METHODS = ("auto", "direct", "separable", "fft")

_NP_PAD_MODE = {"fill": "constant", "wrap": "wrap", "symm": "symmetric"}
_NDIMAGE_MODE = {"fill": "constant", "wrap": "grid-wrap", "symm": "reflect"}

# Cost model in nanoseconds, fitted on a 2-core AMD EPYC (see benchmarks/conv_pool.py):
# direct ≈ pixels · (per-weight · nonzero weights + per-pixel); fft ≈ per-n·log2(n) · n·log2(n).
_NS_PER_WEIGHT = 0.55
_NS_PER_PIXEL = 2.5
_NS_PER_NLOGN = 1.6
_MIN_PIXELS_FOR_THREADS = 100_000


def check_kernel(kernel) -> np.ndarray:
    """Validate a kernel and return it as a 2-D float64 array.

    Parameters
    ----------
    kernel : array_like, 1-D or 2-D
        A 1-D kernel is taken as one row.

    Returns
    -------
    kernel : (kh, kw) float64 array
    """
    k = np.asarray(kernel, dtype=np.float64)
    if k.ndim == 1:
        k = k[np.newaxis, :]
    if k.ndim != 2:
        raise NnkitInputError(f"the kernel must be 1-D or 2-D, got {k.ndim}-D with shape {k.shape}")
    if k.size == 0:
        raise NnkitInputError("the kernel is empty")
    if not np.all(np.isfinite(k)):
        raise NnkitInputError("the kernel contains NaN or infinity")
    return k


def output_shape(image_shape, kernel_shape, mode="valid", stride=1) -> tuple[int, int]:
    """Shape of the feature map, as convolve2d gives it, after keeping every ``stride``-th value.

    Parameters
    ----------
    image_shape, kernel_shape : (int, int)
    mode : {'valid', 'same', 'full'}
    stride : int

    Returns
    -------
    shape : (int, int)

    Examples
    --------
    >>> output_shape((400, 338), (3, 3))
    (398, 336)
    >>> output_shape((400, 338), (3, 3), mode="same", stride=2)
    (200, 169)
    """
    (h, w), (kh, kw) = image_shape, kernel_shape
    if mode == "valid":
        full = (h - kh + 1, w - kw + 1)
    elif mode == "same":
        full = (h, w)
    else:
        full = (h + kh - 1, w + kw - 1)
    return (-(-full[0] // stride), -(-full[1] // stride))


def convolve(image, kernel, mode="valid", boundary="fill", fillvalue=0.0, stride=1,
             correlate=False, method="auto") -> np.ndarray:
    """Convolve (or cross-correlate) a 2-D image with a 2-D kernel.

    Parameters
    ----------
    image : (h, w) array_like
    kernel : (kh, kw) array_like
        Odd or even sizes, square or not.
    mode : {'valid', 'same', 'full'}
        As in :func:`scipy.signal.convolve2d`.
    boundary : {'fill', 'wrap', 'symm'}
        How the image is extended beyond its edges (not used in ``valid`` mode).
    fillvalue : float
        The value outside the image with ``boundary='fill'``.
    stride : int
        Keep every ``stride``-th output row and column (starting at the first).
    correlate : bool
        Cross-correlation (no kernel flip, the CNN convention) instead of true convolution.
    method : {'auto', 'direct', 'separable', 'fft'}
        ``auto`` picks the fastest by a cost model; ``separable`` needs a rank-1 kernel.

    Returns
    -------
    feature_map : float64 array of :func:`output_shape`

    Examples
    --------
    >>> x = np.arange(16.0).reshape(4, 4)
    >>> convolve(x, np.eye(3))
    array([[15., 18.],
           [27., 30.]])
    >>> convolve(x, [[1.0, -1.0]], correlate=True)
    array([[-1., -1., -1.],
           [-1., -1., -1.],
           [-1., -1., -1.],
           [-1., -1., -1.]])
    """
    x = _check_image(image)
    k = check_kernel(kernel)
    check_choice("--mode", mode, MODES)
    check_choice("--boundary", boundary, BOUNDARIES)
    check_choice("--method", method, METHODS)
    stride = _check_stride(stride)
    fillvalue = float(fillvalue)
    if not np.isfinite(fillvalue):
        raise NnkitInputError(f"--fillvalue must be finite, got {fillvalue}")
    (h, w), (kh, kw) = x.shape, k.shape
    if mode == "valid" and (kh > h or kw > w):
        raise NnkitInputError(
            f"the {kh}×{kw} kernel is larger than the {h}×{w} image in valid mode",
            hint="use --mode same or full, or a smaller kernel",
        )
    # Correlation with the flipped kernel is convolution; everything below correlates.
    weights = k if correlate else k[::-1, ::-1]
    # Rows/columns of extension before and after the image that the mode needs.
    if mode == "valid":
        pads = (0, 0, 0, 0)
    elif mode == "full":
        pads = (kh - 1, kh - 1, kw - 1, kw - 1)
    else:
        top, left = kh - 1 - (kh - 1) // 2, kw - 1 - (kw - 1) // 2
        pads = (top, kh - 1 - top, left, kw - 1 - left)
    if correlate and mode != "valid":
        # convolve2d(x, k[::-1, ::-1]) is how correlate2d is defined, so the same/full offsets
        # belong to the flipped kernel; only even sizes care.
        pads = (pads[1], pads[0], pads[3], pads[2]) if mode == "same" else pads
    rank_one = _rank_one(weights)
    if method == "auto":
        method = _choose_method(x.shape, weights, rank_one, mode)
    elif method == "separable" and rank_one is None:
        raise NnkitInputError("--method separable needs a rank-1 (separable) kernel")
    if method == "fft":
        padded = _pad(x, pads, boundary, fillvalue)
        result = _fft_valid(padded, weights)
    else:
        result = _banded(x, weights, pads, boundary, fillvalue,
                         rank_one if method == "separable" else None)
    if stride > 1:
        result = np.ascontiguousarray(result[::stride, ::stride])
    return result


def correlate(image, kernel, **options) -> np.ndarray:
    """Cross-correlate (no kernel flip): :func:`convolve` with ``correlate=True``.

    Examples
    --------
    >>> correlate(np.arange(9.0).reshape(3, 3), [[1.0, 0.0], [0.0, 0.0]])
    array([[0., 1.],
           [3., 4.]])
    """
    return convolve(image, kernel, correlate=True, **options)


def patch_walkthrough(image, kernel, row, col, mode="valid", boundary="fill", fillvalue=0.0,
                      correlate=False) -> dict:
    """The course's walk-through of one output value: the patch, its product with the kernel, the sum.

    Parameters
    ----------
    image : (h, w) array_like
    kernel : (kh, kw) array_like
    row, col : int
        Output position (before any stride). In ``valid`` mode the patch's top-left pixel,
        so ``(22, 102)`` is the course's ``brain[22:25, 102:105]``.
    mode, boundary, fillvalue, correlate
        As in :func:`convolve`.

    Returns
    -------
    dict
        ``patch`` (kh, kw), ``weights`` (the kernel as applied: flipped unless correlating),
        ``product`` (patch × weights), ``value`` (the sum), ``top_left`` (patch origin in
        image coordinates; negative or past the edge when it hangs over the boundary).

    Examples
    --------
    >>> w = patch_walkthrough(np.arange(16.0).reshape(4, 4), np.eye(3), 1, 1)
    >>> w["patch"].tolist(), w["value"]
    ([[5.0, 6.0, 7.0], [9.0, 10.0, 11.0], [13.0, 14.0, 15.0]], 30.0)
    """
    x = _check_image(image)
    k = check_kernel(kernel)
    kh, kw = k.shape
    oh, ow = output_shape(x.shape, k.shape, mode)
    if not (0 <= row < oh and 0 <= col < ow):
        raise NnkitInputError(
            f"--patch {row},{col} is outside the {oh}×{ow} feature map "
            f"(rows 0..{oh - 1}, columns 0..{ow - 1})"
        )
    weights = k if correlate else k[::-1, ::-1]
    if mode == "valid":
        top, left = 0, 0
    elif mode == "full":
        top, left = kh - 1, kw - 1
    else:
        top, left = kh - 1 - (kh - 1) // 2, kw - 1 - (kw - 1) // 2
        if correlate:
            top, left = (kh - 1) // 2, (kw - 1) // 2
    padded = _pad(x, (top, kh, left, kw), boundary, float(fillvalue))
    patch = padded[row:row + kh, col:col + kw].copy()
    product = patch * weights
    return {
        "patch": patch,
        "weights": weights.copy(),
        "product": product,
        "value": float(product.sum()),
        "top_left": (row - top, col - left),
    }


def _check_image(image) -> np.ndarray:
    x = np.asarray(image, dtype=np.float64)
    if x.ndim != 2:
        raise NnkitInputError(f"the image must be 2-D, got {x.ndim}-D with shape {x.shape}")
    if x.size == 0:
        raise NnkitInputError("the image is empty")
    return x


def check_choice(option: str, value: str, choices) -> None:
    if value not in choices:
        raise NnkitInputError(f"{option} must be one of {', '.join(choices)}, got {value!r}")


def _check_stride(stride) -> int:
    if int(stride) != stride or stride < 1:
        raise NnkitInputError(f"--stride must be an integer of at least 1, got {stride}")
    return int(stride)


def _rank_one(weights: np.ndarray):
    """``(column, row)`` with ``outer(column, row) == weights`` if the kernel is rank 1, else None."""
    kh, kw = weights.shape
    if kh == 1 or kw == 1:
        return None  # already one pass
    u, s, vt = np.linalg.svd(weights)
    if s[0] == 0 or s[1] > 1e-13 * s[0]:
        return None
    column, row = u[:, 0] * np.sqrt(s[0]), vt[0] * np.sqrt(s[0])
    if np.max(np.abs(np.outer(column, row) - weights)) > 1e-14 * np.max(np.abs(weights)):
        return None
    return column, row


def _choose_method(shape, weights, rank_one, mode) -> str:
    kh, kw = weights.shape
    out_pixels = np.prod(output_shape(shape, weights.shape, mode), dtype=float)
    direct = out_pixels * (_NS_PER_WEIGHT * np.count_nonzero(weights) + _NS_PER_PIXEL)
    separable = np.inf if rank_one is None else out_pixels * (_NS_PER_WEIGHT * (kh + kw)
                                                              + 2 * _NS_PER_PIXEL)
    h = shape[0] + (kh - 1 if mode == "full" else kh - 1 if mode == "same" else 0)
    w = shape[1] + (kw - 1 if mode == "full" else kw - 1 if mode == "same" else 0)
    n = float(_fast_len(h)) * _fast_len(w)
    fft = _NS_PER_NLOGN * n * np.log2(n) / min(_workers(), 2) ** 0.6
    costs = {"direct": direct / _workers(), "separable": separable / _workers(), "fft": fft}
    return min(costs, key=costs.get)


def _workers() -> int:
    return max(1, os.cpu_count() or 1)


def _fast_len(n: int) -> int:
    from scipy.fft import next_fast_len

    return next_fast_len(int(n), real=True)


def _pad(x, pads, boundary, fillvalue) -> np.ndarray:
    top, bottom, left, right = pads
    if not any(pads):
        return x
    widths = ((top, bottom), (left, right))
    if boundary == "fill":
        return np.pad(x, widths, mode="constant", constant_values=fillvalue)
    return np.pad(x, widths, mode=_NP_PAD_MODE[boundary])


def _fft_valid(padded: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Valid correlation of ``padded`` with ``weights`` through real FFTs."""
    from scipy import fft

    h, w = padded.shape
    kh, kw = weights.shape
    shape = (_fast_len(h), _fast_len(w))
    workers = _workers()
    # Circular convolution of size >= the image: wrap-around only touches the rows/columns
    # before kh-1/kw-1, which the valid part discards.
    spectrum = fft.rfft2(padded, shape, workers=workers)
    spectrum *= fft.rfft2(weights[::-1, ::-1], shape, workers=workers)
    full = fft.irfft2(spectrum, shape, workers=workers, overwrite_x=True)
    return np.ascontiguousarray(full[kh - 1:h, kw - 1:w])


def _banded(x, weights, pads, boundary, fillvalue, rank_one) -> np.ndarray:
    """Direct (or separable) correlation, over bands of output rows on all cores."""
    from scipy import ndimage

    kh, kw = weights.shape
    top, bottom, left, right = pads
    h, w = x.shape
    # ndimage extends the edges itself for fill and symm, saving a padded copy. Wrap would pull
    # rows from the far end of a band rather than of the image, full mode makes the result larger
    # than ndimage's, and extensions as long as the image repeat reflections: pad those explicitly.
    own_edges = (boundary != "wrap" and top + bottom == kh - 1 and left + right == kw - 1
                 and max(top, bottom) < h and max(left, right) < w
                 # the second 1-D pass would extend the first pass's sums with the bare fillvalue
                 and not (rank_one is not None and boundary == "fill" and fillvalue != 0))
    if not own_edges:
        x = _pad(x, pads, boundary, fillvalue)
        top = left = 0
        h, w = x.shape
    out_h, out_w = h - kh + 1 + (top + bottom if own_edges else 0), w - kw + 1 + (
        left + right if own_edges else 0)
    # ndimage's window for result (i, j) starts at (i - kh//2 - origin, j - kw//2 - origin);
    # these origins make it start `top` rows and `left` columns before the pixel.
    origin = (top - kh // 2, left - kw // 2)
    mode = _NDIMAGE_MODE[boundary] if own_edges else "constant"

    def run(band: np.ndarray) -> np.ndarray:
        if rank_one is None:
            return ndimage.correlate(band, weights, mode=mode, cval=fillvalue, origin=origin)
        column, row = rank_one
        tmp = ndimage.correlate1d(band, column, axis=0, mode=mode, cval=fillvalue,
                                  origin=origin[0])
        return ndimage.correlate1d(tmp, row, axis=1, mode=mode, cval=fillvalue, origin=origin[1])

    if out_h * out_w < _MIN_PIXELS_FOR_THREADS:
        # One band: ndimage's own result already holds the map in its top-left corner.
        return run(x[:min(h, out_h - top + kh - 1)])[:out_h, :out_w]
    out = np.empty((out_h, out_w))

    def band(rows: tuple[int, int]) -> None:
        r0, r1 = rows
        # The image rows the windows of output rows r0..r1 touch, clipped to the image: a clipped
        # end is a real image edge, where ndimage's own extension is the right one.
        lo = max(0, r0 - top)
        hi = min(h, r1 - top + kh - 1)
        out[r0:r1] = run(x[lo:hi])[r0 - lo:r1 - lo, :out_w]

    # One band per core; below ~100k output pixels the thread hand-off costs more than it saves.
    n_bands = min(out_h, _workers())
    edges = np.linspace(0, out_h, n_bands + 1).astype(int)
    bands = [(int(a), int(b)) for a, b in itertools.pairwise(edges) if b > a]
    list(_thread_pool().map(band, bands))
    return out


@functools.cache
def _thread_pool():
    from concurrent.futures import ThreadPoolExecutor

    return ThreadPoolExecutor(max_workers=_workers(), thread_name_prefix="nnkit-conv")
