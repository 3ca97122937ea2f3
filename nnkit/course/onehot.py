"""One-hot labels: classes as rows with a single 1, and back (the course's 教師データの変換)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from nnkit.errors import NnkitInputError, at_least_one


def as_class_indices(labels, n_classes: int | None = None, what: str = "label") -> np.ndarray:
    """Check that ``labels`` are whole numbers in ``0..n_classes-1`` and return them as int64.

    Parameters
    ----------
    labels : (n,) array_like
        Class numbers, 0-based.
    n_classes : int, optional
        How many classes there are; default: the largest label + 1.
    what : str
        What to call a label in error messages.

    Examples
    --------
    >>> as_class_indices([0, 2.0, 1])
    array([0, 2, 1])
    """
    labels = np.asarray(labels)
    if labels.ndim != 1:
        raise NnkitInputError(f"{what}s must be one number per sample, got an array of shape {labels.shape}")
    if labels.size == 0:
        raise NnkitInputError(f"no {what}s given")
    if labels.dtype.kind == "f":
        bad = ~np.isfinite(labels) | (labels != np.round(labels))
        if bad.any():
            raise NnkitInputError(f"{what} {labels[bad][0].item()!r} is not a whole number")
    elif labels.dtype.kind not in "iub":
        raise NnkitInputError(f"{what}s must be numbers, got {labels.dtype}")
    indices = labels.astype(np.int64)
    if n_classes is not None:
        at_least_one(n_classes, "--classes")
    upper = int(indices.max()) + 1 if n_classes is None else n_classes
    outside = (indices < 0) | (indices >= upper)
    if outside.any():
        raise NnkitInputError(
            f"{what} {indices[outside][0]} is outside 0..{upper - 1}",
            hint=f"there are {upper} classes, numbered from 0" if n_classes is not None else None,
        )
    return indices


def one_hot(labels, n_classes: int | None = None, dtype=np.int64) -> np.ndarray:
    """Turn class numbers into one-hot rows.

    Parameters
    ----------
    labels : (n,) array_like of int
        Class numbers, 0-based.
    n_classes : int, optional
        Width of each row; default: the largest label + 1.
    dtype : dtype
        Of the result.

    Returns
    -------
    onehot : (n, n_classes) array
        Row ``i`` is all zeros but a 1 in column ``labels[i]``.

    Examples
    --------
    >>> one_hot([0, 2, 1], 3)
    array([[1, 0, 0],
           [0, 0, 1],
           [0, 1, 0]])
    """
    indices = as_class_indices(labels, n_classes)
    width = int(indices.max()) + 1 if n_classes is None else n_classes
    encoded = np.zeros((indices.size, width), dtype=dtype)
    encoded[np.arange(indices.size), indices] = 1
    return encoded


def decode(rows) -> np.ndarray:
    """The class of each row of one-hot vectors or probabilities: the position of its largest value.

    Parameters
    ----------
    rows : (n, n_classes) or (n_classes,) array_like

    Returns
    -------
    labels : (n,) int64 array
        Ties go to the first (lowest) class, like ``np.argmax``.

    Examples
    --------
    >>> decode([[0.7, 0.2, 0.1], [0, 0, 1]])
    array([0, 2])
    """
    rows = np.asarray(rows)
    if rows.ndim == 1:
        rows = rows.reshape(1, -1)
    if rows.ndim != 2 or rows.shape[1] == 0 or rows.shape[0] == 0:
        raise NnkitInputError(f"--decode needs rows of class scores, got an array of shape {rows.shape}")
    if rows.dtype.kind == "f" and np.isnan(rows).any():
        raise NnkitInputError("cannot decode a row that contains NaN")
    return np.argmax(rows, axis=1).astype(np.int64)


def _is_integer(token: str) -> bool:
    try:
        int(token)
    except ValueError:
        return False
    return True


def _as_number(token: str) -> float | None:
    try:
        return float(token)
    except ValueError:
        return None


def encode_labels(tokens: Sequence[str], names: Sequence[str] | None = None) -> tuple[np.ndarray, list[str] | None]:
    """Map labels given as words to class numbers.

    Parameters
    ----------
    tokens : sequence of str
        The labels as written: whole numbers (``0 2 1``) or names (``healthy patient``).
    names : sequence of str, optional
        The class names in class order (``--names``). Without it, names are numbered in sorted order.

    Returns
    -------
    indices : (n,) int64 array
    class_names : list of str or None
        ``None`` when the labels were numbers and no names were given.

    Examples
    --------
    >>> encode_labels(["healthy", "patient", "healthy"])
    (array([0, 1, 0]), ['healthy', 'patient'])
    >>> encode_labels(["b", "a"], names=["b", "a"])
    (array([0, 1]), ['b', 'a'])
    >>> encode_labels(["1.0", "0.0"])
    (array([1, 0]), None)
    """
    tokens = [token.strip() for token in tokens]
    if not tokens:
        raise NnkitInputError("no labels given")
    if names is not None:
        names = [name.strip() for name in names]
        if len(set(names)) != len(names) or "" in names:
            raise NnkitInputError("--names must be distinct, non-empty names")
        index = {name: i for i, name in enumerate(names)}
        missing = [token for token in tokens if token not in index]
        if missing:
            raise NnkitInputError(f"label {missing[0]!r} is not one of --names", hint="names: " + ", ".join(names))
        return np.array([index[token] for token in tokens], dtype=np.int64), names
    if all(_is_integer(token) for token in tokens):
        return np.array([int(token) for token in tokens], dtype=np.int64), None  # one_hot checks the range
    numbers = [_as_number(token) for token in tokens]
    if None not in numbers:  # 1.0 2.0, as a spreadsheet writes class numbers: whole numbers or an error
        return as_class_indices(np.array(numbers, dtype=np.float64)), None
    class_names = sorted(set(tokens))
    index = {name: i for i, name in enumerate(class_names)}
    return np.array([index[token] for token in tokens], dtype=np.int64), class_names
