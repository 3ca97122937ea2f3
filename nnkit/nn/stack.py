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
from collections.abc import Iterator, Sequence

import numpy as np

from nnkit.errors import NnkitInputError
from nnkit.nn.initializers import INITIALIZERS
from nnkit.nn.initializers import SCHEMES as INITS
from nnkit.nn.layers import HIDDEN_ACTIVATIONS, LAYER_CLASSES, Activation, Dense, Layer, layer_type
from nnkit.nn.layers.base import Initial
from nnkit.nn.network import OUTPUTS, Network

#: Activations a layer spec may name: the hidden ones, and softmax/sigmoid for the last layer.
SPEC_ACTIVATIONS: tuple[str, ...] = tuple(dict.fromkeys((*HIDDEN_ACTIVATIONS, *OUTPUTS)))


def _where(i: int, kind: str) -> str:
    return f"layer {i + 1} ({kind})"


class LayerFitError(NnkitInputError):
    """A layer that does not fit its input: which one (``index``, ``kind``) and the ``problem``."""

    def __init__(self, index: int, kind: str, problem: str, hint: str | None = None):
        super().__init__(f"{_where(index, kind)}: {problem}", hint=hint)
        self.index, self.kind, self.problem = index, kind, problem


def _in_layer(i: int, kind: str, err: NnkitInputError) -> NnkitInputError:
    """``err`` with the layer's place in front (unless it already names it)."""
    if err.message.startswith("layer "):
        return err
    return LayerFitError(i, kind, err.message, hint=err.hint)


def check_spec(i: int, spec, activation: bool = True) -> tuple[type[Layer], dict]:
    """Layer ``i``'s class and its settings, checked, with defaults filled in.

    ``activation``: whether the spec may name an ``activation`` after the layer (a ``--layers``
    spec may; a saved ``config()`` may not).
    """
    if not isinstance(spec, dict) or "type" not in spec:
        raise NnkitInputError(f"layer {i + 1} must be a dict with a 'type', got {spec!r}")
    kind = spec["type"]
    cls = layer_type(kind)
    if cls is None:
        raise NnkitInputError(f"unknown layer type {kind!r} (layer {i + 1})",
                              hint=f"choose one of: {', '.join(t.type_name for t in LAYER_CLASSES)}")
    values = {}
    for key, value in spec.items():
        if key == "type" or value is None:
            continue
        if key == "activation" and activation and cls.takes_activation:
            if value not in SPEC_ACTIVATIONS:
                raise NnkitInputError(f"{_where(i, kind)}: unknown activation {value!r}",
                                      hint=f"choose one of: {', '.join(SPEC_ACTIVATIONS)}")
            values[key] = value
            continue
        setting = cls.setting(key)
        if setting is None:
            known = ", ".join(s.name for s in cls.settings) or "none"
            raise NnkitInputError(f"{_where(i, kind)} has no setting {key!r}", hint=f"its settings: {known}")
        try:
            values[key] = setting.check(value)
        except ValueError as exc:
            raise NnkitInputError(f"{_where(i, kind)}: {key} {exc}") from None
    for setting in cls.settings:
        if values.get(setting.name) is None:
            if setting.required:
                raise NnkitInputError(f"{_where(i, kind)} needs its {setting.name}: {setting.meaning}")
            values[setting.name] = setting.default
    return cls, values


def walk(specs: Sequence[dict], input_shape, activation: bool = True
         ) -> Iterator[tuple[int, type[Layer], dict, tuple, tuple]]:
    """The shape walk of a stack, from its specs alone (nothing is allocated).

    Yields ``(index, class, settings, input shape, output shape)`` per layer; an input error names
    the first layer that does not fit the shape the ones before make.
    """
    shape = _input_shape(input_shape)
    for i, spec in enumerate(specs):
        cls, values = check_spec(i, spec, activation)
        try:
            out = tuple(cls.output_shape_of(values, shape))
        except NnkitInputError as err:
            raise _in_layer(i, cls.type_name, err) from None
        yield i, cls, values, shape, out
        shape = out


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
        raise NnkitInputError(f"unknown init {init!r}", hint=f"choose one of: {', '.join(INITS)}")
    specs = list(specs)
    if not specs:
        raise NnkitInputError("a network needs at least one layer")
    rng = np.random.default_rng(seed)
    int_seed = int(seed) if isinstance(seed, int | np.integer) else None  # a Generator seeds only weights
    layers = []
    for i, cls, values, shape, _ in walk(specs, input_shape):
        activation = values.pop("activation", None)
        if activation in OUTPUTS and activation != "sigmoid" and i != len(specs) - 1:
            raise NnkitInputError(f"{_where(i, cls.type_name)}: {activation} can only be the last layer's "
                                  "activation", hint=f"hidden activations: {', '.join(HIDDEN_ACTIVATIONS)}")
        try:
            layers.append(cls.create(values, shape, Initial(rng, init, dtype, int_seed, i, activation)))
        except NnkitInputError as err:
            raise _in_layer(i, cls.type_name, err) from None
        if activation is not None and not (i == len(specs) - 1 and activation in OUTPUTS):
            layers.append(Activation(activation))
    return layers


