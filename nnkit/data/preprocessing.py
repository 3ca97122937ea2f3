"""Input preprocessing that travels with a model: image scaling and feature standardisation.

A preprocessing step is described by a small JSON-friendly dict (stored in the model file's
``meta``) so that ``nnkit predict`` applies exactly what training applied:

- ``{"kind": "scale", "divisor": 255.0}``: images, flattened and divided by their full-scale
  value (255 for 8-bit pixels, 16 for the bundled digits) to lie in 0..1;
- ``{"kind": "standardize", "mean": [...], "std": [...]}``: tabular features, centred and scaled
  with statistics of the training part only.
"""

import numpy as np

from nnkit.errors import NnkitInputError

# Rows converted per step when scaling integer images to float32: keeps the temporary small,
# so a 60000×784 uint8 set never has a float64 copy.
_CHUNK_ROWS = 4096


def scale_images(images, divisor: float, out_dtype=np.float32) -> np.ndarray:
    """Flatten images to one row per sample and divide by ``divisor``, in float32.

    Parameters
    ----------
    images : (n_samples, ...) array
        Pixel values; every axis after the first is flattened (the course's reshape).
    divisor : float
        Full-scale pixel value (255 for uint8).

    Returns
    -------
    x : (n_samples, n_pixels) array of ``out_dtype``

    Examples
    --------
    >>> scale_images(np.array([[[0, 255], [51, 102]]], dtype=np.uint8), 255.0)
    array([[0. , 1. , 0.2, 0.4]], dtype=float32)
    """
    images = np.asarray(images)
    if images.ndim < 1 or images.shape[0] == 0:
        raise NnkitInputError("there are no images to scale")
    if not divisor > 0:
        raise NnkitInputError(f"the pixel divisor must be positive, got {divisor}")
    flat = images.reshape(images.shape[0], -1)
    out = np.empty(flat.shape, dtype=out_dtype)
    # Division (not multiplication by 1/divisor) keeps 51/255 exactly the float32 nearest 0.2.
    divisor = out_dtype(divisor)
    for start in range(0, flat.shape[0], _CHUNK_ROWS):
        stop = start + _CHUNK_ROWS
        # Cast into the output first, then scale in place: no temporary of another dtype.
        out[start:stop] = flat[start:stop]
        out[start:stop] /= divisor
    return out


def fit_standardize(x) -> dict:
    """Per-feature mean and standard deviation of the training part.

    A constant feature (its largest value equals its smallest) gets its value as mean and a
    standard deviation of 1, so that it maps to 0: not to NaN, and not to ±1 divided by the
    rounding noise of its mean (0.1 averaged over 120 rows has a std of 1.4e-17, not 0).

    Parameters
    ----------
    x : (n_samples, n_features) array

    Returns
    -------
    spec : ``{"kind": "standardize", "mean": list, "std": list}``

    Examples
    --------
    >>> fit_standardize(np.array([[1.0, 5.0], [3.0, 5.0]]))
    {'kind': 'standardize', 'mean': [2.0, 5.0], 'std': [1.0, 1.0]}
    """
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or x.shape[0] == 0:
        raise NnkitInputError(f"features must be a non-empty 2-D array, got shape {x.shape}")
    mean = x.mean(axis=0)
    std = x.std(axis=0)
    constant = x.max(axis=0) == x.min(axis=0)
    mean[constant] = x[0, constant]
    std[constant] = 1.0
    return {"kind": "standardize", "mean": mean.tolist(), "std": std.tolist()}


def apply_preprocessing(x, spec: dict | None, out_dtype=np.float32) -> np.ndarray:
    """Apply a stored preprocessing step to raw inputs.

    Parameters
    ----------
    x : (n_samples, ...) array of raw values (pixels or features)
    spec : dict or None
        As made by :func:`fit_standardize` or ``{"kind": "scale", "divisor": d}``;
        None leaves the values as they are (flattened, in ``out_dtype``).

    Returns
    -------
    x : (n_samples, n_features) array of ``out_dtype``

    Examples
    --------
    >>> apply_preprocessing(np.array([[1.0, 5.0]]), {"kind": "standardize",
    ...                     "mean": [2.0, 5.0], "std": [1.0, 1.0]})
    array([[-1.,  0.]], dtype=float32)
    """
    x = np.asarray(x)
    if spec is None:
        return np.asarray(x.reshape(x.shape[0], -1), dtype=out_dtype)
    kind = spec.get("kind")
    if kind == "scale":
        return scale_images(x, float(spec["divisor"]), out_dtype)
    if kind == "standardize":
        mean = np.asarray(spec["mean"], dtype=np.float64)
        std = np.asarray(spec["std"], dtype=np.float64)
        x = x.reshape(x.shape[0], -1)
        if x.shape[1] != mean.size:
            raise NnkitInputError(f"expected {mean.size} features per row, got {x.shape[1]}")
        return ((x - mean) / std).astype(out_dtype)
    raise NnkitInputError(f"unknown preprocessing kind {kind!r}")
