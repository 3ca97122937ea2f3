"""Reading images and volumes as 2-D float64 arrays, and naming the outputs of several inputs.

- PNG, JPEG, TIFF, BMP (Pillow): grayscale, scaled to 0..1 as the course does: 8-bit ÷ 255,
  16-bit ÷ 65535 (read in their own mode, so no precision is lost to an 8-bit conversion); 32-bit
  integer and float TIFFs keep their values, as ``.npy`` does.
- ``.npy``: used as is (and ``.csv``/``.txt``/``.npz`` or stdin through :mod:`nnkit.files.arrays`).
- NIfTI ``.nii``/``.nii.gz`` (nibabel) and DICOM ``.dcm`` (pydicom, modality LUT / rescale slope and
  intercept applied, so CT reads in Hounsfield units; colour made grayscale) with the ``medical``
  extra: values as stored.

Medical slices are shown the way radiologists read them, whatever the file's voxel order: a NIfTI
volume is first brought to nibabel's closest canonical orientation (RAS+: voxel axis 0 runs to the
patient's right, 1 to anterior, 2 to superior; ``as_closest_canonical``), so ``--slice 2:80`` (or
``axial:80``) is an axial slice, ``1:…`` (``coronal``) and ``0:…`` (``sagittal``) the others; each
slice is then turned to the radiological convention: anterior (axial) or superior (coronal,
sagittal) up, the patient's right on the image's left (sagittal: anterior on the left). A DICOM
image is turned the same way from its ImageOrientationPatient. The default is the middle axial
slice of a NIfTI and the middle frame of a multi-frame DICOM. A 3-D ``.npy`` has no orientation: it
needs ``--slice AXIS:INDEX`` of the array as stored and is not turned.
"""

from __future__ import annotations

import glob
import io
import re
from pathlib import Path

import numpy as np

from nnkit.errors import NnkitInputError, no_such_file
from nnkit.files.npyfile import load_npy_file
from nnkit.term.limits import require_array

PICTURE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp")
MEDICAL_SUFFIXES = (".nii", ".nii.gz", ".dcm")
#: Files read as images (the reshape command reads these through :func:`read_image` too).
IMAGE_SUFFIXES = PICTURE_SUFFIXES + MEDICAL_SUFFIXES
#: Everything a folder or glob of inputs may hold.
INPUT_SUFFIXES = (*IMAGE_SUFFIXES, ".npy")
_MEDICAL_HINT = "pip install 'nnkit-cli[medical]'"
# PNG, JPEG, TIFF (both byte orders), BMP.
_PICTURE_MAGIC = (b"\x89PNG", b"\xff\xd8\xff", b"II*\x00", b"MM\x00*", b"BM")
_BMP_HEADERS = (12, 40, 52, 56, 64, 108, 124)


#: The anatomical planes of a canonical (RAS+) volume and the voxel axis each slices across.
PLANES = {"sagittal": 0, "coronal": 1, "axial": 2}
#: What a plane's picture shows at its top and on its left in the radiological convention.
RADIOLOGICAL_VIEW = {
    "axial": "anterior up, patient's right on the left",
    "coronal": "superior up, patient's right on the left",
    "sagittal": "superior up, anterior on the left",
}


def read_image(path, slice_spec: str | None = None) -> np.ndarray:
    """Read an image, volume or ``.npy`` file as a 2-D float64 array.

    Parameters
    ----------
    path : str or Path
        A PNG, JPEG, TIFF, BMP, NIfTI, DICOM or ``.npy`` file.
    slice_spec : str, optional
        ``AXIS:INDEX`` or ``PLANE:INDEX`` (``axial:80``) picking one slice of a 3-D volume.

    Returns
    -------
    image : (height, width) float64 array
        Pictures scaled to 0..1; volumes and arrays as stored, medical slices in radiological
        orientation.
    """
    return read_image_oriented(path, slice_spec)[0]


