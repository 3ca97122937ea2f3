"""ONNX export of a saved nnkit model: the same layer list the engine runs, as an ONNX graph.

The graph takes the raw inputs ``nnkit predict`` takes, because the stored preprocessing is part of
it, and gives the class probabilities ``nnkit predict`` prints:

- input ``input``, float32: ``(batch, H, W)`` raw pixels of an image model (``(batch, H, W, C)``
  for colour), divided by the stored full-scale value (255) and flattened as in training; or
  ``(batch, n_features)`` raw table features, standardised with the stored training mean and
  standard deviation (in float64, as nnkit does, then in the weights' dtype);
- output ``probabilities``, ``(batch, n_classes)`` in the weights' dtype: the softmax rows, or for a
  single sigmoid output the two columns ``1 − p`` and ``p`` (class order as in the model);
- output ``label``, ``(batch,)`` int64: the index of the most likely class (the first one on a tie,
  as ``nnkit predict``); the class names are in the model's metadata (``classes``, JSON).

Convolutional stacks: nnkit is channels-last (NHWC, Keras's layout) and ONNX's ``Conv`` is
channels-first, so the scaled images are reshaped to ``(batch, H, W, C)`` and transposed to NCHW once
at the input; each ``Conv2D`` becomes ``Conv`` with its kernels ``(kh, kw, in, out)`` transposed to
``(out, in, kh, kw)`` and explicit pads (Keras's ``same`` puts the odd extra row at the bottom);
``MaxPool2D`` becomes ``MaxPool`` (or ``AveragePool``) without padding, floor rounding, so a partial
edge window is dropped as Keras drops it; before ``Flatten`` (or the first ``Dense``) the maps are
transposed back to NHWC so the flattened order is Keras's; ``Dropout`` is left out (identity at
inference).

The batch size is dynamic (the symbolic dimension ``batch``). Opset 21 and IR version 10: recent
(Gemm, Softmax and every activation here are stable there) and read by ONNX Runtime 1.20 and newer.
"""

from __future__ import annotations

import json

import numpy as np

from nnkit.errors import NnkitInputError
from nnkit.nn.layers import Activation
from nnkit.nn.layers.activation import ACTIVATION_NODES  # noqa: F401 (each activation's nodes)

OPSET = 21
IR_VERSION = 10
INPUT_NAME = "input"
OUTPUT_NAMES = ("probabilities", "label")


class _Graph:
    """Nodes and constant tensors of the graph being built, with fresh value names.

    ``layout`` is what the current value holds: ``nchw`` images (ONNX's ``Conv`` layout) or
    ``rows``; a layer's ``onnx`` asks for the one it needs with :meth:`images` or :meth:`rows`.
    """

    def __init__(self, helper, numpy_helper, dtype):
        self.helper = helper
        self.numpy_helper = numpy_helper
        self.dtype = dtype
        self.nodes = []
        self.initializers = []
        self.layout = "rows"
        self._count = 0

    def name(self, stem: str) -> str:
        self._count += 1
        return f"{stem}_{self._count}"

    def constant(self, stem: str, value) -> str:
        name = self.name(stem)
        self.initializers.append(self.numpy_helper.from_array(np.asarray(value), name))
        return name

    def node(self, op: str, inputs: list[str], stem: str | None = None, **attributes) -> str:
        output = self.name(stem or op.lower())
        self.nodes.append(self.helper.make_node(op, inputs, [output], name=output, **attributes))
        return output

    def rows(self, h: str) -> str:
        """``h`` as (batch, features) rows: NCHW maps in Keras's channels-last flatten order."""
        if self.layout == "nchw":
            h = self.node("Flatten", [self.node("Transpose", [h], perm=[0, 2, 3, 1])], axis=1, stem="flatten")
            self.layout = "rows"
        return h

    def images(self, h: str) -> str:
        """``h``, which must hold NCHW images (an input error for rows)."""
        if self.layout != "nchw":
            raise NnkitInputError("an image layer follows rows of values; the model cannot be exported")
        return h


def _cast(g: _Graph, x: str, dtype) -> str:
    return g.node("Cast", [x], to=g.helper.np_dtype_to_tensor_dtype(np.dtype(dtype)))


