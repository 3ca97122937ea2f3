"""Where in an input a network's decision came from: Grad-CAM, saliency and occlusion.

All three explain one *class score*: the output layer's logit ``z_c`` of class ``c`` (the score
before softmax, as Keras's Grad-CAM example takes it after removing the last softmax; for a single
sigmoid unit, ``z`` for the second class and ``−z`` for the first). The gradients come from the
network's own layers (their ``forward``/``backward``), run on a float64 copy of the weights so that
the maps do not depend on float32 rounding.

- **Grad-CAM** (Selvaraju et al. 2017, as Keras's example ``grad_cam`` computes it): ``A`` are the
  feature maps of a conv layer (after its activation), ``α_k = mean_{i,j} ∂z_c/∂A_{ijk}`` weighs
  each channel, and the map is ``ReLU(Σ_k α_k A_k)`` divided by its maximum. It has the conv
  layer's resolution; :func:`resize_map` brings it to the image's.
- **Saliency** (Simonyan et al. 2014): ``|∂z_c/∂x|``, the largest over colour channels; any model,
  dense ones included.
- **Occlusion sensitivity** (Zeiler & Fergus 2014): a ``patch × patch`` square of the image is
  covered (set to ``fill``) at every ``stride``; each pixel's value is the mean drop in the class
  *probability* over the patches that covered it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nnkit.errors import NnkitInputError
from nnkit.nn.activations import log_softmax, sigmoid
from nnkit.nn.layers import Activation, Conv2D, Dropout
from nnkit.nn.network import Network


def conv_layer_names(network: Network) -> list[tuple[str, int]]:
    """(name, index) of every conv layer, named as Keras names them: ``conv2d``, ``conv2d_1``….

    Examples
    --------
    >>> from nnkit.nn.stack import build_network
    >>> net = build_network([{"type": "conv2d", "filters": 2, "kernel": 3, "activation": "relu"},
    ...                      {"type": "conv2d", "filters": 2, "kernel": 3}, {"type": "flatten"},
    ...                      {"type": "dense", "units": 2, "activation": "softmax"}], (8, 8, 1))
    >>> conv_layer_names(net)
    [('conv2d', 0), ('conv2d_1', 2)]
    """
    found = [i for i, layer in enumerate(network.layers) if isinstance(layer, Conv2D)]
    return [("conv2d" if n == 0 else f"conv2d_{n}", i) for n, i in enumerate(found)]


def choose_conv_layer(network: Network, name: str | None = None) -> tuple[str, int]:
    """The conv layer Grad-CAM reads: ``name`` (``conv2d_1`` …, or its 1-based number), else the last.

    Its output is taken after the activation that follows it, as a Keras ``Conv2D(…, activation=…)``
    layer gives it.
    """
    layers = conv_layer_names(network)
    if not layers:
        raise NnkitInputError(
            "Grad-CAM needs a conv layer, and this model has none (dense layers only)",
            hint="use --method saliency or --method occlusion, which work for any model",
        )
    if name is None:
        return layers[-1]
    for i, (known, index) in enumerate(layers, start=1):
        if name in (known, str(i)):
            return known, index
    raise NnkitInputError(
        f"the model has no conv layer {name!r}",
        hint=f"its conv layers are {', '.join(n for n, _ in layers)} (or 1..{len(layers)})",
    )


def class_index_check(network: Network, cls: int) -> int:
    n_out = network.layers[-1].n_out
    n_classes = n_out if n_out > 1 else 2
    if not 0 <= cls < n_classes:
        raise NnkitInputError(f"class index {cls} is outside 0..{n_classes - 1}")
    return cls


def float64_copy(network: Network) -> Network:
    """The same network with float64 weights, its own buffers, and every input gradient on."""
    from nnkit.nn.stack import layers_from_config

    params = [p.astype(np.float64) for p in network.parameters()]
    copy = Network(layers_from_config(network.configs(), params), output=network.output,
                   input_shape=network.input_shape)
    for layer in copy.layers:
        layer.input_gradient = True
        if isinstance(layer, Activation):
            layer.in_place = False  # keep every layer's output intact for Grad-CAM
    return copy


def _score_gradient(network: Network, cls: int, n: int) -> np.ndarray:
    """∂z_c/∂z for ``n`` samples: 1 at the class's logit (±1 for a single sigmoid unit)."""
    n_out = network.layers[-1].n_out
    dz = np.zeros((n, n_out))
    if n_out == 1:
        dz[:, 0] = 1.0 if cls == 1 else -1.0
    else:
        dz[:, cls] = 1.0
    return dz


