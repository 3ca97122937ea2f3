"""Activations against SciPy, hand-computed values and central differences."""

import math

import numpy as np
import pytest
import scipy.special
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from nnkit.errors import NnkitInputError
from nnkit.nn import activations as act
from nnkit.nn.activations import ACTIVATIONS, apply_activation, get_activation

# Points away from the kinks of relu, leaky-relu, elu and step, where a central difference is exact
# enough to check the analytic derivative to 1e-6.
GRID = np.array([-7.3, -3.1, -1.2, -0.45, -0.05, 0.07, 0.6, 1.3, 2.9, 6.4])
HUGE = np.array([-1e300, -1e4, -745.0, -710.0, -50.0, 50.0, 710.0, 745.0, 1e4, 1e300])


def central_difference(f, x, h=1e-6):
    return (f(x + h) - f(x - h)) / (2 * h)


def test_registry_in_spec_order():
    assert list(ACTIVATIONS) == [
        "relu",
        "sigmoid",
        "softmax",
        "tanh",
        "step",
        "identity",
        "leaky-relu",
        "elu",
        "softplus",
        "gelu",
        "swish",
    ]
    for name, a in ACTIVATIONS.items():
        assert a.name == name
        assert a.formula and a.derivative and a.label
        assert str(a).startswith(f"{name}(x) = ")


def test_unknown_name_lists_choices():
    with pytest.raises(NnkitInputError, match="unknown activation function 'rellu'") as info:
        get_activation("rellu")
    assert "relu" in info.value.hint and "swish" in info.value.hint


def test_relu_on_the_course_matrix():
    np.random.seed(42)
    a = np.random.randn(5, 3)
    out = act.relu(a)
    assert np.array_equal(out, np.maximum(0, a))
    assert out[0, 1] == 0.0 and out[0, 0] == pytest.approx(0.4967141530112327, abs=0)


@pytest.mark.parametrize(
    ("name", "x", "expected"),
    [
        ("relu", [-2.0, 0.0, 3.5], [0.0, 0.0, 3.5]),
        ("step", [-2.0, 0.0, 3.5], [0.0, 0.0, 1.0]),
        ("identity", [-2.0, 0.0, 3.5], [-2.0, 0.0, 3.5]),
        ("sigmoid", [0.0, math.log(3)], [0.5, 0.75]),
        ("tanh", [0.0, math.log(2)], [0.0, 0.6]),
        ("leaky-relu", [-2.0, 3.0], [-0.02, 3.0]),
        ("elu", [-math.log(2), 3.0], [-0.5, 3.0]),
        ("softplus", [0.0, math.log(3)], [math.log(2), math.log(4)]),
        ("swish", [math.log(3)], [0.75 * math.log(3)]),
        ("softmax", [0.0, math.log(3)], [0.25, 0.75]),
    ],
)
def test_hand_computed_values(name, x, expected):
    np.testing.assert_allclose(ACTIVATIONS[name].fn(np.array(x)), expected, rtol=1e-14, atol=1e-15)


def test_sigmoid_and_softmax_match_scipy():
    rng = np.random.default_rng(0)
    x = rng.normal(scale=20, size=(40, 7))
    np.testing.assert_allclose(act.sigmoid(x), scipy.special.expit(x), rtol=1e-14, atol=1e-300)
    np.testing.assert_allclose(act.softmax(x), scipy.special.softmax(x, axis=-1), rtol=1e-13)
    np.testing.assert_allclose(act.softmax(x, axis=0), scipy.special.softmax(x, axis=0), rtol=1e-13)
    reference = scipy.special.log_softmax(x, axis=-1)
    np.testing.assert_allclose(act.log_softmax(x), reference, rtol=1e-13)


