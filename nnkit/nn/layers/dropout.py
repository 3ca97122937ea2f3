"""``Dropout``: inverted dropout, active in training only, seeded."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from nnkit.errors import NnkitInputError
from nnkit.nn.layers.base import Initial, Layer, Setting, Word, kept


class Dropout(Layer):
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
    keras_class = "Dropout"
    description = "in training, zero a fraction of the values at random"
    settings = (Setting("rate", "fraction of values dropped, 0 ≤ rate < 1", kind="rate", required=True),)
    words: ClassVar[dict[str, Word]] = {"dropout": Word(sizes=("rate",))}
    passes_views = True

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

    @classmethod
    def create(cls, config: dict, input_shape: tuple, initial: Initial) -> Dropout:
        """Layer ``index`` of a stack seeded with an int draws from ``default_rng([seed, index])``."""
        seed = None if initial.seed is None else [initial.seed, initial.index]
        return cls(config["rate"], seed=seed)

    @classmethod
    def from_config(cls, config: dict, weights: list) -> Dropout:
        return cls(config["rate"])

    def onnx(self, graph, h: str, input_shape: tuple) -> str:
        return h  # identity at inference

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        if not training or self.rate == 0.0:
            self._mask = None
            return x
        dtype = x.dtype if x.dtype in (np.float32, np.float64) else np.float64
        mask = kept(self._buffers, ("mask", *x.shape), dtype)
        self.rng.random(out=mask, dtype=dtype)
        # mask ← (u ≥ rate) / (1 − rate): 0 for dropped values, the scale for kept ones.
        keep = kept(self._buffers, ("keep", *x.shape), np.bool_)
        np.greater_equal(mask, self.rate, out=keep)
        np.multiply(keep, 1.0 / (1.0 - self.rate), out=mask)
        self._mask = mask
        out = kept(self._buffers, ("out", *x.shape), dtype)
        return np.multiply(x, mask, out=out)

    def backward(self, dout: np.ndarray) -> np.ndarray | None:
        if not self.input_gradient:
            return None
        if self._mask is None:
            return dout
        return np.multiply(dout, self._mask, out=dout)

    def config(self) -> dict:
        return {"type": self.type_name, "rate": self.rate}

    def __repr__(self) -> str:
        return f"Dropout({self.rate})"
