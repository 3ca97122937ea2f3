"""``nnkit predict``: the stored preprocessing is applied to rows, arrays and images alike."""

import json
from pathlib import Path

import numpy as np
import pytest

from tests.io.test_datasets import learnable_images

CANCER = Path(__file__).parents[2] / "samples" / "breast_cancer_wdbc.csv"


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
    from nnkit.engine.network import network_from_weights
    from nnkit.io.model import save_model

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
    # the course's notation: one sample written as a column (issue 9 §1)
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
