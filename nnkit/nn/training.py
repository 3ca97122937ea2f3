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
    critical: Callable[[], AbstractContextManager] = nullcontext,
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
    critical : callable, optional
        ``critical()`` is a context manager around each epoch's commit (history row, kept weights,
        best epoch); the CLI passes one that holds Ctrl-C back until the commit is whole.

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
    epochs = int(epochs)
    if epochs < 1:
        raise NnkitInputError(f"--epochs must be at least 1, got {epochs}")
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
    bounds = batch_bounds(n, batch_size)
    if isinstance(optimizer, str):
        optimizer = make_optimizer(optimizer, network.parameters())
    params_grads = network.gradients()

    shuffle = len(bounds) > 1  # a full batch sees every sample at once: order cannot matter
    rng = np.random.default_rng(seed)
    if shuffle:
        # Each batch is gathered into one preallocated buffer rather than shuffling a copy of the
        # whole training set: the same batches, without a second training-set-sized array in memory.
        largest = max(stop - start for start, stop in bounds)
        x_batch = np.empty((largest, *x.shape[1:]), dtype=x.dtype)
        t_batch = np.empty((largest, *t.shape[1:]), dtype=t.dtype)

    history = History()
    # The weights after the last completed epoch: Ctrl-C in the middle of an epoch (or of an
    # optimiser step) goes back to them, so the network matches the history it is reported with.
    completed = network.get_weights()
    best_loss = math.inf
    best_weights = None
    waited = 0
    try:
        for epoch in range(1, epochs + 1):
            start_time = time.perf_counter()
            order = rng.permutation(n) if shuffle else None
            total_loss = 0.0
            total_correct = 0
            with np.errstate(over="ignore", invalid="ignore"):
                for start, stop in bounds:
                    if shuffle:
                        rows = order[start:stop]
                        # mode="clip" (the indices are in range, so nothing is clipped): with the
                        # default "raise", np.take copies through a temporary buffer, ~30× slower.
                        xb = np.take(x, rows, axis=0, out=x_batch[: stop - start], mode="clip")
                        tb = np.take(t, rows, axis=0, out=t_batch[: stop - start], mode="clip")
                    else:
                        xb, tb = x[start:stop], t[start:stop]
                    loss, correct = network.train_batch(xb, tb)
                    optimizer.step(params_grads)
                    total_loss += loss * (stop - start)
                    total_correct += correct
            seconds = time.perf_counter() - start_time
            row = {
                "epoch": epoch,
                "loss": total_loss / n,
                "accuracy": total_correct / n,
                "val_loss": None,
                "val_accuracy": None,
                "seconds": seconds,
            }
            if not math.isfinite(row["loss"]):
                raise NnkitInputError(
                    f"training diverged: the loss became {row['loss']} in epoch {epoch}",
                    hint="lower --lr",
                )
            if x_val is not None:
                with np.errstate(over="ignore", invalid="ignore"):
                    row["val_loss"], row["val_accuracy"] = network.evaluate(x_val, t_val)
            # The history, the kept weights and the best epoch move on together or not at all:
            # a Ctrl-C here is held back until the block ends (the saved model matches the report).
            with critical():
                history.append(row)
                for kept, param in zip(completed, network.parameters(), strict=True):
                    np.copyto(kept, param)
                stop = False
                if early_stopping is not None:
                    watched = row["loss"] if row["val_loss"] is None else row["val_loss"]
                    if watched < best_loss:
                        best_loss, best_weights, waited = watched, network.get_weights(), 0
                        history.best_epoch = epoch
                    else:
                        waited += 1
                        if waited >= early_stopping:
                            history.stopped_early = epoch < epochs
                            stop = True
            if on_epoch is not None:
                on_epoch(row)
            if stop:
                break
    except KeyboardInterrupt:
        history.interrupted = True
        network.set_weights(completed)
    if best_weights is not None:
        network.set_weights(best_weights)
    return history
