"""The learning-rate finder (fastai's ``lr_find``, Leslie Smith's learning-rate range test).

Train from the starting weights with a learning rate that grows exponentially from ``start_lr`` to
``end_lr`` over ``steps`` mini-batches, recording the loss of each batch. While the rate is too
small the loss hardly moves; then it falls; when the rate is too large it shoots up (the test stops
once the smoothed loss is 4 times its lowest). The weights and everything else are put back
afterwards: the finder only looks.

The suggestion follows fastai's default rule, ``valley``: on the smoothed losses (an exponential
moving average, β = 0.98, bias-corrected), without the first tenth and the last five steps, find the
longest run of steps over which the loss keeps falling (each step lower than the one it follows in the
run, not necessarily neighbours); the suggestion is the rate half-way between the first and the second
third of that run — well inside the fall, before the bottom, where the loss drops fastest and the
rate is still safe. ``minimum`` (fastai's older rule: the rate at the lowest loss divided by 10) is
reported too.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nnkit.errors import NnkitInputError
from nnkit.nn.optimizers import make_optimizer

#: fastai's defaults.
START_LR, END_LR, STEPS = 1e-7, 10.0, 100
SMOOTHING = 0.98
DIVERGED = 4.0


@dataclass
class LRFinding:
    """What the range test saw: the rates tried, the raw and smoothed losses, the suggestions."""

    lrs: np.ndarray
    losses: np.ndarray
    smoothed: np.ndarray
    suggestion: float
    valley: tuple[int, int]
    minimum: float
    stopped_early: bool


def exponential_rates(start: float, end: float, steps: int) -> np.ndarray:
    """``start·(end/start)^(i/(steps−1))`` for i = 0 … steps−1.

    Examples
    --------
    >>> exponential_rates(1e-3, 1e-1, 3).tolist()
    [0.001, 0.01, 0.1]
    """
    if not (0 < start < end) or steps < 2:
        raise NnkitInputError(f"the range test needs 0 < start < end and 2 steps or more, got {start}, {end}, {steps}")
    return start * (end / start) ** (np.arange(steps) / (steps - 1))


def smooth(losses: np.ndarray, beta: float = SMOOTHING) -> np.ndarray:
    """Exponential moving average with bias correction, as fastai's recorder smooths the loss.

    Examples
    --------
    >>> smooth(np.array([2.0, 4.0])).round(4).tolist()  # (0.98·0.04 + 0.02·4) / (1 − 0.98²)
    [2.0, 3.0101]
    """
    out = np.empty(len(losses))
    average = 0.0
    for i, loss in enumerate(losses):
        average = beta * average + (1 - beta) * loss
        out[i] = average / (1 - beta ** (i + 1))
    return out


def valley(losses: np.ndarray) -> tuple[int, int, int]:
    """``(start, end, index)``: the longest falling run of ``losses`` and the suggested index in it.

    For each step, the longest run of earlier steps, each lower than the one before it, that ends
    there; the valley ends where the longest of all ends and reaches back as many steps as that run
    is long (fastai's counting); the suggestion is ``start + ⌊third⌋ + ⌊third / 2⌋``.

    Examples
    --------
    >>> valley(np.array([9.0, 5.0, 4.0, 3.0, 2.0, 1.0, 6.0, 9.0]))
    (0, 5, 1)
    """
    n = len(losses)
    if n < 2:
        raise NnkitInputError("the range test needs at least two steps to find a valley")
    run = np.ones(n, dtype=np.int64)
    end = 0
    for i in range(1, n):
        lower = losses[:i] > losses[i]
        if lower.any():
            run[i] = run[:i][lower].max() + 1
        if run[i] > run[end]:
            end = i
    start = max(end - int(run[end]), 0)
    third = (end - start) / 3
    return start, end, start + int(third) + int(third / 2)


def find_lr(network, x: np.ndarray, t: np.ndarray, optimizer: str, batch_size: int | None, seed: int = 0,
            start_lr: float = START_LR, end_lr: float = END_LR, steps: int = STEPS, weight_decay: float = 0.0,
            ) -> LRFinding:
    """Run the range test on ``network`` with mini-batches of ``(x, t)``; the weights are restored.

    Parameters
    ----------
    network : Network
    x, t : training inputs and targets
    optimizer : str
        The optimizer that will train (its state grows during the test, as in training).
    batch_size : int or None
        Samples per step (None: all); the batches are reshuffled every pass, seeded by ``seed``.
    start_lr, end_lr, steps : the exponential schedule.
    """
    rates = exponential_rates(start_lr, end_lr, steps)
    saved = [p.copy() for p in network.parameters()]
    x = np.asarray(x, dtype=network.dtype)
    rng = np.random.default_rng(seed)
    n = len(x)
    size = n if batch_size is None else min(batch_size, n)
    opt = make_optimizer(optimizer, network.parameters(), lr=float(rates[0]), weight_decay=weight_decay)
    losses: list[float] = []
    order, position = rng.permutation(n), 0
    try:
        for lr in rates:
            if position + size > n:
                order, position = rng.permutation(n), 0
            chosen = order[position:position + size]
            position += size
            loss, _ = network.train_batch(x[chosen], t[chosen])
            losses.append(float(loss))
            smoothed = smooth(np.array(losses))
            if not np.isfinite(smoothed[-1]) or smoothed[-1] > DIVERGED * smoothed.min():
                break
            opt.lr = float(lr)
            opt.step(network.gradients())
    finally:
        for p, kept in zip(network.parameters(), saved, strict=True):
            p[...] = kept
    return _suggest(rates[:len(losses)], np.array(losses), len(losses) < steps)


def _suggest(lrs: np.ndarray, losses: np.ndarray, stopped_early: bool) -> LRFinding:
    smoothed = smooth(losses)
    skip_start, skip_end = len(lrs) // 10, 5  # fastai's: the first tenth and the last five steps
    window = slice(skip_start, max(len(lrs) - skip_end, skip_start + 2))
    finite = np.where(np.isfinite(smoothed[window]), smoothed[window], np.inf)
    start, end, index = valley(finite)
    minimum = float(lrs[window][int(np.argmin(finite))] / 10)
    return LRFinding(lrs, losses, smoothed, float(lrs[window][index]), (start + skip_start, end + skip_start),
                     minimum, stopped_early)
