"""Reading images as 2-D float arrays scaled to 0..1."""

from pathlib import Path

import numpy as np

from nnkit.errors import NnkitInputError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp")


def read_image(path, slice_spec=None) -> np.ndarray:
    """Read an image file as a grayscale float64 array scaled to 0..1.

    Parameters
    ----------
    path : str or Path
        A PNG, JPEG, TIFF or BMP file.
    slice_spec : str, optional
        ``AXIS:INDEX`` for volumes (not used for 2-D images).

    Returns
    -------
    image : (height, width) float64 array
    """
    from PIL import Image, UnidentifiedImageError

    path = Path(path)
    try:
        with Image.open(path) as im:
            im.load()
            if im.mode in ("I;16", "I;16B", "I;16L", "I"):
                return np.asarray(im, dtype=np.float64) / 65535.0
            return np.asarray(im.convert("L"), dtype=np.float64) / 255.0
    except FileNotFoundError:
        raise NnkitInputError(f"no such file: {path}") from None
    except (UnidentifiedImageError, OSError, SyntaxError) as exc:
        raise NnkitInputError(f"cannot read image {path}: {exc}") from None
