"""One dense layer's forward pass written the course's way (2-1 and 2-4): ``[1 x] · [b; W]``.

The course (2-4) writes a fully connected layer as one matrix product in which the bias is the first
row of the weight matrix and the input gets a leading 1::

    [h1 h2 h3] = [1 x1 x2 x3] · [[b1  b2  b3 ],
                                 [w11 w21 w31],
                                 [w12 w22 w32],
                                 [w13 w23 w33]]

``W`` below (``--weights``) is that matrix without its bias row: one row per input, one column per
unit, shape ``(n_in, n_out)``, exactly :class:`nnkit.nn.layers.Dense`'s (and Keras's) layout, so
``z = x @ W + b``. PyTorch's ``nn.Linear`` stores the transpose, ``(n_out, n_in)``, and writes
``x @ W.T + b``: the same numbers. In the course's index convention ``w_ji`` joins unit ``j`` of
this layer to unit ``i`` of the previous one, so ``W[i-1, j-1]`` is ``w_ji``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nnkit.errors import NnkitInputError
from nnkit.nn.activations import apply_activation, get_activation
from nnkit.nn.layers import Dense


def with_bias_input(x: np.ndarray) -> np.ndarray:
    """``[1 x]``: each row of ``x`` (n_samples, n_in) with a leading 1, shape (n_samples, n_in + 1).

    Examples
    --------
    >>> with_bias_input(np.array([[2.0, 3.0]]))
    array([[1., 2., 3.]])
    """
    x = np.atleast_2d(x)
    return np.hstack([np.ones((x.shape[0], 1), dtype=x.dtype), x])


def stacked_weights(W: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``[b; W]``: the bias as the first row above the weights, shape (n_in + 1, n_out).

    Examples
    --------
    >>> stacked_weights(np.array([[1.0, 2.0]]), np.array([0.5, -0.5]))
    array([[ 0.5, -0.5],
           [ 1. ,  2. ]])
    """
    return np.vstack([np.reshape(b, (1, -1)), W])


def weight_label(unit: int, source: int) -> str:
    """The course's name of the weight joining ``unit`` of this layer to ``source`` of the previous one.

    Both are 1-based; ``w_13`` joins unit 1 to input 3. A comma separates numbers of two digits.

    Examples
    --------
    >>> weight_label(1, 3), weight_label(12, 3)
    ('w_13', 'w_12,3')
    """
    separator = "," if unit > 9 or source > 9 else ""
    return f"w_{unit}{separator}{source}"


def stacked_labels(n_in: int, n_out: int) -> list[list[str]]:
    """The course's labels of ``[b; W]``: ``b_j`` in the first row, then ``w_ji`` in row ``i``, column ``j``.

    Examples
    --------
    >>> stacked_labels(2, 2)
    [['b_1', 'b_2'], ['w_11', 'w_21'], ['w_12', 'w_22']]
    """
    bias_row = [f"b_{j}" for j in range(1, n_out + 1)]
    return [bias_row] + [[weight_label(j, i) for j in range(1, n_out + 1)] for i in range(1, n_in + 1)]


@dataclass(frozen=True)
class DenseForward:
    """Every piece of one dense layer's forward pass, for ``n`` samples, ``n_in`` inputs, ``n_out`` units.

    Attributes
    ----------
    x : (n, n_in) ndarray
        The inputs.
    x1 : (n, n_in + 1) ndarray
        ``[1 x]``.
    W : (n_in, n_out) ndarray
        The weights, one row per input.
    b : (n_out,) ndarray
        The biases.
    Wb : (n_in + 1, n_out) ndarray
        ``[b; W]``.
    z : (n, n_out) ndarray
        Pre-activations ``x @ W + b`` (the engine's :class:`Dense`).
    y : (n, n_out) ndarray
        Activations ``a(z)``.
    activation : str
        The activation's name.
    """

    x: np.ndarray
    x1: np.ndarray
    W: np.ndarray
    b: np.ndarray
    Wb: np.ndarray
    z: np.ndarray
    y: np.ndarray
    activation: str

    def terms(self, sample: int) -> np.ndarray:
        """``x1[sample, i] · Wb[i, j]``, shape (n_in + 1, n_out): the products that sum to ``z[sample, j]``.

        One sample at a time: for every sample at once they would be ``n·(n_in + 1)·n_out`` numbers
        (gigabytes for a few thousand MNIST rows into 128 units), where ``z`` needs ``n·n_out``.
        """
        return self.x1[sample, :, None] * self.Wb


