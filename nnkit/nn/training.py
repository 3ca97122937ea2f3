"""The training loop: batching (full batch, online, mini-batch), epochs, validation, early stopping.

The course's three ways of feeding data (バッチ学習, オンライン学習, ミニバッチ学習) are one
parameter: ``batch_size=None`` uses every sample in each step, ``1`` one sample per step, and any
other number that many. Each epoch shuffles the samples with a seeded generator into one buffer
made at the start, so every batch is a contiguous slice of it (no copy per step) and the same
seed gives the same run.
"""

import math
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext

import numpy as np

from nnkit.errors import NnkitInputError
from nnkit.nn import threads as nn_threads
from nnkit.nn.network import Network
from nnkit.nn.optimizers import Optimizer, make_optimizer


class History(list):
    """The rows of :func:`fit`, one dict per epoch, plus how the run ended.

    Each row has ``epoch`` (1-based), ``loss`` and ``accuracy`` (means over the epoch's training
    batches, as Keras reports them), ``val_loss`` and ``val_accuracy`` (None without validation
    data) and ``seconds`` (wall time of that epoch's shuffling and training steps alone, without
    evaluation).

    Attributes
    ----------
    interrupted : bool
        Ctrl-C ended the run; the rows hold the epochs completed, and the network has the
        weights of the last of them (those of the epoch it stopped in are dropped).
    stopped_early : bool
        Early stopping ended the run before the last epoch.
    best_epoch : int or None
        With early stopping, the epoch whose weights the network holds at the end.
    """

    interrupted: bool = False
    stopped_early: bool = False
    best_epoch: int | None = None


def batch_bounds(n_samples: int, batch_size: int | None) -> list[tuple[int, int]]:
    """``(start, stop)`` of each batch in an epoch; the last one may be shorter.

    Examples
    --------
    >>> batch_bounds(5, 2)
    [(0, 2), (2, 4), (4, 5)]
    >>> batch_bounds(5, None)
    [(0, 5)]
    """
    size = n_samples if batch_size is None else min(int(batch_size), n_samples)
    if size < 1:
        raise NnkitInputError(f"--batch-size must be at least 1, got {batch_size}")
    return [(start, min(start + size, n_samples)) for start in range(0, n_samples, size)]


def diverged(network: Network, xb: np.ndarray, loss: float, epoch: int, batch: int, batches: int) -> NnkitInputError:
    """The error for a loss that became NaN or infinite: when, and which layer's output went first.

    The batch is run again through the weights that gave the bad loss, one layer at a time, to
    name the first layer whose output holds a non-finite value (or none: then the loss itself
    overflowed, e.g. the log of a probability rounded to 0).
    """
    first = None
    h = xb
    with np.errstate(all="ignore"):
        for index, layer in enumerate(network.layers, 1):
            h = layer.forward(h)
            if not np.all(np.isfinite(h)):
                first = f"layer {index} ({type(layer).__name__})"
                break
    cause = (f"the output of {first} was the first to hold a non-finite value" if first
             else "every layer's output was finite: the loss itself overflowed")
    return NnkitInputError(
        f"training diverged: the loss became {loss} in epoch {epoch} (batch {batch} of {batches}); {cause}",
        hint="lower --lr (a tenth of it), standardise the inputs, or try --optimizer adam",
    )