def read_image_oriented(path, slice_spec: str | None = None) -> tuple[np.ndarray, str | None]:
    """Like :func:`read_image`, also saying how a medical slice was taken and turned (else None)."""
    path = Path(path)
    name = path.name.lower()
    if path.is_dir():
        raise NnkitInputError(f"{path} is a folder, not an image")
    if not path.exists():
        raise no_such_file(path)
    if name.endswith((".nii", ".nii.gz")):
        return _read_nifti(path, slice_spec)
    if name.endswith(".dcm"):
        return _read_dicom(path, slice_spec)
    if name.endswith(".npy"):
        return take_slice(load_npy_file(path), slice_spec, str(path)), None
    if slice_spec is not None:
        raise NnkitInputError(f"--slice applies to volumes (.nii, .dcm, 3-D .npy), not to {path}")
    return _read_picture(path), None


def load_image(source: str, env, slice_spec: str | None = None) -> np.ndarray:
    """Read one input of ``convolve``/``pool``: an image, a volume, an array file or stdin (``-``).

    Stdin may hold ``.npy`` bytes, text numbers or an encoded picture (PNG, JPEG, TIFF, BMP).
    Every file read is recorded in ``env.inputs`` so no output is written over it, and how a
    medical slice was oriented in ``env.orientations[source]``.
    """
    from nnkit.files.arrays import parse_bytes, read_input_file, read_source

    if is_inline_matrix(source):
        from nnkit.files.arrays import parse_numbers

        return take_slice(np.atleast_2d(parse_numbers([source]).astype(np.float64)), slice_spec, "the matrix")
    if source == "-":
        data, name, _ = read_source("-", env)
        if data.startswith(_PICTURE_MAGIC):
            if slice_spec is not None:
                raise NnkitInputError("--slice applies to volumes, not to a picture on stdin")
            return _read_picture(io.BytesIO(data), "stdin")
        return take_slice(parse_bytes(data, name), slice_spec, name)
    if source.lower().endswith((*IMAGE_SUFFIXES, ".npy")):
        image, orientation = read_image_oriented(source, slice_spec)
        env.inputs.append(Path(source))
        if orientation is not None:
            env.orientations[source] = orientation
        return image
    return take_slice(read_input_file(source, env), slice_spec, source)


def read_picture_bytes(data: bytes, name: str = "stdin") -> np.ndarray | None:
    """An encoded picture (PNG, JPEG, TIFF, BMP) given as bytes, read as :func:`read_image` reads one.

    Returns None when the bytes are not a picture (text numbers, ``.npy`` bytes).
    """
    if not data.startswith(_PICTURE_MAGIC):
        return None
    # "BM" also starts a CSV header such as "BMI,age": a BMP has its info header's size at byte 14.
    if data.startswith(b"BM") and (len(data) < 18 or int.from_bytes(data[14:18], "little") not in _BMP_HEADERS):
        return None
    return _read_picture(io.BytesIO(data), name)


def take_slice(array, slice_spec: str | None, source: str = "input",
               default_axis: int | None = None, planes: dict[str, int] | None = None) -> np.ndarray:
    """One 2-D float64 slice of an array: as is when 2-D, ``AXIS:INDEX`` of a 3-D one.

    Parameters
    ----------
    array : array_like, 2-D or 3-D (trailing axes of length 1 are dropped)
    slice_spec : str or None
        ``AXIS:INDEX``; a negative INDEX counts from the end; ``PLANE:INDEX`` or ``PLANE`` (its
        middle slice) where ``planes`` names the axes.
    source : str
        Name for messages.
    default_axis : int, optional
        Without ``slice_spec``, take the middle slice along this axis; without either, a
        3-D array is an error.
    planes : dict, optional
        Anatomical plane names and the axis each slices across (an array without an orientation
        has none).

    Returns
    -------
    image : (height, width) float64 array

    Examples
    --------
    >>> take_slice(np.arange(8).reshape(2, 2, 2), "2:1")
    array([[1., 3.],
           [5., 7.]])
    """
    a = _numeric(array, source)
    if a.ndim == 2:
        if slice_spec is not None:
            raise NnkitInputError(f"--slice applies to 3-D volumes; {source} is 2-D {a.shape}")
        return _finite(a.astype(np.float64), source)
    axis, index = _slice_position(a.shape, slice_spec, source, default_axis, planes)
    return _finite(np.take(a, index, axis=axis).astype(np.float64), source)


