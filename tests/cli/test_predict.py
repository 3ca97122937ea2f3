"""``nnkit predict``: the stored preprocessing is applied to rows, arrays and images alike."""

import json
from pathlib import Path

import numpy as np
import pytest

from tests.data.test_labelled import learnable_images

CANCER = Path(__file__).parents[2] / "samples" / "breast_cancer_wdbc.csv"
MY_DIGIT = Path(__file__).parents[2] / "samples" / "my_digit.png"


@pytest.fixture(scope="module")
def image_model(tmp_path_factory):
    """A model trained on 6×5 uint8 images (Keras npz layout), and its test images."""
    from tests.conftest import run_cli

    folder = tmp_path_factory.mktemp("images")
    x, y = learnable_images(120)
    data = folder / "shapes.npz"
    np.savez(data, x_train=x[:90], y_train=y[:90], x_test=x[90:], y_test=y[90:])
    model = folder / "model.npz"
    run = run_cli(
        "train-mlp", "--data", str(data), "--hidden", "8", "--epochs", "30", "--save", str(model), "-f", "json"
    )
    assert run.exit_code == 0, run.stderr
    return model, x[90:], y[90:], json.loads(run.stdout)


@pytest.fixture(scope="module")
def cancer_model(tmp_path_factory):
    from tests.conftest import run_cli

    model = tmp_path_factory.mktemp("cancer") / "cancer.npz"
    run = run_cli(
        "train-mlp", "--data", str(CANCER), "--epochs", "10", "--hidden", "16", "--save", str(model), "-f", "json"
    )
    assert run.exit_code == 0, run.stderr
    return model


def test_npy_images_reproduce_the_trainers_test_confusion_matrix(cli, image_model, tmp_path):
    model, x_test, y_test, result = image_model
    np.save(tmp_path / "test.npy", x_test)  # raw uint8 pixels: predict scales them as training did
    run = cli("predict", str(model), str(tmp_path / "test.npy"), "-f", "csv")
    assert run.exit_code == 0, run.stderr
    header, *lines = run.stdout.splitlines()
    assert header == "prediction,0,1,2"
    predicted = [int(line.split(",")[0]) for line in lines]
    cm = np.zeros((3, 3), int)
    np.add.at(cm, (y_test, predicted), 1)
    assert cm.tolist() == result["test"]["confusion_matrix"]
    probabilities = np.array([[float(v) for v in line.split(",")[1:]] for line in lines])
    np.testing.assert_allclose(probabilities.sum(axis=1), 1, atol=1e-6)


def test_png_image_equals_its_pixels_as_npy(cli, image_model, tmp_path):
    from PIL import Image

    model, x_test, _, _ = image_model
    Image.fromarray(x_test[0]).save(tmp_path / "one.png")
    np.save(tmp_path / "one.npy", x_test[0])
    from_png = json.loads(cli("predict", str(model), str(tmp_path / "one.png"), "-f", "json").stdout)
    from_npy = json.loads(cli("predict", str(model), str(tmp_path / "one.npy"), "-f", "json").stdout)
    assert from_png[0]["prediction"] == from_npy[0]["prediction"]
    for c in ("0", "1", "2"):
        assert from_png[0]["probabilities"][c] == pytest.approx(from_npy[0]["probabilities"][c], abs=1e-6)


def test_image_of_the_wrong_size_is_refused(cli, image_model, tmp_path):
    from PIL import Image

    model = image_model[0]
    Image.fromarray(np.zeros((7, 7), np.uint8)).save(tmp_path / "big.png")
    cli("predict", str(model), str(tmp_path / "big.png")).assert_input_error(
        "is 7×7 pixels; the model takes 6×5 images"
    )


def test_rows_from_stdin_inline_and_csv_agree(cli, cancer_model, tmp_path):
    lines = CANCER.read_text().splitlines()
    features = [",".join(line.split(",")[:30]) for line in lines[1:4]]
    header, *by_file = cli("predict", str(cancer_model), str(CANCER), "-f", "csv").stdout.splitlines()
    assert header == "prediction,benign,malignant" and len(by_file) == 569
    by_stdin = cli("predict", str(cancer_model), "-f", "csv", input="\n".join(features) + "\n")
    inline = cli("predict", str(cancer_model), ";".join(features), "-f", "csv")
    assert by_stdin.stdout.splitlines()[1:] == inline.stdout.splitlines()[1:] == by_file[:3]
    first = by_file[0].split(",")
    assert first[0] in ("benign", "malignant") and len(first) == 3
    assert float(first[1]) + float(first[2]) == pytest.approx(1.0, abs=1e-6)


