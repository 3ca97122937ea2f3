"""Labelled data sets for ``nnkit train-mlp``: the bundled digits, CSV tables, MNIST npz/IDX files.

Reading gives a :class:`Dataset` of raw parts (pixels as stored, features as numbers, labels as
found); :func:`prepare` then encodes the labels as class indices, makes the stratified seeded
splits a data set lacks, and applies the preprocessing (images scaled to 0..1, tables
standardised with training statistics) whose description travels in the saved model.
"""

import gzip
import io
import math
import struct
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from nnkit.data.preprocessing import apply_preprocessing, fit_standardize
from nnkit.data.splits import stratified_split
from nnkit.errors import NnkitInputError, no_such_file, reason, shape_text
from nnkit.files.npyfile import NpzArchive
from nnkit.files.tables import TextTable, read_table
from nnkit.term.limits import require_memory

PART_NAMES = ("train", "validation", "test")

KERAS_KEYS = ("x_train", "y_train", "x_test", "y_test")
MEDMNIST_KEYS = (
    "train_images",
    "train_labels",
    "val_images",
    "val_labels",
    "test_images",
    "test_labels",
)
# Spellings of the MNIST file names in the wild: the original, and the dotted one of some mirrors.
_IDX_NAMES = {
    ("train", "images"): ("train-images-idx3-ubyte", "train-images.idx3-ubyte"),
    ("train", "labels"): ("train-labels-idx1-ubyte", "train-labels.idx1-ubyte"),
    ("test", "images"): ("t10k-images-idx3-ubyte", "t10k-images.idx3-ubyte"),
    ("test", "labels"): ("t10k-labels-idx1-ubyte", "t10k-labels.idx1-ubyte"),
}
#: Cells that mean "no value" in tables from the wild (a NaN is refused as not finite).
MISSING = frozenset({"", "na", "n/a", "null", "none", "?", "-"})


@dataclass
class Dataset:
    """Raw labelled data, one entry per part that the source provides.

    Attributes
    ----------
    parts : dict
        ``{"train" | "validation" | "test": (x, labels)}``; ``x`` is ``(n, ...)`` pixels (images)
        or ``(n, n_features)`` float64 (tables); ``labels`` is ``(n,)`` ints or strings.
    kind : str
        ``"images"`` or ``"table"``.
    name : str
        Where the data came from, for the report.
    divisor : float, optional
        Full-scale pixel value of images (255 for uint8, 16 for the digits).
    image_shape : tuple, optional
        Shape of one image.
    feature_names : list of str, optional
        Column names of a table's features (generated when there is no header).
    label_name : str, optional
        Name of a table's label column.
    class_names : list, optional
        The classes in the publisher's order (named data sets); default: the sorted labels.
    """

    parts: dict
    kind: str
    name: str
    divisor: float | None = None
    image_shape: tuple | None = None
    feature_names: list | None = None
    label_name: str | None = None
    class_names: list | None = None


@dataclass
class PreparedData:
    """Float32 model inputs and class-index targets for each part.

    ``x[part]`` is ``(n, n_features)`` float32, or ``(n, height, width, channels)`` for images
    prepared with ``keep_image_shape``; ``y[part]`` ``(n,)`` int class indices into ``classes``;
    a part missing from the data is absent from both dicts. ``input_shape`` is one sample's shape.
    """

    x: dict
    y: dict
    classes: list
    preprocessing: dict
    n_features: int
    info: dict = field(default_factory=dict)
    input_shape: tuple = ()



def dataset_digest(dataset: Dataset) -> str:
    """SHA-256 of every part's values and labels: which data a model was trained on, beyond its name.

    Two files of the same name in different folders (``train/data.csv``, ``test/data.csv``) differ here.
    """
    import hashlib

    digest = hashlib.sha256()
    for part in sorted(dataset.parts):
        x, labels = dataset.parts[part]
        x = np.ascontiguousarray(x)
        digest.update(f"{part}{x.dtype.str}{x.shape}".encode())
        digest.update(x.tobytes())
        digest.update("\x1f".join(map(str, np.asarray(labels).tolist())).encode())
    return digest.hexdigest()

