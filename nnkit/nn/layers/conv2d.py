"""``Conv2D``: the 2-D convolution layer of a CNN (channels-last images ``(N, H, W, C)``, as Keras).

Speed. ``Conv2D`` is *im2col*: the ``kh × kw × C`` patch under every output pixel is copied into
one row of a matrix (from ``np.lib.stride_tricks.sliding_window_view``), so the forward pass is a
single matrix product ``cols @ W`` whose result already is the channels-last output; the backward
pass is two products (``colsᵀ @ dout`` for ∂L/∂W, ``dout @ Wᵀ`` for the patches' gradient, skipped
for the first layer) and *col2im*, which adds the patch gradients back with one strided slice per
kernel offset (9 for a 3×3 kernel), never a loop over pixels. Training reuses the arrays kept per
batch size, so an epoch allocates almost nothing.
"""

from __future__ import annotations

import math
from typing import ClassVar

import numpy as np

from nnkit.errors import NnkitInputError
from nnkit.nn.layers.base import Initial, Layer, Setting, Word, image_shape, kept, pair, shape_text, whole

PADDINGS = ("valid", "same")


def same_padding(config: dict, h: int, w: int) -> tuple[int, int, int, int]:
    """(top, bottom, left, right) zeros for ``padding=same`` (the odd one at the bottom/right, as Keras)."""
    if config.get("padding", "valid") == "valid":
        return 0, 0, 0, 0
    (kh, kw), s = pair(config["kernel"]), config.get("stride", 1)
    ph = max((math.ceil(h / s) - 1) * s + kh - h, 0)
    pw = max((math.ceil(w / s) - 1) * s + kw - w, 0)
    return ph // 2, ph - ph // 2, pw // 2, pw - pw // 2


