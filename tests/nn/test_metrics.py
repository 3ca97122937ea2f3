"""Metrics against hand-computed values from small fixed examples and brute-force definitions."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nnkit.data.splits import stratified_split
from nnkit.errors import NnkitInputError
from nnkit.nn.metrics import (
    accuracy,
    classification_report,
    confusion_matrix,
    precision_recall_f1,
    roc_auc,
    sensitivity_specificity,
)

# Ten patients, classes 0 (benign) / 1 (malignant) / 2 (other); worked by hand below.
Y_TRUE = [0, 0, 0, 0, 1, 1, 1, 2, 2, 2]
Y_PRED = [0, 0, 1, 2, 1, 1, 0, 2, 2, 1]


def test_confusion_matrix_by_hand():
    cm = confusion_matrix(Y_TRUE, Y_PRED, 3)
    # row = truth, column = prediction
    assert cm.tolist() == [[2, 1, 1], [1, 2, 0], [0, 1, 2]]
    assert cm.sum() == 10


def test_accuracy_by_hand():
    assert accuracy(Y_TRUE, Y_PRED) == pytest.approx(6 / 10)


def test_precision_recall_f1_by_hand():
    r = precision_recall_f1(confusion_matrix(Y_TRUE, Y_PRED, 3))
    # precision = TP / predicted: class 0: 2/3, class 1: 2/4, class 2: 2/3
    np.testing.assert_allclose(r["precision"], [2 / 3, 2 / 4, 2 / 3])
    # recall = TP / true: 2/4, 2/3, 2/3
    np.testing.assert_allclose(r["recall"], [2 / 4, 2 / 3, 2 / 3])
    f1_0 = 2 * (2 / 3) * (2 / 4) / (2 / 3 + 2 / 4)
    np.testing.assert_allclose(r["f1"], [f1_0, f1_0, 2 / 3])
    assert r["support"].tolist() == [4, 3, 3]


def test_class_never_predicted_gives_zero_not_nan():
    r = precision_recall_f1(confusion_matrix([0, 1, 1], [0, 0, 0], 2))
    assert r["precision"].tolist() == [1 / 3, 0.0]
    assert r["recall"].tolist() == [1.0, 0.0]
    assert r["f1"].tolist() == [0.5, 0.0]


def test_sensitivity_specificity_by_hand():
    # positive = 1: TP=9, FN=1, TN=8, FP=2
    cm = [[8, 2], [1, 9]]
    assert sensitivity_specificity(cm, 1) == (0.9, 0.8)
    # Naming class 0 positive swaps the two.
    assert sensitivity_specificity(cm, 0) == (0.8, 0.9)


def test_auc_with_ties_equals_hand_mann_whitney():
    labels = np.array([1, 0, 1, 0, 0, 1, 0])
    scores = np.array([0.9, 0.9, 0.4, 0.4, 0.2, 0.7, 0.1])
    # Pairs (positive, negative), win = 1, tie = 1/2:
    # pos 0.9: vs 0.9 tie .5, vs 0.4 1, vs 0.2 1, vs 0.1 1 -> 3.5
    # pos 0.4: vs 0.9 0, vs 0.4 tie .5, vs 0.2 1, vs 0.1 1   -> 2.5
    # pos 0.7: vs 0.9 0, 0.4 1, 0.2 1, 0.1 1                 -> 3
    assert roc_auc(labels, scores) == pytest.approx(9 / 12)


def test_auc_matches_scipy_mann_whitney_u():
    from scipy.stats import mannwhitneyu

    rng = np.random.default_rng(3)
    labels = rng.integers(0, 2, 200)
    scores = np.round(rng.random(200) + 0.3 * labels, 1)  # rounding makes many ties
    u = mannwhitneyu(scores[labels == 1], scores[labels == 0]).statistic
    expected = u / ((labels == 1).sum() * (labels == 0).sum())
    assert roc_auc(labels, scores) == pytest.approx(expected, abs=1e-12)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.booleans(), st.integers(0, 5)), min_size=2, max_size=40).filter(
        lambda rows: 0 < sum(r[0] for r in rows) < len(rows)
    )
)
def test_auc_equals_brute_force_pair_count(rows):
    labels = np.array([r[0] for r in rows])
    scores = np.array([r[1] for r in rows], dtype=float)
    pos, neg = scores[labels], scores[~labels]
    wins = (pos[:, None] > neg[None, :]).sum() + 0.5 * (pos[:, None] == neg[None, :]).sum()
    assert roc_auc(labels, scores) == pytest.approx(wins / (pos.size * neg.size))


def test_auc_perfect_and_reversed():
    assert roc_auc([0, 0, 1, 1], [0.1, 0.2, 0.8, 0.9]) == 1.0
    assert roc_auc([0, 0, 1, 1], [0.9, 0.8, 0.2, 0.1]) == 0.0


def test_auc_needs_both_classes():
    with pytest.raises(NnkitInputError, match="positive and one negative"):
        roc_auc([1, 1], [0.2, 0.3])


def test_confusion_matrix_rejects_out_of_range_label():
    with pytest.raises(NnkitInputError, match=r"outside 0\.\.1"):
        confusion_matrix([0, 2], [0, 1], 2)


def test_classification_report_two_classes():
    proba1 = np.array([0.1, 0.6, 0.8, 0.3, 0.9, 0.2])
    proba = np.column_stack([1 - proba1, proba1])
    y = np.array([0, 0, 1, 1, 1, 0])
    rep = classification_report(y, proba, positive=1)
    # predictions 0,1,1,0,1,0 -> TP=2 FN=1 TN=2 FP=1
    assert rep["confusion_matrix"] == [[2, 1], [1, 2]]
    assert rep["accuracy"] == pytest.approx(4 / 6)
    assert rep["sensitivity"] == pytest.approx(2 / 3)
    assert rep["specificity"] == pytest.approx(2 / 3)
    # positives 0.8, 0.3, 0.9 vs negatives 0.1, 0.6, 0.2: 3 + 2 + 3 = 8 of 9 pairs
    assert rep["roc_auc"] == pytest.approx(8 / 9)
    assert [c["support"] for c in rep["per_class"]] == [3, 3]


def test_classification_report_many_classes_has_no_binary_keys():
    proba = np.eye(3)[[0, 1, 2, 2]]
    rep = classification_report([0, 1, 2, 1], proba, positive=None)
    assert "roc_auc" not in rep
    assert rep["per_class"][1] == {
        "class": 1,
        "precision": 1.0,
        "recall": 0.5,
        "f1": pytest.approx(2 / 3),
        "sensitivity": 0.5,  # one vs the rest: 1 of its 2 cases found
        "specificity": 1.0,  # neither case of classes 0 and 2 called 1
        "support": 2,
    }


def test_stratified_split_keeps_class_shares_and_is_seeded():
    y = np.array([0] * 50 + [1] * 30 + [2] * 20)
    train, val, test = stratified_split(y, [0.1, 0.2], seed=7)
    assert np.bincount(y[test]).tolist() == [10, 6, 4]
    assert np.bincount(y[val]).tolist() == [5, 3, 2]
    assert sorted(np.concatenate([train, val, test]).tolist()) == list(range(100))
    again = stratified_split(y, [0.1, 0.2], seed=7)
    assert all(np.array_equal(a, b) for a, b in zip((train, val, test), again, strict=False))
    other = stratified_split(y, [0.1, 0.2], seed=8)
    assert not np.array_equal(test, other[2])


def test_stratified_split_rejects_fractions_that_leave_nothing():
    with pytest.raises(NnkitInputError, match="leave something to train"):
        stratified_split([0, 1, 0, 1], [0.5, 0.5])


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.integers(0, 4), min_size=1, max_size=80),
    st.floats(0.0, 0.45),
    st.floats(0.0, 0.45),
    st.integers(0, 2**32 - 1),
)
def test_stratified_split_is_a_partition_with_class_shares(labels, f_val, f_test, seed):
    y = np.array(labels)
    parts = stratified_split(y, [f_val, f_test], seed=seed)
    joined = np.concatenate(parts)
    assert sorted(joined.tolist()) == list(range(y.size))  # every sample exactly once
    for k in np.unique(y):
        n_k = int((y == k).sum())
        for part, f in zip(parts[1:], (f_val, f_test), strict=True):
            assert abs(int((y[part] == k).sum()) - f * n_k) <= 1  # each class keeps its share
