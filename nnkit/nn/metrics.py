"""Classification metrics: accuracy, confusion matrix, precision/recall/F1, ROC AUC.

Class labels are integer indices ``0 .. n_classes-1`` (the order of the model's class names).
The confusion matrix has one row per true class and one column per predicted class, as in
scikit-learn, so ``cm[i, j]`` counts samples of class ``i`` predicted as ``j``.
A ratio whose denominator is zero (a class never predicted, or absent) is reported as 0.0,
scikit-learn's ``zero_division=0``.
"""

import numpy as np

from nnkit.errors import NnkitInputError


def _labels(y, name: str) -> np.ndarray:
    y = np.asarray(y)
    if y.ndim != 1:
        raise NnkitInputError(f"{name} must be one label per sample (1-D), got shape {y.shape}")
    if y.size and not np.issubdtype(y.dtype, np.integer):
        raise NnkitInputError(f"{name} must hold integer class indices, got dtype {y.dtype}")
    return y.astype(np.intp, copy=False)


def accuracy(y_true, y_pred) -> float:
    """Fraction of samples whose predicted class equals the true class.

    Parameters
    ----------
    y_true, y_pred : (n_samples,) int arrays

    Examples
    --------
    >>> accuracy([0, 1, 1, 2], [0, 1, 2, 2])
    0.75
    """
    y_true, y_pred = _labels(y_true, "y_true"), _labels(y_pred, "y_pred")
    if y_true.shape != y_pred.shape:
        raise NnkitInputError(f"y_true and y_pred differ in length: {y_true.size} vs {y_pred.size}")
    if y_true.size == 0:
        raise NnkitInputError("accuracy needs at least one sample")
    return float(np.mean(y_true == y_pred))


def confusion_matrix(y_true, y_pred, n_classes: int) -> np.ndarray:
    """Count true-class / predicted-class pairs.

    Parameters
    ----------
    y_true, y_pred : (n_samples,) int arrays with values in ``0 .. n_classes-1``
    n_classes : int

    Returns
    -------
    cm : (n_classes, n_classes) int64 array; rows are true classes, columns predictions.

    Examples
    --------
    >>> confusion_matrix([0, 0, 1, 2], [0, 1, 1, 0], 3)
    array([[1, 1, 0],
           [0, 1, 0],
           [1, 0, 0]])
    """
    y_true, y_pred = _labels(y_true, "y_true"), _labels(y_pred, "y_pred")
    if y_true.shape != y_pred.shape:
        raise NnkitInputError(f"y_true and y_pred differ in length: {y_true.size} vs {y_pred.size}")
    if n_classes < 1:
        raise NnkitInputError(f"n_classes must be at least 1, got {n_classes}")
    for name, y in (("y_true", y_true), ("y_pred", y_pred)):
        if y.size and (y.min() < 0 or y.max() >= n_classes):
            raise NnkitInputError(f"{name} has a label outside 0..{n_classes - 1}")
    # One bincount over the flattened (true, predicted) pair index is far faster than np.add.at.
    flat = np.bincount(y_true * n_classes + y_pred, minlength=n_classes * n_classes)
    return flat.reshape(n_classes, n_classes).astype(np.int64)


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    num = np.asarray(num, dtype=np.float64)
    den = np.asarray(den, dtype=np.float64)
    out = np.zeros_like(num)
    np.divide(num, den, out=out, where=den > 0)
    return out


def precision_recall_f1(cm) -> dict:
    """Per-class precision, recall, F1 and support from a confusion matrix.

    Parameters
    ----------
    cm : (n_classes, n_classes) array, rows true classes, columns predictions

    Returns
    -------
    dict with ``precision``, ``recall``, ``f1`` ((n_classes,) float arrays) and
    ``support`` ((n_classes,) int array, the number of true samples of each class).

    Examples
    --------
    >>> r = precision_recall_f1([[2, 1], [0, 3]])
    >>> r["precision"].tolist(), r["recall"].tolist()
    ([1.0, 0.75], [0.6666666666666666, 1.0])
    """
    cm = np.asarray(cm)
    if cm.ndim != 2 or cm.shape[0] != cm.shape[1]:
        raise NnkitInputError(f"a confusion matrix must be square, got shape {cm.shape}")
    tp = np.diag(cm).astype(np.float64)
    predicted = cm.sum(axis=0)
    support = cm.sum(axis=1)
    precision = _ratio(tp, predicted)
    recall = _ratio(tp, support)
    f1 = _ratio(2 * precision * recall, precision + recall)
    return {
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "support": support.astype(np.int64),
    }


