"""Two-input logic gates: truth tables, naming what a unit computes, the course's wired XOR network.

The course (§2-3, 隠れ層の意義) shows that XOR is not linearly separable and builds it from gates:
``s1 = NAND(x1, x2)``, ``s2 = OR(x1, x2)``, ``y = AND(s1, s2)``. This module holds the gates'
truth tables, a way to read a trained unit as a gate (threshold it on the four inputs and look the
four bits up), and that hand-wired network with step units.

Truth tables list the outputs for the inputs in the order (0, 0), (0, 1), (1, 0), (1, 1).
"""

import numpy as np

from nnkit.errors import NnkitInputError, at_least_one
from nnkit.nn.activations import ACTIVATIONS
from nnkit.nn.layers import Activation, Dense
from nnkit.nn.network import Network
from nnkit.nn.optimizers import OPTIMIZERS, make_optimizer
from nnkit.nn.training import History, fit

#: The four input rows (x1, x2), in truth-table order.
INPUTS = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float64)

#: The gates ``train-xor`` can learn, with their truth tables.
GATES: dict[str, tuple[int, int, int, int]] = {
    "xor": (0, 1, 1, 0),
    "xnor": (1, 0, 0, 1),
    "and": (0, 0, 0, 1),
    "or": (0, 1, 1, 1),
    "nand": (1, 1, 1, 0),
    "nor": (1, 0, 0, 0),
}

#: Every non-constant function of two bits, as a template over the input names ``{a}``, ``{b}``.
_FUNCTIONS: dict[tuple[int, int, int, int], str] = {
    (0, 0, 0, 1): "AND({a}, {b})",
    (0, 0, 1, 0): "{a} AND NOT({b})",
    (0, 0, 1, 1): "{a}",
    (0, 1, 0, 0): "NOT({a}) AND {b}",
    (0, 1, 0, 1): "{b}",
    (0, 1, 1, 0): "XOR({a}, {b})",
    (0, 1, 1, 1): "OR({a}, {b})",
    (1, 0, 0, 0): "NOR({a}, {b})",
    (1, 0, 0, 1): "XNOR({a}, {b})",
    (1, 0, 1, 0): "NOT({b})",
    (1, 0, 1, 1): "{a} OR NOT({b})",
    (1, 1, 0, 0): "NOT({a})",
    (1, 1, 0, 1): "NOT({a}) OR {b}",
    (1, 1, 1, 0): "NAND({a}, {b})",
}

#: The course's hand-built network (weights and biases of Saitoh's perceptron gates), step units.
WIRED = {
    "hidden_W": np.array([[-0.5, 0.5], [-0.5, 0.5]]),  # column 0: s1 = NAND, column 1: s2 = OR
    "hidden_b": np.array([0.7, -0.2]),
    "output_W": np.array([[0.5], [0.5]]),  # y = AND(s1, s2)
    "output_b": np.array([-0.7]),
}


#: The course's own gates (2-3: "w はすべて1", every weight 1): a unit adds its inputs and compares
#: the sum with a threshold. OR and AND fire when the sum is above theirs; NAND and NOT fire when it
#: is below (in the form ``w·x + b > 0`` that is weight −1 and bias = the threshold: a unit that
#: only adds with weights 1 can only grow with its inputs, and NOT must fall). Thresholds lie halfway
#: between the sums that must be told apart, so no sum ever sits on one.
ONES_GATES: dict[str, tuple[int, float, str]] = {  # gate → (inputs, threshold, fires when the sum is …)
    "NOT": (1, 0.5, "below"),
    "OR": (2, 0.5, "above"),
    "AND": (2, 1.5, "above"),
    "NAND": (2, 1.5, "below"),
}


def ones_gate(name: str, *inputs) -> np.ndarray:
    """One of :data:`ONES_GATES` on 0/1 inputs (arrays of any one shape): 1 where it fires.

    Examples
    --------
    >>> a, b = INPUTS.T
    >>> [ones_gate(g, a, b).tolist() for g in ("OR", "AND", "NAND")]
    [[0.0, 1.0, 1.0, 1.0], [0.0, 0.0, 0.0, 1.0], [1.0, 1.0, 1.0, 0.0]]
    >>> ones_gate("NOT", b).tolist()
    [1.0, 0.0, 1.0, 0.0]
    """
    n_inputs, threshold, side = ONES_GATES[name]
    if len(inputs) != n_inputs:
        raise NnkitInputError(f"{name} takes {n_inputs} input(s), got {len(inputs)}")
    total = sum(1.0 * np.asarray(v, dtype=np.float64) for v in inputs)  # every weight 1
    fires = total > threshold if side == "above" else total < threshold
    return fires.astype(np.float64)


