"""Bring a photographed or drawn digit to MNIST's format ("your own digit").

MNIST's images were made from black-and-white scans: each digit was size-normalised to fit a 20×20
box (aspect ratio kept, grey levels from anti-aliasing), then placed in a 28×28 field so that its
centre of mass sits at the centre. :func:`prepare_digit` does the same to a picture of any size:

1. grayscale 0..1 (done by :func:`nnkit.files.images.read_image`);
2. inverted when it is dark ink on light paper (the border, where paper is, is brighter than 0.5),
   because MNIST digits are light strokes on black;
3. the paper set to 0 and the strongest ink to 1 (a photo's grey paper and pencil become MNIST's
   black and white); what stays below a quarter of the way from paper to ink (shadows, the grain of
   the paper) is paper too, because MNIST's background is exactly 0;
4. cropped to the ink (the pixels at least half-way from paper to ink);
5. resized with scikit-image (bilinear, anti-aliased) so that the longer side is 20 pixels, and
   scaled so that its brightest pixel is 1 (a thin pen stroke shrunk from a large photo would
   otherwise come out fainter than any MNIST stroke);
6. shifted by whole pixels so that its centre of mass is at the centre of 28×28 (13.5, 13.5).

scikit-image is imported only inside :func:`prepare_digit`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nnkit.errors import NnkitInputError

#: MNIST's field and the box its digits were fitted into.
FIELD = 28
BOX = 20
#: Ink is where the picture is at least this far from paper (0) towards the strongest ink (1);
#: below PAPER_LEVEL it is paper (shadows, grain) and set to 0.
INK_LEVEL = 0.5
PAPER_LEVEL = 0.25


@dataclass
class PreparedDigit:
    """A digit in MNIST's format and what was done to get it there.

    Attributes
    ----------
    image : (28, 28) float64 array
        Light strokes on 0, values 0..1, centred by centre of mass.
    original_shape : (int, int)
        Height and width of the picture it was made from.
    inverted : bool
        Whether the picture was dark on light and was inverted.
    crop : (top, left, height, width)
        The ink's bounding box in the original picture.
    resized : (int, int)
        The size the crop was resized to (the longer side is 20).
    offset : (row, col)
        Where the resized crop's top-left pixel sits in the 28×28 field.
    """

    image: np.ndarray
    original_shape: tuple[int, int]
    inverted: bool
    crop: tuple[int, int, int, int]
    resized: tuple[int, int]
    offset: tuple[int, int]

    def short(self) -> str:
        """The steps in a few words, for a picture's caption."""
        steps = ["inverted"] if self.inverted else []
        steps += ["cropped to the ink", f"resized to {self.resized[0]}×{self.resized[1]}", "centred"]
        return ", ".join(steps)

    def describe(self, source: str) -> str:
        """One line for stderr saying what was done, in the order it was done."""
        h, w = self.original_shape
        top, left, ch, cw = self.crop
        steps = ["inverted (dark ink on light paper)"] if self.inverted else []
        steps += [
            f"cropped to the ink ({ch}×{cw} pixels at row {top}, column {left})",
            f"resized to {self.resized[0]}×{self.resized[1]} (longer side {BOX})",
            f"centred by its centre of mass in {FIELD}×{FIELD}",
        ]
        centre = (FIELD - 1) / 2
        if max(abs(c - centre) for c in centre_of_mass(self.image)) > 0.5:
            steps[-1] += f" (as near the centre as the {FIELD}×{FIELD} field allows)"
        return f"nnkit: {source} is {h}×{w}; prepared as MNIST's digits were: " + ", ".join(steps)


def _border(image: np.ndarray) -> np.ndarray:
    """The outermost rows and columns: where the paper is in a picture of one digit."""
    return np.concatenate([image[0], image[-1], image[1:-1, 0], image[1:-1, -1]])


def is_dark_on_light(image) -> bool:
    """Whether a picture of one digit is dark ink on light paper (its border is brighter than 0.5).

    Examples
    --------
    >>> is_dark_on_light(np.ones((5, 5))), is_dark_on_light(np.zeros((5, 5)))
    (True, False)
    """
    return bool(np.median(_border(np.asarray(image, dtype=np.float64))) > 0.5)


