"""Losses against the course's numbers, hand formulas, SciPy and central differences."""

import math

import numpy as np
import pytest
import scipy.special
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from nnkit.errors import NnkitInputError
from nnkit.nn import losses
from nnkit.nn.losses import LOSSES, get_loss

# The course's softmax output for its 10-class digit example.
YA = np.array([0.01, 0.03, 0.7, 0.1, 0.01, 0.01, 0.01, 0.02, 0.1, 0.01])


def one_hot(index, k=10):
    t = np.zeros(k)
    t[index] = 1.0
    return t


@pytest.mark.parametrize("label", [2, 5])
def test_course_sse_and_cce(label):
    t = one_hot(label)
    by_hand_sse = 0.5 * sum((y - ti) ** 2 for y, ti in zip(YA, t, strict=True))
    by_hand_cce = -math.log(YA[label] + 1e-7)
    for target in (t, label, [label], t.reshape(1, 10)):
        assert float(LOSSES["sse"].fn(YA, target)) == pytest.approx(by_hand_sse, abs=1e-12)
        assert float(LOSSES["cce"].fn(YA, target)) == pytest.approx(by_hand_cce, abs=1e-12)
    # and the course's own rounding of them
    expected = {2: (0.0559, 0.356675), 5: (0.7459, 4.605160)}[label]
    assert round(float(LOSSES["sse"].fn(YA, t)), 4) == expected[0]
    assert round(float(LOSSES["cce"].fn(YA, t)), 6) == expected[1]


def test_course_column_vectors_with_the_course_functions():
    ya = YA.reshape(10, 1)
    t2 = one_hot(2).reshape(10, 1)
    assert losses.sum_of_squared_error(ya, t2) == pytest.approx(
        0.5 * np.sum((ya - t2) ** 2), abs=1e-15
    )
    assert losses.cross_entropy_error(ya, t2) == pytest.approx(
        -np.sum(t2 * np.log(ya + 1e-7)), abs=1e-15
    )


def test_alias_and_unknown():
    assert get_loss("cross-entropy") is LOSSES["cce"]
    assert list(LOSSES) == ["sse", "mse", "mae", "bce", "cce"]
    with pytest.raises(NnkitInputError, match="unknown loss 'hinge'") as info:
        get_loss("hinge")
    assert "cross-entropy" in info.value.hint


PRED = np.array([[0.2, 0.7, 0.1], [0.6, 0.3, 0.1]])
TARGET = np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])


def test_hand_formulas_and_reductions():
    d = PRED - TARGET
    per_sample = {
        "sse": 0.5 * (d**2).sum(axis=1),
        "mse": (d**2).mean(axis=1),
        "mae": np.abs(d).mean(axis=1),
        "bce": -(TARGET * np.log(PRED) + (1 - TARGET) * np.log(1 - PRED)).mean(axis=1),
        "cce": -(TARGET * np.log(PRED + 1e-7)).sum(axis=1),
    }
    for name, expected in per_sample.items():
        loss = LOSSES[name]
        np.testing.assert_allclose(loss.fn(PRED, TARGET, reduction="none"), expected, rtol=1e-14)
        assert float(loss.fn(PRED, TARGET)) == pytest.approx(expected.mean(), rel=1e-14)
        assert float(loss.fn(PRED, TARGET, reduction="sum")) == pytest.approx(
            expected.sum(), rel=1e-14
        )
        np.testing.assert_allclose(loss.pieces(PRED, TARGET).sum(axis=1), expected, rtol=1e-14)


def test_class_indices_equal_one_hot_rows():
    for name in LOSSES:
        a = LOSSES[name].fn(PRED, [1, 2], reduction="none")
        b = LOSSES[name].fn(PRED, TARGET, reduction="none")
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(
        LOSSES["cce"].fn(PRED, np.array([[1], [2]])), LOSSES["cce"].fn(PRED, TARGET)
    )


def test_from_logits_matches_scipy():
    z = np.array([[2.0, -1.0, 0.5], [1e4, 0.0, -1e4]])
    labels = [0, 2]
    expected = -scipy.special.log_softmax(z, axis=1)[[0, 1], labels]
    np.testing.assert_allclose(
        LOSSES["cce"].fn(z, labels, from_logits=True, reduction="none"), expected, rtol=1e-14
    )
    # BCE with logits equals BCE of the sigmoid (away from saturation) and is finite at 1e4
    zb = np.array([[-3.0, 0.2, 4.0]])
    tb = np.array([[0.0, 1.0, 1.0]])
    p = scipy.special.expit(zb)
    assert float(LOSSES["bce"].fn(zb, tb, from_logits=True)) == pytest.approx(
        float(LOSSES["bce"].fn(p, tb)), rel=1e-12
    )
    extreme = LOSSES["bce"].fn(np.array([1e4, -1e4]), np.array([0.0, 1.0]), from_logits=True)
    assert float(extreme) == pytest.approx(1e4, rel=1e-12)


