"""Translation invariance, the course's 3-1 (平行移動不変性): shift an image, compare what a CNN computes.

A convolution slides one kernel over every position, so shifting the image shifts its feature map by
the same pixels and changes nothing else (away from the edges, where pixels enter and leave). Pooling
then keeps the strongest response of each window, so a shift smaller than the window changes the
pooled features only a little; layer after layer the positions matter less, and the prediction
hardly moves. This module shifts an image and measures each of those steps.
"""

from __future__ import annotations

import numpy as np

from nnkit.errors import NnkitInputError


def shift_image(image: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """The image moved ``rows`` down and ``cols`` right (negative: up, left).

    What enters repeats the edge it enters from (the black of an MNIST digit, the paper of a photo),
    so the shift adds no edge of its own.

    Examples
    --------
    >>> shift_image(np.arange(1.0, 10.0).reshape(3, 3), 1, -1).astype(int).tolist()
    [[2, 3, 3], [2, 3, 3], [5, 6, 6]]
    """
    image = np.asarray(image, dtype=np.float64)
    h, w = image.shape[:2]
    if abs(rows) >= h or abs(cols) >= w:
        raise NnkitInputError(f"--by {rows},{cols} moves the {h}×{w} image out of its frame")
    pads = ((max(rows, 0), max(-rows, 0)), (max(cols, 0), max(-cols, 0))) + ((0, 0),) * (image.ndim - 2)
    padded = np.pad(image, pads, mode="edge")
    return padded[max(-rows, 0):max(-rows, 0) + h, max(-cols, 0):max(-cols, 0) + w].copy()


def correlation(a: np.ndarray, b: np.ndarray) -> float:
    """Pearson correlation of two arrays of one shape, position by position (nan if one is constant).

    Examples
    --------
    >>> correlation(np.array([1.0, 2.0, 3.0]), np.array([2.0, 4.0, 7.0]))
    0.9933992677987828
    """
    a, b = np.ravel(a).astype(np.float64), np.ravel(b).astype(np.float64)
    a, b = a - a.mean(), b - b.mean()
    denominator = np.sqrt((a @ a) * (b @ b))
    return float(a @ b / denominator) if denominator > 0 else float("nan")


def interior_difference(original_map: np.ndarray, shifted_map: np.ndarray, rows: int, cols: int,
                        margin: int) -> float:
    """Max |map of the shifted image − the original map shifted|, at least ``margin`` from every edge.

    ``margin`` is how far the edges reach in (the kernel's size): there pixels enter and leave, and
    the zero padding of :func:`shift_image` is seen. 0 means "the feature map shifts with the image".
    """
    moved = shift_image(original_map, rows, cols)
    h, w = original_map.shape[:2]
    top, bottom = max(rows, 0) + margin, h - max(-rows, 0) - margin
    left, right = max(cols, 0) + margin, w - max(-cols, 0) - margin
    if top >= bottom or left >= right:
        return None
    return float(np.max(np.abs(shifted_map[top:bottom, left:right] - moved[top:bottom, left:right])))


def max_pool(maps: np.ndarray, size: int) -> np.ndarray:
    """Max pooling by ``size`` (windows that do not fit at the edges are dropped), over (H, W[, C]).

    Examples
    --------
    >>> max_pool(np.arange(16.0).reshape(4, 4), 2).tolist()
    [[5.0, 7.0], [13.0, 15.0]]
    """
    h, w = maps.shape[0] // size, maps.shape[1] // size
    if h == 0 or w == 0:
        raise NnkitInputError(f"--pool {size} is larger than the {maps.shape[0]}×{maps.shape[1]} feature map")
    tiles = maps[:h * size, :w * size].reshape(h, size, w, size, *maps.shape[2:])
    return tiles.max(axis=(1, 3))


def layer_outputs(network, image: np.ndarray) -> list[tuple[str, np.ndarray]]:
    """Each layer's output for one image (H, W, C), named as ``nnkit summary`` names the layers."""
    h = np.asarray(image, dtype=network.dtype)[np.newaxis]
    outputs = []
    seen: dict[str, int] = {}
    for layer in network.layers:
        h = layer.forward(h)
        kind = getattr(layer, "type_name", type(layer).__name__.lower())
        kind = layer.name if kind == "activation" else kind
        count = seen.get(kind, 0)
        seen[kind] = count + 1
        outputs.append((kind if count == 0 else f"{kind}_{count}", h[0].astype(np.float64)))
    return outputs
