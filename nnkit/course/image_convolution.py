"""2-D convolution and cross-correlation with ``scipy.signal.convolve2d``'s meaning, made fast.

``mode`` (valid|same|full), ``boundary`` (fill|wrap|symm) and ``fillvalue`` mean exactly what they
mean in :func:`scipy.signal.convolve2d`; ``stride`` keeps every ``stride``-th output row and column.
The work is done in one of three ways, chosen per call by a cost model fitted to measurements
(``benchmarks/conv_pool.py``):

``direct``
    a sum of shifted copies of the flattened image (one multiply-add per non-zero weight over a
    contiguous slice), in chunks that stay in L2 cache and are shared between cores; in ``same``
    mode the interior is written straight into the output and only the thin edge strips, where
    the window overhangs the boundary, go through ``scipy.ndimage.correlate``.
``separable``
    a rank-1 kernel (box, Gaussian, Sobel, Prewitt) as a column pass then a row pass.
``fft``
    ``scipy.fft.rfft2`` on all cores. The valid part of a circular convolution is already a linear
    one, so the transform only needs the (padded) image's own fast size, not image + kernel.

Accuracy: every method agrees with ``scipy.signal.convolve2d`` within ``1e-10`` absolute for images
scaled to 0..1 and kernels of moderate L1 norm; the FFT error grows like ``eps · max|image| ·
sum|kernel| · log(size)``.
"""

import functools
import os

import numpy as np

from nnkit.errors import NnkitInputError, at_least_one

MODES = ("valid", "same", "full")
BOUNDARIES = ("fill", "wrap", "symm")
METHODS = ("auto", "direct", "separable", "fft")

_NP_PAD_MODE = {"fill": "constant", "wrap": "wrap", "symm": "symmetric"}
_NDIMAGE_MODE = {"fill": "constant", "wrap": "grid-wrap", "symm": "reflect"}

# Cost model in nanoseconds, fitted on the 2-core AMD EPYC these were written on, busy with other
# work (benchmarks/conv_pool.py): direct ≈ output pixels · (per-weight · non-zero weights +
# per-pixel); separable the same with kh + kw weights and two passes; fft ≈ per-n·log2(n).
_NS_PER_WEIGHT = 0.42
_NS_PER_PIXEL = 0.3
_NS_PER_PIXEL_SEPARABLE = 1.8  # the intermediate map is written and read back once
_NS_PER_NLOGN = 1.3
_MIN_WORK_FOR_THREADS = 4_000_000  # weight·pixels below which a second thread costs more than it saves
_FFT_THREADED_SIZE = 1 << 20  # values of the padded transform from which the FFT uses every core
_CHUNK = 32_768  # values per chunk of the flat direct method: 256 kB of float64, within L2 cache


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
    check_fits(x.shape, k.shape, mode)
    kh, kw = k.shape
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
        result = _direct(x, weights, pads, boundary, fillvalue,
                         rank_one if method == "separable" else None)
    if stride > 1:
        result = np.ascontiguousarray(result[::stride, ::stride])
    return result


