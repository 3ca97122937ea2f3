"""Saving and loading trained networks as plain ``.npz`` files (SPEC §5), never with pickle.

Layout: arrays ``W0, b0, W1, b1, …`` (``W`` with shape (inputs, outputs), in the network's dtype)
and one 0-d string array ``meta`` holding JSON::

    {"format": "nnkit-model", "version": 1, "sizes": [64, 256, 10],
     "activations": ["relu"], "output": "softmax", ...whatever the command adds:
     "task", "classes", "preprocessing", "options", "epochs_run"...}

``np.load(path, allow_pickle=False)`` opens it, so a model can be inspected without nnkit.
:func:`load_model` checks everything and raises :class:`NnkitInputError` for a corrupt or foreign
file, which the CLI turns into exit status 2.
"""

import json
import zipfile
from pathlib import Path

import numpy as np

from nnkit.engine.layers import HIDDEN_ACTIVATIONS
from nnkit.engine.network import OUTPUTS, Network, network_from_weights
from nnkit.errors import NnkitInputError
from nnkit.io.output import atomic_write

FORMAT = "nnkit-model"
VERSION = 1


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
    >>> from nnkit.engine.network import build_mlp
    >>> arrays = model_arrays(build_mlp(2, [3], 1, activation="tanh", output="sigmoid", rng=0))
    >>> sorted(arrays), arrays["W0"].shape
    (['W0', 'W1', 'b0', 'b1', 'meta'], (2, 3))
    """
    full_meta = dict(meta or {})
    full_meta.update(
        {
            "format": FORMAT,
            "version": VERSION,
            "sizes": network.sizes,
            "activations": network.activations,
            "output": network.output,
        }
    )
    arrays: dict[str, np.ndarray] = {}
    for i, layer in enumerate(network.dense_layers):
        arrays[f"W{i}"] = layer.W
        arrays[f"b{i}"] = layer.b
    arrays["meta"] = np.array(json.dumps(full_meta, default=_json_default))
    return arrays


def check_output_path(path: str | Path, suffix: str, what: str) -> None:
    """Refuse an output path that cannot be written, before a long training run rather than after.

    Parameters
    ----------
    path : str or Path
        Where ``--save`` or ``--plot`` will write.
    suffix : str
        The extension the file needs (``.npz`` or ``.png``).
    what : str
        What is written there, for the message (``models``, ``pictures``).

    Examples
    --------
    >>> check_output_path("model.txt", ".npz", "models")
    Traceback (most recent call last):
    ...
    nnkit.errors.NnkitInputError: models are saved as .npz files; model.txt does not end in .npz
    """
    path = Path(path)
    if path.suffix.lower() != suffix:
        raise NnkitInputError(f"{what} are saved as {suffix} files; {path} does not end in {suffix}")
    if not path.parent.is_dir():
        raise NnkitInputError(f"cannot write {path}: the folder {path.parent} does not exist")
    if path.is_dir():
        raise NnkitInputError(f"cannot write {path}: it is a folder")


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
        The architecture keys (format, version, sizes, activations, output) are added here.
    env : Environment, optional
        With it, refuses to overwrite a file this run has read.
    """
    check_output_path(path, ".npz", "models")
    arrays = model_arrays(network, meta)
    with atomic_write(path, env) as handle:
        np.savez(handle, **arrays)


def load_model(path: str | Path) -> tuple[Network, dict]:
    """Read a model written by :func:`save_model`: the network and its meta data.

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
        # Open the file here so it is closed even when np.load fails half-way (a truncated zip).
        with open(path, "rb") as handle:
            try:
                archive = np.load(handle, allow_pickle=False)
            except (ValueError, EOFError, zipfile.BadZipFile) as exc:
                # np.load reads bytes it does not recognise as a pickle and then says so, with
                # advice to allow pickles: not what a user with a damaged file should read.
                reason = "" if "pickle" in str(exc) else f" ({exc})"
                raise NnkitInputError(
                    f"cannot read the model {path}: not an .npz archive{reason}"
                ) from None
            if not isinstance(archive, np.lib.npyio.NpzFile):
                raise NnkitInputError(f"{path} is not an nnkit model (.npz with W0, b0, …, meta)")
            with archive:
                return _read(archive, path)
    except NnkitInputError:
        raise
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, KeyError) as exc:
        # A damaged member surfaces only when it is read.
        raise NnkitInputError(f"cannot read the model {path}: {exc}") from None


def _read(archive, path: Path) -> tuple[Network, dict]:
    foreign = NnkitInputError(
        f"{path} is not an nnkit model (.npz with W0, b0, …, meta)",
        hint="make one with nnkit train-mlp --save or nnkit train-xor --save",
    )
    if "meta" not in archive.files:
        raise foreign
    raw = archive["meta"]
    if raw.dtype.kind != "U" or raw.ndim != 0:
        raise foreign
    try:
        meta = json.loads(str(raw))
    except json.JSONDecodeError:
        raise NnkitInputError(f"the meta data of {path} is not valid JSON") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise foreign
    version = meta.get("version")
    if not isinstance(version, int) or version > VERSION:
        raise NnkitInputError(f"{path} has model format version {version!r}; this nnkit reads {VERSION}")
    sizes, activations, output = meta.get("sizes"), meta.get("activations"), meta.get("output")
    if (
        not isinstance(sizes, list)
        or len(sizes) < 2
        or not all(isinstance(s, int) and s >= 1 for s in sizes)
    ):
        raise NnkitInputError(f"{path}: 'sizes' must list at least two positive layer sizes")
    if not isinstance(activations, list) or len(activations) != len(sizes) - 2:
        raise NnkitInputError(f"{path}: 'activations' must name one activation per hidden layer")
    unknown = [a for a in activations if a not in HIDDEN_ACTIVATIONS]
    if unknown:
        raise NnkitInputError(f"{path}: unknown activation {unknown[0]!r}")
    if output not in OUTPUTS:
        raise NnkitInputError(f"{path}: unknown output {output!r}")
    weights = []
    for i in range(len(sizes) - 1):
        for name, shape in ((f"W{i}", (sizes[i], sizes[i + 1])), (f"b{i}", (sizes[i + 1],))):
            if name not in archive.files:
                raise NnkitInputError(f"{path}: the array {name} is missing")
            array = archive[name]
            if array.shape != shape:
                raise NnkitInputError(f"{path}: {name} has shape {array.shape}, expected {shape}")
            if array.dtype.kind != "f":
                raise NnkitInputError(f"{path}: {name} must hold floats, not {array.dtype}")
            if not np.all(np.isfinite(array)):
                raise NnkitInputError(f"{path}: {name} holds NaN or infinite weights")
            weights.append(array)
    dtypes = {w.dtype for w in weights}
    if len(dtypes) != 1:
        raise NnkitInputError(f"{path}: the weights mix dtypes {sorted(map(str, dtypes))}")
    return network_from_weights(weights, activations, output), meta
