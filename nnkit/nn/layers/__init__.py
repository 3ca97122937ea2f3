"""The network's layers, one class per module, and the registry that lists them.

:data:`LAYER_CLASSES` is the one list of layer types: the ``--layers`` grammar, the model-file
check, ``summary``, the memory check, ONNX export and network building all loop over it, so a new
layer type is its own module (a :class:`~nnkit.nn.layers.base.Layer` subclass) plus one entry
here (docs/design.md, "adding a layer").
"""

from nnkit.nn.layers.activation import HIDDEN_ACTIVATIONS, Activation
from nnkit.nn.layers.base import Layer, Word
from nnkit.nn.layers.conv2d import Conv2D
from nnkit.nn.layers.dense import Dense
from nnkit.nn.layers.dropout import Dropout
from nnkit.nn.layers.flatten import Flatten
from nnkit.nn.layers.global_pooling import GlobalAveragePooling2D
from nnkit.nn.layers.pooling import MaxPool2D

#: Every layer type, in the order ``--help`` lists their words.
LAYER_CLASSES: tuple[type[Layer], ...] = (
    Conv2D, MaxPool2D, GlobalAveragePooling2D, Flatten, Dropout, Dense, Activation,
)

#: Model-file ``type`` (and spec ``type``) → class.
LAYER_TYPES: dict[str, type[Layer]] = {cls.type_name: cls for cls in LAYER_CLASSES}

#: ``--layers`` word → (class, word); every alias → its word.
LAYER_WORDS: dict[str, tuple[type[Layer], Word]] = {
    word: (cls, spec) for cls in LAYER_CLASSES for word, spec in cls.words.items()
}
WORD_ALIASES: dict[str, str] = {
    alias: word for word, (_, spec) in LAYER_WORDS.items() for alias in spec.aliases
}


def layer_type(name: str) -> type[Layer] | None:
    """The class whose model-file ``type`` is ``name`` (None if there is none)."""
    return LAYER_TYPES.get(name) if isinstance(name, str) else None


__all__ = [
    "HIDDEN_ACTIVATIONS", "LAYER_CLASSES", "LAYER_TYPES", "LAYER_WORDS", "WORD_ALIASES", "Activation",
    "Conv2D", "Dense", "Dropout", "Flatten", "GlobalAveragePooling2D", "Layer", "MaxPool2D", "layer_type",
]
