"""nnkit's thread pool: slices, BLAS's count, and training on one thread vs two (same weights)."""

import threading

import numpy as np
import pytest

from nnkit.errors import NnkitInputError
from nnkit.nn import kernels, threads
from nnkit.nn.stack import build_network
from nnkit.nn.training import fit

CNN = [
    {"type": "conv2d", "filters": 4, "kernel": 3, "activation": "relu"},
    {"type": "maxpool2d", "size": 2},
    {"type": "conv2d", "filters": 8, "kernel": 3, "activation": "relu"},
    {"type": "maxpool2d", "size": 2},
    {"type": "flatten"},
    {"type": "dense", "units": 16, "activation": "relu"},
    {"type": "dense", "units": 3, "activation": "softmax"},
]


@pytest.fixture
def every_slice(monkeypatch):
    """Split even tiny arrays (the tests' data are far below the size worth a thread)."""
    monkeypatch.setattr(kernels, "MIN_SLICE_VALUES", 1)
    yield
    threads.set_threads(None)


def test_chunks_cover_the_range_evenly():
    assert threads.chunks(10, 3) == [(0, 4), (4, 7), (7, 10)]
    assert threads.chunks(2, 5) == [(0, 1), (1, 2)]
    assert threads.chunks(7, 1) == [(0, 7)]


def test_thread_count_follows_the_environment_then_the_cores(monkeypatch):
    monkeypatch.setattr(threads, "_requested", None)
    monkeypatch.setenv(threads.ENV, "3")
    assert threads.thread_count() == 3
    monkeypatch.delenv(threads.ENV)
    import os

    assert threads.thread_count() == len(os.sched_getaffinity(0))
    threads.set_threads(5)
    assert threads.thread_count() == 5
    threads.set_threads(None)
    for bad in ("0", "two", "-1"):
        monkeypatch.setenv(threads.ENV, bad)
        with pytest.raises(NnkitInputError, match=threads.ENV):
            threads.thread_count()


def test_parallel_runs_slices_on_separate_threads_and_raises_their_errors(every_slice):
    threads.set_threads(2)
    seen = {}
    # Each slice waits until a second thread reaches the barrier: only two threads working at
    # once get through (one thread alone would time out).
    barrier = threading.Barrier(2, timeout=10)

    def record(start, stop):
        barrier.wait()
        seen[(start, stop)] = threading.current_thread().name

    bounds = threads.parallel(record, 10)
    assert bounds == threads.chunks(10, 2 * threads.SLICES_PER_THREAD)
    assert sorted(seen) == bounds
    assert len(set(seen.values())) == 2
    assert any(name.startswith("nnkit-") for name in seen.values())

    def fail(start, stop):
        if start:
            raise ValueError("worker failed")

    with pytest.raises(ValueError, match="worker failed"):
        threads.parallel(fail, 10)
    threads.set_threads(1)
    assert threads.parallel(lambda a, b: None, 10) == [(0, 10)]  # one thread: one slice
    threads.set_threads(2)
    barrier.reset()
    seen.clear()
    threads.parallel(record, 4)  # the pool still works after a worker's error
    assert len(seen) == 4


def test_blas_is_found_and_set_back_after_training():
    """NumPy's OpenBLAS is found, and fit leaves it with thread_count() threads."""
    assert threads.blas_control()
    import ctypes

    with open("/proc/self/maps") as maps:
        path = next(line.split()[-1] for line in maps if "openblas" in line and "numpy" in line)
    lib = ctypes.CDLL(path)
    get = getattr(lib, "scipy_openblas_get_num_threads64_", None) or lib.openblas_get_num_threads
    threads.set_threads(2)
    try:
        net = build_network(CNN[-2:], (5,), seed=0)
        x = np.random.default_rng(0).random((8, 5), dtype=np.float32)
        fit(net, x, np.arange(8) % 3, optimizer="sgd", epochs=1, batch_size=4)
        assert get() == 2
    finally:
        threads.set_threads(None)


def _train(n_threads, optimizer="rmsprop-keras"):
    rng = np.random.default_rng(1)
    x = rng.random((96, 14, 14, 1), dtype=np.float32)
    t = rng.integers(0, 3, 96)
    net = build_network(CNN, (14, 14, 1), seed=0, init="keras")
    history = fit(net, x, t, optimizer=optimizer, epochs=2, batch_size=32, seed=0,
                  threads=n_threads)
    return net.get_weights(), [row["loss"] for row in history]


@pytest.mark.parametrize("optimizer", ["rmsprop-keras", "adam"])
def test_one_thread_and_two_give_the_same_weights_to_float32_rounding(every_slice, optimizer):
    one, loss_one = _train(1, optimizer)
    two, loss_two = _train(2, optimizer)
    # Six steps: the only difference is the order in which the weight gradients' partial sums
    # over the two halves of each batch are added (float32 rounding, ~1e-7 relative).
    for a, b in zip(one, two, strict=True):
        np.testing.assert_allclose(b, a, rtol=2e-5, atol=2e-6)
    np.testing.assert_allclose(loss_two, loss_one, rtol=1e-5)
    # ... and they did differ somewhere: two threads really summed two partial gradients
    assert any(not np.array_equal(a, b) for a, b in zip(one, two, strict=True))


def test_same_seed_same_model_on_two_threads(every_slice):
    first, _ = _train(2)
    again, _ = _train(2)
    for a, b in zip(first, again, strict=True):
        np.testing.assert_array_equal(a, b)


def test_split_kernels_match_the_whole_batch_pass(every_slice):
    """Each pass split over three threads equals the pass over the whole batch."""
    threads.set_threads(3)
    rng = np.random.default_rng(2)
    a = rng.standard_normal((30, 7)).astype(np.float32)
    b = rng.standard_normal((7, 5)).astype(np.float32)
    out = np.empty((30, 5), np.float32)
    kernels.split(kernels.rows_product, 30, a, b, out, gemm=True)
    np.testing.assert_array_equal(out, a @ b)
    d = rng.standard_normal((30, 5)).astype(np.float32)
    dw = np.empty((7, 5), np.float32)
    kernels.weight_gradient(a, d, dw, {}, rows_per_item=3)
    np.testing.assert_allclose(dw, a.T.astype(np.float64) @ d, rtol=1e-5, atol=1e-5)
    y = rng.standard_normal((30, 4)).astype(np.float32)
    relu = np.empty_like(y)
    kernels.split(kernels.relu, 30, y, relu)
    np.testing.assert_array_equal(relu, np.maximum(y, 0))
    grad = np.empty_like(y)
    kernels.split(kernels.relu_backward, 30, d[:, :4], relu, grad)
    np.testing.assert_array_equal(grad, d[:, :4] * (relu > 0))