def _numeric(array, source: str) -> np.ndarray:
    a = np.asarray(array)
    while a.ndim > 2 and a.shape[-1] == 1:
        a = a[..., 0]
    if a.dtype.kind not in "biuf":
        raise NnkitInputError(f"{source} holds {a.dtype} values, not numbers")
    if a.ndim not in (2, 3):
        raise NnkitInputError(f"{source} is {a.ndim}-D with shape {a.shape}; expected a 2-D image "
                              "or a 3-D volume")
    return a


def _slice_position(shape, slice_spec, source, default_axis, planes) -> tuple[int, int]:
    """The (axis, index ≥ 0) a slice spec picks in a 3-D array of ``shape``."""
    if slice_spec is None:
        if default_axis is None:
            raise NnkitInputError(
                f"{source} is a 3-D array of shape {shape}; choose a 2-D slice with --slice",
                hint="add --slice AXIS:INDEX, e.g. --slice 2:" + str(shape[2] // 2),
            )
        return default_axis, shape[default_axis] // 2
    axis, index = parse_slice(slice_spec)
    if isinstance(axis, str):
        if not planes:
            raise NnkitInputError(f"{source} has no anatomical orientation, so --slice {axis} means "
                                  "nothing here", hint="use --slice AXIS:INDEX of the array as stored")
        if axis not in planes:
            raise NnkitInputError(f"--slice {axis}: {source} holds {' and '.join(planes)} slices only")
        axis = planes[axis]
    if not 0 <= axis <= 2:
        raise NnkitInputError(f"--slice axis must be 0, 1 or 2 for a 3-D volume, got {axis}")
    n = shape[axis]
    if index is None:
        index = n // 2
    if not -n <= index < n:
        raise NnkitInputError(f"--slice {slice_spec} is outside the volume: axis {axis} has "
                              f"{n} slices (0..{n - 1})")
    return axis, index % n


def parse_slice(spec: str) -> tuple[int | str, int | None]:
    """Parse ``AXIS:INDEX``, ``PLANE:INDEX`` or ``PLANE`` (its middle slice: index None).

    Examples
    --------
    >>> parse_slice("2:95")
    (2, 95)
    >>> parse_slice("Axial:80")
    ('axial', 80)
    >>> parse_slice("coronal")
    ('coronal', None)
    """
    parts = str(spec).strip().lower().split(":")
    if parts[0] in PLANES and len(parts) <= 2:
        try:
            return parts[0], (int(parts[1]) if len(parts) == 2 else None)
        except ValueError:
            pass
    else:
        try:
            axis, index = (int(p) for p in parts)
            return axis, index
        except ValueError:
            pass
    raise NnkitInputError(f"--slice takes AXIS:INDEX such as 2:95, or a plane and index such as "
                          f"axial:80 (also coronal:…, sagittal:…), got {spec!r}")


_INLINE = re.compile(r"^\s*[-+]?(\d|\.\d|inf|nan)[\d\s.,;eE+\-infa]*$", re.IGNORECASE)


def is_inline_matrix(source: str) -> bool:
    """Whether an IMAGE argument is numbers typed on the command line (``"1,2;3,4"``), not a file.

    Examples
    --------
    >>> is_inline_matrix("1,2;3,4"), is_inline_matrix(" -1,2;3,-4"), is_inline_matrix("brain.png")
    (True, True, False)
    """
    return bool(_INLINE.match(source)) and not Path(source.strip()).exists()


def expand_inputs(sources: list[str]) -> list[str]:
    """Turn paths, folders and globs into the list of files to read, in a stable order.

    ``-`` (stdin) stays as is; a folder gives its image and ``.npy`` files (sorted); a pattern with
    ``*``, ``?`` or ``[`` that is not itself a file is expanded by :mod:`glob`.
    """
    files: list[str] = []
    for source in sources:
        source = source.strip()
        path = Path(source)
        if source == "-" or path.is_file() or is_inline_matrix(source):
            files.append(source)
        elif path.is_dir():
            found = sorted(str(p) for p in path.iterdir()
                           if p.is_file() and p.name.lower().endswith(INPUT_SUFFIXES))
            if not found:
                raise NnkitInputError(f"the folder {path} holds no images or .npy files")
            files.extend(found)
        elif any(ch in source for ch in "*?["):
            found = sorted(glob.glob(source))
            if not found:
                raise NnkitInputError(f"no files match {source}")
            files.extend(found)
        else:
            raise no_such_file(source)
    if not files:
        raise NnkitInputError("no input image given")
    return files


def output_name(source: str, suffix: str) -> str:
    """The file name an input's result gets in an output folder: its stem plus ``suffix``.

    Examples
    --------
    >>> output_name("scans/t1.nii.gz", ".png")
    't1.png'
    >>> output_name("-", ".npy")
    'stdin.npy'
    """
    if source == "-":
        return "stdin" + suffix
    name = Path(source).name
    for known in sorted(INPUT_SUFFIXES, key=len, reverse=True):
        if name.lower().endswith(known):
            name = name[: -len(known)]
            break
    return name + suffix


def is_folder_target(target: str | None) -> bool:
    """Whether ``-o``/``--save-array`` names a folder (ends with ``/`` or is an existing folder)."""
    return target is not None and (target.endswith(("/", "\\")) or Path(target).is_dir())


def output_targets(source: str, output: str | None = None,
                   save_array: str | None = None) -> list[str]:
    """The files one input's result goes to (``-o``, then ``--save-array``), each checked first.

    A target ending in ``/`` (or an existing folder) stands for ``<input stem>.png`` (``-o``) or
    ``<input stem>.npy`` (``--save-array``) inside it. Raises before anything is written when a
    target's extension cannot be written.
    """
    from nnkit.term.output import output_format

    paths = []
    for target, suffix in ((output, ".png"), (save_array, ".npy")):
        if target is None:
            continue
        folder = is_folder_target(target)
        path = str(Path(target) / output_name(source, suffix)) if folder else target
        if suffix == ".npy" and not path.lower().endswith(".npy"):
            raise NnkitInputError(f"--save-array writes .npy files, got {target}")
        if not folder and not Path(path).parent.is_dir():  # a DIR/ target is made; a file's folder is not
            raise NnkitInputError(f"cannot write {path}: the folder {Path(path).parent} does not exist")
        output_format(path)
        paths.append(path)
    return paths


def check_distinct_names(sources: list[str]) -> None:
    """Refuse inputs that would write the same file in an output folder (``a.png`` and ``a.npy``)."""
    seen: dict[str, str] = {}
    for source in sources:
        name = output_name(source, "")
        if name in seen:
            raise NnkitInputError(
                f"{seen[name]} and {source} would both be written as {name}.png/.npy in the output folder",
                hint="rename one of them, or run them one at a time",
            )
        seen[name] = source


def write_feature_map(feature_map: np.ndarray, source: str, env, output: str | None = None,
                      save_array: str | None = None, clip: bool = False) -> list[str]:
    """Write one input's result: ``-o`` (PNG, or the format its extension names) and ``--save-array``.

    Targets are resolved by :func:`output_targets` (all checked before the first write). PNGs are
    8-bit, min–max scaled or clipped to 0..1 with ``clip``; every write is atomic. Returns the
    paths written.
    """
    from nnkit.term.output import write_array_file, write_png

    paths = output_targets(source, output, save_array)
    for target in (output, save_array):
        if is_folder_target(target):
            Path(target).mkdir(parents=True, exist_ok=True)
    for path in paths:
        if path.lower().endswith(".png"):
            write_png(feature_map, path, env, clip=clip)
            _note_signed(feature_map, path, env, clip)
        else:
            write_array_file(feature_map, path, env)
    return paths


def _note_signed(values: np.ndarray, path: str, env, clip: bool) -> None:
    """Say how a map of both signs became grey levels: its PNG has no colour bar to tell it."""
    low, high = float(values.min()), float(values.max())
    if clip or not low < 0 < high:
        return
    grey = round(-low / (high - low) * 255)
    env.note(f"nnkit: {Path(path).name}: values {low:.3g} to {high:.3g} min–max scaled, 0 became grey {grey}")
    env.note("nnkit: --plot draws such a map red and blue around a white 0, with a colour bar")


def _finite(image: np.ndarray, source: str) -> np.ndarray:
    if image.size == 0:
        raise NnkitInputError(f"{source} is empty (shape {image.shape})")
    if not np.all(np.isfinite(image)):
        raise NnkitInputError(f"{source} contains NaN or infinite values")
    return image


def _read_picture(path, name: str | None = None) -> np.ndarray:
    from PIL import Image, UnidentifiedImageError

    name = str(path) if name is None else name
    # nnkit decides by the memory an image needs (below), not by Pillow's fixed 89-megapixel
    # DecompressionBombWarning, which would leak onto stderr for a large but valid picture.
    Image.MAX_IMAGE_PIXELS = None
    try:
        with Image.open(path) as im:
            width, height = im.size
            # The pixels as float64, plus the 8-bit and scaled copies made on the way.
            require_array((height, width), 8 * 3, f"{name} ({width}×{height} pixels)")
            im.load()
            if im.mode.startswith("I;16") or (im.mode == "I" and im.format == "PNG"):
                # 16-bit grayscale (Pillow opens 16-bit PNGs as I;16, older versions as I); never
                # via 8-bit L.
                return _finite(np.asarray(im, dtype=np.float64) / 65535.0, name)
            if im.mode in ("I", "F"):  # 32-bit integer or float TIFF: values as stored, like .npy
                return _finite(np.asarray(im, dtype=np.float64), name)
            return np.asarray(im.convert("L"), dtype=np.float64) / 255.0
    except NnkitInputError:
        raise
    except UnidentifiedImageError:
        raise NnkitInputError(f"{name} is not an image Pillow can read (PNG, JPEG, TIFF, BMP)") from None
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise NnkitInputError(f"cannot read image {name}: {exc}") from None


def _read_nifti(path: Path, slice_spec: str | None) -> tuple[np.ndarray, str]:
    """A slice of a NIfTI volume in RAS+ voxel order, turned to the radiological convention."""
    try:
        import nibabel
    except ImportError:
        raise NnkitInputError(f"reading NIfTI ({path.name}) needs nibabel",
                              hint=_MEDICAL_HINT) from None
    try:
        image = nibabel.load(str(path))
        codes = "".join(nibabel.aff2axcodes(image.affine))
        # Orientation comes from the affine, never from the voxel order: RAS+ axes first.
        canonical = nibabel.as_closest_canonical(image)
        volume = canonical.get_fdata()
    except Exception as exc:  # nibabel raises many types (ImageFileError, EOFError, zlib.error…)
        raise NnkitInputError(f"cannot read NIfTI {path}: {exc}") from None
    while volume.ndim > 3 and volume.shape[-1] == 1:
        volume = volume[..., 0]
    if volume.ndim == 4:
        raise NnkitInputError(f"{path} is a 4-D series {volume.shape}; nnkit reads 3-D volumes")
    volume = volume.reshape(volume.shape + (1,) * (3 - volume.ndim))
    flat = [i for i in (2, 1, 0) if volume.shape[i] == 1]  # a single-slice file: that slice
    axis, index = _slice_position(volume.shape, slice_spec, str(path), flat[0] if flat else 2, PLANES)
    plane = next(name for name, number in PLANES.items() if number == axis)
    # The two remaining RAS+ axes (a, b) run right/anterior and anterior/superior: put b's far end
    # at the top and a's far end (the patient's right, or anterior) on the left.
    picture = _finite(np.ascontiguousarray(np.take(volume, index, axis=axis).T[::-1, ::-1]), str(path))
    note = "" if codes == "RAS" else f", from the file's {codes} voxel order"
    return picture, (f"{plane} slice {axis}:{index} of RAS+ {volume.shape[0]}×{volume.shape[1]}×"
                     f"{volume.shape[2]}{note}; radiological: {RADIOLOGICAL_VIEW[plane]}")


def _read_dicom(path: Path, slice_spec: str | None) -> tuple[np.ndarray, str]:
    """A DICOM image (or a frame of a multi-frame one) turned by its ImageOrientationPatient."""
    try:
        import pydicom
    except ImportError:
        raise NnkitInputError(f"reading DICOM ({path.name}) needs pydicom",
                              hint=_MEDICAL_HINT) from None
    try:
        from pydicom.pixels import apply_modality_lut
    except ImportError:  # pydicom 2.x
        from pydicom.pixel_data_handlers.util import apply_modality_lut
    try:
        dataset = pydicom.dcmread(str(path))
        pixels = dataset.pixel_array
        if int(dataset.get("SamplesPerPixel", 1)) > 1:
            # Colour (pydicom gives RGB, frames first): grayscale with the weights Pillow's L uses;
            # the modality LUT is for single-sample data only.
            values = np.asarray(pixels[..., :3], dtype=np.float64) @ np.array([0.299, 0.587, 0.114])
        else:
            values = np.asarray(apply_modality_lut(pixels, dataset), dtype=np.float64)
        cosines = _image_orientation(dataset)
    except Exception as exc:  # pydicom raises InvalidDicomError, AttributeError, ValueError…
        raise NnkitInputError(f"cannot read DICOM {path}: {exc}") from None
    plane = None if cosines is None else _dicom_plane(*cosines)
    frame = take_slice(values, slice_spec, str(path), default_axis=0,
                       planes=None if plane is None else {plane: 0})
    if cosines is None:
        return frame, "as stored: the file has no ImageOrientationPatient"
    return _radiological_dicom(frame, *cosines, plane), f"{plane}; radiological: {RADIOLOGICAL_VIEW[plane]}"


def _image_orientation(dataset) -> tuple[np.ndarray, np.ndarray] | None:
    """The row and column direction cosines (patient LPS) of a DICOM image, if it has them."""
    orientation = dataset.get("ImageOrientationPatient")
    if orientation is None:  # enhanced (multi-frame) objects keep it in a functional group
        for group in ("SharedFunctionalGroupsSequence", "PerFrameFunctionalGroupsSequence"):
            try:
                orientation = dataset[group][0].PlaneOrientationSequence[0].ImageOrientationPatient
                break
            except (KeyError, AttributeError, IndexError):
                continue
    if orientation is None or len(orientation) != 6:
        return None
    values = np.asarray([float(v) for v in orientation])
    return values[:3], values[3:]


def _dicom_plane(row: np.ndarray, column: np.ndarray) -> str:
    """The plane an image lies closest to: the patient axis its normal points along."""
    normal = np.abs(np.cross(row, column))
    return ("sagittal", "coronal", "axial")[int(np.argmax(normal))]


#: Per plane, the patient (LPS) axis and sign the image's columns and rows must run along to be
#: read radiologically: across the image towards the patient's left (or posterior), down towards
#: posterior (axial) or inferior.
_RADIOLOGICAL_LPS = {"axial": ((0, 1), (1, 1)), "coronal": ((0, 1), (2, -1)), "sagittal": ((1, 1), (2, -1))}


def _radiological_dicom(frame: np.ndarray, row: np.ndarray, column: np.ndarray, plane: str) -> np.ndarray:
    """Transpose and flip a DICOM frame so that it reads radiologically.

    ``row`` is the patient direction of increasing column index, ``column`` that of increasing row
    index (DICOM's ImageOrientationPatient, LPS).
    """
    (across, across_sign), (down, down_sign) = _RADIOLOGICAL_LPS[plane]
    if abs(row[across]) < abs(column[across]):
        frame, row, column = frame.T, column, row
    if np.sign(row[across]) != across_sign:
        frame = frame[:, ::-1]
    if np.sign(column[down]) != down_sign:
        frame = frame[::-1, :]
    return np.ascontiguousarray(frame)
