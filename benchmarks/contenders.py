"""What train_cnn.py and train_mlp.py share: the contenders' interpreters, their environment,
which BLAS kernel ran, Keras's epoch timer, and the busy neighbour.

PyTorch and Keras/TensorFlow are benchmark-only: each may live in its own virtual environment,
given with ``--torch-python`` / ``--keras-python`` (or BENCH_TORCH_PYTHON / BENCH_KERAS_PYTHON);
without one, the benchmark's own interpreter is tried. Such an environment needs NumPy beside
the framework, nothing of nnkit (the data are made without it when nnkit is not importable).
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import subprocess
import sys
import time


def blas_info() -> str:
    """OpenBLAS's configuration and the kernel (core) it chose, from the copy NumPy loaded."""
    import numpy  # noqa: F401  (loads its BLAS)

    with open("/proc/self/maps") as maps:
        paths = sorted({line.split()[-1] for line in maps
                        if "openblas" in line.lower() and "numpy" in line})
    for path in paths:
        lib = ctypes.CDLL(path)
        for prefix in ("scipy_openblas_", "openblas_"):
            for suffix in ("64_", ""):
                config = getattr(lib, f"{prefix}get_config{suffix}", None)
                core = getattr(lib, f"{prefix}get_corename{suffix}", None)
                if config is not None and core is not None:
                    config.restype = core.restype = ctypes.c_char_p
                    return f"{config().decode()}; kernel {core().decode()}"
    return "OpenBLAS not found"


def add_options(parser) -> None:
    parser.add_argument("--torch-python", default=os.environ.get("BENCH_TORCH_PYTHON"),
                        help="interpreter of a venv with torch (default: this one)")
    parser.add_argument("--keras-python", default=os.environ.get("BENCH_KERAS_PYTHON"),
                        help="interpreter of a venv with tensorflow (default: this one)")
    parser.add_argument("--busy", action="store_true",
                        help="run one CPU-bound process beside every contender (a busy neighbour)")


def interpreter(name: str, args) -> str:
    return {"torch": args.torch_python, "keras": args.keras_python}.get(name) or sys.executable


def worker_env(threads: int) -> dict:
    """The workers' environment: this machine's OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE removed (so
    OpenBLAS picks its own kernel) and every library told the same thread count."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")}
    env.update(OPENBLAS_NUM_THREADS=str(threads), OMP_NUM_THREADS=str(threads),
               MKL_NUM_THREADS=str(threads), NNKIT_THREADS=str(threads),
               BENCH_THREADS=str(threads), TF_CPP_MIN_LOG_LEVEL="2")
    return env


@contextlib.contextmanager
def neighbour(busy: bool):
    """One CPU-bound process (a pure-Python loop, like a learner's busy browser tab) while the
    block runs, when ``busy``."""
    if not busy:
        yield
        return
    proc = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(0.2)
        yield
    finally:
        proc.kill()
        proc.wait()


def keras_threads():
    """TensorFlow on BENCH_THREADS threads (inside one op and across ops), before any op runs."""
    import tensorflow as tf

    threads = int(os.environ.get("BENCH_THREADS", "2"))
    tf.config.threading.set_intra_op_parallelism_threads(threads)
    tf.config.threading.set_inter_op_parallelism_threads(threads)
    return threads


def keras_epoch_timer():
    """A Keras callback recording each epoch's wall and CPU time (the first one traces the graph)."""
    import keras

    class Timer(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.wall, self.cpu = [], []

        def on_epoch_begin(self, epoch, logs=None):
            self._start = (time.perf_counter(), time.process_time())

        def on_epoch_end(self, epoch, logs=None):
            self.wall.append(time.perf_counter() - self._start[0])
            self.cpu.append(time.process_time() - self._start[1])

    return Timer()