def class_score(network: Network, x: np.ndarray, cls: int) -> np.ndarray:
    """The class score ``z_c`` (a logit, or ±z of a sigmoid unit) for each sample of ``x``."""
    z = network.logits(x)
    return z[:, 0] * (1.0 if cls == 1 else -1.0) if z.shape[1] == 1 else z[:, cls]


def class_probability(network: Network, z: np.ndarray, cls: int) -> np.ndarray:
    """The probability of class ``cls`` from logits ``z`` (softmax, or the sigmoid of ±z)."""
    if z.shape[1] == 1:
        return np.asarray(sigmoid(z[:, 0] if cls == 1 else -z[:, 0]), dtype=np.float64)
    return np.exp(np.asarray(log_softmax(np.asarray(z, np.float64), axis=-1))[:, cls])


@dataclass
class Gradients:
    """What one forward and backward pass of a class score gives.

    Attributes
    ----------
    score : (n,) class scores
    input : (n, *input_shape) ∂score/∂x
    activations, gradients : (n, H, W, C) the chosen layer's output and ∂score/∂output (or None)
    """

    score: np.ndarray
    input: np.ndarray
    activations: np.ndarray | None = None
    gradients: np.ndarray | None = None


def score_gradients(network: Network, x: np.ndarray, cls: int, keep: int | None = None) -> Gradients:
    """∂z_c/∂x, and the output of layer ``keep`` (after its activation) with ∂z_c/∂output.

    Parameters
    ----------
    network : Network
        Used through :func:`float64_copy`; its own weights and buffers are not touched.
    x : (n, *input_shape) array
    cls : int
    keep : int, optional
        Index into ``network.layers`` of the layer whose output Grad-CAM reads.
    """
    class_index_check(network, cls)
    net = float64_copy(network)
    h = np.asarray(net._check_input(np.asarray(x, dtype=np.float64)))
    layers = net.layers
    kept_at = keep
    if keep is not None and keep + 1 < len(layers) and isinstance(layers[keep + 1], Activation):
        kept_at = keep + 1
    outputs = {}
    for i, layer in enumerate(layers):  # the declared order (not the pool/ReLU swap of training)
        h = layer.forward(h, training=not isinstance(layer, Dropout))  # dropout off, as at inference
        if i == kept_at:
            outputs["kept"] = h.copy()
    score = h[:, 0] * (1.0 if cls == 1 else -1.0) if h.shape[1] == 1 else h[:, cls].copy()
    grad = _score_gradient(net, cls, len(h))
    kept_grad = None
    for i in range(len(layers) - 1, -1, -1):
        if i == kept_at:
            kept_grad = grad.copy()
        grad = layers[i].backward(grad)
    return Gradients(score=score, input=np.array(grad), activations=outputs.get("kept"), gradients=kept_grad)


@dataclass
class GradCam:
    """A Grad-CAM map of one image.

    Attributes
    ----------
    heatmap : (H', W') the map at the conv layer's resolution, in [0, 1] (divided by its maximum;
        all zeros when no channel speaks for the class)
    weights : (C,) α_k, the spatial means of the gradients
    layer : str
        The conv layer it was read from.
    """

    heatmap: np.ndarray
    weights: np.ndarray
    layer: str
    raw_max: float