def dense_forward(x, W, b=None, activation: str = "identity", alpha: float | None = None) -> DenseForward:
    """Run ``y = a(x @ W + b)`` with the engine's :class:`Dense` and keep the course's pieces.

    Parameters
    ----------
    x : (n_in,) or (n_samples, n_in) array_like
        One input row or several.
    W : (n_in, n_out) array_like
        Weights in the course's layout (one row per input, one column per unit). A 1-D ``W`` is one
        row: a layer with one input.
    b : (n_out,) array_like, optional
        Biases (zeros by default).
    activation : str
        A name in :data:`nnkit.nn.activations.ACTIVATIONS` (softmax across the units of each row).
    alpha : float, optional
        leaky-relu's slope / elu's scale.

    Examples
    --------
    >>> out = dense_forward([2.0], [[0.5]], [1.0], "relu")   # the course's 2-1: y = a(xw + b)
    >>> out.z, out.y
    (array([[2.]]), array([[2.]]))
    """
    get_activation(activation)
    x = np.atleast_2d(np.asarray(x, dtype=np.float64))
    W = np.asarray(W, dtype=np.float64)
    if W.ndim == 1:
        W = W.reshape(1, -1)
    if x.ndim != 2 or W.ndim != 2:
        raise NnkitInputError(f"the input must be one row or a matrix of rows, got shape {x.shape}")
    n_in, n_out = W.shape
    if x.shape[1] != n_in:
        raise NnkitInputError(
            f"each input row has {x.shape[1]} value(s) but --weights has {n_in} row(s)",
            hint="--weights takes one row per input and one column per unit, e.g. 3 inputs, 2 units: "
            '"w11,w21;w12,w22;w13,w23"',
        )
    b = np.zeros(n_out) if b is None else np.ravel(np.asarray(b, dtype=np.float64))
    if b.shape != (n_out,):
        raise NnkitInputError(f"--bias has {b.size} value(s) but --weights has {n_out} column(s) (one per unit)")
    for name, array in (("input", x), ("--weights", W), ("--bias", b)):
        if not np.isfinite(array).all():
            raise NnkitInputError(f"{name} contains NaN or infinity")
    layer = Dense(W, b)
    z = layer.forward(x)
    params = {} if alpha is None else {"alpha": alpha}
    y = np.atleast_2d(apply_activation(activation, z, **params))
    x1 = with_bias_input(x)
    Wb = stacked_weights(W, b)
    return DenseForward(x=x, x1=x1, W=W, b=b, Wb=Wb, z=z, y=y, activation=activation)


def random_layer(n_in: int, n_out: int, seed: int | None, drawn_before: tuple = ()) -> tuple[np.ndarray, np.ndarray]:
    """Course-style random weights and biases: ``np.random.seed(seed); W = randn(n_in, n_out); b = randn(n_out)``.

    ``drawn_before`` is the shape of an array drawn from the same seed first (a ``--random`` input
    x), so that x, W and b follow one another as in ``seed(0); x = randn(…); W = randn(…)``.

    Examples
    --------
    >>> W, b = random_layer(3, 2, 0)
    >>> W.shape, b.shape
    ((3, 2), (2,))
    """
    if n_in < 1 or n_out < 1:
        raise NnkitInputError(f"a layer needs at least one input and one unit, got {n_in} and {n_out}")
    if seed is not None and not 0 <= seed < 2**32:
        raise NnkitInputError(f"--seed must be between 0 and 2**32 - 1, got {seed}")
    rng = np.random.RandomState(seed)
    if drawn_before:
        rng.randn(*drawn_before)
    W = rng.randn(n_in, n_out)
    return W, rng.randn(n_out)
