"""Pooling: reduce each window of a 2-D feature map to one number (max, mean, min, median, sum).

Windows of ``size`` start every ``stride`` pixels (default: ``stride = size``, non-overlapping
blocks). With ``edge='keep'`` a last, partial window at the bottom or right edge is kept when it
starts inside the map (PyTorch's ``ceil_mode``), and it is reduced over its real pixels only: unlike
``skimage.measure.block_reduce``, which pads with zeros, a partial block's mean is not pulled towards
zero and its min is not 0. With ``edge='drop'`` partial windows are discarded.

Max, min, sum and mean are separable, so they run as a row pass then a column pass over strided
views (``size`` + ``size`` operations per output instead of ``size²``, and no copies of windows).
"""

import numpy as np

from nnkit.course.image_convolution import check_choice
from nnkit.errors import NnkitInputError, at_least_one

OPS = ("max", "mean", "min", "median", "sum")
EDGES = ("keep", "drop")

_PAIRWISE = {"max": np.maximum, "min": np.minimum, "sum": np.add, "mean": np.add}


def pool_output_shape(shape, size, stride=None, edge="keep") -> tuple[int, int]:
    """Shape of the pooled map.

    Parameters
    ----------
    shape : (int, int)
        Shape of the input map.
    size, stride : int or (int, int)
    edge : {'keep', 'drop'}

    Returns
    -------
    shape : (int, int)
        Raises an input error when no whole window fits with ``edge='drop'``.

    Examples
    --------
    >>> pool_output_shape((398, 336), 5)
    (80, 68)
    >>> pool_output_shape((398, 336), 5, edge="drop")
    (79, 67)
    """
    sizes, strides = _check_sizes(size, stride)
    check_choice("--edge", edge, EDGES)
    counts = tuple(_count(n, k, s, edge) for n, k, s in zip(shape, sizes, strides, strict=True))
    if 0 in counts:
        raise NnkitInputError(
            f"--size {sizes[0]},{sizes[1]} is larger than the {shape[0]}×{shape[1]} map "
            "with --edge drop",
            hint="use --edge keep or a smaller --size",
        )
    return counts


def pool(x, size, stride=None, op="max", edge="keep") -> np.ndarray:
    """Pool a 2-D map.

    Parameters
    ----------
    x : (h, w) array_like
    size : int or (int, int)
        Window height and width (``5`` means 5×5).
    stride : int or (int, int), optional
        Step between windows; default ``size``. Smaller than ``size`` overlaps the windows.
    op : {'max', 'mean', 'min', 'median', 'sum'}
    edge : {'keep', 'drop'}
        Keep the partial windows at the bottom and right edges (reduced over their real
        pixels only) or drop them.

    Returns
    -------
    pooled : float64 array of :func:`pool_output_shape`

    Examples
    --------
    >>> x = np.arange(20.0).reshape(4, 5)
    >>> pool(x, 2)
    array([[ 6.,  8.,  9.],
           [16., 18., 19.]])
    >>> pool(x, 2, op="mean")
    array([[ 3. ,  5. ,  6.5],
           [13. , 15. , 16.5]])
    >>> pool(x, 2, edge="drop")
    array([[ 6.,  8.],
           [16., 18.]])
    """
    a = np.asarray(x, dtype=np.float64)
    if a.ndim != 2:
        raise NnkitInputError(f"pooling needs a 2-D array, got {a.ndim}-D with shape {a.shape}")
    if a.size == 0:
        raise NnkitInputError("the array to pool is empty")
    check_choice("--op", op, OPS)
    sizes, strides = _check_sizes(size, stride)
    out_shape = pool_output_shape(a.shape, sizes, strides, edge)
    if op == "median":
        return _median(a, sizes, strides, out_shape)
    rows = _reduce_axis(a, sizes[0], strides[0], out_shape[0], op, axis=0)
    return _reduce_axis(rows, sizes[1], strides[1], out_shape[1], op, axis=1)


