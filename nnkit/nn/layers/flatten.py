"""``Flatten``: images ``(N, H, W, C)`` → rows ``(N, H·W·C)`` in Keras's (channels-last) order."""

from __future__ import annotations

import math
from typing import ClassVar

import numpy as np

from nnkit.errors import NnkitInputError
from nnkit.nn.layers.base import Layer, Word, shape_text


class Flatten(Layer):
    """(N, H, W, C) → (N, H·W·C) in C order, the order of Keras's ``Flatten`` (channels last).

    Examples
    --------
    >>> Flatten().forward(np.zeros((2, 3, 3, 4))).shape, Flatten().output_shape((3, 3, 4))
    ((2, 36), (36,))
    """

    type_name = "flatten"
    keras_class = "Flatten"
    description = "image (H, W, C) → one row of H·W·C values (Keras's order)"
    words: ClassVar[dict[str, Word]] = {"flatten": Word()}
    reads_images = makes_rows = passes_views = True

    def __init__(self):
        self.input_gradient = True
        self._x_shape = None

    @classmethod
    def output_shape_of(cls, config: dict, input_shape: tuple) -> tuple[int]:
        shape = tuple(input_shape)
        if None in shape:
            raise NnkitInputError(f"flatten needs a fixed input size, got {shape_text(shape)}")
        return (math.prod(shape),)

    @classmethod
    def from_config(cls, config: dict, weights: list) -> Flatten:
        return cls()

    def onnx(self, graph, h: str, input_shape: tuple) -> str:
        return graph.rows(h)

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        if training:
            self._x_shape = x.shape
        return x.reshape(x.shape[0], -1)

    def backward(self, dout: np.ndarray) -> np.ndarray | None:
        if self._x_shape is None:
            raise RuntimeError("Flatten.backward called before forward(training=True)")
        return dout.reshape(self._x_shape) if self.input_gradient else None

    def __repr__(self) -> str:
        return "Flatten()"
