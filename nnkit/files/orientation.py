"""The course's notation: a single column is one vector. The rule is decided here, once.

The course writes every vector as a column: its prediction ``ya`` and one-hot target ``t2`` are
10×1 arrays, and ``softmax`` of a column is one probability vector. nnkit's engine reads one sample
per row. Where a command means *one sample* (softmax and its Jacobian, ``loss`` and its gradient,
``onehot --decode``, ``dense``, ``predict``), an input of shape n×1 with n ≥ 2 could be read two ways; nnkit reads it the
course's way:

- **vector** (the default): the column is one sample of n values. The result keeps the input's
  shape (a column in, a column out: softmax, ``loss -g``), and a note on stderr says which reading was
  taken and names the option for the other one. The note goes to stderr in every output format (a
  pipe never gets a differently read number without a word); ``-q`` silences it with every other note.
- **samples** (``--column samples``): the column is n samples of one value each (one per row), as a
  matrix of any other width is read.

``--column vector`` asks for the course's reading explicitly and prints no note. A row (``1 2 3`` or
``"1,2,3"``), a single number and a matrix of two or more columns are never affected.
"""

from __future__ import annotations

import numpy as np

from nnkit.term.env import Environment

#: The two readings of an n×1 column (the first is the default).
COLUMN_READINGS = ("vector", "samples")
#: The option that picks a reading, as the notes name it.
COLUMN_OPTION = "--column"
#: Help text of that option, shared by every command that takes it.
COLUMN_HELP = (
    "How an n×1 column is read: vector = one sample of n values, the course's notation (the default; "
    "a note on stderr says so, unless -q); samples = n samples of one value each, one per row."
)


def is_column(array) -> bool:
    """Whether ``array`` is a single column of two or more values (shape n×1, n ≥ 2).

    Examples
    --------
    >>> is_column(np.zeros((10, 1))), is_column(np.zeros(10)), is_column(np.zeros((1, 1)))
    (True, False, False)
    """
    shape = np.shape(array)
    return len(shape) == 2 and shape[1] == 1 and shape[0] >= 2


def column_as_vector(array: np.ndarray, env: Environment, reading: str | None, what: str, other: str = "") -> bool:
    """Decide whether an n×1 ``array`` is one vector (the course's reading); note it on stderr.

    Parameters
    ----------
    array : numpy.ndarray
        The input as read.
    env : Environment
        Where the note goes.
    reading : {"vector", "samples"} or None
        ``--column``: None is the default reading (vector) with a note; an explicit choice prints none.
    what : str
        What the input is called in the note (``"--pred"``, ``"the input"``).
    other : str
        What the other reading computes, for the note (``"each row's own softmax"``).

    Returns
    -------
    bool
        True when the caller should treat ``array`` as the one vector ``array[:, 0]`` (and give the
        result back in the column's shape); False for every other shape and for ``samples``.
    """
    if not is_column(array) or reading == "samples":
        return False
    if reading is None:
        n = np.shape(array)[0]
        env.note(
            f"nnkit: {what} is a {n}×1 column: read as one vector of {n} values (the course's notation); "
            f"{COLUMN_OPTION} samples reads it as {n} samples of one value{other}"
        )
    return True
