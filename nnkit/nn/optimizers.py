"""Optimisers with PyTorch's ``torch.optim`` update rules and defaults.

Each optimiser holds the parameter arrays and updates them in place with ``step(grads)``. L2
weight decay is added to the gradient first, as ``torch.optim`` does: ``g ← g + weight_decay·p``.
With ``g`` the gradient and ``t`` the step number (1, 2, …):

=================  ==========================================================================
``sgd``            ``p ← p − lr·g``
``momentum``       ``v ← μ·v + g`` (``v = g`` on the first step), ``p ← p − lr·v``; μ = 0.9
``adagrad``        ``s ← s + g²``, ``p ← p − lr·g / (√s + ε)``; ε = 1e-10
``rmsprop``        ``s ← α·s + (1 − α)·g²``, ``p ← p − lr·g / (√s + ε)``; α = 0.99, ε = 1e-8
``rmsprop-keras``  ``s ← ρ·s + (1 − ρ)·g²``, ``p ← p − lr·g / √(s + ε)``; ρ = 0.9, ε = 1e-7
                   (Keras's RMSprop: ε inside the square root; the course's next chapter uses it)
``adam``           ``m ← β₁·m + (1 − β₁)·g``, ``v ← β₂·v + (1 − β₂)·g²``,
                   ``p ← p − lr/(1 − β₁ᵗ) · m / (√v / √(1 − β₂ᵗ) + ε)``; β = (0.9, 0.999), ε = 1e-8
=================  ==========================================================================

``DEFAULT_LR`` of each class is the learning rate with which it learns the bundled digits well
(Adam's 1e-3 is PyTorch's own default). All state has the parameters' dtype and every update is
done in place with preallocated scratch arrays, so float32 training stays float32.
"""

import math
from collections.abc import Sequence

import numpy as np

from nnkit.errors import NnkitInputError, unknown_name
from nnkit.nn import threads

#: Parameters with at least this many values are updated by the threads, each on a slice of the
#: flattened array (the update is elementwise); smaller ones are not worth the hand-off.
PARALLEL_SIZE = 1 << 16

#: The smallest learning rate taken: below it an update (lr × a bias correction of order 0.1 … 10)
#: would underflow to a subnormal or to 0, and Adam's step divides by it.
MIN_LR = 1e-300


def check_learning_rate(lr) -> float:
    """``lr`` as a float when it is finite and at least :data:`MIN_LR`, else an input error.

    >>> check_learning_rate(0.001)
    0.001
    """
    lr = float(lr)
    if not (math.isfinite(lr) and lr >= MIN_LR):
        hint = "a learning rate below 1e-300 underflows the update" if 0 < lr < MIN_LR else None
        raise NnkitInputError(f"--lr must be a positive number, got {lr}", hint=hint)
    return lr


class Optimizer:
    """Base class: validation, weight decay and the step counter.

    Parameters
    ----------
    params : sequence of ndarray
        The arrays to update in place (``network.parameters()``).
    lr : float, optional
        Learning rate; ``None`` means the class's ``DEFAULT_LR``.
    weight_decay : float, optional
        L2 penalty added to the gradient (``g + weight_decay·p``), as in ``torch.optim``.
    """

    name = "optimizer"
    DEFAULT_LR = 0.01
    description = ""

    def __init__(self, params: Sequence[np.ndarray], lr: float | None = None,
                 weight_decay: float = 0.0):
        lr = check_learning_rate(self.DEFAULT_LR if lr is None else lr)
        weight_decay = float(weight_decay)
        if not (math.isfinite(weight_decay) and weight_decay >= 0):
            raise NnkitInputError(f"--l2 must be zero or positive, got {weight_decay}")
        self.params = list(params)
        self.lr = lr
        self.weight_decay = weight_decay
        self.t = 0
        self._scratch = [np.empty_like(p) for p in self.params]
        # the per-parameter state arrays _update takes after (p, g), in order (set by subclasses)
        self._state: list[list[np.ndarray]] = [self._scratch]

    def step(self, grads: Sequence[np.ndarray]) -> None:
        """Update every parameter in place from its gradient (same order as ``params``)."""
        if len(grads) != len(self.params):
            raise NnkitInputError(f"expected {len(self.params)} gradients, got {len(grads)}")
        self.t += 1
        for i, (p, g) in enumerate(zip(self.params, grads, strict=True)):
            arrays = [p, g, *(state[i] for state in self._state)]
            if p.size >= PARALLEL_SIZE and all(a.flags.c_contiguous for a in arrays):
                flat = [a.reshape(-1) for a in arrays]
                threads.parallel(lambda a, b, flat=flat: self._decay_and_update(
                    *(f[a:b] for f in flat)), p.size, min_size=PARALLEL_SIZE // 4)
            else:
                self._decay_and_update(*arrays)

    def _decay_and_update(self, p, g, scratch, *state) -> None:
        if self.weight_decay:
            # g + wd·p into a scratch array: the caller's gradient is left untouched.
            g0 = g
            g = np.multiply(p, self.weight_decay, out=scratch)
            g += g0
        self._update(p, g, scratch, *state)

    def _update(self, p: np.ndarray, g: np.ndarray, scratch: np.ndarray, *state) -> None:
        """``p`` ← the rule's step from ``g``.

        ``scratch`` and ``state`` are this parameter's arrays (or the same slice of them), in the
        order of ``self._state``.
        """
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}(lr={self.lr}, weight_decay={self.weight_decay})"


