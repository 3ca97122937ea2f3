"""``nnkit backprop``: the course's 2-2 step end to end — the report's numbers, the loss falling, errors."""

import json

import numpy as np
import pytest

from nnkit.course.logic_gates import train_gate


def test_the_report_holds_every_number_of_the_step(cli):
    run = cli("backprop")  # a pipe: JSON
    assert run.exit_code == 0, run.stderr
    report = json.loads(run.stdout)
    assert report["network"] == {"sizes": [2, 2, 1], "activations": ["sigmoid"], "output": "sigmoid",
                                 "loss": "binary cross-entropy"}
    assert report["optimizer"] == "sgd" and report["lr"] == 5.0  # train-xor's defaults
    hidden, out = report["layers"]
    x = np.array(report["x"])
    # forward: z = x·W + b, h = σ(z); the output y = σ(h·W2 + b2)
    np.testing.assert_allclose(hidden["z"], x @ np.array(hidden["W"]) + hidden["b"], rtol=1e-14)
    np.testing.assert_allclose(hidden["h"], 1 / (1 + np.exp(-np.array(hidden["z"]))), rtol=1e-14)
    y = np.array(out["h"])[:, 0]
    t = np.array(report["t"])
    assert report["loss"] == pytest.approx(np.mean(-t * np.log(y) - (1 - t) * np.log(1 - y)), rel=1e-12)
    # backward: δ(y) = (y − t)/4; every gradient equals its central difference
    np.testing.assert_allclose(np.array(out["delta"])[:, 0], (y - t) / 4, rtol=1e-12)
    for layer in report["layers"]:
        np.testing.assert_allclose(layer["dW"], layer["numerical_dW"], rtol=1e-6, atol=1e-10)
        np.testing.assert_allclose(layer["db"], layer["numerical_db"], rtol=1e-6, atol=1e-10)
        # update (sgd): after = before − lr·gradient
        np.testing.assert_allclose(layer["W_after"], np.array(layer["W"]) - 5.0 * np.array(layer["dW"]), rtol=1e-14)


def test_steps_show_the_loss_falling_to_where_train_xor_ends(cli):
    report = json.loads(cli("backprop", "--steps", "2000").stdout)
    losses = report["losses"]
    assert len(losses) == 2001 and losses[-1] < 0.01 < losses[0]
    network, _ = train_gate("xor", seed=0)  # the same start, rate and steps: train-xor's network
    x = np.array(report["x"])
    assert losses[-1] == pytest.approx(network.loss(x, np.array(report["t"])), rel=1e-9)


def test_csv_is_the_loss_after_each_step(cli, tmp_path):
    report = json.loads(cli("backprop", "--steps", "3", "-o", str(tmp_path / "step.json")).stdout)
    run = cli("backprop", "--steps", "3", "-f", "csv")
    assert run.exit_code == 0, run.stderr
    header, *rows = run.stdout.splitlines()
    assert header == "after_steps,loss"
    assert [int(r.split(",")[0]) for r in rows] == [0, 1, 2, 3]
    assert [float(r.split(",")[1]) for r in rows] == report["losses"]  # the same numbers, read back exactly
    assert json.loads((tmp_path / "step.json").read_text()) == report


def test_the_table_names_the_course_steps(cli, tmp_path):
    out = tmp_path / "step.json"
    run = cli("backprop", "--steps", "3", "-f", "table", "-o", str(out))
    assert run.exit_code == 0, run.stderr
    for words in ("順伝播", "逆伝播", "更新", "central difference", "the loss over 3 steps"):
        assert words in run.stdout
    assert json.loads(out.read_text())["steps"] == 3


def test_input_table_with_class_targets_is_a_softmax(cli, tmp_path):
    rows = tmp_path / "rows.csv"
    rows.write_text("a,b,class\n0,0,0\n1,0,1\n0,1,2\n1,1,1\n")
    report = json.loads(cli("backprop", "-i", str(rows), "--hidden", "3,2", "--activation", "tanh").stdout)
    assert report["network"]["sizes"] == [2, 3, 2, 3] and report["network"]["output"] == "softmax"
    out = report["layers"][-1]
    onehot = np.eye(3)[report["t"]]
    np.testing.assert_allclose(out["delta"], (np.array(out["h"]) - onehot) / 4, rtol=1e-12)
    for layer in report["layers"]:
        np.testing.assert_allclose(layer["dW"], layer["numerical_dW"], rtol=1e-6, atol=1e-10)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--lr", "-1"], "--lr must be a positive number"),
        (["--hidden", "500"], "use at most 4 layers of at most 64 units"),
        (["--hidden", "a"], "--hidden takes sizes"),
        (["--optimizer", "nope"], "unknown optimizer"),
        (["-o", "x.txt"], "-o writes the report as .json, .csv or .tsv"),
        (["--steps", "0"], "--steps"),
        (["--gate", "xor", "-i", "missing.csv"], "missing.csv"),
    ],
)
def test_bad_input_is_exit_2(cli, args, message):
    cli("backprop", *args).assert_input_error(message)


def test_the_installed_command_in_a_pipe(shell, tmp_path):
    rows = tmp_path / "and.csv"
    rows.write_text("0,0,0\n0,1,0\n1,0,0\n1,1,1\n")
    done = shell(f"nnkit backprop -i {rows} --hidden none --steps 5 | head -c 100000")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)  # JSON in a pipe, one line
    assert report["network"]["sizes"] == [2, 1] and len(report["losses"]) == 6
    assert report["losses"][-1] < report["losses"][0]
