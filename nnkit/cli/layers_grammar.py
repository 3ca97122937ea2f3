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

from dataclasses import dataclass

from nnkit.errors import NnkitInputError
from nnkit.nn.layers import HIDDEN_ACTIVATIONS, LAYER_WORDS, WORD_ALIASES, layer_type
from nnkit.nn.layers.base import Word
from nnkit.nn.network import OUTPUTS
from nnkit.nn.stack import SPEC_ACTIVATIONS

#: Other spellings users bring from Keras and PyTorch (each layer class declares its own).
ALIASES = WORD_ALIASES


def usage(word: str) -> str:
    """``conv FILTERS KERNEL [ACTIVATION] [stride=N] [padding=valid|same]``."""
    cls, spec_word = LAYER_WORDS[word]
    parts = [word, *(name.upper() for name in spec_word.sizes)]
    if cls.takes_activation:
        parts.append("[ACTIVATION]")
    for name in spec_word.settings:
        choices = cls.setting(name).choices
        parts.append(f"[{name}={'|'.join(choices)}]" if choices else f"[{name}=N]")
    return " ".join(parts)


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
    lines = [f"{usage(word)}: {spec_word.meaning or cls.description}"
             for word, (cls, spec_word) in LAYER_WORDS.items()]
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
    if canonical not in LAYER_WORDS:
        raise NnkitInputError(
            f"--layers: unknown layer {tokens[0]!r} (layer {position})",
            hint=f"layers are: {_words_choice()}",
        )
    cls, spec_word = LAYER_WORDS[canonical]
    spec: dict = {"type": cls.type_name, **spec_word.fixed}
    values, activation = _tokens(tokens[1:], canonical, text, spec)
    shown = usage(canonical)
    if len(values) > len(spec_word.sizes):
        raise NnkitInputError(
            f"--layers: too many values for {canonical}: {values[len(spec_word.sizes)]!r} "
            f"(in {text.strip()!r})",
            hint=f"usage: {shown}",
        )
    if len(values) < len(spec_word.sizes):
        missing = spec_word.sizes[len(values)]
        raise NnkitInputError(
            f"--layers: {canonical} needs {missing.upper()} ({cls.setting(missing).meaning}), "
            f"missing in {text.strip()!r}",
            hint=f"usage: {shown}",
        )
    for name, value in zip(spec_word.sizes, values, strict=True):
        spec[name] = _convert(canonical, name, value, value)
    # Settings first in the dict, as the engine names them; sizes lead for readability.
    ordered = {"type": spec["type"]}
    ordered.update({name: spec[name] for name in spec_word.sizes})
    ordered.update({k: v for k, v in spec.items() if k not in ordered})
    if activation is not None:
        ordered["activation"] = activation
    return ordered


def _tokens(tokens: list[str], word: str, text: str, spec: dict) -> tuple[list[str], str | None]:
    """The positional values of a layer and its activation; ``key=value`` settings go into ``spec``."""
    cls, spec_word = LAYER_WORDS[word]
    values: list[str] = []
    activation = None
    for token in tokens:
        if "=" in token:
            key, _, value = token.partition("=")
            key = key.lower()
            if key == "activation" and cls.takes_activation:
                activation = _activation(value, word)
                continue
            if key not in spec_word.settings:
                takes = [*spec_word.settings, *(("activation",) if cls.takes_activation else ())]
                raise NnkitInputError(
                    f"--layers: {word} takes no setting {key!r} (in {text.strip()!r})",
                    hint=f"{word} takes: {', '.join(takes) or 'no settings'}; usage: {usage(word)}",
                )
            spec[key] = _convert(word, key, value, token)
        elif cls.takes_activation and not _is_number(token) and (
            token.lower() in SPEC_ACTIVATIONS or len(values) >= len(spec_word.sizes)
        ):
            if activation is not None:
                raise NnkitInputError(f"--layers: two activations in {text.strip()!r}", hint=f"usage: {usage(word)}")
            activation = _activation(token, word)
        else:
            values.append(token)
    return values, activation


def _is_number(token: str) -> bool:
    try:
        float(token)
    except ValueError:
        return False
    return True


def _convert(word: str, name: str, value: str, token: str):
    cls, _ = LAYER_WORDS[word]
    try:
        return cls.setting(name).parse(value)
    except ValueError as exc:
        raise NnkitInputError(f"--layers: {token!r}: {name} {exc}", hint=f"usage: {usage(word)}") from None


def _activation(name: str, word: str) -> str:
    if name.lower() not in SPEC_ACTIVATIONS:
        raise NnkitInputError(
            f"--layers: unknown activation {name!r} after {word}",
            hint=f"activations are: {_activations_choice()}; usage: {usage(word)}",
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
        if layer_type(spec["type"]).needs_images and flat_at is not None:
            raise NnkitInputError(
                f"--layers: {piece.strip()!r} (layer {i}) needs images, but layer {flat_at} already "
                "made them rows",
                hint="put conv and pool layers before flatten and dense",
            )
        if layer_type(spec["type"]).makes_rows and flat_at is None:
            flat_at = i
    return specs


def needs_images(specs: list[dict]) -> bool:
    """Whether a stack has conv or pool layers (which need height × width × channels input)."""
    return any(layer_type(spec["type"]).needs_images for spec in specs)


def keeps_image_shape(specs: list[dict]) -> bool:
    """Whether a stack takes images as (H, W, C) (conv, pool or flatten first), not flat rows."""
    return needs_images(specs) or layer_type(specs[0]["type"]).reads_images


def _word_of(spec: dict) -> tuple[str, Word]:
    """The first word that makes ``spec`` (its type, and the settings the word fixes)."""
    return next((word, w) for word, (cls, w) in LAYER_WORDS.items()
                if cls.type_name == spec["type"] and all(spec.get(k, v) == v for k, v in w.fixed.items()))


def stack_text(specs: list[dict]) -> str:
    """Spec dicts → the ``--layers`` text that makes them (for reports and titles).

    Examples
    --------
    >>> stack_text(parse_layers("conv 8 3 relu stride=2, flatten, dense 10 softmax"))
    'conv 8 3 relu stride=2, flatten, dense 10 softmax'
    """
    out = []
    for spec in specs:
        word, spec_word = _word_of(spec)
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


def require_stack_memory(specs: list[dict], input_shape, batch_rows: int = 0) -> None:
    """Refuse a stack whose weights (and a batch's activations) cannot fit, before building any of it.

    Weights are counted five times (float64 draws, float32 weights, gradients, two optimiser
    states); each batch sample's outputs and patches twice (forward and backward).
    """
    from nnkit.nn.stack import stack_footprint
    from nnkit.term.limits import require_memory

    parameters, per_sample = stack_footprint(specs, input_shape)
    require_memory(parameters * 4 * 6 + batch_rows * per_sample * 4 * 2, f"a network of {parameters:,} parameters")
