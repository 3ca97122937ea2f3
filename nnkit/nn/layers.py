"""Layers with ``forward``/``backward``: the fully connected ``Dense`` layer and activation layers.

Each layer caches in ``forward`` what its ``backward`` needs (the input of a ``Dense`` layer, the
output or input of an activation) and ``backward(dout)`` takes ∂L/∂output and returns ∂L/∂input.
``Dense.backward`` also fills ``dW`` and ``db``.

Training calls ``forward(x, training=True)``: the layers then reuse output buffers kept per batch
size, so an epoch allocates almost nothing; the arrays they return are overwritten by the next
training step. Without ``training`` every call returns fresh arrays and caches nothing.
"""

import numpy as np

from nnkit.errors import NnkitInputError
from nnkit.nn import kernels
from nnkit.nn.activations import ACTIVATIONS

#: Activations a hidden layer can use: elementwise and with a useful gradient (the step function's
#: derivative is zero everywhere, so gradient descent cannot train it).
HIDDEN_ACTIVATIONS: tuple[str, ...] = tuple(
    name for name, a in ACTIVATIONS.items() if a.elementwise and name != "step"
)

class Dense:
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
        z = _buffer(self._out, x.shape[0], self.n_out, self.W.dtype)
        kernels.split(kernels.rows_product, len(x), x, self.W, z, bias=self.b, gemm=True)
        return z

    def backward(self, dout: np.ndarray) -> np.ndarray | None:
        """Fill ``dW = xᵀ·dout`` and ``db = Σ dout``; return ``dx = dout·Wᵀ`` (None if not needed).

        ``dout`` has shape (n_samples, n_out); ``dx`` has shape (n_samples, n_in).
        """
        if self._x is None:
            raise RuntimeError("Dense.backward called before forward(training=True)")
        kernels.weight_gradient(self._x, dout, self.dW, self._ones)  # summed over the threads
        column_sums(dout, self.db, self._ones)
        if not self.input_gradient:
            return None
        dx = _buffer(self._dx, dout.shape[0], self.n_in, self.W.dtype)
        kernels.split(kernels.rows_product, len(dout), dout, self.W.T, dx, gemm=True)
        return dx

    def parameters(self) -> list[np.ndarray]:
        """``[W, b]``, the arrays an optimiser updates in place."""
        return [self.W, self.b]

    def gradients(self) -> list[np.ndarray]:
        """``[dW, db]``, in the order of :meth:`parameters`."""
        return [self.dW, self.db]

    def output_shape(self, input_shape) -> tuple[int]:
        """``(n_out,)`` for an input of shape ``(n_in,)`` (shapes without the batch axis)."""
        shape = tuple(input_shape)
        if len(shape) != 1:
            raise NnkitInputError(
                f"dense needs flat inputs (one row of values per sample), got inputs of shape "
                f"{'×'.join(map(str, shape))}", hint="put a flatten layer before it")
        if shape[0] != self.n_in:
            raise NnkitInputError(f"dense has weights for {self.n_in} inputs, got {shape[0]}")
        return (self.n_out,)

    def config(self) -> dict:
        return {"type": self.type_name, "units": int(self.n_out)}

    def __repr__(self) -> str:
        return f"Dense({self.n_in} → {self.n_out})"


class Activation:
    """Elementwise activation layer wrapping an entry of :data:`nnkit.nn.activations.ACTIVATIONS`.

    ``forward`` applies ``fn``; ``backward`` multiplies the incoming gradient by the derivative. ReLU
    (the hidden activation of large networks) takes a fast path: its forward runs in place on the
    previous layer's buffer during training and its backward is a mask, because these are the only
    elementwise passes over the big hidden arrays of a training step.

    Parameters
    ----------
    name : str
        A key of ``ACTIVATIONS`` (``relu``, ``sigmoid``, ``tanh`` …).

    Examples
    --------
    >>> layer = Activation("relu")
    >>> layer.forward(np.array([[-1.0, 2.0]]), training=True)
    array([[0., 2.]])
    >>> layer.backward(np.array([[5.0, 5.0]]))
    array([[0., 5.]])
    """

    type_name = "activation"

    def __init__(self, name: str):
        if name not in HIDDEN_ACTIVATIONS:
            choices = ", ".join(HIDDEN_ACTIVATIONS)
            raise NnkitInputError(f"unknown activation {name!r}", hint=f"choose one of: {choices}")
        self.name = name
        self.function = ACTIVATIONS[name]
        self.input_gradient = True
        # Whether training may overwrite the input: the network turns it off where the input is
        # not a buffer of the layer before (the data itself, or a view passed on by Flatten).
        self.in_place = True
        self._cache = None

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        """Apply the activation to ``x`` (any shape); during training, cache what backward needs."""
        if self.name == "relu":
            if training and self.in_place:
                # x is the previous layer's training buffer, used by nobody else: overwrite it.
                kernels.split(kernels.relu, len(x), x, x)
                self._cache = x
                return x
            y = np.maximum(x, 0)
            if training:
                self._cache = y
            return y
        y = np.asarray(self.function.fn(x), dtype=x.dtype)
        if training:
            self._cache = x
        return y

    def backward(self, dout: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """∂L/∂x = dout · f'(x), elementwise; written into ``out`` if given (it may be ``dout``)."""
        if self._cache is None:
            raise RuntimeError("Activation.backward called before forward(training=True)")
        if self.name == "relu":
            # y > 0 exactly where x > 0; relu'(0) is taken as 0, as PyTorch does.
            if out is None:
                out = np.empty_like(dout)
            kernels.split(kernels.relu_backward, len(dout), dout, self._cache, out)
            return out
        grad = np.asarray(self.function.grad(self._cache), dtype=dout.dtype)
        return np.multiply(dout, grad, out=out)

    def parameters(self) -> list[np.ndarray]:
        return []

    def gradients(self) -> list[np.ndarray]:
        return []

    def output_shape(self, input_shape) -> tuple:
        return tuple(input_shape)

    def config(self) -> dict:
        return {"type": self.type_name, "name": self.name}

    def __repr__(self) -> str:
        return f"Activation({self.name!r})"


def column_sums(d: np.ndarray, out: np.ndarray, cache: dict) -> np.ndarray:
    """``Σ_rows d`` into ``out`` as a product ``ones @ d`` (10× faster than ``np.sum(axis=0)``).

    The bias gradient of Dense and Conv2D layers; the vector of ones is kept in ``cache``.
    """
    ones = cache.get(("ones", len(d)))
    if ones is None or ones.dtype != d.dtype:
        ones = cache[("ones", len(d))] = np.ones(len(d), dtype=d.dtype)
    return np.matmul(ones, d, out=out)


def _buffer(cache: dict[int, np.ndarray], n: int, width: int, dtype) -> np.ndarray:
    """A reusable (n, width) array: one per batch size (full batches and the last, shorter one)."""
    buf = cache.get(n)
    if buf is None or buf.dtype != dtype:
        buf = cache[n] = np.empty((n, width), dtype=dtype)
    return buf
