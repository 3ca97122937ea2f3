"""The metrics of ``nnkit evaluate`` against scikit-learn (a test-only reference) to 1e-12."""

import numpy as np
import pytest
from sklearn import metrics as sk
from sklearn.calibration import calibration_curve

from nnkit.errors import NnkitInputError
from nnkit.nn.metrics import (
    accuracy,
    average_precision,
    balanced_accuracy,
    bootstrap_interval,
    brier_score,
    confusion_matrix,
    most_confused,
    per_class_rates,
    reliability,
    roc_auc,
    roc_curve,
    threshold_for_sensitivity,
    threshold_sweep,
    top_losses,
)

TOL = 1e-12


def _binary(seed, n=157, share=0.3, decimals=2):
    """Imbalanced labels and scores rounded so that many scores tie."""
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < share).astype(int)
    scores = np.clip(rng.normal(0.35 + 0.3 * y, 0.2), 0, 1).round(decimals)
    return y, scores


def _multiclass(seed, n=211, k=4):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, n)
    logits = rng.normal(size=(n, k)) + 1.5 * np.eye(k)[y]
    p = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    return y, p


@pytest.mark.parametrize("seed", range(5))
def test_auc_and_average_precision_match_sklearn_with_ties(seed):
    y, s = _binary(seed)
    assert abs(roc_auc(y, s) - sk.roc_auc_score(y, s)) < TOL
    assert abs(average_precision(y, s) - sk.average_precision_score(y, s)) < TOL
    fpr, tpr = roc_curve(y, s)
    ref_fpr, ref_tpr, _ = sk.roc_curve(y, s, drop_intermediate=False)
    np.testing.assert_allclose(fpr, ref_fpr, rtol=0, atol=TOL)
    np.testing.assert_allclose(tpr, ref_tpr, rtol=0, atol=TOL)


@pytest.mark.parametrize("seed", range(3))
def test_per_class_rates_match_sklearn_one_vs_rest(seed):
    y, p = _multiclass(seed)
    pred = p.argmax(1)
    cm = confusion_matrix(y, pred, 4)
    np.testing.assert_array_equal(cm, sk.confusion_matrix(y, pred, labels=range(4)))
    rates = per_class_rates(cm)
    mcm = sk.multilabel_confusion_matrix(y, pred, labels=range(4))  # per class [[tn, fp], [fn, tp]]
    np.testing.assert_array_equal(rates["tn"], mcm[:, 0, 0])
    np.testing.assert_array_equal(rates["fp"], mcm[:, 0, 1])
    np.testing.assert_array_equal(rates["fn"], mcm[:, 1, 0])
    np.testing.assert_array_equal(rates["tp"], mcm[:, 1, 1])
    for k in range(4):
        is_k, said_k = (y == k).astype(int), (pred == k).astype(int)
        assert abs(rates["sensitivity"][k] - sk.recall_score(is_k, said_k)) < TOL
        # specificity is the recall of the negatives
        assert abs(rates["specificity"][k] - sk.recall_score(is_k, said_k, pos_label=0)) < TOL
        assert abs(rates["ppv"][k] - sk.precision_score(is_k, said_k)) < TOL
        assert abs(rates["npv"][k] - sk.precision_score(is_k, said_k, pos_label=0)) < TOL
        assert abs(rates["f1"][k] - sk.f1_score(is_k, said_k)) < TOL
    assert abs(balanced_accuracy(cm) - sk.balanced_accuracy_score(y, pred)) < TOL


def test_balanced_accuracy_leaves_out_absent_classes_as_sklearn():
    y, pred = np.array([0, 0, 1, 1, 1]), np.array([0, 2, 1, 1, 0])
    with pytest.warns(UserWarning):  # scikit-learn warns about the class never seen in y
        ref = sk.balanced_accuracy_score(y, pred)
    assert abs(balanced_accuracy(confusion_matrix(y, pred, 3)) - ref) < TOL


@pytest.mark.parametrize("seed", range(3))
def test_brier_matches_sklearn_binary_and_multiclass(seed):
    y, s = _binary(seed)
    p2 = np.column_stack([1 - s, s])
    assert abs(brier_score(y, p2, positive=1) - sk.brier_score_loss(y, s)) < TOL
    # with class 0 as the positive one, the probability and the outcome both flip: same score
    assert abs(brier_score(y, p2, positive=0) - sk.brier_score_loss(1 - y, 1 - s)) < TOL
    ym, pm = _multiclass(seed)
    assert abs(brier_score(ym, pm) - sk.brier_score_loss(ym, pm, labels=range(4))) < TOL


@pytest.mark.parametrize("bins", [3, 5, 10, 20])
def test_reliability_matches_calibration_curve(bins):
    y, s = _binary(bins)  # two decimals: many probabilities sit on bin edges
    table = reliability(y, s, bins)
    prob_true, prob_pred = calibration_curve(y, s, n_bins=bins, strategy="uniform")
    np.testing.assert_allclose([r["observed"] for r in table["rows"]], prob_true, rtol=0, atol=TOL)
    np.testing.assert_allclose([r["mean_predicted"] for r in table["rows"]], prob_pred, rtol=0, atol=TOL)
    counts = np.array([r["count"] for r in table["rows"]])
    assert counts.sum() == len(y)
    ece = np.sum(counts / len(y) * np.abs(prob_true - prob_pred))
    assert abs(table["ece"] - ece) < TOL