def test_gelu_matches_erf_form_and_softplus_matches_logaddexp():
    x = np.linspace(-30, 30, 601)
    reference = 0.5 * x * (1 + scipy.special.erf(x / math.sqrt(2)))
    np.testing.assert_allclose(act.gelu(x), reference, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(act.softplus(x), np.log1p(np.exp(x)), rtol=1e-13)
    np.testing.assert_allclose(act.swish(x), x * scipy.special.expit(x), rtol=1e-13, atol=1e-300)
    np.testing.assert_allclose(act.elu(x), np.where(x > 0, x, np.expm1(x)), rtol=1e-15)


@pytest.mark.parametrize("name", [n for n, a in ACTIVATIONS.items() if a.elementwise])
def test_every_derivative_against_central_difference(name):
    a = ACTIVATIONS[name]
    numeric = central_difference(a.fn, GRID)
    np.testing.assert_allclose(a.grad(GRID), numeric, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("alpha", [0.01, 0.3])
@pytest.mark.parametrize("name", ["leaky-relu", "elu"])
def test_alpha_derivatives_against_central_difference(name, alpha):
    a = ACTIVATIONS[name]
    numeric = central_difference(lambda z: a.fn(z, alpha=alpha), GRID)
    np.testing.assert_allclose(a.grad(GRID, alpha=alpha), numeric, rtol=1e-6, atol=1e-8)


def test_softmax_jacobian_against_central_difference():
    x = np.array([0.3, -1.2, 2.0, 0.05])
    h = 1e-6
    numeric = np.empty((4, 4))
    for k in range(4):
        e = np.zeros(4)
        e[k] = h
        numeric[:, k] = (act.softmax(x + e) - act.softmax(x - e)) / (2 * h)
    jac = act.softmax_jacobian(x)
    np.testing.assert_allclose(jac, numeric, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(np.diag(jac), act.softmax_grad(x), rtol=1e-15)
    rows = act.softmax_jacobian(np.stack([x, -x]))
    assert rows.shape == (2, 4, 4)
    np.testing.assert_allclose(rows[0], jac, rtol=1e-15)


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_no_warning_and_no_nan_for_huge_finite_input(name):
    # pytest turns every warning into an error, so an overflow would fail here.
    a = ACTIVATIONS[name]
    for x in (HUGE, HUGE.reshape(2, 5), np.array([1e4, 0.0, -1e4])):
        assert np.isfinite(a.fn(x)).all()
        assert np.isfinite(a.grad(x)).all()


def test_extreme_values_are_the_limits():
    np.testing.assert_array_equal(act.sigmoid(np.array([-1e4, 1e4])), [0.0, 1.0])
    np.testing.assert_array_equal(act.softmax(np.array([1e4, 0.0])), [1.0, 0.0])
    np.testing.assert_array_equal(act.softmax(np.array([1e4, 1e4])), [0.5, 0.5])
    assert act.softplus(np.array([1e4]))[0] == 1e4
    assert act.elu(np.array([-1e4]))[0] == -1.0
    # the tail of the sigmoid's derivative keeps its relative precision
    assert act.sigmoid_grad(np.array([-40.0]))[0] == pytest.approx(math.exp(-40), rel=1e-12)
    tail = -10 * 0.5 * math.erfc(10 / 2**0.5)
    assert act.gelu(np.array([-10.0]))[0] == pytest.approx(tail, rel=1e-12)


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_float32_stays_float32_and_ints_become_float64(name):
    a = ACTIVATIONS[name]
    x32 = np.array([[-1.5, 0.5, 2.0]], dtype=np.float32)
    assert a.fn(x32).dtype == np.float32
    assert a.grad(x32).dtype == np.float32
    np.testing.assert_allclose(a.fn(x32), a.fn(x32.astype(np.float64)), rtol=2e-6, atol=1e-7)
    xi = np.array([[-1, 0, 2]])
    assert a.fn(xi).dtype == np.float64
    assert a.grad(xi).dtype == np.float64


def test_step_derivative_is_zero_and_relu_derivative_at_zero_is_zero():
    np.testing.assert_array_equal(act.step_grad(np.array([-1.0, 0.0, 1.0])), [0.0, 0.0, 0.0])
    np.testing.assert_array_equal(act.relu_grad(np.array([-1.0, 0.0, 1.0])), [0.0, 0.0, 1.0])
    np.testing.assert_array_equal(act.leaky_relu_grad(np.array([0.0]), alpha=0.2), [0.2])


def test_params_are_checked():
    with pytest.raises(NnkitInputError, match="relu does not take alpha"):
        ACTIVATIONS["relu"].fn(np.ones(2), alpha=0.1)
    with pytest.raises(NnkitInputError, match="--axis must be between -2 and 1"):
        act.softmax(np.ones((2, 2)), axis=2)


finite = st.floats(min_value=-1e4, max_value=1e4, allow_nan=False)


@settings(max_examples=60, deadline=None)
@given(arrays(np.float64, st.tuples(st.integers(1, 4), st.integers(1, 6)), elements=finite))
def test_softmax_sums_to_one_and_is_shift_invariant(x):
    s = act.softmax(x)
    np.testing.assert_allclose(s.sum(axis=-1), 1.0, rtol=0, atol=1e-12)
    assert ((s >= 0) & (s <= 1)).all()
    shifted = act.softmax(x + 3.25)
    np.testing.assert_allclose(shifted, s, rtol=1e-9, atol=1e-12)


@settings(max_examples=60, deadline=None)
@given(arrays(np.float64, st.integers(1, 20), elements=finite))
def test_sigmoid_in_unit_interval_and_derivatives_finite(x):
    s = act.sigmoid(x)
    assert ((s >= 0) & (s <= 1)).all()
    for a in ACTIVATIONS.values():
        assert np.isfinite(a.fn(x)).all()
        assert np.isfinite(a.grad(x)).all()


def test_apply_activation_validates_user_input():
    with pytest.raises(NnkitInputError, match="NaN at index 1"):
        apply_activation("relu", [1.0, math.nan])
    with pytest.raises(NnkitInputError, match="--alpha applies only to leaky-relu and elu"):
        apply_activation("sigmoid", [1.0], alpha=0.1)
    with pytest.raises(NnkitInputError, match="--axis applies only to softmax"):
        apply_activation("relu", [1.0], axis=0)
    with pytest.raises(NnkitInputError, match="needs one vector, got shape"):
        apply_activation("softmax", np.ones((2, 3)), derivative=True)
    with pytest.raises(NnkitInputError, match="undefined for infinite input"):
        apply_activation("softmax", [math.inf, 1.0])
    with pytest.raises(NnkitInputError, match="at least one value"):
        apply_activation("relu", np.array([]))
    np.testing.assert_array_equal(apply_activation("relu", [-math.inf, 2.0]), [0.0, 2.0])
    np.testing.assert_array_equal(apply_activation("sigmoid", [-math.inf, math.inf]), [0.0, 1.0])
    assert apply_activation("softmax", [[0.0, 0.0]], derivative=True).shape == (2, 2)
    np.testing.assert_allclose(apply_activation("leaky-relu", [-1.0], alpha=0.5), [-0.5])


def test_infinite_input_gives_the_limit_or_names_the_right_index():
    inf = math.inf
    # x·Φ(x) and x·sigmoid(x) tend to 0 at -inf (not inf·0 = NaN), and swish' to 0 and 1
    for name in ("gelu", "swish"):
        np.testing.assert_array_equal(apply_activation(name, [-inf, inf, 0.0]), [0.0, inf, 0.0])
    np.testing.assert_array_equal(apply_activation("gelu", [-inf, inf], derivative=True), [0.0, 1.0])
    np.testing.assert_array_equal(apply_activation("swish", [-inf, inf], derivative=True), [0.0, 1.0])
    # softmax is undefined at +inf only: -inf at index 0 is fine, +inf at index 2 is not
    with pytest.raises(NnkitInputError, match="infinite input at index 2$"):
        apply_activation("softmax", [-inf, 1.0, inf])
    with pytest.raises(NnkitInputError, match=r"infinite input at index \(1, 1\)$"):
        apply_activation("softmax", [[-inf, 1.0], [-inf, inf]])
    with pytest.raises(NnkitInputError, match=r"infinite input at index \(1, 0\)$"):
        apply_activation("softmax", [[-inf, 1.0], [-inf, -inf]])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_softmax_of_finite_inputs_further_apart_than_the_largest_float(dtype):
    big = np.finfo(dtype).max / 2 * 1.5  # 2·big overflows: x - max(x) is -inf, exp of it is 0
    x = np.array([big, -big], dtype=dtype)
    np.testing.assert_array_equal(act.softmax(x), [1.0, 0.0])
    np.testing.assert_array_equal(act.softmax_jacobian(x), np.zeros((2, 2)))
    assert act.log_softmax(x)[0] == 0.0
    np.testing.assert_array_equal(apply_activation("softmax", x.reshape(1, 2)), [[1.0, 0.0]])


def test_leaky_relu_with_a_huge_alpha_overflows_quietly():
    assert apply_activation("leaky-relu", [-1e308], alpha=1e10)[0] == -math.inf
