"""One training step of a small dense network, written out: the course's 2-2 (順伝播 → 損失 → 逆伝播 → 更新).

The network is the engine's multilayer perceptron: dense layers ``z = h·W + b`` with a hidden
activation ``h = a(z)``, and a last dense layer whose output is fused with its loss, as the engine
trains it (docs/design.md): a sigmoid with binary cross-entropy for one 0/1 target per sample, a
softmax with cross-entropy for class indices. Everything here is float64 and spelled out so that
each number of the chain rule can be printed:

- forward: each layer's ``z`` and ``h``, then the output ``y`` and the mean loss ``L``;
- backward: the output's ``δ = ∂L/∂z = (y − t)/N`` (divided by the number of outputs too for the
  sigmoid), then for each hidden layer ``∂L/∂h = δ_next·W_nextᵀ`` and ``δ = ∂L/∂h · a'(z)``;
- gradients: ``∂L/∂W[i, j] = Σ_n h_prev[n, i]·δ[n, j]`` and ``∂L/∂b[j] = Σ_n δ[n, j]``;
- update: the engine's own optimizer object steps the weights with those gradients.
"""

from __future__ import annotations

import numpy as np

from nnkit.errors import NnkitInputError
from nnkit.nn.activations import ACTIVATIONS, sigmoid, softmax
from nnkit.nn.optimizers import make_optimizer

#: Parameters beyond which the central-difference check is skipped (two forward passes each).
NUMERICAL_CHECK_LIMIT = 2000
#: The step of the central differences (float64: the error is ~1e-10 for these smooth functions).
CENTRAL_STEP = 1e-6


def forward(weights: list[tuple[np.ndarray, np.ndarray]], activations: list[str], output: str, x: np.ndarray):
    """Run the network; returns ``(zs, hs, y)``: every layer's pre-activation and output, and ``y``.

    ``hs[0]`` is the input; ``hs[l + 1] = a(zs[l])`` for the hidden layers; the last ``z`` feeds
    the output activation ``y``.

    Examples
    --------
    >>> zs, hs, y = forward([(np.array([[2.0], [2.0]]), np.array([-1.0]))], [], "sigmoid",
    ...                     np.array([[0.0, 0.0], [1.0, 1.0]]))
    >>> zs[0].ravel().tolist(), y.ravel().round(4).tolist()
    ([-1.0, 3.0], [0.2689, 0.9526])
    """
    zs, hs = [], [x]
    for k, (W, b) in enumerate(weights):
        z = hs[-1] @ W + b
        zs.append(z)
        if k < len(activations):
            hs.append(np.asarray(ACTIVATIONS[activations[k]].fn(z), dtype=np.float64))
    y = sigmoid(zs[-1]) if output == "sigmoid" else softmax(zs[-1], axis=-1)
    return zs, hs, np.asarray(y, dtype=np.float64)


def targets_as_rows(t: np.ndarray, output: str, n_out: int) -> np.ndarray:
    """Targets as an (N, K) array: 0/1 columns for the sigmoid, one-hot rows for the softmax."""
    t = np.asarray(t)
    if output == "sigmoid":
        return t.reshape(len(t), -1).astype(np.float64)
    return np.eye(n_out)[t.astype(np.int64)]


def loss_of(y: np.ndarray, t_rows: np.ndarray, output: str, z: np.ndarray) -> float:
    """The mean loss the engine trains with, from the logits ``z`` (stable, as the engine computes it).

    Sigmoid: ``mean(max(z, 0) − z·t + log(1 + e^−|z|))`` over samples and outputs; softmax:
    ``−mean_n Σ_k t·log softmax(z)``.
    """
    if output == "sigmoid":
        return float(np.mean(np.maximum(z, 0) - z * t_rows + np.log1p(np.exp(-np.abs(z)))))
    shifted = z - z.max(axis=1, keepdims=True)
    log_y = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return float(-np.sum(t_rows * log_y) / len(z))


def network_loss(weights, activations, output, x, t_rows) -> float:
    """``L`` of the whole network on ``(x, t)``."""
    zs, _, y = forward(weights, activations, output, x)
    return loss_of(y, t_rows, output, zs[-1])


