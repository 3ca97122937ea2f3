"""Network architectures as data: layer specs → layers, shapes, parameter counts.

A *spec* is a small dict naming a layer type of :data:`LAYER_TYPES` and its hyper-parameters, e.g.
``{"type": "conv2d", "filters": 32, "kernel": 3, "activation": "relu"}``. :func:`build_layers`
turns a list of them into engine layers with initial weights (an ``activation`` key becomes an
:class:`~nnkit.nn.layers.Activation` layer after its layer, except the last layer's softmax or
sigmoid, which :class:`~nnkit.nn.network.Network` fuses with the loss);
:func:`layers_from_config` rebuilds saved layers from their ``config()`` dicts and weights;
:func:`summary` is Keras's ``model.summary()``: one row per layer with its output shape and number
of parameters.

Examples
--------
>>> specs = [{"type": "conv2d", "filters": 32, "kernel": 3, "activation": "relu"},
...          {"type": "maxpool2d", "size": 2}, {"type": "flatten"},
...          {"type": "dense", "units": 10, "activation": "softmax"}]
>>> table = summary(specs, (28, 28, 1))
>>> [(row["layer"], row["output_shape"], row["params"]) for row in table["rows"]]
[('conv2d', (26, 26, 32), 320), ('max_pooling2d', (13, 13, 32), 0), ('flatten', (5408,), 0), ('dense', (10,), 54090)]
>>> table["total_params"]
54410
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from nnkit.errors import NnkitInputError, did_you_mean, unknown_name
from nnkit.nn.conv_layers import PADDINGS, POOL_OPS, Conv2D, Dropout, Flatten, MaxPool2D
from nnkit.nn.initializers import INITIALIZERS, initializer_for
from nnkit.nn.layers import HIDDEN_ACTIVATIONS, Activation, Dense
from nnkit.nn.network import OUTPUTS, Network

INITS = ("keras", "auto", "he", "glorot")

#: Activations a layer spec may name: the hidden ones, and softmax/sigmoid for the last layer.
SPEC_ACTIVATIONS: tuple[str, ...] = tuple(dict.fromkeys((*HIDDEN_ACTIVATIONS, *OUTPUTS)))


@dataclass(frozen=True)
class LayerParam:
    """One hyper-parameter of a layer type: its key, what it means, and its default."""

    name: str
    meaning: str
    required: bool = False
    default: object = None
    choices: tuple | None = None


@dataclass(frozen=True)
class LayerType:
    """A layer type: its engine class, hyper-parameters and what it does (for errors and --help)."""

    name: str
    cls: type
    description: str
    params: tuple[LayerParam, ...] = ()

    def param(self, name: str) -> LayerParam | None:
        return next((p for p in self.params if p.name == name), None)


_ACTIVATION = LayerParam("activation", "activation applied after the layer (none by default)",
                         choices=SPEC_ACTIVATIONS)

LAYER_TYPES: dict[str, LayerType] = {
    t.name: t
    for t in (
        LayerType("conv2d", Conv2D, "2-D convolution: filters slide over the image (channels last)", (
            LayerParam("filters", "number of filters (output channels)", required=True),
            LayerParam("kernel", "kernel size: k for k×k, or (kh, kw)", required=True),
            LayerParam("stride", "step between windows", default=1),
            LayerParam("padding", "valid: windows inside the image; same: zeros around it, "
                       "output ⌈H/stride⌉", default="valid", choices=PADDINGS),
            _ACTIVATION,
        )),
        LayerType("maxpool2d", MaxPool2D, "max (or mean) of each window; a partial edge window "
                  "is dropped, as in Keras", (
            LayerParam("size", "window side", default=2),
            LayerParam("stride", "step between windows (the size by default)"),
            LayerParam("op", "max or mean of each window", default="max", choices=POOL_OPS),
        )),
        LayerType("flatten", Flatten, "image (H, W, C) → one row of H·W·C values (Keras's order)"),
        LayerType("dropout", Dropout, "in training, zero a fraction of the values at random", (
            LayerParam("rate", "fraction of values dropped, 0 ≤ rate < 1", required=True),
        )),
        LayerType("dense", Dense, "fully connected layer x @ W + b", (
            LayerParam("units", "number of outputs", required=True),
            _ACTIVATION,
        )),
        LayerType("activation", Activation, "an activation on its own", (
            LayerParam("name", "activation name", required=True, choices=HIDDEN_ACTIVATIONS),
        )),
    )
}


def keras_name(layer) -> str:
    """The layer's name as Keras's ``model.summary()`` prints it (``max_pooling2d`` …)."""
    if isinstance(layer, MaxPool2D):
        return "max_pooling2d" if layer.op == "max" else "average_pooling2d"
    return {"conv2d": "conv2d", "flatten": "flatten", "dropout": "dropout", "dense": "dense",
            "activation": "activation"}[layer.type_name]


# ----- specs → layers -----------------------------------------------------------------------


def _where(i: int, kind: str) -> str:
    return f"layer {i + 1} ({kind})"


def _check_spec(i: int, spec) -> tuple[LayerType, dict]:
    """The spec's layer type and its hyper-parameters with defaults filled in."""
    if not isinstance(spec, dict) or "type" not in spec:
        raise NnkitInputError(f"layer {i + 1} must be a dict with a 'type', got {spec!r}")
    kind = spec["type"]
    if kind not in LAYER_TYPES:
        raise NnkitInputError(f"unknown layer type {kind!r} (layer {i + 1})", hint=did_you_mean(kind, LAYER_TYPES))
    layer_type = LAYER_TYPES[kind]
    values = {}
    for key, value in spec.items():
        if key == "type":
            continue
        param = layer_type.param(key)
        if param is None:
            known = ", ".join(p.name for p in layer_type.params) or "none"
            raise NnkitInputError(f"{_where(i, kind)} has no setting {key!r}",
                                  hint=f"its settings: {known}")
        if value is not None and param.choices is not None and value not in param.choices:
            raise NnkitInputError(f"{_where(i, kind)}: unknown {key} {value!r}",
                                  hint=f"choose one of: {', '.join(param.choices)}")
        values[key] = value
    for param in layer_type.params:
        if param.name not in values or values[param.name] is None:
            if param.required:
                raise NnkitInputError(f"{_where(i, kind)} needs its {param.name}: {param.meaning}")
            values[param.name] = param.default
    return layer_type, values


