"""Saving and loading trained networks as plain ``.npz`` files, never with pickle (docs/conventions.md, "Model files").

Layout: arrays ``W0, b0, W1, b1, …`` (the parameters in layer order, in the network's dtype: a
dense ``W`` has shape (inputs, outputs), a conv ``W`` (kh, kw, c_in, c_out) as Keras stores it)
and one 0-d string array ``meta`` holding JSON. Every network is written as its layer list (kind
``layers``, version 2)::

    {"format": "nnkit-model", "version": 2, "kind": "layers", "output": "softmax",
     "input_shape": [28, 28, 1], "layers": [{"type": "conv2d", "filters": 32, "kernel": [3, 3],
     "stride": 1, "padding": "valid"}, {"type": "activation", "name": "relu"}, …],
     ...whatever the command adds: "task", "classes", "preprocessing", "options", "epochs_run"...}

``layers`` is every layer's ``config()`` in order, its records declared by the layer registry
(:mod:`nnkit.nn.layers`; the fused softmax/sigmoid output is ``output``, not a layer); the weight
arrays' shapes follow from it and ``input_shape``.

Files of earlier versions load as they always did: a multilayer perceptron of version 1 (kind
``mlp``) describes its dense layers by ``"sizes": [64, 256, 10]`` and ``"activations": ["relu"]``,
with or without the same network as a layer list beside them (which must then agree).

``np.load(path, allow_pickle=False)`` opens it, so a model can be inspected without nnkit.

What a model file may hold is declared once, below: :data:`COMMON_META` (keys every model kind
shares) and :data:`MODEL_KINDS` (for each kind: its own meta keys, the arrays its meta promises, its
cross-field rules and how to build the network). :func:`load_model` validates the whole file against
that declaration (every key, type, length, array name, shape and dtype; every zip member's header
against its real size; the weights and one sample's work against the memory) before using any of
it, and raises :class:`NnkitInputError` for anything else, which the CLI turns into exit status 2.
:func:`save_model` validates the same way, so nnkit never writes a file it would refuse to read.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nnkit.course.logic_gates import GATES
from nnkit.errors import NnkitInputError, shape_text
from nnkit.files.npyfile import ArchiveError, NpzArchive
from nnkit.files.schema import (
    AnyOf,
    Choice,
    Const,
    Field,
    Int,
    List,
    Nullable,
    Number,
    Record,
    SchemaError,
    Str,
    Tagged,
    describe,
)
from nnkit.nn.layers import HIDDEN_ACTIVATIONS, LAYER_TYPES, Dense, layer_type
from nnkit.nn.layers.base import MAX_SIZE
from nnkit.nn.network import OUTPUTS, Network
from nnkit.nn.optimizers import OPTIMIZERS
from nnkit.nn.stack import INITS, LayerFitError, layers_from_config, network_from_weights, stack_footprint, walk
from nnkit.term.limits import require_memory
from nnkit.term.output import atomic_write, check_output_path

FORMAT = "nnkit-model"
#: Version 2 added the ``layers`` kind; every network is written so (version 1 MLPs still load).
VERSION = 2
#: The largest ``meta`` JSON read (characters): preprocessing statistics of 10⁶ features fit.
MAX_META_CHARS = 64 * 1024 * 1024

# --- the declaration ---------------------------------------------------------------------------------

CLASS_NAME = AnyOf((Int(), Str(max_length=200)), "a class name (a string or an integer)")

PREPROCESSING = Tagged(
    "kind",
    {
        # Images: flattened and divided by their full-scale value.
        "scale": Record(
            {
                "kind": Const("scale"),
                "divisor": Number(positive=True),
                "image_shape": Field(List(Int(low=1), min_length=1, max_length=4), required=False),
            }
        ),
        # Tables: standardised with the training part's statistics.
        "standardize": Record(
            {
                "kind": Const("standardize"),
                "mean": List(Number()),
                "std": List(Number(positive=True)),
                "feature_names": Field(List(Str(max_length=1000)), required=False),
                "label_name": Field(Nullable(Str(max_length=1000)), required=False),
            }
        ),
    },
)

#: The command-line options a model remembers (train-mlp and train-xor); ``--resume`` reads them.
OPTIONS = Record(
    {
        name: Field(check, required=False)
        for name, check in {
            "optimizer": Choice(tuple(OPTIMIZERS)),
            "lr": Nullable(Number(positive=True)),
            "batch_size": AnyOf((Int(low=1), Const("full")), "a positive integer or 'full'"),
            "epochs": Int(low=0),
            "l2": Number(low=0),
            "seed": Int(low=0),
            "val_split": Number(low=0, high=1, below_high=True),
            "test_split": Number(low=0, high=1, below_high=True),
            "early_stopping": Nullable(Int(low=0)),
            "hidden": Nullable(Int(low=1)),
            "activation": Nullable(Choice(HIDDEN_ACTIVATIONS)),
            "val_from": Choice(("stratified", "last")),
            "init": Choice(INITS),
            "model": Str(max_length=100),
            "layers": Str(),
        }.items()
    }
)

#: What the training inputs looked like (:mod:`nnkit.nn.novelty`), for predict's and explain's caution.
TRAINING_SUMMARY = Record(
    {
        "samples": Int(low=1),
        "intensity_range": List(Number(), min_length=2, max_length=2),
        "confidence_floor": Number(low=0, high=1),
        "mean": Field(List(Number()), required=False),
        "std": Field(List(Number(positive=True)), required=False),
        "distance_limit": Field(Number(low=0), required=False),
        "value_edges": Field(List(Number(), max_length=100), required=False),
        "value_histogram": Field(List(Number(low=0, high=1), max_length=101), required=False),
        "histogram_limit": Field(Number(low=0), required=False),
    }
)

#: Keys every kind of model has or may have.
COMMON_META = Record(
    {
        "format": Const(FORMAT),
        "version": Int(low=1, high=VERSION),
        "kind": Field(Str(max_length=100), required=False),  # checked against MODEL_KINDS
        "task": Field(Choice(("classification",)), required=False),
        "classes": Field(List(CLASS_NAME, min_length=2, unique=True), required=False),
        "preprocessing": Field(Nullable(PREPROCESSING), required=False),
        "options": Field(OPTIONS, required=False),
        "epochs_run": Field(Int(low=0), required=False),
        "data": Field(Str(), required=False),
        "data_digest": Field(Str(max_length=64), required=False),  # dataset_digest; absent in older files
        "gate": Field(Choice(tuple(GATES)), required=False),
        "command": Field(Str(max_length=100), required=False),
        "training_summary": Field(TRAINING_SUMMARY, required=False),  # absent in older files
    }
)

# --- the layer list ----------------------------------------------------------------------------------
_SIZE = Int(low=1, high=MAX_SIZE)


@dataclass(frozen=True)
class LayerRecord:
    """A layer's record in a file: a ``type`` of the layer registry and the settings its class declares.

    Each setting is checked by the class itself (the same check as a ``--layers`` spec's); a key
    the class does not declare is refused.
    """

    def __call__(self, value, where):
        if type(value) is not dict:
            raise SchemaError(where, f"must be an object, not {describe(value)}")
        if "type" not in value:
            raise SchemaError(f"{where}.type", "is missing")
        cls = layer_type(value["type"])
        if cls is None:
            Choice(tuple(LAYER_TYPES))(value["type"], f"{where}.type")
        for key, setting_value in value.items():
            setting = cls.setting(key)
            if key == "type":
                continue
            if setting is None:
                known = ", ".join(s.name for s in cls.settings) or "none"
                raise SchemaError(f"{where}.{key}", f"is not a setting of {cls.type_name} (its settings: {known})")
            try:
                setting.check(setting_value)
            except ValueError as exc:
                raise SchemaError(f"{where}.{key}", str(exc)) from None
        for setting in cls.settings:
            if setting.required and setting.name not in value:
                raise SchemaError(f"{where}.{setting.name}", "is missing")
        return value


#: Every layer type a file may list, with its settings (the engine's ``config()`` of that layer).
LAYER_CONFIG = LayerRecord()
LAYERS = List(LAYER_CONFIG, min_length=1, max_length=1000)
INPUT_SHAPE = AnyOf(
    (List(_SIZE, min_length=1, max_length=1), List(_SIZE, min_length=3, max_length=3)),
    "[features] or [height, width, channels]",
)


@dataclass(frozen=True)
class ArraySpec:
    """An array a model's meta promises: its exact shape, floats only, all finite."""

    shape: tuple[int, ...]


@dataclass(frozen=True)
class ModelKind:
    """One kind of model file.

    Attributes
    ----------
    meta : Record
        Its meta keys (:data:`COMMON_META` extended with its own).
    arrays : callable
        ``arrays(meta) -> {name: ArraySpec}``: every array the file must hold, no more.
    rules : tuple of callables
        ``rule(meta)`` raises :class:`SchemaError` when keys disagree (lengths, counts).
    n_inputs, n_outputs : callable
        ``(meta) -> int``: values per input and units of the output layer.
    stack : callable
        ``(meta) -> (layer configs, input shape)``: the layer list the meta describes.
    build : callable
        ``build(meta, arrays) -> Network`` from validated parts.
    """

    meta: Record
    arrays: Callable[[dict], dict[str, ArraySpec]]
    rules: tuple[Callable[[dict], None], ...]
    n_inputs: Callable[[dict], int]
    n_outputs: Callable[[dict], int]
    stack: Callable[[dict], tuple[list, tuple]]
    build: Callable[[dict, dict[str, np.ndarray]], Network]


def _mlp_arrays(meta: dict) -> dict[str, ArraySpec]:
    sizes = meta["sizes"]
    specs = {}
    for i in range(len(sizes) - 1):
        specs[f"W{i}"] = ArraySpec((sizes[i], sizes[i + 1]))
        specs[f"b{i}"] = ArraySpec((sizes[i + 1],))
    return specs


def _mlp_activation_count(meta: dict) -> None:
    hidden = len(meta["sizes"]) - 2
    if len(meta["activations"]) != hidden:
        raise SchemaError(
            "meta.activations",
            f"must name one activation per hidden layer ({hidden}), not {len(meta['activations'])}",
        )


def _mlp_build(meta: dict, arrays: dict[str, np.ndarray]) -> Network:
    weights = [arrays[name] for name in _mlp_arrays(meta)]
    return network_from_weights(weights, meta["activations"], meta["output"])


def _layers_arrays(meta: dict) -> dict[str, ArraySpec]:
    """The weight arrays a layer list needs, from the shape walk of its layers (nothing allocated).

    A list whose shapes do not fit (a conv on rows, a stack shrinking below 1×1, a dense layer on
    an image) is refused here with the layer and the shapes.
    """
    specs: dict[str, ArraySpec] = {}
    try:
        for _, cls, values, shape, _ in walk(meta["layers"], meta["input_shape"], activation=False):
            for array_shape in cls.parameter_shapes(values, shape):
                k = len(specs)
                specs[f"{'Wb'[k % 2]}{k // 2}"] = ArraySpec(tuple(array_shape))
    except LayerFitError as error:
        raise SchemaError(f"meta.layers[{error.index}]", f"({error.kind}) does not fit: {error.problem}") from None
    if meta["layers"][-1]["type"] != Dense.type_name:
        raise SchemaError("meta.layers", "must end with a dense layer (the class scores)")
    return specs


def _layers_consistent(meta: dict) -> None:
    _layers_arrays(meta)  # shapes fit (raises with the layer); the arrays are checked by _read


def _layers_build(meta: dict, arrays: dict[str, np.ndarray]) -> Network:
    layers = layers_from_config(meta["layers"], [arrays[name] for name in _layers_arrays(meta)])
    return Network(layers, output=meta["output"], input_shape=tuple(meta["input_shape"]))


def _mlp_stack(meta: dict) -> tuple[list, tuple]:
    """The layer list of an MLP described by ``sizes`` and ``activations`` (version 1 files)."""
    configs = []
    for i, units in enumerate(meta["sizes"][1:]):
        configs.append({"type": "dense", "units": units})
        if i < len(meta["activations"]):
            configs.append({"type": "activation", "name": meta["activations"][i]})
    return configs, tuple(meta["sizes"][:1])


def _mlp_layer_list(meta: dict) -> None:
    """An MLP's optional layer list repeats ``sizes`` and ``activations``: they must agree."""
    if "layers" not in meta and "input_shape" not in meta:
        return
    expected, _ = _mlp_stack(meta)
    if meta.get("layers") != expected:
        raise SchemaError("meta.layers", "does not match meta.sizes and meta.activations")
    if meta.get("input_shape") != meta["sizes"][:1]:
        raise SchemaError("meta.input_shape", f"must be [{meta['sizes'][0]}], the first of meta.sizes")


#: Every kind of model file nnkit reads, by the value of ``meta["kind"]`` (absent: ``"mlp"``).
MODEL_KINDS: dict[str, ModelKind] = {
    "mlp": ModelKind(
        meta=COMMON_META.extended(
            sizes=List(Int(low=1), min_length=2, max_length=1000),
            activations=List(Choice(HIDDEN_ACTIVATIONS)),
            output=Choice(OUTPUTS),
            layers=Field(LAYERS, required=False),
            input_shape=Field(INPUT_SHAPE, required=False),
        ),
        arrays=_mlp_arrays,
        rules=(_mlp_activation_count, _mlp_layer_list),
        n_inputs=lambda meta: meta["sizes"][0],
        n_outputs=lambda meta: meta["sizes"][-1],
        stack=_mlp_stack,
        build=_mlp_build,
    ),
    "layers": ModelKind(
        meta=COMMON_META.extended(
            version=Const(2),
            layers=LAYERS,
            input_shape=INPUT_SHAPE,
            output=Choice(OUTPUTS),
        ),
        arrays=_layers_arrays,
        rules=(_layers_consistent,),
        n_inputs=lambda meta: math.prod(meta["input_shape"]),
        n_outputs=lambda meta: meta["layers"][-1]["units"],
        stack=lambda meta: (meta["layers"], tuple(meta["input_shape"])),
        build=_layers_build,
    ),
}
DEFAULT_KIND = "mlp"


def _common_rules(kind: ModelKind, meta: dict) -> None:
    """What every kind must agree on: classes with outputs, preprocessing with inputs."""
    n_inputs, n_outputs = kind.n_inputs(meta), kind.n_outputs(meta)
    classes = meta.get("classes")
    n_classes = n_outputs if n_outputs > 1 else 2  # one sigmoid unit tells two classes apart
    if classes is not None and len(classes) != n_classes:
        raise SchemaError(
            "meta.classes", f"must name the {n_classes} classes of the output layer, not {len(classes)}"
        )
    summary = meta.get("training_summary")
    if summary is not None:
        keys = [key for key in ("mean", "std", "distance_limit") if key in summary]
        if keys and len(keys) != 3:
            raise SchemaError("meta.training_summary", "must have mean, std and distance_limit together")
        shape = [key for key in ("value_edges", "value_histogram", "histogram_limit") if key in summary]
        if shape and len(shape) != 3:
            raise SchemaError("meta.training_summary", "must have value_edges, value_histogram and histogram_limit together")
        if shape and len(summary["value_histogram"]) != len(summary["value_edges"]) + 1:
            raise SchemaError("meta.training_summary.value_histogram", "must have one bin more than value_edges")
        for key in keys[:2]:
            if len(summary[key]) != n_inputs:
                raise SchemaError(f"meta.training_summary.{key}", f"must hold {n_inputs} values, not {len(summary[key])}")
    spec = meta.get("preprocessing")
    if not spec:
        return
    if spec["kind"] == "standardize":
        for key in ("mean", "std"):
            if len(spec[key]) != n_inputs:
                raise SchemaError(
                    f"meta.preprocessing.{key}", f"must hold {n_inputs} values (one per input), not {len(spec[key])}"
                )
        names = spec.get("feature_names")
        if names and len(names) != n_inputs:
            raise SchemaError(
                "meta.preprocessing.feature_names", f"must name {n_inputs} features, not {len(names)}"
            )
    elif "image_shape" in spec and math.prod(spec["image_shape"]) != n_inputs:
        raise SchemaError(
            "meta.preprocessing.image_shape",
            f"{shape_text(spec['image_shape'])} does not make the model's {n_inputs} inputs",
        )


def validate_meta(meta) -> ModelKind:
    """Check a model's meta data against the declaration; the :class:`ModelKind` it is.

    Raises
    ------
    SchemaError
        The first key that is missing, of the wrong type, out of range or inconsistent.

    Examples
    --------
    >>> validate_meta({"format": "nnkit-model", "version": 1, "sizes": [2, 1], "activations": [],
    ...                "output": "sigmoid", "classes": ["no", "yes"]}) is MODEL_KINDS["mlp"]
    True
    >>> validate_meta({"format": "nnkit-model", "version": 1, "sizes": [2, 3], "activations": [],
    ...                "output": "softmax", "classes": 7})
    Traceback (most recent call last):
    ...
    nnkit.files.schema.SchemaError: meta.classes must be a list, not an integer (7)
    """
    COMMON_META(meta, "meta")
    name = meta.get("kind", DEFAULT_KIND)
    if name not in MODEL_KINDS:
        raise SchemaError("meta.kind", f"must be one of {', '.join(MODEL_KINDS)}, not {name!r}")
    kind = MODEL_KINDS[name]
    kind.meta(meta, "meta")
    for rule in kind.rules:
        rule(meta)
    _common_rules(kind, meta)
    return kind


def _json_default(value):
    """Turn NumPy values (class names, statistics arrays) and paths into JSON."""
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"cannot store {type(value).__name__} in a model's meta data")


