"""Stratified, seeded splits of a labelled data set into parts (train / validation / test)."""

import numpy as np

from nnkit.errors import NnkitInputError


def stratified_split(y, fractions, seed: int = 0) -> list[np.ndarray]:
    """Split sample indices into parts that keep each class's share, reproducibly.

    Every class is shuffled with one seeded generator and cut into the requested fractions
    (rounded per class, so a class of 10 with a 0.2 test fraction gives exactly 2 test samples);
    the first part takes what is left after the others.

    Parameters
    ----------
    y : (n_samples,) array of class labels (any comparable type)
    fractions : sequence of float
        Fractions of the whole data for the parts after the first, each in [0, 1), summing
        below 1. ``[0.1, 0.2]`` gives parts of about 70 %, 10 % and 20 %.
    seed : int
        Seed of ``numpy.random.default_rng``; the same seed gives the same split.

    Returns
    -------
    parts : list of ``len(fractions) + 1`` sorted int index arrays covering ``0 .. n_samples-1``
    once.

    Examples
    --------
    >>> y = np.array([0, 0, 0, 0, 1, 1, 1, 1, 1, 1])
    >>> train, test = stratified_split(y, [0.5], seed=0)
    >>> len(train), len(test), sorted(y[test].tolist())
    (5, 5, [0, 0, 1, 1, 1])
    """
    y = np.asarray(y)
    if y.ndim != 1:
        raise NnkitInputError(f"labels must be 1-D, got shape {y.shape}")
    fractions = [float(f) for f in fractions]
    for f in fractions:
        if not 0.0 <= f < 1.0:
            raise NnkitInputError(f"a split fraction must be in [0, 1), got {f}")
    if sum(fractions) >= 1.0:
        raise NnkitInputError(
            f"the split fractions must leave something to train on, got {sum(fractions):g} in all"
        )
    rng = np.random.default_rng(seed)
    _, y_index = np.unique(y, return_inverse=True)
    y_index = y_index.ravel()
    parts: list[list[np.ndarray]] = [[] for _ in range(len(fractions) + 1)]
    # Classes in a fixed (sorted) order so the generator's draws depend only on the seed.
    for k in range(int(y_index.max(initial=-1)) + 1):
        members = np.flatnonzero(y_index == k)
        rng.shuffle(members)
        start = 0
        for i, f in enumerate(fractions, start=1):
            count = round(f * members.size)
            count = min(count, members.size - start)
            parts[i].append(members[start : start + count])
            start += count
        parts[0].append(members[start:])
    return [np.sort(np.concatenate(p)) if p else np.empty(0, np.intp) for p in parts]