def ones_forward(x: np.ndarray = INPUTS) -> tuple[np.ndarray, np.ndarray]:
    """The course's XOR from gates with every weight 1: ``s1 = NAND``, ``s2 = OR``, ``y = AND(s1, s2)``.

    Returns ``(s, y)`` as :func:`wired_forward` does.

    Examples
    --------
    >>> s, y = ones_forward()
    >>> s.T.tolist(), y.tolist()
    ([[1.0, 1.0, 1.0, 0.0], [0.0, 1.0, 1.0, 1.0]], [0.0, 1.0, 1.0, 0.0])
    """
    x = np.asarray(x, dtype=np.float64)
    s = np.column_stack([ones_gate("NAND", x[:, 0], x[:, 1]), ones_gate("OR", x[:, 0], x[:, 1])])
    return s, ones_gate("AND", s[:, 0], s[:, 1])


#: ``train-xor``'s defaults. Measured over seeds 0–99, these learn XOR 4/4 for at least 95 of them
#: (tests/course/test_logic_gates.py checks a sample; the README gives the full count).
XOR_ACTIVATION = "sigmoid"
XOR_OPTIMIZER = "sgd"
XOR_EPOCHS = 2000
#: Learning rate of each optimiser on the four-sample gates (full batch, so much larger than the
#: per-optimiser defaults for mini-batches of real data).
XOR_LR = {"sgd": 5.0, "momentum": 0.5, "adagrad": 0.5, "rmsprop": 0.05, "adam": 0.05}
#: How each hidden activation starts: (weight range, hidden-bias range), both uniform. For sigmoid,
#: the classic backprop start: small weights, and biases wide enough to place each hidden unit's
#: line anywhere across the unit square (zero biases put every line through (0, 0), from where a
#: 2-2-1 network often saturates into a plateau and misses one of the four points). tanh(z) =
#: 2·sigmoid(2z) − 1, so a tanh unit starts where a sigmoid unit would with half the numbers. A
#: ReLU unit with a negative bias may be off on all four inputs and never learn: positive biases.
XOR_INIT: dict[str, tuple[float, tuple[float, float]]] = {
    "sigmoid": (0.2, (-4.0, 4.0)),
    "tanh": (0.1, (-2.0, 2.0)),
    "relu": (1.0, (0.0, 0.5)),
}
#: ReLU units do not saturate, so they take a tenth of the learning rate (sgd 5 makes them die).
XOR_LR_SCALE = {"relu": 0.1}


def xor_lr(optimizer: str, activation: str) -> float:
    """``train-xor``'s default learning rate for an optimiser and hidden activation.

    Examples
    --------
    >>> xor_lr("sgd", "sigmoid"), xor_lr("sgd", "relu")
    (5.0, 0.5)
    """
    return XOR_LR[optimizer] * XOR_LR_SCALE.get(activation, 1.0)


def truth_table(gate: str) -> tuple[np.ndarray, np.ndarray]:
    """Inputs (4, 2) and targets (4,) of a gate.

    Examples
    --------
    >>> x, t = truth_table("xor")
    >>> x.tolist(), t.tolist()
    ([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]], [0, 1, 1, 0])
    """
    key = gate.lower()
    if key not in GATES:
        raise NnkitInputError(f"unknown gate {gate!r}", hint=f"choose one of: {', '.join(GATES)}")
    return INPUTS.copy(), np.array(GATES[key], dtype=np.int64)


def is_linearly_separable(gate: str) -> bool:
    """Whether one straight line separates the gate's 0s from its 1s (all but XOR and XNOR).

    Examples
    --------
    >>> is_linearly_separable("and"), is_linearly_separable("xor")
    (True, False)
    """
    return truth_table(gate)[1].tolist() not in ([0, 1, 1, 0], [1, 0, 0, 1])