def walk(weights, activations: list[str], output: str, x: np.ndarray, t_rows: np.ndarray) -> dict:
    """Forward, loss and backward of one step; nothing is changed.

    Returns
    -------
    dict
        ``zs``, ``hs``, ``y``, ``loss``; ``dL_dh`` (per layer: ∂L/∂(its output), the output layer's
        being ∂L/∂y), ``derivative`` (a'(z), the output's ∂y/∂z diagonal for the sigmoid; None for
        the softmax), ``delta`` (∂L/∂z per layer), ``grads`` (``[(dW, db)…]``).
    """
    zs, hs, y = forward(weights, activations, output, x)
    n, k = y.shape
    loss = loss_of(y, t_rows, output, zs[-1])
    n_layers = len(weights)
    deltas: list = [None] * n_layers
    dL_dh: list = [None] * n_layers
    derivative: list = [None] * n_layers
    if output == "sigmoid":
        # ∂L/∂y of binary cross-entropy (mean over N·K) times ∂y/∂z = y(1 − y): (y − t)/(N·K)
        derivative[-1] = y * (1.0 - y)
        with np.errstate(divide="ignore", invalid="ignore"):
            dL_dh[-1] = (y - t_rows) / (y * (1.0 - y)) / (n * k)
        deltas[-1] = (y - t_rows) / (n * k)
    else:
        dL_dh[-1] = -t_rows / np.where(y > 0, y, np.inf) / n + 0.0  # + 0.0: no −0 where t = 0
        deltas[-1] = (y - t_rows) / n
    for layer in range(n_layers - 2, -1, -1):
        dL_dh[layer] = deltas[layer + 1] @ weights[layer + 1][0].T
        derivative[layer] = np.asarray(ACTIVATIONS[activations[layer]].grad(zs[layer]), dtype=np.float64)
        deltas[layer] = dL_dh[layer] * derivative[layer]
    grads = [(hs[layer].T @ deltas[layer], deltas[layer].sum(axis=0)) for layer in range(n_layers)]
    return {"zs": zs, "hs": hs, "y": y, "loss": loss, "dL_dh": dL_dh, "derivative": derivative,
            "delta": deltas, "grads": grads}


def central_differences(weights, activations, output, x, t_rows, h: float = CENTRAL_STEP) -> list:
    """``(L(w + h) − L(w − h)) / 2h`` for every weight and bias, as ``[(dW, db)…]`` (float64)."""
    result = []
    for W, b in weights:
        pair = []
        for array in (W, b):
            grad = np.empty_like(array)
            for index in np.ndindex(array.shape):
                kept = array[index]
                array[index] = kept + h
                up = network_loss(weights, activations, output, x, t_rows)
                array[index] = kept - h
                down = network_loss(weights, activations, output, x, t_rows)
                array[index] = kept
                grad[index] = (up - down) / (2 * h)
            pair.append(grad)
        result.append(tuple(pair))
    return result


def train_steps(weights, activations: list[str], output: str, x, t, optimizer: str, lr: float, steps: int,
                numerical: bool = True) -> dict:
    """Walk ``steps`` training steps; the first is returned in full, the loss of every one.

    Parameters
    ----------
    weights : list of (W, b)
        The starting weights, float64 (copied: the caller's arrays are left as they are).
    activations : list of str
        The hidden layers' activations (one fewer than the dense layers).
    output : {"sigmoid", "softmax"}
    x : (N, n_in) ndarray
    t : (N,) or (N, K) ndarray
        0/1 targets (sigmoid) or class indices (softmax).
    optimizer, lr : the engine optimizer that updates the weights.
    steps : int
        Steps of full-batch training (at least 1).
    numerical : bool
        Also compute the central-difference gradients of the first step (small networks only).

    Returns
    -------
    dict
        ``first`` (:func:`walk` of step 1, with ``before``, ``after`` and ``numerical`` gradients),
        ``losses`` (the loss before each step, then after the last), ``weights`` (the final ones).
    """
    if steps < 1:
        raise NnkitInputError(f"--steps must be at least 1, got {steps}")
    weights = [(np.array(W, dtype=np.float64), np.array(b, dtype=np.float64)) for W, b in weights]
    x = np.asarray(x, dtype=np.float64)
    t_rows = targets_as_rows(t, output, weights[-1][0].shape[1])
    params = [array for pair in weights for array in pair]
    opt = make_optimizer(optimizer, params, lr=lr)
    first = None
    losses = []
    for step in range(steps):
        state = walk(weights, activations, output, x, t_rows)
        losses.append(state["loss"])
        if step == 0:
            first = state
            first["before"] = [(W.copy(), b.copy()) for W, b in weights]
            n_params = sum(p.size for p in params)
            first["numerical"] = (central_differences(weights, activations, output, x, t_rows)
                                  if numerical and n_params <= NUMERICAL_CHECK_LIMIT else None)
        opt.step([g for pair in state["grads"] for g in pair])
        if step == 0:
            first["after"] = [(W.copy(), b.copy()) for W, b in weights]
        if not all(np.isfinite(p).all() for p in params):
            raise NnkitInputError(f"the weights overflowed at step {step + 1} with lr {lr:g}: lower --lr")
    losses.append(network_loss(weights, activations, output, x, t_rows))
    return {"first": first, "losses": losses, "weights": weights, "optimizer": opt}