def _whole(i: int, kind: str, key: str, value, low: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise NnkitInputError(f"{_where(i, kind)}: {key} must be a whole number of at least {low}, "
                              f"got {value!r}")
    return int(value)


def _glorot_uniform(shape, fan_in, fan_out, rng, dtype):
    limit = math.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-limit, limit, shape).astype(dtype, copy=False)


def _conv_kernel(shape, activation, init, rng, dtype):
    kh, kw, c_in, c_out = shape
    fan_in, fan_out = kh * kw * c_in, kh * kw * c_out
    name = init if init in INITIALIZERS else (
        "glorot" if init == "keras" else initializer_for(activation or ""))
    if name == "he":
        return (rng.standard_normal(shape) * math.sqrt(2.0 / fan_in)).astype(dtype, copy=False)
    return _glorot_uniform(shape, fan_in, fan_out, rng, dtype)


def _dense_weights(n_in, n_out, activation, init, rng, dtype):
    if init == "keras":
        return _glorot_uniform((n_in, n_out), n_in, n_out, rng, dtype)
    name = init if init in INITIALIZERS else initializer_for(activation or "")
    return INITIALIZERS[name](n_in, n_out, rng, dtype)


def output_activation(specs: Sequence[dict]) -> str:
    """The fused output of a stack: the last layer's softmax or sigmoid (an input error if none).

    Examples
    --------
    >>> output_activation([{"type": "dense", "units": 1, "activation": "sigmoid"}])
    'sigmoid'
    """
    if not specs:
        raise NnkitInputError("a network needs at least one layer")
    last = specs[-1]
    if not isinstance(last, dict) or last.get("type") != "dense" or \
            last.get("activation") not in OUTPUTS:
        raise NnkitInputError(
            "the last layer must be dense with a softmax or sigmoid output, "
            f"got {last!r}", hint="e.g. dense 10 softmax (classes) or dense 1 sigmoid (yes/no)")
    return last["activation"]


