"""``nnkit train-mlp`` end to end: real data, the JSON report, every data layout, bad input, Ctrl-C."""

import json
from pathlib import Path

import numpy as np
import pytest

from nnkit.data.labelled import write_idx
from nnkit.nn.optimizers import OPTIMIZERS
from tests.data.test_labelled import learnable_images

CANCER = str(Path(__file__).parents[2] / "samples" / "breast_cancer_wdbc.csv")
SMALL = ["--hidden", "16", "--epochs", "3"]
SPEC_KEYS = {"task", "classes", "epochs_run", "history", "train", "validation", "test", "seconds"}
ROW_KEYS = {"epoch", "loss", "accuracy", "val_loss", "val_accuracy", "seconds"}


def report(run) -> dict:
    assert run.exit_code == 0, run.stderr
    return json.loads(run.stdout)


def without_timing(result: dict) -> dict:
    result = dict(result, seconds=None)
    result["history"] = [dict(row, seconds=None) for row in result["history"]]
    return result


def test_default_run_learns_the_bundled_digits(cli):
    # No options at all; in a pipe the default output is the JSON report.
    result = report(cli("train-mlp"))
    assert set(result) >= SPEC_KEYS
    assert result["task"] == "classification"
    assert result["classes"] == list(range(10))
    assert result["epochs_run"] == len(result["history"]) == 50
    assert all(set(row) == ROW_KEYS for row in result["history"])
    test = result["test"]
    assert test["accuracy"] >= 0.97
    cm = np.array(test["confusion_matrix"])
    assert cm.shape == (10, 10) and cm.sum() == test["samples"] == 359
    assert test["accuracy"] == pytest.approx(np.trace(cm) / cm.sum())
    assert [row["support"] for row in test["per_class"]] == cm.sum(axis=1).tolist()
    for k, row in enumerate(test["per_class"]):
        assert row["class"] == k
        assert row["recall"] == pytest.approx(cm[k, k] / cm[k].sum())
        assert row["precision"] == pytest.approx(cm[k, k] / cm[:, k].sum())
    assert "roc_auc" not in test  # ten classes: no binary metrics
    assert result["train"]["accuracy"] > 0.97 and result["validation"]["loss"] > 0


def test_breast_cancer_with_clinical_metrics_and_predict_reproduces_it(cli, tmp_path):
    model = tmp_path / "cancer.npz"
    result = report(cli("train-mlp", "--data", CANCER, "--positive", "malignant", "--save", str(model), "-f", "json"))
    test = result["test"]
    assert result["classes"] == ["benign", "malignant"] and result["positive"] == "malignant"
    assert test["accuracy"] >= 0.95
    (tn, fp), (fn, tp) = test["confusion_matrix"]
    assert test["sensitivity"] == pytest.approx(tp / (tp + fn))
    assert test["specificity"] == pytest.approx(tn / (tn + fp))
    assert 0.95 <= test["roc_auc"] <= 1.0
    assert model.exists()

    # The same test rows, raw, with their header and label column, through predict.
    from nnkit.data.labelled import load_dataset
    from nnkit.data.splits import stratified_split

    x, labels = load_dataset(CANCER).parts["train"]
    test_rows = stratified_split(labels, [0.1, 0.2], seed=0)[2]
    header = Path(CANCER).read_text().splitlines()[0]
    lines = [header] + [",".join([*map(repr, x[i].tolist()), labels[i]]) for i in test_rows]
    rows_file = tmp_path / "test_rows.csv"
    rows_file.write_text("\n".join(lines) + "\n")
    run = cli("predict", str(model), str(rows_file), "-f", "csv")
    assert run.exit_code == 0, run.stderr
    predicted = [line.split(",")[0] for line in run.stdout.splitlines()[1:]]  # after the header row
    assert len(predicted) == len(test_rows) == test["samples"]
    truth = labels[test_rows].tolist()
    cm = [
        [sum(t == a and p == b for t, p in zip(truth, predicted, strict=True)) for b in ("benign", "malignant")]
        for a in ("benign", "malignant")
    ]
    assert cm == test["confusion_matrix"]


def test_same_seed_same_json_other_seed_differs(cli):
    a = report(cli("train-mlp", *SMALL, "--seed", "5"))
    b = report(cli("train-mlp", *SMALL, "--seed", "5"))
    c = report(cli("train-mlp", *SMALL, "--seed", "6"))
    assert without_timing(a) == without_timing(b)
    assert without_timing(a) != without_timing(c)