def model_arrays(network: Network, meta: dict | None = None) -> dict[str, np.ndarray]:
    """The arrays of the model file: ``W0, b0, …`` and the JSON ``meta`` string array.

    Examples
    --------
    >>> from nnkit.nn.stack import build_mlp
    >>> arrays = model_arrays(build_mlp(2, [3], 1, activation="tanh", output="sigmoid", rng=0))
    >>> sorted(arrays), arrays["W0"].shape, json.loads(str(arrays["meta"]))["layers"][1]
    (['W0', 'W1', 'b0', 'b1', 'meta'], (2, 3), {'type': 'activation', 'name': 'tanh'})
    """
    full_meta = dict(meta or {})
    full_meta.update(
        {
            "format": FORMAT,
            "version": 2,
            "kind": "layers",
            "output": network.output,
            "input_shape": list(network.input_shape),
            "layers": network.configs(),
        }
    )
    # Round-trip through JSON so that what is validated is exactly what a reader will see.
    text = json.dumps(full_meta, default=_json_default)
    validate_meta(json.loads(text))
    arrays: dict[str, np.ndarray] = {}
    params = network.parameters()
    for i in range(0, len(params), 2):
        arrays[f"W{i // 2}"] = params[i]
        arrays[f"b{i // 2}"] = params[i + 1]
    arrays["meta"] = np.array(text)
    return arrays


