"""A Sequential-style network: Dense and activation layers, then a softmax or sigmoid output.

The last ``Dense`` layer produces logits ``z``; the output activation and its loss are fused, as
every serious framework does, because that is both stable and simple to differentiate:

- ``output="softmax"`` (several classes): cross-entropy ``-mean_n log softmax(z_n)[t_n]`` computed
  with ``log_softmax`` (log-sum-exp, no δ); ∂L/∂z = (softmax(z) − onehot(t)) / N.
- ``output="sigmoid"`` (one output per binary label): binary cross-entropy from logits,
  ``mean(max(z, 0) − z·t + log(1 + exp(−|z|)))``, averaged over samples and outputs (Keras's and
  PyTorch's ``BCEWithLogitsLoss`` convention); ∂L/∂z = (sigmoid(z) − t) / (N·K).

Targets ``t`` are class indices of shape (N,) or one-hot/probability rows of shape (N, K) for
softmax, and 0/1 values of shape (N,) or (N, K) for sigmoid.
"""

from collections.abc import Sequence

import numpy as np

from nnkit.errors import NnkitInputError
from nnkit.nn.activations import log_softmax, sigmoid
from nnkit.nn.layers import Activation, Dense

OUTPUTS = ("softmax", "sigmoid")


class Network:
    """Layers applied in order, ending with a ``Dense`` layer whose logits feed the output.

    Any stack of engine layers (``Dense``, ``Activation``, ``Conv2D``, ``MaxPool2D``, ``Flatten``,
    ``Dropout``) works; the multilayer perceptron is the stack of dense and activation layers.

    Parameters
    ----------
    layers : list of layers
        The hidden part and the last (output) ``Dense`` layer.
    output : {"softmax", "sigmoid"}
        Output activation, fused with its loss (see the module docstring).
    input_shape : tuple of int, optional
        One sample's shape without the batch axis, e.g. ``(28, 28, 1)``; by default the first dense
        layer's ``(n_in,)``. A size of None accepts any size along that axis.

    Examples
    --------
    >>> net = Network([Dense(np.array([[2.0], [2.0]]), np.array([-1.0]))], output="sigmoid")
    >>> net.predict_proba(np.array([[0.0, 0.0], [1.0, 1.0]])).round(4)
    array([[0.2689],
           [0.9526]])
    >>> net.predict(np.array([[0.0, 0.0], [1.0, 1.0]]))
    array([0, 1])
    """

    def __init__(self, layers: Sequence, output: str = "softmax", input_shape=None):
        if output not in OUTPUTS:
            raise NnkitInputError(f"output must be one of {', '.join(OUTPUTS)}, got {output!r}")
        if not layers or not isinstance(layers[-1], Dense):
            raise NnkitInputError("a network must end with a Dense layer (its logits feed the output)")
        self.layers = list(layers)
        self.output = output
        # The first layer with weights needs no gradient with respect to its input (the data): its
        # dx is skipped (one matrix product per step), and so is everything before it.
        self._first = next(i for i, layer in enumerate(self.layers) if layer.parameters())
        for layer in self.layers[: self._first + 1]:
            layer.input_gradient = False
        if input_shape is None:
            first = self.layers[self._first]
            if self._first or not isinstance(first, Dense):
                raise NnkitInputError("a network that does not start with a dense layer needs "
                                      "its input_shape")
            input_shape = (first.n_in,)
        self.input_shape = tuple(None if s is None else int(s) for s in input_shape)
        self._run = _execution_order(self.layers)
        # Check the stack once: every layer must accept the shape the one before produces.
        shape = self.input_shape
        if None not in shape:
            for layer in self.layers:
                shape = layer.output_shape(shape)

    # ----- structure -------------------------------------------------------------------------
    @property
    def dense_layers(self) -> list[Dense]:
        return [layer for layer in self.layers if isinstance(layer, Dense)]

    @property
    def sizes(self) -> list[int]:
        """Units per layer, inputs first: ``[n_in, hidden…, n_out]``."""
        dense = self.dense_layers
        return [dense[0].n_in] + [layer.n_out for layer in dense]

    @property
    def activations(self) -> list[str]:
        """Hidden activation names, one per hidden layer."""
        return [layer.name for layer in self.layers if isinstance(layer, Activation)]

    @property
    def dtype(self) -> np.dtype:
        return self.layers[self._first].parameters()[0].dtype

    @property
    def is_mlp(self) -> bool:
        """Only dense and activation layers (what ``train-mlp`` builds)."""
        return all(isinstance(layer, Dense | Activation) for layer in self.layers)

    def configs(self) -> list[dict]:
        """Every layer's ``config()``: the layer list a model file stores beside the weights."""
        return [layer.config() for layer in self.layers]

    def parameters(self) -> list[np.ndarray]:
        """``[W0, b0, W1, b1, …]``: the arrays optimisers update in place."""
        return [p for layer in self.layers for p in layer.parameters()]

    def gradients(self) -> list[np.ndarray]:
        """``[dW0, db0, dW1, db1, …]`` after :meth:`loss_and_gradients`, in parameter order."""
        return [g for layer in self.layers for g in layer.gradients()]

    def get_weights(self) -> list[np.ndarray]:
        """Copies of the parameters (for keeping the best epoch, saving, comparing)."""
        return [p.copy() for p in self.parameters()]

    def set_weights(self, weights: Sequence[np.ndarray]) -> None:
        """Copy ``weights`` (as from :meth:`get_weights`) into the parameters, in place."""
        params = self.parameters()
        if len(weights) != len(params):
            raise NnkitInputError(f"expected {len(params)} weight arrays, got {len(weights)}")
        for p, w in zip(params, weights, strict=True):
            if np.shape(w) != p.shape:
                raise NnkitInputError(f"weight shape {np.shape(w)} does not match {p.shape}")
            p[...] = w

    # ----- inference -------------------------------------------------------------------------
    def logits(self, x: np.ndarray) -> np.ndarray:
        """Output-layer pre-activations: (n_samples, *input_shape) → (n_samples, n_out).

        Image stacks go through in chunks (:meth:`chunk_size`), so that the convolutions' patch
        matrices of a large set need little memory.
        """
        x = self._check_input(x)
        chunk = self.chunk_size()
        if len(x) <= chunk:
            return self._logits(x)
        return np.concatenate([self._logits(x[i : i + chunk]) for i in range(0, len(x), chunk)])

    def _logits(self, h: np.ndarray) -> np.ndarray:
        for layer in self._run:
            h = layer.forward(h)
        return h

    def chunk_size(self, budget: int = 1 << 23) -> int:
        """Samples per inference chunk: about ``budget`` floats of the layer that needs most per sample.

        The MLP's chunk is unlimited (its arrays are small); a conv layer needs its output and its
        patch matrix (``H_out·W_out·kh·kw·C`` floats per sample).
        """
        if self.is_mlp or None in self.input_shape:
            return 1 << 62 if self.is_mlp else 64
        largest = 1
        shape = self.input_shape
        for layer in self.layers:
            largest = max(largest, layer.work_floats(shape))
            shape = layer.output_shape(shape)
        return max(1, budget // largest)

    def forward(self, x: np.ndarray) -> np.ndarray:
        """Output probabilities (n_samples, n_out): softmax rows or sigmoid of each output."""
        z = self.logits(x)
        if self.output == "softmax":
            return np.exp(log_softmax(z, axis=-1)).astype(z.dtype, copy=False)
        return np.asarray(sigmoid(z), dtype=z.dtype)

    predict_proba = forward

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Predicted classes: argmax of the softmax, or ``p ≥ 0.5`` per sigmoid output.

        Returns (n_samples,) integers (or (n_samples, n_out) for several sigmoid outputs).
        """
        z = self.logits(x)
        if self.output == "softmax":
            return np.argmax(z, axis=1)
        labels = (z >= 0).astype(np.int64)
        return labels[:, 0] if labels.shape[1] == 1 else labels

    # ----- loss and gradients ----------------------------------------------------------------
    def loss(self, x: np.ndarray, t: np.ndarray) -> float:
        """Mean loss of the fused output (cross-entropy or binary cross-entropy) over ``x``."""
        z = self.logits(x)
        loss, _, _ = self._loss_and_dz(z, self._check_target(t, len(z)), need_grad=False)
        return loss

    def loss_and_gradients(self, x: np.ndarray, t: np.ndarray) -> float:
        """Mean loss on the batch ``x``; fills every layer's gradients (see :meth:`gradients`)."""
        return self.train_batch(x, t)[0]

    def train_batch(self, x: np.ndarray, t: np.ndarray) -> tuple[float, int]:
        """Forward and backward pass on one batch: returns (mean loss, number correct).

        ``x`` must already have the network's dtype (the trainer converts the data once).
        """
        h = x
        for layer in self._run:
            h = layer.forward(h, training=True)
        t = self._check_target(t, len(x))
        loss, correct, dz = self._loss_and_dz(h, t, need_grad=True)
        grad = dz
        for layer in reversed(self._run[self._first :]):
            # grad is a buffer owned by this pass, so activations may overwrite it.
            is_activation = isinstance(layer, Activation)
            grad = layer.backward(grad, out=grad) if is_activation else layer.backward(grad)
        return loss, correct

    def evaluate(self, x: np.ndarray, t: np.ndarray, batch_size: int | None = None
                 ) -> tuple[float, float]:
        """(mean loss, accuracy) over ``x``, in chunks so large sets need little memory.

        ``batch_size`` defaults to 8192 rows for an MLP and :meth:`chunk_size` for conv stacks.
        """
        if batch_size is None:
            batch_size = min(8192, self.chunk_size())
        n = len(x)
        if n == 0:
            raise NnkitInputError("cannot evaluate on an empty set")
        total_loss = 0.0
        total_correct = 0
        for start in range(0, n, batch_size):
            xb = x[start : start + batch_size]
            z = self.logits(xb)
            tb = self._check_target(t[start : start + batch_size], len(xb))
            loss, correct, _ = self._loss_and_dz(z, tb, need_grad=False)
            total_loss += loss * len(xb)
            total_correct += correct
        return total_loss / n, total_correct / n

    # ----- internals -------------------------------------------------------------------------
    def _check_input(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x)
        shape = self.input_shape
        if len(shape) == 1:
            n_in = shape[0]
            if x.ndim == 1 and n_in == x.shape[0]:
                x = x[np.newaxis, :]
            if x.ndim != 2 or x.shape[1] != n_in:
                raise NnkitInputError(
                    f"the network takes {n_in} input value(s) per sample, got an array of shape "
                    f"{x.shape}")
        else:
            grey = shape[-1] == 1
            if x.ndim == len(shape) - 1 and grey and _fits(x.shape, shape[:-1]):
                x = x[np.newaxis, ..., np.newaxis]  # one grey image (H, W)
            elif x.ndim == len(shape) and grey and _fits(x.shape[1:], shape[:-1]):
                x = x[..., np.newaxis]  # (N, H, W) grey images: add the channel axis
            elif x.ndim == len(shape):
                x = x[np.newaxis]  # one sample
            if x.ndim != len(shape) + 1 or not _fits(x.shape[1:], shape):
                want = "×".join("any" if s is None else str(s) for s in shape)
                raise NnkitInputError(
                    f"the network takes inputs of shape {want} per sample, got an array of shape "
                    f"{x.shape}")
        if x.dtype != self.dtype:
            x = x.astype(self.dtype)
        return x

    def _check_target(self, t: np.ndarray, n: int) -> np.ndarray:
        t = np.asarray(t)
        n_out = self.layers[-1].n_out
        if t.shape[:1] != (n,):
            raise NnkitInputError(f"expected {n} targets, got an array of shape {t.shape}")
        if self.output == "softmax":
            if t.ndim == 1:
                if not np.issubdtype(t.dtype, np.integer):
                    raise NnkitInputError("class targets must be integers 0..K-1")
                if n and (t.min() < 0 or t.max() >= n_out):
                    raise NnkitInputError(f"class targets must lie in 0..{n_out - 1}")
                return t
        elif t.ndim == 1:
            t = t[:, np.newaxis]
        if t.ndim != 2 or t.shape[1] != n_out:
            raise NnkitInputError(f"targets must have shape ({n}, {n_out}), got {t.shape}")
        return t if t.dtype == self.dtype else t.astype(self.dtype)

    def _loss_and_dz(self, z: np.ndarray, t: np.ndarray, need_grad: bool):
        n = len(z)
        if self.output == "softmax":
            logp = np.asarray(log_softmax(z, axis=-1), dtype=z.dtype)
            if t.ndim == 1:
                rows = np.arange(n)
                loss = -float(np.sum(logp[rows, t], dtype=np.float64)) / n
                correct = int(np.count_nonzero(np.argmax(z, axis=1) == t))
                if not need_grad:
                    return loss, correct, None
                dz = np.exp(logp, out=logp)
                dz[rows, t] -= 1
            else:
                loss = -float(np.sum(t * logp, dtype=np.float64)) / n
                correct = int(np.count_nonzero(np.argmax(z, axis=1) == np.argmax(t, axis=1)))
                if not need_grad:
                    return loss, correct, None
                dz = np.exp(logp, out=logp)
                dz -= t
            dz *= 1.0 / n
            return loss, correct, dz
        # Sigmoid + binary cross-entropy from logits: log(1 + e^-|z|) never overflows.
        per = np.maximum(z, 0) - z * t + np.log1p(np.exp(-np.abs(z)))
        loss = float(np.mean(per, dtype=np.float64))
        correct = int(np.count_nonzero(np.all((z >= 0) == (t >= 0.5), axis=1)))
        if not need_grad:
            return loss, correct, None
        dz = np.asarray(sigmoid(z), dtype=z.dtype) - t
        dz *= 1.0 / z.size
        return loss, correct, dz


def _execution_order(layers: list) -> list:
    """The layers in the order they are computed: ``relu → max-pool`` runs as ``max-pool → relu``.

    Both orders give the same values (the maximum of rectified values is the rectified maximum)
    and the same gradients, but after the pooling ReLU and its gradient touch a quarter of the
    values (for 2×2 windows): two passes over the largest arrays of a CNN saved per step.
    """
    run = list(layers)
    for i in range(len(run) - 1):
        a, b = run[i], run[i + 1]
        if isinstance(a, Activation) and a.name == "relu" and b.commutes_with_relu:
            run[i], run[i + 1] = b, a
    # An activation may overwrite its input in training only if that is the training buffer of
    # a layer that computes one (Dense, Conv2D, pooling, another activation), not the batch of
    # data or a view of it that Flatten or Dropout passes on.
    for i, layer in enumerate(run):
        if isinstance(layer, Activation):
            layer.in_place = i > 0 and not run[i - 1].passes_views
    return run


def _fits(shape, want) -> bool:
    return len(shape) == len(want) and all(w is None or s == w for s, w in zip(shape, want, strict=True))