@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_mnist_idx_folder_trains(cli, tmp_path, suffix):
    x, y = learnable_images(150)
    write_idx(tmp_path / f"train-images-idx3-ubyte{suffix}", x[:120])
    write_idx(tmp_path / f"train-labels-idx1-ubyte{suffix}", y[:120])
    write_idx(tmp_path / f"t10k-images-idx3-ubyte{suffix}", x[120:])
    write_idx(tmp_path / f"t10k-labels-idx1-ubyte{suffix}", y[120:])
    result = report(cli("train-mlp", "--data", str(tmp_path), "--epochs", "20", "--hidden", "8"))
    assert result["classes"] == [0, 1, 2]
    assert result["test"]["samples"] == 30  # the t10k part, not a split
    assert result["validation"]["samples"] == 12  # 10 % of the 120 training images
    assert result["network"]["sizes"] == [30, 8, 3]
    assert result["test"]["accuracy"] >= 0.9


def test_keras_and_medmnist_npz_train(cli, tmp_path):
    x, y = learnable_images(120, classes=2)
    keras = tmp_path / "mnist.npz"
    np.savez(keras, x_train=x[:90], y_train=y[:90], x_test=x[90:], y_test=y[90:])
    result = report(cli("train-mlp", "--data", str(keras), *SMALL))
    assert result["test"]["samples"] == 30 and "roc_auc" in result["test"]
    med = tmp_path / "medmnist.npz"
    col = y.reshape(-1, 1)
    np.savez(
        med,
        train_images=x[:80],
        train_labels=col[:80],
        val_images=x[80:100],
        val_labels=col[80:100],
        test_images=x[100:],
        test_labels=col[100:],
    )
    result = report(cli("train-mlp", "--data", str(med), *SMALL))
    assert (result["train"]["samples"], result["validation"]["samples"], result["test"]["samples"]) == (80, 20, 20)


def test_three_batch_modes_and_every_optimizer(cli):
    for batch in ("1", "full", "64"):
        result = report(cli("train-mlp", "--data", CANCER, "--epochs", "1", "--hidden", "4", "--batch-size", batch))
        assert result["options"]["batch_size"] == (batch if batch == "full" else int(batch))
    for name in ("sgd", "momentum", "adagrad", "rmsprop", "adam"):
        result = report(
            cli(
                "train-mlp",
                "--data",
                CANCER,
                "--epochs",
                "10",
                "--hidden",
                "8",
                "--optimizer",
                name,
                "--batch-size",
                "32",
            )
        )
        assert result["options"]["lr"] == OPTIMIZERS[name].DEFAULT_LR
        assert result["history"][-1]["loss"] < result["history"][0]["loss"], name
        assert result["test"]["accuracy"] > 0.9, name


def test_early_stopping_keeps_the_best_epoch(cli):
    result = report(
        cli("train-mlp", "--data", CANCER, "--epochs", "200", "--hidden", "32", "--early-stopping", "3", "--lr", "0.01")
    )
    assert result["stopped_early"] and result["epochs_run"] < 200
    losses = [row["val_loss"] for row in result["history"]]
    assert result["best_epoch"] == int(np.argmin(losses)) + 1
    assert result["epochs_run"] == result["best_epoch"] + 3
    assert result["validation"]["loss"] == pytest.approx(min(losses), rel=1e-5)


def test_save_resume_plot_and_csv_history(cli, tmp_path):
    model, picture = tmp_path / "m.npz", tmp_path / "curves.png"
    first = report(cli("train-mlp", *SMALL, "--save", str(model)))
    run = cli("train-mlp", "--resume", str(model), "--epochs", "2", "--plot", str(picture), "-f", "csv")
    assert run.exit_code == 0, run.stderr
    lines = run.stdout.splitlines()
    assert lines[0] == "epoch,loss,accuracy,val_loss,val_accuracy,seconds"
    assert [line.split(",")[0] for line in lines[1:]] == ["4", "5"]
    assert float(lines[1].split(",")[1]) < first["history"][0]["loss"]
    assert picture.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert np.load(model, allow_pickle=False)["W0"].shape == (64, 16)


