"""Layers of a convolutional network: ``Conv2D``, ``MaxPool2D`` (max or mean), ``Flatten``, ``Dropout``.

Images are channels-last, ``(N, H, W, C)``, as Keras stores them; shapes given to
``output_shape`` leave out the batch axis. Every layer has the interface of
:class:`nnkit.nn.layers.Dense`: ``forward(x, training=False)``, ``backward(dout)`` (∂L/∂x, or
None when ``input_gradient`` is False), ``parameters()``, ``gradients()``, ``output_shape`` and
``config()``.

Speed. ``Conv2D`` is *im2col*: the ``kh × kw × C`` patch under every output pixel is copied into
one row of a matrix (from ``np.lib.stride_tricks.sliding_window_view``), so the forward pass is a
single matrix product ``cols @ W`` whose result already is the channels-last output; the backward
pass is two products (``colsᵀ @ dout`` for ∂L/∂W, ``dout @ Wᵀ`` for the patches' gradient, skipped
for the first layer) and *col2im*, which adds the patch gradients back with one strided slice per
kernel offset (9 for a 3×3 kernel), never a loop over pixels. As for ``Dense``, training reuses the
arrays kept per batch size, so an epoch allocates almost nothing.
"""

import math

import numpy as np

from nnkit.errors import NnkitInputError
from nnkit.nn import kernels

PADDINGS = ("valid", "same")
POOL_OPS = ("max", "mean")


def _pair(value, what: str) -> tuple[int, int]:
    """``3`` → ``(3, 3)``; ``(3, 2)`` stays; anything below 1 is an input error."""
    pair = (value, value) if np.isscalar(value) else tuple(value)
    if len(pair) != 2:
        raise NnkitInputError(f"{what} must be one number or two, got {value!r}")
    try:
        ints = tuple(int(v) for v in pair)
    except (TypeError, ValueError):
        raise NnkitInputError(f"{what} must be whole numbers, got {value!r}") from None
    if any(i != v for i, v in zip(ints, pair, strict=True)) or min(ints) < 1:
        raise NnkitInputError(f"{what} must be whole numbers of at least 1, got {value!r}")
    return ints


def _positive_int(value, what: str) -> int:
    if not np.isscalar(value):
        raise NnkitInputError(f"{what} must be one whole number, got {value!r}")
    return _pair(value, what)[0]


def _image_shape(layer: str, input_shape) -> tuple[int, int, int]:
    shape = tuple(input_shape)
    if len(shape) != 3:
        raise NnkitInputError(
            f"{layer} needs images (height, width, channels), got inputs of shape {shape}",
            hint="conv and pooling layers work on images; tabular data needs dense layers",
        )
    return shape


def _fmt(shape) -> str:
    return "×".join("?" if s is None else str(s) for s in shape)


def _keep(cache: dict, key: tuple, dtype) -> np.ndarray:
    """A reusable array for ``key = (name, *shape)``, one per batch size.

    Full batches and the last, shorter one each get theirs, so training allocates nothing after
    its first steps.
    """
    buf = cache.get(key)
    if buf is None or buf.dtype != dtype:
        buf = cache[key] = np.empty(key[1:], dtype=dtype)
    return buf


