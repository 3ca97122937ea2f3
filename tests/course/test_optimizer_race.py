"""The optimizer race: every path against torch.optim's documented update rules, written here in NumPy."""

import numpy as np
import pytest

from nnkit.course.optimizer_race import SURFACES, descend, get_surface, parse_point
from nnkit.errors import NnkitInputError
from nnkit.nn.optimizers import OPTIMIZERS


def torch_reference(name, grad, start, lr, steps):
    """The algorithms of https://pytorch.org/docs/stable/optim.html, defaults as there, in float64.

    SGD(momentum=0.9): b_t = μ·b_{t-1} + g_t (b_1 = g_1), θ_t = θ_{t-1} - γ·b_t.
    Adagrad: state_sum_t = state_sum_{t-1} + g_t², θ_t = θ_{t-1} - γ·g_t / (√state_sum_t + ε), ε = 1e-10.
    RMSprop: v_t = α·v_{t-1} + (1 - α)·g_t², θ_t = θ_{t-1} - γ·g_t / (√v_t + ε), α = 0.99, ε = 1e-8.
    Adam: m_t = β1·m_{t-1} + (1 - β1)·g_t, v_t = β2·v_{t-1} + (1 - β2)·g_t², m̂_t = m_t / (1 - β1^t),
          v̂_t = v_t / (1 - β2^t), θ_t = θ_{t-1} - γ·m̂_t / (√v̂_t + ε), β = (0.9, 0.999), ε = 1e-8.

    The divisions are done as torch does them (``param.addcdiv_(grad, denom, value=-lr)``: g / denom first,
    then times γ): on Rosenbrock's valley RMSprop's fixed-size steps rattle chaotically, and a
    different rounding of one product grows past 1e-12 within a few hundred steps.
    """
    theta = np.array(start, dtype=np.float64)
    path = [theta.copy()]
    b = np.zeros(2)
    state_sum = np.zeros(2)
    v = np.zeros(2)
    m = np.zeros(2)
    for t in range(1, steps + 1):
        g = np.array(grad(*theta))
        if name == "sgd":
            theta = theta - lr * g
        elif name == "momentum":
            b = g if t == 1 else 0.9 * b + g
            theta = theta - lr * b
        elif name == "adagrad":
            state_sum = state_sum + g**2
            theta = theta - lr * (g / (np.sqrt(state_sum) + 1e-10))
        elif name == "rmsprop":
            v = 0.99 * v + (1 - 0.99) * g**2
            theta = theta - lr * (g / (np.sqrt(v) + 1e-8))
        elif name == "adam":
            m = 0.9 * m + (1 - 0.9) * g
            v = 0.999 * v + (1 - 0.999) * g**2
            m_hat = m / (1 - 0.9**t)
            v_hat = v / (1 - 0.999**t)
            theta = theta - lr * m_hat / (np.sqrt(v_hat) + 1e-8)
        path.append(theta.copy())
    return np.array(path)


#: The course's five (2-8); the registry may hold more (they race with their default rates).
COURSE = ["sgd", "momentum", "adagrad", "rmsprop", "adam"]


def test_every_surface_has_settings_for_the_course_five():
    for s in SURFACES.values():
        assert list(s.settings) == COURSE
        assert set(COURSE) <= set(OPTIMIZERS)


