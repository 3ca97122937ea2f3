"""``MaxPool2D``: max or mean pooling over windows of channels-last images.

Keras's ``MaxPooling2D`` and ``AveragePooling2D``: a window sticking out of the image is dropped.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from nnkit.errors import NnkitInputError
from nnkit.nn.layers.base import Layer, Setting, Word, image_shape, kept, shape_text, whole

POOL_OPS = ("max", "mean")


class MaxPool2D(Layer):
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
    keras_class = "MaxPooling2D"
    description = "max (or mean) of each window; a partial edge window is dropped, as in Keras"
    settings = (
        Setting("size", "window side", default=2),
        Setting("stride", "step between windows (the size by default)", optional=True),
        Setting("op", "max or mean of each window", kind="choice", default="max", choices=POOL_OPS),
    )
    words: ClassVar[dict[str, Word]] = {
        "maxpool": Word(sizes=("size",), settings=("stride",), fixed={"op": "max"},
                        meaning="max of each window; a partial edge window is dropped, as in Keras",
                        aliases=("maxpool2d", "max_pooling2d", "maxpooling2d", "pool")),
        "meanpool": Word(sizes=("size",), settings=("stride",), fixed={"op": "mean"},
                         meaning="mean of each window; a partial edge window is dropped, as in Keras",
                         aliases=("avgpool", "avgpool2d", "average_pooling2d")),
    }
    needs_images = reads_images = True

    def __init__(self, size: int = 2, stride: int | None = None, op: str = "max"):
        if op not in POOL_OPS:
            raise NnkitInputError(f"unknown pooling {op!r}", hint="choose max or mean")
        self.size = whole(size, "pool size")
        self.stride = self.size if stride is None else whole(stride, "pool stride")
        self.op = op
        self.input_gradient = True
        self._x_shape = None
        self._mask = None
        self._buffers: dict = {}

    @classmethod
    def output_shape_of(cls, config: dict, input_shape: tuple) -> tuple[int, int, int]:
        """``⌊(H − size)/stride⌋ + 1`` rows and columns (Keras drops a partial edge window)."""
        h, w, c = image_shape("maxpool2d", input_shape)
        size = config.get("size", 2)
        stride = config.get("stride") or size
        out = [None if d is None else ((d - size) // stride + 1 if d >= size else 0) for d in (h, w)]
        if None not in out and min(out) < 1:
            raise NnkitInputError(
                f"maxpool2d with a {size}×{size} window does not fit its "
                f"{shape_text((h, w, c))} input (it would leave {out[0]}×{out[1]})",
                hint="use fewer pooling layers or a smaller window",
            )
        return out[0], out[1], c

    @classmethod
    def from_config(cls, config: dict, weights: list) -> MaxPool2D:
        return cls(config.get("size", 2), config.get("stride"), config.get("op", "max"))

    @property
    def commutes_with_relu(self) -> bool:
        return self.op == "max"

    @classmethod
    def keras_names(cls, config: dict) -> tuple[str, str]:
        if config.get("op", "max") == "max":
            return "max_pooling2d", "MaxPooling2D"
        return "average_pooling2d", "AveragePooling2D"

    def onnx(self, graph, h: str, input_shape: tuple) -> str:
        """``MaxPool``/``AveragePool`` without padding, floor rounding: a window sticking out is dropped."""
        op = "MaxPool" if self.op == "max" else "AveragePool"
        return graph.node(op, [graph.images(h)], kernel_shape=[self.size] * 2, strides=[self.stride] * 2,
                          ceil_mode=0)

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
        out = kept(self._buffers, ("out", n, ho, wo, c), x.dtype) if training else \
            np.empty((n, ho, wo, c), x.dtype)
        # One elementwise pass per window offset over strided views (4 for 2×2): faster than a
        # reduction over the axes of a (ho, k, wo, k) view.
        views = list(self._offsets(x, ho, wo))
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

        Non-overlapping windows: one (N, ho, k, wo, k, C) boolean array in x's layout, made by one
        comparison with the broadcast maxima; ties (several equal maxima) are then cut to the
        first. Overlapping or gapped windows: (size², N, ho, wo, C), one mask per offset.
        """
        k = self.size
        taken = kept(self._buffers, ("taken", *out.shape), np.bool_)
        if self.stride == k:
            mask = kept(self._buffers, ("mask6", out.shape[0], ho, k, wo, k, out.shape[3]), np.bool_)
            np.equal(self._tiles(x, ho, wo), out[:, :, None, :, None, :], out=mask)
            masks = [mask[:, :, u, :, v, :] for u in range(k) for v in range(k)]
        else:
            mask = kept(self._buffers, ("mask", k * k, *out.shape), np.bool_)
            for m, view in zip(mask, self._offsets(x, ho, wo), strict=True):
                np.equal(view, out, out=m)
            masks = list(mask)
        if np.count_nonzero(mask) == out.size:
            return mask  # one maximum per window (no ties): nothing to cut
        free = kept(self._buffers, ("free", *out.shape), np.bool_)
        np.copyto(taken, masks[0])
        for i, m in enumerate(masks[1:], start=1):
            np.logical_not(taken, out=free)
            np.logical_and(m, free, out=m)
            if i < len(masks) - 1:
                np.logical_or(taken, m, out=taken)
        return mask

    def backward(self, dout: np.ndarray) -> np.ndarray | None:
        """∂L/∂x: each window's gradient to its first maximum (or shared, for the mean)."""
        if self._x_shape is None:
            raise RuntimeError("MaxPool2D.backward called before forward(training=True)")
        if not self.input_gradient:
            return None
        _, ho, wo, _ = dout.shape
        dx = kept(self._buffers, ("dx", *self._x_shape), dout.dtype)
        k, s = self.size, self.stride
        if not (s == k and self._x_shape[1] == ho * k and self._x_shape[2] == wo * k):
            dx.fill(0)  # else the windows tile the image: every element is written below
        if self.op == "max" and s == k:
            np.multiply(self._mask, dout[:, :, None, :, None, :], out=self._tiles(dx, ho, wo))
            return dx
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

    def config(self) -> dict:
        return {"type": self.type_name, "size": self.size, "stride": self.stride, "op": self.op}

    def __repr__(self) -> str:
        return f"MaxPool2D({self.size}, stride {self.stride}, {self.op})"