def gate_expression(bits, a: str = "x1", b: str = "x2") -> str | None:
    """Name the function a unit computes from its four output bits; None for a constant.

    Parameters
    ----------
    bits : sequence of 4 bools or 0/1
        The unit's outputs for (a, b) = (0, 0), (0, 1), (1, 0), (1, 1).
    a, b : str
        Names of the two inputs.

    Examples
    --------
    >>> gate_expression([1, 1, 1, 0])
    'NAND(x1, x2)'
    >>> gate_expression([0, 0, 0, 1], "h1", "h2")
    'AND(h1, h2)'
    >>> gate_expression([0, 0, 1, 1]), gate_expression([1, 1, 1, 1])
    ('x1', None)
    """
    key = tuple(int(bool(v)) for v in bits)
    if len(key) != 4:
        raise NnkitInputError(f"a two-input truth table has 4 rows, got {len(key)}")
    template = _FUNCTIONS.get(key)
    return None if template is None else template.format(a=a, b=b)


def gate_name(bits) -> str | None:
    """Short name: ``"NAND"`` for the six named gates, the expression otherwise, None if constant.

    Examples
    --------
    >>> gate_name([0, 1, 1, 1]), gate_name([0, 0, 1, 0]), gate_name([0, 0, 0, 0])
    ('OR', 'x1 AND NOT(x2)', None)
    """
    expression = gate_expression(bits)
    if expression is None:
        return None
    return expression.split("(")[0] if expression.endswith("(x1, x2)") else expression


def wired_forward(x: np.ndarray = INPUTS) -> tuple[np.ndarray, np.ndarray]:
    """Run the course's wired XOR network with step units.

    Parameters
    ----------
    x : (n, 2) ndarray
        Inputs (the four truth-table rows by default).

    Returns
    -------
    s : (n, 2) ndarray
        Hidden units ``s1 = NAND(x1, x2)`` and ``s2 = OR(x1, x2)``.
    y : (n,) ndarray
        ``AND(s1, s2)``, which is ``XOR(x1, x2)``.

    Examples
    --------
    >>> s, y = wired_forward()
    >>> s.T.tolist(), y.tolist()
    ([[1.0, 1.0, 1.0, 0.0], [0.0, 1.0, 1.0, 1.0]], [0.0, 1.0, 1.0, 0.0])
    """
    step = ACTIVATIONS["step"].fn
    s = step(np.asarray(x, dtype=np.float64) @ WIRED["hidden_W"] + WIRED["hidden_b"])
    y = step(s @ WIRED["output_W"] + WIRED["output_b"])
    return s, y[:, 0]


def hidden_bits(network, x: np.ndarray = INPUTS) -> np.ndarray:
    """Each first-hidden-layer unit thresholded on ``x``: (n, H) of 0/1.

    A unit is "on" where its pre-activation is positive: that is sigmoid > 0.5, tanh > 0 and
    ReLU > 0 alike, so one rule reads every hidden activation.
    """
    first = network.dense_layers[0]
    return (np.asarray(x, dtype=first.W.dtype) @ first.W + first.b > 0).astype(np.int64)


def hidden_outputs(network, x: np.ndarray = INPUTS) -> np.ndarray:
    """The first hidden layer's outputs ``h = a(x·W + b)``, (n, H): where the hidden layer puts each row.

    Examples
    --------
    >>> from nnkit.nn.layers import Activation, Dense
    >>> net = Network([Dense(np.eye(2), np.zeros(2)), Activation("relu"), Dense(np.ones((2, 1)))], "sigmoid")
    >>> hidden_outputs(net, np.array([[1.0, -2.0]])).tolist()
    [[1.0, 0.0]]
    """
    first, activation = network.layers[0], network.layers[1]
    z = np.asarray(x, dtype=np.float64) @ first.W + first.b
    return np.asarray(activation.function.fn(z), dtype=np.float64)