def save_model(path: str | Path, network: Network, meta: dict | None = None, env=None) -> None:
    """Write ``network`` and ``meta`` to ``path`` (.npz), atomically.

    Parameters
    ----------
    path : str or Path
        Destination; replaced only once the whole file is written.
    network : Network
        The trained network.
    meta : dict, optional
        JSON-able facts to keep with it (task, class names, preprocessing statistics, options).
        The layer keys (format, version, kind, input_shape, layers, output) are added here.
    env : Environment, optional
        With it, refuses to overwrite a file this run has read.
    """
    check_output_path(path, ".npz", "models")
    arrays = model_arrays(network, meta)
    with atomic_write(path, env) as handle:
        np.savez(handle, **arrays)


def load_model(path: str | Path) -> tuple[Network, dict]:
    """Read a model written by :func:`save_model`: the network and its meta data.

    The whole file is validated first (see the module's docstring); nothing of a file that fails is
    used.

    Raises
    ------
    NnkitInputError
        The file is missing, not an ``.npz``, not an nnkit model, or inconsistent (shapes,
        activations, non-finite weights).
    """
    path = Path(path)
    if not path.is_file():
        raise NnkitInputError(f"model file {path} does not exist")
    try:
        with open(path, "rb") as handle, NpzArchive(handle, str(path)) as archive:
            return _read(archive, path)
    except ArchiveError as error:
        raise _not_a_model(path, error.problem) from None
    except OSError as exc:
        raise NnkitInputError(f"cannot read the model {path}: {exc.strerror or exc}") from None


