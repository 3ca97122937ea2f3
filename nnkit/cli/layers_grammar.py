"""The ``--layers`` grammar: a short, readable layer stack → the engine's layer spec dicts.

A stack is layers separated by commas; each layer is a word, its sizes in order, then an optional
activation and ``key=value`` settings::

    conv 32 3 relu, maxpool 2, conv 64 3 relu stride=2 padding=same, flatten, dropout 0.2, dense 10 softmax

becomes ``[{"type": "conv2d", "filters": 32, "kernel": 3, "activation": "relu"}, …]``, the spec
dicts :func:`nnkit.nn.stack.build_layers` takes. Every mistake is an
:class:`NnkitInputError` naming the token and the valid choices. :data:`LAYER_WORDS` is the one
place that says which words exist, what their sizes mean and which settings they take; ``--help``,
the README and the error messages all read it. :data:`COURSE_MODELS` holds the course's two
models (next chapter: MNIST with Keras) with their training settings.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from nnkit.errors import NnkitInputError, did_you_mean
from nnkit.nn.layers import HIDDEN_ACTIVATIONS
from nnkit.nn.network import OUTPUTS
from nnkit.nn.stack import LAYER_TYPES, SPEC_ACTIVATIONS


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise ValueError("must be a whole number") from None
    if value < 1:
        raise ValueError("must be at least 1")
    return value


def _rate(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ValueError("must be a number in [0, 1)") from None
    if not 0.0 <= value < 1.0:  # NaN fails too
        raise ValueError("must be a number in [0, 1)")
    return value


#: How the text of each setting becomes its value (the engine's choices are checked as text).
_CONVERTERS: dict[str, Callable[[str], object]] = {"rate": _rate, "padding": str}


@dataclass(frozen=True)
class LayerWord:
    """One word of the grammar; what its sizes and settings mean comes from the engine's registry.

    Attributes
    ----------
    spec_type : str
        The engine's layer type, a key of :data:`~nnkit.nn.stack.LAYER_TYPES`.
    sizes : tuple of str
        The positional values, in order, all required.
    settings : tuple of str
        The ``key=value`` settings it takes.
    fixed : dict
        Spec keys the word itself sets (``meanpool`` is ``maxpool2d`` with ``op="mean"``).
    images_only : bool
        The layer needs images (height × width × channels), not rows of values.
    meaning : str, optional
        One line for ``--help`` (default: the layer type's description).
    """

    spec_type: str
    sizes: tuple = ()
    settings: tuple = ()
    fixed: dict = field(default_factory=dict)
    images_only: bool = False
    meaning: str | None = None

    @property
    def layer_type(self):
        return LAYER_TYPES[self.spec_type]

    @property
    def activation(self) -> bool:
        """Whether an activation name may follow the sizes (or ``activation=NAME``)."""
        return self.layer_type.param("activation") is not None

    def describe(self, name: str) -> str:
        return self.layer_type.param(name).meaning

    def choices(self, name: str) -> tuple | None:
        return self.layer_type.param(name).choices

    def usage(self, word: str) -> str:
        """``conv FILTERS KERNEL [ACTIVATION] [stride=N] [padding=valid|same]``."""
        parts = [word, *(name.upper() for name in self.sizes)]
        if self.activation:
            parts.append("[ACTIVATION]")
        for name in self.settings:
            choices = self.choices(name)
            parts.append(f"[{name}={'|'.join(choices)}]" if choices else f"[{name}=N]")
        return " ".join(parts)


LAYER_WORDS: dict[str, LayerWord] = {
    "conv": LayerWord("conv2d", sizes=("filters", "kernel"), settings=("stride", "padding"), images_only=True),
    "maxpool": LayerWord("maxpool2d", sizes=("size",), settings=("stride",), fixed={"op": "max"},
                         images_only=True, meaning="max of each window; a partial edge window is "
                         "dropped, as in Keras"),
    "meanpool": LayerWord("maxpool2d", sizes=("size",), settings=("stride",), fixed={"op": "mean"},
                          images_only=True, meaning="mean of each window; a partial edge window "
                          "is dropped, as in Keras"),
    "flatten": LayerWord("flatten"),
    "dropout": LayerWord("dropout", sizes=("rate",)),
    "dense": LayerWord("dense", sizes=("units",)),
}
#: Other spellings users bring from Keras and PyTorch.
ALIASES = {
    "conv2d": "conv",
    "maxpool2d": "maxpool",
    "max_pooling2d": "maxpool",
    "maxpooling2d": "maxpool",
    "pool": "maxpool",
    "avgpool": "meanpool",
    "avgpool2d": "meanpool",
    "average_pooling2d": "meanpool",
    "linear": "dense",
    "fc": "dense",
}


@dataclass(frozen=True)
class CourseModel:
    """One of the course's models with the settings its chapter trains it with."""

    layers: str
    description: str
    optimizer: str = "rmsprop-keras"
    lr: float = 1e-3
    batch_size: int = 128
    epochs: int = 10
    val_split: float = 0.2
    val_from: str = "last"  # Keras's validation_split: the last 20 %, unshuffled
    init: str = "keras"  # Glorot uniform weights, zero biases


COURSE_MODELS: dict[str, CourseModel] = {
    "course-mlp": CourseModel(
        "flatten, dense 128 relu, dropout 0.2, dense 10 softmax",
        "the chapter's fully connected model (101 770 parameters on 28×28 images)",
    ),
    "course-cnn": CourseModel(
        "conv 32 3 relu, maxpool 2, conv 64 3 relu, maxpool 2, conv 128 3 relu, flatten, dense 10 softmax",
        "the chapter's convolutional model (104 202 parameters on 28×28×1 images)",
    ),
}


def _activations_choice() -> str:
    return ", ".join(SPEC_ACTIVATIONS)


def _words_choice() -> str:
    return ", ".join(LAYER_WORDS)


def grammar_help() -> str:
    """The grammar in a few lines, for ``--help`` and the README."""
    lines = [
        f"{spec_word.usage(word)}: {spec_word.meaning or spec_word.layer_type.description}"
        for word, spec_word in LAYER_WORDS.items()
    ]
    return "; ".join(lines) + f". Activations: {_activations_choice()}."


def parse_layer(text: str, position: int) -> dict:
    """One layer of the stack (``"conv 32 3 relu stride=2"``) → its spec dict.

    Parameters
    ----------
    text : str
        The layer, without the commas around it.
    position : int
        Its 1-based place in the stack, for the messages.

    Examples
    --------
    >>> parse_layer("conv 32 3 relu padding=same", 1)
    {'type': 'conv2d', 'filters': 32, 'kernel': 3, 'padding': 'same', 'activation': 'relu'}
    >>> parse_layer("dropout 0.2", 2)
    {'type': 'dropout', 'rate': 0.2}
    """
    tokens = text.split()
    if not tokens:
        raise NnkitInputError(
            f"--layers: layer {position} is empty (two commas in a row?)",
            hint=f"layers are: {_words_choice()}",
        )
    word = tokens[0].lower()
    canonical = ALIASES.get(word, word)
    spec_word = LAYER_WORDS.get(canonical)
    if spec_word is None:
        raise NnkitInputError(
            f"--layers: unknown layer {tokens[0]!r} (layer {position})",
            hint=did_you_mean(word, [*LAYER_WORDS, *ALIASES], also=f"layers are: {_words_choice()}"),
        )
    usage = spec_word.usage(canonical)
    spec: dict = {"type": spec_word.spec_type, **spec_word.fixed}
    values: list[str] = []
    activation = None
    for token in tokens[1:]:
        if "=" in token:
            key, _, value = token.partition("=")
            key = key.lower()
            if key == "activation" and spec_word.activation:
                activation = _activation(value, canonical, usage)
                continue
            if key not in spec_word.settings:
                takes = [*spec_word.settings, *(("activation",) if spec_word.activation else ())]
                raise NnkitInputError(
                    f"--layers: {canonical} takes no setting {key!r} (in {text.strip()!r})",
                    hint=f"{canonical} takes: {', '.join(takes) or 'no settings'}; usage: {usage}",
                )
            spec[key] = _convert(spec_word, key, value, token, usage)
        elif spec_word.activation and not _is_number(token) and (
            token.lower() in SPEC_ACTIVATIONS or len(values) >= len(spec_word.sizes)
        ):
            if activation is not None:
                raise NnkitInputError(f"--layers: two activations in {text.strip()!r}", hint=f"usage: {usage}")
            activation = _activation(token, canonical, usage)
        else:
            values.append(token)
    if len(values) > len(spec_word.sizes):
        raise NnkitInputError(
            f"--layers: too many values for {canonical}: {values[len(spec_word.sizes)]!r} "
            f"(in {text.strip()!r})",
            hint=f"usage: {usage}",
        )
    if len(values) < len(spec_word.sizes):
        missing = spec_word.sizes[len(values)]
        raise NnkitInputError(
            f"--layers: {canonical} needs {missing.upper()} ({spec_word.describe(missing)}), "
            f"missing in {text.strip()!r}",
            hint=f"usage: {usage}",
        )
    for name, value in zip(spec_word.sizes, values, strict=True):
        spec[name] = _convert(spec_word, name, value, value, usage)
    # Settings first in the dict, as the engine names them; sizes lead for readability.
    ordered = {"type": spec["type"]}
    ordered.update({name: spec[name] for name in spec_word.sizes})
    ordered.update({k: v for k, v in spec.items() if k not in ordered})
    if activation is not None:
        ordered["activation"] = activation
    return ordered


def _is_number(token: str) -> bool:
    try:
        float(token)
    except ValueError:
        return False
    return True


def _convert(spec_word: LayerWord, name: str, value: str, token: str, usage: str):
    choices = spec_word.choices(name)
    if choices is not None and value not in choices:
        raise NnkitInputError(
            f"--layers: {token!r}: {name} must be one of {', '.join(choices)}", hint=f"usage: {usage}"
        )
    try:
        return _CONVERTERS.get(name, _positive_int)(value)
    except ValueError as exc:
        raise NnkitInputError(f"--layers: {token!r}: {name} {exc}", hint=f"usage: {usage}") from None


def _activation(name: str, word: str, usage: str) -> str:
    if name.lower() not in SPEC_ACTIVATIONS:
        raise NnkitInputError(
            f"--layers: unknown activation {name!r} after {word}",
            hint=did_you_mean(name, SPEC_ACTIVATIONS,
                              also=f"activations are: {_activations_choice()}; usage: {usage}"),
        )
    return name.lower()


def parse_layers(text: str) -> list[dict]:
    """A whole ``--layers`` stack → list of spec dicts, checked for its order.

    The last layer must be ``dense`` (its units are the class scores), softmax and sigmoid only
    end the stack, and a ``conv``/pool layer cannot follow ``flatten`` or ``dense`` (their output
    is no longer an image).

    Examples
    --------
    >>> [s["type"] for s in parse_layers("conv 8 3 relu, maxpool 2, flatten, dense 10 softmax")]
    ['conv2d', 'maxpool2d', 'flatten', 'dense']
    >>> parse_layers("conv 8")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    nnkit.errors.NnkitInputError: --layers: conv needs KERNEL (kernel size...), missing in 'conv 8'
    """
    if not text or not text.strip():
        raise NnkitInputError("--layers is empty", hint=f"layers are: {_words_choice()}")
    pieces = text.split(",")
    specs = [parse_layer(piece, i) for i, piece in enumerate(pieces, start=1)]
    if specs[-1]["type"] != "dense":
        raise NnkitInputError(
            f"--layers must end with a dense layer (the class scores), not {pieces[-1].strip()!r}",
            hint="end the stack with e.g. 'dense 10 softmax' (10 = the number of classes)",
        )
    flat_at = None
    for i, (spec, piece) in enumerate(zip(specs, pieces, strict=True), start=1):
        if spec.get("activation") in OUTPUTS and spec["activation"] != "sigmoid" and i != len(specs):
            raise NnkitInputError(
                f"--layers: softmax only ends the stack; layer {i} {piece.strip()!r} is not the last",
                hint=f"hidden activations are: {', '.join(HIDDEN_ACTIVATIONS)}",
            )
        word = LAYER_WORDS[ALIASES.get(piece.split()[0].lower(), piece.split()[0].lower())]
        if word.images_only and flat_at is not None:
            raise NnkitInputError(
                f"--layers: {piece.strip()!r} (layer {i}) needs images, but layer {flat_at} already "
                "made them rows",
                hint="put conv and pool layers before flatten and dense",
            )
        if spec["type"] in ("flatten", "dense") and flat_at is None:
            flat_at = i
    return specs


def needs_images(specs: list[dict]) -> bool:
    """Whether a stack has conv or pool layers (which need height × width × channels input)."""
    image_types = {w.spec_type for w in LAYER_WORDS.values() if w.images_only}
    return any(spec["type"] in image_types for spec in specs)


def keeps_image_shape(specs: list[dict]) -> bool:
    """Whether a stack takes images as (H, W, C) (conv, pool or flatten first), not flat rows."""
    return needs_images(specs) or specs[0]["type"] == "flatten"


def stack_text(specs: list[dict]) -> str:
    """Spec dicts → the ``--layers`` text that makes them (for reports and titles).

    Examples
    --------
    >>> stack_text(parse_layers("conv 8 3 relu stride=2, flatten, dense 10 softmax"))
    'conv 8 3 relu stride=2, flatten, dense 10 softmax'
    """
    words = {}
    for word, spec_word in LAYER_WORDS.items():
        words.setdefault((spec_word.spec_type, tuple(sorted(spec_word.fixed.items()))), (word, spec_word))
    out = []
    for spec in specs:
        fixed_keys = [(k, spec[k]) for k in ("op",) if k in spec]
        word, spec_word = words[(spec["type"], tuple(sorted(fixed_keys)))]
        parts = [word, *(_number_text(spec[name]) for name in spec_word.sizes)]
        if spec.get("activation"):
            parts.append(spec["activation"])
        for key in spec_word.settings:
            if key in spec:
                parts.append(f"{key}={spec[key]}")
        out.append(" ".join(parts))
    return ", ".join(out)


def _number_text(value) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def stack_footprint(specs: list[dict], input_shape) -> tuple[int, int]:
    """(parameters, floats per sample) of a stack, computed without building its weights.

    The floats per sample count every layer's output and each convolution's patch matrix (what
    one training sample keeps between the forward and the backward pass). Output shapes come
    from the engine's own layers, built with 1×1-channel kernels so that nothing large is made.

    Examples
    --------
    >>> stack_footprint(parse_layers("conv 32 3 relu, maxpool 2, flatten, dense 10"), (28, 28, 1))
    (54410, 38542)
    """
    import numpy as np

    from nnkit.nn.conv_layers import Conv2D, Flatten, MaxPool2D

    shape = tuple(int(s) for s in input_shape)
    if len(shape) != 3 and needs_images(specs):
        return 0, 0  # conv on rows: refused by name elsewhere
    parameters = 0
    per_sample = 0
    for spec in specs:
        kind = spec["type"]
        if kind == "conv2d":
            kernel = spec["kernel"]
            kh, kw = (kernel, kernel) if isinstance(kernel, int) else kernel
            probe = Conv2D(np.zeros((kh, kw, 1, 1), np.float32), stride=spec.get("stride", 1),
                           padding=spec.get("padding", "valid"))
            try:
                h, w, _ = probe.output_shape((*shape[:2], 1))
            except NnkitInputError:
                return parameters, per_sample  # the engine names the layer and the shapes when it builds
            parameters += kh * kw * shape[2] * spec["filters"] + spec["filters"]
            per_sample += h * w * kh * kw * shape[2]
            shape = (h, w, spec["filters"])
        elif kind == "maxpool2d":
            try:
                shape = tuple(MaxPool2D(spec.get("size", 2), spec.get("stride"), spec.get("op", "max")).output_shape(shape))
            except NnkitInputError:
                return parameters, per_sample
        elif kind == "flatten":
            shape = tuple(Flatten().output_shape(shape))
        elif kind == "dense":
            if len(shape) != 1:
                return parameters, per_sample  # the engine names this mistake when it builds the stack
            parameters += shape[0] * spec["units"] + spec["units"]
            shape = (spec["units"],)
        per_sample += int(np.prod(shape))
    return parameters, per_sample


def require_stack_memory(specs: list[dict], input_shape, batch_rows: int = 0) -> None:
    """Refuse a stack whose weights (and a batch's activations) cannot fit, before building any of it.

    Weights are counted five times (float64 draws, float32 weights, gradients, two optimiser
    states); each batch sample's outputs and patches twice (forward and backward).
    """
    from nnkit.term.limits import require_memory

    parameters, per_sample = stack_footprint(specs, input_shape)
    require_memory(parameters * 4 * 6 + batch_rows * per_sample * 4 * 2, f"a network of {parameters:,} parameters")
