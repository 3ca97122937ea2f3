"""Two-variable functions to race optimisers on (the course's 2-8), and the race itself.

Each :class:`Surface` knows its value, its gradient, where its minimum is, where a race starts and,
for every optimiser of :data:`nnkit.nn.optimizers.OPTIMIZERS`, a learning rate and a number of
steps with which that optimiser shows its character there. :func:`descend` runs one of the engine's
own optimiser classes (``torch.optim``'s update rules and defaults) on a point ``p = (x, y)`` and
records its path.

- ``bowl``: ``f(x, y) = x²/20 + y²`` from ``(-7, 2)``, the benchmark of ゼロから作るDeep Learning
  (section 6.1): a long flat valley in x, steep walls in y. SGD zig-zags across the valley, momentum
  overshoots and swings back, AdaGrad's steps shrink, RMSprop's and Adam's step sizes are set by
  ``lr`` rather than by the slope.
- ``rosenbrock``: ``f(x, y) = (1 - x)² + 100·(y - x²)²`` from ``(-1.5, 2)``: a curved banana-shaped
  valley with its minimum at ``(1, 1)``; finding the valley is easy, following it is slow.
- ``styblinski-tang``: ``f(x, y) = ((x⁴ − 16x² + 5x) + (y⁴ − 16y² + 5y))/2``, the Styblinski–Tang test
  function (Surjanovic & Bingham's Virtual Library of Simulation Experiments) from ``(4.5, -1)``: four
  valleys, the deepest (the global minimum) at ``x = y ≈ -2.9035``. From the start, the slope alone
  (SGD) leads into the local minimum ``(2.7468, -2.9035)`` and stops there; momentum's velocity
  carries it over the ridge at ``x ≈ 0.157`` into the global one (the course's 2-8: 極小値).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from nnkit.errors import NnkitInputError, unknown_name
from nnkit.nn.optimizers import OPTIMIZERS, make_optimizer


@dataclass(frozen=True)
class Surface:
    """A function of two variables with its gradient and minimum.

    Attributes
    ----------
    name : str
        Registry name, as typed on the command line.
    formula : str
        The definition, for tables and titles.
    fn : callable
        ``fn(x, y)`` on arrays of any (broadcastable) shape.
    gradient : callable
        ``gradient(x, y)`` → ``(∂f/∂x, ∂f/∂y)``.
    minimum : (float, float)
        Where the global minimum is.
    start : (float, float)
        The default starting point.
    xlim, ylim : (float, float)
        The region a contour plot shows.
    settings : dict
        Optimiser name → ``(lr, steps)``, chosen so that each shows its character here.
    log_levels : bool
        Draw the contours at logarithmically spaced levels (for steep valleys).
    local_minima : tuple of (float, float)
        Where the other (higher) minima are, if any.
    """

    name: str
    formula: str
    fn: Callable[[np.ndarray, np.ndarray], np.ndarray] = field(repr=False)
    gradient: Callable[[np.ndarray, np.ndarray], tuple] = field(repr=False)
    minimum: tuple[float, float]
    start: tuple[float, float]
    xlim: tuple[float, float]
    ylim: tuple[float, float]
    settings: dict[str, tuple[float, int]]
    log_levels: bool = False
    local_minima: tuple[tuple[float, float], ...] = ()

    def defaults(self, optimizer: str) -> tuple[float, int]:
        """``(lr, steps)`` for ``optimizer`` on this surface.

        Its own settings; an optimizer without any gets its class's default rate and as many steps
        as the longest of the others.
        """
        if optimizer in self.settings:
            return self.settings[optimizer]
        return OPTIMIZERS[optimizer].DEFAULT_LR, max(steps for _, steps in self.settings.values())

    @property
    def f_min(self) -> float:
        """The value at the minimum."""
        return float(self.fn(np.float64(self.minimum[0]), np.float64(self.minimum[1])))

    def basin(self, point) -> str:
        """Which minimum ``point`` is nearest: ``"global"`` or ``"local"``.

        Examples
        --------
        >>> SURFACES["styblinski-tang"].basin((2.7, -2.9))
        'local'
        >>> SURFACES["bowl"].basin((0.3, 0.1))
        'global'
        """
        return "global" if self.basin_point(point) == self.minimum else "local"

    def basin_point(self, point) -> tuple[float, float]:
        """The minimum (global or local) nearest ``point``."""
        minima = [self.minimum, *self.local_minima]
        return minima[int(np.argmin([math.dist(point, m) for m in minima]))]


def _bowl(x, y):
    return x**2 / 20.0 + y**2


def _bowl_gradient(x, y):
    return x / 10.0, 2.0 * y


def _rosenbrock(x, y):
    return (1.0 - x) ** 2 + 100.0 * (y - x**2) ** 2


def _rosenbrock_gradient(x, y):
    return -2.0 * (1.0 - x) - 400.0 * x * (y - x**2), 200.0 * (y - x**2)


def _styblinski_tang(x, y):
    return ((x**4 - 16.0 * x**2 + 5.0 * x) + (y**4 - 16.0 * y**2 + 5.0 * y)) / 2.0


def _styblinski_tang_gradient(x, y):
    return 2.0 * x**3 - 16.0 * x + 2.5, 2.0 * y**3 - 16.0 * y + 2.5


#: The roots of ``4t³ − 32t + 5``, where one coordinate of the Styblinski–Tang function is flat: its
#: deep valley, its ridge, its shallow valley.
_ST_DEEP, _ST_RIDGE, _ST_SHALLOW = -2.9035340277711783, 0.15673125678034014, 2.7468027709908376

_REGISTERED = [
    Surface(
        "bowl",
        "x²/20 + y²",
        _bowl,
        _bowl_gradient,
        minimum=(0.0, 0.0),
        start=(-7.0, 2.0),
        xlim=(-8.0, 8.0),
        ylim=(-3.0, 3.0),
        # ゼロから作るDeep Learning's rates for SGD, momentum, AdaGrad and Adam (its RMSprop is not
        # in that figure), 30 steps each as there.
        settings={
            "sgd": (0.95, 30),
            "momentum": (0.1, 30),
            "adagrad": (1.5, 30),
            "rmsprop": (0.1, 30),
            "adam": (0.3, 30),
        },
    ),
    Surface(
        "rosenbrock",
        "(1 - x)² + 100·(y - x²)²",
        _rosenbrock,
        _rosenbrock_gradient,
        minimum=(1.0, 1.0),
        start=(-1.5, 2.0),
        xlim=(-2.0, 2.0),
        ylim=(-1.0, 3.0),
        # SGD's rate is near the largest that is stable at the start (the curvature there is ~1900):
        # it crawls down the valley. Momentum gathers speed along it; AdaGrad's steps have shrunk
        # to nothing by the time it gets there; RMSprop's fixed-size steps rattle across the valley
        # floor; Adam's momentum damps that rattle.
        settings={
            "sgd": (0.001, 1000),
            "momentum": (0.001, 1000),
            "adagrad": (1.0, 1000),
            "rmsprop": (0.01, 1000),
            "adam": (0.1, 1000),
        },
        log_levels=True,
    ),
    Surface(
        "styblinski-tang",
        "((x⁴ − 16x² + 5x) + (y⁴ − 16y² + 5y))/2",
        _styblinski_tang,
        _styblinski_tang_gradient,
        minimum=(_ST_DEEP, _ST_DEEP),
        start=(4.5, -1.0),
        xlim=(-5.0, 5.0),
        ylim=(-5.0, 5.0),
        # One rate for SGD and momentum (stable where the curvature is largest along the path, ~106
        # at the start): only the velocity differs, and it is what carries momentum over the ridge.
        # AdaGrad, RMSprop and Adam with rates that settle within the steps all stop in the valley
        # they start above, as SGD does.
        settings={
            "sgd": (0.01, 200),
            "momentum": (0.01, 200),
            "adagrad": (0.5, 200),
            "rmsprop": (0.05, 200),
            "adam": (0.3, 200),
        },
        local_minima=((_ST_SHALLOW, _ST_DEEP), (_ST_DEEP, _ST_SHALLOW), (_ST_SHALLOW, _ST_SHALLOW)),
    ),
]

#: The functions ``nnkit optimize --function`` races on, by name.
SURFACES: dict[str, Surface] = {s.name: s for s in _REGISTERED}


def get_surface(name: str) -> Surface:
    """Look a surface up by name; an unknown name is an input error listing the choices."""
    try:
        return SURFACES[name]
    except KeyError:
        raise unknown_name("function", name, SURFACES) from None


@dataclass
class Trajectory:
    """One optimiser's walk over a surface.

    Attributes
    ----------
    optimizer : str
    lr : float
    points : (steps + 1, 2) ndarray
        The start, then the point after each step (fewer rows if the walk diverged).
    values : (steps + 1,) ndarray
        ``f`` at each point.
    diverged : bool
        The walk left the finite numbers (a learning rate too large); it ends at the last finite point.
    """

    optimizer: str
    lr: float
    points: np.ndarray
    values: np.ndarray
    diverged: bool = False

    @property
    def steps(self) -> int:
        """The steps taken."""
        return len(self.points) - 1

    def steps_to(self, f_min: float, tol: float) -> int | None:
        """The first step after which ``f - f_min ≤ tol`` (0: the start already is), or None."""
        hits = np.flatnonzero(self.values - f_min <= tol)
        return int(hits[0]) if hits.size else None

    def stays_from(self, f_min: float, tol: float) -> int | None:
        """The step from which ``f - f_min ≤ tol`` holds to the end of the walk, or None.

        Differs from :meth:`steps_to` when a path touches the tolerance and climbs out again
        (momentum overshooting the minimum).

        Examples
        --------
        >>> path = Trajectory("momentum", 0.1, np.zeros((4, 2)), np.array([1.0, 0.005, 0.02, 0.001]))
        >>> path.steps_to(0.0, 0.01), path.stays_from(0.0, 0.01)
        (1, 3)
        """
        above = np.flatnonzero(self.values - f_min > tol)
        first = 0 if not above.size else int(above[-1]) + 1
        return first if first < len(self.values) else None


def descend(surface: Surface, optimizer: str, start, lr: float | None = None, steps: int | None = None) -> Trajectory:
    """Walk ``steps`` steps of ``optimizer`` over ``surface`` from ``start``, in float64.

    Parameters
    ----------
    surface : Surface
    optimizer : str
        A name in :data:`OPTIMIZERS`.
    start : (2,) array_like
        ``(x, y)``.
    lr, steps : optional
        Default: ``surface.settings[optimizer]``.

    Examples
    --------
    >>> path = descend(SURFACES["bowl"], "sgd", (-7.0, 2.0), lr=0.5, steps=2)
    >>> path.points   # x ← x - 0.5·x/10, y ← y - 0.5·2y = 0
    array([[-7.    ,  2.    ],
           [-6.65  ,  0.    ],
           [-6.3175,  0.    ]])
    """
    if optimizer not in OPTIMIZERS:
        raise NnkitInputError(f"unknown optimizer {optimizer!r}", hint=f"choose one of: {', '.join(OPTIMIZERS)}")
    default_lr, default_steps = surface.defaults(optimizer)
    lr = default_lr if lr is None else lr
    steps = default_steps if steps is None else int(steps)
    if steps < 0:
        raise NnkitInputError(f"--steps must be zero or more, got {steps}")
    p = np.array(start, dtype=np.float64).reshape(2)
    if not np.isfinite(p).all():
        raise NnkitInputError(f"--start must be two finite numbers, got {tuple(p)}")
    with np.errstate(over="ignore", invalid="ignore"):
        start_ok = np.isfinite(surface.fn(p[0], p[1])) and np.isfinite(surface.gradient(p[0], p[1])).all()
    if not start_ok:
        raise NnkitInputError(f"--start ({p[0]:g}, {p[1]:g}) is too far out: f or its gradient overflows there",
                              hint="start nearer the minimum ({:g}, {:g})".format(*surface.minimum))
    opt = make_optimizer(optimizer, [p], lr=lr)
    points = np.empty((steps + 1, 2))
    points[0] = p
    grad = np.empty(2)
    taken = steps
    diverged = False
    with np.errstate(over="ignore", invalid="ignore"):
        for k in range(1, steps + 1):
            grad[:] = surface.gradient(p[0], p[1])
            if not np.isfinite(grad).all():
                taken, diverged = k - 1, True
                break
            opt.step([grad])
            if not np.isfinite(p).all():
                taken, diverged = k - 1, True
                break
            points[k] = p
        points = points[: taken + 1]
        values = surface.fn(points[:, 0], points[:, 1])
    finite = np.isfinite(values)
    if not finite.all():  # a point too far out for its value to be a float
        keep = int(np.argmin(finite))
        points, values, diverged = points[:keep], values[:keep], True
    return Trajectory(optimizer=optimizer, lr=float(opt.lr), points=points, values=values, diverged=diverged)


def parse_point(text: str, option: str = "--start") -> tuple[float, float]:
    """``"-7,2"`` → ``(-7.0, 2.0)``.

    Examples
    --------
    >>> parse_point(" -7, 2")
    (-7.0, 2.0)
    """
    parts = [part for part in text.replace(";", ",").split(",") if part.strip()]
    try:
        x, y = (float(part) for part in parts)
    except ValueError:
        raise NnkitInputError(f"{option} takes a point X,Y like -7,2, got {text.strip()!r}") from None
    if not (math.isfinite(x) and math.isfinite(y)):
        raise NnkitInputError(f"{option} must be two finite numbers, got {text.strip()!r}")
    return x, y