def check_fits(image_shape, kernel_shape, mode="valid") -> None:
    """Raise an input error if a kernel cannot be applied to an image in ``mode``.

    Examples
    --------
    >>> check_fits((4, 4), (3, 3))
    >>> check_fits((2, 8), (3, 3), mode="same")
    """
    (h, w), (kh, kw) = image_shape, kernel_shape
    if mode == "valid" and (kh > h or kw > w):
        raise NnkitInputError(
            f"the {kh}×{kw} kernel is larger than the {h}×{w} image in valid mode",
            hint="use --mode same or full, or a smaller kernel",
        )


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
                      correlate=False, stride=1) -> dict:
    """The course's walk-through of one output value: the patch, its product with the kernel, the sum.

    Parameters
    ----------
    image : (h, w) array_like
    kernel : (kh, kw) array_like
    row, col : int
        Output position in the feature map :func:`convolve` returns with the same options. In
        ``valid`` mode without stride the patch's top-left pixel, so ``(22, 102)`` is the course's
        ``brain[22:25, 102:105]``; with ``stride`` the patch starts ``stride`` times further.
    mode, boundary, fillvalue, correlate, stride
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
    check_fits(x.shape, k.shape, mode)
    stride = _check_stride(stride)
    kh, kw = k.shape
    oh, ow = output_shape(x.shape, k.shape, mode, stride)
    if not (0 <= row < oh and 0 <= col < ow):
        raise NnkitInputError(
            f"--patch {row},{col} is outside the {oh}×{ow} feature map "
            f"(rows 0..{oh - 1}, columns 0..{ow - 1})"
        )
    row, col = row * stride, col * stride
    weights = k if correlate else k[::-1, ::-1]
    top, _, left, _ = padding(k.shape, mode, correlate)
    padded = _pad(x, (top, kh, left, kw), boundary, float(fillvalue))
    patch = padded[row:row + kh, col:col + kw].copy()
    product = patch * weights + 0.0  # no -0 in the walk-through (0 × -1)
    return {
        "patch": patch,
        "weights": weights.copy(),
        "product": product,
        "value": float(product.sum()),
        "top_left": (row - top, col - left),
    }


#: The course's 3-2 example (deepage.net's figures, after Stanford's UFLDL tutorial): a 5×5 image of
#: 0s and 1s, and the 3×3 filter slid over it; its feature map is [[4, 3, 4], [2, 4, 3], [2, 3, 4]].
EXAMPLE_IMAGE = np.array([
    [1, 1, 1, 0, 0],
    [0, 1, 1, 1, 0],
    [0, 0, 1, 1, 1],
    [0, 0, 1, 1, 0],
    [0, 1, 1, 0, 0],
], dtype=np.float64)
EXAMPLE_KERNEL = np.array([[1, 0, 1], [0, 1, 0], [1, 0, 1]], dtype=np.float64)


def padding(kernel_shape, mode: str = "valid", correlate: bool = False) -> tuple[int, int, int, int]:
    """Rows and columns added around the image (top, bottom, left, right) before the kernel slides.

    ``valid`` adds none; ``full`` adds ``k − 1`` on every side; ``same`` adds ``k − 1`` in all,
    split so that the output has the input's size (for an even kernel one side gets one more, the
    side scipy.signal.convolve2d and correlate2d give it).

    Examples
    --------
    >>> padding((3, 3), "same"), padding((3, 3), "full"), padding((3, 3))
    ((1, 1, 1, 1), (2, 2, 2, 2), (0, 0, 0, 0))
    >>> padding((2, 4), "same"), padding((2, 4), "same", correlate=True)
    ((1, 0, 2, 1), (0, 1, 1, 2))
    """
    check_choice("--mode", mode, MODES)
    kh, kw = kernel_shape
    if mode == "valid":
        return 0, 0, 0, 0
    if mode == "full":
        return kh - 1, kh - 1, kw - 1, kw - 1
    top, left = ((kh - 1) // 2, (kw - 1) // 2) if correlate else (kh - 1 - (kh - 1) // 2, kw - 1 - (kw - 1) // 2)
    return top, kh - 1 - top, left, kw - 1 - left


def pad_input(image, kernel_shape, mode="valid", boundary="fill", fillvalue=0.0, correlate=False) -> np.ndarray:
    """The image as the kernel sees it in ``mode``: with the rows and columns of :func:`padding` added.

    With ``boundary="fill"`` and ``fillvalue=0`` that is the course's ゼロパディング (zero padding).

    Examples
    --------
    >>> pad_input(np.ones((2, 2)), (3, 3), "same").astype(int).tolist()
    [[0, 0, 0, 0], [0, 1, 1, 0], [0, 1, 1, 0], [0, 0, 0, 0]]
    """
    x = _check_image(image)
    top, bottom, left, right = padding(kernel_shape, mode, correlate)
    return _pad(x, (top, bottom, left, right), boundary, float(fillvalue))


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
    return at_least_one(stride, "--stride")


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
    out_pixels = float(np.prod(output_shape(shape, weights.shape, mode)))
    direct = out_pixels * (_NS_PER_WEIGHT * np.count_nonzero(weights) + _NS_PER_PIXEL)
    separable = np.inf if rank_one is None else out_pixels * (
        _NS_PER_WEIGHT * (kh + kw) + _NS_PER_PIXEL_SEPARABLE)
    # The padded image's size; next_fast_len would move it by a few per cent at most.
    grow = 0 if mode == "valid" else 1
    n = float(shape[0] + grow * (kh - 1)) * (shape[1] + grow * (kw - 1))
    fft = _NS_PER_NLOGN * n * np.log2(n)
    costs = {"direct": direct, "separable": separable, "fft": fft}
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
    # Threads pay off for large transforms only: a 400×360 one took 1.5 ms on one worker and
    # 4–12 ms on two (their hand-offs cost more than the work; worse on a busy machine).
    workers = _workers() if shape[0] * shape[1] >= _FFT_THREADED_SIZE else 1
    # Circular convolution of size >= the image: wrap-around only touches the rows/columns
    # before kh-1/kw-1, which the valid part discards.
    spectrum = fft.rfft2(padded, shape, workers=workers)
    # The kernel has only kh non-zero rows: transform those along x, then zero-pad along y.
    kernel_rows = fft.rfft(weights[::-1, ::-1], n=shape[1], axis=1, workers=workers)
    spectrum *= fft.fft(kernel_rows, n=shape[0], axis=0, workers=workers)
    full = fft.irfft2(spectrum, shape, workers=workers, overwrite_x=True)
    return np.ascontiguousarray(full[kh - 1:h, kw - 1:w])


def _flat_valid(a: np.ndarray, weights: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Valid correlation as a sum of shifted copies of the flattened image, in cache-sized chunks.

    Output (i, j) sits at flat index ``i * w + j`` and reads ``a.flat[i * w + j + m * w + n]``, so
    every weight is one multiply-add over a contiguous 1-D slice; the ``kw - 1`` values per row
    that wrap into the next row are computed and then ignored. Chunks of 32k values keep the
    accumulator in L2 cache, and zero weights (``identity``, ``sobel``…) are skipped. NumPy
    releases the GIL in these loops, so chunks are shared between cores.
    Returns the (h - kh + 1, w - kw + 1) map as a view of a (h - kh + 1, w) buffer (or of ``out``,
    a flat buffer of at least ``(h - kh) * w + w - kw + 1`` values).
    """
    a = np.ascontiguousarray(a)
    h, w = a.shape
    kh, kw = weights.shape
    oh, ow = h - kh + 1, w - kw + 1
    n = (oh - 1) * w + ow
    flat = a.ravel()
    buffer = np.empty(oh * w) if out is None else out
    terms = [(m * w + c, float(weights[m, c])) for m in range(kh) for c in range(kw)
             if weights[m, c] != 0]
    if not terms:
        buffer[:n] = 0.0
    else:
        starts = range(0, n, _CHUNK)

        def work(part: range) -> None:
            scratch = np.empty(_CHUNK)
            for s in part:
                e = min(s + _CHUNK, n)
                acc, tmp = buffer[s:e], scratch[:e - s]
                (offset, value), rest = terms[0], terms[1:]
                np.multiply(flat[s + offset:e + offset], value, out=acc)
                for offset, value in rest:
                    np.multiply(flat[s + offset:e + offset], value, out=tmp)
                    np.add(acc, tmp, out=acc)

        parts = _workers() if n * len(terms) >= _MIN_WORK_FOR_THREADS else 1
        if parts == 1 or len(starts) < 2:
            work(starts)
        else:
            list(_thread_pool().map(work, [starts[i::parts] for i in range(parts)]))
    if out is not None:
        return out
    return buffer.reshape(oh, w)[:, :ow]


