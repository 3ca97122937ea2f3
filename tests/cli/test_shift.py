"""``nnkit shift`` end to end on the bundled digit: every number recomputed here from its definition."""

import json

import numpy as np
import pytest
from scipy import ndimage, signal
from skimage.measure import block_reduce

from nnkit.data.labelled import load_dataset
from nnkit.files.images import read_image
from nnkit.files.model_file import load_model
from tests.conftest import SAMPLES


def corr(a, b):
    return np.corrcoef(np.ravel(a), np.ravel(b))[0, 1]


def test_a_filter_on_the_bundled_digit(cli):
    report = json.loads(cli("shift", str(SAMPLES / "my_digit.png"), "--by", "0,2", "--pool", "2").stdout)
    image = read_image(SAMPLES / "my_digit.png")
    moved = ndimage.shift(image, (0, 2), order=0, mode="nearest")
    sobel_x = np.array([[1.0, 0.0, -1.0], [2.0, 0.0, -2.0], [1.0, 0.0, -1.0]])  # nnkit's sobel-x
    maps = [signal.convolve2d(x, sobel_x, mode="valid") for x in (image, moved)]
    pooled = [block_reduce(m[: m.shape[0] // 2 * 2, : m.shape[1] // 2 * 2], (2, 2), np.max) for m in maps]
    # the feature map moves with the image: exactly, away from the edges
    assert report["feature_map_shift_difference"] == 0.0
    np.testing.assert_array_equal(maps[1][3:-3, 5:-3], maps[0][3:-3, 3:-5])
    expected = [corr(image, moved), corr(*maps), corr(*pooled)]
    assert [layer["correlation"] for layer in report["layers"]] == pytest.approx(expected, rel=1e-9)
    # the bundled digit's numbers: a 2-pixel shift leaves 0.15 of the sobel map's correlation; 2×2
    # pooling brings it to 0.44; the strongest response anywhere is unchanged
    assert expected[1] == pytest.approx(0.154, abs=0.001) and expected[2] == pytest.approx(0.444, abs=0.001)
    assert report["strongest_response"][0] == report["strongest_response"][1]
    assert report["strongest_response"][0][0] == pytest.approx(maps[0].max(), rel=1e-14)


def test_csv_is_the_layer_table(cli, tmp_path):
    report = json.loads(cli("shift", str(SAMPLES / "my_digit.png"), "-o", str(tmp_path / "r.tsv")).stdout)
    header, *rows = (tmp_path / "r.tsv").read_text().splitlines()
    assert header == "layer\tshape\tcorrelation"
    assert [r.split("\t")[0] for r in rows] == [layer["layer"] for layer in report["layers"]]
    assert [r.split("\t")[1] for r in rows] == ["x".join(map(str, layer["shape"])) for layer in report["layers"]]
    assert [float(r.split("\t")[2]) for r in rows] == [layer["correlation"] for layer in report["layers"]]


def test_a_trained_conv_model_on_a_bundled_digit(cli, tmp_path):
    model = tmp_path / "cnn.npz"
    trained = cli("train", "--layers", "conv 4 3 relu padding=same, maxpool 2, flatten, dense 10", "--data",
                  "digits", "--epochs", "2", "--save", str(model), "-q", "-f", "json")
    assert trained.exit_code == 0, trained.stderr
    x, _ = load_dataset("digits").parts["train"]
    np.save(tmp_path / "digit.npy", x[0])  # the data set's own values, 0..16
    report = json.loads(cli("shift", str(tmp_path / "digit.npy"), "--trained", str(model), "--by", "1,0").stdout)
    network, _ = load_model(model)
    image = x[0] / 16.0  # as the model was trained
    moved = ndimage.shift(image, (1, 0), order=0, mode="nearest")
    for got, picture in zip(report["probabilities"], (image, moved), strict=True):
        np.testing.assert_allclose(got, network.predict_proba(picture[None, :, :, None])[0], rtol=1e-6)
    assert report["predicted"] == [str(int(np.argmax(p))) for p in report["probabilities"]]
    assert [layer["layer"] for layer in report["layers"]] == ["input", "conv2d", "relu", "maxpool2d", "flatten",
                                                              "dense"]
    h = [picture[None, :, :, None].astype(network.dtype) for picture in (image, moved)]
    for layer, row in zip(network.layers, report["layers"][1:], strict=True):
        h = [layer.forward(v) for v in h]
        assert row["correlation"] == pytest.approx(corr(*h), rel=1e-5, abs=1e-6)
    assert report["feature_map_shift_difference"] < 1e-5


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--by", "0,0"], "does not move"),
        (["--by", "x"], "--by takes ROWS,COLS"),
        (["--by", "0,999"], "out of its frame"),
        (["--trained", "tests/files/fixtures/model_main_digits.npz"], "has no convolution layer"),
        (["-o", "r.txt"], "-o writes the report as .json, .csv or .tsv"),
    ],
)
def test_bad_input_is_exit_2(cli, args, message):
    cli("shift", str(SAMPLES / "my_digit.png"), *args).assert_input_error(message)


def test_the_installed_command_in_a_pipe(shell):
    done = shell(f"nnkit shift {SAMPLES / 'brain.png'} --by 3,0 | head -c 1000000")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["by"] == [3, 0] and report["feature_map_shift_difference"] == 0.0
    assert [round(layer["correlation"], 3) for layer in report["layers"]] == [0.986, 0.762, 0.795]  # README