def output_as_gate_of_hidden(network, x: np.ndarray = INPUTS) -> str | None:
    """The output unit of a 2-2-1 network read as a gate of its hidden units, e.g. ``AND(h1, h2)``.

    Each hidden unit is given its typical "on" and "off" value (the mean of its activations over the
    inputs where it is on or off), the output unit is evaluated on the four on/off combinations and
    thresholded. None if the network is not 2-2-1, a hidden unit is constant on the four inputs, or
    the output is constant.
    """
    sizes = network.sizes
    if sizes != [2, 2, 1]:
        return None
    first, hidden_act, out = network.layers[0], network.layers[1], network.layers[2]
    z = np.asarray(x, dtype=first.W.dtype) @ first.W + first.b
    h = np.asarray(hidden_act.function.fn(z))
    levels = np.empty((2, 2))  # levels[unit, off/on]
    for unit in range(2):
        on = z[:, unit] > 0
        if on.all() or not on.any():
            return None  # a constant unit carries no signal to combine
        levels[unit, 0] = h[~on, unit].mean()
        levels[unit, 1] = h[on, unit].mean()
    combos = INPUTS.astype(np.int64)
    h_ideal = np.stack([levels[0, combos[:, 0]], levels[1, combos[:, 1]]], axis=1)
    y = h_ideal @ out.W[:, 0] + out.b[0] > 0
    return gate_expression(y, "h1", "h2")


def gate_network(
    hidden: int | None, activation: str, rng: np.random.Generator, dtype=np.float64
) -> Network:
    """A 2-H-1 network (or 2-1 with ``hidden=None``) with a sigmoid output, initialised for gates.

    Weights and hidden biases are uniform in the ranges :data:`XOR_INIT` gives for the activation
    (sigmoid's without a hidden layer); the output bias starts at 0.

    Examples
    --------
    >>> gate_network(2, "sigmoid", np.random.default_rng(0)).sizes
    [2, 2, 1]
    >>> gate_network(None, "sigmoid", np.random.default_rng(0)).sizes
    [2, 1]
    """
    if hidden is not None:
        at_least_one(hidden, "--hidden")
    layers: list[Dense | Activation] = []
    n_in = 2
    start = XOR_INIT.get(activation if hidden else "sigmoid", XOR_INIT["sigmoid"])
    weight_range, (bias_low, bias_high) = start
    if hidden is not None:
        W = rng.uniform(-weight_range, weight_range, (2, hidden))
        b = rng.uniform(bias_low, bias_high, hidden)
        layers += [Dense(W.astype(dtype), b.astype(dtype)), Activation(activation)]
        n_in = hidden
    W = rng.uniform(-weight_range, weight_range, (n_in, 1))
    layers.append(Dense(W.astype(dtype), np.zeros(1, dtype=dtype)))
    return Network(layers, output="sigmoid")


def train_gate(
    gate: str,
    *,
    hidden: int | None = 2,
    activation: str = XOR_ACTIVATION,
    optimizer: str = XOR_OPTIMIZER,
    lr: float | None = None,
    epochs: int = XOR_EPOCHS,
    seed: int = 0,
    on_epoch=None,
) -> tuple[Network, History]:
    """Train a gate network on the four rows of ``gate``'s truth table (full batch).

    Parameters
    ----------
    gate : str
        A key of :data:`GATES`.
    hidden : int or None
        Hidden units; None for a single layer (no hidden layer).
    activation, optimizer : str
        Hidden activation and optimiser name.
    lr : float, optional
        Learning rate (default: :func:`xor_lr` of the optimiser and activation).
    epochs, seed : int
        Full-batch steps, and the seed of the initial weights.
    on_epoch : callable, optional
        Called with each history row (progress bar).

    Returns
    -------
    network : Network
    history : History

    Examples
    --------
    >>> net, history = train_gate("xor", seed=0)
    >>> net.predict(INPUTS).tolist(), len(history)
    ([0, 1, 1, 0], 2000)
    """
    x, t = truth_table(gate)
    if optimizer not in OPTIMIZERS:
        raise NnkitInputError(
            f"unknown optimizer {optimizer!r}", hint=f"choose one of: {', '.join(OPTIMIZERS)}"
        )
    network = gate_network(hidden, activation, np.random.default_rng(seed))
    rate = xor_lr(optimizer, activation if hidden else "sigmoid") if lr is None else lr
    opt = make_optimizer(optimizer, network.parameters(), lr=rate)
    history = fit(network, x, t, optimizer=opt, epochs=epochs, seed=seed, on_epoch=on_epoch)
    return network, history