class Conv2D:
    """2-D convolution layer (cross-correlation, as Keras's ``Conv2D`` and PyTorch's ``Conv2d``).

    ``y[n, i, j, o] = b[o] + Σ_{u, v, c} x[n, i·s + u, j·s + v, c] · W[u, v, c, o]``

    Parameters
    ----------
    W : (kh, kw, c_in, c_out) ndarray
        Kernels in Keras's layout.
    b : (c_out,) ndarray, optional
        Biases (zeros by default).
    stride : int
        Step between windows, the same along both axes.
    padding : {"valid", "same"}
        ``valid``: windows inside the image only (output ``⌊(H − kh)/s⌋ + 1``); ``same``: zeros
        around the image so that the output has ``⌈H/s⌉`` rows, the odd extra row of padding at the
        bottom (and column at the right), as Keras and TensorFlow place it.

    Examples
    --------
    >>> W = np.ones((2, 2, 1, 1)); layer = Conv2D(W, np.array([0.5]))
    >>> x = np.arange(9.0).reshape(1, 3, 3, 1)
    >>> layer.forward(x)[0, :, :, 0]
    array([[ 8.5, 12.5],
           [20.5, 24.5]])
    >>> layer.output_shape((3, 3, 1)), Conv2D(W, padding="same").output_shape((3, 3, 1))
    ((2, 2, 1), (3, 3, 1))
    """

    type_name = "conv2d"

    def __init__(self, W: np.ndarray, b: np.ndarray | None = None, stride: int = 1,
                 padding: str = "valid"):
        W = np.asarray(W)
        if W.ndim != 4:
            raise NnkitInputError(
                f"Conv2D kernels must be a 4-D (kh, kw, c_in, c_out) array, got shape {W.shape}")
        if b is None:
            b = np.zeros(W.shape[3], dtype=W.dtype)
        b = np.asarray(b, dtype=W.dtype)
        if b.shape != (W.shape[3],):
            raise NnkitInputError(f"Conv2D bias must have shape ({W.shape[3]},), got {b.shape}")
        if padding not in PADDINGS:
            raise NnkitInputError(f"unknown padding {padding!r}", hint="choose valid or same")
        self.stride = _positive_int(stride, "stride")
        self.padding = padding
        # W and b are views of one (kh·kw·c_in + 1, c_out) matrix whose last row is the bias, and the
        # patch matrix has a last column of ones: the bias is added inside the forward product and
        # its gradient comes out of the weight-gradient product (no pass of its own over the output).
        kh, kw, c_in, c_out = W.shape
        k = kh * kw * c_in
        self._Wb = np.empty((k + 1, c_out), dtype=W.dtype)
        self._Wb[:k] = W.reshape(k, c_out)
        self._Wb[k] = b
        self.W = self._Wb[:k].reshape(W.shape)
        self.b = self._Wb[k]
        self._dWb = np.zeros_like(self._Wb)
        self.dW = self._dWb[:k].reshape(W.shape)
        self.db = self._dWb[k]
        self.input_gradient = True
        self._cols = None
        self._x_shape = None
        self._buffers: dict = {}

    @property
    def kernel(self) -> tuple[int, int]:
        return self.W.shape[0], self.W.shape[1]

    @property
    def filters(self) -> int:
        return self.W.shape[3]

    def _padding(self, h: int, w: int) -> tuple[int, int, int, int]:
        """(top, bottom, left, right) zero padding for an h × w input."""
        if self.padding == "valid":
            return 0, 0, 0, 0
        kh, kw = self.kernel
        s = self.stride
        ph = max((math.ceil(h / s) - 1) * s + kh - h, 0)
        pw = max((math.ceil(w / s) - 1) * s + kw - w, 0)
        return ph // 2, ph - ph // 2, pw // 2, pw - pw // 2

    def output_shape(self, input_shape) -> tuple[int, int, int]:
        """(H_out, W_out, c_out) for an input of (H, W, c_in); None sizes stay None."""
        h, w, c = _image_shape("conv2d", input_shape)
        kh, kw, c_in, c_out = self.W.shape
        if c is not None and c != c_in:
            raise NnkitInputError(
                f"conv2d has kernels for {c_in} input channel(s), got inputs of shape {_fmt((h, w, c))}")
        out = []
        for size, k in ((h, kh), (w, kw)):
            if size is None:
                out.append(None)
                continue
            if self.padding == "same":
                out.append(math.ceil(size / self.stride))
            else:
                out.append((size - k) // self.stride + 1 if size >= k else 0)
        if None not in out and min(out) < 1:
            raise NnkitInputError(
                f"conv2d with a {kh}×{kw} kernel does not fit its {_fmt((h, w, c))} input "
                f"(valid padding would leave {max(out[0], 0)}×{max(out[1], 0)})",
                hint="use fewer pooling layers, a smaller kernel or padding same",
            )
        return out[0], out[1], c_out

    def _columns(self, x: np.ndarray, training: bool) -> tuple[np.ndarray, int, int]:
        """The im2col matrix (N·H_out·W_out, kh·kw·c_in + 1) and the output size.

        Each row is one patch in (u, v, c) order like W, then a 1 (for the bias).

        With few input channels (the first layer of an image network) the matrix is stored
        transposed, one contiguous row per (u, v, c) copied from a shifted view of the image: a
        copy with one-float inner runs would be 8× slower. The product reads either layout.
        """
        n, h, w, c = x.shape
        kh, kw = self.kernel
        s = self.stride
        top, bottom, left, right = self._padding(h, w)
        if top or bottom or left or right:
            xp = np.zeros((n, h + top + bottom, w + left + right, c), dtype=x.dtype)
            xp[:, top : top + h, left : left + w] = x
        else:
            xp = x
        ho = (xp.shape[1] - kh) // s + 1
        wo = (xp.shape[2] - kw) // s + 1
        if ho < 1 or wo < 1:
            raise NnkitInputError(
                f"conv2d with a {kh}×{kw} kernel does not fit a {h}×{w} input")
        k, m = kh * kw * c, n * ho * wo
        # Few channels: stored transposed (one contiguous row per (u, v, c)).
        shape, name = ((k + 1, m), "colsT") if c < 8 else ((m, k + 1), "cols")
        buf = _keep(self._buffers, (name, *shape), x.dtype) if training else \
            np.empty(shape, x.dtype)
        if training:
            kernels.split(kernels.im2col, n, xp, buf, kh, kw, s, ho, wo)
        else:
            kernels.im2col(xp, buf, kh, kw, s, ho, wo, 0, n)
        return (buf.T if c < 8 else buf), ho, wo

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        """Convolve ``x`` of shape (N, H, W, c_in); returns (N, H_out, W_out, c_out)."""
        n = x.shape[0]
        cols, ho, wo = self._columns(x, training)
        if training:
            self._cols = cols
            self._x_shape = x.shape
            out = _keep(self._buffers, ("out", n, ho, wo, self.filters), self.W.dtype)
            kernels.split(kernels.rows_product, len(cols), cols, self._Wb,
                          out.reshape(-1, self.filters), gemm=True, min_size=ho * wo)
            return out
        return (cols @ self._Wb).reshape(n, ho, wo, self.filters)

    def backward(self, dout: np.ndarray) -> np.ndarray | None:
        """Fill ``dW``, ``db``; return ∂L/∂x of the input's shape (None if not needed)."""
        if self._cols is None:
            raise RuntimeError("Conv2D.backward called before forward(training=True)")
        c, c_out = self.W.shape[2:]
        d2 = dout.reshape(-1, c_out)
        _, ho, wo, _ = dout.shape
        # dW and, from the ones, db; summed over the threads' slices of the batch
        kernels.weight_gradient(self._cols, d2, self._dWb, self._buffers, rows_per_item=ho * wo)
        if not self.input_gradient:
            return None
        n, h, w, _ = self._x_shape
        s = self.stride
        top, bottom, left, right = self._padding(h, w)
        padded = (n, h + top + bottom, w + left + right, c)
        dxp = _keep(self._buffers, ("dxp", *padded), dout.dtype)
        part = _keep(self._buffers, ("part", n, ho, wo, c), dout.dtype)
        # col2im, one kernel offset at a time (see kernels.col2im): nine products of
        # (N·H_out·W_out, c_out) @ (c_out, c_in) cost the same FLOPs as one product into a
        # (N·H_out·W_out, kh·kw·c_in) matrix, and the adds read contiguous memory.
        kernels.split(kernels.col2im, n, d2, self.W, part, dxp, s, ho, wo, True, gemm=True)
        if padded == self._x_shape:
            return dxp
        return dxp[:, top : top + h, left : left + w]

    def parameters(self) -> list[np.ndarray]:
        return [self.W, self.b]

    def gradients(self) -> list[np.ndarray]:
        return [self.dW, self.db]

    def config(self) -> dict:
        return {"type": self.type_name, "filters": int(self.filters), "kernel": list(self.kernel),
                "stride": self.stride, "padding": self.padding}

    def __repr__(self) -> str:
        kh, kw, c, o = self.W.shape
        return f"Conv2D({c} → {o}, {kh}×{kw}, stride {self.stride}, {self.padding})"


class MaxPool2D:
    """Max (or mean) pooling over ``size × size`` windows at ``stride`` (Keras's ``MaxPooling2D``).

    Parameters
    ----------
    size : int
        Window side.
    stride : int, optional
        Step between windows (``size`` by default: non-overlapping windows).
    op : {"max", "mean"}
        Maximum (``MaxPooling2D``) or mean (``AveragePooling2D``) of each window, per channel.

    Keras's rule for the edge: a window that would stick out of the image is dropped, so the
    output has ``⌊(H − size)/stride⌋ + 1`` rows (26 → 13 and 11 → 5 for ``size=2``). This differs
    from ``nnkit pool``, whose default ``--edge keep`` keeps the partial window and reduces it over
    its real pixels (11 → 6, PyTorch's ``ceil_mode``), and from the course's
    ``skimage.measure.block_reduce``, which pads it with zeros (11 → 6); ``nnkit pool --edge drop``
    is this layer's rule.

    The gradient of a max goes to the first largest value of each window (row-major order), as
    in PyTorch; the mean's gradient is shared equally.

    Examples
    --------
    >>> x = np.arange(25.0).reshape(1, 5, 5, 1)
    >>> MaxPool2D(2).forward(x)[0, :, :, 0]
    array([[ 6.,  8.],
           [16., 18.]])
    >>> MaxPool2D(2, op="mean").output_shape((5, 5, 3))
    (2, 2, 3)
    """

    type_name = "maxpool2d"

    def __init__(self, size: int = 2, stride: int | None = None, op: str = "max"):
        if op not in POOL_OPS:
            raise NnkitInputError(f"unknown pooling {op!r}", hint="choose max or mean")
        self.size = _positive_int(size, "pool size")
        self.stride = self.size if stride is None else _positive_int(stride, "pool stride")
        self.op = op
        self.input_gradient = True
        self._x_shape = None
        self._mask = None
        self._buffers: dict = {}

    def output_shape(self, input_shape) -> tuple[int, int, int]:
        h, w, c = _image_shape("maxpool2d", input_shape)
        out = [None if d is None else ((d - self.size) // self.stride + 1 if d >= self.size else 0)
               for d in (h, w)]
        if None not in out and min(out) < 1:
            raise NnkitInputError(
                f"maxpool2d with a {self.size}×{self.size} window does not fit its "
                f"{_fmt((h, w, c))} input (it would leave {out[0]}×{out[1]})",
                hint="use fewer pooling layers or a smaller window",
            )
        return out[0], out[1], c

    def _offsets(self, x: np.ndarray, ho: int, wo: int):
        """The size² strided views x[:, u::s, v::s] (one per window offset), cut to ho × wo."""
        s = self.stride
        for u in range(self.size):
            for v in range(self.size):
                yield x[:, u : u + (ho - 1) * s + 1 : s, v : v + (wo - 1) * s + 1 : s]

    def _tiles(self, x: np.ndarray, ho: int, wo: int) -> np.ndarray:
        """Non-overlapping windows as a (N, ho, k, wo, k, C) view of x (the partial edge left out)."""
        n, _, _, c = x.shape
        k = self.size
        s0, s1, s2, s3 = x.strides
        return np.lib.stride_tricks.as_strided(
            x, (n, ho, k, wo, k, c), (s0, k * s1, s1, k * s2, s2, s3), writeable=x.flags.writeable)

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        """Pool ``x`` of shape (N, H, W, C); returns (N, H_out, W_out, C)."""
        n, h, w, c = x.shape
        ho, wo, _ = self.output_shape((h, w, c))
        k = self.size
        out = _keep(self._buffers, ("out", n, ho, wo, c), x.dtype) if training else \
            np.empty((n, ho, wo, c), x.dtype)
        # One elementwise pass per window offset over strided views (4 for 2×2): faster than a
        # reduction over the axes of a (ho, k, wo, k) view.
        views = list(self._offsets(x, ho, wo))
        if self.op == "max" and training:
            kernels.split(kernels.pool_max, n, views, out)
        else:
            combine = np.maximum if self.op == "max" else np.add
            if len(views) == 1:
                np.copyto(out, views[0])
            else:
                combine(views[0], views[1], out=out)
            for view in views[2:]:
                combine(out, view, out=out)
        if self.op == "mean":
            out *= 1.0 / (k * k)
        if training:
            self._x_shape = x.shape
            if self.op == "max":
                self._mask = self._first_max_mask(x, out, ho, wo)
        return out

    def _first_max_mask(self, x, out, ho, wo) -> np.ndarray:
        """Where each window's first maximum (row-major) sits.

        Non-overlapping windows: one (N, ho, k, wo, k, C) boolean array in x's layout (see
        kernels.first_max_mask), filled by the threads' slices of the batch. Overlapping or
        gapped windows: (size², N, ho, wo, C), one mask per offset, ties cut to the first.
        """
        k = self.size
        taken = _keep(self._buffers, ("taken", *out.shape), np.bool_)
        free = _keep(self._buffers, ("free", *out.shape), np.bool_)
        if self.stride == k:
            mask = _keep(self._buffers, ("mask6", out.shape[0], ho, k, wo, k, out.shape[3]), np.bool_)
            kernels.split(kernels.first_max_mask, len(out), self._tiles(x, ho, wo), out, mask,
                          taken, free)
            return mask
        mask = _keep(self._buffers, ("mask", k * k, *out.shape), np.bool_)
        for m, view in zip(mask, self._offsets(x, ho, wo), strict=True):
            np.equal(view, out, out=m)
        if np.count_nonzero(mask) == out.size:
            return mask  # one maximum per window (no ties): nothing to cut
        kernels.cut_ties(list(mask), taken, free)
        return mask

    def backward(self, dout: np.ndarray) -> np.ndarray | None:
        """∂L/∂x: each window's gradient to its first maximum (or shared, for the mean)."""
        if self._x_shape is None:
            raise RuntimeError("MaxPool2D.backward called before forward(training=True)")
        if not self.input_gradient:
            return None
        _, ho, wo, _ = dout.shape
        dx = _keep(self._buffers, ("dx", *self._x_shape), dout.dtype)
        k, s = self.size, self.stride
        # Unless the windows tile the image, some of dx is written by no window: clear it first.
        zero = not (s == k and self._x_shape[1] == ho * k and self._x_shape[2] == wo * k)
        if self.op == "max" and s == k:
            kernels.split(kernels.pool_max_backward, len(dout), self._mask, dout, dx,
                          self._tiles(dx, ho, wo), zero)
            return dx
        if zero:
            dx.fill(0)
        if self.op == "mean":
            share = dout * (1.0 / (k * k))
        for i, view in enumerate(self._offsets(dx, ho, wo)):
            if self.op == "max":
                if s > k:
                    np.multiply(dout, self._mask[i], out=view)
                else:
                    view += dout * self._mask[i]
            elif s >= k:
                view[...] = share
            else:
                view += share
        return dx

    def parameters(self) -> list[np.ndarray]:
        return []

    def gradients(self) -> list[np.ndarray]:
        return []

    def config(self) -> dict:
        return {"type": self.type_name, "size": self.size, "stride": self.stride, "op": self.op}

    def __repr__(self) -> str:
        return f"MaxPool2D({self.size}, stride {self.stride}, {self.op})"


class Flatten:
    """(N, H, W, C) → (N, H·W·C) in C order, the order of Keras's ``Flatten`` (channels last).

    Examples
    --------
    >>> Flatten().forward(np.zeros((2, 3, 3, 4))).shape, Flatten().output_shape((3, 3, 4))
    ((2, 36), (36,))
    """

    type_name = "flatten"

    def __init__(self):
        self.input_gradient = True
        self._x_shape = None

    def output_shape(self, input_shape) -> tuple[int]:
        shape = tuple(input_shape)
        if None in shape:
            raise NnkitInputError(f"flatten needs a fixed input size, got {_fmt(shape)}")
        return (math.prod(shape),)

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        if training:
            self._x_shape = x.shape
        return x.reshape(x.shape[0], -1)

    def backward(self, dout: np.ndarray) -> np.ndarray | None:
        if self._x_shape is None:
            raise RuntimeError("Flatten.backward called before forward(training=True)")
        return dout.reshape(self._x_shape) if self.input_gradient else None

    def parameters(self) -> list[np.ndarray]:
        return []

    def gradients(self) -> list[np.ndarray]:
        return []

    def config(self) -> dict:
        return {"type": self.type_name}

    def __repr__(self) -> str:
        return "Flatten()"


class Dropout:
    """Inverted dropout: active in training only, seeded.

    In training each value is zeroed with probability ``rate`` and the rest are divided by
    ``1 − rate`` (so the expected value is unchanged); at inference it does nothing.

    Keras's ``Dropout`` and PyTorch's ``nn.Dropout`` compute the same (with their own random streams).

    Parameters
    ----------
    rate : float
        Fraction dropped, in [0, 1).
    seed : int or sequence of int, optional
        Seed of the layer's own generator (the same seed drops the same units).

    Examples
    --------
    >>> layer = Dropout(0.5, seed=0)
    >>> layer.forward(np.ones((1, 6)), training=True)
    array([[2., 0., 0., 0., 2., 2.]])
    >>> layer.forward(np.ones((1, 3)))
    array([[1., 1., 1.]])
    """

    type_name = "dropout"

    def __init__(self, rate: float, seed=None):
        rate = float(rate)
        if not (0.0 <= rate < 1.0):
            raise NnkitInputError(f"dropout rate must be at least 0 and below 1, got {rate}")
        self.rate = rate
        self.seed = seed
        self.rng = np.random.default_rng(seed)
        self.input_gradient = True
        self._mask = None
        self._buffers: dict = {}

    def output_shape(self, input_shape) -> tuple:
        return tuple(input_shape)

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        if not training or self.rate == 0.0:
            self._mask = None
            return x
        dtype = x.dtype if x.dtype in (np.float32, np.float64) else np.float64
        mask = _keep(self._buffers, ("mask", *x.shape), dtype)
        self.rng.random(out=mask, dtype=dtype)
        # mask ← (u ≥ rate) / (1 − rate): 0 for dropped values, the scale for kept ones.
        keep = _keep(self._buffers, ("keep", *x.shape), np.bool_)
        np.greater_equal(mask, self.rate, out=keep)
        np.multiply(keep, 1.0 / (1.0 - self.rate), out=mask)
        self._mask = mask
        out = _keep(self._buffers, ("out", *x.shape), dtype)
        return np.multiply(x, mask, out=out)

    def backward(self, dout: np.ndarray) -> np.ndarray | None:
        if not self.input_gradient:
            return None
        if self._mask is None:
            return dout
        return np.multiply(dout, self._mask, out=dout)

    def parameters(self) -> list[np.ndarray]:
        return []

    def gradients(self) -> list[np.ndarray]:
        return []

    def config(self) -> dict:
        return {"type": self.type_name, "rate": self.rate}

    def __repr__(self) -> str:
        return f"Dropout({self.rate})"
