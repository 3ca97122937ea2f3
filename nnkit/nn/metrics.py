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
    roc_auc(is_positive, scores)  # the same checks: lengths, both classes, finite scores
    is_positive = np.asarray(is_positive).astype(bool).ravel()
    scores = np.asarray(scores, dtype=np.float64).ravel()
    order = np.argsort(-scores, kind="stable")
    ranked, positive = scores[order], is_positive[order]
    last_of_each = np.r_[np.flatnonzero(np.diff(ranked)), ranked.size - 1]
    tp = np.cumsum(positive)[last_of_each]
    fp = (last_of_each + 1) - tp
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
    dicts ``{class, precision, recall, f1, support}`` with ``class`` the index) and, for two
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
    report = {
        "accuracy": accuracy(y_true, y_pred),
        "confusion_matrix": cm.tolist(),
        "per_class": [
            {
                "class": k,
                "precision": float(prf["precision"][k]),
                "recall": float(prf["recall"][k]),
                "f1": float(prf["f1"][k]),
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