class Conv2D(Layer):
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
    keras_class = "Conv2D"
    description = "2-D convolution: filters slide over the image (channels last)"
    settings = (
        Setting("filters", "number of filters (output channels)", required=True),
        Setting("kernel", "kernel size: k for k×k, or (kh, kw)", kind="kernel", required=True),
        Setting("stride", "step between windows", default=1),
        Setting("padding", "valid: windows inside the image; same: zeros around it, output ⌈H/stride⌉",
                kind="choice", default="valid", choices=PADDINGS),
    )
    words: ClassVar[dict[str, Word]] = {"conv": Word(sizes=("filters", "kernel"), settings=("stride", "padding"), aliases=("conv2d",))}
    n_parameters = 2
    takes_activation = True
    needs_images = reads_images = True

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
        self.stride = whole(stride, "stride")
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
        return same_padding(self.config(), h, w)

    @classmethod
    def output_shape_of(cls, config: dict, input_shape: tuple) -> tuple[int, int, int]:
        """(H_out, W_out, filters) for an input of (H, W, c_in); None sizes stay None."""
        h, w, c = image_shape("conv2d", input_shape)
        (kh, kw), s = pair(config["kernel"]), config.get("stride", 1)
        out = []
        for size, k in ((h, kh), (w, kw)):
            if size is None:
                out.append(None)
            elif config.get("padding", "valid") == "same":
                out.append(math.ceil(size / s))
            else:
                out.append((size - k) // s + 1 if size >= k else 0)
        if None not in out and min(out) < 1:
            raise NnkitInputError(
                f"conv2d with a {kh}×{kw} kernel does not fit its {shape_text((h, w, c))} input "
                f"(valid padding would leave {max(out[0], 0)}×{max(out[1], 0)})",
                hint="use fewer pooling layers, a smaller kernel or padding same",
            )
        return out[0], out[1], config["filters"]

    @classmethod
    def parameter_shapes(cls, config: dict, input_shape: tuple) -> list[tuple[int, ...]]:
        kh, kw = pair(config["kernel"])
        return [(kh, kw, input_shape[2], config["filters"]), (config["filters"],)]

    @classmethod
    def floats_per_sample(cls, config: dict, input_shape: tuple) -> int:
        """Its output and its patch matrix (``H_out·W_out·kh·kw·c_in`` floats per sample)."""
        h, w, c_out = cls.output_shape_of(config, input_shape)
        kh, kw = pair(config["kernel"])
        return h * w * c_out + h * w * kh * kw * input_shape[2]

    @classmethod
    def create(cls, config: dict, input_shape: tuple, initial: Initial) -> Conv2D:
        shape = cls.parameter_shapes(config, input_shape)[0]
        kh, kw, c_in, c_out = shape
        W = initial.weights(shape, kh * kw * c_in, kh * kw * c_out)
        return cls(W, np.zeros(c_out, initial.dtype), stride=config.get("stride", 1),
                   padding=config.get("padding", "valid"))

    @classmethod
    def from_config(cls, config: dict, weights: list) -> Conv2D:
        W, b = weights
        if np.ndim(W) != 4 or tuple(np.shape(W)[:2]) != pair(config["kernel"]) or \
                np.shape(W)[3] != config["filters"]:
            raise NnkitInputError(f"kernels of shape {np.shape(W)} do not match {config!r}")
        return cls(W, b, stride=config.get("stride", 1), padding=config.get("padding", "valid"))

    def output_shape(self, input_shape) -> tuple[int, int, int]:
        """(H_out, W_out, c_out) for an input of (H, W, c_in); None sizes stay None."""
        out = self.output_shape_of(self.config(), tuple(input_shape))
        c, c_in = input_shape[2], self.W.shape[2]
        if c is not None and c != c_in:
            raise NnkitInputError(
                f"conv2d has kernels for {c_in} input channel(s), got inputs of shape {shape_text(input_shape)}")
        return out

    def onnx(self, graph, h: str, input_shape: tuple) -> str:
        """ONNX's ``Conv`` (channels first): kernels (kh, kw, in, out) → (out, in, kh, kw), explicit pads."""
        top, bottom, left, right = self._padding(input_shape[0], input_shape[1])
        kernel = np.ascontiguousarray(self.W.transpose(3, 2, 0, 1))
        return graph.node(
            "Conv", [graph.images(h), graph.constant("kernel", kernel), graph.constant("b", self.b)],
            stem="conv", kernel_shape=list(self.kernel), strides=[self.stride] * 2,
            pads=[top, left, bottom, right],
        )

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
        if c < 8:
            shape = (k + 1, m)
            buf = kept(self._buffers, ("colsT", *shape), x.dtype) if training else \
                np.empty(shape, x.dtype)
            patches = buf[:k].reshape(kh, kw, c, n, ho, wo)
            for u in range(kh):
                for v in range(kw):
                    view = xp[:, u : u + (ho - 1) * s + 1 : s, v : v + (wo - 1) * s + 1 : s]
                    np.copyto(patches[u, v], view.transpose(3, 0, 1, 2))
            buf[k] = 1
            return buf.T, ho, wo
        shape = (m, k + 1)
        buf = kept(self._buffers, ("cols", *shape), x.dtype) if training else \
            np.empty(shape, x.dtype)
        # (n, ho', wo', c, kh, kw) → windows at the stride → (n, ho, wo, kh, kw, c)
        windows = np.lib.stride_tricks.sliding_window_view(xp, (kh, kw), axis=(1, 2))
        windows = windows[:, : (ho - 1) * s + 1 : s, : (wo - 1) * s + 1 : s]
        windows = windows.transpose(0, 1, 2, 4, 5, 3)
        item = buf.itemsize
        patches = np.lib.stride_tricks.as_strided(
            buf, (n, ho, wo, kh, kw, c),
            (ho * wo * (k + 1) * item, wo * (k + 1) * item, (k + 1) * item, kw * c * item,
             c * item, item))
        np.copyto(patches, windows)
        buf[:, k] = 1
        return buf, ho, wo

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        """Convolve ``x`` of shape (N, H, W, c_in); returns (N, H_out, W_out, c_out)."""
        n = x.shape[0]
        cols, ho, wo = self._columns(x, training)
        if training:
            self._cols = cols
            self._x_shape = x.shape
            out = kept(self._buffers, ("out", n, ho, wo, self.filters), self.W.dtype)
            np.matmul(cols, self._Wb, out=out.reshape(-1, self.filters))
            return out
        return (cols @ self._Wb).reshape(n, ho, wo, self.filters)

    def backward(self, dout: np.ndarray) -> np.ndarray | None:
        """Fill ``dW``, ``db``; return ∂L/∂x of the input's shape (None if not needed)."""
        if self._cols is None:
            raise RuntimeError("Conv2D.backward called before forward(training=True)")
        kh, kw, c, c_out = self.W.shape
        d2 = dout.reshape(-1, c_out)
        np.matmul(self._cols.T, d2, out=self._dWb)  # dW and, from the ones, db
        if not self.input_gradient:
            return None
        n, h, w, _ = self._x_shape
        _, ho, wo, _ = dout.shape
        s = self.stride
        top, bottom, left, right = self._padding(h, w)
        padded = (n, h + top + bottom, w + left + right, c)
        dxp = kept(self._buffers, ("dxp", *padded), dout.dtype)
        part = kept(self._buffers, ("part", n, ho, wo, c), dout.dtype)
        # col2im, one kernel offset (u, v) at a time: the patch gradients of that offset are one
        # product dout @ W[u, v]ᵀ, contiguous, added to the input positions it touched (a strided
        # slice). Nine products of (N·H_out·W_out, c_out) @ (c_out, c_in) cost the same FLOPs as one
        # product into a (N·H_out·W_out, kh·kw·c_in) matrix, and the adds read contiguous memory.
        dxp.fill(0)
        for u in range(kh):
            for v in range(kw):
                np.matmul(d2, self.W[u, v].T, out=part.reshape(-1, c))
                dxp[:, u : u + (ho - 1) * s + 1 : s, v : v + (wo - 1) * s + 1 : s] += part
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
