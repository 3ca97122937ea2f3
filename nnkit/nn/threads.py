"""nnkit's own threads: a small pool that splits a training step's work along the batch axis.

NumPy releases the GIL in its ufuncs, copies and matrix products, so Python threads that each
take a slice of the batch (or of a parameter array) run on separate cores. The pool is made the
first time training asks for it (never at import: start-up stays fast), and its workers live as
long as the process, one per core beyond the caller's own.

How many threads: ``NNKIT_THREADS`` when set, else the cores this process may run on
(``os.sched_getaffinity``), so a job limited with ``taskset`` or a container's CPU set uses what
it has; ``--threads N`` on the training commands calls :func:`set_threads`.

BLAS and nnkit's threads never oversubscribe the cores. From :func:`start` to :func:`finish`
(one training run) OpenBLAS (the copy NumPy loaded, found in ``/proc/self/maps``) is set to one
thread, so each slice's products run on the core of the thread that makes them, and every
product of a step is split by nnkit; outside training BLAS has :func:`thread_count` threads. (OpenBLAS's ``openblas_set_num_threads_local`` turned out to be one global value
in NumPy's pthreads build, so it is not used.) Where OpenBLAS is not found (another BLAS), slices
that make matrix products run one after another and BLAS keeps its threads. We do not use
threadpoolctl: it is not a dependency, and its ``limit`` rescans the loaded libraries on every
call (about a millisecond) where ``openblas_set_num_threads`` costs 0.5 µs — a training step
enters the pool ~30 times.

Results do not depend on which thread runs which slice: the slices are fixed by the batch size
and the thread count alone, and partial sums are added in slice order. One thread and two give
the same weights to float32 rounding (the partial weight-gradient sums differ in rounding only).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable

from nnkit.errors import NnkitInputError

ENV = "NNKIT_THREADS"

_requested: int | None = None
_pool: _Pool | None = None
_blas = None  # OpenBLAS's set_num_threads (ctypes), False when not found, None before looking
_lock = threading.Lock()
_training = False  # between start() and finish(): BLAS is on one thread

#: Slices per thread when a pass is split: more than one, so that the threads share out the
#: slices of one that the system sets aside for a moment (a busy neighbour).
SLICES_PER_THREAD = 2


def available_cores() -> int:
    """The number of cores this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def parse_threads(value, what: str = "--threads") -> int:
    """A thread count of at least 1, or an input error naming ``what``."""
    try:
        n = int(str(value).strip())
    except ValueError:
        raise NnkitInputError(f"{what} must be a whole number of at least 1, got {value!r}") from None
    if n < 1:
        raise NnkitInputError(f"{what} must be a whole number of at least 1, got {value!r}")
    return n


def thread_count() -> int:
    """Threads a training step uses: :func:`set_threads`, else ``NNKIT_THREADS``, else the cores."""
    if _requested is not None:
        return _requested
    env = os.environ.get(ENV)
    if env:
        return parse_threads(env, ENV)
    return available_cores()


def set_threads(n: int | None) -> None:
    """Use ``n`` threads from now on (``None``: back to ``NNKIT_THREADS`` or the cores)."""
    global _requested
    _requested = None if n is None else parse_threads(n)


def _find_blas():
    """OpenBLAS's ``set_num_threads`` from the copy NumPy loaded, or False."""
    global _blas
    if _blas is not None:
        return _blas
    _blas = False
    try:
        import ctypes

        import numpy  # noqa: F401  (its BLAS must be loaded before we look for it)

        with open("/proc/self/maps") as maps:
            paths = {line.split(None, 5)[-1].strip() for line in maps if "openblas" in line.lower()}
        for path in sorted(p for p in paths if p.startswith("/") and "numpy" in p):
            lib = ctypes.CDLL(path)
            for name in ("scipy_openblas_set_num_threads64_", "openblas_set_num_threads64_",
                         "scipy_openblas_set_num_threads", "openblas_set_num_threads"):
                setter = getattr(lib, name, None)
                if setter is not None:
                    setter.argtypes = [ctypes.c_int]
                    setter.restype = None
                    _blas = setter
                    return _blas
    except (OSError, ValueError):
        _blas = False
    return _blas


def blas_control() -> bool:
    """Whether each thread can have BLAS to itself (OpenBLAS's per-thread count was found)."""
    return bool(_find_blas())


def blas_info() -> str:
    """Which BLAS control nnkit uses, for benchmarks and ``--version``-style reports."""
    return "OpenBLAS thread count set per step" if _find_blas() else "BLAS thread count not controlled"


