"""``GlobalAveragePooling2D``: each channel's mean over the whole image, ``(N, H, W, C)`` → ``(N, C)``.

Keras's ``GlobalAveragePooling2D`` (PyTorch: ``AdaptiveAvgPool2d(1)`` then ``flatten``). It ends the
image part of a stack without a ``flatten``: ``conv 32 3 relu, gap, dense 10 softmax`` has no
weights between the maps and the classes but one per channel and class, and it takes images of
any size. Its gradient shares each channel's ∂L/∂y equally over the H·W pixels it averaged.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from nnkit.nn.layers.base import Layer, Word, image_shape, kept


class GlobalAveragePooling2D(Layer):
    """The mean of every channel over height and width.

    Examples
    --------
    >>> x = np.arange(8.0).reshape(1, 2, 2, 2)  # channel 0: 0 2 4 6, channel 1: 1 3 5 7
    >>> GlobalAveragePooling2D().forward(x)
    array([[3., 4.]])
    >>> GlobalAveragePooling2D().output_shape((26, 26, 32))
    (32,)
    """

    type_name = "global_avgpool2d"
    keras_class = "GlobalAveragePooling2D"
    description = "mean of each channel over the whole image: (H, W, C) → C values"
    words: ClassVar[dict[str, Word]] = {
        "gap": Word(meaning="global average pooling: each channel's mean over the image, (H, W, C) → C values",
                    aliases=("globalavgpool", "global_average_pooling2d", "globalaveragepooling2d")),
    }
    needs_images = reads_images = makes_rows = True

    def __init__(self):
        self.input_gradient = True
        self._x_shape = None
        self._buffers: dict = {}

    @classmethod
    def output_shape_of(cls, config: dict, input_shape: tuple) -> tuple[int]:
        return (image_shape("global_avgpool2d", input_shape)[2],)

    @classmethod
    def keras_names(cls, config: dict) -> tuple[str, str]:
        return "global_average_pooling2d", cls.keras_class

    @classmethod
    def from_config(cls, config: dict, weights: list) -> GlobalAveragePooling2D:
        return cls()

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        """(N, H, W, C) → (N, C): the mean over axes 1 and 2, in x's dtype."""
        n, _, _, c = x.shape
        out = kept(self._buffers, ("out", n, c), x.dtype) if training else np.empty((n, c), x.dtype)
        np.mean(x, axis=(1, 2), out=out)
        if training:
            self._x_shape = x.shape
        return out

    def backward(self, dout: np.ndarray) -> np.ndarray | None:
        """∂L/∂x[n, i, j, c] = dout[n, c] / (H·W) at every pixel."""
        if self._x_shape is None:
            raise RuntimeError("GlobalAveragePooling2D.backward called before forward(training=True)")
        if not self.input_gradient:
            return None
        _, h, w, _ = self._x_shape
        dx = kept(self._buffers, ("dx", *self._x_shape), dout.dtype)
        return np.multiply(dout[:, None, None, :], 1.0 / (h * w), out=dx)

    def onnx(self, graph, h: str, input_shape: tuple) -> str:
        """ONNX's ``GlobalAveragePool`` on the NCHW maps (N, C, 1, 1), flattened to (N, C) rows."""
        pooled = graph.node("GlobalAveragePool", [graph.images(h)], stem="global_avgpool")
        graph.layout = "rows"
        return graph.node("Flatten", [pooled], axis=1)

    def __repr__(self) -> str:
        return "GlobalAveragePooling2D()"