def build_layers(specs: Sequence[dict], input_shape, *, seed=0, init: str = "auto",
                 dtype=np.float32) -> list:
    """Engine layers with initial weights for ``specs`` on inputs of ``input_shape``.

    Parameters
    ----------
    specs : sequence of dict
        Layer specs (see :data:`LAYER_TYPES` for the types and their settings).
    input_shape : tuple of int
        One sample's shape without the batch axis: ``(H, W, C)`` for images, ``(F,)`` for rows.
    seed : int, numpy.random.Generator or None
        Seed (or generator) of the initial weights; with an int seed, dropout layer ``i`` draws
        from ``default_rng([seed, i])``.
    init : {"keras", "auto", "he", "glorot"}
        ``keras``: Glorot uniform kernels and zero biases everywhere (Keras's defaults, for
        reproducing the course); ``auto``: He normal before ReLU-family activations, Glorot
        uniform otherwise (nnkit's rule, and ``build_mlp``'s weights for the same seed);
        ``he``/``glorot``: that one for every layer.
    dtype : numpy dtype
        float32 (fast) or float64 (gradient checks).

    Returns
    -------
    list of layers
        The final dense layer's softmax/sigmoid is not among them: it is the network's output.

    Raises
    ------
    NnkitInputError
        An unknown type or setting, a missing size, or shapes that do not fit (a stack shrinking
        below 1×1 names the layer and the shapes).
    """
    if init not in INITS:
        raise unknown_name("init", init, INITS)
    specs = list(specs)
    if not specs:
        raise NnkitInputError("a network needs at least one layer")
    shape = _input_shape(input_shape)
    rng = np.random.default_rng(seed)
    layers = []
    for i, spec in enumerate(specs):
        layer_type, v = _check_spec(i, spec)
        kind = layer_type.name
        activation = v.get("activation")
        if activation in OUTPUTS and activation != "sigmoid" and i != len(specs) - 1:
            raise NnkitInputError(f"{_where(i, kind)}: {activation} can only be the last layer's "
                                  "activation", hint=f"hidden activations: {', '.join(HIDDEN_ACTIVATIONS)}")
        try:
            if kind == "conv2d":
                filters = _whole(i, kind, "filters", v["filters"])
                kh, kw = _kernel(i, v["kernel"])
                _h, _w, c = _require_image(i, kind, shape)
                layer = Conv2D(np.zeros((kh, kw, c, filters), dtype), stride=_whole(i, kind, "stride", v["stride"]),
                               padding=v["padding"])
                out_shape = layer.output_shape(shape)
                layer.W[...] = _conv_kernel(layer.W.shape, activation, init, rng, dtype)
            elif kind == "maxpool2d":
                _require_image(i, kind, shape)
                stride = None if v["stride"] is None else _whole(i, kind, "stride", v["stride"])
                layer = MaxPool2D(_whole(i, kind, "size", v["size"]), stride, v["op"])
                out_shape = layer.output_shape(shape)
            elif kind == "flatten":
                layer = Flatten()
                out_shape = layer.output_shape(shape)
            elif kind == "dropout":
                rate = v["rate"]
                if isinstance(rate, bool) or not isinstance(rate, (int, float, np.floating)) or \
                        not 0 <= rate < 1:
                    raise NnkitInputError(f"{_where(i, kind)}: rate must be a number in [0, 1), got {rate!r}")
                seeded = isinstance(seed, int | np.integer)  # a Generator seeds only weights
                layer = Dropout(rate, seed=[int(seed), i] if seeded else None)
                out_shape = shape
            elif kind == "dense":
                units = _whole(i, kind, "units", v["units"])
                if len(shape) != 1:
                    raise NnkitInputError(
                        f"{_where(i, kind)} needs flat inputs, got {_fmt(shape)}",
                        hint="put a flatten layer before it")
                W = _dense_weights(shape[0], units, activation, init, rng, dtype)
                layer = Dense(W, np.zeros(units, dtype=dtype))
                out_shape = (units,)
            else:  # activation
                layer = Activation(v["name"])
                out_shape = shape
        except NnkitInputError as err:
            if err.message.startswith("layer "):
                raise
            raise NnkitInputError(f"{_where(i, kind)}: {err.message}", hint=err.hint) from None
        layers.append(layer)
        last = i == len(specs) - 1
        if activation is not None and not (last and activation in OUTPUTS):
            layers.append(Activation(activation))
        shape = out_shape
    return layers


def build_network(specs: Sequence[dict], input_shape, *, seed=0, init: str = "auto",
                  dtype=np.float32) -> Network:
    """:func:`build_layers` wrapped in a :class:`Network` whose output is the last layer's activation."""
    output = output_activation(specs)
    layers = build_layers(specs, input_shape, seed=seed, init=init, dtype=dtype)
    return Network(layers, output=output, input_shape=_input_shape(input_shape))


def _kernel(i: int, value) -> tuple[int, int]:
    pair = [value, value] if not isinstance(value, (list, tuple)) else list(value)
    if len(pair) != 2:
        raise NnkitInputError(f"{_where(i, 'conv2d')}: kernel must be one size or two, got {value!r}")
    return tuple(_whole(i, "conv2d", "kernel", k) for k in pair)


def _input_shape(input_shape) -> tuple[int, ...]:
    try:
        shape = tuple(int(s) for s in input_shape)
    except (TypeError, ValueError):
        raise NnkitInputError(f"an input shape is a tuple of sizes, got {input_shape!r}") from None
    if not shape or min(shape) < 1:
        raise NnkitInputError(f"input sizes must be at least 1, got {input_shape!r}")
    return shape


def _require_image(i: int, kind: str, shape) -> tuple[int, int, int]:
    if len(shape) != 3:
        raise NnkitInputError(
            f"{_where(i, kind)} needs images (height, width, channels), got inputs of shape "
            f"{_fmt(shape)}", hint="conv and pooling layers work on images; tabular data needs "
            "dense layers")
    return shape


