"""``nnkit train`` end to end: conv stacks on the digits and on MNIST-format files, the course's models,
save/resume/predict, and every kind of bad input (exit 2, nothing written)."""

import json
from pathlib import Path

import numpy as np
import pytest

from nnkit.data.labelled import write_idx
from tests.cli.test_train_mlp import CANCER, ROW_KEYS, SPEC_KEYS, report, without_timing

SMALL_CNN = "conv 8 3 relu padding=same, maxpool 2, flatten, dense 10 softmax"


def mnist_like(n, seed=0, classes=10):
    """28×28 uint8 images whose class is drawn as a bright 5×5 square at one of ten places."""
    rng = np.random.default_rng(seed)
    y = (np.arange(n) % classes).astype(np.uint8)
    rng.shuffle(y)
    x = rng.integers(0, 50, (n, 28, 28), dtype=np.uint8)
    for i, k in enumerate(y):
        r, c = 3 + 5 * (k // 5) * 2, 2 + 5 * (k % 5)
        x[i, r : r + 5, c : c + 5] = 200 + rng.integers(0, 56)
    return x, y


@pytest.fixture
def mnist_folder(tmp_path):
    x, y = mnist_like(300)
    folder = tmp_path / "mnist"
    folder.mkdir()
    write_idx(folder / "train-images-idx3-ubyte.gz", x[:240])
    write_idx(folder / "train-labels-idx1-ubyte.gz", y[:240])
    write_idx(folder / "t10k-images-idx3-ubyte.gz", x[240:])
    write_idx(folder / "t10k-labels-idx1-ubyte.gz", y[240:])
    return folder


def test_a_small_cnn_learns_the_bundled_digits_and_predict_reproduces_its_test_part(cli, tmp_path):
    model = tmp_path / "cnn.npz"
    result = report(cli("train", "--layers", SMALL_CNN, "--epochs", "10", "--lr", "0.01", "--save", str(model), "-f", "json"))
    assert set(result) >= SPEC_KEYS and all(set(row) == ROW_KEYS for row in result["history"])
    assert result["network"]["input_shape"] == [8, 8, 1]  # the digits keep their 2-D shape + a channel
    assert result["network"]["parameters"] == 8 * 9 + 8 + 4 * 4 * 8 * 10 + 10
    assert result["test"]["accuracy"] >= 0.95
    assert result["options"]["layers"] == SMALL_CNN
    with np.load(model, allow_pickle=False) as archive:
        assert archive["W0"].shape == (3, 3, 1, 8) and archive["W1"].shape == (128, 10)
        meta = json.loads(str(archive["meta"]))
    assert meta["kind"] == "layers" and meta["input_shape"] == [8, 8, 1]

    # The same test images (raw 0..16 pixels, as an (N, 8, 8) stack) through the saved model.
    from nnkit.data.labelled import load_digits
    from nnkit.data.splits import stratified_split
    from nnkit.files.model_file import load_model

    x, y = load_digits().parts["train"]
    test_rows = stratified_split(y, [0.1, 0.2], seed=0)[2]
    network, meta = load_model(model)
    predicted = network.predict(x[test_rows, :, :, None].astype(np.float32) / 16.0)
    cm = np.zeros((10, 10), int)
    np.add.at(cm, (y[test_rows], predicted), 1)
    assert cm.tolist() == result["test"]["confusion_matrix"]


def test_the_course_cnn_beats_a_chance_level_on_mnist_format_files(cli, mnist_folder):
    result = report(cli("train", "--model", "course-cnn", "--data", str(mnist_folder), "--epochs", "3"))
    options = result["options"]
    assert (options["optimizer"], options["lr"], options["batch_size"]) == ("rmsprop-keras", 0.001, 128)
    assert (options["val_split"], options["val_from"], options["init"], options["model"]) == (0.2, "last", "keras", "course-cnn")
    assert result["network"]["parameters"] == 104_202 and result["network"]["input_shape"] == [28, 28, 1]
    # Keras's validation_split=0.2 takes the last int(240 − 240·0.8) = 48 training images.
    assert (result["train"]["samples"], result["validation"]["samples"], result["test"]["samples"]) == (192, 48, 60)
    assert result["test"]["accuracy"] >= 0.9


def test_the_course_mlp_has_the_chapters_parameters_and_defaults(cli, mnist_folder):
    result = report(cli("train", "--model", "course-mlp", "--data", str(mnist_folder), "--epochs", "2"))
    assert result["network"]["parameters"] == 101_770
    assert [c["type"] for c in result["network"]["layers"]] == ["flatten", "dense", "activation", "dropout", "dense"]
    assert result["options"]["epochs"] == 2 and result["options"]["batch_size"] == 128  # --epochs overrides only itself


def bars(n, size=16, seed=0):
    """Noisy images of a horizontal, a vertical or a diagonal 5-pixel bar (class 0, 1, 2) anywhere."""
    rng = np.random.default_rng(seed)
    y = (np.arange(n) % 3).astype(np.uint8)
    rng.shuffle(y)
    x = rng.integers(0, 60, (n, size, size), dtype=np.uint8)
    for i, k in enumerate(y):
        r, c = rng.integers(0, size - 5, 2)
        rows, cols = {0: (np.full(5, r + 2), np.arange(c, c + 5)), 1: (np.arange(r, r + 5), np.full(5, c + 2)),
                      2: (np.arange(r, r + 5), np.arange(c, c + 5))}[int(k)]
        x[i, rows, cols] = 255
    return x, y


def test_a_cnn_beats_an_mlp_where_the_shape_moves(cli, tmp_path):
    # 100 training images are too few for a dense layer to learn a bar at every position; the
    # convolution's shared 3×3 filters see it wherever it is (the course's point about CNNs).
    x, y = bars(400)
    data = tmp_path / "bars.npz"
    np.savez(data, x_train=x[:100], y_train=y[:100], x_test=x[100:], y_test=y[100:])
    common = ["--data", str(data), "--epochs", "30", "--lr", "0.01"]
    cnn = report(cli("train", "--layers", "conv 8 3 relu, maxpool 2, flatten, dense 3", *common))
    mlp = report(cli("train-mlp", "--hidden", "64", *common))
    assert cnn["network"]["parameters"] == 80 + 7 * 7 * 8 * 3 + 3 < mlp["network"]["parameters"] == 16_643
    assert cnn["test"]["accuracy"] >= 0.65 and mlp["test"]["accuracy"] <= 0.55, (cnn["test"], mlp["test"])
    # A course model fits the data's classes: three softmax units here, ten on MNIST.
    course = report(cli("train", "--model", "course-mlp", "--data", str(data), "--epochs", "1"))
    assert course["network"]["parameters"] == 16 * 16 * 128 + 128 + 128 * 3 + 3


def test_same_seed_same_run_with_dropout(cli):
    stack = "conv 4 3 relu, dropout 0.3, flatten, dense 10"
    a, b = (report(cli("train", "--layers", stack, "--epochs", "2", "--seed", "4")) for _ in range(2))
    c = report(cli("train", "--layers", stack, "--epochs", "2", "--seed", "5"))
    assert without_timing(a) == without_timing(b) != without_timing(c)


def test_resume_continues_a_conv_model_and_refuses_another_stack(cli, tmp_path):
    model = tmp_path / "cnn.npz"
    first = report(cli("train", "--layers", SMALL_CNN, "--epochs", "2", "--save", str(model), "--optimizer", "sgd",
                       "--lr", "0.1"))
    run = cli("train", "--resume", str(model), "--epochs", "2", "-f", "csv")
    assert run.exit_code == 0, run.stderr
    lines = run.stdout.splitlines()
    assert [line.split(",")[0] for line in lines[1:]] == ["3", "4"]
    assert float(lines[-1].split(",")[1]) < first["history"][-1]["loss"]
    resumed = report(cli("train", "--resume", str(model), "--epochs", "1", "--layers", SMALL_CNN))
    assert resumed["options"]["optimizer"] == "sgd" and resumed["options"]["lr"] == 0.1
    cli("train", "--resume", str(model), "--layers", "conv 4 3 relu, flatten, dense 10").assert_input_error(
        "differs from the resumed model's layers"
    )
    cli("train", "--resume", str(model), "--data", CANCER).assert_input_error("takes images of 8×8×1; breast_cancer_wdbc.csv is a table")


def test_plot_and_ctrl_c_write_their_files(cli, tmp_path, monkeypatch):
    import nnkit.cli.training_run as core
    from nnkit.nn.training import fit as real_fit

    def interrupted_fit(*args, on_epoch, **kwargs):
        def then_ctrl_c(row):
            on_epoch(row)
            raise KeyboardInterrupt

        return real_fit(*args, on_epoch=then_ctrl_c, **kwargs)

    monkeypatch.setattr(core, "fit", interrupted_fit)
    model, picture = tmp_path / "m.npz", tmp_path / "p.png"
    run = cli("train", "--layers", SMALL_CNN, "--epochs", "5", "--save", str(model), "--plot", str(picture))
    assert run.exit_code == 130 and json.loads(run.stdout)["epochs_run"] == 1
    assert model.exists() and picture.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_train_then_summary_through_the_installed_command(shell, tmp_path):
    model = tmp_path / "m.npz"
    done = shell(f'nnkit train --layers "conv 4 3 relu, maxpool 2, flatten, dense 10" --epochs 1 -q --save {model} '
                 f"> /dev/null && nnkit summary {model} -f csv")
    assert done.returncode == 0, done.stderr
    assert done.stdout.decode().splitlines() == [
        "layer,type,activation,output_shape,params",
        "conv2d,Conv2D,relu,6x6x4,40",
        "max_pooling2d,MaxPooling2D,,3x3x4,0",
        "flatten,Flatten,,36,0",
        "dense,Dense,softmax,10,370",
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--layers", "conv 8 3 relu, maxpol 2, flatten, dense 10"], "unknown layer 'maxpol' (layer 2)"),
        (["--layers", "conv 8, flatten, dense 10"], "conv needs KERNEL"),
        (["--layers", "conv 8 3 rleu, flatten, dense 10"], "unknown activation 'rleu'"),
        (["--layers", "conv 8 3 stride=0, flatten, dense 10"], "stride must be an integer (a whole number) from 1 to 1000000, not 0"),
        (["--layers", "conv 8 3 pad=same, flatten, dense 10"], "conv takes no setting 'pad'"),
        (["--layers", "dropout 2, dense 10"], "rate must be a number in [0, 1)"),
        (["--layers", "conv 8 3, flatten"], "must end with a dense layer"),
        (["--layers", "dense 10 softmax, dense 10"], "softmax only ends the stack"),
        (["--layers", "flatten, conv 8 3, dense 10"], "needs images, but layer 1 already made them rows"),
        (["--layers", "conv 8 3 relu, maxpool 2, conv 8 3, maxpool 2, flatten, dense 10"],
         "layer 4 (maxpool2d): maxpool2d with a 2×2 window does not fit its 1×1×8 input"),
        (["--layers", "conv 8 9, flatten, dense 10"], "layer 1 (conv2d)"),
        (["--layers", "conv 8 3, dense 10"], "layer 2 (dense): dense needs flat inputs (one row of values per sample), got inputs of shape 6×6×8"),
        (["--layers", "conv 8 3, flatten, dense 3"], "does not fit the data's 10 classes"),
        (["--layers", "conv 8 3, flatten, dense 2", "--data", CANCER], "conv and pool layers need images"),
        (["--layers", "dense 4"], "does not fit the data's 10 classes"),
        (["--model", "course-rnn"], "unknown --model 'course-rnn'"),
        (["--model", "course-cnn", "--layers", "dense 10"], "give --layers or --model, not both"),
        ([], "nnkit train needs --layers or --model"),
        (["--layers", SMALL_CNN, "--optimizer", "adamw"], "unknown optimizer 'adamw'"),
        (["--layers", SMALL_CNN, "--init", "zeros"], "unknown --init 'zeros'"),
    ],
)
def test_bad_input_is_exit_2_and_writes_nothing(cli, tmp_path, args, message):
    model = tmp_path / "m.npz"
    cli("train", *args, "--save", str(model)).assert_input_error(message)
    assert list(tmp_path.iterdir()) == []