def _direct(x, weights, pads, boundary, fillvalue, rank_one) -> np.ndarray:
    """Direct (or separable) correlation: flat shifted sums inside, ndimage along the edges."""
    kh, kw = weights.shape
    top, bottom, left, right = pads
    h, w = x.shape
    own_edges = (boundary != "wrap" and top + bottom == kh - 1 and left + right == kw - 1
                 and max(top, bottom) < h and max(left, right) < w and h >= kh and w >= kw
                 and not (rank_one is not None and boundary == "fill" and fillvalue != 0))
    if not own_edges or not any(pads):
        padded = _pad(x, pads, boundary, fillvalue)
        if rank_one is None:
            return _flat_valid(padded, weights)
        column, row = rank_one
        return _flat_valid(_flat_valid(padded, column[:, np.newaxis]), row[np.newaxis, :])
    # Same mode: the interior straight into the output's memory (its rows are as long as the
    # image's), then the thin border strips, where the window hangs over the edge, by ndimage.
    out = np.empty((h, w))
    start = top * w + left
    interior = out.reshape(-1)[start:]
    if rank_one is None:
        _flat_valid(x, weights, out=interior)
    else:
        column, row = rank_one
        _flat_valid(np.ascontiguousarray(_flat_valid(x, column[:, np.newaxis])), row[np.newaxis, :],
                    out=out.reshape(-1)[top * w + left:])
    strips = _banded_strips(x, weights, pads, boundary, fillvalue)
    for (r0, r1, c0, c1), values in strips:
        out[r0:r1, c0:c1] = values
    return out


def _banded_strips(x, weights, pads, boundary, fillvalue):
    """The same-mode output along the four edges (where the kernel overlaps the boundary)."""
    from scipy import ndimage

    kh, kw = weights.shape
    top, bottom, left, right = pads
    h, w = x.shape
    origin = (top - kh // 2, left - kw // 2)
    mode = _NDIMAGE_MODE[boundary]

    def run(part):
        return ndimage.correlate(part, weights, mode=mode, cval=fillvalue, origin=origin)

    strips = []
    for r0, r1 in ((0, top), (h - bottom, h)):
        if r1 > r0:
            lo, hi = max(0, r0 - top), min(h, r1 - top + kh - 1)
            strips.append(((r0, r1, 0, w), run(x[lo:hi])[r0 - lo:r1 - lo]))
    for c0, c1 in ((0, left), (w - right, w)):
        if c1 > c0:
            lo, hi = max(0, c0 - left), min(w, c1 - left + kw - 1)
            strips.append(((0, h, c0, c1), run(x[:, lo:hi])[:, c0 - lo:c1 - lo]))
    return strips


@functools.cache
def _thread_pool():
    from concurrent.futures import ThreadPoolExecutor

    return ThreadPoolExecutor(max_workers=_workers(), thread_name_prefix="nnkit-conv")
