"""nnkit pool end to end: shapes, ops, outputs, stdin, bad input."""

import io

import numpy as np
import pytest
from skimage.measure import block_reduce

from nnkit.course.image_pooling import OPS


@pytest.fixture
def feature(tmp_path):
    x = np.random.default_rng(3).random((398, 336))
    np.save(tmp_path / "feature.npy", x)
    return tmp_path / "feature.npy", x


def test_courses_5x5_max_pool(cli, feature, tmp_path):
    path, x = feature
    run = cli("pool", str(path), "--size", "5", "-f", "npy", "--save-array", str(tmp_path / "p.npy"))
    assert run.exit_code == 0, run.stderr
    pooled = np.load(io.BytesIO(run.stdout_bytes))
    assert pooled.shape == (80, 68)
    np.testing.assert_array_equal(pooled, block_reduce(x, (5, 5), np.max))
    np.testing.assert_array_equal(np.load(tmp_path / "p.npy"), pooled)


@pytest.mark.parametrize("op", OPS)
def test_ops_strides_and_edges(cli, feature, op):
    path, x = feature
    run = cli("pool", str(path), "--size", "2,3", "--stride", "1,2", "--op", op, "--edge", "drop", "-f", "npy")
    assert run.exit_code == 0, run.stderr
    pooled = np.load(io.BytesIO(run.stdout_bytes))
    reduce = {"max": np.max, "mean": np.mean, "min": np.min, "median": np.median, "sum": np.sum}[op]
    assert pooled.shape == (397, 167)
    assert pooled[10, 20] == pytest.approx(reduce(x[10:12, 40:43]), abs=1e-14)


def test_stdin_csv_and_table(cli):
    run = cli("pool", "-", "--size", "2", input="1,2,3\n4,5,6\n7,8,9\n")
    assert run.stdout == "5.0,6.0\n8.0,9.0\n"
    table = cli("pool", "-", "--size", "2", "--op", "mean", "-f", "table", input="1,2,3\n4,5,6\n7,8,9\n")
    assert "2 × 2" in table.stdout and "max pooling" not in table.stdout


@pytest.mark.parametrize(
    ("options", "message"),
    [(["--size", "0"], "--size must be at least 1, got 0"),
     (["--size", "a"], "--size"),
     ([], "--size is required"),
     (["--size", "2", "--stride", "0"], "--stride"),
     (["--size", "500", "--edge", "drop"], "larger than")],
)
def test_bad_input_exits_2_and_writes_nothing(cli, feature, tmp_path, options, message):
    path, _ = feature
    out = tmp_path / "pooled.png"
    cli("pool", str(path), *options, "-o", str(out)).assert_input_error(message)
    assert not out.exists()


def test_3d_array_needs_a_slice(cli, tmp_path):
    np.save(tmp_path / "vol.npy", np.ones((2, 6, 6)))
    cli("pool", str(tmp_path / "vol.npy"), "--size", "2").assert_input_error("--slice")
    run = cli("pool", str(tmp_path / "vol.npy"), "--size", "2", "--slice", "0:1", "-f", "json")
    assert run.stdout.strip() == "[[1.0, 1.0, 1.0], [1.0, 1.0, 1.0], [1.0, 1.0, 1.0]]"


def test_several_inputs_all_or_nothing(cli, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    np.save(folder / "a.npy", np.ones((10, 10)))
    np.save(folder / "b.npy", np.ones((3, 3)))
    out = tmp_path / "out"
    cli("pool", str(folder), "--size", "4", "--edge", "drop", "-o", f"{out}/").assert_input_error("larger than")
    assert not out.exists()
    run = cli("pool", str(folder), "--size", "2", "-o", f"{out}/", "--save-array", f"{out}/")
    assert run.exit_code == 0, run.stderr
    assert sorted(p.name for p in out.iterdir()) == ["a.npy", "a.png", "b.npy", "b.png"]


def test_plot_draws_input_window_and_pooled_map_and_o_stays_exact(shell, tmp_path):
    from PIL import Image

    from tests.conftest import SAMPLES

    done = shell(f"nnkit convolve {SAMPLES / 'brain.png'} --filter identity -f npy "
                 "| nnkit pool - --size 5 --plot fig.png -o pooled.png --save-array pooled.npy", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert b"wrote fig.png" in done.stderr
    pooled = np.load(tmp_path / "pooled.npy")
    assert pooled.shape == (80, 68)
    exact = np.asarray(Image.open(tmp_path / "pooled.png"))
    assert exact.shape == (80, 68) and exact.dtype == np.uint8  # -o is the data, not the figure
    with Image.open(tmp_path / "fig.png") as picture:
        figure = np.asarray(picture.convert("RGB")).astype(int)
    assert figure.shape[1] > 1200 and figure.shape[0] > 400  # three panels, a slide's size
    # the pooled map is drawn as large as its input: an 80-row map over hundreds of screen rows
    from tests.cli.test_convolve import red_and_blue_pixels

    assert max(red_and_blue_pixels(tmp_path / "fig.png")) < 100  # values ≥ 0: drawn in grey
    amber = (figure[..., 0] > 200) & (figure[..., 1] > 150) & (figure[..., 1] < 210) & (figure[..., 2] < 60)
    assert amber.any()  # the boxed window and its pooled pixel


def test_summary_states_how_a_medical_slice_is_shown(cli):
    from tests.conftest import SAMPLES

    run = cli("pool", str(SAMPLES / "mni152_t1_1mm.nii.gz"), "--size", "4", "-f", "table")
    assert run.exit_code == 0, run.stderr
    assert "axial slice 2:94 of RAS+ 197×233×189" in run.stdout
    assert "radiological: anterior up, patient's right on the left" in run.stdout
    assert "233 × 197" in run.stdout  # rows front to back, columns right to left