def _reduce_axis(a, size, stride, count, op, axis) -> np.ndarray:
    """Reduce windows along one axis; the last window may be partial (cut at the edge)."""
    n = a.shape[axis]
    full = min(count, (n - size) // stride + 1 if n >= size else 0)

    def take(start: int, number: int) -> np.ndarray:
        sl = slice(start, start + (number - 1) * stride + 1, stride)
        return a[sl] if axis == 0 else a[:, sl]

    pieces = []
    if full:
        combine = _PAIRWISE[op]
        acc = take(0, full).copy()
        for offset in range(1, size):
            combine(acc, take(offset, full), out=acc)
        if op == "mean":
            acc /= size
        pieces.append(acc)
    if count > full:  # one partial window at the end, over its real pixels only
        start = full * stride
        tail = a[start:] if axis == 0 else a[:, start:]
        reducer = {"max": np.max, "min": np.min, "sum": np.sum, "mean": np.mean}[op]
        pieces.append(reducer(tail, axis=axis, keepdims=True))
    return pieces[0] if len(pieces) == 1 else np.concatenate(pieces, axis=axis)


def _median(a, sizes, strides, out_shape) -> np.ndarray:
    """Median of each window, over its real pixels only.

    Whole windows, then the partial last row and column of windows: each part is a regular grid of
    windows of one shape (there is at most one partial window per axis).
    """
    from numpy.lib.stride_tricks import sliding_window_view

    out = np.empty(out_shape)
    (h, w), (kh, kw), (sh, sw) = a.shape, sizes, strides
    full_r = min(out_shape[0], (h - kh) // sh + 1 if h >= kh else 0)
    full_c = min(out_shape[1], (w - kw) // sw + 1 if w >= kw else 0)
    # (first output index, number of windows, window length) along each axis
    row_parts = [(0, full_r, kh), (full_r, out_shape[0] - full_r, h - full_r * sh)]
    col_parts = [(0, full_c, kw), (full_c, out_shape[1] - full_c, w - full_c * sw)]
    for i0, ni, hi in row_parts:
        for j0, nj, wj in col_parts:
            if ni and nj:
                windows = sliding_window_view(a[i0 * sh:, j0 * sw:], (hi, wj))[::sh, ::sw][:ni, :nj]
                out[i0:i0 + ni, j0:j0 + nj] = _median_of(windows)
    return out


def _median_of(windows: np.ndarray) -> np.ndarray:
    """``np.median`` over the last two axes of (ni, nj, hi, wj) windows, the same numbers faster.

    The window's values go first in one contiguous copy, so one partition runs along axis 0 over
    every window at once (``np.median`` over a trailing axis is 1.3–4× slower).
    """
    ni, nj, hi, wj = windows.shape
    m = hi * wj
    stack = windows.transpose(2, 3, 0, 1).copy().reshape(m, ni, nj)  # never the input's memory
    if m % 2:
        stack.partition(m // 2, axis=0)
        return stack[m // 2]
    stack.partition([m // 2 - 1, m // 2], axis=0)
    return (stack[m // 2 - 1] + stack[m // 2]) / 2


def _count(n: int, size: int, stride: int, edge: str) -> int:
    if edge == "drop":
        return (n - size) // stride + 1 if n >= size else 0
    # PyTorch's ceil_mode: ceil((n - size) / stride) + 1 windows, the last one partial, but only
    # if it starts inside the map (with stride > size it could start past the end).
    count = -(-max(n - size, 0) // stride) + 1
    return count - 1 if (count - 1) * stride >= n else count


def _check_sizes(size, stride):
    sizes = _pair("--size", size)
    strides = sizes if stride is None else _pair("--stride", stride)
    return sizes, strides


def _pair(option: str, value) -> tuple[int, int]:
    values = np.atleast_1d(np.asarray(value)).ravel().tolist()
    if len(values) == 1:
        values = values * 2
    if len(values) != 2:
        raise NnkitInputError(f"{option} takes one or two integers, got {value!r}")
    return at_least_one(values[0], option), at_least_one(values[1], option)