class _Pool:
    """``workers`` daemon threads taking (function, start, stop) tasks from one shared queue."""

    def __init__(self, workers: int):
        import queue

        self.empty = queue.Empty
        self.tasks: queue.SimpleQueue = queue.SimpleQueue()
        self.done: queue.SimpleQueue = queue.SimpleQueue()
        self.workers = workers
        for i in range(workers):
            threading.Thread(target=self._work, name=f"nnkit-{i + 1}", daemon=True).start()

    def _work(self) -> None:
        while True:
            fn, start, stop = self.tasks.get()
            try:
                fn(start, stop)
                self.done.put(None)
            except BaseException as error:  # handed to the caller, which raises it
                self.done.put(error)


def _get_pool(workers: int) -> _Pool:
    """The pool with exactly ``workers`` threads (a pool of another size is left idle)."""
    global _pool
    with _lock:
        if _pool is None or _pool.workers != workers:
            _pool = _Pool(workers)
        return _pool


def start(threads: int | None = None) -> int:
    """Training begins on ``threads`` threads (default :func:`thread_count`); returns the count.

    Starts the pool's workers if they are not running yet and sets BLAS to one thread until
    :func:`finish`: every product of a step is split over nnkit's threads instead (BLAS's own
    threads split the small products of a training step badly, and spin while they wait: a
    (10 × 86 528) @ (86 528 × 32) weight gradient took 18–41 ms of CPU on two OpenBLAS threads,
    1.4 ms on one).
    """
    global _training
    n = thread_count() if threads is None else parse_threads(threads)
    blas = _find_blas()
    if blas:
        blas(1)
        _training = True
    if n > 1:
        _get_pool(n - 1)
    return n


def finish() -> None:
    """Training has ended: BLAS gets its threads back (:func:`thread_count` of them)."""
    global _training
    blas = _find_blas()
    if blas:
        blas(thread_count())
    _training = False


def chunks(n: int, parts: int) -> list[tuple[int, int]]:
    """``parts`` contiguous (start, stop) ranges covering 0..n as evenly as possible (none empty).

    Examples
    --------
    >>> chunks(10, 3)
    [(0, 4), (4, 7), (7, 10)]
    >>> chunks(1, 4)
    [(0, 1)]
    """
    parts = max(1, min(parts, n))
    size, extra = divmod(n, parts)
    bounds, start = [], 0
    for i in range(parts):
        stop = start + size + (i < extra)
        bounds.append((start, stop))
        start = stop
    return bounds


def split_count(n: int, min_size: int = 1, threads: int | None = None) -> int:
    """How many slices :func:`parallel` cuts ``range(n)`` into.

    One on one thread, else :data:`SLICES_PER_THREAD` per thread, as long as each keeps
    ``min_size`` items.
    """
    threads = thread_count() if threads is None else threads
    if threads == 1:
        return 1
    return max(1, min(threads * SLICES_PER_THREAD, n // max(1, min_size)))


def parallel(fn: Callable[[int, int], None], n: int, *, gemm: bool = False,
             min_size: int = 1) -> list[tuple[int, int]]:
    """Call ``fn(start, stop)`` on the :func:`chunks` of ``range(n)``; returns them.

    The slices go into one queue that the pool's workers and the caller's thread all take from,
    so a thread the system sets aside for a moment (another busy process) leaves its share to the
    others. The call returns when all are done and re-raises the first exception. ``gemm``: ``fn``
    makes matrix products, so it is split only where each thread can have BLAS to itself.
    ``min_size``: slices smaller than this are not worth a thread (a hand-off costs ~10 µs).
    """
    threads = thread_count()
    blas = _find_blas()
    if gemm and not blas:
        threads = 1
    bounds = chunks(n, split_count(n, min_size, threads))
    if len(bounds) == 1:
        fn(0, n)
        return bounds
    pool = _get_pool(threads - 1)
    gemm = gemm and not _training  # else BLAS is on one thread already
    if gemm:
        blas(1)  # every slice's products on its own thread; set before any worker starts
    for start, stop in bounds:
        pool.tasks.put((fn, start, stop))
    error = None
    taken = 0  # slices this thread took from the queue
    try:
        while True:
            try:
                task = pool.tasks.get_nowait()
            except pool.empty:
                break
            taken += 1
            task[0](task[1], task[2])
    except BaseException as e:  # still wait for the workers: they write into shared buffers
        error = e
    finally:
        for _ in range(len(bounds) - taken):
            got = pool.done.get()
            if got is not None and error is None:
                error = got
        if gemm:
            blas(threads)
    if error is not None:
        raise error
    return bounds