def test_ece_by_hand():
    # bin [0, .5): one sample predicted .2, did not happen: |0 - .2|; bin [.5, 1]: .8 mean, 2 of 3
    table = reliability([0, 1, 0, 1], [0.2, 0.7, 0.8, 0.9], bins=2)
    assert abs(table["ece"] - (0.25 * 0.2 + 0.75 * abs(2 / 3 - 0.8))) < TOL


@pytest.mark.parametrize("seed", range(3))
def test_sweep_rows_agree_with_confusion_matrices(seed):
    y, s = _binary(seed)
    thresholds = [0.0, 0.1, 0.25, 0.35, 0.5, 0.73, 1.0]
    for row in threshold_sweep(y, s, thresholds):
        called = (s >= row["threshold"]).astype(int)
        (tn, fp), (fn, tp) = sk.confusion_matrix(y, called, labels=[0, 1])
        assert (row["tn"], row["fp"], row["fn"], row["tp"]) == (tn, fp, fn, tp)
        cm = confusion_matrix(y, called, 2)
        rates = per_class_rates(cm)
        assert row["sensitivity"] == rates["sensitivity"][1] and row["specificity"] == rates["specificity"][1]
        assert row["ppv"] == rates["ppv"][1] and row["npv"] == rates["npv"][1]


@pytest.mark.parametrize("target", [0.5, 0.8, 0.9, 0.95, 1.0])
def test_threshold_for_sensitivity_is_the_highest_that_reaches_it(target):
    y, s = _binary(7)
    t = threshold_for_sensitivity(y, s, target)
    (row,) = threshold_sweep(y, s, [t])
    assert row["sensitivity"] >= target
    higher = [v for v in np.unique(s) if v > t]
    if higher:  # the next score up misses the target
        (above,) = threshold_sweep(y, s, [min(higher)])
        assert above["sensitivity"] < target


def test_bootstrap_reproduces_for_a_seed_and_contains_the_estimate():
    y, s = _binary(1, n=114)
    p = np.column_stack([1 - s, s])

    def auc(t, q):
        return roc_auc(t == 1, q[:, 1])

    a = bootstrap_interval(auc, y, p, 400, seed=3)
    b = bootstrap_interval(auc, y, p, 400, seed=3)
    c = bootstrap_interval(auc, y, p, 400, seed=4)
    assert a == b and a != c
    assert a["low"] < auc(y, p) < a["high"]
    assert a["resamples"] == 400
    # the same resamples by hand: percentiles of the statistic over default_rng(3)'s draws
    rng = np.random.default_rng(3)
    values = []
    for _ in range(400):
        idx = rng.integers(0, len(y), len(y))
        values.append(sk.roc_auc_score(y[idx], s[idx]))
    low, high = np.percentile(values, [2.5, 97.5])
    assert abs(a["low"] - low) < TOL and abs(a["high"] - high) < TOL


def test_bootstrap_skips_resamples_where_the_statistic_is_undefined():
    y = np.array([0] * 19 + [1])
    p = np.column_stack([np.linspace(1, 0, 20), np.linspace(0, 1, 20)])
    ci = bootstrap_interval(lambda t, q: roc_auc(t == 1, q[:, 1]), y, p, 200, seed=0)
    # P(no positive in 20 draws) = 0.95**20 ≈ 0.36: about a third of the resamples have no AUC
    assert 90 < ci["resamples"] < 160


def test_most_confused_and_top_losses():
    y = np.array([0, 0, 1, 1, 2, 2, 2])
    p = np.array([[0.9, 0.05, 0.05], [0.2, 0.7, 0.1], [0.1, 0.8, 0.1], [0.6, 0.3, 0.1],
                  [0.1, 0.1, 0.8], [0.05, 0.9, 0.05], [0.1, 0.6, 0.3]])
    cm = confusion_matrix(y, p.argmax(1), 3)
    assert most_confused(cm) == [{"true": 2, "predicted": 1, "count": 2},
                                 {"true": 0, "predicted": 1, "count": 1},
                                 {"true": 1, "predicted": 0, "count": 1}]
    losses = -np.log(p[np.arange(7), y])
    np.testing.assert_array_equal(top_losses(y, p, 3), np.argsort(-losses, kind="stable")[:3])
    assert top_losses(y, p, 3).tolist() == [5, 1, 3]  # p(true) 0.05, 0.2, then 0.3 twice: the first


def test_bad_arguments_are_input_errors():
    with pytest.raises(NnkitInputError):
        reliability([0, 1], [0.5, 1.5])
    with pytest.raises(NnkitInputError):
        threshold_for_sensitivity([0, 1], [0.2, 0.8], 1.5)
    with pytest.raises(NnkitInputError):
        average_precision([1, 1], [0.2, 0.8])  # no negative sample
    assert accuracy([0], [0]) == 1.0


def test_training_report_has_per_class_sensitivity_and_specificity_for_any_number_of_classes():
    from nnkit.nn.metrics import classification_report

    y, p = _multiclass(0)
    report = classification_report(y, p)
    pred = p.argmax(1)
    for row in report["per_class"]:
        k = row["class"]
        assert abs(row["sensitivity"] - sk.recall_score(y == k, pred == k)) < TOL
        assert abs(row["specificity"] - sk.recall_score(y != k, pred != k)) < TOL
