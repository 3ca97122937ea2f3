"""``nnkit evaluate`` end to end: the held-out cases, the numbers against scikit-learn, threshold, figure."""

import json
from pathlib import Path

import numpy as np
import pytest
from sklearn import metrics as sk

from tests.conftest import run_cli, run_shell

CANCER = Path(__file__).parents[2] / "samples" / "breast_cancer_wdbc.csv"


@pytest.fixture(scope="module")
def cancer(tmp_path_factory):
    model = tmp_path_factory.mktemp("cancer") / "cancer.npz"
    run = run_cli("train-mlp", "--data", str(CANCER), "--epochs", "10", "--hidden", "16", "--save", str(model))
    assert run.exit_code == 0, run.stderr
    return model, json.loads(run.stdout)


@pytest.fixture(scope="module")
def digits_cnn(tmp_path_factory):
    model = tmp_path_factory.mktemp("digits") / "cnn.npz"
    run = run_cli("train", "--layers", "conv 4 3 relu, maxpool 2, flatten, dense 10 softmax", "--epochs", "3",
                  "--save", str(model))
    assert run.exit_code == 0, run.stderr
    return model, json.loads(run.stdout)


def _evaluate(*args):
    run = run_cli("evaluate", *map(str, args))
    assert run.exit_code == 0, run.stderr
    return json.loads(run.stdout), run.stderr


def _test_part_probabilities(model, data):
    """The held-out test part as the training run split it, classified by ``nnkit predict``."""
    from nnkit.data.labelled import load_dataset, prepare
    from nnkit.files.model_file import load_model
    from nnkit.nn.metrics import class_probabilities

    network, meta = load_model(model)
    options = meta["options"]
    prepared = prepare(load_dataset(str(data)), classes=meta["classes"], preprocessing=meta["preprocessing"],
                       val_split=options["val_split"], test_split=options["test_split"], seed=options["seed"])
    return prepared.y["test"], class_probabilities(network.forward(prepared.x["test"])).astype(np.float64)


def test_breast_cancer_is_evaluated_on_the_cases_its_training_held_out(cancer):
    model, training = cancer
    report, _ = _evaluate(model, "--data", CANCER, "--bootstrap", "200")
    assert report["part"] == "test" and "held out by the training run" in report["cases"]
    # the very cases of the training report's test part: same count, same confusion matrix, same AUC
    assert report["samples"] == training["test"]["samples"] == 113
    assert report["confusion_matrix"] == training["test"]["confusion_matrix"]
    assert report["roc_auc"]["value"] == pytest.approx(training["test"]["roc_auc"], abs=1e-12)
    y, p = _test_part_probabilities(model, CANCER)
    malignant = report["classes"].index("malignant")
    assert report["positive"] == "malignant" and malignant == 1
    assert abs(report["roc_auc"]["value"] - sk.roc_auc_score(y == 1, p[:, 1])) < 1e-12
    assert abs(report["average_precision"]["value"] - sk.average_precision_score(y == 1, p[:, 1])) < 1e-12
    assert abs(report["calibration"]["brier"] - sk.brier_score_loss(y == 1, p[:, 1])) < 1e-12
    for row, k in zip(report["per_class"], range(2), strict=True):
        interval = row["sensitivity"]
        assert interval["low"] <= interval["value"] <= interval["high"]
        assert abs(interval["value"] - sk.recall_score(y == k, p.argmax(1) == k)) < 1e-12
    auc = report["roc_auc"]
    assert auc["low"] <= auc["value"] <= auc["high"]
    # the same seed gives the same intervals; another seed others
    again, _ = _evaluate(model, "--data", CANCER, "--bootstrap", "200")
    other, _ = _evaluate(model, "--data", CANCER, "--bootstrap", "200", "--seed", "1")
    assert again == report and other["roc_auc"] != report["roc_auc"]