def build_network(specs: Sequence[dict], input_shape, *, seed=0, init: str = "auto",
                  dtype=np.float32) -> Network:
    """:func:`build_layers` wrapped in a :class:`Network` whose output is the last layer's activation."""
    output = output_activation(specs)
    layers = build_layers(specs, input_shape, seed=seed, init=init, dtype=dtype)
    return Network(layers, output=output, input_shape=_input_shape(input_shape))


def _input_shape(input_shape) -> tuple[int, ...]:
    try:
        shape = tuple(int(s) for s in input_shape)
    except (TypeError, ValueError):
        raise NnkitInputError(f"an input shape is a tuple of sizes, got {input_shape!r}") from None
    if not shape or min(shape) < 1:
        raise NnkitInputError(f"input sizes must be at least 1, got {input_shape!r}")
    return shape


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
    for i, config in enumerate(configs):
        if not isinstance(config, dict) or layer_type(config.get("type")) is None:
            raise NnkitInputError(f"layer {i + 1} has an unknown type: {config!r}",
                                  hint=f"known types: {', '.join(t.type_name for t in LAYER_CLASSES)}")
        cls, values = check_spec(i, config, activation=False)
        if used + cls.n_parameters > len(weights):
            raise NnkitInputError(f"{_where(i, cls.type_name)} has no weights (only {len(weights)} arrays)")
        arrays = weights[used : used + cls.n_parameters]
        used += cls.n_parameters
        try:
            layers.append(cls.from_config(values, arrays))
        except NnkitInputError as err:
            raise NnkitInputError(f"{_where(i, cls.type_name)}: {err.message}", hint=err.hint) from None
        except (TypeError, ValueError) as err:
            raise NnkitInputError(f"{_where(i, cls.type_name)}: bad settings {config!r} ({err})") from None
    if used != len(weights):
        raise NnkitInputError(f"the layers use {used} weight arrays, the file has {len(weights)}")
    return layers


# ----- what a stack holds: summary and memory -----------------------------------------------------


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
    rows = []
    if items and isinstance(items[0], dict):
        for _, cls, values, shape, out in walk(items, input_shape):
            params = sum(math.prod(s) for s in cls.parameter_shapes(values, shape))
            _add_row(rows, cls, values, out, params)
            if values.get("activation"):
                rows[-1]["activation"] = values["activation"]
    else:
        shape = _input_shape(input_shape)
        for layer in items:
            out = tuple(layer.output_shape(shape))
            _add_row(rows, type(layer), layer.config(), out, sum(p.size for p in layer.parameters()))
            shape = out
    return {"rows": rows, "total_params": sum(r["params"] for r in rows)}


def _add_row(rows: list, cls: type[Layer], config: dict, out: tuple, params: int) -> None:
    folded = cls.folded_activation(config)
    if folded is not None and rows:
        rows[-1]["activation"] = folded
        return
    name, keras_class = cls.keras_names(config)
    rows.append({"layer": name, "type": keras_class, "activation": None, "output_shape": out,
                 "params": int(params)})


