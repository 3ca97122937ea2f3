"""Reading images and volumes as 2-D float64 arrays, and naming the outputs of several inputs.

- PNG, JPEG, TIFF, BMP (Pillow): grayscale, scaled to 0..1 as the course does: 8-bit ÷ 255,
  16-bit ÷ 65535 (read in their own mode, so no precision is lost to an 8-bit conversion); 32-bit
  integer and float TIFFs keep their values, as ``.npy`` does.
- ``.npy``: used as is (and ``.csv``/``.txt``/``.npz`` or stdin through :mod:`nnkit.io.arrays`).
- NIfTI ``.nii``/``.nii.gz`` (nibabel) and DICOM ``.dcm`` (pydicom, modality LUT / rescale slope and
  intercept applied, so CT reads in Hounsfield units; colour made grayscale) with the ``medical``
  extra: values as stored.

A 3-D volume gives one 2-D slice: ``--slice AXIS:INDEX`` (``2:95`` is ``volume[:, :, 95]``, axes
of the array as stored). The default for a NIfTI is the middle axial slice: across the voxel axis its
affine points head–foot (axis 2 for RAS or LPS files, axis 1 for FreeSurfer's LIA), in voxel order,
not flipped or rotated (so anterior/left are where the file's affine puts them); for a multi-frame
DICOM (frames, rows, columns) it is the middle frame. A 3-D ``.npy`` needs ``--slice``.
"""

from __future__ import annotations

import glob
import io
from pathlib import Path

import numpy as np

from nnkit.errors import NnkitInputError
from nnkit.io.limits import require_array
from nnkit.io.npyfile import load_npy_file

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


def read_image(path, slice_spec: str | None = None) -> np.ndarray:
    """Read an image, volume or ``.npy`` file as a 2-D float64 array.

    Parameters
    ----------
    path : str or Path
        A PNG, JPEG, TIFF, BMP, NIfTI, DICOM or ``.npy`` file.
    slice_spec : str, optional
        ``AXIS:INDEX`` picking one slice of a 3-D volume.

    Returns
    -------
    image : (height, width) float64 array
        Pictures scaled to 0..1; volumes and arrays as stored.
    """
    path = Path(path)
    name = path.name.lower()
    if path.is_dir():
        raise NnkitInputError(f"{path} is a folder, not an image")
    if not path.exists():
        raise NnkitInputError(f"no such file: {path}")
    if name.endswith((".nii", ".nii.gz")):
        volume, axial = _read_nifti(path)
        return take_slice(volume, slice_spec, str(path), default_axis=axial)
    if name.endswith(".dcm"):
        return take_slice(_read_dicom(path), slice_spec, str(path), default_axis=0)
    if name.endswith(".npy"):
        return take_slice(load_npy_file(path), slice_spec, str(path))
    if slice_spec is not None:
        raise NnkitInputError(f"--slice applies to volumes (.nii, .dcm, 3-D .npy), not to {path}")
    return _read_picture(path)