def sensitivity_specificity(cm, positive: int) -> tuple[float, float]:
    """Sensitivity (true-positive rate) and specificity (true-negative rate) of a 2×2 matrix.

    Parameters
    ----------
    cm : (2, 2) array, rows true classes, columns predictions
    positive : int
        Index (0 or 1) of the positive class, for example "malignant".

    Examples
    --------
    >>> sensitivity_specificity([[8, 2], [1, 9]], positive=1)
    (0.9, 0.8)
    """
    cm = np.asarray(cm)
    if cm.shape != (2, 2):
        raise NnkitInputError(f"sensitivity needs a 2×2 confusion matrix, got shape {cm.shape}")
    if positive not in (0, 1):
        raise NnkitInputError(f"positive must be 0 or 1, got {positive}")
    negative = 1 - positive
    tp, fn = cm[positive, positive], cm[positive, negative]
    tn, fp = cm[negative, negative], cm[negative, positive]
    sensitivity = float(_ratio(tp, tp + fn))
    specificity = float(_ratio(tn, tn + fp))
    return sensitivity, specificity


def _average_ranks(x: np.ndarray) -> np.ndarray:
    """Ranks 1..n of ``x`` with ties given the mean of their ranks (``scipy.stats.rankdata``)."""
    order = np.argsort(x, kind="mergesort")
    sorted_x = x[order]
    # Start index of each run of equal values, and each element's run number.
    starts = np.flatnonzero(np.r_[True, sorted_x[1:] != sorted_x[:-1]])
    run = np.cumsum(np.r_[True, sorted_x[1:] != sorted_x[:-1]]) - 1
    ends = np.r_[starts[1:], x.size]
    mean_rank = (starts + ends + 1) / 2.0  # mean of the 1-based ranks starts+1 .. ends
    ranks = np.empty(x.size, dtype=np.float64)
    ranks[order] = mean_rank[run]
    return ranks


def roc_auc(is_positive, scores) -> float:
    """Area under the ROC curve, with ties between scores counted as one half.

    Computed as the Mann-Whitney statistic: the probability that a random positive sample
    scores higher than a random negative one (ties count 1/2). This equals the trapezoidal
    area under the ROC curve and scikit-learn's ``roc_auc_score``.

    Parameters
    ----------
    is_positive : (n_samples,) bool or 0/1 array
    scores : (n_samples,) float array, higher meaning "more likely positive"

    Examples
    --------
    >>> roc_auc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    0.75
    >>> roc_auc([0, 1], [0.5, 0.5])
    0.5
    """
    is_positive = np.asarray(is_positive).astype(bool).ravel()
    scores = np.asarray(scores, dtype=np.float64).ravel()
    if is_positive.shape != scores.shape:
        raise NnkitInputError(f"labels and scores differ in length: {is_positive.size} vs {scores.size}")
    n_pos = int(is_positive.sum())
    n_neg = is_positive.size - n_pos
    if n_pos == 0 or n_neg == 0:
        raise NnkitInputError("ROC AUC needs at least one positive and one negative sample")
    if not np.all(np.isfinite(scores)):
        raise NnkitInputError("ROC AUC scores must be finite")
    ranks = _average_ranks(scores)
    u = ranks[is_positive].sum() - n_pos * (n_pos + 1) / 2.0
    return float(u / (n_pos * n_neg))


def roc_curve(is_positive, scores) -> tuple[np.ndarray, np.ndarray]:
    """The ROC curve: false- and true-positive rates as the threshold falls through every score.

    One point per distinct score (tied scores move both rates at once), starting at (0, 0) and
    ending at (1, 1); the trapezoidal area under it is :func:`roc_auc`.

    Parameters
    ----------
    is_positive : (n_samples,) bool or 0/1 array
    scores : (n_samples,) float array, higher meaning "more likely positive"

    Returns
    -------
    fpr, tpr : (n_distinct_scores + 1,) arrays
        1 − specificity and sensitivity at each threshold.

    Examples
    --------
    >>> fpr, tpr = roc_curve([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    >>> fpr.tolist(), tpr.tolist()
    ([0.0, 0.0, 0.5, 0.5, 1.0], [0.0, 0.5, 0.5, 1.0, 1.0])
    """
    _, tp, fp = _ranked_counts(is_positive, scores)
    return np.r_[0.0, fp / fp[-1]], np.r_[0.0, tp / tp[-1]]


