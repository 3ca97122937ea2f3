"""The whole evaluation of a classifier on labelled cases: what ``nnkit evaluate`` reports.

Built from :mod:`nnkit.nn.metrics` only: per-class one-vs-rest rates, balanced accuracy, ROC AUC
and average precision with percentile-bootstrap intervals (the cases resampled together, so every
interval of one report comes from the same resamples), the operating threshold of a two-class model
and its sweep, calibration, and the cases it gets most wrong.
"""

from __future__ import annotations

import numpy as np

from nnkit.errors import NnkitInputError
from nnkit.nn.metrics import (
    average_precision,
    bootstrap_interval,
    brier_score,
    confusion_matrix,
    most_confused,
    per_class_rates,
    reliability,
    roc_auc,
    threshold_for_sensitivity,
    threshold_sweep,
    top_losses,
)

#: The thresholds of the sweep table (the chosen one is added).
SWEEP = tuple(round(0.1 * k, 1) for k in range(1, 10))
RATE_KEYS = ("sensitivity", "specificity", "ppv", "npv", "f1")


def predictions(probabilities: np.ndarray, positive: int | None, threshold: float | None) -> np.ndarray:
    """Predicted classes: argmax, or for two classes ``p(positive) >= threshold``."""
    if positive is None or threshold is None:
        return np.argmax(probabilities, axis=1)
    called = probabilities[:, positive] >= threshold
    return np.where(called, positive, 1 - positive)


def _both_present(is_positive: np.ndarray) -> bool:
    return 0 < int(is_positive.sum()) < is_positive.size


def _statistics(y, probabilities, positive, threshold) -> np.ndarray:
    """Every statistic with an interval, as one vector (NaN where undefined on these cases)."""
    k = probabilities.shape[1]
    cm = confusion_matrix(y, predictions(probabilities, positive, threshold), k)
    rates = per_class_rates(cm)
    present = rates["support"] > 0
    values = [float(np.trace(cm) / cm.sum()), float(np.mean(rates["sensitivity"][present]))]
    ranked = [positive] if positive is not None else range(k)
    for c in ranked:
        is_c = y == c
        if _both_present(is_c):
            values += [roc_auc(is_c, probabilities[:, c]), average_precision(is_c, probabilities[:, c])]
        else:
            values += [np.nan, np.nan]
    for c in range(k):
        has_c, has_other = rates["support"][c] > 0, rates["support"].sum() > rates["support"][c]
        values += [rates["sensitivity"][c] if has_c else np.nan, rates["specificity"][c] if has_other else np.nan]
    return np.array(values, dtype=np.float64)


def _defined_rates(rows: list[dict]) -> list[dict]:
    """Sweep rows with sensitivity None where there is no positive case, specificity where no negative.

    A rate of a class the cases lack is undefined, as in ``per_class``; 0 would read "misses every one".
    """
    for row in rows:
        if row["tp"] + row["fn"] == 0:
            row["sensitivity"] = None
        if row["tn"] + row["fp"] == 0:
            row["specificity"] = None
    return rows


def _value(point, low, high) -> dict:
    def clean(v):
        return None if v is None or np.isnan(v) else float(v)

    return {"value": clean(point), "low": low, "high": high}


def _operating_point(y, probabilities, positive, threshold, target_sensitivity):
    """``(positive, threshold, chosen_by)``: two classes get a threshold (given, chosen or 0.5), more get none."""
    k = probabilities.shape[1]
    if k != 2 and (threshold is not None or target_sensitivity is not None):
        raise NnkitInputError(
            f"--threshold and --target-sensitivity apply to two classes; the model has {k}",
            hint="with more classes each case goes to its most probable class",
        )
    if threshold is not None and not 0.0 <= threshold <= 1.0:  # NaN too
        raise NnkitInputError(f"--threshold must lie in [0, 1], got {threshold}")
    if k != 2:
        return None, threshold, None
    positive = 1 if positive is None else positive
    chosen_by = "given" if threshold is not None else "default"
    if target_sensitivity is not None:
        if threshold is not None:
            raise NnkitInputError("give --threshold or --target-sensitivity, not both")
        threshold = threshold_for_sensitivity(y == positive, probabilities[:, positive], target_sensitivity)
        chosen_by = "target sensitivity"
    return positive, 0.5 if threshold is None else float(threshold), chosen_by


