"""What every layer class says about itself, and the helpers the layers share.

A layer type is one subclass of :class:`Layer` in its own module. Its class attributes describe
it (its model-file ``type``, Keras's class name, its settings and the ``--layers`` words that make
it); its class methods answer from a config dict alone, without weights (output shape, parameter
shapes, memory per sample, a new layer with initial weights, a layer rebuilt from a file); its
instances run (``forward``/``backward``) and export themselves (``onnx``). The registry
(:mod:`nnkit.nn.layers`) lists the classes; the grammar, the model-file check, ``summary``, the
memory check, ONNX export and network building loop over it (see docs/design.md, "adding a layer").

Shapes leave out the batch axis: ``(H, W, C)`` for channels-last images, ``(F,)`` for rows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from nnkit.errors import NnkitInputError
from nnkit.nn.initializers import initial_weights

#: The largest size a layer setting may have (units, filters, kernel side, stride, window).
MAX_SIZE = 1_000_000


@dataclass(frozen=True)
class Setting:
    """One setting of a layer type: its key, meaning, kind of value, default and choices.

    ``kind`` is ``size`` (a whole number in 1..:data:`MAX_SIZE`), ``kernel`` (a size or a pair of
    sizes), ``rate`` (a number in [0, 1)) or ``choice`` (one of ``choices``). ``optional`` allows
    None (the layer then works it out, e.g. a pooling stride equal to the window).
    """

    name: str
    meaning: str
    kind: str = "size"
    required: bool = False
    default: object = None
    choices: tuple | None = None
    optional: bool = False

    def check(self, value):
        """The value if valid; else ``ValueError`` whose text follows the key (``must be …``)."""
        if value is None and self.optional:
            return value
        if self.kind == "size":
            return _size(value)
        if self.kind == "kernel":
            if isinstance(value, (list, tuple)):
                if len(value) != 2:
                    raise ValueError(f"must be one size or two (height, width), not {value!r}")
                return [_size(v) for v in value]
            return _size(value)
        if self.kind == "rate":
            if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) \
                    or not 0 <= value < 1:
                raise ValueError(f"must be a number in [0, 1), not {value!r}")
            return float(value) if isinstance(value, np.floating) else value
        if not isinstance(value, str) or value not in self.choices:
            raise ValueError(f"must be one of {', '.join(self.choices)}, not {value!r}")
        return value

    def parse(self, text: str):
        """The value of this setting written as text in ``--layers`` (``3``, ``0.2``, ``same``)."""
        if self.kind == "rate":
            try:
                return self.check(float(text))
            except ValueError:
                raise ValueError("must be a number in [0, 1)") from None
        if self.kind == "choice":
            return self.check(text)
        try:
            return self.check(int(text))
        except ValueError as exc:
            if str(exc).startswith("must be"):
                raise
            raise ValueError("must be a whole number") from None


def whole(value, what: str) -> int:
    """A size given to a layer's constructor (``stride``, ``pool size``), or an input error."""
    try:
        return _size(value)
    except ValueError as exc:
        raise NnkitInputError(f"{what} {exc}") from None


def _size(value) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not 1 <= value <= MAX_SIZE:
        raise ValueError(f"must be an integer (a whole number) from 1 to {MAX_SIZE}, not {value!r}")
    return int(value)


@dataclass(frozen=True)
class Word:
    """A word of the ``--layers`` grammar that makes a layer of the class that declares it.

    ``sizes`` are the positional values in order (all required), ``settings`` the ``key=value``
    settings it takes, ``fixed`` the settings the word itself chooses (``meanpool`` sets
    ``op=mean``), ``aliases`` other spellings users bring from Keras and PyTorch.
    """

    sizes: tuple[str, ...] = ()
    settings: tuple[str, ...] = ()
    fixed: dict = field(default_factory=dict)
    meaning: str | None = None
    aliases: tuple[str, ...] = ()


@dataclass
class Initial:
    """How a new stack draws its first weights: generator, scheme, dtype and the seed it came from.

    ``seed`` (an int, or None when a Generator was given) seeds stochastic layers: layer ``index``
    of the stack draws from ``default_rng([seed, index])``.
    """

    rng: np.random.Generator
    scheme: str = "auto"
    dtype: type = np.float32
    seed: int | None = None
    index: int = 0
    activation: str | None = None

    def weights(self, shape, fan_in: int, fan_out: int) -> np.ndarray:
        return initial_weights(shape, fan_in, fan_out, self.scheme, self.activation, self.rng, self.dtype)