def channels_last(image_shape) -> tuple[int, int, int]:
    """One image's shape as conv layers take it: ``(H, W)`` → ``(H, W, 1)``; ``(H, W, C)`` kept.

    Examples
    --------
    >>> channels_last((28, 28)), channels_last([32, 32, 3])
    ((28, 28, 1), (32, 32, 3))
    """
    shape = tuple(int(s) for s in image_shape)
    if len(shape) == 2:
        return (*shape, 1)
    if len(shape) == 3:
        return shape
    raise NnkitInputError(
        f"images of shape {shape_text(shape)} are neither 2-D (height, width) nor "
        "height × width × channels"
    )


# ---------------------------------------------------------------------------------------------
# Readers


def load_dataset(source: str, label_column: str | None = None, env=None) -> Dataset:
    """Read a data set named by ``--data``.

    Parameters
    ----------
    source : str
        ``"digits"`` (bundled), a named data set (``mnist``, ``fashion-mnist``, ``pneumoniamnist``
        …, downloaded once: :mod:`nnkit.data.named`), a ``.csv``/``.tsv``/``.txt`` table,
        an ``.npz`` in Keras MNIST or MedMNIST layout, or a folder of MNIST IDX files.
    label_column : str, optional
        For tables: the label column's name or index (default: the last column).
    env : Environment, optional
        Where a download's progress bar goes (a terminal's stderr only).

    Returns
    -------
    Dataset
    """
    if source == "digits":
        if label_column is not None:
            raise NnkitInputError("--label-column applies to CSV tables, not to the digits set")
        return load_digits()
    from nnkit.data.named import lookup

    path = Path(source)
    named = lookup(source)
    if named is not None and not path.exists():
        if label_column is not None:
            raise NnkitInputError(f"--label-column applies to CSV tables, not to {named.name}")
        return load_named(named, env)
    if not path.exists():
        from nnkit.data.named import NAMED_DATASETS

        raise no_such_file(source, "data set", names=["digits", *NAMED_DATASETS],
                           also="use 'digits', a name listed by 'nnkit datasets', a CSV table, an .npz file "
                           "or a folder of MNIST IDX files")
    if path.is_dir():
        return load_idx_folder(path)
    suffix = path.suffix.lower()
    if label_column is not None and suffix not in (".csv", ".tsv", ".txt"):
        raise NnkitInputError("--label-column applies to CSV tables only")
    if suffix == ".npz":
        return load_npz(path)
    if suffix in (".csv", ".tsv", ".txt"):
        return load_table(path, label_column)
    raise NnkitInputError(
        f"cannot tell the format of {source}",
        hint="expected 'digits', a .csv/.tsv/.txt table, an .npz file or an MNIST IDX folder",
    )


def load_digits() -> Dataset:
    """Read the bundled 8×8 handwritten digits (1797 images, pixel values 0..16, labels 0..9)."""
    from importlib.resources import files

    raw = files("nnkit.data").joinpath("digits.csv.gz").read_bytes()
    table = np.loadtxt(io.BytesIO(gzip.decompress(raw)), delimiter=",", dtype=np.int64)
    images = table[:, :64].astype(np.uint8).reshape(-1, 8, 8)
    labels = table[:, 64]
    return Dataset(
        parts={"train": (images, labels)},
        kind="images",
        name="digits",
        divisor=16.0,
        image_shape=(8, 8),
    )


