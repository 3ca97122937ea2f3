"""``Activation``: a hidden activation function applied elementwise, as a layer.

The functions themselves (values and derivatives) are :data:`nnkit.nn.activations.ACTIVATIONS`;
this layer caches in ``forward`` what ``backward`` needs (the output of ReLU, the input of the
others). :data:`ACTIVATION_NODES` is each one as ONNX nodes.
"""

from __future__ import annotations

import numpy as np

from nnkit.errors import NnkitInputError
from nnkit.nn.activations import ACTIVATIONS, ELU_ALPHA, LEAKY_RELU_ALPHA
from nnkit.nn.layers.base import Layer, Setting

#: Activations a hidden layer can use: elementwise and with a useful gradient (the step function's
#: derivative is zero everywhere, so gradient descent cannot train it).
HIDDEN_ACTIVATIONS: tuple[str, ...] = tuple(
    name for name, a in ACTIVATIONS.items() if a.elementwise and name != "step"
)


def _erf_gelu(g, x: str, dtype) -> str:
    # x/2 · (1 + erf(x/√2)): the exact GELU nnkit computes (ONNX's own Gelu needs opset 20+ runtimes).
    scaled = g.node("Div", [x, g.constant("sqrt2", np.array(np.sqrt(2.0), dtype=dtype))])
    one_plus = g.node("Add", [g.node("Erf", [scaled]), g.constant("one", np.array(1, dtype=dtype))])
    half_x = g.node("Mul", [x, g.constant("half", np.array(0.5, dtype=dtype))])
    return g.node("Mul", [half_x, one_plus], stem="gelu")


#: Each hidden activation as ONNX nodes: ``build(graph, x, dtype) → output name``.
ACTIVATION_NODES = {
    "identity": lambda g, x, dtype: g.node("Identity", [x]),
    "relu": lambda g, x, dtype: g.node("Relu", [x]),
    "leaky-relu": lambda g, x, dtype: g.node("LeakyRelu", [x], alpha=float(LEAKY_RELU_ALPHA)),
    "elu": lambda g, x, dtype: g.node("Elu", [x], alpha=float(ELU_ALPHA)),
    "sigmoid": lambda g, x, dtype: g.node("Sigmoid", [x]),
    "tanh": lambda g, x, dtype: g.node("Tanh", [x]),
    "softplus": lambda g, x, dtype: g.node("Softplus", [x]),
    "gelu": _erf_gelu,
    "swish": lambda g, x, dtype: g.node("Mul", [x, g.node("Sigmoid", [x])], stem="swish"),
}


class Activation(Layer):
    """Elementwise activation layer wrapping an entry of :data:`nnkit.nn.activations.ACTIVATIONS`.

    ``forward`` applies ``fn``; ``backward`` multiplies the incoming gradient by the derivative. ReLU
    (the hidden activation of large networks) takes a fast path: its forward runs in place on the
    previous layer's buffer during training and its backward is a mask, because these are the only
    elementwise passes over the big hidden arrays of a training step.

    Parameters
    ----------
    name : str
        A key of ``ACTIVATIONS`` (``relu``, ``sigmoid``, ``tanh`` …).

    Examples
    --------
    >>> layer = Activation("relu")
    >>> layer.forward(np.array([[-1.0, 2.0]]), training=True)
    array([[0., 2.]])
    >>> layer.backward(np.array([[5.0, 5.0]]))
    array([[0., 5.]])
    """

    type_name = "activation"
    keras_class = "Activation"
    description = "an activation on its own"
    settings = (Setting("name", "activation name", kind="choice", required=True, choices=HIDDEN_ACTIVATIONS),)

    def __init__(self, name: str):
        if name not in HIDDEN_ACTIVATIONS:
            choices = ", ".join(HIDDEN_ACTIVATIONS)
            raise NnkitInputError(f"unknown activation {name!r}", hint=f"choose one of: {choices}")
        self.name = name
        self.function = ACTIVATIONS[name]
        self.input_gradient = True
        # Whether training may overwrite the input: the network turns it off where the input is
        # not a buffer of the layer before (the data itself, or a view passed on by Flatten).
        self.in_place = True
        self._cache = None

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        """Apply the activation to ``x`` (any shape); during training, cache what backward needs."""
        if self.name == "relu":
            if training and self.in_place:
                # x is the previous layer's training buffer, used by nobody else: overwrite it.
                np.maximum(x, 0, out=x)
                self._cache = x
                return x
            y = np.maximum(x, 0)
            if training:
                self._cache = y
            return y
        y = np.asarray(self.function.fn(x), dtype=x.dtype)
        if training:
            self._cache = x
        return y

    def backward(self, dout: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """∂L/∂x = dout · f'(x), elementwise; written into ``out`` if given (it may be ``dout``)."""
        if self._cache is None:
            raise RuntimeError("Activation.backward called before forward(training=True)")
        if self.name == "relu":
            # y > 0 exactly where x > 0; relu'(0) is taken as 0, as PyTorch does.
            return np.multiply(dout, self._cache > 0, out=out)
        grad = np.asarray(self.function.grad(self._cache), dtype=dout.dtype)
        return np.multiply(dout, grad, out=out)

    @classmethod
    def folded_activation(cls, config: dict) -> str | None:
        return config["name"]

    @classmethod
    def from_config(cls, config: dict, weights: list) -> Activation:
        return cls(config["name"])

    def onnx(self, graph, h: str, input_shape: tuple) -> str:
        if self.name not in ACTIVATION_NODES:
            raise NnkitInputError(f"nnkit export does not know the activation {self.name!r}")
        return ACTIVATION_NODES[self.name](graph, h, graph.dtype)

    def config(self) -> dict:
        return {"type": self.type_name, "name": self.name}

    def __repr__(self) -> str:
        return f"Activation({self.name!r})"
