"""Weight initialisation: He (ReLU family) and Glorot (sigmoid, tanh).

Both draw a weight matrix of shape ``(n_in, n_out)`` (inputs × outputs, so a layer computes
``x @ W + b``); biases start at zero. The scale keeps the variance of the signal roughly constant
from layer to layer, which is why the choice follows the activation that comes after the layer.

- ``he``: normal with standard deviation ``sqrt(2 / n_in)`` (He et al. 2015; PyTorch's
  ``kaiming_normal_`` with ``nonlinearity="relu"``, Keras's ``he_normal`` without truncation).
- ``glorot``: uniform on ``[-a, a]`` with ``a = sqrt(6 / (n_in + n_out))`` (Glorot & Bengio 2010;
  Keras's default ``glorot_uniform``, PyTorch's ``xavier_uniform_``).
"""

import numpy as np

from nnkit.errors import NnkitInputError

RELU_FAMILY = frozenset({"relu", "leaky-relu", "elu", "gelu", "swish", "softplus"})


def he(n_in: int, n_out: int, rng: np.random.Generator, dtype=np.float32) -> np.ndarray:
    """He (Kaiming) normal initialisation for layers followed by a ReLU-family activation.

    Parameters
    ----------
    n_in, n_out : int
        Number of inputs and outputs of the layer.
    rng : numpy.random.Generator
        Source of randomness (seeded by the caller for reproducible runs).
    dtype : numpy dtype, optional
        Dtype of the result (float32 by default).

    Returns
    -------
    W : (n_in, n_out) ndarray

    Examples
    --------
    >>> W = he(1000, 500, np.random.default_rng(0))
    >>> W.shape, W.dtype, round(float(W.std()), 2)
    ((1000, 500), dtype('float32'), 0.04)
    """
    _check_sizes(n_in, n_out)
    return _he((n_in, n_out), n_in, n_out, rng, dtype)


def glorot(n_in: int, n_out: int, rng: np.random.Generator, dtype=np.float32) -> np.ndarray:
    """Glorot (Xavier) uniform initialisation for layers followed by sigmoid or tanh.

    Parameters
    ----------
    n_in, n_out : int
        Number of inputs and outputs of the layer.
    rng : numpy.random.Generator
        Source of randomness.
    dtype : numpy dtype, optional
        Dtype of the result (float32 by default).

    Returns
    -------
    W : (n_in, n_out) ndarray
        Values in ``[-sqrt(6 / (n_in + n_out)), sqrt(6 / (n_in + n_out))]``.

    Examples
    --------
    >>> W = glorot(2, 4, np.random.default_rng(0))
    >>> W.shape, bool(np.all(np.abs(W) <= 1.0))
    ((2, 4), True)
    """
    _check_sizes(n_in, n_out)
    return _glorot((n_in, n_out), n_in, n_out, rng, dtype)


def _he(shape, fan_in, fan_out, rng, dtype):
    return (rng.standard_normal(shape) * np.sqrt(2.0 / fan_in)).astype(dtype, copy=False)


def _glorot(shape, fan_in, fan_out, rng, dtype):
    limit = np.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-limit, limit, shape).astype(dtype, copy=False)


INITIALIZERS = {"he": he, "glorot": glorot}
_DRAWS = {"he": _he, "glorot": _glorot}
#: How a new stack chooses its initialisers: ``keras`` (Glorot uniform everywhere, Keras's default),
#: ``auto`` (He before ReLU-family activations, Glorot otherwise), or one for every layer.
SCHEMES = ("keras", "auto", "he", "glorot")


def initial_weights(shape, fan_in: int, fan_out: int, scheme: str, activation: str | None,
                    rng: np.random.Generator, dtype=np.float32) -> np.ndarray:
    """First weights of any layer (dense ``(n_in, n_out)``, conv ``(kh, kw, c_in, c_out)``).

    ``fan_in``/``fan_out`` are the inputs and outputs each weight connects (``kh·kw·c_in`` and
    ``kh·kw·c_out`` for a kernel); ``scheme`` is one of :data:`SCHEMES` and ``activation`` the
    activation after the layer, which ``auto`` follows.

    Examples
    --------
    >>> W = initial_weights((3, 3, 1, 8), 9, 72, "auto", "relu", np.random.default_rng(0))
    >>> W.shape, W.dtype
    ((3, 3, 1, 8), dtype('float32'))
    """
    if scheme not in SCHEMES:
        raise NnkitInputError(f"unknown init {scheme!r}", hint=f"choose one of: {', '.join(SCHEMES)}")
    name = {"keras": "glorot", "auto": initializer_for(activation or "")}.get(scheme, scheme)
    return _DRAWS[name](shape, fan_in, fan_out, rng, dtype)


def initializer_for(activation: str) -> str:
    """Name of the initialiser that suits a hidden activation: ``he`` or ``glorot``.

    Examples
    --------
    >>> initializer_for("relu"), initializer_for("tanh")
    ('he', 'glorot')
    """
    return "he" if activation in RELU_FAMILY else "glorot"


def _check_sizes(n_in: int, n_out: int) -> None:
    if n_in < 1 or n_out < 1:
        raise NnkitInputError(f"layer sizes must be at least 1, got {n_in} inputs and {n_out} outputs")