def fit(
    network: Network,
    x: np.ndarray,
    t: np.ndarray,
    *,
    optimizer: Optimizer | str,
    epochs: int,
    batch_size: int | None = None,
    seed: int | None = 0,
    x_val: np.ndarray | None = None,
    t_val: np.ndarray | None = None,
    early_stopping: int | None = None,
    on_epoch: Callable[[dict], None] | None = None,
    on_batch: Callable[[int, int, float], None] | None = None,
    critical: Callable[[], AbstractContextManager] = nullcontext,
    threads: int | None = None,
) -> History:
    """Train ``network`` in place and return one history row per epoch.

    Parameters
    ----------
    network : Network
        Updated in place.
    x : (n_samples, n_features) ndarray
        Training inputs; converted once to the network's dtype.
    t : (n_samples,) or (n_samples, n_outputs) ndarray
        Targets (class indices, one-hot rows, or 0/1 for a sigmoid output).
    optimizer : Optimizer or str
        An optimiser over ``network.parameters()``, or a name in ``OPTIMIZERS`` (default lr).
    epochs : int
        Number of passes over the training data.
    batch_size : int or None
        ``None``: full batch; ``1``: online learning; otherwise mini-batches of this size.
    seed : int or None
        Seed of the per-epoch shuffles (``np.random.default_rng(seed)``).
    x_val, t_val : ndarray, optional
        Validation data, evaluated after each epoch.
    early_stopping : int, optional
        Stop when the validation loss (the training loss without validation data) has not
        improved for this many epochs, and restore the weights of the best epoch.
    on_epoch : callable, optional
        Called with each history row as soon as the epoch ends (progress bars).
    on_batch : callable, optional
        Called after each optimiser step with ``(batch, batches, loss)``: the batch's number in
        the epoch (from 1), the epoch's number of batches and the mean loss of the epoch so far.
        It may raise ``KeyboardInterrupt`` to stop after this batch (as Ctrl-C does).
    critical : callable, optional
        ``critical()`` is a context manager around each epoch's commit (history row, kept weights,
        best epoch); the CLI passes one that holds Ctrl-C back until the commit is whole.
    threads : int, optional
        Threads for the training steps (default: ``NNKIT_THREADS``, else the cores this process
        may use); see :mod:`nnkit.nn.threads`. One thread and several give the same weights to
        float32 rounding.

    Returns
    -------
    History
        A list of row dicts; Ctrl-C ends training cleanly with ``interrupted`` set.

    Raises
    ------
    NnkitInputError
        Bad sizes or settings, or a loss that became NaN or infinite (a learning rate too high).

    Examples
    --------
    >>> from nnkit.nn.stack import build_mlp
    >>> net = build_mlp(2, [], 1, output="sigmoid", dtype=np.float64, rng=0)
    >>> x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
    >>> history = fit(net, x, np.array([0, 1, 1, 1]), optimizer="adam", epochs=3)
    >>> [row["epoch"] for row in history], sorted(history[0])
    ([1, 2, 3], ['accuracy', 'epoch', 'loss', 'seconds', 'val_accuracy', 'val_loss'])
    """
    x, t, bounds = _checked(network, x, t, epochs, early_stopping, x_val, t_val, batch_size)
    if threads is not None:
        nn_threads.set_threads(threads)
    nn_threads.start()  # the pool's workers start here, not at import; BLAS on one thread
    if isinstance(optimizer, str):
        optimizer = make_optimizer(optimizer, network.parameters())
    batches = _Batches(x, t, bounds, seed)
    history = History()
    watch = _EarlyStopping(early_stopping, network)
    # The weights after the last completed epoch: Ctrl-C in the middle of an epoch (or of an
    # optimiser step) goes back to them, so the network matches the history it is reported with.
    completed = network.get_weights()
    try:
        for epoch in range(1, int(epochs) + 1):
            row = _train_epoch(network, optimizer, batches, epoch, on_batch)
            if x_val is not None:
                nn_threads.finish()  # evaluation is not split by nnkit: BLAS gets its threads back
                with np.errstate(over="ignore", invalid="ignore"):
                    row["val_loss"], row["val_accuracy"] = network.evaluate(x_val, t_val)
                nn_threads.start()
            # The history, the kept weights and the best epoch move on together or not at all:
            # a Ctrl-C here is held back until the block ends (the saved model matches the report).
            with critical():
                history.append(row)
                for kept, param in zip(completed, network.parameters(), strict=True):
                    np.copyto(kept, param)
                stop = watch.update(row, history)
                history.stopped_early = stop and epoch < int(epochs)
            if on_epoch is not None:
                on_epoch(row)
            if stop:
                break
    except KeyboardInterrupt:
        history.interrupted = True
        network.set_weights(completed)
    finally:
        nn_threads.finish()
    if watch.best_weights is not None:
        network.set_weights(watch.best_weights)
    return history