def load_image(source: str, env, slice_spec: str | None = None) -> np.ndarray:
    """Read one input of ``convolve``/``pool``: an image, a volume, an array file or stdin (``-``).

    Stdin may hold ``.npy`` bytes, text numbers or an encoded picture (PNG, JPEG, TIFF, BMP).
    Every file read is recorded in ``env.inputs`` so no output is written over it.
    """
    from nnkit.io.arrays import parse_bytes, read_input_file, read_source

    if source == "-":
        data, name, _ = read_source("-", env)
        if data.startswith(_PICTURE_MAGIC):
            if slice_spec is not None:
                raise NnkitInputError("--slice applies to volumes, not to a picture on stdin")
            return _read_picture(io.BytesIO(data), "stdin")
        return take_slice(parse_bytes(data, name), slice_spec, name)
    if source.lower().endswith((*IMAGE_SUFFIXES, ".npy")):
        image = read_image(source, slice_spec)
        env.inputs.append(Path(source))
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
               default_axis: int | None = None) -> np.ndarray:
    """One 2-D float64 slice of an array: as is when 2-D, ``AXIS:INDEX`` of a 3-D one.

    Parameters
    ----------
    array : array_like, 2-D or 3-D (trailing axes of length 1 are dropped)
    slice_spec : str or None
        ``AXIS:INDEX``; a negative INDEX counts from the end.
    source : str
        Name for messages.
    default_axis : int, optional
        Without ``slice_spec``, take the middle slice along this axis; without either, a
        3-D array is an error.

    Returns
    -------
    image : (height, width) float64 array

    Examples
    --------
    >>> take_slice(np.arange(8).reshape(2, 2, 2), "2:1")
    array([[1., 3.],
           [5., 7.]])
    """
    a = np.asarray(array)
    while a.ndim > 2 and a.shape[-1] == 1:
        a = a[..., 0]
    if a.dtype.kind not in "biuf":
        raise NnkitInputError(f"{source} holds {a.dtype} values, not numbers")
    if a.ndim == 2:
        if slice_spec is not None:
            raise NnkitInputError(f"--slice applies to 3-D volumes; {source} is 2-D {a.shape}")
        return _finite(a.astype(np.float64), source)
    if a.ndim != 3:
        raise NnkitInputError(f"{source} is {a.ndim}-D with shape {a.shape}; expected a 2-D image "
                              "or a 3-D volume")
    if slice_spec is None:
        if default_axis is None:
            raise NnkitInputError(
                f"{source} is a 3-D array of shape {a.shape}; choose a 2-D slice with --slice",
                hint="add --slice AXIS:INDEX, e.g. --slice 2:" + str(a.shape[2] // 2),
            )
        axis, index = default_axis, a.shape[default_axis] // 2
    else:
        axis, index = parse_slice(slice_spec)
    if not 0 <= axis <= 2:
        raise NnkitInputError(f"--slice axis must be 0, 1 or 2 for a 3-D volume, got {axis}")
    n = a.shape[axis]
    if not -n <= index < n:
        raise NnkitInputError(f"--slice {axis}:{index} is outside the volume: axis {axis} has "
                              f"{n} slices (0..{n - 1})")
    return _finite(np.take(a, index, axis=axis).astype(np.float64), source)


def parse_slice(spec: str) -> tuple[int, int]:
    """Parse ``AXIS:INDEX``.

    Examples
    --------
    >>> parse_slice("2:95")
    (2, 95)
    """
    parts = str(spec).strip().split(":")
    try:
        axis, index = (int(p) for p in parts)
    except ValueError:
        raise NnkitInputError(f"--slice takes AXIS:INDEX such as 2:95, got {spec!r}") from None
    return axis, index


def expand_inputs(sources: list[str]) -> list[str]:
    """Turn paths, folders and globs into the list of files to read, in a stable order.

    ``-`` (stdin) stays as is; a folder gives its image and ``.npy`` files (sorted); a pattern with
    ``*``, ``?`` or ``[`` that is not itself a file is expanded by :mod:`glob`.
    """
    files: list[str] = []
    for source in sources:
        source = source.strip()
        path = Path(source)
        if source == "-" or path.is_file():
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
            raise NnkitInputError(f"no such file: {source}")
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
    from nnkit.io.output import output_format

    paths = []
    for target, suffix in ((output, ".png"), (save_array, ".npy")):
        if target is None:
            continue
        path = str(Path(target) / output_name(source, suffix)) if is_folder_target(target) else target
        if suffix == ".npy" and not path.lower().endswith(".npy"):
            raise NnkitInputError(f"--save-array writes .npy files, got {target}")
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
    from nnkit.io.output import write_array_file, write_png

    paths = output_targets(source, output, save_array)
    for target in (output, save_array):
        if is_folder_target(target):
            Path(target).mkdir(parents=True, exist_ok=True)
    for path in paths:
        if path.lower().endswith(".png"):
            write_png(feature_map, path, env, clip=clip)
        else:
            write_array_file(feature_map, path, env)
    return paths


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


def _read_nifti(path: Path) -> np.ndarray:
    try:
        import nibabel
    except ImportError:
        raise NnkitInputError(f"reading NIfTI ({path.name}) needs nibabel",
                              hint=_MEDICAL_HINT) from None
    try:
        image = nibabel.load(str(path))
        volume = image.get_fdata()
        codes = nibabel.aff2axcodes(image.affine)
    except Exception as exc:  # nibabel raises many types (ImageFileError, EOFError, zlib.error…)
        raise NnkitInputError(f"cannot read NIfTI {path}: {exc}") from None
    if volume.ndim == 4 and volume.shape[3] > 1:
        raise NnkitInputError(f"{path} is a 4-D series {volume.shape}; nnkit reads 3-D volumes")
    # The axial slices are across the voxel axis the affine points head–foot (axis 2 in RAS/LPS
    # files, axis 1 in FreeSurfer's LIA); axis 2 when the affine does not say.
    axial = next((i for i, code in enumerate(codes[:3]) if code in ("S", "I")), 2)
    return volume, axial


def _read_dicom(path: Path) -> np.ndarray:
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
            return np.asarray(pixels[..., :3], dtype=np.float64) @ np.array([0.299, 0.587, 0.114])
        return np.asarray(apply_modality_lut(pixels, dataset), dtype=np.float64)
    except Exception as exc:  # pydicom raises InvalidDicomError, AttributeError, ValueError…
        raise NnkitInputError(f"cannot read DICOM {path}: {exc}") from None