def read_text_table(path: Path) -> TextTable:
    """Read a ``--data`` text table by the rules of :mod:`nnkit.files.tables`."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise NnkitInputError(f"{path} is not a text table (UTF-8)") from None
    except OSError as exc:
        raise NnkitInputError(f"cannot read {path}: {exc.strerror or exc}") from None
    return read_table(text, str(path), path.suffix.lower())


def _resolve_label_column(label_column: str | None, header: list | None, width: int) -> int:
    if label_column is None:
        return width - 1
    try:
        index = int(label_column)
    except ValueError:
        index = None
    if index is not None:
        if not -width <= index < width:
            raise NnkitInputError(
                f"--label-column {label_column} does not exist: the table has {width} columns "
                f"(indices 0..{width - 1})"
            )
        return index % width
    if header is None:
        raise NnkitInputError(
            f"--label-column {label_column!r} does not exist: the table has no header row",
            hint="give the label column's index instead",
        )
    if label_column not in header:
        shown = ", ".join(header[:8]) + (", …" if len(header) > 8 else "")
        raise NnkitInputError(
            f"--label-column {label_column!r} does not exist; the columns are: {shown}"
        )
    return header.index(label_column)


def _parse_labels(values: list) -> np.ndarray:
    """Integer labels when every value is an integer number, otherwise the strings as given."""
    try:
        as_float = np.array([float(v) for v in values])
    except ValueError:
        return np.array(values, dtype=str)
    if np.all(np.isfinite(as_float)) and np.all(as_float == np.round(as_float)):
        return as_float.astype(np.int64)
    return np.array(values, dtype=str)


#: The hint for a text cell among the features of a training table.
FEATURE_HINT = "features must be numbers; encode categories as numbers or choose the text column with --label-column"


def feature_matrix(table: TextTable, columns: list[int], hint: str = FEATURE_HINT) -> np.ndarray:
    """The float64 features in ``columns``, naming the first missing, non-numeric or non-finite cell."""
    x = table.numbers(columns, hint=hint, missing=MISSING)
    error = table.first_non_finite(x, columns)
    if error is not None:
        raise error
    return x


def load_table(path, label_column: str | None = None) -> Dataset:
    """Read a CSV/TSV/whitespace table of numeric features and one label column."""
    path = Path(path)
    table = read_text_table(path)
    if not table.lines:
        raise NnkitInputError(f"{path} has a header but no data rows")
    width = table.width
    if width < 2:
        raise NnkitInputError(f"{path} needs at least one feature column and a label column")
    label_index = _resolve_label_column(label_column, table.header, width)
    feature_columns = [j for j in range(width) if j != label_index]
    x = feature_matrix(table, feature_columns)
    raw_labels = table.strings(label_index)
    for (line_no, _), value in zip(table.lines, raw_labels, strict=True):
        if value.lower() in MISSING:
            raise table.cell_error(line_no, label_index, f"a missing label ({value!r})")
    names = table.header if table.header is not None else [f"x{j}" for j in range(width)]
    return Dataset(
        parts={"train": (x, _parse_labels(raw_labels))},
        kind="table",
        name=path.name,
        feature_names=[names[j] for j in feature_columns],
        label_name=names[label_index],
    )


def _check_images(parts: dict, source) -> tuple:
    shapes = {name: x.shape[1:] for name, (x, _) in parts.items()}
    distinct = set(shapes.values())
    if len(distinct) > 1:
        shown = ", ".join(f"{name} {shape_text(s)}" for name, s in shapes.items())
        raise NnkitInputError(f"images of mixed sizes in {source}: {shown}")
    for name, (x, y) in parts.items():
        if x.shape[0] != y.shape[0]:
            raise NnkitInputError(
                f"{source}: {name} part has {x.shape[0]} images but {y.shape[0]} labels"
            )
        if x.shape[0] == 0:
            raise NnkitInputError(f"{source}: the {name} part is empty")
        if x.dtype.kind == "f" and not np.isfinite(x).all():  # every part: a NaN in the test part is no score
            raise NnkitInputError(f"{source}: the {name} images hold NaN or infinite values")
    return distinct.pop()


def _image_divisor(x: np.ndarray, source) -> float:
    """Full-scale value of stored pixels: by dtype for uint8/uint16, otherwise by their range.

    Pixels saved as int64 or float (``np.array`` of a list, or ``x.astype(float)``) often still
    hold 0..255: they are scaled like uint8. Values already within 0..1, or with negatives
    (normalised by whoever wrote the file), are used as they are.
    """
    if x.dtype == np.uint8:
        return 255.0
    if x.dtype == np.uint16:
        return 65535.0
    if not (np.issubdtype(x.dtype, np.floating) or np.issubdtype(x.dtype, np.integer)):
        raise NnkitInputError(f"{source}: images must be numbers, got dtype {x.dtype}")
    if x.size == 0:
        return 1.0
    low, high = x.min(), x.max()
    if not (np.isfinite(low) and np.isfinite(high)):
        raise NnkitInputError(f"{source}: the images hold NaN or infinite values")
    if low < 0 or high <= 1:
        return 1.0
    if high <= 255:
        return 255.0
    if high <= 65535:
        return 65535.0
    raise NnkitInputError(
        f"{source}: pixel values up to {high:g}; expected 0..1, 0..255 or 0..65535"
    )


def _labels_1d(y: np.ndarray, key: str, source) -> np.ndarray:
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]  # MedMNIST stores labels as (n, 1)
    if y.ndim != 1:
        raise NnkitInputError(f"{source}: {key} must be one label per image, got shape {y.shape}")
    if not np.issubdtype(y.dtype, np.integer):
        raise NnkitInputError(f"{source}: {key} must hold integer labels, got dtype {y.dtype}")
    return y


def load_npz(path) -> Dataset:
    """Read an ``.npz`` in Keras MNIST layout or MedMNIST layout."""
    path = Path(path)
    try:
        # Open the file ourselves: np.load leaks its handle when the zip is corrupt.
        with open(path, "rb") as handle, NpzArchive(handle, str(path)) as archive:
            keys = set(archive.files)
            if set(KERAS_KEYS) <= keys:
                layout = {"train": ("x_train", "y_train"), "test": ("x_test", "y_test")}
            elif set(MEDMNIST_KEYS) <= keys:
                layout = {
                    "train": ("train_images", "train_labels"),
                    "validation": ("val_images", "val_labels"),
                    "test": ("test_images", "test_labels"),
                }
            else:
                raise NnkitInputError(
                    f"{path} has neither the Keras MNIST keys ({', '.join(KERAS_KEYS)}) nor the "
                    f"MedMNIST keys ({', '.join(MEDMNIST_KEYS)}); it has: "
                    f"{', '.join(sorted(keys)) or 'no arrays'}"
                )
            parts = {
                part: (archive.read(xk), _labels_1d(archive.read(yk), yk, path))
                for part, (xk, yk) in layout.items()
            }
    except NnkitInputError:
        raise
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as exc:
        raise NnkitInputError(f"cannot read {path} as an .npz archive: {reason(exc)}") from None
    for part, (x, _) in parts.items():
        if x.ndim < 2:
            raise NnkitInputError(
                f"{path}: the {part} images must be (n, height, width), got {x.shape}"
            )
    image_shape = _check_images(parts, path)
    return Dataset(
        parts=parts,
        kind="images",
        name=path.name,
        divisor=_image_divisor(parts["train"][0], path),
        image_shape=tuple(int(s) for s in image_shape),
    )


def read_idx(path) -> np.ndarray:
    """Read one MNIST IDX file (unsigned bytes, gzip or raw), checking its magic and size.

    Parameters
    ----------
    path : str or Path
        ``*-idx3-ubyte`` (images, shape (n, rows, cols)) or ``*-idx1-ubyte`` (labels, (n,)),
        optionally ``.gz``.

    Returns
    -------
    array : uint8 array of the shape in the file's header
    """
    path = Path(path)
    try:
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rb") as f:
            return _read_idx_stream(f, path, None if path.suffix == ".gz" else path.stat().st_size)
    except NnkitInputError:
        raise
    except (OSError, EOFError, zlib.error) as exc:
        raise NnkitInputError(f"cannot read {path}: {reason(exc)}") from None


def _read_idx_stream(f, path: Path, file_size: int | None) -> np.ndarray:
    """Read an IDX header, then exactly the bytes it promises.

    A gzip bomb or a lying header is refused before its data is decompressed or allocated.
    """
    magic = f.read(4)
    if len(magic) < 4 or magic[0] != 0 or magic[1] != 0:
        raise NnkitInputError(f"{path} is not an IDX file (bad magic number)")
    if magic[2] != 0x08:
        raise NnkitInputError(f"{path}: only unsigned-byte IDX data is supported (type 0x{magic[2]:02x})")
    ndim = magic[3]
    raw_dims = f.read(4 * ndim)
    if ndim == 0 or len(raw_dims) < 4 * ndim:
        raise NnkitInputError(f"{path} has a truncated IDX header")
    dims = struct.unpack(f">{ndim}I", raw_dims)
    expected = math.prod(dims)
    shown = shape_text(dims)
    if file_size is not None and file_size - 4 - 4 * ndim != expected:
        raise NnkitInputError(
            f"{path}: the header promises {shown} = {expected} bytes, the file holds {file_size - 4 - 4 * ndim}"
        )
    require_memory(expected, f"{path} ({shown} bytes)")
    data = f.read(expected)
    if len(data) != expected or f.read(1):
        held = f"{len(data)}" if len(data) != expected else f"more than {expected}"
        raise NnkitInputError(f"{path}: the header promises {shown} = {expected} bytes, the file holds {held}")
    return np.frombuffer(data, dtype=np.uint8).reshape(dims)


def write_idx(path, array) -> None:
    """Write a uint8 array as an MNIST IDX file (gzip when ``path`` ends in ``.gz``).

    Parameters
    ----------
    path : str or Path
    array : (n,) labels or (n, rows, cols) images, values 0..255
    """
    array = np.ascontiguousarray(array, dtype=np.uint8)
    header = bytes([0, 0, 0x08, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "wb") as f:
        f.write(header)
        f.write(array.tobytes())


def _find_idx(folder: Path, part: str, what: str) -> Path | None:
    for stem in _IDX_NAMES[(part, what)]:
        for candidate in (folder / stem, folder / f"{stem}.gz"):
            if candidate.is_file():
                return candidate
    return None


def load_idx_folder(folder) -> Dataset:
    """Read a folder of MNIST IDX files (train-… required, t10k-… optional)."""
    folder = Path(folder)
    parts = {}
    for part in ("train", "test"):
        images_path = _find_idx(folder, part, "images")
        labels_path = _find_idx(folder, part, "labels")
        if images_path is None and labels_path is None:
            continue
        if images_path is None or labels_path is None:
            missing = "images" if images_path is None else "labels"
            raise NnkitInputError(
                f"{folder}: the {part} {missing} file is missing "
                f"({_IDX_NAMES[(part, missing)][0]}[.gz])"
            )
        images, labels = read_idx(images_path), read_idx(labels_path)
        if images.ndim != 3:
            raise NnkitInputError(f"{images_path}: expected 3-D images, got {images.ndim}-D data")
        if labels.ndim != 1:
            raise NnkitInputError(f"{labels_path}: expected 1-D labels, got {labels.ndim}-D data")
        parts[part] = (images, labels)
    if "train" not in parts:
        raise NnkitInputError(
            f"{folder} holds no MNIST training files",
            hint="expected train-images-idx3-ubyte[.gz] and train-labels-idx1-ubyte[.gz]",
        )
    image_shape = _check_images(parts, folder)
    return Dataset(
        parts=parts, kind="images", name=folder.name, divisor=255.0, image_shape=image_shape
    )


def load_named(dataset, env=None) -> Dataset:
    """Download (once) and read a named data set (a :class:`~nnkit.data.named.NamedDataset`).

    Integer labels become the publisher's class names (when it names them), in its order.
    """
    from nnkit.data.named import fetch

    paths = fetch(dataset, env)
    data = load_idx_folder(paths[0].parent) if dataset.layout == "idx" else load_npz(paths[0])
    data.name = dataset.name
    if dataset.class_names is not None:
        names = np.asarray(dataset.class_names)
        for part, (x, y) in list(data.parts.items()):
            if y.size and (y.min() < 0 or y.max() >= len(names)):
                raise NnkitInputError(
                    f"{dataset.name}: the {part} labels run {y.min()}..{y.max()}, "
                    f"expected 0..{len(names) - 1}"
                )
            data.parts[part] = (x, names[y])
        data.class_names = list(dataset.class_names)
    return data


# ---------------------------------------------------------------------------------------------
# From raw parts to model inputs


def _class_names(labels: np.ndarray) -> list:
    values = np.unique(labels)
    if values.dtype.kind in "iu":
        return [int(v) for v in values]
    return [str(v) for v in values]


def prepare(
    dataset: Dataset,
    *,
    val_split: float = 0.1,
    test_split: float = 0.2,
    seed: int = 0,
    classes: list | None = None,
    preprocessing: dict | None = None,
    keep_image_shape: bool = False,
    val_from: str = "stratified",
) -> PreparedData:
    """Encode labels, split what the data lacks and preprocess, ready for training.

    Parameters
    ----------
    dataset : Dataset
    val_split, test_split : float
        Fractions of the whole data taken (stratified, seeded) for the validation and test parts
        when the data has no such part; 0 means no such part.
    seed : int
    classes : list, optional
        Class names to use (from a model being resumed); default: the sorted distinct labels.
    preprocessing : dict, optional
        A stored preprocessing step to reuse (``--resume``); default: fit on the training part.
    keep_image_shape : bool
        Images stay ``(n, height, width, channels)`` (for conv layers) instead of rows.
    val_from : {"stratified", "last"}
        How a missing validation part is taken from the training part: a stratified seeded
        sample, or the last ``val_split`` of it in file order, unshuffled, as Keras's
        ``validation_split`` does (the course's next chapter).

    Returns
    -------
    PreparedData
    """
    if classes is None:
        classes = dataset.class_names or _class_names(np.concatenate([y for _, y in dataset.parts.values()]))
        if len(classes) < 2:
            raise NnkitInputError(
                f"the labels hold one class only ({classes[0] if classes else 'none'}); "
                "a classifier needs at least two"
            )
    if val_from not in ("stratified", "last"):
        raise NnkitInputError(f"the validation part is taken 'stratified' or 'last', not {val_from!r}")
    parts = _split_parts(dict(dataset.parts), val_split, test_split, seed, val_from)
    if preprocessing is None:
        preprocessing = _fit_preprocessing(dataset, parts["train"][0])
    encode = _label_encoder(classes)
    xs, ys = {}, {}
    for name in PART_NAMES:
        if name not in parts:
            continue
        x_raw, y_raw = parts.pop(name)
        ys[name] = encode(y_raw)
        xs[name] = apply_preprocessing(x_raw, preprocessing)
        del x_raw
    n_features = int(xs["train"].shape[1])
    input_shape: tuple = (n_features,)
    if keep_image_shape:
        if dataset.kind != "images":
            raise NnkitInputError(
                f"{dataset.name} is a table of {n_features} features per row, not images",
                hint="conv and pool layers need images (MNIST npz/IDX, the digits); "
                "a table needs dense layers",
            )
        input_shape = channels_last(dataset.image_shape)
        for name in xs:
            xs[name] = xs[name].reshape(len(xs[name]), *input_shape)  # a view: no copy
    return PreparedData(
        x=xs,
        y=ys,
        classes=list(classes),
        preprocessing=preprocessing,
        n_features=n_features,
        info={"data": dataset.name, "kind": dataset.kind, "digest": dataset_digest(dataset)},
        input_shape=input_shape,
    )


def _label_encoder(classes: list):
    """A function from raw labels to class indices into ``classes``; an unknown label is an error."""
    lookup = {c: k for k, c in enumerate(classes)}
    lookup.update({str(c): k for k, c in enumerate(classes)})

    def encode(y):
        unknown = [v for v in np.unique(y).tolist() if v not in lookup and str(v) not in lookup]
        if unknown:
            raise NnkitInputError(
                f"label {unknown[0]!r} is not one of the model's classes "
                f"({', '.join(map(str, classes))})"
            )
        return np.array(
            [lookup[v] if v in lookup else lookup[str(v)] for v in y.tolist()], dtype=np.int64
        )

    return encode


def _split_parts(parts: dict, val_split: float, test_split: float, seed: int, val_from: str) -> dict:
    """Take the validation and test parts the data lacks out of its training part (raw arrays)."""
    # Split before any float conversion so that only the small raw arrays are copied.
    wanted = [("validation", val_split), ("test", test_split)]
    missing = [(name, f) for name, f in wanted if name not in parts and f > 0]
    keras_validation = val_from == "last" and ("validation", val_split) in missing
    if keras_validation:
        missing.remove(("validation", val_split))
    if missing:
        x_train, y_train = parts["train"]
        indices = stratified_split(y_train, [f for _, f in missing], seed=seed)
        parts["train"] = (x_train[indices[0]], y_train[indices[0]])
        for (name, _), idx in zip(missing, indices[1:], strict=False):
            if idx.size:
                parts[name] = (x_train[idx], y_train[idx])
        del x_train, y_train
    if keras_validation:
        # keras Model.fit: split_at = int(n · (1 − validation_split)); validation = x[split_at:].
        x_train, y_train = parts["train"]
        split_at = int(len(y_train) * (1.0 - val_split))
        parts["train"] = (x_train[:split_at], y_train[:split_at])
        if split_at < len(y_train):
            parts["validation"] = (x_train[split_at:], y_train[split_at:])
        del x_train, y_train
    if parts["train"][0].shape[0] == 0:
        raise NnkitInputError("the training part is empty: lower --val-split or --test-split")
    return parts


def _fit_preprocessing(dataset: Dataset, x_train: np.ndarray) -> dict:
    """Images: divide by the pixel range; tables: standardize with the training part's statistics."""
    if dataset.kind == "images":
        return {"kind": "scale", "divisor": float(dataset.divisor), "image_shape": list(dataset.image_shape)}
    preprocessing = fit_standardize(x_train)
    preprocessing["feature_names"] = list(dataset.feature_names or [])
    preprocessing["label_name"] = dataset.label_name
    return preprocessing
