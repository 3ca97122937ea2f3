"""Keras export of a saved nnkit model: a ``.keras`` file that Keras 3 opens, predicts with and trains.

A ``.keras`` file is a zip archive of three members, as ``keras.saving.save_model`` writes it
(``keras/src/saving/saving_lib.py``):

- ``metadata.json``: the Keras version the file is written for and the date;
- ``config.json``: the model as ``serialize_keras_object`` describes it — here a ``Sequential`` of
  layer records ``{"module", "class_name", "config", "registered_name"}`` whose ``config`` holds the
  layer's constructor arguments (Keras fills in the defaults of any argument left out), and a
  ``compile_config`` (optimizer, loss, metrics) so that ``keras.models.load_model`` returns a model
  that ``fit`` trains at once;
- ``model.weights.h5``: for the i-th layer of its kind, the group ``layers/<kind>[_i]/vars`` (the kind
  is the class name in snake case, ``dense``, ``dense_1``, ``conv2d`` …: Keras addresses weights by
  position, not by the layer's name) with datasets ``0``, ``1`` … in the order the layer creates its
  variables (kernel, then bias); every layer has its group, with or without variables.

The Keras model takes the raw inputs ``nnkit predict`` takes, because the stored preprocessing comes
first: ``Rescaling(1/255)`` for images (pixels ÷ the stored full-scale value), ``Normalization`` with
the stored mean and variance for tables; then a ``Reshape`` to the network's input shape where the
two differ (a grey image gains its channel axis; rows of an MLP on images are flattened). nnkit's
layers are Keras's already: channels-last ``Conv2D`` kernels ``(kh, kw, in, out)``, ``Dense`` kernels
``(in, out)``, pooling that drops a partial edge window, Keras's ``same`` padding. An activation layer
that follows a ``Dense`` or ``Conv2D`` becomes that layer's ``activation``; the output (softmax or a
single sigmoid) is the last ``Dense``'s activation, or a separate ``Softmax`` layer where the course's
model has one (``--model course-mlp``, as the next chapter's ``model.summary()`` prints it).
Each layer describes its own Keras form (its ``keras()`` method, :mod:`nnkit.nn.layers`); this
module joins them into a file.
"""

from __future__ import annotations

import datetime
import io
import json
import re
import zipfile
from dataclasses import dataclass, field

import numpy as np

from nnkit.errors import NnkitInputError

#: The Keras version whose file layout this writer follows (read by Keras 3.0 and newer).
KERAS_VERSION = "3.15.1"
#: Keras's ``Normalization`` divides by ``max(sqrt(variance), backend.epsilon())``, epsilon 1e-7.
KERAS_NORMALIZATION_FLOOR = 1e-7

@dataclass
class KerasLayer:
    """One layer of the Keras model: its class, constructor arguments and variables in Keras's order."""

    class_name: str
    config: dict = field(default_factory=dict)
    weights: list[np.ndarray] = field(default_factory=list)


def snake_case(name: str) -> str:
    """Keras's ``naming.to_snake_case``: ``MaxPooling2D`` → ``max_pooling2d``, ``Conv2D`` → ``conv2d``."""
    name = re.sub(r"\W+", "", name)
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


def _unique(stem: str, used: dict[str, int]) -> str:
    """``stem``, then ``stem_1``, ``stem_2`` …: how Keras numbers the layers of one kind."""
    count = used.get(stem, 0)
    used[stem] = count + 1
    return stem if count == 0 else f"{stem}_{count}"


def _record(layer: KerasLayer, name: str) -> dict:
    return {"module": "keras.layers", "class_name": layer.class_name,
            "config": {"name": name, **layer.config}, "registered_name": None}