class SGD(Optimizer):
    """Stochastic gradient descent, ``p ← p − lr·g`` (``torch.optim.SGD``).

    Examples
    --------
    >>> p = np.array([1.0, 2.0])
    >>> SGD([p], lr=0.1).step([np.array([1.0, -1.0])])
    >>> p
    array([0.9, 2.1])
    """

    name = "sgd"
    DEFAULT_LR = 0.1
    description = "stochastic gradient descent: subtract lr × gradient"

    def _update(self, p, g, scratch):
        # With weight decay g already is the scratch array; scaling it there in place is fine.
        work = np.multiply(g, self.lr, out=scratch)
        p -= work


class Momentum(Optimizer):
    """SGD with momentum 0.9, PyTorch's buffer rule (no dampening, no Nesterov).

    ``v ← μ·v + g`` (``v = g`` on the first step), ``p ← p − lr·v``.

    Examples
    --------
    >>> p = np.array([1.0])
    >>> opt = Momentum([p], lr=0.1)
    >>> opt.step([np.array([1.0])]); opt.step([np.array([1.0])])
    >>> p  # 1 - 0.1·1 - 0.1·(0.9 + 1)
    array([0.71])
    """

    name = "momentum"
    DEFAULT_LR = 0.01
    description = "SGD with momentum 0.9 (velocity v = 0.9·v + g)"
    momentum = 0.9

    def __init__(self, params, lr=None, weight_decay=0.0):
        super().__init__(params, lr, weight_decay)
        self.velocity = [np.zeros_like(p) for p in self.params]
        self._state.append(self.velocity)

    def _update(self, p, g, scratch, v):
        if self.t == 1:
            v[...] = g
        else:
            v *= self.momentum
            v += g
        work = np.multiply(v, self.lr, out=scratch)
        p -= work


class Adagrad(Optimizer):
    """Adagrad: the learning rate shrinks as squared gradients accumulate (``torch.optim.Adagrad``).

    ``s ← s + g²``, ``p ← p − lr·g / (√s + ε)`` with ε = 1e-10, lr_decay 0, initial accumulator 0.

    Examples
    --------
    >>> p = np.array([1.0])
    >>> Adagrad([p], lr=0.1).step([np.array([2.0])])
    >>> p  # 1 - 0.1·2/(2 + 1e-10)
    array([0.9])
    """

    name = "adagrad"
    DEFAULT_LR = 0.01
    description = "learning rate shrinks as squared gradients add up (eps 1e-10)"
    eps = 1e-10

    def __init__(self, params, lr=None, weight_decay=0.0):
        super().__init__(params, lr, weight_decay)
        self.sum_squares = [np.zeros_like(p) for p in self.params]
        self._denom = [np.empty_like(p) for p in self.params]
        self._state += [self.sum_squares, self._denom]

    def _update(self, p, g, scratch, s, denom):
        np.multiply(g, g, out=denom)
        s += denom
        _descend_scaled(p, g, s, self.lr, self.eps, denom)


class RMSprop(Optimizer):
    """RMSprop: Adagrad with a decaying average of squared gradients (``torch.optim.RMSprop``).

    ``s ← α·s + (1 − α)·g²``, ``p ← p − lr·g / (√s + ε)`` with α = 0.99, ε = 1e-8, not centred,
    no momentum.

    Examples
    --------
    >>> p = np.array([1.0])
    >>> RMSprop([p], lr=0.01).step([np.array([1.0])])
    >>> p.round(6)  # 1 - 0.01·1/(√0.01 + 1e-8)
    array([0.9])
    """

    name = "rmsprop"
    DEFAULT_LR = 0.001
    description = "divide by a running RMS of the gradient (alpha 0.99, eps 1e-8)"
    alpha = 0.99
    eps = 1e-8

    def __init__(self, params, lr=None, weight_decay=0.0):
        super().__init__(params, lr, weight_decay)
        self.square_avg = [np.zeros_like(p) for p in self.params]
        self._denom = [np.empty_like(p) for p in self.params]
        self._state += [self.square_avg, self._denom]

    def _update(self, p, g, scratch, s, denom):
        np.multiply(g, g, out=denom)
        denom *= 1.0 - self.alpha
        s *= self.alpha
        s += denom
        _descend_scaled(p, g, s, self.lr, self.eps, denom)