def test_resume_keeps_the_saved_optimizer_and_split_unless_given(cli, tmp_path):
    model = tmp_path / "m.npz"
    saved = ["--optimizer", "sgd", "--lr", "0.05", "--batch-size", "16", "--l2", "0.001", "--seed", "3",
             "--val-split", "0.2", "--test-split", "0.3"]
    first = report(cli("train-mlp", "--data", CANCER, *SMALL, *saved, "--save", str(model)))
    resumed = report(cli("train-mlp", "--data", CANCER, "--resume", str(model), "--epochs", "1"))
    expected = dict(first["options"], epochs=1)
    assert resumed["options"] == expected
    # The same seed and fractions give the same parts: no test sample is trained on.
    for part in ("train", "validation", "test"):
        assert resumed[part]["samples"] == first[part]["samples"]
    other = report(cli("train-mlp", "--data", CANCER, "--resume", str(model), "--epochs", "1",
                       "--optimizer", "adam", "--seed", "4"))
    assert other["options"] == dict(expected, optimizer="adam", lr=OPTIMIZERS["adam"].DEFAULT_LR, seed=4)
    cli("train-mlp", "--resume", str(model)).assert_input_error(
        "was trained on breast_cancer_wdbc.csv, not on the bundled digits"
    )


def test_ctrl_c_stops_cleanly_and_still_saves(cli, tmp_path, monkeypatch):
    import nnkit.cli.training_run as command
    from nnkit.nn.training import fit as real_fit

    def interrupted_fit(*args, on_epoch, **kwargs):
        def on_epoch_then_ctrl_c(row):
            on_epoch(row)
            if row["epoch"] == 2:
                raise KeyboardInterrupt

        return real_fit(*args, on_epoch=on_epoch_then_ctrl_c, **kwargs)

    monkeypatch.setattr(command, "fit", interrupted_fit)
    model, picture = tmp_path / "m.npz", tmp_path / "p.png"
    run = cli("train-mlp", *SMALL[:2], "--epochs", "10", "--save", str(model), "--plot", str(picture), "-f", "json")
    assert run.exit_code == 130
    assert json.loads(run.stdout)["epochs_run"] == 2
    assert model.exists() and picture.exists()
    assert "interrupted" in run.stderr


def test_unwritable_outputs_fail_before_training(cli, tmp_path, monkeypatch):
    import nnkit.cli.training_run as command

    def no_training(*args, **kwargs):
        raise AssertionError("trained before checking --save/--plot")

    monkeypatch.setattr(command, "fit", no_training)
    cli("train-mlp", "--save", str(tmp_path / "nope" / "m.npz")).assert_input_error("does not exist")
    cli("train-mlp", "--save", str(tmp_path / "m.txt")).assert_input_error("does not end in .npz")
    cli("train-mlp", "--plot", str(tmp_path / "c.jpg")).assert_input_error("does not end in .png")


def test_table_on_a_terminal_shows_clinical_metrics(cli):
    run = cli("train-mlp", "--data", CANCER, "--epochs", "3", "--hidden", "8", "-f", "table")
    assert run.exit_code == 0, run.stderr
    for word in ("confusion matrix", "precision", "sensitivity", "specificity", "ROC AUC", "malignant"):
        assert word in run.stdout


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


