"""Is a new input like the training inputs? A cheap summary kept in the model file, and the caution.

A network answers every input with a class, a brain slice fed to a digit model included. The
summary of the training inputs (as the network sees them: scaled pixels, standardised features)
keeps four facts, each with a limit that all but a few in a thousand training inputs stay within:

1. **distance**: ``mean_j ((x_j − μ_j) / σ_j)²``, the squared z-score of every input value against
   that value's training mean μ_j and spread σ_j, averaged (a diagonal Mahalanobis distance). Ink
   where digits never have any, or a uniform grey, is far away. σ_j is floored at a tenth of the
   overall spread, so that a pixel that is always 0 in training (a digit's corner) does not make
   the faintest value in it infinitely far. Limit: the 99.5th percentile of the training distances.
2. **intensity**: the input's mean value; limits the 0.1th and 99.9th percentiles (a blank or a
   saturated image, or a brain slice prepared as a digit, lies outside).
3. **histogram**: the share of the input's values in each of up to 20 bins whose edges are the
   training values' quantiles (so each bin holds about as many training values); the distance is
   the L1 distance to the training inputs' mean histogram, limit its 99.5th percentile. A brain
   slice prepared as a digit has the right mean but grey where digits have ink or nothing.
4. **confidence**: the model's top-class probability; limit its 0.5th percentile on the training
   inputs (an input the model is unusually unsure about).

An input that breaks any limit gets a caution; by construction about 1.7 % of the training inputs
do too (the false-alarm rate), more on new cases where the model is less sure of them than of its
training data (measured on held-out test images: see the README). Inputs with more than :data:`MAX_VALUES` values keep rules 2 and 3 only.
"""

from __future__ import annotations

import numpy as np

#: The largest input whose per-value statistics are stored (two floats per value in the model's JSON).
MAX_VALUES = 100_000
#: At most this many training inputs are summarised (a seeded sample of a larger training part).
MAX_SAMPLES = 5000


def training_summary(x, probabilities, seed: int = 0) -> dict:
    """The summary of training inputs ``x`` (n, …) and the model's probabilities on them (n, k).

    Examples
    --------
    >>> x = np.random.default_rng(0).random((200, 4)); p = np.full((200, 2), 0.5)
    >>> s = training_summary(x, p)
    >>> sorted(s)[:4], len(s["mean"]), len(s["value_histogram"])
    (['confidence_floor', 'distance_limit', 'histogram_limit', 'intensity_range'], 4, 20)
    """
    x = np.asarray(x, dtype=np.float64).reshape(len(x), -1)
    probabilities = np.asarray(probabilities, dtype=np.float64)
    if len(x) > MAX_SAMPLES:
        pick = np.sort(np.random.default_rng(seed).choice(len(x), MAX_SAMPLES, replace=False))
        x, probabilities = x[pick], probabilities[pick]
    means = x.mean(axis=1)
    edges = np.unique(np.quantile(x, np.linspace(0.0, 1.0, 21)))[1:-1]
    histograms = _histograms(x, edges)
    reference = histograms.mean(axis=0)
    summary = {
        "samples": len(x),
        "value_edges": edges.tolist(),
        "value_histogram": reference.tolist(),
        "histogram_limit": float(np.quantile(np.abs(histograms - reference).sum(axis=1), 0.995)),
        "intensity_range": [float(np.quantile(means, 0.001)), float(np.quantile(means, 0.999))],
        "confidence_floor": float(np.quantile(probabilities.max(axis=1), 0.005)),
    }
    if x.shape[1] <= MAX_VALUES:
        mu, sd = x.mean(axis=0), _spread(x)
        summary.update({"mean": mu.tolist(), "std": sd.tolist(),
                        "distance_limit": float(np.quantile(_distance(x, mu, sd), 0.995))})
    return summary


def _histograms(x: np.ndarray, edges) -> np.ndarray:
    """Each row's share of values in the bins cut at ``edges`` (a value on an edge goes above it)."""
    which = np.searchsorted(np.asarray(edges), x, side="right")
    bins = len(edges) + 1
    counts = np.zeros((len(x), bins))
    np.add.at(counts, (np.repeat(np.arange(len(x)), x.shape[1]), which.ravel()), 1.0)
    return counts / x.shape[1]


def _spread(x: np.ndarray) -> np.ndarray:
    floor = 0.1 * float(x.std()) or 1e-3
    return np.maximum(x.std(axis=0), floor)


def _distance(x: np.ndarray, mu, sd) -> np.ndarray:
    return np.mean(((x - np.asarray(mu)) / np.asarray(sd)) ** 2, axis=1)


def caution(summary: dict | None, x, probabilities) -> str | None:
    """Why one input (as the network sees it) is unlike the training inputs, or None.

    Parameters
    ----------
    summary : dict or None
        :func:`training_summary` from the model file (None for older files: no caution).
    x : array of the input's values (any shape)
    probabilities : (k,) the model's probabilities for it
    """
    if not summary:
        return None
    x = np.asarray(x, dtype=np.float64).ravel()
    reasons = []
    if "mean" in summary and len(summary["mean"]) == x.size:
        distance = float(_distance(x[None], summary["mean"], summary["std"])[0])
        if distance > summary["distance_limit"]:
            reasons.append(f"its values are {distance / summary['distance_limit']:.1f}× further from the training "
                           "average than 99.5 % of the training inputs")
    if "value_histogram" in summary:
        gap = float(np.abs(_histograms(x[None], summary["value_edges"])[0] - summary["value_histogram"]).sum())
        if gap > summary["histogram_limit"]:
            reasons.append(f"its mix of dark, grey and bright values differs from the training inputs' "
                           f"{gap / summary['histogram_limit']:.1f}× more than 99.5 % of theirs does")
    low, high = summary["intensity_range"]
    mean = float(x.mean())
    if not low <= mean <= high:
        reasons.append(f"its mean value {mean:.3g} lies outside the training range {low:.3g}–{high:.3g}")
    top = float(np.max(probabilities))
    if top < summary["confidence_floor"]:
        reasons.append(f"the model is less sure of it (p = {top:.3f}) than of 99.5 % of its training inputs")
    if not reasons:
        return None
    return f"this input is unlike the training inputs: {'; '.join(reasons)}; the prediction may mean nothing"