def test_a_damaged_layer_list_on_resume_is_exit_2(cli, tmp_path):
    model = tmp_path / "cnn.npz"
    report(cli("train", "--layers", SMALL_CNN, "--epochs", "1", "--save", str(model)))
    with np.load(model, allow_pickle=False) as archive:
        arrays = {name: archive[name] for name in archive.files}
    meta = json.loads(str(arrays["meta"]))
    meta["layers"][0]["type"] = "convolution"
    arrays["meta"] = np.array(json.dumps(meta))
    damaged = tmp_path / "damaged.npz"
    np.savez(damaged, **arrays)
    out = tmp_path / "out.npz"
    cli("train", "--resume", str(damaged), "--save", str(out)).assert_input_error("meta.layers[0].type must be one of")
    assert not out.exists()
    assert Path(model).exists()


def test_help_documents_the_grammar_and_the_course_models(cli):
    text = " ".join(cli("train", "--help", env={"COLUMNS": "200"}).stdout.replace("│", " ").split())
    for fragment in ("conv FILTERS KERNEL [ACTIVATION] [stride=N] [padding=valid|same]", "maxpool SIZE [stride=N]",
                     "dropout RATE", "dense UNITS [ACTIVATION]", "course-cnn", "104 202", "rmsprop-keras"):
        assert fragment in text, fragment