def test_log_of_zero_does_not_warn():
    y = np.array([[0.0, 1.0], [1.0, 0.0]])
    t = np.array([[1.0, 0.0], [1.0, 0.0]])
    # cce: -log(0 + 1e-7) for the first sample, -log(1 + 1e-7) for the second
    np.testing.assert_allclose(
        LOSSES["cce"].fn(y, t, reduction="none"), [-math.log(1e-7), -math.log(1 + 1e-7)], rtol=1e-14
    )
    # bce: PyTorch's clamp of each log at -100
    np.testing.assert_allclose(LOSSES["bce"].fn(y, t, reduction="none"), [100.0, 0.0], rtol=1e-14)
    assert np.isfinite(LOSSES["bce"].grad(y, t)).all()
    # with delta = 0 the true class at probability 0 is an honest infinity, not a warning
    assert math.isinf(float(LOSSES["cce"].fn(y, t, delta=0.0, reduction="sum")))


def numeric_gradient(f, y, h=1e-6):
    g = np.zeros_like(y)
    for idx in np.ndindex(y.shape):
        e = np.zeros_like(y)
        e[idx] = h
        g[idx] = (f(y + e) - f(y - e)) / (2 * h)
    return g


CASES = [
    (name, logits, reduction)
    for name in LOSSES
    for logits in ([False, True] if LOSSES[name].probabilities else [False])
    for reduction in ("mean", "sum")
]


@pytest.mark.parametrize(("name", "logits", "reduction"), CASES)
def test_every_gradient_against_central_difference(name, logits, reduction):
    loss = LOSSES[name]
    # logits, or probabilities away from 0 and 1 with no y == t (the kink of mae)
    logit_y = np.array([[0.4, -1.3, 2.2], [1.1, 0.3, -0.7]])
    y = logit_y if logits else np.array([[0.25, 0.55, 0.15], [0.62, 0.3, 0.08]])
    t = np.array([[0.0, 1.0, 0.0], [0.2, 0.0, 0.8]])  # soft labels too

    def f(v):
        return float(loss.fn(v, t, from_logits=logits, reduction=reduction))

    analytic = loss.grad(y, t, from_logits=logits, reduction=reduction)
    np.testing.assert_allclose(analytic, numeric_gradient(f, y), rtol=1e-6, atol=1e-8)


def test_gradient_keeps_the_shape_of_pred_and_none_is_per_row():
    g = LOSSES["cce"].grad(YA, 2)
    assert g.shape == (10,)
    np.testing.assert_allclose(g, -one_hot(2) / (YA + 1e-7), rtol=1e-15)
    np.testing.assert_array_equal(LOSSES["sse"].grad(PRED, TARGET, reduction="none"), PRED - TARGET)
    np.testing.assert_array_equal(
        LOSSES["sse"].grad(PRED, TARGET, reduction="mean"), (PRED - TARGET) / 2
    )


def test_float32_stays_float32():
    y32 = PRED.astype(np.float32)
    for loss in LOSSES.values():
        assert loss.fn(y32, TARGET).dtype == np.float32
        assert loss.grad(y32, TARGET).dtype == np.float32


@pytest.mark.parametrize(
    ("name", "pred", "target", "message"),
    [
        ("cce", [0.2, 1.3], [0, 1], r"--pred must be probabilities in \[0, 1\] for cce, got 1.3"),
        ("bce", [0.2, -0.1], [0, 1], r"--pred must be probabilities in \[0, 1\] for bce"),
        ("bce", [0.2, 0.1], [0, 2], r"--target must be probabilities in \[0, 1\]"),
        ("mse", [0.2, math.nan], [0, 1], "--pred contains NaN at index 1"),
        ("mse", [0.2, 0.1], [math.inf, 1], "--target contains infinity at index 0"),
        (
            "sse",
            [[0.2, 0.1], [0.3, 0.3]],
            [[0, 1, 0]],
            r"--pred has shape \(2, 2\) but --target has shape \(1, 3\)",
        ),
        ("cce", YA, 10, r"--target class index 10 is out of range for 10 outputs \(0..9\)"),
        ("cce", [[0.5, 0.5], [0.5, 0.5]], [0, 1.5], "1.5 is not an integer"),
        ("sse", [], [], "--pred is empty"),
        ("sse", np.ones((2, 2, 2)), np.ones((2, 2, 2)), "--pred must be a vector or a matrix"),
    ],
)
def test_bad_input_names_the_problem(name, pred, target, message):
    with pytest.raises(NnkitInputError, match=message):
        LOSSES[name].fn(pred, target)