def evaluate_classifier(
    y: np.ndarray,
    probabilities: np.ndarray,
    *,
    positive: int | None = None,
    threshold: float | None = None,
    target_sensitivity: float | None = None,
    bootstrap: int = 1000,
    seed: int = 0,
    bins: int = 10,
    top: int = 9,
) -> dict:
    """The evaluation report of ``probabilities`` (n, k) against the true classes ``y`` (n,).

    Parameters
    ----------
    positive : int, optional
        Two classes: the positive class's index (the one sensitivity is about).
    threshold : float, optional
        Two classes: call a case positive when ``p(positive) >= threshold`` (default 0.5).
    target_sensitivity : float, optional
        Two classes: choose the threshold as the highest that reaches this sensitivity on these
        cases (:func:`~nnkit.nn.metrics.threshold_for_sensitivity`) instead.
    bootstrap : int
        Resamples of the cases for the 95 % intervals (0: none).
    seed : int
        Seed of the resampling.
    bins : int
        Bins of the reliability table.
    top : int
        How many of the largest losses to list.

    Returns
    -------
    dict (see ``nnkit evaluate --help``): class indices, not names.
    """
    y = np.asarray(y)
    probabilities = np.asarray(probabilities, dtype=np.float64)
    n, k = probabilities.shape
    if n == 0:
        raise NnkitInputError("there are no cases to evaluate")
    binary = k == 2
    positive, threshold, chosen_by = _operating_point(y, probabilities, positive, threshold, target_sensitivity)
    predicted = predictions(probabilities, positive, threshold)
    cm = confusion_matrix(y, predicted, k)
    rates = per_class_rates(cm)
    point = _statistics(y, probabilities, positive, threshold)
    ci = bootstrap_interval(lambda t, q: _statistics(t, q, positive, threshold), y, probabilities, bootstrap, seed)
    low, high, counts = ci["low"], ci["high"], np.array(ci["resamples"])
    stat = iter(range(len(point)))

    def interval():
        j = next(stat)
        return _value(point[j], low[j], high[j])

    report: dict = {"samples": int(n), "accuracy": interval(), "balanced_accuracy": interval(),
                    "confusion_matrix": cm.tolist()}
    ranking = {}
    for c in [positive] if binary else range(k):
        ranking[c] = {"roc_auc": interval(), "average_precision": interval()}
    per_class = []
    for c in range(k):
        row = {"class": c, "support": int(rates["support"][c])}
        row["sensitivity"], row["specificity"] = interval(), interval()
        row.update({key: float(rates[key][c]) for key in ("ppv", "npv", "f1")})
        if not binary:
            row.update(ranking[c])
        per_class.append(row)
    report["per_class"] = per_class
    report["bootstrap"] = {"resamples": int(bootstrap), "seed": int(seed), "level": 0.95,
                           "fewest_defined": int(counts.min())}
    if binary:
        report.update(ranking[positive])
        report["positive"] = positive
        scores = probabilities[:, positive]
        (operating,) = _defined_rates(threshold_sweep(y == positive, scores, [threshold]))
        operating.pop("threshold")
        report["threshold"] = {"value": threshold, "chosen_by": chosen_by, **operating}
        report["sweep"] = _defined_rates(threshold_sweep(y == positive, scores, sorted({*SWEEP, threshold})))
        report["calibration"] = {"event": "positive", **reliability(y == positive, scores, bins)}
    else:
        confidence = probabilities.max(axis=1)
        report["calibration"] = {"event": "top class correct",
                                 **reliability(predicted == y, confidence, bins)}
    report["calibration"]["bins"] = bins
    report["calibration"]["brier"] = brier_score(y, probabilities, positive)
    report["most_confused"] = most_confused(cm)
    worst = top_losses(y, probabilities, top)
    p_true = probabilities[np.arange(n), y]
    report["top_losses"] = [
        {"index": int(i), "true": int(y[i]), "predicted": int(predicted[i]),
         "p_true": float(p_true[i]), "p_predicted": float(probabilities[i, predicted[i]]),
         "loss": float(-np.log(max(p_true[i], 1e-300)))}
        for i in worst
    ]
    return report
