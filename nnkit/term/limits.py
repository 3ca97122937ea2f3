"""How much memory there is, and refusing sizes that cannot fit before allocating them.

A request (``onehot --classes 1000000000``, a ``.npy`` header promising 20000×20000 floats, an IDX
header, a gzip stream) is compared with what this process may still use: the memory the kernel
reports available, capped by the process's own address-space limit (``ulimit -v``). Too big is an
input error that says what was asked and what fits, never a ``MemoryError`` or a swap storm.
"""

from __future__ import annotations

import os
import resource

from nnkit.errors import NnkitInputError, at_least_one

#: The most epochs a training command runs: a million full passes of the XOR table take about a
#: minute; a typo such as ``--epochs 99999999999999999999`` would otherwise run for ever.
MAX_EPOCHS = 1_000_000


def check_epochs(epochs: int) -> None:
    """Refuse ``--epochs`` below 1 or above :data:`MAX_EPOCHS`.

    Examples
    --------
    >>> check_epochs(99999999999999999999)
    Traceback (most recent call last):
    ...
    nnkit.errors.NnkitInputError: --epochs 99999999999999999999 is more than nnkit runs (at most 1000000)
    """
    at_least_one(epochs, "--epochs")
    if epochs > MAX_EPOCHS:
        raise NnkitInputError(f"--epochs {epochs} is more than nnkit runs (at most {MAX_EPOCHS})")


def _meminfo_available() -> int | None:
    try:
        with open("/proc/meminfo", "rb") as handle:
            for line in handle:
                if line.startswith(b"MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def _address_space_left() -> int | None:
    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    if soft == resource.RLIM_INFINITY:
        return None
    try:
        with open("/proc/self/statm", "rb") as handle:
            used = int(handle.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        used = 0
    return max(soft - used, 0)


def available_memory() -> int:
    """Bytes this process can still allocate: available RAM, capped by ``ulimit -v``.

    Examples
    --------
    >>> available_memory() > 0
    True
    """
    candidates = [_meminfo_available(), _address_space_left()]
    if candidates[0] is None:
        try:
            candidates[0] = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        except (OSError, ValueError):
            candidates[0] = None
    known = [c for c in candidates if c is not None]
    return min(known) if known else 1 << 62


def format_bytes(n: float) -> str:
    """``1536`` → ``'1.5 KB'``, in powers of 1024, for messages.

    Examples
    --------
    >>> format_bytes(3.2e9), format_bytes(12)
    ('3.0 GB', '12 bytes')
    """
    if n < 1024:
        return f"{int(n)} bytes"
    for unit in ("KB", "MB", "GB", "TB", "PB", "EB"):
        n /= 1024
        if n < 1024 or unit == "EB":
            return f"{n:.1f} {unit}"
    raise AssertionError("unreachable")


def require_memory(nbytes: float, what: str, hint: str | None = None) -> None:
    """Raise an input error when ``nbytes`` (what ``what`` needs) does not fit in memory.

    Parameters
    ----------
    nbytes : float
        Bytes the request needs (a float, so that ``10**20 × 8`` is not an overflow).
    what : str
        The request in the user's words: ``"--classes 1000000000 for 1 label"``.

    Examples
    --------
    >>> require_memory(1e30, "a 1e29×10 array")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    nnkit.errors.NnkitInputError: a 1e29×10 array needs 867361737988.4 EB; ... of memory is available
    """
    available = available_memory()
    if nbytes > available:
        raise NnkitInputError(
            f"{what} needs {format_bytes(nbytes)}; {format_bytes(available)} of memory is available",
            hint=hint,
        )


def require_array(shape, itemsize: int, what: str, copies: float = 1.0) -> None:
    """Refuse an array of ``shape`` (``copies`` of it, with its temporaries) that cannot fit.

    Examples
    --------
    >>> require_array((99999999999999999999, 1), 8, "--random 99999999999999999999x1")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    nnkit.errors.NnkitInputError: --random 99999999999999999999x1 needs 693.9 EB; ... of memory is available
    """
    size = 1.0
    for n in shape:
        size *= float(n)
    require_memory(size * itemsize * copies, what)