def _not_a_model(path: Path, problem: str) -> NnkitInputError:
    return NnkitInputError(
        f"{path} is not an nnkit model: {problem}",
        hint="make one with nnkit train-mlp --save or nnkit train-xor --save",
    )


def _read_meta(archive: NpzArchive, path: Path) -> dict:
    header = archive.headers.get("meta")
    if header is None:
        raise _not_a_model(path, "it has no 'meta' array (an .npz with W0, b0, …, meta)")
    if header.dtype.kind != "U" or header.shape != ():
        raise _not_a_model(path, f"its 'meta' is {header.describe()}, not one JSON string")
    if header.dtype.itemsize // 4 > MAX_META_CHARS:
        raise _not_a_model(path, f"its 'meta' is {header.dtype.itemsize // 4} characters long")
    text = str(archive.read("meta"))
    try:
        meta = json.loads(text)
    except RecursionError:
        raise _not_a_model(path, "its 'meta' JSON is nested too deeply") from None
    except ValueError as exc:  # JSONDecodeError, and integers of more than 4300 digits
        raise _not_a_model(path, f"its 'meta' is not valid JSON ({exc})") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise _not_a_model(path, "its 'meta' does not say format 'nnkit-model'")
    version = meta.get("version")
    if type(version) is int and version > VERSION:
        raise NnkitInputError(
            f"{path} has model format version {version}; this nnkit reads version {VERSION}",
            hint="update nnkit (pip install -U nnkit-cli)",
        )
    return meta