@pytest.mark.parametrize(
    ("make", "extra", "message"),
    [
        (
            lambda p: write(p, "t.csv", "a,b,y\n1,2,0\n1,oops,1\n"),
            [],
            "line 3, column 2 ('b'): not a number: 'oops'",
        ),
        (
            lambda p: write(p, "t.csv", "a,b,y\n1,2,0\n3,4,1\n"),
            ["--label-column", "label"],
            "--label-column 'label' does not exist",
        ),
        (lambda p: write(p, "t.csv", "a,y\n1,x\n2,x\n3,x\n"), [], "one class only"),
        (lambda p: write(p, "t.csv", ""), [], "is empty"),
        (lambda p: write(p, "t.csv", "a,b,y\n1,,0\n3,4,1\n"), [], "missing value"),
        (lambda p: (np.savez(p / "o.npz", a=np.zeros(3)), str(p / "o.npz"))[1], [], "neither the Keras MNIST keys"),
        (
            lambda p: (
                np.savez(
                    p / "m.npz",
                    x_train=np.zeros((4, 8, 8), np.uint8),
                    y_train=np.arange(4) % 2,
                    x_test=np.zeros((2, 9, 9), np.uint8),
                    y_test=np.arange(2),
                ),
                str(p / "m.npz"),
            )[1],
            [],
            "images of mixed sizes",
        ),
        (lambda p: "no/such/data.csv", [], "no such data set"),
        (lambda p: "digits", ["--batch-size", "0"], "--batch-size must be at least 1"),
        (lambda p: "digits", ["--optimizer", "lbfgs"], "unknown optimizer 'lbfgs'"),
        (lambda p: "digits", ["--positive", "7"], "--positive applies to two classes"),
        (lambda p: "digits", ["--hidden", "12,x"], "--hidden takes sizes"),
        (lambda p: "digits", ["--val-split", "nan"], "--val-split must be a fraction in [0, 1), got nan"),
        (lambda p: "digits", ["--test-split", "-0.1"], "--test-split must be a fraction"),
        (lambda p: "digits", ["--seed", "-1"], "--seed"),
    ],
)
def test_bad_input_is_exit_2(cli, tmp_path, make, extra, message):
    run = cli("train-mlp", "--data", make(tmp_path), *extra, "--epochs", "1")
    run.assert_input_error(message)


def test_resume_refuses_other_data_and_another_architecture(cli, tmp_path):
    model = tmp_path / "digits.npz"
    report(cli("train-mlp", "--hidden", "8", "--epochs", "1", "--save", str(model)))
    cli("train-mlp", "--resume", str(model), "--data", CANCER, "--epochs", "1").assert_input_error(
        "label 'benign' is not one of the model's classes"
    )
    cli("train-mlp", "--resume", str(model), "--hidden", "16", "--epochs", "1").assert_input_error(
        "--hidden 16 differs from the resumed model's [8]"
    )
    cli("train-mlp", "--resume", str(model), "--activation", "tanh").assert_input_error(
        "--activation tanh differs"
    )
    (tmp_path / "junk.npz").write_bytes(b"junk")
    cli("train-mlp", "--resume", str(tmp_path / "junk.npz")).assert_input_error("is not an nnkit model")


def test_dropout_is_a_layer_after_each_hidden_layer_and_resumes(cli, tmp_path):
    plain = report(cli("train-mlp", *SMALL, "--hidden", "16,8"))
    assert without_timing(report(cli("train-mlp", *SMALL, "--hidden", "16,8", "--dropout", "0"))) == without_timing(plain)
    model = tmp_path / "d.npz"
    dropped = report(cli("train-mlp", *SMALL, "--hidden", "16,8", "--dropout", "0.3", "--save", str(model)))
    assert [c["type"] for c in dropped["network"]["layers"]] == [
        "dense", "activation", "dropout", "dense", "activation", "dropout", "dense"]
    assert dropped["history"][0]["loss"] != plain["history"][0]["loss"]
    assert without_timing(report(cli("train-mlp", *SMALL, "--hidden", "16,8", "--dropout", "0.3"))) == without_timing(dropped)
    resumed = report(cli("train-mlp", "--resume", str(model), "--hidden", "16,8", "--epochs", "1"))
    assert resumed["history"][0]["epoch"] == 4 and resumed["network"]["layers"] == dropped["network"]["layers"]
    cli("train-mlp", "--resume", str(model), "--hidden", "16").assert_input_error("--hidden 16 differs from the resumed model's [16, 8]")
    cli("train-mlp", *SMALL, "--dropout", "1").assert_input_error("--dropout must be a rate in [0, 1)")
    cnn = tmp_path / "cnn.npz"
    assert cli("train", "--layers", "conv 2 3, flatten, dense 10", "--epochs", "1", "--save", str(cnn)).exit_code == 0
    cli("train-mlp", "--resume", str(cnn)).assert_input_error("has conv2d, flatten layers, not a multilayer perceptron")


def test_models_from_before_the_layer_list_resume(cli, tmp_path):
    old = Path(__file__).parents[1] / "files" / "fixtures" / "model_main_digits.npz"
    resumed = report(cli("train-mlp", "--resume", str(old), "--epochs", "1", "--save", str(tmp_path / "new.npz")))
    assert resumed["history"][0]["epoch"] == 4 and resumed["network"]["sizes"] == [64, 16, 8, 10]
