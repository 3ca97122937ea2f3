"""The passes of a training step, each on a slice of the batch, for :mod:`nnkit.nn.threads`.

Every function here fills the rows ``start:stop`` of arrays its caller made beforehand (buffers
are never allocated in a worker thread) and touches nothing outside them, so the slices can run
on separate cores at once. ``split`` runs one of them over a whole batch through the pool.

- :func:`im2col` / :func:`col2im`: the patch copies of a convolution and their scatter-add back;
- :func:`rows_product`: a matrix product by blocks of rows (the forward product of a layer);
- :func:`weight_gradient`: ``aᵀ @ b`` over a long shared axis, as per-slice partial products
  added in slice order (the weight gradient: conv1's (10 × 86 528) @ (86 528 × 32) is a skinny
  product that BLAS's own threads split badly);
- :func:`pool_max` / :func:`first_max_mask` / :func:`pool_max_backward`: max pooling;
- :func:`relu` / :func:`relu_backward`: the rectifier, in place, and its mask.
"""

from __future__ import annotations

from functools import partial

import numpy as np

from nnkit.nn import threads

#: Fewer values than this per slice are not worth a thread (the hand-off costs ~10 µs).
MIN_SLICE_VALUES = 1 << 14


def split(fn, n: int, *args, gemm: bool = False, min_size: int = 1, **kwargs) -> None:
    """``fn(*args, start, stop, **kwargs)`` over slices of ``range(n)``, one per thread.

    Slices hold at least ``min_size`` items and :data:`MIN_SLICE_VALUES` values of the largest
    array argument whose first axis has ``n`` items.
    """
    per_item = max((a.size // n for a in args if isinstance(a, np.ndarray) and a.ndim and
                    len(a) == n), default=0) if n else 0
    if per_item:
        min_size = max(min_size, -(-MIN_SLICE_VALUES // per_item))
    threads.parallel(partial(_call, fn, args, kwargs), n, gemm=gemm, min_size=min_size)


def _call(fn, args, kwargs, start, stop):
    fn(*args, start, stop, **kwargs)


# ----- convolution ----------------------------------------------------------------------------


def _window_views(x, kh, kw, s, ho, wo):
    """((u, v), x[:, u::s, v::s] cut to ho × wo) for every kernel offset."""
    for u in range(kh):
        for v in range(kw):
            yield (u, v), x[:, u : u + (ho - 1) * s + 1 : s, v : v + (wo - 1) * s + 1 : s]


def im2col(xp, buf, kh, kw, s, ho, wo, start, stop):
    """Fill the patch rows of images ``start:stop`` of the padded input ``xp`` into ``buf``.

    ``buf`` is (N·ho·wo, kh·kw·c + 1), one patch per row in (u, v, c) order then a 1, or its
    transpose (kh·kw·c + 1, N·ho·wo) when it is wider than tall (few channels): then each
    (u, v, c) is one contiguous row copied from a shifted view of the images.
    """
    n, _, _, c = xp.shape
    k = kh * kw * c
    per = ho * wo
    x = xp[start:stop]
    if buf.shape[0] == k + 1:  # transposed
        patches = buf[:k].reshape(kh, kw, c, n, ho, wo)[:, :, :, start:stop]
        for (u, v), view in _window_views(x, kh, kw, s, ho, wo):
            np.copyto(patches[u, v], view.transpose(3, 0, 1, 2))
        buf[k, start * per : stop * per] = 1
        return
    rows = buf[start * per : stop * per]
    windows = np.lib.stride_tricks.sliding_window_view(x, (kh, kw), axis=(1, 2))
    windows = windows[:, : (ho - 1) * s + 1 : s, : (wo - 1) * s + 1 : s].transpose(0, 1, 2, 4, 5, 3)
    item = rows.itemsize
    patches = np.lib.stride_tricks.as_strided(
        rows, (stop - start, ho, wo, kh, kw, c),
        (per * (k + 1) * item, wo * (k + 1) * item, (k + 1) * item, kw * c * item, c * item, item))
    np.copyto(patches, windows)
    rows[:, k] = 1


def rows_product(a, b, out, start, stop, bias=None):
    """``out[start:stop] = a[start:stop] @ b`` (``+ bias``, broadcast over the rows, if given)."""
    o = out[start:stop]
    np.matmul(a[start:stop], b, out=o)
    if bias is not None:
        o += bias


def weight_gradient(a_t, b, out, cache: dict, rows_per_item: int = 1) -> None:
    """``out = a_tᵀ @ b`` (a weight gradient) split over the threads along the summed axis.

    ``rows_per_item``: slices fall on whole images (``ho·wo`` rows each) so they match the other
    passes' slices. The partial products live in ``cache`` (one set per shape).
    """
    items = len(b) // rows_per_item
    worth = max(1, len(b) * (a_t.shape[1] + b.shape[1]) // MIN_SLICE_VALUES)
    parts = min(worth, threads.split_count(items)) if threads.blas_control() else 1
    if parts == 1:
        np.matmul(a_t.T, b, out=out)
        return
    key = ("partials", parts, *out.shape)
    partials = cache.get(key)
    if partials is None or partials.dtype != out.dtype:
        partials = cache[key] = np.empty((parts, *out.shape), out.dtype)
    bounds = [(a * rows_per_item, z * rows_per_item) for a, z in threads.chunks(items, parts)]

    def one(start, stop):
        for i in range(start, stop):
            lo, hi = bounds[i]
            np.matmul(a_t[lo:hi].T, b[lo:hi], out=partials[i])

    threads.parallel(one, parts, gemm=True)
    np.sum(partials, axis=0, out=out)


def col2im(d2, W, part, dxp, s, ho, wo, zero, start, stop):
    """Add the patch gradients of images ``start:stop`` back onto ``dxp`` (padded input shape).

    One kernel offset (u, v) at a time: its patch gradients are one product
    ``d2 @ W[u, v]ᵀ`` (contiguous), added to the input positions it touched (a strided slice).
    ``zero``: clear ``dxp``'s slice first (else the caller has).
    """
    kh, kw, c, _ = W.shape
    per = ho * wo
    rows = d2[start * per : stop * per]
    dx = dxp[start:stop]
    p = part[start:stop]
    if zero:
        dx.fill(0)
    flat = p.reshape(-1, c)
    for (u, v), view in _window_views(dx, kh, kw, s, ho, wo):
        np.matmul(rows, W[u, v].T, out=flat)
        view += p


# ----- pooling --------------------------------------------------------------------------------


def pool_max(views, out, start, stop):
    """``out[start:stop]`` = the elementwise maximum of the window-offset ``views``' slices."""
    o = out[start:stop]
    if len(views) == 1:
        np.copyto(o, views[0][start:stop])
        return
    np.maximum(views[0][start:stop], views[1][start:stop], out=o)
    for view in views[2:]:
        np.maximum(o, view[start:stop], out=o)


def first_max_mask(tiles, out, mask, taken, free, start, stop):
    """Where each window's first maximum (row-major) sits, for images ``start:stop``.

    ``tiles`` is the (N, ho, k, wo, k, C) view of non-overlapping windows and ``mask`` a boolean
    array of that shape: one comparison with the broadcast maxima, then ties (several equal
    maxima in a window) cut to the first.
    """
    m = mask[start:stop]
    o = out[start:stop]
    np.equal(tiles[start:stop], o[:, :, None, :, None, :], out=m)
    if np.count_nonzero(m) == o.size:
        return  # one maximum per window (no ties): nothing to cut
    k = m.shape[2]
    masks = [m[:, :, u, :, v, :] for u in range(k) for v in range(k)]
    cut_ties(masks, taken[start:stop], free[start:stop])


def cut_ties(masks, taken, free):
    """Keep only the first True along the list of boolean ``masks`` (in place)."""
    np.copyto(taken, masks[0])
    for i, one in enumerate(masks[1:], start=1):
        np.logical_not(taken, out=free)
        np.logical_and(one, free, out=one)
        if i < len(masks) - 1:
            np.logical_or(taken, one, out=taken)


def pool_max_backward(mask, dout, dx, dx_tiles, zero, start, stop):
    """∂L/∂x of non-overlapping max pooling for images ``start:stop``: each gradient to its max."""
    if zero:
        dx[start:stop].fill(0)
    np.multiply(mask[start:stop], dout[start:stop, :, None, :, None, :],
                out=dx_tiles[start:stop])


# ----- activations ----------------------------------------------------------------------------


def relu(x, out, start, stop):
    """``out = max(x, 0)`` on rows ``start:stop`` (``out`` may be ``x``)."""
    np.maximum(x[start:stop], 0, out=out[start:stop])


def relu_backward(dout, y, out, start, stop):
    """``out = dout · (y > 0)`` on rows ``start:stop`` (``out`` may be ``dout``)."""
    np.multiply(dout[start:stop], y[start:stop] > 0, out=out[start:stop])