def class_probabilities(outputs) -> np.ndarray:
    """One probability column per class, from a network's softmax or single sigmoid output.

    Parameters
    ----------
    outputs : (n_samples, n_classes) softmax rows, or (n_samples, 1) sigmoid outputs giving
        the probability of class 1 of two

    Returns
    -------
    probabilities : (n_samples, n_classes) array; for a sigmoid, columns ``1 - p`` and ``p``.

    Examples
    --------
    >>> class_probabilities(np.array([[0.25], [0.5]]))
    array([[0.75, 0.25],
           [0.5 , 0.5 ]])
    """
    outputs = np.asarray(outputs)
    if outputs.ndim != 2:
        raise NnkitInputError(f"outputs must be (n_samples, n_outputs), got shape {outputs.shape}")
    if outputs.shape[1] == 1:
        return np.column_stack([1 - outputs[:, 0], outputs[:, 0]])
    return outputs


def classification_report(y_true, probabilities, positive: int | None = None) -> dict:
    """Everything nnkit reports about a classifier on one data part.

    Parameters
    ----------
    y_true : (n_samples,) int array of class indices
    probabilities : (n_samples, n_classes) array of class probabilities (rows sum to 1)
    positive : int, optional
        Index of the positive class; with two classes adds sensitivity, specificity and
        ROC AUC (scored by the positive class's probability).

    Returns
    -------
    dict with ``accuracy``, ``confusion_matrix`` (nested list), ``per_class`` (a list of
    dicts ``{class, precision, recall, f1, sensitivity, specificity, support}`` with ``class`` the
    index; sensitivity and specificity one vs the rest, from :func:`per_class_rates`) and, for two
    classes, ``sensitivity``, ``specificity`` and ``roc_auc`` (None when the part has only one
    class, where AUC is undefined).
    """
    probabilities = np.asarray(probabilities)
    if probabilities.ndim != 2:
        raise NnkitInputError(f"probabilities must be (n_samples, n_classes), got shape {probabilities.shape}")
    n_classes = probabilities.shape[1]
    y_true = _labels(y_true, "y_true")
    y_pred = np.argmax(probabilities, axis=1)
    cm = confusion_matrix(y_true, y_pred, n_classes)
    prf = precision_recall_f1(cm)
    rates = per_class_rates(cm)  # one vs the rest, for any number of classes
    report = {
        "accuracy": accuracy(y_true, y_pred),
        "confusion_matrix": cm.tolist(),
        "per_class": [
            {
                "class": k,
                "precision": float(prf["precision"][k]),
                "recall": float(prf["recall"][k]),
                "f1": float(prf["f1"][k]),
                "sensitivity": float(rates["sensitivity"][k]),
                "specificity": float(rates["specificity"][k]),
                "support": int(prf["support"][k]),
            }
            for k in range(n_classes)
        ],
    }
    if n_classes == 2 and positive is not None:
        sens, spec = sensitivity_specificity(cm, positive)
        is_pos = y_true == positive
        both_present = 0 < int(is_pos.sum()) < is_pos.size
        report["sensitivity"] = sens
        report["specificity"] = spec
        report["roc_auc"] = roc_auc(is_pos, probabilities[:, positive]) if both_present else None
    return report


# --- what a clinician asks: rates per class, thresholds, intervals, calibration ---------------------


def per_class_rates(cm) -> dict:
    """One-vs-rest counts and rates of every class from a confusion matrix.

    For class ``k`` the positives are the samples of class ``k`` and the negatives all others, so
    with two classes the row of the positive class is the usual 2×2 table.

    Parameters
    ----------
    cm : (n_classes, n_classes) array, rows true classes, columns predictions

    Returns
    -------
    dict of (n_classes,) arrays: ``tp``, ``fp``, ``fn``, ``tn`` (int64), ``sensitivity``
    (recall, TP/(TP+FN)), ``specificity`` (TN/(TN+FP)), ``ppv`` (precision, TP/(TP+FP)),
    ``npv`` (TN/(TN+FN)), ``f1`` and ``support`` (TP+FN). A ratio with a zero denominator is 0.

    Examples
    --------
    >>> r = per_class_rates([[8, 2], [1, 9]])
    >>> r["sensitivity"].tolist(), r["specificity"].tolist()
    ([0.8, 0.9], [0.9, 0.8])
    >>> r["ppv"][1], r["npv"][1]
    (np.float64(0.8181818181818182), np.float64(0.8888888888888888))
    """
    cm = np.asarray(cm)
    prf = precision_recall_f1(cm)  # checks the shape
    cm = cm.astype(np.int64)
    tp = np.diag(cm)
    fp = cm.sum(axis=0) - tp
    fn = cm.sum(axis=1) - tp
    tn = cm.sum() - tp - fp - fn
    return {
        "tp": tp,
        "fp": fp,
        "fn": fn,
        "tn": tn,
        "sensitivity": prf["recall"],
        "specificity": _ratio(tn, tn + fp),
        "ppv": prf["precision"],
        "npv": _ratio(tn, tn + fn),
        "f1": prf["f1"],
        "support": prf["support"],
    }