def stack_footprint(specs: Sequence[dict], input_shape) -> tuple[int, int]:
    """(parameters, floats per sample) of a stack, from its specs alone (no weight is made).

    The floats per sample count every layer's output and each convolution's patch matrix (what
    one training sample keeps between the forward and the backward pass).

    Examples
    --------
    >>> stack_footprint([{"type": "conv2d", "filters": 32, "kernel": 3}, {"type": "maxpool2d"},
    ...                  {"type": "flatten"}, {"type": "dense", "units": 10}], (28, 28, 1))
    (54410, 38542)
    """
    parameters = per_sample = 0
    for _, cls, values, shape, _ in walk(specs, input_shape):
        parameters += sum(math.prod(s) for s in cls.parameter_shapes(values, shape))
        per_sample += cls.floats_per_sample(values, shape)
    return parameters, per_sample


# ----- multilayer perceptrons ---------------------------------------------------------------------


def build_mlp(
    n_inputs: int,
    hidden: Sequence[int],
    n_outputs: int,
    activation: str | Sequence[str] = "relu",
    output: str = "softmax",
    dtype=np.float32,
    rng: np.random.Generator | int | None = None,
    initializer: str | None = None,
) -> Network:
    """A multilayer perceptron ``n_inputs → hidden… → n_outputs``.

    Parameters
    ----------
    n_inputs, n_outputs : int
        Features per sample and output units (classes for softmax, 1 for a binary sigmoid).
    hidden : sequence of int
        Units of each hidden layer (empty: a single layer, no hidden layer).
    activation : str or sequence of str
        Hidden activation (one name for all hidden layers, or one per layer).
    output : {"softmax", "sigmoid"}
        Output activation fused with its loss.
    dtype : numpy dtype
        float32 (default, fast) or float64 (for gradient checks).
    rng : numpy.random.Generator or int, optional
        Generator or seed for the initial weights.
    initializer : {"he", "glorot"}, optional
        Forces one initialiser; by default He before ReLU-family activations, Glorot before sigmoid
        and tanh and before the output layer.

    Returns
    -------
    Network

    Examples
    --------
    >>> net = build_mlp(2, [2], 1, activation="sigmoid", output="sigmoid", rng=0)
    >>> net.sizes, net.activations, net.dtype
    ([2, 2, 1], ['sigmoid'], dtype('float32'))
    """
    hidden = [int(h) for h in hidden]
    activations = [activation] * len(hidden) if isinstance(activation, str) else list(activation)
    if len(activations) != len(hidden):
        raise NnkitInputError(
            f"got {len(activations)} activation(s) for {len(hidden)} hidden layer(s)"
        )
    for h in hidden:
        if h < 1:
            raise NnkitInputError(f"--hidden sizes must be at least 1, got {h}")
    if initializer is not None and initializer not in INITIALIZERS:
        raise NnkitInputError(f"unknown initializer {initializer!r}")
    if not isinstance(rng, np.random.Generator):
        rng = np.random.default_rng(rng)
    specs = [{"type": "dense", "units": h, "activation": a}
             for h, a in zip(hidden, activations, strict=True)]
    specs.append({"type": "dense", "units": int(n_outputs), "activation": output})
    layers = build_layers(specs, (int(n_inputs),), seed=rng, init=initializer or "auto",
                          dtype=dtype)
    return Network(layers, output=output)


def network_from_weights(
    weights: Sequence[np.ndarray], activations: Sequence[str], output: str
) -> Network:
    """Rebuild a network from ``[W0, b0, W1, b1, …]`` and its hidden activation names.

    Examples
    --------
    >>> net = network_from_weights([np.ones((2, 3)), np.zeros(3), np.ones((3, 1)), np.zeros(1)],
    ...                            ["relu"], "sigmoid")
    >>> net.sizes
    [2, 3, 1]
    """
    if len(weights) % 2 or not weights:
        raise NnkitInputError("weights must come in (W, b) pairs")
    n_layers = len(weights) // 2
    if len(activations) != n_layers - 1:
        raise NnkitInputError(f"{n_layers} layer(s) need {n_layers - 1} hidden activation(s)")
    layers: list[Dense | Activation] = []
    for i in range(n_layers):
        W, b = weights[2 * i], weights[2 * i + 1]
        if i and np.shape(W)[0] != layers[-2].n_out:
            raise NnkitInputError(f"W{i} has {np.shape(W)[0]} inputs, the layer before has "
                                  f"{layers[-2].n_out} outputs")
        layers.append(Dense(W, b))
        if i < n_layers - 1:
            layers.append(Activation(activations[i]))
    return Network(layers, output=output)