def _fmt(shape) -> str:
    return "(" + ", ".join(str(s) for s in shape) + ")"


# ----- saved configs → layers ---------------------------------------------------------------


def layers_from_config(configs: Sequence[dict], weights: Sequence[np.ndarray]) -> list:
    """Rebuild layers from their ``config()`` dicts and the weights in parameter order.

    Raises :class:`NnkitInputError` for an unknown type, a missing or bad setting, or weights that
    do not match the layers (too few, too many, wrong shapes).

    Examples
    --------
    >>> layers = [Dense(np.ones((4, 3))), Activation("relu"), Dense(np.ones((3, 2)))]
    >>> rebuilt = layers_from_config([l.config() for l in layers], [np.ones((4, 3)), np.zeros(3),
    ...                                                              np.ones((3, 2)), np.zeros(2)])
    >>> rebuilt
    [Dense(4 → 3), Activation('relu'), Dense(3 → 2)]
    """
    weights = list(weights)
    if not isinstance(configs, (list, tuple)) or not configs:
        raise NnkitInputError("the layer list is empty or not a list")
    layers = []
    used = 0

    def take(i, kind, count):
        nonlocal used
        if used + count > len(weights):
            raise NnkitInputError(f"{_where(i, kind)} has no weights (only {len(weights)} arrays)")
        arrays = weights[used : used + count]
        used += count
        return arrays

    for i, config in enumerate(configs):
        if not isinstance(config, dict) or config.get("type") not in LAYER_TYPES:
            raise NnkitInputError(f"layer {i + 1} has an unknown type: {config!r}",
                                  hint=f"known types: {', '.join(LAYER_TYPES)}")
        kind = config["type"]
        try:
            if kind == "conv2d":
                W, b = take(i, kind, 2)
                W = np.asarray(W)
                if W.ndim != 4 or list(W.shape[:2]) != list(_kernel(i, config.get("kernel"))) or \
                        W.shape[3] != config.get("filters"):
                    raise NnkitInputError(f"kernels of shape {W.shape} do not match {config!r}")
                layer = Conv2D(W, b, stride=config.get("stride", 1),
                               padding=config.get("padding", "valid"))
            elif kind == "maxpool2d":
                layer = MaxPool2D(config.get("size", 2), config.get("stride"), config.get("op", "max"))
            elif kind == "flatten":
                layer = Flatten()
            elif kind == "dropout":
                layer = Dropout(config.get("rate", 0.0))
            elif kind == "dense":
                W, b = take(i, kind, 2)
                if np.ndim(W) != 2 or np.shape(W)[1] != config.get("units"):
                    raise NnkitInputError(f"weights of shape {np.shape(W)} do not match {config!r}")
                layer = Dense(W, b)
            else:
                layer = Activation(config.get("name"))
        except NnkitInputError as err:
            raise NnkitInputError(f"{_where(i, kind)}: {err.message}", hint=err.hint) from None
        except (TypeError, ValueError) as err:
            raise NnkitInputError(f"{_where(i, kind)}: bad settings {config!r} ({err})") from None
        layers.append(layer)
    if used != len(weights):
        raise NnkitInputError(f"the layers use {used} weight arrays, the file has {len(weights)}")
    return layers


# ----- summary ------------------------------------------------------------------------------


def summary(layers_or_specs: Sequence, input_shape) -> dict:
    """Keras's ``model.summary()`` as data: a row per layer and the parameter totals.

    Parameters
    ----------
    layers_or_specs : sequence of layers or of spec dicts
    input_shape : tuple of int
        One sample's shape, without the batch axis.

    Returns
    -------
    dict
        ``rows``: dicts with ``layer`` (Keras's name: ``conv2d``, ``max_pooling2d``, ``flatten``,
        ``dropout``, ``dense``), ``activation`` (folded into its layer's row, or None),
        ``output_shape`` (a tuple, without the batch axis) and ``params``; ``total_params``.
    """
    items = list(layers_or_specs)
    output = None
    if items and isinstance(items[0], dict):
        output = items[-1].get("activation") if isinstance(items[-1], dict) else None
        items = build_layers(items, input_shape, seed=0)
    shape = _input_shape(input_shape)
    rows = []
    for layer in items:
        shape = tuple(layer.output_shape(shape))
        if isinstance(layer, Activation) and rows:
            rows[-1]["activation"] = layer.name
            continue
        rows.append({"layer": keras_name(layer), "activation": None, "output_shape": shape,
                     "params": int(sum(p.size for p in layer.parameters()))})
    if output in OUTPUTS:
        rows[-1]["activation"] = output
    return {"rows": rows, "total_params": sum(r["params"] for r in rows)}