def grad_cam(network: Network, image: np.ndarray, cls: int, layer: str | None = None) -> GradCam:
    """Grad-CAM of one image (H, W, C) for class ``cls`` on ``layer`` (default the last conv layer)."""
    name, index = choose_conv_layer(network, layer)
    g = score_gradients(network, np.asarray(image)[np.newaxis], cls, keep=index)
    weights = g.gradients[0].mean(axis=(0, 1))
    cam = np.maximum(g.activations[0] @ weights, 0.0)
    peak = float(cam.max())
    return GradCam(cam / peak if peak > 0 else cam, weights, name, peak)


def saliency(network: Network, x: np.ndarray, cls: int) -> np.ndarray:
    """``|∂z_c/∂x|`` of one input, the largest over colour channels: (H, W) for images, (n_in,) for rows."""
    g = score_gradients(network, np.asarray(x)[np.newaxis], cls).input[0]
    magnitude = np.abs(g)
    return magnitude.max(axis=-1) if magnitude.ndim == 3 else magnitude


def occlusion(network: Network, image: np.ndarray, cls: int, patch: int = 4, stride: int | None = None,
              fill: float = 0.0, batch: int = 256) -> tuple[np.ndarray, float]:
    """Drop in the class probability when each region of ``image`` (H, W, C) is covered.

    A dense model's image is flattened (in C order, as it was trained) before it is classified.

    Every ``patch × patch`` square at a step of ``stride`` (default ``patch // 2``, at least 1) is
    set to ``fill``; squares at the right and bottom edges are shifted inside so that every pixel
    is covered at least once. Each pixel gets the mean of ``p(original) − p(covered)`` over the
    squares that covered it: positive where covering it lowers the class's probability.

    Returns
    -------
    (H, W) map of drops, and ``p(original)``.
    """
    image = np.asarray(image)
    h, w = image.shape[:2]
    if not 1 <= patch <= min(h, w):
        raise NnkitInputError(f"--patch must lie in 1..{min(h, w)} for a {h}×{w} image, got {patch}")
    stride = max(1, patch // 2) if stride is None else stride
    if stride < 1:
        raise NnkitInputError(f"--stride must be at least 1, got {stride}")
    starts_y = _starts(h, patch, stride)
    starts_x = _starts(w, patch, stride)
    corners = [(i, j) for i in starts_y for j in starts_x]
    shape = network.input_shape  # (H, W, C) for conv models, (H·W·C,) for dense ones

    def probability(batch):
        return class_probability(network, network.logits(batch.reshape(len(batch), *shape)), cls)

    base = float(probability(image[np.newaxis])[0])
    total = np.zeros((h, w))
    count = np.zeros((h, w))
    for start in range(0, len(corners), batch):
        chunk = corners[start : start + batch]
        covered = np.repeat(image[np.newaxis], len(chunk), axis=0)
        for k, (i, j) in enumerate(chunk):
            covered[k, i : i + patch, j : j + patch] = fill
        drops = base - probability(covered)
        for (i, j), drop in zip(chunk, drops, strict=True):
            total[i : i + patch, j : j + patch] += drop
            count[i : i + patch, j : j + patch] += 1
    return total / count, base


def _starts(size: int, patch: int, stride: int) -> list[int]:
    """Top-left positions along one axis: every ``stride``, plus one flush with the far edge."""
    starts = list(range(0, size - patch + 1, stride))
    if starts[-1] != size - patch:
        starts.append(size - patch)
    return starts


def resize_map(heatmap: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Bilinear resize of a map to the image's (H, W), as Keras's example enlarges its heatmap.

    Examples
    --------
    >>> resize_map(np.array([[0.0, 1.0], [1.0, 0.0]]), (4, 4)).shape
    (4, 4)
    """
    from skimage.transform import resize

    return resize(np.asarray(heatmap, dtype=np.float64), shape, order=1, mode="edge", anti_aliasing=False)


def mass_inside(heatmap: np.ndarray, mask: np.ndarray) -> float:
    """The share of a non-negative map's total that lies where ``mask`` is true (0 for an empty map)."""
    heatmap = np.asarray(heatmap, dtype=np.float64)
    total = heatmap.sum()
    return float(heatmap[np.asarray(mask, bool)].sum() / total) if total > 0 else 0.0
