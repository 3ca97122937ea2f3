"""Loss functions of the course, their gradients, and one registry for all of nnkit.

Shapes: a prediction ``pred`` is one sample ``(k,)`` or a batch ``(n, k)`` of n samples (rows)
with k outputs each. ``target`` is either dense (one-hot rows or probabilities, the same shape) or
one class index per sample (an integer per row, turned into a one-hot row k wide).

Within one sample, ``sse`` and ``cce`` sum over the k outputs while ``mse``, ``mae`` and ``bce``
average over them (Keras's convention). Over the n samples, ``reduction`` combines the per-sample
losses: ``"mean"`` (default), ``"sum"`` or ``"none"`` (the n per-sample losses). So:

* ``mse`` with ``"mean"`` equals PyTorch's ``nn.MSELoss()`` and Keras's ``mean_squared_error``;
* ``mae`` with ``"mean"`` equals ``nn.L1Loss()``;
* ``bce`` with ``"mean"`` equals ``nn.BCELoss()`` (log clamped at -100 as PyTorch does) and,
  with ``from_logits=True``, ``nn.BCEWithLogitsLoss()``;
* ``cce`` with ``"mean"``, ``delta=0`` and one-hot or index targets equals ``nn.NLLLoss()`` of
  ``log(pred)``, and with ``from_logits=True`` equals ``nn.CrossEntropyLoss()``;
* ``sse`` is the course's ``½Σ(y - t)²`` per sample; with ``"sum"`` it equals
  ``0.5 * nn.MSELoss(reduction="sum")``.

The engine reads a (10, 1) array as 10 samples of one output (its sums are then
``reduction="sum"``; for a single row ``(k,)`` every reduction gives the same number). The command
line reads the course's column vectors as one sample instead: that rule is in
:mod:`nnkit.files.orientation`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from nnkit.errors import NnkitInputError
from nnkit.nn.activations import as_float_array, log_softmax, sigmoid, softmax

#: The course's δ in ``-Σ t log(y + δ)``: keeps log(0) finite.
DELTA = 1e-7
#: How the per-sample losses are combined.
REDUCTIONS = ("mean", "sum", "none")
# PyTorch's BCELoss clamps each log term at -100, so a prediction of exactly 0 or 1 gives a large
# finite loss instead of inf; its backward clamps y(1 - y) at 1e-12 for the same reason.
_BCE_LOG_FLOOR = -100.0
_BCE_GRAD_EPS = 1e-12


# A loss of finite inputs can exceed the largest float (mse of 1e200): its value is then inf, the
# correctly rounded result, and NumPy's overflow warning would only add noise on stderr.
def _overflow_is_inf():
    return np.errstate(over="ignore")


def _clamped_log(y: np.ndarray) -> np.ndarray:
    # log(0) is -inf with a divide warning; computing only where y > 0 avoids both.
    out = np.full_like(y, _BCE_LOG_FLOOR)
    np.log(y, out=out, where=y > 0)
    return np.maximum(out, _BCE_LOG_FLOOR)


# Each kind is two elementwise formulas over (n, k) arrays: its terms (before the 1/k of the
# "mean within a sample" kinds) and their derivative with respect to the prediction.


def _sse_terms(y, t, delta, logits):
    d = y - t
    return 0.5 * d * d


def _sse_grad(y, t, delta, logits):
    return y - t


def _mse_terms(y, t, delta, logits):
    d = y - t
    return d * d


def _mse_grad(y, t, delta, logits):
    return 2 * (y - t)


def _mae_terms(y, t, delta, logits):
    return np.abs(y - t)


def _mae_grad(y, t, delta, logits):
    return np.sign(y - t)


def _bce_terms(y, t, delta, logits):
    if logits:
        # log(1 + exp(z)) - z·t, written so that exp never sees a positive number
        return np.maximum(y, 0) - y * t + np.log1p(np.exp(-np.abs(y)))
    return -(t * _clamped_log(y) + (1 - t) * _clamped_log(1 - y))


def _bce_grad(y, t, delta, logits):
    if logits:
        return sigmoid(y) - t
    return (y - t) / np.maximum(y * (1 - y), _BCE_GRAD_EPS)


def _cce_terms(y, t, delta, logits):
    terms = np.zeros_like(y)
    if logits:
        # only classes with t > 0 contribute: a log-softmax of -inf (logits more than the largest
        # float apart) times t = 0 would otherwise be NaN
        np.multiply(-t, log_softmax(y, axis=-1), out=terms, where=t != 0)
        return terms
    # Only classes with t > 0 contribute; with delta = 0 a zero probability there is an honest inf.
    with np.errstate(divide="ignore"):
        np.multiply(-t, np.log(y + delta), out=terms, where=t != 0)
    return terms


def _cce_grad(y, t, delta, logits):
    if logits:
        # ∂/∂z of -Σ t·log softmax(z) = softmax(z)·Σt - t, i.e. s - t for one-hot rows
        return softmax(y, axis=-1) * t.sum(axis=-1, keepdims=True) - t
    grad = np.zeros_like(y)
    with np.errstate(divide="ignore"):
        np.divide(-t, y + delta, out=grad, where=t != 0)
    return grad


@dataclass(frozen=True)
class Loss:
    """One loss function with its gradient with respect to the prediction.

    Attributes
    ----------
    name : str
        Registry name (``"cce"``).
    label : str
        Title in the course's words (``"Cross-entropy error"``).
    formula : str
        The per-sample formula, human-readable.
    within_sample : {"sum", "mean"}
        How the k outputs of one sample are combined.
    probabilities : bool
        True for bce and cce: without ``from_logits`` the prediction must lie in [0, 1].
    """

    name: str
    label: str
    formula: str
    within_sample: str
    probabilities: bool
    _terms: Callable
    _grad: Callable

    # -- the three views of one loss ---------------------------------------------------------------

    def pieces(
        self, pred, target, *, delta: float = DELTA, from_logits: bool = False
    ) -> np.ndarray:
        """Each output's contribution to its sample's loss; the rows sum to the per-sample losses.

        Parameters
        ----------
        pred : array_like, shape (k,) or (n, k)
        target : array_like, same shape (dense) or (n,) / scalar (class indices)
        delta : float
            cce's δ (ignored by the other kinds and with ``from_logits``).
        from_logits : bool
            `pred` holds raw scores: softmax (cce) or sigmoid (bce) is applied inside, stably.

        Returns
        -------
        numpy.ndarray, shape (n, k)
            For a single sample ``(k,)`` the shape is ``(1, k)``.
        """
        y, t = self.prepare(pred, target, from_logits=from_logits)
        _check_delta(delta)
        with _overflow_is_inf():
            terms = self._terms(y, t, delta, from_logits)
        return terms / y.shape[1] if self.within_sample == "mean" else terms

    def fn(
        self,
        pred,
        target,
        *,
        delta: float = DELTA,
        from_logits: bool = False,
        reduction: str = "mean",
    ) -> np.ndarray:
        """Return the loss: a 0-D array (``"mean"``/``"sum"``) or the n per-sample losses.

        Examples
        --------
        >>> y = [0.01, 0.03, 0.7, 0.1, 0.01, 0.01, 0.01, 0.02, 0.1, 0.01]
        >>> round(float(LOSSES["cce"].fn(y, 2)), 6)
        0.356675
        """
        _check_reduction(reduction)
        pieces = self.pieces(pred, target, delta=delta, from_logits=from_logits)
        with _overflow_is_inf():
            per_sample = pieces.sum(axis=1)
            if reduction == "none":
                return per_sample
            return per_sample.mean() if reduction == "mean" else per_sample.sum()

    def grad(
        self,
        pred,
        target,
        *,
        delta: float = DELTA,
        from_logits: bool = False,
        reduction: str = "mean",
    ) -> np.ndarray:
        """Return ∂L/∂pred, the same shape as `pred`.

        With ``from_logits`` the derivative is with respect to the logits. ``"mean"`` divides by
        the number of samples n; ``"none"`` gives each row the gradient of its own loss (which is
        what ``"sum"`` gives, the samples being independent). For bce at ``y`` exactly 0 or 1 the
        denominator ``y(1 - y)`` is clamped at 1e-12 as PyTorch does.
        """
        _check_reduction(reduction)
        y, t = self.prepare(pred, target, from_logits=from_logits)
        _check_delta(delta)
        with _overflow_is_inf():
            g = self._grad(y, t, delta, from_logits)
        if self.within_sample == "mean":
            g = g / y.shape[1]
        if reduction == "mean":
            g = g / y.shape[0]
        return g.reshape(np.shape(pred))

    def curve(self, x, *, delta: float = DELTA, target: float = 1.0) -> np.ndarray:
        """Return one output's loss over `x`, for the course's loss-curve figures.

        For sse, mse and mae `x` is ``predict - true``; for bce and cce it is the predicted
        probability of a class whose target is `target` (cce: ``-target·log(x + δ)``).
        """
        x = as_float_array(x)
        with _overflow_is_inf():
            if self.probabilities:
                return self._terms(x, np.full_like(x, target), delta, False)
            return self._terms(x, np.zeros_like(x), delta, False)

    # -- input checks ------------------------------------------------------------------------------

    def prepare(self, pred, target, *, from_logits: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """Validate `pred` and `target` and return both as (n, k) arrays of pred's float dtype.

        Raises
        ------
        NnkitInputError
            On NaN or infinity, an empty prediction, shapes that do not match, a class index out
            of range, or (bce, cce without `from_logits`) values outside [0, 1].
        """
        y = _finite_float(pred, "--pred")
        if y.ndim > 2:
            raise NnkitInputError(f"--pred must be a vector or a matrix, got {y.ndim}-D {y.shape}")
        y2 = y.reshape(1, -1) if y.ndim < 2 else y
        t2 = _target_rows(_finite_float(target, "--target"), y, y2).astype(y2.dtype, copy=False)
        if self.probabilities:
            if not from_logits:
                _check_unit_interval(
                    y2, "--pred", self.name, hint="pass --from-logits for raw scores"
                )
            _check_unit_interval(t2, "--target", self.name)
        return y2, t2

    def __str__(self) -> str:
        return f"{self.name}: {self.formula}"


def _finite_float(a, option: str) -> np.ndarray:
    try:
        x = as_float_array(a)
    except (TypeError, ValueError) as exc:
        raise NnkitInputError(f"{option} must be numbers: {exc}") from None
    if x.size == 0:
        raise NnkitInputError(f"{option} is empty")
    bad = ~np.isfinite(x)
    if bad.any():
        where = tuple(int(i) for i in np.argwhere(bad)[0])
        what = "NaN" if np.isnan(x[where]) else "infinity"
        at = f" at index {where[0] if len(where) == 1 else where}" if where else ""
        raise NnkitInputError(f"{option} contains {what}{at}")
    return x


def _target_rows(t: np.ndarray, y: np.ndarray, y2: np.ndarray) -> np.ndarray:
    n, k = y2.shape
    if t.size == y2.size and np.squeeze(t).shape == np.squeeze(y2).shape:
        return t.reshape(n, k)
    if t.size == n and (t.ndim <= 1 or t.shape == (n, 1)):
        labels = t.reshape(n)
        if not np.array_equal(labels, np.round(labels)):
            raise NnkitInputError(
                f"--target has {n} value(s) for {n} sample(s), so they are class indices, "
                f"but {labels[labels != np.round(labels)][0]:g} is not an integer"
            )
        out_of_range = (labels < 0) | (labels >= k)
        if out_of_range.any():
            raise NnkitInputError(
                f"--target class index {labels[out_of_range][0]:g} is out of range "
                f"for {k} outputs (0..{k - 1})"
            )
        return np.eye(k, dtype=y2.dtype)[labels.astype(np.intp)]
    raise NnkitInputError(
        f"--pred has shape {y.shape} but --target has shape {t.shape}",
        hint=f"give one-hot rows of shape {y.shape} or one class index per sample ({n})",
    )


def _check_unit_interval(a: np.ndarray, option: str, kind: str, hint: str | None = None) -> None:
    bad = (a < 0) | (a > 1)
    if bad.any():
        where = tuple(int(i) for i in np.argwhere(bad)[0])
        raise NnkitInputError(
            f"{option} must be probabilities in [0, 1] for {kind}, got {a[where]:g}", hint=hint
        )


def _check_delta(delta: float) -> None:
    if not (np.isfinite(delta) and delta >= 0):
        raise NnkitInputError(f"--delta must be a finite number >= 0, got {delta}")


def _check_reduction(reduction: str) -> None:
    if reduction not in REDUCTIONS:
        raise NnkitInputError(
            f"--reduction must be one of {', '.join(REDUCTIONS)}, got {reduction!r}"
        )


_REGISTERED = [
    Loss("sse", "Sum of squared error", "½·Σ_k (y_k - t_k)²", "sum", False, _sse_terms, _sse_grad),
    Loss(
        "mse", "Mean squared error", "(1/k)·Σ_k (y_k - t_k)²", "mean", False, _mse_terms, _mse_grad
    ),
    Loss(
        "mae", "Mean absolute error", "(1/k)·Σ_k |y_k - t_k|", "mean", False, _mae_terms, _mae_grad
    ),
    Loss(
        "bce",
        "Binary cross-entropy",
        "-(1/k)·Σ_k [t_k·log(y_k) + (1 - t_k)·log(1 - y_k)]",
        "mean",
        True,
        _bce_terms,
        _bce_grad,
    ),
    Loss("cce", "Cross-entropy error", "-Σ_k t_k·log(y_k + δ)", "sum", True, _cce_terms, _cce_grad),
]

#: The loss functions by name, in the order ``--help`` lists them.
LOSSES: dict[str, Loss] = {loss.name: loss for loss in _REGISTERED}
#: Other names accepted for a loss.
LOSS_ALIASES: dict[str, str] = {"cross-entropy": "cce"}


def get_loss(name: str) -> Loss:
    """Look a loss up by name or alias.

    Raises
    ------
    NnkitInputError
        If `name` is unknown; the hint lists the choices.

    Examples
    --------
    >>> get_loss("cross-entropy").name
    'cce'
    """
    try:
        return LOSSES[LOSS_ALIASES.get(name, name)]
    except KeyError:
        raise NnkitInputError(
            f"unknown loss {name!r}", hint=f"choose one of: {', '.join([*LOSSES, *LOSS_ALIASES])}"
        ) from None


# -- the course's functions by their own names -----------------------------------------------------


def sum_of_squared_error(y, t) -> float:
    """Return the course's ``0.5 * np.sum((y - t)**2)`` over all elements.

    Examples
    --------
    >>> sum_of_squared_error([0.5, 0.5], [1, 0])
    0.25
    """
    return float(LOSSES["sse"].fn(y, t, reduction="sum"))


def cross_entropy_error(y, t, delta: float = DELTA) -> float:
    """Return the course's ``-np.sum(t * np.log(y + delta))`` over all elements.

    Examples
    --------
    >>> round(cross_entropy_error([0.3, 0.7], [0, 1]), 6)
    0.356675
    """
    return float(LOSSES["cce"].fn(y, t, delta=delta, reduction="sum"))


def mean_squared_error(y, t) -> float:
    """Return the mean of ``(y - t)²`` over all elements (``nn.MSELoss()``)."""
    return float(LOSSES["mse"].fn(y, t))


def mean_absolute_error(y, t) -> float:
    """Return the mean of ``|y - t|`` over all elements (``nn.L1Loss()``)."""
    return float(LOSSES["mae"].fn(y, t))


def binary_cross_entropy(y, t) -> float:
    """Return the mean binary cross-entropy over all elements (``nn.BCELoss()``)."""
    return float(LOSSES["bce"].fn(y, t))