def test_bad_options():
    with pytest.raises(NnkitInputError, match="--reduction must be one of mean, sum, none"):
        LOSSES["sse"].fn(YA, 2, reduction="avg")
    with pytest.raises(NnkitInputError, match="--delta must be a finite number >= 0"):
        LOSSES["cce"].fn(YA, 2, delta=-1.0)
    # raw scores are fine with --from-logits
    assert np.isfinite(LOSSES["cce"].fn([3.0, -2.0], 0, from_logits=True))


def test_curve_is_the_course_figure():
    x = np.arange(0, 1, 0.01)
    np.testing.assert_allclose(LOSSES["sse"].curve(x), 0.5 * x**2, rtol=1e-15)
    np.testing.assert_allclose(LOSSES["cce"].curve(x), -np.log(x + 1e-7), rtol=1e-15)
    np.testing.assert_allclose(
        LOSSES["bce"].curve(x[1:], target=0.0), -np.log(1 - x[1:]), rtol=1e-13
    )


probs = st.floats(min_value=0.0, max_value=1.0, allow_nan=False)


@settings(max_examples=50, deadline=None)
@given(
    arrays(np.float64, st.tuples(st.integers(1, 4), st.integers(1, 5)), elements=probs), st.data()
)
def test_losses_are_finite_and_non_negative(y, data):
    t = data.draw(arrays(np.float64, y.shape, elements=probs))
    for loss in LOSSES.values():
        value = float(loss.fn(y, t))
        # the course's cce is -Σ t·log(y + δ): at y = 1 each term is -t·log(1 + δ) > -t·δ
        floor = -1e-7 * t.sum(axis=-1).max() if loss.name == "cce" else 0.0
        assert np.isfinite(value) and value >= floor
        assert np.isfinite(loss.grad(y, t)).all()
        z = (y - 0.5) * 2e4  # logits up to ±1e4
        if loss.probabilities:
            assert np.isfinite(loss.fn(z, t, from_logits=True))
            assert np.isfinite(loss.grad(z, t, from_logits=True)).all()


def test_soft_targets_follow_pytorchs_definitions():
    # nn.CrossEntropyLoss with probability targets: mean over the N samples of
    # logsumexp(z) - Σ t·z (not divided by Σ t); by hand: 1.6494586305507688 (PyTorch's number)
    z = np.array([[1.0, 2.0, 3.0], [0.5, -1.0, 2.0]])
    t = np.array([[0.1, 0.2, 0.7], [0.5, 0.5, 0.0]])
    lse = [math.log(math.e + math.e**2 + math.e**3), math.log(math.exp(0.5) + math.exp(-1) + math.exp(2))]
    by_hand = ((lse[0] - (0.1 + 0.4 + 2.1)) + (lse[1] - (0.25 - 0.5))) / 2
    assert by_hand == pytest.approx(1.6494586305507688, rel=1e-15)
    assert float(LOSSES["cce"].fn(z, t, from_logits=True)) == pytest.approx(by_hand, rel=1e-14)
    # nn.BCEWithLogitsLoss with soft targets: mean of softplus(z) - z·t; PyTorch: 1.416530782265607
    zb, tb = np.array([[-2.0, 0.5, 3.0]]), np.array([[0.3, 1.0, 0.0]])
    by_hand = sum(math.log1p(math.exp(v)) - v * w for v, w in zip(zb[0], tb[0], strict=True)) / 3
    assert by_hand == pytest.approx(1.416530782265607, rel=1e-15)
    assert float(LOSSES["bce"].fn(zb, tb, from_logits=True)) == pytest.approx(by_hand, rel=1e-14)


def test_cross_entropy_from_logits_further_apart_than_the_largest_float():
    z = np.array([[1e308, -1e308]])
    # the class at -1e308 has log-softmax -inf but target 0: it adds 0, not 0·inf = NaN
    assert float(LOSSES["cce"].fn(z, 0, from_logits=True)) == 0.0
    np.testing.assert_array_equal(LOSSES["cce"].grad(z, 0, from_logits=True), [[0.0, 0.0]])


def test_a_loss_beyond_the_largest_float_is_inf_without_a_warning():
    # (1e200)² is not a float64: the loss and its gradient are inf, with no RuntimeWarning
    assert math.isinf(float(LOSSES["mse"].fn([1e200], [0.0])))
    assert math.isinf(float(LOSSES["sse"].grad([1e308], [-1e308])[0]))
    np.testing.assert_array_equal(LOSSES["mse"].fn([[1e154, 1e154]], [[0.0, 0.0]]), 1e308)
