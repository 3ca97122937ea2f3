import io

import numpy as np
from PIL import Image

from tests.conftest import SAMPLES


def test_shape_with_minus_one_and_negative_numbers(cli):
    run = cli("reshape", "1", "-2", "3", "-4e-3", "-inf", "6", "--shape", "2,-1")
    assert run.exit_code == 0, run.stderr
    assert run.stdout == "1.0,-2.0,3.0\n-0.004,-inf,6.0\n"


def test_integers_stay_integers(cli):
    assert cli("reshape", "1,2;3,4", "--shape", "1,4").stdout == "1,2,3,4\n"


def test_impossible_shape_shows_both_sizes(cli):
    cli("reshape", "1", "2", "3", "--shape", "2,2").assert_input_error("3 values", "(2, 2) = 4 values")


def test_exactly_one_mode(cli):
    cli("reshape", "1", "2").assert_input_error("exactly one of --shape, --flatten and --digits")
    cli("reshape", "1", "2", "--shape", "2", "--flatten").assert_input_error("exactly one")


def test_flatten_an_image_into_one_row():
    from tests.conftest import run_cli

    brain = np.asarray(Image.open(SAMPLES / "brain.png").convert("L")) / 255.0
    run = run_cli("reshape", str(SAMPLES / "brain.png"), "--flatten", "-f", "npy")
    assert run.exit_code == 0, run.stderr
    row = np.load(io.BytesIO(run.stdout_bytes))
    assert row.shape == (1, brain.size)
    np.testing.assert_array_equal(row[0], brain.ravel())


def test_flatten_a_stack(cli, tmp_path):
    stack = np.arange(2 * 3 * 4).reshape(2, 3, 4)
    np.save(tmp_path / "stack.npy", stack)
    run = cli("reshape", "-i", str(tmp_path / "stack.npy"), "--flatten", "-f", "npy")
    np.testing.assert_array_equal(np.load(io.BytesIO(run.stdout_bytes)), stack.reshape(2, 12))


def test_digits_machine_form_is_the_6x20_matrix(cli):
    from nnkit.course.reshaping import DIGITS

    lines = cli("reshape", "--digits").stdout.splitlines()
    assert len(lines) == 6
    np.testing.assert_array_equal(np.array([line.split(",") for line in lines], dtype=int), DIGITS.reshape(6, -1))


def test_digits_on_a_table_are_drawn_with_blocks(cli):
    out = cli("reshape", "--digits", "-f", "table").stdout
    assert "████████" in out  # the top bar of the zero
    assert "██····██" in out  # its sides


def test_digits_picture(cli, tmp_path):
    run = cli("reshape", "--digits", "--plot", str(tmp_path / "digits.png"))
    assert run.exit_code == 0 and run.stdout == ""
    with Image.open(tmp_path / "digits.png") as picture:
        assert picture.format == "PNG" and picture.width > 300
    old = cli("reshape", "--digits", "-o", str(tmp_path / "old.png"))  # the old spelling, one more release
    assert old.exit_code == 0 and "nnkit: note: --digits -o PATH.png is now --plot PATH.png" in old.stderr
    assert (tmp_path / "old.png").read_bytes() == (tmp_path / "digits.png").read_bytes()


def test_small_binary_matrix_preview(cli):
    out = cli("reshape", "1,0,0,1", "--shape", "2,2", "-f", "table").stdout
    assert "██··\n··██" in out


def test_random_is_the_course_matrix(cli):
    np.random.seed(42)
    expected = np.random.randn(5, 3)
    run = cli("reshape", "--random", "5x3", "--seed", "42", "--shape", "3,5", "-f", "npy")
    np.testing.assert_array_equal(np.load(io.BytesIO(run.stdout_bytes)), expected.reshape(3, 5))


def test_png_output_of_a_2d_result(cli, tmp_path):
    run = cli("reshape", "0,1,2,3", "--shape", "2,2", "-o", str(tmp_path / "m.png"))
    assert run.exit_code == 0
    with Image.open(tmp_path / "m.png") as picture:  # a small array is drawn as a heat map, not 2×2 pixels
        assert picture.size[0] > 300 and picture.size[1] > 200


def test_image_errors(cli, tmp_path):
    (tmp_path / "fake.png").write_text("not an image")
    cli("reshape", str(tmp_path / "fake.png"), "--flatten").assert_input_error("fake.png is not an image")
    cli("reshape", str(tmp_path / "missing.png"), "--flatten").assert_input_error("no such file")


def test_a_3d_result_is_shown_slice_by_slice(cli):
    out = cli("reshape", "1", "0", "0", "1", "1", "1", "0", "0", "--shape", "2,2,2", "-f", "table").stdout
    assert "2 slices of 2×2" in out and "[0, :, :]" in out and "[1, :, :]" in out
    assert "██··\n··██" in out and "████\n····" in out