def test_json_and_table_outputs(cli, cancer_model):
    row = ",".join(CANCER.read_text().splitlines()[1].split(",")[:30])
    result = json.loads(cli("predict", str(cancer_model), row, "-f", "json").stdout)
    assert set(result[0]) >= {"prediction", "probabilities"}
    assert set(result[0]["probabilities"]) == {"benign", "malignant"}
    table = cli("predict", str(cancer_model), row, "-f", "table")
    assert table.exit_code == 0 and "p(malignant)" in table.stdout


def test_ten_classes_fit_the_table_width(cli, tmp_path):
    from rich.cells import cell_len

    model = tmp_path / "digits.npz"
    assert cli("train-mlp", "--hidden", "8", "--epochs", "1", "--save", str(model)).exit_code == 0
    rows = ";".join(",".join(["8"] * 64) for _ in range(3))
    table = cli("predict", str(model), rows, "-f", "table")  # a pipe: rich draws 100 columns
    assert table.exit_code == 0, table.stderr
    assert "next most likely" in table.stdout and "…" not in table.stdout
    assert max(cell_len(line) for line in table.stdout.splitlines()) <= 100


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (lambda p: np.savez(p, weights=np.ones(3)), "model"),
        (lambda p: p.write_bytes(b"not a zip at all"), "model"),
    ],
)
def test_a_model_file_from_elsewhere_is_refused(cli, tmp_path, content, message):
    path = tmp_path / "other.npz"
    content(path)
    run = cli("predict", str(path), "1,2,3")
    run.assert_input_error()
    assert message in run.stderr.lower()


def test_wrong_number_of_features(cli, cancer_model):
    cli("predict", str(cancer_model), "1,2,3").assert_input_error("the model takes 30 values per input, got rows of 3")


def test_a_header_without_rows_is_refused(cli, cancer_model):
    header = CANCER.read_text().splitlines()[0] + "\n"
    cli("predict", str(cancer_model), input=header).assert_input_error("stdin has a header but no data rows")


def test_headerless_rows_with_the_label_get_a_predict_hint(cli, cancer_model):
    row = CANCER.read_text().splitlines()[1]  # 30 features and the diagnosis, no header
    run = cli("predict", str(cancer_model), input=row + "\n")
    run.assert_input_error("line 1, column 31: not a number: 'malignant'")
    assert "--label-column" not in run.stderr and "feature columns only" in run.stderr


def test_missing_input_file(cli, cancer_model):
    cli("predict", str(cancer_model), "no/such/rows.csv").assert_input_error("no such file")