class KerasRMSprop(Optimizer):
    """RMSprop as ``keras.optimizers.RMSprop`` computes it, with Keras's defaults.

    ``s ← ρ·s + (1 − ρ)·g²``, ``p ← p − lr·g / √(s + ε)`` with ρ = 0.9, ε = 1e-7, lr = 1e-3, no
    momentum, not centred. Unlike ``torch.optim.RMSprop`` (``rmsprop``: ``√s + ε``, α = 0.99,
    ε = 1e-8) the ε sits inside the square root, so the very first steps, when ``s`` is tiny, are
    damped by √ε ≈ 3.2e-4 instead of 1e-8.

    Examples
    --------
    Keras's own docstring example: ``var1 = 10``, loss ``var1² / 2``, lr 0.1, one step.

    >>> p = np.array([10.0])
    >>> KerasRMSprop([p], lr=0.1).step([p.copy()])
    >>> p.round(6)
    array([9.683772])
    """

    name = "rmsprop-keras"
    DEFAULT_LR = 0.001
    description = "Keras's RMSprop (rho 0.9, eps 1e-7 inside the square root)"
    rho = 0.9
    eps = 1e-7

    def __init__(self, params, lr=None, weight_decay=0.0):
        super().__init__(params, lr, weight_decay)
        self.velocity = [np.zeros_like(p) for p in self.params]
        self._denom = [np.empty_like(p) for p in self.params]
        self._state += [self.velocity, self._denom]

    def _update(self, p, g, scratch, s, work):
        np.multiply(g, g, out=work)
        work *= 1.0 - self.rho
        s *= self.rho
        s += work
        np.add(s, self.eps, out=work)
        np.sqrt(work, out=work)
        np.divide(g, work, out=work)
        work *= self.lr
        p -= work


class Adam(Optimizer):
    """Adam: momentum and RMSprop with bias correction (``torch.optim.Adam``).

    ``m ← β₁·m + (1 − β₁)·g``, ``v ← β₂·v + (1 − β₂)·g²``,
    ``p ← p − lr/(1 − β₁ᵗ) · m / (√v / √(1 − β₂ᵗ) + ε)`` with β = (0.9, 0.999), ε = 1e-8.

    Examples
    --------
    >>> p = np.array([1.0])
    >>> Adam([p], lr=0.1).step([np.array([3.0])])
    >>> p.round(6)  # the first Adam step moves each weight by about lr
    array([0.9])
    """

    name = "adam"
    DEFAULT_LR = 0.001
    description = "momentum + RMSprop with bias correction (betas 0.9, 0.999; eps 1e-8)"
    beta1 = 0.9
    beta2 = 0.999
    eps = 1e-8

    def __init__(self, params, lr=None, weight_decay=0.0):
        super().__init__(params, lr, weight_decay)
        # The moments are kept divided by (1 − β): m̃ = m/(1 − β₁), ṽ = v/(1 − β₂). Then
        # m̃ ← β₁·m̃ + g and ṽ ← β₂·ṽ + g² need no scaling pass, and the constants fold into the
        # step: 10 passes over the parameters instead of 13 (the optimiser step is memory-bound).
        self.m_scaled = [np.zeros_like(p) for p in self.params]
        self.v_scaled = [np.zeros_like(p) for p in self.params]
        self._work = [np.empty_like(p) for p in self.params]
        self._state += [self.m_scaled, self.v_scaled, self._work]

    @property
    def m(self) -> list[np.ndarray]:
        """First moments ``m`` exactly as torch.optim.Adam's ``exp_avg``."""
        return [(1.0 - self.beta1) * m for m in self.m_scaled]

    @property
    def v(self) -> list[np.ndarray]:
        """Second moments ``v`` exactly as torch.optim.Adam's ``exp_avg_sq``."""
        return [(1.0 - self.beta2) * v for v in self.v_scaled]

    def _update(self, p, g, scratch, m, v, work):
        # √v/√(1−β₂ᵗ) + ε = k·(√ṽ + ε/k) with k = √(1−β₂)/√(1−β₂ᵗ); Python floats throughout,
        # so float32 arrays are not promoted to float64.
        k = math.sqrt(1.0 - self.beta2) / math.sqrt(1.0 - self.beta2**self.t)
        step = self.lr * (1.0 - self.beta1) / ((1.0 - self.beta1**self.t) * k)
        m *= self.beta1
        m += g
        np.multiply(g, g, out=work)
        v *= self.beta2
        v += work
        np.sqrt(v, out=work)
        work += self.eps / k
        work *= 1.0 / step
        np.divide(m, work, out=work)
        p -= work


def _descend_scaled(p, g, s, lr, eps, work) -> None:
    """``p ← p − lr·g / (√s + ε)``, the step Adagrad and RMSprop share, through ``work``."""
    np.sqrt(s, out=work)
    work += eps
    np.divide(g, work, out=work)
    work *= lr
    p -= work


OPTIMIZERS: dict[str, type[Optimizer]] = {
    cls.name: cls for cls in (SGD, Momentum, Adagrad, RMSprop, KerasRMSprop, Adam)
}


def make_optimizer(name: str, params: Sequence[np.ndarray], lr: float | None = None,
                   weight_decay: float = 0.0) -> Optimizer:
    """``OPTIMIZERS[name](params, lr, weight_decay)`` with a clear error for an unknown name."""
    if name not in OPTIMIZERS:
        raise unknown_name("optimizer", name, OPTIMIZERS)
    return OPTIMIZERS[name](params, lr=lr, weight_decay=weight_decay)
