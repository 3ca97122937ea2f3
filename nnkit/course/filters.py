"""The named convolution filters: one registry for ``--filter``, ``--list-filters``, help and tests.

Every kernel is written for true convolution (``scipy.signal.convolve2d``'s flip), so the edge
detectors answer with a positive value where the image gets brighter towards +x (right) or +y (down).
"""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from nnkit.errors import NnkitInputError, at_least_one

#: The largest side of a named filter's kernel (4095² float64 values are 134 MB).
MAX_SIZE = 4095


@dataclass(frozen=True)
class Filter:
    """A named kernel.

    Attributes
    ----------
    name : str
        The name used on the command line.
    description : str
        One line for ``--list-filters`` and ``--help``.
    build : callable
        ``build(size, sigma) -> (kh, kw) float64 array``.
    uses : tuple of str
        Which of ``size`` and ``sigma`` change the kernel.
    """

    name: str
    description: str
    build: Callable[[int | None, float | None], np.ndarray]
    uses: tuple[str, ...] = ()


def _fixed(rows) -> Callable[[int | None, float | None], np.ndarray]:
    kernel = np.array(rows, dtype=np.float64)
    return lambda size, sigma: kernel.copy()


def _delta(size: int | None, sigma: float | None) -> np.ndarray:
    n = 3 if size is None else _odd_size(size)
    kernel = np.zeros((n, n))
    kernel[n // 2, n // 2] = 1.0
    return kernel


def _box(size: int | None, sigma: float | None) -> np.ndarray:
    n = 3 if size is None else _positive_size(size)
    return np.full((n, n), 1.0 / (n * n))


def _gaussian(size: int | None, sigma: float | None) -> np.ndarray:
    sigma = 1.0 if sigma is None else float(sigma)
    if not np.isfinite(sigma) or sigma <= 0:
        raise NnkitInputError(f"--sigma must be a positive number, got {sigma}")
    # Four standard deviations each side, as scipy.ndimage.gaussian_filter truncates by default.
    if size is None:
        if 4.0 * sigma + 0.5 >= (MAX_SIZE + 1) // 2:  # 2·round(4σ)+1 > MAX_SIZE
            raise NnkitInputError(f"--sigma {sigma:g} needs a kernel wider than {MAX_SIZE} pixels",
                                  hint="give a smaller --sigma, or an odd --size")
        n = 2 * int(4.0 * sigma + 0.5) + 1
    else:
        n = _odd_size(size)
    t = np.arange(n) - (n - 1) / 2
    g = np.exp(-0.5 * (t / sigma) ** 2)
    g /= g.sum()
    return np.outer(g, g)


def _positive_size(size: int) -> int:
    at_least_one(size, "--size")
    if size > MAX_SIZE:
        raise NnkitInputError(f"--size must be at most {MAX_SIZE}, got {size}")
    return int(size)


def _odd_size(size: int) -> int:
    size = _positive_size(size)
    if size % 2 == 0:
        raise NnkitInputError(f"--size must be odd for a centred kernel, got {size}")
    return size


FILTERS: dict[str, Filter] = {
    f.name: f
    for f in (
        Filter("identity", "the course's 3×3 unit matrix np.eye(3): sums a diagonal", _fixed(np.eye(3))),
        Filter("delta", "a single 1 in the centre: returns the image unchanged (odd --size)", _delta,
               ("size",)),
        Filter("box", "mean of a --size × --size neighbourhood (blur)", _box, ("size",)),
        Filter("gaussian", "normalised Gaussian blur of --sigma (size 2·round(4σ)+1 or odd --size)",
               _gaussian, ("size", "sigma")),
        Filter("sharpen", "centre 5, four neighbours −1: sharpens edges",
               _fixed([[0, -1, 0], [-1, 5, -1], [0, -1, 0]])),
        Filter("laplacian", "second derivative, 4-neighbour: responds to edges in every direction",
               _fixed([[0, 1, 0], [1, -4, 1], [0, 1, 0]])),
        Filter("sobel-x", "Sobel gradient along x: positive where the image brightens to the right",
               _fixed([[1, 0, -1], [2, 0, -2], [1, 0, -1]])),
        Filter("sobel-y", "Sobel gradient along y: positive where the image brightens downwards",
               _fixed([[1, 2, 1], [0, 0, 0], [-1, -2, -1]])),
        Filter("prewitt-x", "Prewitt gradient along x: positive where the image brightens to the right",
               _fixed([[1, 0, -1], [1, 0, -1], [1, 0, -1]])),
        Filter("prewitt-y", "Prewitt gradient along y: positive where the image brightens downwards",
               _fixed([[1, 1, 1], [0, 0, 0], [-1, -1, -1]])),
        Filter("emboss", "relief effect lit from the top left",
               _fixed([[-2, -1, 0], [-1, 1, 1], [0, 1, 2]])),
    )
}


def make_filter(name: str, size: int | None = None, sigma: float | None = None) -> np.ndarray:
    """Build the kernel of a named filter.

    Parameters
    ----------
    name : str
        One of :data:`FILTERS`.
    size : int, optional
        Side length for ``box``, ``delta`` and ``gaussian``.
    sigma : float, optional
        Standard deviation for ``gaussian`` (default 1).

    Returns
    -------
    kernel : (kh, kw) float64 array

    Examples
    --------
    >>> make_filter("identity")
    array([[1., 0., 0.],
           [0., 1., 0.],
           [0., 0., 1.]])
    >>> make_filter("box", size=2)
    array([[0.25, 0.25],
           [0.25, 0.25]])
    """
    try:
        entry = FILTERS[name]
    except KeyError:
        raise NnkitInputError(
            f"unknown filter {name!r}", hint=f"choose one of: {', '.join(FILTERS)}"
        ) from None
    for option, value in (("size", size), ("sigma", sigma)):
        if value is not None and option not in entry.uses:
            raise NnkitInputError(f"--{option} does not apply to the {name} filter",
                                  hint="--size shapes box, delta and gaussian; --sigma gaussian")
    return entry.build(size, sigma)