def _preprocess(g: _Graph, x: str, preprocessing: dict | None, dtype) -> tuple[str, list | None]:
    """Nodes from the raw ``input`` to the values training fed the network, not yet flattened.

    Returns the value's name and the raw input's shape (None: the network's own input shape).
    """
    kind = (preprocessing or {}).get("kind")
    if kind == "scale":
        shape = [int(s) for s in preprocessing.get("image_shape") or []]
        if not shape:
            raise NnkitInputError("the model's image preprocessing has no image shape; it cannot be exported")
        divisor = g.constant("divisor", np.array(preprocessing["divisor"], dtype=np.float32))
        scaled = g.node("Div", [x, divisor], stem="scaled")  # float32, as nnkit scales
        return (scaled if dtype == np.float32 else _cast(g, scaled, dtype)), ["batch", *shape]
    if kind == "standardize":
        mean = np.asarray(preprocessing["mean"], dtype=np.float64)
        std = np.asarray(preprocessing["std"], dtype=np.float64)
        centred = g.node("Sub", [_cast(g, x, np.float64), g.constant("mean", mean)])
        standardised = g.node("Div", [centred, g.constant("std", std)], stem="standardised")
        return _cast(g, standardised, dtype), ["batch", int(mean.size)]
    if kind is not None:
        raise NnkitInputError(f"unknown preprocessing kind {kind!r}; the model cannot be exported")
    return (x if dtype == np.float32 else _cast(g, x, dtype)), None


def _layers(g: _Graph, h: str, network) -> str:
    """The network's layer list as nodes; images run NCHW inside (ONNX's Conv), rows as they are."""
    input_shape = tuple(network.input_shape)
    if None in input_shape:
        raise NnkitInputError("a network that takes images of any size cannot be exported (ONNX needs the size)")
    if len(input_shape) == 1:
        h = g.node("Flatten", [h], axis=1)
    else:
        # Channels-last samples (grey images get their channel axis) → ONNX's channels-first.
        nhwc = g.node("Reshape", [h, g.constant("shape", np.array([-1, *input_shape], dtype=np.int64))])
        h, g.layout = g.node("Transpose", [nhwc], perm=[0, 3, 1, 2], stem="nchw"), "nchw"
    shape = input_shape
    for layer in network.layers:
        h = layer.onnx(g, h, shape)
        shape = layer.output_shape(shape)
    return g.rows(h)


def build_onnx(network, meta: dict):
    """The ONNX ``ModelProto`` of a loaded nnkit model (validated with ``onnx.checker``).

    Parameters
    ----------
    network : Network
        As :func:`nnkit.files.model_file.load_model` returns it: ``network.layers`` is exported in order
        (dense, activation, conv, pooling, flatten and dropout layers).
    meta : dict
        The model's meta data (classes, preprocessing).

    Returns
    -------
    onnx.ModelProto
    """
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    dtype = network.dtype.type
    g = _Graph(helper, numpy_helper, dtype)
    h, shape = _preprocess(g, INPUT_NAME, meta.get("preprocessing"), dtype)
    if shape is None:
        shape = ["batch", *network.input_shape]
    h = _layers(g, h, network)
    if network.output == "softmax":
        probabilities = g.node("Softmax", [h], axis=-1, stem="softmax")
    else:
        p = g.node("Sigmoid", [h], stem="sigmoid")
        if network.layers[-1].n_out != 1:
            raise NnkitInputError("only a single sigmoid output (two classes) can be exported")
        q = g.node("Sub", [g.constant("one", np.array(1, dtype=dtype)), p])
        probabilities = g.node("Concat", [q, p], axis=1)
    g.nodes.append(helper.make_node("Identity", [probabilities], [OUTPUT_NAMES[0]], name=OUTPUT_NAMES[0]))
    g.nodes.append(
        helper.make_node("ArgMax", [OUTPUT_NAMES[0]], ["label_2d"], name="argmax", axis=1, keepdims=1)
    )
    g.nodes.append(
        helper.make_node("Squeeze", ["label_2d", g.constant("axis1", np.array([1], dtype=np.int64))],
                         [OUTPUT_NAMES[1]], name=OUTPUT_NAMES[1])
    )
    classes = meta.get("classes") or list(range(max(network.layers[-1].n_out, 2)))
    n_classes = len(classes)
    elem = helper.np_dtype_to_tensor_dtype(np.dtype(dtype))
    graph = helper.make_graph(
        g.nodes,
        "nnkit_model",
        [helper.make_tensor_value_info(INPUT_NAME, TensorProto.FLOAT, shape)],
        [
            helper.make_tensor_value_info(OUTPUT_NAMES[0], elem, ["batch", n_classes]),
            helper.make_tensor_value_info(OUTPUT_NAMES[1], TensorProto.INT64, ["batch"]),
        ],
        initializer=g.initializers,
    )
    from nnkit import __version__

    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", OPSET)],
        ir_version=IR_VERSION,
        producer_name="nnkit",
        producer_version=__version__,
        doc_string="Exported by nnkit export: raw inputs in, class probabilities and label out.",
    )
    described = {
        "classes": json.dumps(classes),
        "preprocessing": json.dumps({k: v for k, v in (meta.get("preprocessing") or {}).items() if k not in ("mean", "std")}),
        "output": network.output,
        "layers": json.dumps([repr(layer) if not isinstance(layer, Activation) else layer.name for layer in network.layers]),
    }
    helper.set_model_props(model, described)
    onnx.checker.check_model(model, full_check=True)
    return model
