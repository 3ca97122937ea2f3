"""Reshaping arrays and images into rows (the course's 画像の変換), with NumPy's semantics."""

from __future__ import annotations

import numpy as np

from nnkit.errors import NnkitInputError

#: The course's hand-drawn digits 0–5, each a 5 × 4 matrix of zeros and ones.
DIGITS = np.array(
    [
        [[1, 1, 1, 1], [1, 0, 0, 1], [1, 0, 0, 1], [1, 0, 0, 1], [1, 1, 1, 1]],  # 0
        [[0, 0, 1, 0], [0, 0, 1, 0], [0, 0, 1, 0], [0, 0, 1, 0], [0, 0, 1, 0]],  # 1
        [[1, 1, 1, 1], [0, 0, 0, 1], [1, 1, 1, 1], [1, 0, 0, 0], [1, 1, 1, 1]],  # 2
        [[1, 1, 1, 1], [0, 0, 0, 1], [1, 1, 1, 1], [0, 0, 0, 1], [1, 1, 1, 1]],  # 3
        [[1, 0, 0, 1], [1, 0, 0, 1], [1, 1, 1, 1], [0, 0, 0, 1], [0, 0, 0, 1]],  # 4
        [[1, 1, 1, 1], [1, 0, 0, 0], [1, 1, 1, 1], [0, 0, 0, 1], [1, 1, 1, 1]],  # 5
    ],
    dtype=np.int64,
)
DIGITS.setflags(write=False)


def reshape(array, shape: tuple[int, ...]) -> np.ndarray:
    """``np.reshape`` with an error a learner can read when the sizes do not match.

    Parameters
    ----------
    array : array_like
    shape : tuple of int
        The new shape; one entry may be ``-1`` (worked out from the others).

    Examples
    --------
    >>> reshape(np.arange(6), (2, -1))
    array([[0, 1, 2],
           [3, 4, 5]])
    """
    array = np.asarray(array)
    shape = tuple(int(size) for size in shape)
    if not shape:
        raise NnkitInputError("--shape needs at least one size")
    if shape.count(-1) > 1:
        raise NnkitInputError(f"--shape {_show(shape)} has more than one -1; only one size can be worked out")
    if any(size < 1 and size != -1 for size in shape):
        raise NnkitInputError(f"--shape {_show(shape)}: sizes must be positive (or one -1)")
    known = int(np.prod([size for size in shape if size != -1]))
    if -1 in shape:
        if array.size % known:
            raise NnkitInputError(
                f"cannot reshape {array.size} values (shape {_show(array.shape)}) into shape {_show(shape)}: "
                f"{array.size} is not a multiple of {known}"
            )
    elif known != array.size:
        raise NnkitInputError(
            f"cannot reshape {array.size} values (shape {_show(array.shape)}) into shape {_show(shape)} "
            f"= {known} values"
        )
    return array.reshape(shape)


def flatten(array) -> np.ndarray:
    """One row per sample: an image (H, W) becomes (1, H·W); a stack (N, H, W, …) becomes (N, H·W·…).

    Examples
    --------
    >>> flatten(np.zeros((6, 5, 4))).shape
    (6, 20)
    >>> flatten(np.zeros((5, 4))).shape
    (1, 20)
    """
    array = np.asarray(array)
    if array.ndim <= 2:
        return array.reshape(1, -1)
    return array.reshape(array.shape[0], -1)


def _show(shape) -> str:
    return "(" + ", ".join(str(size) for size in shape) + ("," if len(shape) == 1 else "") + ")"