def test_installed_commands_in_a_pipeline(shell, tmp_path):
    import sys

    model = tmp_path / "m.npz"
    done = shell(
        f"nnkit train-mlp --data samples/breast_cancer_wdbc.csv --epochs 20 --hidden 8 "
        f"--save {model} | {sys.executable} -c "
        '\'import json, sys; r = json.load(sys.stdin); print(r["test"]["roc_auc"] > 0.9)\''
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == b"True\n"
    done = shell(
        f"sed -n 2,6p samples/breast_cancer_wdbc.csv | cut -d, -f1-30 | nnkit predict {model} -f csv | tail -n +2 | cut -d, -f1"
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.decode().split() == ["malignant"] * 5  # the first five rows are malignant


def test_a_model_without_preprocessing_takes_values_as_they_are(cli, tmp_path):
    from nnkit.files.model_file import save_model
    from nnkit.nn.stack import network_from_weights

    # One sigmoid unit z = x1 + x2 - 1.5 (AND): probabilities are sigmoid(z), no scaling applied.
    net = network_from_weights([np.array([[1.0], [1.0]]), np.array([-1.5])], [], "sigmoid")
    save_model(tmp_path / "and.npz", net, {"classes": [0, 1]})
    run = cli("predict", str(tmp_path / "and.npz"), "0,0;1,1", "-f", "csv")
    assert run.exit_code == 0, run.stderr
    rows = [line.split(",") for line in run.stdout.splitlines()[1:]]
    assert [r[0] for r in rows] == ["0", "1"]
    assert float(rows[1][2]) == pytest.approx(1 / (1 + np.exp(-0.5)))
    assert float(rows[0][2]) == pytest.approx(1 / (1 + np.exp(1.5)))


def test_a_column_of_features_is_one_input(cli, cancer_model, tmp_path):
    # the course's notation: one sample written as a column
    values = CANCER.read_text().splitlines()[1].split(",")[:30]
    row = cli("predict", str(cancer_model), ",".join(values), "-f", "json")
    column = cli("predict", str(cancer_model), ";".join(values), "-f", "json")
    assert row.stderr == ""
    assert "the input is a 30×1 column: read as one vector of 30 values" in " ".join(column.stderr.split())
    assert [r["probabilities"] for r in json.loads(column.stdout)] == [r["probabilities"] for r in json.loads(row.stdout)]
    (tmp_path / "one.csv").write_text("\n".join(values) + "\n")
    by_file = cli("predict", str(cancer_model), str(tmp_path / "one.csv"), "-f", "json", "-q")
    assert len(json.loads(by_file.stdout)) == 1 and by_file.stderr == ""
    samples = cli("predict", str(cancer_model), ";".join(values), "--column", "samples")
    samples.assert_input_error("the model takes 30 values per input, got rows of 1")
# --- conv models, MNIST-sized images and a learner's own digit -------------------------------------
CONV = "conv 4 3 relu, maxpool 2, flatten, dense 3 softmax"


@pytest.fixture(scope="module")
def conv_model(tmp_path_factory):
    """A small CNN trained by ``nnkit train`` on 28×28 uint8 images (Keras npz layout)."""
    from tests.conftest import run_cli

    folder = tmp_path_factory.mktemp("conv")
    x, y = learnable_images(150, size=(28, 28))
    data = folder / "bands.npz"
    np.savez(data, x_train=x[:120], y_train=y[:120], x_test=x[120:], y_test=y[120:])
    model = folder / "cnn.npz"
    run = run_cli("train", "--data", str(data), "--layers", CONV, "--epochs", "8", "--save", str(model), "-f", "json")
    assert run.exit_code == 0, run.stderr
    return model, x[120:], y[120:], json.loads(run.stdout)


def engine_probabilities(model, images):
    """The saved network's own forward pass on images scaled as in training (÷255, channels last)."""
    from nnkit.files.model_file import load_model

    network, _ = load_model(model)
    x = (np.asarray(images, dtype=np.float32) / np.float32(255)).reshape(len(images), 28, 28, 1)
    return network.forward(x).astype(np.float64)


def csv_rows(stdout: str):
    header, *lines = stdout.splitlines()
    assert header.startswith("prediction,")
    rows = [line.split(",") for line in lines]
    return [int(r[0]) for r in rows], np.array([[float(v) for v in r[1:]] for r in rows])


def test_conv_model_reproduces_the_trainers_test_predictions_from_a_uint8_stack(cli, conv_model, tmp_path):
    model, x_test, y_test, result = conv_model
    assert x_test.dtype == np.uint8 and x_test.shape == (30, 28, 28)
    np.save(tmp_path / "test.npy", x_test)
    run = cli("predict", str(model), str(tmp_path / "test.npy"), "-f", "csv")
    assert run.exit_code == 0, run.stderr
    predicted, proba = csv_rows(run.stdout)
    cm = np.zeros((3, 3), int)
    np.add.at(cm, (y_test, predicted), 1)
    assert cm.tolist() == result["test"]["confusion_matrix"]
    assert cm.trace() / cm.sum() == pytest.approx(result["test"]["accuracy"])
    np.testing.assert_allclose(proba, engine_probabilities(model, x_test), atol=1e-6)


def test_conv_model_takes_png_files_of_its_size_as_they_are(cli, conv_model, tmp_path):
    from PIL import Image

    model, x_test, _, _ = conv_model
    paths = []
    for i in range(4):
        paths.append(str(tmp_path / f"{i}.png"))
        Image.fromarray(x_test[i]).save(paths[-1])
    np.save(tmp_path / "four.npy", x_test[:4])
    from_png = cli("predict", str(model), *paths, "-f", "csv")
    from_npy = cli("predict", str(model), str(tmp_path / "four.npy"), "-f", "csv")
    assert from_png.exit_code == 0 and from_png.stderr == ""  # light on dark, 28×28: nothing to prepare
    assert csv_rows(from_png.stdout)[0] == csv_rows(from_npy.stdout)[0]
    np.testing.assert_allclose(csv_rows(from_png.stdout)[1], csv_rows(from_npy.stdout)[1], atol=1e-6)


def drawn_digit(path, text="7", size=200):
    from PIL import Image, ImageDraw, ImageFont

    image = Image.new("L", (size, size), 255)  # black ink on white paper
    font = ImageFont.load_default(size=size * 3 // 4)
    ImageDraw.Draw(image).text((size // 2, size // 2), text, fill=0, font=font, anchor="mm")
    image.save(path)
    return path


def test_your_own_digit_is_prepared_as_mnist_and_said_on_stderr(cli, conv_model, tmp_path):
    from nnkit.data.own_digit import prepare_digit
    from nnkit.files.images import read_image

    model = conv_model[0]
    digit = drawn_digit(tmp_path / "seven.png")
    run = cli("predict", str(model), str(digit), "-f", "json")
    assert run.exit_code == 0, run.stderr
    (note,) = run.stderr.splitlines()
    assert note.startswith(f"nnkit: {digit} is 200×200; prepared as MNIST's digits were: inverted")
    expected = prepare_digit(read_image(digit)).image  # 0..1, the model's ÷255 scale already applied
    (result,) = json.loads(run.stdout)
    proba = engine_probabilities(model, (expected * 255)[np.newaxis])[0]
    assert [result["probabilities"][str(c)] for c in range(3)] == pytest.approx(proba.tolist(), abs=1e-6)
    assert cli("predict", str(model), str(digit), "-q", "-f", "csv").stderr == ""


def test_a_28_pixel_digit_dark_on_light_is_prepared_too(cli, conv_model, tmp_path):
    model = conv_model[0]
    run = cli("predict", str(model), str(drawn_digit(tmp_path / "small.png", "3", size=28)), "-f", "csv")
    assert run.exit_code == 0 and "is 28×28; prepared as MNIST's digits were: inverted" in run.stderr


def test_features_draws_the_prepared_digit_filters_and_maps(cli, conv_model, tmp_path):
    from PIL import Image

    model = conv_model[0]
    picture = tmp_path / "seen.png"
    digit = drawn_digit(tmp_path / "four.png", "4")
    run = cli("predict", str(model), str(digit), str(digit), "--features", str(picture), "-f", "csv")
    assert run.exit_code == 0, run.stderr
    assert (
        run.stderr.splitlines()[-1] == f"nnkit: wrote {picture}: what the model sees in {digit} (the first of 2 inputs)"
    )
    with Image.open(picture) as image:
        assert image.format == "PNG" and image.width > 1000 and image.height > 600
    assert len(run.stdout.splitlines()) == 3  # the predictions are printed as well, after the header


def test_features_of_an_mlp_image_model(cli, image_model, tmp_path):
    model, x_test, _, _ = image_model
    np.save(tmp_path / "x.npy", x_test[:3])
    run = cli("predict", str(model), str(tmp_path / "x.npy"), "--features", str(tmp_path / "f.png"), "-f", "json")
    assert run.exit_code == 0, run.stderr
    assert (tmp_path / "f.png").read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize(
    ("picture", "message"),
    [("f.jpg", "does not end in .png"), ("no/such/dir/f.png", "does not exist")],
)
def test_features_path_is_checked_before_anything_runs(cli, conv_model, tmp_path, picture, message):
    model, x_test, _, _ = conv_model
    np.save(tmp_path / "x.npy", x_test[:1])
    cli("predict", str(model), str(tmp_path / "x.npy"), "--features", str(tmp_path / picture)).assert_input_error(
        message
    )


def test_features_of_a_table_model_is_refused_and_writes_nothing(cli, cancer_model, tmp_path):
    row = ",".join(CANCER.read_text().splitlines()[1].split(",")[:30])
    picture = tmp_path / "f.png"
    cli("predict", str(cancer_model), row, "--features", str(picture)).assert_input_error("--features draws images")
    assert not picture.exists()


def test_features_never_overwrites_an_input(cli, conv_model, tmp_path):
    model = conv_model[0]
    digit = drawn_digit(tmp_path / "d.png")
    before = digit.read_bytes()
    run = cli("predict", str(model), str(digit), "--features", str(digit))
    run.assert_input_error()
    assert digit.read_bytes() == before


def test_a_blank_picture_is_refused(cli, conv_model, tmp_path):
    from PIL import Image

    Image.new("L", (100, 80), 255).save(tmp_path / "blank.png")
    cli("predict", str(conv_model[0]), str(tmp_path / "blank.png")).assert_input_error("no ink found")


def test_installed_predict_prepares_the_sample_photo_of_a_digit(shell, conv_model):
    model = conv_model[0]
    done = shell(f"nnkit predict {model} samples/my_digit.png -f csv | tail -n +2 | cut -d, -f1")
    assert done.returncode == 0, done.stderr
    assert done.stdout.decode().strip() in ("0", "1", "2")
    (note,) = done.stderr.decode().splitlines()
    assert note.startswith("nnkit: samples/my_digit.png is 240×200; prepared as MNIST's digits were: inverted")


def test_a_colour_model_asks_for_an_array_not_a_grayscale_picture(cli, tmp_path):
    from PIL import Image

    from nnkit.files.model_file import save_model
    from nnkit.nn.stack import build_network

    specs = [{"type": "conv2d", "filters": 2, "kernel": 3}, {"type": "flatten"}, {"type": "dense", "units": 2}]
    net = build_network([*specs[:2], {**specs[2], "activation": "softmax"}], (6, 6, 3), seed=0)
    prep = {"kind": "scale", "divisor": 255.0, "image_shape": [6, 6, 3]}
    save_model(tmp_path / "rgb.npz", net, {"classes": ["a", "b"], "preprocessing": prep})
    Image.fromarray(np.zeros((6, 6, 3), np.uint8)).save(tmp_path / "rgb.png")
    cli("predict", str(tmp_path / "rgb.npz"), str(tmp_path / "rgb.png")).assert_input_error(
        "the model takes 6×6×3 images (3 channels)"
    )
    stack = np.random.default_rng(0).integers(0, 256, (2, 6, 6, 3), dtype=np.uint8)
    np.save(tmp_path / "rgb.npy", stack)
    run = cli("predict", str(tmp_path / "rgb.npz"), str(tmp_path / "rgb.npy"), "-f", "csv")
    assert run.exit_code == 0, run.stderr
    expected = net.forward((stack / np.float32(255)).astype(np.float32))
    np.testing.assert_allclose(
        [[float(v) for v in line.split(",")[1:]] for line in run.stdout.splitlines()[1:]], expected, atol=1e-6
    )


def test_a_picture_on_stdin_is_predicted_like_the_file(cli, conv_model, tmp_path):
    model = conv_model[0]
    digit = drawn_digit(tmp_path / "d.png", "4")
    from_file = cli("predict", str(model), str(digit), "-f", "json")
    from_stdin = cli("predict", str(model), "-f", "json", input=digit.read_bytes())
    assert from_stdin.exit_code == 0, from_stdin.stderr
    assert "stdin is 200×200; prepared as MNIST's digits were" in from_stdin.stderr
    assert json.loads(from_stdin.stdout)[0]["probabilities"] == json.loads(from_file.stdout)[0]["probabilities"]


def test_a_csv_header_starting_like_a_bitmap_is_still_a_table(cli, tmp_path):
    model = tmp_path / "bmi.npz"
    table = tmp_path / "bmi.csv"
    rng = np.random.default_rng(0)
    rows = [(round(float(b), 2), int(b > 25)) for b in rng.normal(25, 4, 60)]
    table.write_text("BMI,obese\n" + "".join(f"{b},{o}\n" for b, o in rows))
    assert cli("train-mlp", "--data", str(table), "--epochs", "2", "--hidden", "4", "--save", str(model)).exit_code == 0
    run = cli("predict", str(model), "-f", "csv", input="BMI\n31.5\n18.0\n")
    assert run.exit_code == 0, run.stderr
    assert len(run.stdout.splitlines()) == 3  # the header row, then the two inputs


def test_a_picture_for_a_table_model_is_refused(cli, cancer_model):
    cli("predict", str(cancer_model), str(MY_DIGIT)).assert_input_error(
        "is an image, but the model was trained on a table of features"
    )
