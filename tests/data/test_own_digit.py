"""MNIST-style preparation of a learner's own digit, against hand-built expectations."""

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from nnkit.data.own_digit import BOX, FIELD, centre_of_mass, prepare_digit
from nnkit.errors import NnkitInputError


def drawn(text: str = "4", size: int = 200, ink: int = 0, paper: int = 255) -> np.ndarray:
    """A digit drawn with Pillow's scalable font, as read_image gives it (grayscale ÷ 255)."""
    image = Image.new("L", (size, size), paper)
    ImageDraw.Draw(image).text(
        (size // 2, size // 2), text, fill=ink, font=ImageFont.load_default(size=size * 3 // 4), anchor="mm"
    )
    return np.asarray(image, dtype=np.float64) / 255


def ink_box(image: np.ndarray) -> tuple[int, int]:
    rows = np.flatnonzero(image.any(axis=1))
    cols = np.flatnonzero(image.any(axis=0))
    return rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1


def test_a_black_bar_on_white_becomes_the_hand_built_white_bar():
    paper = np.ones((200, 200))
    paper[40:160, 85:115] = 0.0  # 120×30 ink: scale 20/120 makes it exactly 20×5
    digit = prepare_digit(paper, "bar.png")
    expected = np.zeros((FIELD, FIELD))
    # Centre of mass of a 20×5 block is (9.5, 2) inside it; whole-pixel shifts that bring it
    # nearest to 13.5: rows 4 (→ 13.5), columns round(11.5) = 12 (→ 14.0).
    expected[4:24, 12:17] = 1.0
    np.testing.assert_array_equal(digit.image, expected)
    assert digit.inverted and digit.crop == (40, 85, 120, 30) and digit.resized == (20, 5)


@pytest.mark.parametrize("text", ["4", "7", "0"])
def test_a_pillow_digit_at_200_pixels_is_mnist_shaped(text):
    digit = prepare_digit(drawn(text), f"{text}.png")
    x = digit.image
    assert x.shape == (FIELD, FIELD) and digit.inverted
    assert x.min() == 0.0 and x.max() == 1.0  # white strokes on black
    assert x[0].sum() + x[:, 0].sum() == 0  # the background is black
    height, width = ink_box(x)
    assert max(height, width) == BOX and min(height, width) <= BOX  # the ink fits a 20×20 box
    rows, cols = centre_of_mass(x)
    assert abs(rows - 13.5) <= 0.5 and abs(cols - 13.5) <= 0.5


def test_the_prepared_digit_matches_a_reference_built_by_hand_with_skimage():
    from skimage.transform import resize

    picture = drawn("7")
    ink = 1 - picture
    ink[ink < 0.25] = 0  # a quarter of the way from paper to ink is still paper
    rows = np.flatnonzero((ink >= 0.5).any(axis=1))
    cols = np.flatnonzero((ink >= 0.5).any(axis=0))
    crop = ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    scale = 20 / max(crop.shape)
    patch = resize(crop, (round(crop.shape[0] * scale), round(crop.shape[1] * scale)), anti_aliasing=True)
    patch /= patch.max()
    digit = prepare_digit(picture)
    top, left = digit.offset
    np.testing.assert_allclose(digit.image[top : top + patch.shape[0], left : left + patch.shape[1]], patch)
    assert digit.image.sum() == pytest.approx(patch.sum())


def test_light_on_dark_is_not_inverted_and_both_polarities_agree():
    dark_on_light = prepare_digit(drawn("3"))
    light_on_dark = prepare_digit(drawn("3", ink=255, paper=0))
    assert dark_on_light.inverted and not light_on_dark.inverted
    np.testing.assert_allclose(light_on_dark.image, dark_on_light.image, atol=1e-12)


def test_grey_paper_and_pencil_are_stretched_to_black_and_white():
    photo = 0.3 + 0.55 * drawn("2")  # pencil at 0.3 on paper at 0.85, like a dim photograph
    clean = prepare_digit(drawn("2"))
    np.testing.assert_allclose(prepare_digit(photo).image, clean.image, atol=1e-9)


def test_a_shadowed_noisy_photo_keeps_a_black_background_and_white_strokes():
    clean = drawn("7", size=300)
    shadow = np.linspace(0.95, 0.65, 300)[np.newaxis, :]  # light falling off across the page
    noise = np.random.default_rng(0).normal(0, 0.02, clean.shape)
    photo = np.clip(shadow * (0.3 + 0.7 * clean) + noise, 0, 1)
    x = prepare_digit(photo).image
    reference = prepare_digit(clean).image
    assert x.max() == 1.0
    # Where the clean drawing has no ink, the photo's shadow and grain leave (almost) nothing.
    assert x[reference == 0].max() < 0.15 and x[reference == 0].mean() < 0.005
    rows, cols = centre_of_mass(x)
    assert abs(rows - 13.5) <= 0.5 and abs(cols - 13.5) <= 0.5
    assert np.corrcoef(x.ravel(), reference.ravel())[0, 1] > 0.9


def test_the_box_stays_inside_the_field_when_the_mass_is_far_off_centre():
    paper = np.ones((100, 100))
    paper[10:26, 10:90] = 0.0  # a heavy 80×16 top bar …
    paper[26:90, 48:52] = 0.0  # … on a thin stem: the mass sits near the top of the box
    digit = prepare_digit(paper, "t.png")
    assert digit.resized == (20, 20) and digit.offset[0] == FIELD - BOX  # pushed down as far as it goes
    assert digit.image[-1].sum() > 0 and centre_of_mass(digit.image)[0] < 13.0
    assert abs(centre_of_mass(digit.image)[1] - 13.5) <= 0.5
    assert "as near the centre as the 28×28 field allows" in digit.describe("t.png")


def test_the_note_says_what_was_done():
    note = prepare_digit(drawn("5"), "five.png").describe("five.png")
    assert note.startswith("nnkit: five.png is 200×200; prepared as MNIST's digits were: inverted")
    assert "cropped to the ink" in note and "resized to 20×" in note and "centre of mass in 28×28" in note
    assert "\n" not in note and "allows" not in note


@pytest.mark.parametrize(
    ("picture", "message"),
    [
        (np.full((50, 40), 0.8), "no ink found"),
        (np.ones(10), "must be a 2-D picture"),
        (np.array([[0.0, np.nan], [1.0, 1.0]]), "NaN"),
    ],
)
def test_pictures_without_a_digit_are_refused(picture, message):
    with pytest.raises(NnkitInputError, match=message):
        prepare_digit(picture)