def balanced_accuracy(cm) -> float:
    """The mean of the classes' sensitivities (scikit-learn's ``balanced_accuracy_score``).

    A class absent from the data (no row) is left out of the mean, as scikit-learn does.

    Examples
    --------
    >>> balanced_accuracy([[90, 0], [5, 5]])
    0.75
    """
    cm = np.asarray(cm)
    rates = per_class_rates(cm)
    present = rates["support"] > 0
    if not present.any():
        raise NnkitInputError("balanced accuracy needs at least one sample")
    return float(np.mean(rates["sensitivity"][present]))


def _ranked_counts(is_positive, scores) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(thresholds, tp, fp) as the threshold falls through each distinct score, highest first.

    At threshold ``thresholds[i]`` the samples with ``score >= thresholds[i]`` are called positive:
    ``tp[i]`` of them truly are, ``fp[i]`` are not.
    """
    roc_auc(is_positive, scores)  # the same checks: lengths, both classes, finite scores
    is_positive = np.asarray(is_positive).astype(bool).ravel()
    scores = np.asarray(scores, dtype=np.float64).ravel()
    order = np.argsort(-scores, kind="stable")
    ranked, positive = scores[order], is_positive[order]
    last_of_each = np.r_[np.flatnonzero(np.diff(ranked)), ranked.size - 1]
    tp = np.cumsum(positive)[last_of_each]
    fp = (last_of_each + 1) - tp
    return ranked[last_of_each], tp, fp


def average_precision(is_positive, scores) -> float:
    """Average precision: ``Σ_n (R_n − R_{n−1}) P_n`` over the distinct scores, highest first.

    The precision at each threshold weighted by the recall it adds, without interpolation:
    scikit-learn's ``average_precision_score``. A classifier that ranks every positive first
    scores 1; a random one scores about the share of positives. Arguments as for :func:`roc_auc`.

    Examples
    --------
    >>> round(average_precision([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]), 6)
    0.833333
    """
    _, tp, fp = _ranked_counts(is_positive, scores)
    precision = tp / (tp + fp)
    recall = tp / tp[-1]
    return float(np.sum(np.diff(np.r_[0.0, recall]) * precision))


def threshold_sweep(is_positive, scores, thresholds) -> list[dict]:
    """Sensitivity, specificity, PPV and NPV when ``score >= threshold`` is called positive.

    Parameters
    ----------
    is_positive : (n_samples,) bool or 0/1 array
    scores : (n_samples,) float array (the positive class's probability)
    thresholds : sequence of float

    Returns
    -------
    list of dicts, one per threshold: ``threshold, tp, fp, fn, tn, sensitivity, specificity,
    ppv, npv`` (a ratio with a zero denominator is 0).

    Examples
    --------
    >>> row = threshold_sweep([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8], [0.3])[0]
    >>> row["tp"], row["fp"], row["sensitivity"], row["specificity"]
    (2, 1, 1.0, 0.5)
    """
    is_positive = np.asarray(is_positive).astype(bool).ravel()
    scores = np.asarray(scores, dtype=np.float64).ravel()
    if is_positive.shape != scores.shape:
        raise NnkitInputError(f"labels and scores differ in length: {is_positive.size} vs {scores.size}")
    rows = []
    for threshold in thresholds:
        called = scores >= threshold
        tp = int(np.count_nonzero(called & is_positive))
        fp = int(np.count_nonzero(called & ~is_positive))
        fn = int(np.count_nonzero(~called & is_positive))
        tn = int(np.count_nonzero(~called & ~is_positive))
        rows.append(
            {
                "threshold": float(threshold),
                "tp": tp,
                "fp": fp,
                "fn": fn,
                "tn": tn,
                "sensitivity": float(_ratio(tp, tp + fn)),
                "specificity": float(_ratio(tn, tn + fp)),
                "ppv": float(_ratio(tp, tp + fp)),
                "npv": float(_ratio(tn, tn + fn)),
            }
        )
    return rows


def threshold_for_sensitivity(is_positive, scores, target: float) -> float:
    """The highest threshold whose sensitivity reaches ``target`` on these samples.

    Of all thresholds that find at least ``target`` of the positives, the highest one calls the
    fewest negatives positive (the best specificity there): the score of the ⌈target·P⌉-th
    highest-scoring positive.

    Examples
    --------
    >>> threshold_for_sensitivity([0, 1, 1, 1, 1], [0.2, 0.9, 0.7, 0.6, 0.1], 0.75)
    0.6
    """
    if not 0.0 < target <= 1.0:
        raise NnkitInputError(f"the target sensitivity must lie in (0, 1], got {target}")
    is_positive = np.asarray(is_positive).astype(bool).ravel()
    scores = np.asarray(scores, dtype=np.float64).ravel()
    positives = np.sort(scores[is_positive])[::-1]
    if positives.size == 0:
        raise NnkitInputError("choosing a threshold by sensitivity needs positive samples")
    # ceil of target·P, robust to 0.95·20 = 18.999999999999996
    k = int(np.ceil(round(target * positives.size, 9)))
    return float(positives[max(k, 1) - 1])


def brier_score(y_true, probabilities, positive: int | None = None) -> float:
    """Mean squared distance between the predicted probabilities and what happened.

    Two classes: ``mean((p − y)²)`` with ``p`` the positive class's probability and ``y`` 1 for
    a positive sample (scikit-learn's ``brier_score_loss``); more classes: ``mean Σ_k (p_k − t_k)²``
    with ``t`` the one-hot truth (scikit-learn's multi-class form, not halved). 0 is perfect.

    Examples
    --------
    >>> round(brier_score([0, 1], np.array([[0.9, 0.1], [0.2, 0.8]]), positive=1), 12)
    0.025
    """
    y_true = _labels(y_true, "y_true")
    probabilities = np.asarray(probabilities, dtype=np.float64)
    if probabilities.shape[1] == 2:
        positive = 1 if positive is None else positive
        return float(np.mean((probabilities[:, positive] - (y_true == positive)) ** 2))
    truth = np.zeros_like(probabilities)
    truth[np.arange(len(y_true)), y_true] = 1.0
    return float(np.mean(np.sum((probabilities - truth) ** 2, axis=1)))


def reliability(outcome, confidence, bins: int = 10) -> dict:
    """Reliability table: within each equal-width bin of predicted probability, how often it happened.

    Parameters
    ----------
    outcome : (n_samples,) bool or 0/1 array
        Whether the predicted event happened (the sample is positive, or the top class was right).
    confidence : (n_samples,) float array in [0, 1]
        The predicted probability of that event.
    bins : int
        Equal-width bins over [0, 1]; a value on an inner edge goes to the lower bin (scikit-learn's
        ``calibration_curve(strategy="uniform")``).

    Returns
    -------
    dict with ``rows`` (one per non-empty bin: ``low, high, count, mean_predicted, observed``) and
    ``ece``, the expected calibration error ``Σ_b (n_b/N)·|observed_b − mean_predicted_b|``.

    Examples
    --------
    >>> table = reliability([0, 1, 1, 1], [0.2, 0.7, 0.8, 0.9], bins=2)
    >>> [(r["count"], r["observed"]) for r in table["rows"]], round(table["ece"], 6)
    ([(1, 0.0), (3, 1.0)], 0.2)
    """
    if bins < 1:
        raise NnkitInputError(f"--bins must be at least 1, got {bins}")
    outcome = np.asarray(outcome).astype(np.float64).ravel()
    confidence = np.asarray(confidence, dtype=np.float64).ravel()
    if outcome.shape != confidence.shape or outcome.size == 0:
        raise NnkitInputError("a reliability table needs one outcome per probability, and at least one")
    if not np.all((confidence >= 0) & (confidence <= 1)):
        raise NnkitInputError("probabilities must lie in [0, 1]")
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.searchsorted(edges[1:-1], confidence)
    count = np.bincount(which, minlength=bins)
    predicted = np.bincount(which, weights=confidence, minlength=bins)
    happened = np.bincount(which, weights=outcome, minlength=bins)
    rows = []
    ece = 0.0
    for b in np.flatnonzero(count):
        mean_predicted, observed = predicted[b] / count[b], happened[b] / count[b]
        ece += count[b] / outcome.size * abs(observed - mean_predicted)
        rows.append(
            {
                "low": float(edges[b]),
                "high": float(edges[b + 1]),
                "count": int(count[b]),
                "mean_predicted": float(mean_predicted),
                "observed": float(observed),
            }
        )
    return {"rows": rows, "ece": float(ece)}


def bootstrap_interval(statistic, y_true, probabilities, n_resamples: int = 1000, seed: int = 0,
                       level: float = 0.95) -> dict:
    """Percentile bootstrap confidence interval of ``statistic(y_true, probabilities)``.

    Cases are drawn with replacement ``n_resamples`` times (NumPy's ``default_rng(seed)``, so a
    seed gives the same interval). The statistic may return one number or a vector of them (every
    interval of a report then comes from the same resamples); a value that is undefined on a
    resample (NaN, or an input error such as an AUC of one class only) is skipped and counted.

    Returns
    -------
    dict with ``low``, ``high`` (None where fewer than 2 resamples gave a value), ``level``,
    ``resamples`` (how many gave a value); numbers for a scalar statistic, lists for a vector.

    Examples
    --------
    >>> y = np.array([0, 1] * 10); p = np.column_stack([1 - y * 0.8, y * 0.8]) + 0.05
    >>> ci = bootstrap_interval(lambda t, q: accuracy(t, q.argmax(1)), y, p, 200)
    >>> ci["low"], ci["high"], ci["resamples"]
    (1.0, 1.0, 200)
    """
    if n_resamples < 0:
        raise NnkitInputError(f"--bootstrap must not be negative, got {n_resamples}")
    y_true = np.asarray(y_true)
    probabilities = np.asarray(probabilities)
    rng = np.random.default_rng(seed)
    width = np.size(statistic(y_true, probabilities))
    draws = np.full((n_resamples, width), np.nan)
    for r in range(n_resamples):
        idx = rng.integers(0, len(y_true), len(y_true))
        try:
            draws[r] = statistic(y_true[idx], probabilities[idx])
        except NnkitInputError:
            continue
    tail = (1.0 - level) / 2.0 * 100.0
    counts = np.sum(~np.isnan(draws), axis=0)
    low, high = [None] * width, [None] * width
    for j in np.flatnonzero(counts >= 2):
        low[j], high[j] = (float(v) for v in np.nanpercentile(draws[:, j], [tail, 100.0 - tail]))
    if np.ndim(statistic(y_true, probabilities)) == 0:
        return {"low": low[0], "high": high[0], "level": level, "resamples": int(counts[0])}
    return {"low": low, "high": high, "level": level, "resamples": counts.astype(int).tolist()}


def most_confused(cm, top: int = 5) -> list[dict]:
    """The off-diagonal cells of a confusion matrix with the most samples, largest first.

    Examples
    --------
    >>> most_confused([[5, 3, 0], [1, 4, 0], [0, 3, 2]], top=2)
    [{'true': 0, 'predicted': 1, 'count': 3}, {'true': 2, 'predicted': 1, 'count': 3}]
    """
    cm = np.asarray(cm)
    pairs = [
        {"true": i, "predicted": j, "count": int(cm[i, j])}
        for i in range(cm.shape[0])
        for j in range(cm.shape[1])
        if i != j and cm[i, j] > 0
    ]
    pairs.sort(key=lambda p: -p["count"])  # stable: ties keep row-major order
    return pairs[:top]


def top_losses(y_true, probabilities, top: int = 9) -> np.ndarray:
    """Indices of the samples with the largest cross-entropy ``−log p(true class)``, largest first.

    Examples
    --------
    >>> top_losses([0, 1, 1], np.array([[0.9, 0.1], [0.6, 0.4], [0.2, 0.8]]), top=2).tolist()
    [1, 2]
    """
    y_true = _labels(y_true, "y_true")
    probabilities = np.asarray(probabilities, dtype=np.float64)
    p_true = probabilities[np.arange(len(y_true)), y_true]
    return np.argsort(p_true, kind="stable")[:top]