def _checked(network, x, t, epochs, early_stopping, x_val, t_val, batch_size):
    """The training data in the network's dtype and the batch bounds, or an input error."""
    if int(epochs) < 1:
        raise NnkitInputError(f"--epochs must be at least 1, got {int(epochs)}")
    if early_stopping is not None and int(early_stopping) < 1:
        raise NnkitInputError(f"--early-stopping must be at least 1, got {early_stopping}")
    x = np.ascontiguousarray(x, dtype=network.dtype)
    t = np.asarray(t)
    n = len(x)
    if n == 0:
        raise NnkitInputError("no training samples")
    if len(t) != n:
        raise NnkitInputError(f"{n} training samples but {len(t)} targets")
    if (x_val is None) != (t_val is None):
        raise NnkitInputError("validation needs both inputs and targets")
    return x, t, batch_bounds(n, batch_size)


class _Batches:
    """An epoch's batches: shuffled with a seeded generator, each gathered into one buffer.

    Each batch is gathered into one preallocated buffer rather than shuffling a copy of the whole
    training set: the same batches, without a second training-set-sized array in memory. A full
    batch sees every sample at once, so its order cannot matter and it is not shuffled.
    """

    def __init__(self, x: np.ndarray, t: np.ndarray, bounds: list[tuple[int, int]], seed):
        self.x, self.t, self.bounds = x, t, bounds
        self.shuffle = len(bounds) > 1
        self.rng = np.random.default_rng(seed)
        if self.shuffle:
            largest = max(stop - start for start, stop in bounds)
            self.x_batch = np.empty((largest, *x.shape[1:]), dtype=x.dtype)
            self.t_batch = np.empty((largest, *t.shape[1:]), dtype=t.dtype)

    def epoch(self):
        """``(inputs, targets)`` of each batch of one epoch."""
        order = self.rng.permutation(len(self.x)) if self.shuffle else None
        for start, stop in self.bounds:
            if not self.shuffle:
                yield self.x[start:stop], self.t[start:stop]
                continue
            rows = order[start:stop]
            # mode="clip" (the indices are in range, so nothing is clipped): with the default
            # "raise", np.take copies through a temporary buffer, ~30× slower.
            yield (np.take(self.x, rows, axis=0, out=self.x_batch[: stop - start], mode="clip"),
                   np.take(self.t, rows, axis=0, out=self.t_batch[: stop - start], mode="clip"))


def _train_epoch(network: Network, optimizer: Optimizer, batches: _Batches, epoch: int, on_batch=None) -> dict:
    """One pass over the batches: the history row (training loss and accuracy, wall time).

    A batch whose loss is not finite stops training at once, naming the epoch, the batch and the
    first layer whose output went non-finite (:func:`diverged`).
    """
    params_grads = network.gradients()
    start_time = time.perf_counter()
    total_loss = 0.0
    total_correct = 0
    seen = 0
    count = len(batches.bounds)
    with np.errstate(over="ignore", invalid="ignore"):
        for number, (xb, tb) in enumerate(batches.epoch(), 1):
            loss, correct = network.train_batch(xb, tb)
            if not math.isfinite(loss):
                raise diverged(network, xb, loss, epoch, number, count)
            optimizer.step(params_grads)
            total_loss += loss * len(xb)
            total_correct += correct
            seen += len(xb)
            if on_batch is not None:
                on_batch(number, count, total_loss / seen)
    n = len(batches.x)
    row = {"epoch": epoch, "loss": total_loss / n, "accuracy": total_correct / n, "val_loss": None,
           "val_accuracy": None, "seconds": time.perf_counter() - start_time}
    if not math.isfinite(row["loss"]):
        raise NnkitInputError(f"training diverged: the loss became {row['loss']} in epoch {epoch}",
                              hint="lower --lr")
    return row


class _EarlyStopping:
    """The best epoch so far (by validation loss, else training loss) and its weights."""

    def __init__(self, patience: int | None, network: Network):
        self.patience = patience
        self.network = network
        self.best_loss = math.inf
        self.best_weights = None
        self.waited = 0

    def update(self, row: dict, history: History) -> bool:
        """Record the epoch ``row``; whether training should stop now."""
        if self.patience is None:
            return False
        watched = row["loss"] if row["val_loss"] is None else row["val_loss"]
        if watched < self.best_loss:
            self.best_loss, self.best_weights, self.waited = watched, self.network.get_weights(), 0
            history.best_epoch = row["epoch"]
            return False
        self.waited += 1
        return self.waited >= int(self.patience)