def _within_budget(path: Path, configs: list, input_shape: tuple) -> None:
    """Refuse a model whose weights and one sample's work cannot fit in memory, before reading them.

    The sizes are those the meta claims (already checked to fit each other); float64 is assumed.
    """
    parameters, per_sample = stack_footprint(configs, input_shape)
    require_memory(8 * (parameters + 2 * per_sample), f"the model {path} ({parameters:,} parameters, "
                   f"{per_sample:,} values per sample)")


def _read(archive: NpzArchive, path: Path) -> tuple[Network, dict]:
    meta = _read_meta(archive, path)
    try:
        kind = validate_meta(meta)
    except SchemaError as error:
        raise _not_a_model(path, str(error)) from None
    specs = kind.arrays(meta)
    for name in archive.files:
        if name != "meta" and name not in specs:
            raise _not_a_model(path, f"it holds an array {name!r} its meta data does not describe")
    dtypes = set()
    for name, spec in specs.items():
        header = archive.headers.get(name)
        if header is None:
            raise _not_a_model(path, f"the array {name} is missing")
        if header.shape != spec.shape:
            raise _not_a_model(path, f"{name} has shape {header.shape}, its meta data says {spec.shape}")
        if header.dtype.kind != "f":
            raise _not_a_model(path, f"{name} must hold floats, not {header.dtype}")
        dtypes.add(header.dtype.newbyteorder("="))
    if len(dtypes) > 1:
        raise _not_a_model(path, f"the weights mix dtypes {', '.join(sorted(map(str, dtypes)))}")
    _within_budget(path, *kind.stack(meta))
    arrays = {}
    for name in specs:
        array = archive.read(name)
        if not np.all(np.isfinite(array)):
            raise _not_a_model(path, f"{name} holds NaN or infinite weights")
        # Big-endian arrays (written on another machine) become native: the same values, and what
        # the engine's products and ONNX's tensors take.
        arrays[name] = array.astype(array.dtype.newbyteorder("="), copy=False)
    return kind.build(meta, arrays), meta
