"""``Dense``: the fully connected layer ``z = x @ W + b`` (the course's 全結合層).

Training calls ``forward(x, training=True)``: the layer then caches its input for ``backward`` and
reuses output buffers kept per batch size, so an epoch allocates almost nothing; the arrays it
returns are overwritten by the next training step. Without ``training`` every call returns fresh
arrays and caches nothing.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from nnkit.errors import NnkitInputError
from nnkit.nn.layers.base import Initial, Layer, Setting, Word, column_sums, kept, shape_text


class Dense(Layer):
    """Fully connected layer ``z = x @ W + b`` (the course's 全結合層 / Dense layer).

    Parameters
    ----------
    W : (n_in, n_out) ndarray
        Weights; row ``i`` holds the weights from input ``i`` (inputs × outputs, as Keras stores them).
    b : (n_out,) ndarray, optional
        Biases (zeros by default).

    Attributes
    ----------
    dW : (n_in, n_out) ndarray
        ∂L/∂W after ``backward``.
    db : (n_out,) ndarray
        ∂L/∂b after ``backward``.
    input_gradient : bool
        Whether ``backward`` computes ∂L/∂x. The first layer of a network needs no gradient with
        respect to the data, so the network switches it off and saves one matrix product per step.

    Examples
    --------
    >>> layer = Dense(np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([0.5, -0.5]))
    >>> layer.forward(np.array([[1.0, 1.0]]), training=True)
    array([[4.5, 5.5]])
    >>> layer.backward(np.array([[1.0, 0.0]]))
    array([[1., 3.]])
    >>> layer.dW, layer.db
    (array([[1., 0.],
           [1., 0.]]), array([1., 0.]))
    """

    type_name = "dense"
    keras_class = "Dense"
    description = "fully connected layer x @ W + b"
    settings = (Setting("units", "number of outputs", required=True),)
    words: ClassVar[dict[str, Word]] = {"dense": Word(sizes=("units",), aliases=("linear", "fc"))}
    n_parameters = 2
    takes_activation = True
    makes_rows = True

    def __init__(self, W: np.ndarray, b: np.ndarray | None = None):
        W = np.asarray(W)
        if W.ndim != 2:
            raise NnkitInputError(f"Dense weights must be a 2-D (inputs, outputs) array, got shape {W.shape}")
        if b is None:
            b = np.zeros(W.shape[1], dtype=W.dtype)
        b = np.asarray(b, dtype=W.dtype)
        if b.shape != (W.shape[1],):
            raise NnkitInputError(f"Dense bias must have shape ({W.shape[1]},), got {b.shape}")
        self.W = np.ascontiguousarray(W)
        self.b = np.ascontiguousarray(b)
        self.dW = np.zeros_like(self.W)
        self.db = np.zeros_like(self.b)
        self.input_gradient = True
        self._x = None
        self._out: dict[int, np.ndarray] = {}
        self._dx: dict[int, np.ndarray] = {}
        self._ones: dict = {}

    @property
    def n_in(self) -> int:
        return self.W.shape[0]

    @property
    def n_out(self) -> int:
        return self.W.shape[1]

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        """``x @ W + b`` for ``x`` of shape (n_samples, n_in); returns (n_samples, n_out)."""
        if not training:
            return x @ self.W + self.b
        self._x = x
        z = kept(self._out, ("out", x.shape[0], self.n_out), self.W.dtype)
        np.matmul(x, self.W, out=z)
        z += self.b
        return z

    def backward(self, dout: np.ndarray) -> np.ndarray | None:
        """Fill ``dW = xᵀ·dout`` and ``db = Σ dout``; return ``dx = dout·Wᵀ`` (None if not needed).

        ``dout`` has shape (n_samples, n_out); ``dx`` has shape (n_samples, n_in).
        """
        if self._x is None:
            raise RuntimeError("Dense.backward called before forward(training=True)")
        np.matmul(self._x.T, dout, out=self.dW)
        column_sums(dout, self.db, self._ones)
        if not self.input_gradient:
            return None
        dx = kept(self._dx, ("dx", dout.shape[0], self.n_in), self.W.dtype)
        return np.matmul(dout, self.W.T, out=dx)

    def parameters(self) -> list[np.ndarray]:
        """``[W, b]``, the arrays an optimiser updates in place."""
        return [self.W, self.b]

    def gradients(self) -> list[np.ndarray]:
        """``[dW, db]``, in the order of :meth:`parameters`."""
        return [self.dW, self.db]

    @classmethod
    def output_shape_of(cls, config: dict, input_shape: tuple) -> tuple[int]:
        """``(units,)`` for flat inputs ``(n_in,)``."""
        shape = tuple(input_shape)
        if len(shape) != 1:
            raise NnkitInputError(
                f"dense needs flat inputs (one row of values per sample), got inputs of shape "
                f"{shape_text(shape)}", hint="put a flatten layer before it")
        return (config["units"],)

    @classmethod
    def parameter_shapes(cls, config: dict, input_shape: tuple) -> list[tuple[int, ...]]:
        units = config["units"]
        return [(input_shape[0], units), (units,)]

    @classmethod
    def create(cls, config: dict, input_shape: tuple, initial: Initial) -> Dense:
        n_in, units = input_shape[0], config["units"]
        return cls(initial.weights((n_in, units), n_in, units), np.zeros(units, dtype=initial.dtype))

    @classmethod
    def from_config(cls, config: dict, weights: list) -> Dense:
        W, b = weights
        if np.ndim(W) != 2 or np.shape(W)[1] != config["units"]:
            raise NnkitInputError(f"weights of shape {np.shape(W)} do not match {config!r}")
        return cls(W, b)

    def output_shape(self, input_shape) -> tuple[int]:
        """``(n_out,)`` for an input of shape ``(n_in,)`` (shapes without the batch axis)."""
        shape = self.output_shape_of(self.config(), tuple(input_shape))
        if input_shape[0] != self.n_in:
            raise NnkitInputError(f"dense has weights for {self.n_in} inputs, got {input_shape[0]}")
        return shape

    def onnx(self, graph, h: str, input_shape: tuple) -> str:
        return graph.node("Gemm", [graph.rows(h), graph.constant("W", self.W), graph.constant("b", self.b)],
                          stem="dense")

    def config(self) -> dict:
        return {"type": self.type_name, "units": int(self.n_out)}

    def __repr__(self) -> str:
        return f"Dense({self.n_in} → {self.n_out})"