class Layer:
    """The interface and self-description of every layer; subclasses fill in what differs."""

    #: The ``type`` of its record in model files (and of its spec dicts).
    type_name: ClassVar[str] = ""
    #: Keras's class name (summary's "Layer (type)" column).
    keras_class: ClassVar[str] = ""
    #: One line for errors and ``--help``.
    description: ClassVar[str] = ""
    settings: ClassVar[tuple[Setting, ...]] = ()
    words: ClassVar[dict[str, Word]] = {}
    #: Number of parameter arrays (weights and biases) it stores.
    n_parameters: ClassVar[int] = 0
    #: A spec may add ``activation``: an activation layer after this one.
    takes_activation: ClassVar[bool] = False
    #: Needs images (H, W, C); takes an image as it is (conv, pooling, flatten); gives rows (F,).
    needs_images: ClassVar[bool] = False
    reads_images: ClassVar[bool] = False
    makes_rows: ClassVar[bool] = False
    #: ``forward`` in training may return (a view of) its input, so the next layer must not
    #: overwrite that in place.
    passes_views: ClassVar[bool] = False
    #: ``relu → this`` equals ``this → relu`` (max pooling): the network runs the cheaper order.
    commutes_with_relu: ClassVar[bool] = False

    input_gradient: bool = True

    # ----- described from a config alone (no weights) --------------------------------------
    @classmethod
    def setting(cls, name: str) -> Setting | None:
        return next((s for s in cls.settings if s.name == name), None)

    @classmethod
    def output_shape_of(cls, config: dict, input_shape: tuple) -> tuple:
        """The output shape for ``input_shape`` (an input error naming the shapes if it does not fit)."""
        return tuple(input_shape)

    @classmethod
    def parameter_shapes(cls, config: dict, input_shape: tuple) -> list[tuple[int, ...]]:
        """The shapes of its parameter arrays, in order (none by default)."""
        return []

    @classmethod
    def floats_per_sample(cls, config: dict, input_shape: tuple) -> int:
        """Floats one sample keeps between forward and backward: its output (and work arrays)."""
        return math.prod(cls.output_shape_of(config, input_shape))

    @classmethod
    def keras_names(cls, config: dict) -> tuple[str, str]:
        """``(name, class)`` as Keras's ``model.summary()`` prints them: ``("conv2d", "Conv2D")``."""
        return cls.type_name, cls.keras_class

    @classmethod
    def folded_activation(cls, config: dict) -> str | None:
        """An activation ``summary`` shows in the row of the layer before (as Keras does), or None."""
        return None

    @classmethod
    def create(cls, config: dict, input_shape: tuple, initial: Initial) -> Layer:
        """A new layer with initial weights (``config`` checked, ``input_shape`` known to fit)."""
        return cls.from_config(config, [])

    @classmethod
    def from_config(cls, config: dict, weights: list) -> Layer:
        """The layer of a saved ``config()`` and its :attr:`n_parameters` weight arrays."""
        raise NotImplementedError

    # ----- an instance -----------------------------------------------------------------------
    def config(self) -> dict:
        return {"type": self.type_name}

    def output_shape(self, input_shape) -> tuple:
        return self.output_shape_of(self.config(), tuple(input_shape))

    def work_floats(self, input_shape) -> int:
        return self.floats_per_sample(self.config(), tuple(input_shape))

    def keras_name(self) -> tuple[str, str]:
        """``(name, class)`` as Keras's ``model.summary()`` prints them: ``("conv2d", "Conv2D")``."""
        return self.keras_names(self.config())

    def onnx(self, graph, h: str, input_shape: tuple) -> str:
        """Add its ONNX nodes after the value ``h`` to ``graph``; the name of its output."""
        raise NotImplementedError(f"{type(self).__name__} has no ONNX form")

    def parameters(self) -> list[np.ndarray]:
        return []

    def gradients(self) -> list[np.ndarray]:
        return []


# ----- helpers the layers share ---------------------------------------------------------------


def shape_text(shape) -> str:
    """``(26, 26, 32)`` → ``26×26×32`` (None: ``?``), for messages."""
    return "×".join("?" if s is None else str(s) for s in shape)


def image_shape(layer: str, input_shape) -> tuple[int, int, int]:
    """The input as ``(H, W, C)``, or an input error saying the layer needs images."""
    shape = tuple(input_shape)
    if len(shape) != 3:
        raise NnkitInputError(
            f"{layer} needs images (height, width, channels), got inputs of shape {shape_text(shape)}",
            hint="conv and pooling layers work on images; tabular data needs dense layers",
        )
    return shape


def pair(value) -> tuple[int, int]:
    """A kernel or window size: ``3`` → ``(3, 3)``; ``[3, 2]`` stays."""
    return (value, value) if not isinstance(value, (list, tuple)) else tuple(value)


def kept(cache: dict, key: tuple, dtype, fill=None) -> np.ndarray:
    """A reusable array for ``key = (name, *shape)``: one per batch size (``fill``: made full of it).

    Full batches and the last, shorter one each get theirs, so training allocates nothing after
    its first steps; the arrays returned in training are overwritten by the next step.
    """
    buf = cache.get(key)
    if buf is None or buf.dtype != dtype:
        buf = cache[key] = np.empty(key[1:], dtype=dtype) if fill is None else np.full(key[1:], fill, dtype)
    return buf


def column_sums(d: np.ndarray, out: np.ndarray, cache: dict) -> np.ndarray:
    """``Σ_rows d`` into ``out`` as a product ``ones @ d`` (10× faster than ``np.sum(axis=0)``).

    The bias gradient of dense layers; the vector of ones is kept in ``cache``.
    """
    ones = kept(cache, ("ones", len(d)), d.dtype, fill=1)
    return np.matmul(ones, d, out=out)