def prepare_digit(image, source: str = "image") -> PreparedDigit:
    """Prepare a picture of one handwritten digit as MNIST prepared its digits.

    Parameters
    ----------
    image : (height, width) array_like
        Grayscale values in 0..1 (paper and ink in either polarity).
    source : str
        Name of the picture, for messages.

    Returns
    -------
    PreparedDigit
        ``.image`` is the (28, 28) float64 input for an MNIST model.

    Raises
    ------
    NnkitInputError
        The picture is not 2-D, not finite, or shows no ink (one uniform grey).

    Examples
    --------
    A black bar 120 pixels tall and 30 wide on white paper becomes a 20×5 white bar, centred:

    >>> paper = np.ones((200, 200))
    >>> paper[40:160, 85:115] = 0.0
    >>> digit = prepare_digit(paper)
    >>> digit.inverted, digit.crop, digit.resized, digit.offset
    (True, (40, 85, 120, 30), (20, 5), (4, 12))
    >>> float(digit.image[4:24, 12:17].min()), float(digit.image.sum())
    (1.0, 100.0)
    """
    from skimage.transform import resize

    x = np.asarray(image, dtype=np.float64)
    if x.ndim != 2 or min(x.shape) < 2:
        raise NnkitInputError(f"{source}: a digit must be a 2-D picture, got shape {x.shape}")
    if not np.all(np.isfinite(x)):
        raise NnkitInputError(f"{source}: the picture holds NaN or infinite values")
    inverted = is_dark_on_light(x)
    if inverted:
        x = 1.0 - x
    paper = float(np.median(_border(x)))
    ink = float(x.max())
    if ink - paper < 1e-6:
        raise NnkitInputError(
            f"{source}: no ink found (the picture is one uniform grey)",
            hint="photograph or draw one digit, dark on light paper or light on dark",
        )
    x = np.clip((x - paper) / (ink - paper), 0.0, 1.0)
    x[x < PAPER_LEVEL] = 0.0
    rows = np.flatnonzero((x >= INK_LEVEL).any(axis=1))
    cols = np.flatnonzero((x >= INK_LEVEL).any(axis=0))
    top, left = int(rows[0]), int(cols[0])
    crop = x[top : rows[-1] + 1, left : cols[-1] + 1]
    ch, cw = crop.shape
    scale = BOX / max(ch, cw)
    size = (max(1, round(ch * scale)), max(1, round(cw * scale)))
    patch = resize(crop, size, order=1, mode="reflect", anti_aliasing=max(ch, cw) > BOX)
    patch /= patch.max()  # the crop holds ink ≥ INK_LEVEL, so the maximum is positive
    centre = (FIELD - 1) / 2
    # Whole-pixel shifts keep the strokes sharp; the frame keeps the whole box.
    offset = [
        int(np.clip(round(centre - mass), 0, FIELD - extent))
        for mass, extent in zip(centre_of_mass(patch), size, strict=True)
    ]
    field = np.zeros((FIELD, FIELD))
    field[offset[0] : offset[0] + size[0], offset[1] : offset[1] + size[1]] = patch
    return PreparedDigit(
        image=field,
        original_shape=(int(x.shape[0]), int(x.shape[1])),
        inverted=inverted,
        crop=(top, left, ch, cw),
        resized=size,
        offset=(offset[0], offset[1]),
    )


def centre_of_mass(image) -> tuple[float, float]:
    """Intensity-weighted (row, column) centre of a 2-D array.

    Examples
    --------
    >>> centre_of_mass(np.array([[0.0, 1.0], [0.0, 3.0]]))
    (0.75, 1.0)
    """
    x = np.asarray(image, dtype=np.float64)
    total = x.sum()
    rows = float(np.dot(np.arange(x.shape[0]), x.sum(axis=1)) / total)
    cols = float(np.dot(np.arange(x.shape[1]), x.sum(axis=0)) / total)
    return rows, cols