def test_target_sensitivity_picks_a_threshold_and_warns_where_it_was_chosen(cancer):
    model, _ = cancer
    report, stderr = _evaluate(model, "--data", CANCER, "--target-sensitivity", "0.98", "--bootstrap", "0")
    t = report["threshold"]
    assert t["chosen_by"] == "target sensitivity" and t["sensitivity"] >= 0.98
    assert "flatter" in t["warning"] and "flatter" in stderr
    y, p = _test_part_probabilities(model, CANCER)
    called = p[:, 1] >= t["value"]
    (tn, fp), (fn, tp) = sk.confusion_matrix(y, called, labels=[0, 1])
    assert (t["tp"], t["fp"], t["fn"], t["tn"]) == (tp, fp, fn, tn)
    assert report["confusion_matrix"] == [[tn, fp], [fn, tp]]
    assert any(row["threshold"] == t["value"] for row in report["sweep"])
    # chosen on the validation part instead: no warning, and a pointer to judge it on the test part
    chosen, stderr = _evaluate(model, "--data", CANCER, "--part", "validation", "--target-sensitivity", "0.95",
                               "--bootstrap", "0")
    assert "warning" not in chosen["threshold"] and "validation part" in chosen["threshold"]["chosen_on"]
    assert f"--threshold {chosen['threshold']['value']:.6g}" in stderr


def test_threshold_moves_the_operating_point_and_the_sweep_agrees(cancer):
    model, _ = cancer
    report, _ = _evaluate(model, "--data", CANCER, "--threshold", "0.3", "--bootstrap", "0")
    y, p = _test_part_probabilities(model, CANCER)
    for row in report["sweep"]:
        (tn, fp), (fn, tp) = sk.confusion_matrix(y, p[:, 1] >= row["threshold"], labels=[0, 1])
        assert (row["tp"], row["fp"], row["fn"], row["tn"]) == (tp, fp, fn, tn)
        if tp + fn:
            assert row["sensitivity"] == pytest.approx(tp / (tp + fn), abs=1e-12)
    assert report["threshold"]["value"] == 0.3 and report["threshold"]["chosen_by"] == "given"


def test_digits_cnn_ten_classes_plot_and_output_file(digits_cnn, tmp_path):
    model, training = digits_cnn
    plot, out = tmp_path / "eval.png", tmp_path / "eval.json"
    report, _ = _evaluate(model, "--data", "digits", "--bootstrap", "50", "--plot", plot, "-o", out)
    assert report["accuracy"]["value"] == pytest.approx(training["test"]["accuracy"], abs=1e-12)
    assert len(report["per_class"]) == 10 and "roc_auc" in report["per_class"][0]
    assert report["calibration"]["event"] == "top class correct"
    assert json.loads(out.read_text()) == report
    assert plot.read_bytes().startswith(b"\x89PNG")
    # the training report gains the same per-class sensitivity and specificity
    for row, ours in zip(training["test"]["per_class"], report["per_class"], strict=True):
        assert row["sensitivity"] == pytest.approx(ours["sensitivity"]["value"], abs=1e-12)
        assert row["specificity"] == pytest.approx(ours["specificity"]["value"], abs=1e-12)
    refused = run_cli("evaluate", str(model), "--data", "digits", "--threshold", "0.5")
    refused.assert_input_error("two classes")


def test_installed_command_in_a_pipe_prints_the_json_report(cancer, tmp_path):
    model, _ = cancer
    result = run_shell(f"nnkit evaluate {model} --data {CANCER} --bootstrap 10 | head -c 100000", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["samples"] == 113


def test_cases_of_one_class_leave_the_other_rate_undefined_not_zero(cancer, tmp_path):
    """No malignant case: sensitivity is undefined (null), not 0 ("misses every cancer"), and not plotted."""
    model, _ = cancer
    lines = CANCER.read_text().splitlines()
    benign = tmp_path / "benign.csv"
    benign.write_text("\n".join([lines[0], *[line for line in lines[1:] if line.endswith("benign")][:30]]) + "\n")
    report, _ = _evaluate(model, "--data", benign, "--bootstrap", "0", "--plot", tmp_path / "b.png")
    assert report["per_class"][1]["sensitivity"]["value"] is None
    assert report["threshold"]["sensitivity"] is None and report["threshold"]["specificity"] is not None
    assert all(row["sensitivity"] is None for row in report["sweep"])


def test_other_cases_in_a_file_of_the_same_name_are_all_evaluated(cancer, tmp_path):
    """test/breast_cancer_wdbc.csv is not the training file: all of it, not a 20 % 'held-out' part of it."""
    model, _ = cancer
    lines = CANCER.read_text().splitlines()
    (tmp_path / "test").mkdir()
    other = tmp_path / "test" / CANCER.name
    other.write_text("\n".join([lines[0], *lines[1:41]]) + "\n")
    report, _ = _evaluate(model, "--data", other, "--bootstrap", "0")
    assert report["samples"] == 40 and report["part"] == "all"
    same, _ = _evaluate(model, "--data", CANCER, "--bootstrap", "0")
    assert same["part"] == "test" and "held out by the training run" in same["cases"]
