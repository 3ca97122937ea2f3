"""Layers of a convolutional network: ``Conv2D``, ``MaxPool2D`` (max or mean), ``Flatten``, ``Dropout``.

Images are channels-last, ``(N, H, W, C)``, as Keras stores them; shapes given to
``output_shape`` leave out the batch axis. Every layer has the interface of
:class:`nnkit.engine.layers.Dense`: ``forward(x, training=False)``, ``backward(dout)`` (∂L/∂x, or
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
        self.W = np.ascontiguousarray(W)
        self.b = np.ascontiguousarray(b)
        self.dW = np.zeros_like(self.W)
        self.db = np.zeros_like(self.b)
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
        """The im2col matrix (N·H_out·W_out, kh·kw·c_in), columns in (u, v, c) order like W."""
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
        # (n, ho', wo', c, kh, kw) → windows at the stride → (n, ho, wo, kh, kw, c)
        windows = np.lib.stride_tricks.sliding_window_view(xp, (kh, kw), axis=(1, 2))
        windows = windows[:, : (ho - 1) * s + 1 : s, : (wo - 1) * s + 1 : s]
        windows = windows.transpose(0, 1, 2, 4, 5, 3)
        shape = (n, ho, wo, kh, kw, c)
        cols = _keep(self._buffers, ("cols", *shape), x.dtype) if training else np.empty(shape, x.dtype)
        np.copyto(cols, windows)
        return cols.reshape(n * ho * wo, kh * kw * c), ho, wo

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        """Convolve ``x`` of shape (N, H, W, c_in); returns (N, H_out, W_out, c_out)."""
        n = x.shape[0]
        cols, ho, wo = self._columns(x, training)
        w_mat = self.W.reshape(-1, self.filters)
        if training:
            self._cols = cols
            self._x_shape = x.shape
            out = _keep(self._buffers, ("out", n, ho, wo, self.filters), self.W.dtype)
            np.matmul(cols, w_mat, out=out.reshape(-1, self.filters))
        else:
            out = (cols @ w_mat).reshape(n, ho, wo, self.filters)
        out += self.b
        return out

    def backward(self, dout: np.ndarray) -> np.ndarray | None:
        """Fill ``dW``, ``db``; return ∂L/∂x of the input's shape (None if not needed)."""
        if self._cols is None:
            raise RuntimeError("Conv2D.backward called before forward(training=True)")
        kh, kw, c, c_out = self.W.shape
        d2 = dout.reshape(-1, c_out)
        np.matmul(self._cols.T, d2, out=self.dW.reshape(-1, c_out))
        np.sum(d2, axis=0, out=self.db)
        if not self.input_gradient:
            return None
        n, h, w, _ = self._x_shape
        _, ho, wo, _ = dout.shape
        s = self.stride
        dcols = _keep(self._buffers, ("dcols", n * ho * wo, kh * kw * c), dout.dtype)
        np.matmul(d2, self.W.reshape(-1, c_out).T, out=dcols)
        dcols = dcols.reshape(n, ho, wo, kh, kw, c)
        top, bottom, left, right = self._padding(h, w)
        padded = (n, h + top + bottom, w + left + right, c)
        dxp = _keep(self._buffers, ("dxp", *padded), dout.dtype)
        # col2im: each kernel offset (u, v) adds its slice of the patch gradients at the stride.
        # Non-overlapping offsets (stride ≥ kernel) or the first offset can be assigned.
        dxp.fill(0)
        for u in range(kh):
            for v in range(kw):
                dxp[:, u : u + (ho - 1) * s + 1 : s, v : v + (wo - 1) * s + 1 : s] += dcols[:, :, :, u, v]
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
    from ``nnkit pool`` (and the course's ``skimage.measure.block_reduce``), which pads the image
    and keeps the partial window (11 → 6).

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

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        """Pool ``x`` of shape (N, H, W, C); returns (N, H_out, W_out, C)."""
        n, h, w, c = x.shape
        ho, wo, _ = self.output_shape((h, w, c))
        k = self.size
        if self.stride == k:
            # Non-overlapping windows: crop the partial edge and reduce a (ho, k, wo, k) view.
            view = x[:, : ho * k, : wo * k].reshape(n, ho, k, wo, k, c)
            out = _keep(self._buffers, ("out", n, ho, wo, c), x.dtype) if training else None
            out = np.max(view, axis=(2, 4), out=out) if self.op == "max" else np.mean(view, axis=(2, 4), out=out)
        else:
            out = _keep(self._buffers, ("out", n, ho, wo, c), x.dtype) if training else \
                np.empty((n, ho, wo, c), x.dtype)
            views = self._offsets(x, ho, wo)
            np.copyto(out, next(views))
            for view in views:
                if self.op == "max":
                    np.maximum(out, view, out=out)
                else:
                    out += view
            if self.op == "mean":
                out *= 1.0 / (k * k)
        if training:
            self._x_shape = x.shape
            if self.op == "max":
                self._mask = self._first_max_masks(x, out, ho, wo)
        return out

    def _first_max_masks(self, x, out, ho, wo) -> np.ndarray:
        """(size², N, ho, wo, C) booleans: where each window's first maximum sits."""
        masks = _keep(self._buffers, ("mask", self.size**2, *out.shape), np.bool_)
        taken = _keep(self._buffers, ("taken", *out.shape), np.bool_)
        taken.fill(False)
        for i, view in enumerate(self._offsets(x, ho, wo)):
            np.equal(view, out, out=masks[i])
            masks[i] &= ~taken
            taken |= masks[i]
        return masks

    def backward(self, dout: np.ndarray) -> np.ndarray | None:
        """∂L/∂x: each window's gradient to its first maximum (or shared, for the mean)."""
        if self._x_shape is None:
            raise RuntimeError("MaxPool2D.backward called before forward(training=True)")
        if not self.input_gradient:
            return None
        _n, ho, wo, _c = dout.shape
        dx = _keep(self._buffers, ("dx", *self._x_shape), dout.dtype)
        k, s = self.size, self.stride
        if not (s == k and self._x_shape[1] == ho * k and self._x_shape[2] == wo * k):
            dx.fill(0)  # else the windows tile the image: every element is written below
        if self.op == "mean":
            share = dout * (1.0 / (k * k))
        for i, view in enumerate(self._offsets(dx, ho, wo)):
            if self.op == "max":
                if s >= k:
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
