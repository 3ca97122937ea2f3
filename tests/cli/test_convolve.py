"""nnkit convolve end to end: the course's pipeline, outputs, --patch, several inputs, bad input."""

import io
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from scipy import signal

from nnkit.course.filters import FILTERS
from tests.conftest import SAMPLES

BRAIN_PATH = str(SAMPLES / "brain.png")
BRAIN = np.asarray(Image.open(BRAIN_PATH).convert("L")) / 255.0


def test_identity_reproduces_the_course_convolve2d(cli, tmp_path):
    run = cli("convolve", BRAIN_PATH, "--filter", "identity", "-o", str(tmp_path / "feature.png"),
              "--save-array", str(tmp_path / "feature.npy"))
    assert run.exit_code == 0, run.stderr
    assert run.stdout == ""
    feature = np.load(tmp_path / "feature.npy")
    np.testing.assert_allclose(feature, signal.convolve2d(BRAIN, np.eye(3), boundary="fill", mode="valid"),
                               rtol=0, atol=1e-12)
    png = np.asarray(Image.open(tmp_path / "feature.png"))
    assert png.dtype == np.uint8 and png.shape == (398, 336)
    expected = np.rint((feature - feature.min()) / (feature.max() - feature.min()) * 255)
    np.testing.assert_array_equal(png, expected)


def test_machine_formats_print_the_map_only(cli):
    run = cli("convolve", BRAIN_PATH, "--filter", "sobel-x", "--mode", "same", "--boundary", "symm", "-f", "npy")
    assert run.exit_code == 0
    got = np.load(io.BytesIO(run.stdout_bytes))
    np.testing.assert_allclose(got, signal.convolve2d(BRAIN, FILTERS["sobel-x"].build(None, None), mode="same",
                                                      boundary="symm"), rtol=0, atol=1e-12)
    csv = cli("convolve", BRAIN_PATH, "--kernel", "1,-1", "--correlate", "--stride", "4")
    rows = np.loadtxt(io.StringIO(csv.stdout), delimiter=",")
    np.testing.assert_allclose(rows, signal.correlate2d(BRAIN, [[1, -1]], mode="valid")[::4, ::4], atol=1e-15)


def test_patch_walkthrough_sum_is_the_feature_value(cli):
    run = cli("convolve", BRAIN_PATH, "--filter", "identity", "--patch", "60,100", "-f", "json")
    assert run.exit_code == 0, run.stderr
    walk = json.loads(run.stdout)
    np.testing.assert_array_equal(walk["patch"], BRAIN[60:63, 100:103])
    np.testing.assert_array_equal(walk["product"], BRAIN[60:63, 100:103] * np.eye(3)[::-1, ::-1])
    assert walk["value"] == pytest.approx(signal.convolve2d(BRAIN, np.eye(3), mode="valid")[60, 100], abs=1e-15)
    table = cli("convolve", BRAIN_PATH, "--filter", "identity", "--patch", "22,102", "-f", "table")
    assert "image[22:25, 102:105]" in table.stdout and "sum = " in table.stdout
    piped = cli("convolve", BRAIN_PATH, "--filter", "identity", "--patch", "60,100")  # a report: JSON in a pipe
    assert json.loads(piped.stdout) == walk


def test_list_filters_shows_every_filter_with_its_matrix(cli):
    run = cli("convolve", "--list-filters", "-f", "json")
    listed = json.loads(run.stdout)
    assert list(listed) == list(FILTERS)
    assert listed["identity"]["kernel"] == np.eye(3).tolist()
    table = cli("convolve", "--list-filters", "-f", "table")
    for name in FILTERS:
        assert name in table.stdout


def test_summary_table(cli):
    run = cli("convolve", BRAIN_PATH, "--filter", "laplacian", "-f", "table")
    assert "400 × 338" in run.stdout and "398 × 336" in run.stdout and "laplacian" in run.stdout