def preprocessing_layers(preprocessing: dict | None, input_shape: tuple) -> tuple[tuple, list[KerasLayer]]:
    """The raw input's shape and the layers from it to the values training fed the network."""
    kind = (preprocessing or {}).get("kind")
    if kind == "scale":
        raw = tuple(int(s) for s in preprocessing.get("image_shape") or ())
        if not raw:
            raise NnkitInputError("the model's image preprocessing has no image shape; it cannot be exported")
        layers = [KerasLayer("Rescaling", {"scale": 1.0 / float(preprocessing["divisor"]), "offset": 0.0})]
    elif kind == "standardize":
        std = np.asarray(preprocessing["std"], dtype=np.float64)
        if (tiny := np.flatnonzero(std < KERAS_NORMALIZATION_FLOOR)).size:
            names = preprocessing.get("feature_names") or [f"x{j}" for j in range(std.size)]
            raise NnkitInputError(
                f"feature {names[tiny[0]]} has a standard deviation of {std[tiny[0]]:.3g} in the model's "
                f"standardisation; Keras's Normalization divides by at least {KERAS_NORMALIZATION_FLOOR:g}, so "
                "the .keras model would predict otherwise",
                hint="a constant feature: train the model again (nnkit now maps it to 0); else rescale the feature")
        raw = (std.size,)
        layers = [KerasLayer("Normalization", {
            "axis": -1, "mean": [float(m) for m in preprocessing["mean"]], "variance": (std**2).tolist()})]
    elif kind is None:
        raw, layers = tuple(input_shape), []
    else:
        raise NnkitInputError(f"unknown preprocessing kind {kind!r}; the model cannot be exported")
    if raw != tuple(input_shape):
        layers.append(KerasLayer("Reshape", {"target_shape": list(input_shape)}))
    return raw, layers


def network_layers(network, separate_softmax: bool) -> list[KerasLayer]:
    """The network's layers in Keras's form, activations folded into the layer before them."""
    layers: list[KerasLayer] = []
    for layer in network.layers:
        for class_name, config, weights in layer.keras():
            keras_layer = KerasLayer(class_name, dict(config), list(weights))
            previous = layers[-1] if layers else None
            foldable = (keras_layer.class_name == "Activation" and previous is not None
                        and previous.class_name in ("Dense", "Conv2D")
                        and previous.config.get("activation", "linear") == "linear")
            if foldable:
                previous.config["activation"] = keras_layer.config["activation"]
            else:
                layers.append(keras_layer)
    last = layers[-1] if layers else None
    if last is None or last.class_name != "Dense" or last.config.get("activation", "linear") != "linear":
        raise NnkitInputError("the network does not end in a Dense layer; it cannot be exported as .keras")
    if network.output == "softmax" and separate_softmax:
        layers.append(KerasLayer("Softmax", {"axis": -1}))
    else:
        last.config["activation"] = network.output  # "softmax" or "sigmoid"
    return layers


#: nnkit's optimizers as the nearest Keras optimizer: class, arguments besides the learning rate, and
#: the state it keeps per weight array (Keras's ``build`` order: for each weight, each of these).
KERAS_OPTIMIZERS = {
    "sgd": ("SGD", {}, ()),
    "momentum": ("SGD", {"momentum": 0.9}, ("momentum",)),
    "adagrad": ("Adagrad", {"initial_accumulator_value": 0.0, "epsilon": 1e-10}, ("accumulator",)),
    "rmsprop": ("RMSprop", {"rho": 0.99, "epsilon": 1e-8}, ("velocity",)),
    "rmsprop-keras": ("RMSprop", {"rho": 0.9, "epsilon": 1e-7}, ("velocity",)),
    "adam": ("Adam", {"epsilon": 1e-8}, ("momentum", "velocity")),
}


def _optimizer(options: dict) -> tuple[str, dict, tuple[str, ...]]:
    return KERAS_OPTIMIZERS.get(options.get("optimizer") or "adam", KERAS_OPTIMIZERS["adam"])


def compile_config(network, options: dict) -> dict:
    """Optimizer, loss and metric for ``model.fit``: the ones the model was trained with, in Keras."""
    class_name, arguments, _ = _optimizer(options)
    optimizer = {"module": "keras.optimizers", "class_name": class_name, "registered_name": None,
                 "config": {"learning_rate": float(options.get("lr") or 0.001), **arguments}}
    loss = "sparse_categorical_crossentropy" if network.output == "softmax" else "binary_crossentropy"
    return {"optimizer": optimizer, "loss": loss, "loss_weights": None, "metrics": ["accuracy"],
            "weighted_metrics": None, "run_eagerly": False, "steps_per_execution": 1, "jit_compile": True}