def test_several_batch_sizes_compare_conv_models_too(cli, mnist_folder):
    result = report(cli("train", "--model", "course-mlp", "--data", str(mnist_folder), "--batch-size", "full,64",
                        "--epochs", "1"))
    assert result["task"] == "batch-modes" and result["batch_sizes"] == ["full", 64]
    assert result["training_samples"] == 192  # the course model's Keras split: the last 20 % of 240 held out
    assert [run["updates_per_epoch"] for run in result["runs"]] == [1, 3]
    cli("train", "--layers", SMALL_CNN, "--batch-size", "32,32").assert_input_error("--batch-size 32 is given twice")


def test_the_plot_of_a_two_class_conv_model_has_its_roc_curve_and_kept_epoch(cli, tmp_path, monkeypatch):
    import matplotlib.pyplot as plt

    import nnkit.plots.training_run

    drawn = []
    monkeypatch.setattr(nnkit.plots.training_run, "save_figure", lambda figure, path, env: drawn.append(figure))
    x, y = mnist_like(160, seed=3, classes=2)
    data = tmp_path / "two.npz"
    np.savez(data, x_train=x[:120], y_train=y[:120], x_test=x[120:], y_test=y[120:])
    run = cli("train", "--layers", "conv 2 3 relu, maxpool 2, flatten, dense 1 sigmoid", "--data", str(data),
              "--epochs", "4", "--early-stopping", "1", "--positive", "1", "--plot", str(tmp_path / "p.png"),
              "-f", "json")
    assert run.exit_code == 0, run.stderr
    got = json.loads(run.stdout)
    (figure,) = drawn
    curves = figure.subfigs[0]
    loss, accuracy, confusion, roc = curves.axes[:4]
    assert confusion.get_title() == "confusion matrix (test)"
    for axis in (loss, accuracy):
        kept = [line for line in axis.get_lines() if line.get_label().startswith("weights kept")]
        assert len(kept) == 1 and list(kept[0].get_xdata()) == [got["best_epoch"]] * 2
    assert roc.get_title() == "ROC curve (test), positive: 1"
    assert roc.get_lines()[0].get_label() == f"ROC, AUC = {got['test']['roc_auc']:.3f}"
    assert figure.subfigs[1].subfigs[0].axes[0].get_title().startswith("test image 0: true")  # then the maps
    plt.close(figure)