def test_several_inputs_write_one_output_each(cli, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    Image.open(BRAIN_PATH).save(folder / "a.png")
    np.save(folder / "b.npy", BRAIN[:50, :60])
    run = cli("convolve", str(folder), "--filter", "box", "--size", "5", "-o", f"{tmp_path}/out/",
              "--save-array", f"{tmp_path}/raw/")
    assert run.exit_code == 0, run.stderr
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a.png", "b.png"]
    assert np.load(tmp_path / "raw" / "b.npy").shape == (46, 56)
    glob_run = cli("convolve", f"{folder}/*.png", "--filter", "delta", "-o", f"{tmp_path}/g/")
    assert glob_run.exit_code == 0 and (tmp_path / "g" / "a.png").exists()
    cli("convolve", str(folder), "--filter", "delta", "-o", str(tmp_path / "one.png")).assert_input_error("folder")


def test_nifti_volume_default_slice(cli):
    run = cli("convolve", str(SAMPLES / "mni152_t1_1mm.nii.gz"), "--filter", "delta", "--mode", "same", "-f", "npy")
    assert run.exit_code == 0, run.stderr
    import nibabel as nib

    volume = nib.load(SAMPLES / "mni152_t1_1mm.nii.gz").get_fdata()  # RAS+: x right, y anterior
    # axial slice 94, anterior up and the patient's right on the left
    np.testing.assert_allclose(np.load(io.BytesIO(run.stdout_bytes)), volume[..., 94].T[::-1, ::-1], atol=1e-12)
    table = cli("convolve", str(SAMPLES / "mni152_t1_1mm.nii.gz"), "--slice", "coronal:120", "--filter", "delta",
                "-f", "table")
    assert "coronal slice 1:120 of RAS+ 197×233×189" in table.stdout and "orientation" in table.stdout
    assert "superior up, patient's right on the left" in table.stdout


def _text_png(tmp_path: Path) -> str:
    (tmp_path / "text.png").write_text("hello, I am not a picture\n")
    return str(tmp_path / "text.png")


def _truncated_png(tmp_path: Path) -> str:
    data = (SAMPLES / "brain.png").read_bytes()
    (tmp_path / "cut.png").write_bytes(data[: len(data) // 2])
    return str(tmp_path / "cut.png")


def _volume_npy(tmp_path: Path) -> str:
    np.save(tmp_path / "vol.npy", np.zeros((3, 8, 8)))
    return str(tmp_path / "vol.npy")


@pytest.mark.parametrize(
    ("make_input", "options", "message"),
    [
        (_text_png, ["--filter", "identity"], "not an image"),
        (_truncated_png, ["--filter", "identity"], "cannot read image"),
        (lambda tmp: str(tmp / "missing.png"), ["--filter", "identity"], "no such file"),
        (lambda tmp: BRAIN_PATH, ["--kernel", ""], "empty"),
        (lambda tmp: BRAIN_PATH, ["--kernel", ";".join([",".join(["1"] * 3)] * 500)], "larger than"),
        (lambda tmp: BRAIN_PATH, ["--filter", "box", "--size", "0"], "--size must be at least 1, got 0"),
        (_volume_npy, ["--filter", "identity"], "--slice"),
        (lambda tmp: BRAIN_PATH, ["--filter", "blur"], "unknown filter"),
        (lambda tmp: BRAIN_PATH, [], "exactly one of --filter"),
        (lambda tmp: BRAIN_PATH, ["--filter", "identity", "--patch", "500,1"], "outside"),
        (lambda tmp: BRAIN_PATH, ["--kernel", "1,nan"], "NaN"),
    ],
)
def test_bad_input_exits_2_and_writes_nothing(cli, tmp_path, make_input, options, message):
    source = make_input(tmp_path)
    out = tmp_path / "result.png"
    cli("convolve", source, *options, "-o", str(out)).assert_input_error(message)
    assert not out.exists()


def test_the_courses_pipeline_through_the_installed_command(shell, tmp_path):
    done = shell(f"nnkit convolve {BRAIN_PATH} --filter identity -o feature.png --save-array feature.npy && "
                 "nnkit pool feature.npy --size 5 -o pooled.png && "
                 f"nnkit convolve {BRAIN_PATH} --filter identity -f npy | nnkit pool - --size 5 -o piped.png",
                 cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "pooled.png").read_bytes() == (tmp_path / "piped.png").read_bytes()
    assert np.asarray(Image.open(tmp_path / "pooled.png")).shape == (80, 68)  # the course's shapes


def test_a_bad_second_target_writes_nothing(cli, tmp_path):
    good, bad = tmp_path / "good.png", tmp_path / "bad.png"
    cli("convolve", BRAIN_PATH, "--filter", "identity", "-o", str(good), "--save-array", str(bad)
        ).assert_input_error("--save-array writes .npy")
    assert not good.exists() and not bad.exists()
    cli("convolve", BRAIN_PATH, "--filter", "identity", "-o", str(tmp_path / "x.xyz"),
        "--save-array", str(tmp_path / "x.npy")).assert_input_error("extension")
    assert list(tmp_path.iterdir()) == []


def test_several_inputs_all_or_nothing(cli, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    Image.open(BRAIN_PATH).save(folder / "a.png")
    (folder / "b.png").write_text("not a picture")
    out = tmp_path / "out"
    cli("convolve", str(folder), "--filter", "delta", "-o", f"{out}/").assert_input_error("b.png")
    assert not out.exists() or list(out.iterdir()) == []
    # A kernel too large for the second image is found before the first is written.
    (folder / "b.png").unlink()
    np.save(folder / "b.npy", np.ones((2, 2)))
    cli("convolve", str(folder), "--filter", "delta", "-o", f"{out}/").assert_input_error("larger than")
    assert not out.exists() or list(out.iterdir()) == []
    cli("convolve", str(folder), "--filter", "delta", "-o", f"{out}/", "-f", "csv").assert_input_error(
        "several inputs")
    assert not out.exists() or list(out.iterdir()) == []


def test_inputs_with_the_same_name_are_refused(cli, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    Image.open(BRAIN_PATH).save(folder / "a.png")
    np.save(folder / "a.npy", BRAIN[:40, :40])
    cli("convolve", str(folder), "--filter", "delta", "-o", f"{tmp_path}/out/").assert_input_error("a.npy", "a.png")
    assert not (tmp_path / "out").exists()


def test_patch_honours_output_and_stride(cli, tmp_path):
    run = cli("convolve", BRAIN_PATH, "--filter", "sobel-x", "--stride", "2", "--patch", "30,40", "-f", "json",
              "--save-array", str(tmp_path / "f.npy"))
    assert run.exit_code == 0, run.stderr
    walk = json.loads(run.stdout)
    expected = signal.convolve2d(BRAIN, FILTERS["sobel-x"].build(None, None), mode="valid")[::2, ::2]
    np.testing.assert_allclose(np.load(tmp_path / "f.npy"), expected, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(walk["patch"], BRAIN[60:63, 80:83])
    assert walk["value"] == pytest.approx(expected[30, 40], abs=1e-14)
    cli("convolve", BRAIN_PATH, "--filter", "identity", "--stride", "2", "--patch", "200,1").assert_input_error(
        "outside the 199×168")


def test_wide_kernels_stay_readable_in_tables(cli):
    # A 9×9 Gaussian: the walk-through never cuts a number to a misleading "5.93…" (5.931e-07).
    run = cli("convolve", BRAIN_PATH, "--filter", "gaussian", "--patch", "100,100", "-f", "table")
    assert run.exit_code == 0, run.stderr
    assert "…" not in run.stdout and "0.63137" in run.stdout  # brain[100, 100]
    assert max(len(line) for line in run.stdout.splitlines()) <= 100
    # Kernel matrices whose rows cannot fit are named by shape and sum instead of wrapping mid-row.
    listing = cli("convolve", "--list-filters", "-f", "table").stdout
    assert "9×9 (sum 1)" in listing and "0.1111 0.1111 0.1111" in listing
    summary = cli("convolve", BRAIN_PATH, "--filter", "gaussian", "-f", "table").stdout
    assert "9×9 (sum 1)" in summary and "e-08" not in summary


def test_patch_over_the_edge_is_not_written_as_a_python_slice(cli):
    run = cli("convolve", BRAIN_PATH, "--filter", "sobel-x", "--mode", "same", "--patch", "0,0", "-f", "table")
    assert run.exit_code == 0, run.stderr
    assert "image[-1:2" not in run.stdout and "rows -1..1, columns -1..1" in run.stdout
    assert "-0 " not in run.stdout


def test_an_output_over_an_input_is_refused_before_anything_is_written(cli, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    np.save(folder / "b.npy", BRAIN[:20, :20])
    Image.open(BRAIN_PATH).save(folder / "c.png")
    before = sorted(p.name for p in folder.iterdir())
    cli("convolve", str(folder), "--filter", "delta", "-o", f"{folder}/").assert_input_error("c.png")
    assert sorted(p.name for p in folder.iterdir()) == before
    single = folder / "b.npy"
    cli("convolve", str(single), "--filter", "delta", "-o", str(folder / "b2.png"),
        "--save-array", str(single)).assert_input_error("overwrite")
    assert sorted(p.name for p in folder.iterdir()) == before


def test_the_courses_shapes_and_patch_on_the_shipped_brain(shell, tmp_path):
    # The course: brain.shape (400, 338) → convolve2d valid (398, 336) → 5×5 max pooling (80, 68).
    assert BRAIN.shape == (400, 338)
    middle = shell(f"nnkit convolve {BRAIN_PATH} --filter identity -f npy", cwd=tmp_path)
    assert np.load(io.BytesIO(middle.stdout)).shape == (398, 336)
    done = shell(f"nnkit convolve {BRAIN_PATH} --filter identity -f npy | nnkit pool - --size 5 -f npy",
                 cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert np.load(io.BytesIO(done.stdout)).shape == (80, 68)
    for row, col in ((22, 102), (150, 60)):
        walk = json.loads(shell(f"nnkit convolve {BRAIN_PATH} --filter identity --patch {row},{col} -f json",
                                cwd=tmp_path).stdout)
        patch = BRAIN[row:row + 3, col:col + 3]
        # np.eye(3) is symmetric under the convolution's flip of both axes
        assert walk["value"] == pytest.approx((patch * np.eye(3)).sum(), abs=1e-14)
    # On the shipped picture the course's 22,102 is background (the brain starts at row 42);
    # 150,60, the help's example, is the brain's edge: dark CSF into grey matter.
    assert BRAIN[22:25, 102:105].max() == 0 and BRAIN[:42].max() < 0.08
    assert BRAIN[150:153, 60:63].min() < 0.1 < 0.5 < BRAIN[150:153, 60:63].max()


def red_and_blue_pixels(path) -> tuple[int, int]:
    """How many pixels of a figure are clearly red or blue (not amber, not grey)."""
    with Image.open(path) as picture:
        rgb = np.asarray(picture.convert("RGB")).astype(int)
    red = (rgb[..., 0] - rgb[..., 2] > 80) & (rgb[..., 1] < 150)
    blue = rgb[..., 2] - rgb[..., 0] > 80
    return int(red.sum()), int(blue.sum())


def test_plot_shows_a_signed_map_diverging_and_o_stays_the_exact_map(cli, tmp_path):
    run = cli("convolve", BRAIN_PATH, "--filter", "sobel-x", "--patch", "150,60", "--plot", str(tmp_path / "sobel.png"),
              "-o", str(tmp_path / "sobel-map.png"), "-f", "json")
    assert run.exit_code == 0, run.stderr
    red, blue = red_and_blue_pixels(tmp_path / "sobel.png")
    assert red > 1000 and blue > 1000  # both signs drawn, in a diverging map
    with Image.open(tmp_path / "sobel-map.png") as exact:
        assert exact.size == (336, 398) and exact.mode == "L"


@pytest.mark.parametrize(
    ("arguments", "message"),
    [(["--plot", "fig.jpg"], "does not end in .png"),
     (["--plot", BRAIN_PATH], "overwrite"),
     (["--plot", "fig.png", str(SAMPLES / "mni152_t1_1mm.nii.gz"), "-o", "out/"], "--plot draws one input")],
)
def test_plot_refuses_before_writing(cli, tmp_path, arguments, message):
    before = Path(BRAIN_PATH).read_bytes()
    arguments = [str(tmp_path / a) if a in ("fig.jpg", "fig.png", "out/") else a for a in arguments]
    cli("convolve", BRAIN_PATH, "--filter", "identity", *arguments).assert_input_error(message)
    assert list(tmp_path.iterdir()) == [] and Path(BRAIN_PATH).read_bytes() == before


@pytest.mark.parametrize("command", [["convolve", "--filter", "identity"], ["pool", "--size", "5"]])
def test_a_bad_folder_for_o_or_plot_writes_no_picture(cli, tmp_path, command):
    # --plot used to be written before -o found that its folder does not exist
    name, *options = command
    missing = str(tmp_path / "missing" / "map.png")
    cli(name, BRAIN_PATH, *options, "-o", missing, "--plot", str(tmp_path / "fig.png")).assert_input_error(
        "does not exist")
    cli(name, BRAIN_PATH, *options, "-o", str(tmp_path / "map.png"), "--plot", missing).assert_input_error(
        "does not exist")
    assert list(tmp_path.iterdir()) == []


def test_o_of_a_signed_map_says_which_grey_is_zero(cli, tmp_path):
    run = cli("convolve", BRAIN_PATH, "--filter", "laplacian", "-o", str(tmp_path / "lap.png"))
    assert run.exit_code == 0, run.stderr
    feature = signal.convolve2d(BRAIN, np.array([[0.0, 1, 0], [1, -4, 1], [0, 1, 0]]), mode="valid")
    grey = round(-feature.min() / (feature.max() - feature.min()) * 255)
    assert f"lap.png: values {feature.min():.3g} to {feature.max():.3g} min–max scaled, 0 became grey {grey}" in run.stderr
    assert "--plot draws such a map red and blue around a white 0" in run.stderr
    notes = [line for line in run.stderr.splitlines() if not line.startswith("nnkit: wrote")]
    assert len(notes) == 2 and max(map(len, notes)) <= 80  # a terminal's width
    png = np.asarray(Image.open(tmp_path / "lap.png")).astype(int)
    assert np.bincount(png.ravel()).argmax() == grey  # the flat background is that grey
def test_the_courses_example_walks_every_position_with_stride(cli):
    run = cli("convolve", "--example", "--patch", "all", "-f", "json")
    assert run.exit_code == 0, run.stderr
    walk = json.loads(run.stdout)
    assert walk["image"] == [[1, 1, 1, 0, 0], [0, 1, 1, 1, 0], [0, 0, 1, 1, 1], [0, 0, 1, 1, 0], [0, 1, 1, 0, 0]]
    assert walk["kernel"] == [[1, 0, 1], [0, 1, 0], [1, 0, 1]]
    assert walk["feature_map"] == [[4, 3, 4], [2, 4, 3], [2, 3, 4]]
    assert [w["value"] for w in walk["walks"]] == [4, 3, 4, 2, 4, 3, 2, 3, 4]
    strided = json.loads(cli("convolve", "--example", "--patch", "all", "--stride", "2", "-f", "json").stdout)
    assert [w["top_left"] for w in strided["walks"]] == [[0, 0], [0, 2], [2, 0], [2, 2]]
    assert strided["feature_map"] == [[4, 4], [2, 4]]
    table = cli("convolve", "--example", "--patch", "all", "--stride", "2", "-f", "table").stdout
    assert "stride 2" in table and "[1,1] rows 2..4, columns 2..4" in table


def test_zero_padding_is_named_and_drawn(cli, tmp_path, monkeypatch):
    image = np.array(json.loads(cli("convolve", "--example", "--patch", "all", "-f", "json").stdout)["image"])
    run = cli("convolve", "--example", "--mode", "same", "--patch", "all", "-f", "json")
    walk = json.loads(run.stdout)
    assert walk["padded"] == np.pad(image, 1).tolist()  # one row and column of zeros all round
    assert walk["feature_map"] == signal.correlate2d(image, np.array(walk["kernel"]), mode="same").tolist()
    assert walk["walks"][0]["top_left"] == [-1, -1] and walk["walks"][0]["value"] == 2
    table = cli("convolve", "--example", "--mode", "same", "-f", "table").stdout
    assert "ゼロパディング" in table and "7 × 7" in table
    from nnkit.plots import image_ops

    drawn = {}
    real = image_ops.maps_figure
    monkeypatch.setattr(image_ops, "maps_figure", lambda panels, *rest: drawn.update(panels=panels) or real(panels, *rest))
    run = cli("convolve", "--example", "--mode", "full", "--plot", str(tmp_path / "padding.png"), "-f", "json")
    assert run.exit_code == 0, run.stderr
    padded = drawn["panels"][1]  # input, the padded input, kernel, feature map
    assert padded.values.tolist() == np.pad(image, 2).tolist() and padded.title.startswith("zero padding → 9×9")
    assert padded.frame == (2, 2, 5, 5)  # the input's own pixels, framed
    bad = cli("convolve", str(SAMPLES / "brain.png"), "--example")
    bad.assert_input_error("--example is the image")