def optimizer_state(layers: list[KerasLayer], options: dict) -> tuple[str, list[np.ndarray]]:
    """The optimizer's name and variables as a freshly built Keras optimizer holds them.

    Keras builds the optimizer of a compiled model when it loads it and expects the file to hold as
    many variables: the step count, the learning rate, then for each weight array its state (zeros:
    training in Keras starts the optimizer afresh, as the torch-style state of nnkit's optimizers is
    not Keras's).
    """
    class_name, _, slots = _optimizer(options)
    state = [np.array(0, dtype=np.int64), np.array(float(options.get("lr") or 0.001), dtype=np.float32)]
    state += [np.zeros(np.shape(w), dtype=np.float32) for layer in layers for w in layer.weights for _ in slots]
    return snake_case(class_name), state


def _network_input_shape(network) -> tuple:
    shape = tuple(getattr(network, "input_shape", None) or (network.sizes[0],))
    if None in shape:
        raise NnkitInputError("a network that takes images of any size cannot be exported (Keras needs the size)")
    return shape


def raw_input_shape(network, meta: dict) -> tuple:
    """The shape of one raw input the Keras model takes (as ``nnkit predict`` takes it)."""
    return preprocessing_layers(meta.get("preprocessing"), _network_input_shape(network))[0]


def keras_members(network, meta: dict) -> dict[str, bytes]:
    """The three members of the ``.keras`` archive for a loaded nnkit model.

    Parameters
    ----------
    network : Network
        As :func:`nnkit.files.model_file.load_model` returns it.
    meta : dict
        The model's meta data (preprocessing, training options).

    Returns
    -------
    dict
        ``{"metadata.json": …, "config.json": …, "model.weights.h5": …}``.
    """
    options = meta.get("options") or {}
    raw_shape, layers = preprocessing_layers(meta.get("preprocessing"), _network_input_shape(network))
    layers += network_layers(network, separate_softmax=options.get("model") == "course-mlp")
    used: dict[str, int] = {}
    names = [_unique(snake_case(layer.class_name), used) for layer in layers]
    input_record = {"module": "keras.layers", "class_name": "InputLayer", "registered_name": None,
                    "config": {"batch_shape": [None, *raw_shape], "dtype": "float32", "name": "input_layer"}}
    config = {
        "module": "keras", "class_name": "Sequential", "registered_name": None,
        "config": {"name": "sequential", "trainable": True,
                   "layers": [input_record, *(_record(layer, name) for layer, name in zip(layers, names, strict=True))],
                   "build_input_shape": [None, *raw_shape]},
        "build_config": {"input_shape": [None, *raw_shape]},
        "compile_config": compile_config(network, options),
    }
    metadata = {"keras_version": KERAS_VERSION,
                "date_saved": datetime.datetime.now().strftime("%Y-%m-%d@%H:%M:%S")}
    return {"metadata.json": json.dumps(metadata).encode(),
            "config.json": json.dumps(config).encode(),
            "model.weights.h5": _weights_h5(layers, optimizer_state(layers, options))}


def _weights_h5(layers: list[KerasLayer], optimizer: tuple[str, list[np.ndarray]]) -> bytes:
    import h5py

    buffer = io.BytesIO()
    used: dict[str, int] = {}
    with h5py.File(buffer, "w") as h5:
        for layer in layers:
            path = _unique(snake_case(layer.class_name), used)
            group = h5.create_group(f"layers/{path}/vars")
            group.attrs["name"] = path
            for i, value in enumerate(layer.weights):
                group.create_dataset(str(i), data=np.asarray(value, dtype=np.float32))
        h5.create_group("vars").attrs["name"] = "sequential"
        name, state = optimizer
        group = h5.create_group("optimizer/vars")
        group.attrs["name"] = name
        for i, value in enumerate(state):
            group.create_dataset(str(i), data=value)
    return buffer.getvalue()


def keras_archive(network, meta: dict) -> bytes:
    """The ``.keras`` file's bytes: the three members zipped as Keras writes them."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in keras_members(network, meta).items():
            archive.writestr(name, data)
    return buffer.getvalue()