@pytest.mark.parametrize("surface", SURFACES)
@pytest.mark.parametrize("optimizer", COURSE)
def test_default_race_equals_torch_optim(surface, optimizer):
    s = SURFACES[surface]
    path = descend(s, optimizer, s.start)
    lr, steps = s.settings[optimizer]
    assert path.lr == lr and path.steps == steps and not path.diverged
    reference = torch_reference(optimizer, s.gradient, s.start, lr, steps)
    np.testing.assert_allclose(path.points, reference, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(path.values, s.fn(reference[:, 0], reference[:, 1]), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("optimizer", COURSE)
@pytest.mark.parametrize(("start", "lr"), [((3.0, -4.0), 0.05), ((-0.5, 0.5), 0.2)])
def test_other_starts_and_rates_equal_torch_optim(optimizer, start, lr):
    s = SURFACES["bowl"]
    path = descend(s, optimizer, start, lr=lr, steps=60)
    np.testing.assert_allclose(path.points, torch_reference(optimizer, s.gradient, start, lr, 60), rtol=1e-12,
                               atol=1e-12)


@pytest.mark.parametrize("surface", SURFACES)
def test_gradients_are_the_derivatives(surface):
    s = SURFACES[surface]
    rng = np.random.default_rng(0)
    h = 1e-6
    for x, y in rng.uniform(-2, 2, size=(20, 2)):
        dx = (s.fn(x + h, y) - s.fn(x - h, y)) / (2 * h)
        dy = (s.fn(x, y + h) - s.fn(x, y - h)) / (2 * h)
        np.testing.assert_allclose(s.gradient(x, y), (dx, dy), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(s.gradient(*s.minimum), (0.0, 0.0), atol=1e-12)
    grid = np.meshgrid(np.linspace(*s.xlim, 301), np.linspace(*s.ylim, 301))
    assert s.f_min <= s.fn(*grid).min()  # the global minimum


def test_each_optimizer_shows_its_character_on_the_bowl():
    s = SURFACES["bowl"]
    paths = {name: descend(s, name, s.start) for name in COURSE}
    # SGD at lr 0.95 zig-zags across the steep y direction: y changes sign at every step
    assert np.all(np.sign(paths["sgd"].points[1:11, 1]) == np.array([-1, 1] * 5))
    # momentum overshoots the minimum in x and has to come back
    assert paths["momentum"].points[:, 0].max() > 0.5
    # AdaGrad's first step moves every coordinate by lr, its steps then shrink
    np.testing.assert_allclose(np.abs(paths["adagrad"].points[1] - paths["adagrad"].points[0]), 1.5, rtol=1e-9)
    step_sizes = np.linalg.norm(np.diff(paths["adagrad"].points, axis=0), axis=1)
    assert np.all(np.diff(step_sizes[:10]) < 0)


def test_a_learning_rate_too_large_diverges_quietly():
    s = SURFACES["rosenbrock"]
    path = descend(s, "sgd", s.start, lr=100.0, steps=50)
    assert path.diverged and path.steps < 50
    assert np.isfinite(path.points).all() and np.isfinite(path.values).all()


def test_sgd_stops_in_a_local_minimum_where_momentum_rolls_on_to_the_global():
    s = SURFACES["styblinski-tang"]
    x_deep, x_ridge, x_shallow = np.sort(np.roots([4.0, 0.0, -32.0, 5.0]).real)
    for minimum in (s.minimum, *s.local_minima):  # flat there, and a minimum (positive curvature)
        assert np.allclose(s.gradient(*minimum), 0.0, atol=1e-12)
        assert all(6 * v**2 - 16 > 0 for v in minimum)
    assert s.minimum == pytest.approx((x_deep, x_deep))
    assert all(s.fn(*m) > s.fn(*s.minimum) + 14 for m in s.local_minima)
    sgd, momentum = descend(s, "sgd", s.start), descend(s, "momentum", s.start)
    assert sgd.lr == momentum.lr  # the same rate: only the velocity differs
    assert sgd.points[-1] == pytest.approx((x_shallow, x_deep), abs=1e-6)
    assert (sgd.points[:, 0] > x_ridge).all()  # never crossed the ridge
    assert momentum.points[-1] == pytest.approx((x_deep, x_deep), abs=1e-4)
    assert s.basin(sgd.points[-1]) == "local" and s.basin(momentum.points[-1]) == "global"


def test_staying_below_the_tolerance_differs_from_touching_it():
    bowl = SURFACES["bowl"]
    momentum = descend(bowl, "momentum", bowl.start)
    assert momentum.steps_to(0.0, 0.01) == 24 and momentum.stays_from(0.0, 0.01) is None
    assert momentum.values[-1] > 0.01


def test_steps_to_tolerance():
    s = SURFACES["bowl"]
    path = descend(s, "adagrad", s.start)
    k = path.steps_to(0.0, 0.01)
    assert path.values[k] <= 0.01 < path.values[k - 1]


@pytest.mark.parametrize("text", ["1", "1,2,3", "a,b", "inf,0"])
def test_bad_points(text):
    with pytest.raises(NnkitInputError, match="--start"):
        parse_point(text)


@pytest.mark.parametrize(("surface", "start"), [("bowl", (1e300, 1e300)), ("rosenbrock", (1e100, 0.0))])
def test_a_start_where_f_overflows_is_an_input_error(surface, start):
    # f there is not a float: no path can start (this used to end in an IndexError, exit 1)
    with pytest.raises(NnkitInputError, match="--start .* is too far out"):
        descend(SURFACES[surface], "sgd", start, steps=3)


def test_unknown_names():
    with pytest.raises(NnkitInputError, match="unknown function 'nope'"):
        get_surface("nope")
    with pytest.raises(NnkitInputError, match="unknown optimizer 'nope'"):
        descend(SURFACES["bowl"], "nope", (0, 0))
