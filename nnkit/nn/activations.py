"""Activation functions of the course and their derivatives, one registry for all of nnkit.

Every function is elementwise except softmax (and log-softmax), which normalises along an
axis (default: the last one, so each row of a matrix is one sample). All of them are numerically
stable for every finite input: no overflow warnings and no NaN for ``sigmoid(±1e4)``,
``softmax(1e4)`` and the like.

Dtypes: floating input keeps its dtype (training runs in float32 end to end, so nothing is
silently upcast); integer and boolean input is computed in float64.

The registry :data:`ACTIVATIONS` is what the CLI's choices, its ``--help`` and the tests read.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from nnkit.errors import NnkitInputError

#: Default slope of leaky ReLU for negative inputs (PyTorch's ``negative_slope``).
LEAKY_RELU_ALPHA = 0.01
#: Default scale of ELU for negative inputs (PyTorch's and Keras's ``alpha``).
ELU_ALPHA = 1.0

_SQRT_HALF = math.sqrt(0.5)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
# Beyond |x| = 40 the Gaussian density exp(-x²/2) is below 1e-347, i.e. exactly 0 in float64;
# clipping first keeps x² from overflowing for huge finite x.
_GAUSS_CLIP = 40.0


def as_float_array(x) -> np.ndarray:
    """Return `x` as a floating array: float dtypes kept, anything else as float64.

    Parameters
    ----------
    x : array_like
        Numbers of any shape.

    Returns
    -------
    numpy.ndarray
        Same shape; float16/32/64 input keeps its dtype, integer or boolean input is float64.

    Examples
    --------
    >>> as_float_array(np.array([1, 2])).dtype
    dtype('float64')
    >>> as_float_array(np.array([1, 2], dtype=np.float32)).dtype
    dtype('float32')
    """
    a = np.asarray(x)
    if np.issubdtype(a.dtype, np.floating):
        return a
    if np.issubdtype(a.dtype, np.complexfloating):
        raise NnkitInputError(f"activation input must be real numbers, got {a.dtype}")
    return a.astype(np.float64)


# ---------------------------------------------------------------------------------------------
# The functions, in the course's words
# ---------------------------------------------------------------------------------------------


def identity(x) -> np.ndarray:
    """Identity ``f(x) = x`` (a copy, as a float array).

    Examples
    --------
    >>> identity([1, -2])
    array([ 1., -2.])
    """
    return as_float_array(x).copy()


def identity_grad(x) -> np.ndarray:
    """Return the derivative of the identity: 1 everywhere, same shape and dtype as `x`."""
    return np.ones_like(as_float_array(x))


def step(x) -> np.ndarray:
    """Step function: 1 where ``x > 0``, else 0 (as a float array, the course's definition).

    Examples
    --------
    >>> step([-1.0, 0.0, 2.0])
    array([0., 0., 1.])
    """
    x = as_float_array(x)
    return (x > 0).astype(x.dtype)


def step_grad(x) -> np.ndarray:
    """Return the derivative of the step function: 0 everywhere.

    The true derivative is 0 for ``x != 0`` and undefined (a Dirac impulse) at 0; nnkit returns
    0 there too. This is exactly why a network of step units cannot learn by gradient descent.
    """
    return np.zeros_like(as_float_array(x))


def relu(x) -> np.ndarray:
    """ReLU (rectified linear unit): ``max(0, x)``.

    Parameters
    ----------
    x : array_like, any shape

    Returns
    -------
    numpy.ndarray
        Same shape as `x`.

    Examples
    --------
    >>> relu([-2.0, 0.0, 3.0])
    array([0., 0., 3.])
    """
    x = as_float_array(x)
    return np.maximum(x, 0, dtype=x.dtype)


def relu_grad(x) -> np.ndarray:
    """Return the derivative of ReLU: 1 where ``x > 0``, else 0 (also at 0, as PyTorch does)."""
    x = as_float_array(x)
    return (x > 0).astype(x.dtype)


def leaky_relu(x, alpha: float = LEAKY_RELU_ALPHA) -> np.ndarray:
    """Leaky ReLU: ``x`` where ``x > 0``, else ``alpha * x``.

    Examples
    --------
    >>> leaky_relu([-2.0, 3.0], alpha=0.1)
    array([-0.2,  3. ])
    """
    x = as_float_array(x)
    with np.errstate(over="ignore"):  # a huge alpha times a huge x is -inf, as it should be
        return np.where(x > 0, x, x * x.dtype.type(alpha))


def leaky_relu_grad(x, alpha: float = LEAKY_RELU_ALPHA) -> np.ndarray:
    """Return the derivative of leaky ReLU: 1 where ``x > 0``, else `alpha` (also at 0)."""
    x = as_float_array(x)
    return np.where(x > 0, x.dtype.type(1), x.dtype.type(alpha))


def elu(x, alpha: float = ELU_ALPHA) -> np.ndarray:
    """ELU: ``x`` where ``x > 0``, else ``alpha * (exp(x) - 1)``.

    Examples
    --------
    >>> float(elu([-1e4])[0])
    -1.0
    """
    x = as_float_array(x)
    # exp only ever sees non-positive numbers, so it cannot overflow.
    negative = x.dtype.type(alpha) * np.expm1(np.minimum(x, 0))
    return np.where(x > 0, x, negative)


def elu_grad(x, alpha: float = ELU_ALPHA) -> np.ndarray:
    """Return the derivative of ELU: 1 where ``x > 0``, else ``alpha * exp(x)``."""
    x = as_float_array(x)
    return np.where(x > 0, x.dtype.type(1), x.dtype.type(alpha) * np.exp(np.minimum(x, 0)))


def sigmoid(x) -> np.ndarray:
    """Sigmoid ``1 / (1 + exp(-x))``, computed without overflow for any finite `x`.

    ``exp(-|x|)`` is at most 1, so neither branch can overflow: for ``x >= 0`` the value is
    ``1 / (1 + e)``, for ``x < 0`` it is ``e / (1 + e)`` (the form ``scipy.special.expit`` uses).

    Examples
    --------
    >>> sigmoid([0.0])
    array([0.5])
    >>> sigmoid([-1e4, 1e4])
    array([0., 1.])
    """
    x = as_float_array(x)
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)


def sigmoid_grad(x) -> np.ndarray:
    """Return the sigmoid's derivative ``s(x)·(1 - s(x)) = e / (1 + e)²``, ``e = exp(-|x|)``.

    The second form is symmetric in `x` and keeps full relative precision in the tails, where
    ``1 - s(x)`` would round to 0.
    """
    x = as_float_array(x)
    e = np.exp(-np.abs(x))
    return (e / ((1 + e) * (1 + e))).astype(x.dtype, copy=False)


def tanh(x) -> np.ndarray:
    """Hyperbolic tangent ``(e^x - e^-x) / (e^x + e^-x)``."""
    return np.tanh(as_float_array(x))


def tanh_grad(x) -> np.ndarray:
    """Return the derivative of tanh: ``1 - tanh(x)²``."""
    t = np.tanh(as_float_array(x))
    return 1 - t * t


def softplus(x) -> np.ndarray:
    """Softplus ``log(1 + exp(x))``, computed as ``logaddexp(0, x)`` so it never overflows.

    Examples
    --------
    >>> softplus([1e4, -1e4])
    array([10000.,     0.])
    """
    x = as_float_array(x)
    return np.logaddexp(x.dtype.type(0), x)


def softplus_grad(x) -> np.ndarray:
    """Return the derivative of softplus: the sigmoid of `x`."""
    return sigmoid(x)


def _normal_cdf(x: np.ndarray) -> np.ndarray:
    # erfc rather than 1 + erf keeps full relative precision for negative x, where 1 + erf(...)
    # would cancel to 0 long before Φ(x) underflows.
    from scipy.special import erfc

    return (0.5 * erfc(-x * x.dtype.type(_SQRT_HALF))).astype(x.dtype, copy=False)


def gelu(x) -> np.ndarray:
    """GELU, the exact form ``x · Φ(x) = x/2 · (1 + erf(x/√2))`` (PyTorch's default).

    Examples
    --------
    >>> gelu([0.0, 1.0]).round(6)
    array([0.      , 0.841345])
    """
    x = as_float_array(x)
    return _times(x, _normal_cdf(x))


def gelu_grad(x) -> np.ndarray:
    """Return the derivative of GELU: ``Φ(x) + x · φ(x)`` with φ the standard normal density."""
    x = as_float_array(x)
    clipped = np.clip(x, -_GAUSS_CLIP, _GAUSS_CLIP)
    density = x.dtype.type(_INV_SQRT_2PI) * np.exp(-0.5 * clipped * clipped)
    return _normal_cdf(x) + clipped * density


def swish(x) -> np.ndarray:
    """Swish (SiLU): ``x · sigmoid(x)``.

    Examples
    --------
    >>> swish([0.0, -1e4, 1e4, -np.inf])
    array([    0.,     0., 10000.,     0.])
    """
    x = as_float_array(x)
    return _times(x, sigmoid(x))


def swish_grad(x) -> np.ndarray:
    """Return the derivative of swish: ``s(x) + x · s(x) · (1 - s(x))`` with s the sigmoid."""
    x = as_float_array(x)
    s = sigmoid(x)
    # sigmoid(-x) is 1 - s(x) without the cancellation for large positive x.
    return _times(1 + _times(x, sigmoid(-x)), s)


def _times(x: np.ndarray, factor: np.ndarray) -> np.ndarray:
    # x · factor, taken as 0 where the factor is exactly 0: the limit of gelu and swish at -inf
    # (and of x·sigmoid(-x) at +inf) is 0, where the plain product would be inf · 0 = NaN.
    out = np.zeros(np.broadcast_shapes(np.shape(x), np.shape(factor)), dtype=factor.dtype)
    return np.multiply(x, factor, out=out, where=factor != 0)


def softmax(x, axis: int = -1) -> np.ndarray:
    """Softmax ``exp(x_k) / Σ_i exp(x_i)`` along `axis` (default: each row is one sample).

    The maximum along the axis is subtracted first (softmax does not change under a shift), so
    the largest exponent is ``exp(0) = 1``: no overflow, and the sum is at least 1.

    Parameters
    ----------
    x : array_like, shape (..., n)
    axis : int, default -1
        The axis whose entries sum to 1.

    Returns
    -------
    numpy.ndarray
        Same shape as `x`; entries in [0, 1] summing to 1 along `axis`.

    Examples
    --------
    >>> softmax([1.0, 1.0])
    array([0.5, 0.5])
    >>> softmax([[0.0, 1e4]])
    array([[0., 1.]])
    """
    x = as_float_array(x)
    _check_axis(x, axis)
    e = np.exp(_shift_by_max(x, axis))
    return e / np.sum(e, axis=axis, keepdims=True)


def log_softmax(x, axis: int = -1) -> np.ndarray:
    """Logarithm of the softmax, ``x_k - logsumexp(x)``, computed stably along `axis`.

    Examples
    --------
    >>> log_softmax([0.0, 0.0]).round(6)
    array([-0.693147, -0.693147])
    """
    x = as_float_array(x)
    _check_axis(x, axis)
    shifted = _shift_by_max(x, axis)
    return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))


def _shift_by_max(x: np.ndarray, axis: int) -> np.ndarray:
    # x - max(x) <= 0. Finite inputs more than the largest float apart (1e308 and -1e308) give
    # -inf, whose exp is the right 0; that overflow is expected, not a warning for the user.
    with np.errstate(over="ignore"):
        return x - np.max(x, axis=axis, keepdims=True)


def softmax_grad(x, axis: int = -1) -> np.ndarray:
    """Return the diagonal of the softmax Jacobian, ``s_k (1 - s_k)``, same shape as `x`.

    This is NOT the full derivative: softmax couples its outputs, so the off-diagonal terms
    ``-s_j s_k`` matter for backpropagation. Use :func:`softmax_jacobian` for the full matrix (or,
    in a network, the fused softmax + cross-entropy gradient ``s - t``).
    """
    s = softmax(x, axis=axis)
    return s * (1 - s)


def softmax_jacobian(x) -> np.ndarray:
    """Return the full Jacobian ``J[j, k] = ∂s_j/∂x_k = s_j (δ_jk - s_k)`` of the softmax.

    Parameters
    ----------
    x : array_like, shape (n,) or (m, n)
        One vector, or m rows each softmaxed on its own.

    Returns
    -------
    numpy.ndarray
        Shape (n, n) for one vector, (m, n, n) for m rows (one Jacobian per row).

    Examples
    --------
    >>> softmax_jacobian([0.0, 0.0])
    array([[ 0.25, -0.25],
           [-0.25,  0.25]])
    """
    x = as_float_array(x)
    if x.ndim not in (1, 2):
        raise NnkitInputError(
            f"softmax Jacobian needs a vector or a matrix of rows, got {x.ndim}-D"
        )
    s = softmax(x, axis=-1)
    return s[..., :, None] * np.eye(s.shape[-1], dtype=s.dtype) - s[..., :, None] * s[..., None, :]


def _check_axis(x: np.ndarray, axis: int) -> None:
    if x.ndim == 0:
        raise NnkitInputError("softmax needs at least one value along an axis, got a scalar")
    if not -x.ndim <= axis < x.ndim:
        raise NnkitInputError(
            f"--axis must be between {-x.ndim} and {x.ndim - 1} for a {x.ndim}-D input, got {axis}"
        )


# ---------------------------------------------------------------------------------------------
# The registry
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Activation:
    """One activation function with its derivative (numpy-ml style).

    Attributes
    ----------
    name : str
        Registry name, as typed on the command line (``"leaky-relu"``).
    label : str
        Display name in the course's words (``"Leaky ReLU"``); plots are titled
        ``f"{label} function"``.
    formula : str
        Human-readable definition, e.g. ``"max(0, x)"``.
    derivative : str
        Human-readable derivative.
    params : tuple of str
        Keyword parameters the function takes (``("alpha",)``, ``("axis",)`` or none).
    """

    name: str
    label: str
    formula: str
    derivative: str
    _fn: Callable[..., np.ndarray] = field(repr=False)
    _grad: Callable[..., np.ndarray] = field(repr=False)
    params: tuple[str, ...] = ()
    elementwise: bool = True

    def fn(self, x, **params) -> np.ndarray:
        """Evaluate the function at `x` (any shape; softmax along ``axis``, default -1)."""
        return self._fn(x, **self._check_params(params))

    def grad(self, x, **params) -> np.ndarray:
        """Elementwise derivative ``d fn / d x`` at `x`, same shape as `x`.

        For softmax this is only the Jacobian's diagonal; see :func:`softmax_jacobian`.
        """
        return self._grad(x, **self._check_params(params))

    def _check_params(self, params: dict) -> dict:
        unknown = sorted(set(params) - set(self.params))
        if unknown:
            takes = ", ".join(self.params) if self.params else "no parameters"
            raise NnkitInputError(
                f"{self.name} does not take {', '.join(unknown)} (it takes {takes})"
            )
        return params

    def __str__(self) -> str:
        return f"{self.name}(x) = {self.formula}"


_REGISTERED = [
    Activation("relu", "ReLU", "max(0, x)", "1 if x > 0 else 0", relu, relu_grad),
    Activation("sigmoid", "Sigmoid", "1 / (1 + exp(-x))", "s(x)·(1 - s(x))", sigmoid, sigmoid_grad),
    Activation(
        "softmax",
        "Softmax",
        "exp(x_k) / Σ_i exp(x_i)",
        "∂s_j/∂x_k = s_j·(δ_jk - s_k)",
        softmax,
        softmax_grad,
        params=("axis",),
        elementwise=False,
    ),
    Activation("tanh", "tanh", "tanh(x)", "1 - tanh(x)²", tanh, tanh_grad),
    Activation(
        "step", "Step", "1 if x > 0 else 0", "0 (undefined at 0, taken as 0)", step, step_grad
    ),
    Activation("identity", "Identity", "x", "1", identity, identity_grad),
    Activation(
        "leaky-relu",
        "Leaky ReLU",
        "x if x > 0 else α·x",
        "1 if x > 0 else α",
        leaky_relu,
        leaky_relu_grad,
        params=("alpha",),
    ),
    Activation(
        "elu",
        "ELU",
        "x if x > 0 else α·(exp(x) - 1)",
        "1 if x > 0 else α·exp(x)",
        elu,
        elu_grad,
        params=("alpha",),
    ),
    Activation("softplus", "Softplus", "log(1 + exp(x))", "sigmoid(x)", softplus, softplus_grad),
    Activation("gelu", "GELU", "x·Φ(x) = x/2·(1 + erf(x/√2))", "Φ(x) + x·φ(x)", gelu, gelu_grad),
    Activation("swish", "Swish", "x·sigmoid(x)", "s(x) + x·s(x)·(1 - s(x))", swish, swish_grad),
]

#: The activation functions by name, in the order ``--help`` lists them.
ACTIVATIONS: dict[str, Activation] = {a.name: a for a in _REGISTERED}


def get_activation(name: str) -> Activation:
    """Look an activation up by name.

    Raises
    ------
    NnkitInputError
        If `name` is not in :data:`ACTIVATIONS`; the message lists the choices.

    Examples
    --------
    >>> get_activation("relu").formula
    'max(0, x)'
    """
    try:
        return ACTIVATIONS[name]
    except KeyError:
        raise NnkitInputError(
            f"unknown activation function {name!r}",
            hint=f"choose one of: {', '.join(ACTIVATIONS)}",
        ) from None


def evaluate(
    name: str,
    x,
    *,
    derivative: bool = False,
    axis: int | None = None,
    alpha: float | None = None,
) -> np.ndarray:
    """Evaluate a registered activation (or its derivative) on user input, validating it.

    This is the entry point of ``nnkit activate``: it rejects NaN, parameters the function does
    not take, and (for softmax's derivative) input that is not one vector. Infinite inputs are
    accepted where the limit is defined (``relu(-inf) = 0``, ``sigmoid(inf) = 1``) and rejected
    where it is not (``softmax([inf, 1])``).

    Parameters
    ----------
    name : str
        A key of :data:`ACTIVATIONS`.
    x : array_like, any shape
    derivative : bool
        Return the derivative instead; for softmax, the Jacobian of one vector, shape (n, n).
    axis : int, optional
        Softmax axis (default -1).
    alpha : float, optional
        Slope/scale of leaky-relu and elu.

    Returns
    -------
    numpy.ndarray
        Same shape as `x` (softmax derivative: (n, n)).
    """
    act = get_activation(name)
    x = as_float_array(x)
    if x.size == 0:
        raise NnkitInputError(f"{name} needs at least one value, got none")
    if np.isnan(x).any():
        raise NnkitInputError(f"input contains NaN at index {_first(np.isnan(x))}")
    params: dict = {}
    if axis is not None:
        if "axis" not in act.params:
            raise NnkitInputError(f"--axis applies only to softmax, not to {name}")
        params["axis"] = axis
    if alpha is not None:
        if "alpha" not in act.params:
            raise NnkitInputError(f"--alpha applies only to leaky-relu and elu, not to {name}")
        if not math.isfinite(alpha):
            raise NnkitInputError(f"--alpha must be a finite number, got {alpha}")
        params["alpha"] = alpha
    finite = bool(np.isfinite(x).all())
    # Limits at ±inf are well defined for most functions; the invalid operations NumPy meets on
    # the way (inf - inf, 0 * inf) are detected below as NaN rather than reported as warnings.
    with np.errstate(all="ignore") if not finite else contextlib.nullcontext():
        if derivative and name == "softmax":
            if "axis" in params and params["axis"] not in (-1, x.ndim - 1):
                raise NnkitInputError("--derivative for softmax is taken along the last axis only")
            if x.ndim == 2 and x.shape[0] == 1:
                x = x[0]
            if x.ndim != 1:
                raise NnkitInputError(
                    f"--derivative for softmax needs one vector, got shape {x.shape}",
                    hint="the Jacobian is n×n per vector: pass one row at a time",
                )
            result = softmax_jacobian(x)
        else:
            result = act.grad(x, **params) if derivative else act.fn(x, **params)
    if not finite and np.isnan(result).any():
        # name the infinite input behind the first NaN (for softmax: an infinity in its row)
        culprit = ~np.isfinite(x)
        if act.elementwise:
            culprit &= np.isnan(result)
        else:
            if not derivative and x.ndim > 1:
                culprit &= np.isnan(result).any(axis=params.get("axis", -1), keepdims=True)
            # softmax is undefined at +inf (inf - inf), or where all of a row is -inf
            if (culprit & np.isposinf(x)).any():
                culprit &= np.isposinf(x)
        raise NnkitInputError(
            f"{name}{' derivative' if derivative else ''} is undefined for infinite input "
            f"at index {_first(culprit)}"
        )
    return result


def _first(mask: np.ndarray) -> tuple[int, ...] | int:
    idx = tuple(int(i) for i in np.argwhere(mask)[0])
    return idx[0] if len(idx) == 1 else idx
