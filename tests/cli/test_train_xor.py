"""``nnkit train-xor`` end to end: the JSON report, the course's explanation, --wired, --save, --plot."""

import json

import numpy as np
import pytest

from nnkit.course.logic_gates import INPUTS
from nnkit.files.model_file import load_model

SPEC_KEYS = {"gate", "accuracy", "final_loss", "epochs", "truth_table", "hidden_gates", "weights"}
XOR = [0, 1, 1, 0]


def report(run) -> dict:
    assert run.exit_code == 0, run.stderr
    return json.loads(run.stdout)


def test_default_run_learns_xor_and_reports_spec_json(cli):
    result = report(cli("train-xor", "-f", "json"))
    assert set(result) >= SPEC_KEYS
    assert result["gate"] == "xor" and result["accuracy"] == 1.0 and result["epochs"] == 2000
    assert result["final_loss"] < 0.01
    rows = result["truth_table"]
    assert [(r["x1"], r["x2"]) for r in rows] == [(0, 0), (0, 1), (1, 0), (1, 1)]
    assert [r["target"] for r in rows] == XOR == [r["prediction"] for r in rows]
    assert all((r["output"] >= 0.5) == bool(r["prediction"]) for r in rows)
    assert set(result["weights"]) == {"W0", "b0", "W1", "b1"}
    assert np.array(result["weights"]["W0"]).shape == (2, 2)
    assert len(result["hidden_gates"]) == 2


def test_pipe_default_is_json(cli):
    assert report(cli("train-xor", "--epochs", "10"))["epochs"] == 10


def test_output_matches_the_saved_weights(cli, tmp_path):
    model = tmp_path / "xor.npz"
    result = report(cli("train-xor", "--seed", "4", "--save", str(model), "-f", "json"))
    network, meta = load_model(model)
    np.testing.assert_array_equal(network.dense_layers[0].W, result["weights"]["W0"])
    outputs = network.predict_proba(INPUTS)[:, 0]
    assert outputs.tolist() == [row["output"] for row in result["truth_table"]]
    assert meta["gate"] == "xor" and [c.get("units") for c in meta["layers"]] == [2, None, 1] and meta["options"]["seed"] == 4


def test_hidden_units_are_named_as_the_course_does(cli):
    # Seed 10 learns s1 = NAND, s2 = OR, y = AND(s1, s2): the course's network, found by training.
    result = report(cli("train-xor", "--seed", "10", "-f", "json"))
    assert sorted(result["hidden_gates"]) == ["NAND", "OR"]
    assert result["output_gate"] == "AND(h1, h2)"
    table = cli("train-xor", "--seed", "10", "-f", "table").stdout
    assert "≈ NAND(x1, x2)" in table and "≈ OR(x1, x2)" in table and "y ≈ AND(h1, h2)" in table
    assert table.count("✓") == 4 and "learned 4/4" in table


def test_no_hidden_fails_xor_and_says_why(cli):
    result = report(cli("train-xor", "--hidden", "none", "-f", "json"))
    assert result["accuracy"] < 1.0 and result["hidden_gates"] == []
    assert result["linearly_separable"] is False and set(result["weights"]) == {"W0", "b0"}
    table = cli("train-xor", "--hidden", "none", "-f", "table").stdout
    assert "not linearly separable" in table and "✗" in table
    # the way out it names is the dialect's own spelling, not the old --no-hidden
    assert "(--hidden 2)" in " ".join(table.split()) and "no-hidden" not in table


@pytest.mark.parametrize("gate", ["and", "or", "nand", "nor"])
def test_separable_gates_are_learned_without_hidden_layer(cli, gate):
    result = report(cli("train-xor", "--gate", gate, "--hidden", "none", "--epochs", "300", "-f", "json"))
    assert result["accuracy"] == 1.0 and result["linearly_separable"] is True


@pytest.mark.parametrize(
    ("args", "gate"),
    [(("--gate", "xnor"), "xnor"), (("--activation", "tanh", "--hidden", "4"), "xor"),
     (("--optimizer", "adam", "--hidden", "4"), "xor")],
)
def test_other_gates_activations_and_optimizers(cli, args, gate):
    result = report(cli("train-xor", *args, "-f", "json"))
    assert result["gate"] == gate and result["accuracy"] == 1.0


def test_same_seed_gives_identical_output(cli):
    first = cli("train-xor", "--seed", "7", "--epochs", "300", "-f", "json")
    second = cli("train-xor", "--seed", "7", "--epochs", "300", "-f", "json")
    assert first.stdout == second.stdout
    other = cli("train-xor", "--seed", "8", "--epochs", "300", "-f", "json")
    assert other.stdout != first.stdout


def test_wired_shows_the_courses_network(cli):
    result = report(cli("train-xor", "--wired", "-f", "json"))
    assert [r["s1"] for r in result["truth_table"]] == [1, 1, 1, 0]
    assert [r["s2"] for r in result["truth_table"]] == [0, 1, 1, 1]
    assert [r["prediction"] for r in result["truth_table"]] == XOR
    assert result["hidden_gates"] == ["NAND", "OR"] and result["output_gate"] == "AND(s1, s2)"
    table = cli("train-xor", "--wired", "-f", "table").stdout
    assert "s1 = NAND" in table and "AND(s1, s2)" in table
    assert "中間層" in table and "隠れ層" in table


def test_wired_has_the_courses_gates_with_every_weight_1(cli):
    result = report(cli("train-xor", "--wired", "-f", "json"))
    gates = result["ones_gates"]
    # the course's table (2-3): NOT(x2), OR, AND, NAND over (0,0) (0,1) (1,0) (1,1); NOT on 0, 1
    assert gates["NOT"]["truth_table"] == [1, 0]
    assert gates["OR"]["truth_table"] == [0, 1, 1, 1]
    assert gates["AND"]["truth_table"] == [0, 0, 0, 1]
    assert gates["NAND"]["truth_table"] == [1, 1, 1, 0]
    assert all(set(g["weights"]) == {1.0} for g in gates.values())
    assert result["ones_network"] == {"s1": [1, 1, 1, 0], "s2": [0, 1, 1, 1], "y": XOR}
    table = cli("train-xor", "--wired", "-f", "table").stdout
    assert "x1 + x2 < 1.5" in table and "NOT" in table


def test_the_hidden_space_is_the_hidden_layers_output(cli):
    result = report(cli("train-xor", "--epochs", "300", "-f", "json"))
    W0, b0 = np.array(result["weights"]["W0"]), np.array(result["weights"]["b0"])
    x = np.array([[r["x1"], r["x2"]] for r in result["truth_table"]], dtype=float)
    np.testing.assert_allclose(result["hidden_space"], 1 / (1 + np.exp(-(x @ W0 + b0))), rtol=1e-12)


def test_csv_is_the_truth_table(cli):
    run = cli("train-xor", "--seed", "1", "-f", "csv")
    header, *lines = run.stdout.splitlines()
    assert header == "x1,x2,target,output,prediction"  # a report's CSV names its columns
    rows = np.array([line.split(",") for line in lines], dtype=float)
    assert rows.shape == (4, 5)
    assert rows[:, 2].tolist() == XOR and rows[:, 4].tolist() == XOR


def test_plot_writes_a_png(cli, tmp_path):
    for extra in ([], ["--wired"]):
        path = tmp_path / f"regions{len(extra)}.png"
        run = cli("train-xor", "--epochs", "50", "--plot", str(path), *extra, "-f", "json")
        assert run.exit_code == 0, run.stderr
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert f"wrote {path}" in run.stderr


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (("--epochs", "0"), "--epochs"),
        (("--optimizer", "lbfgs"), "unknown optimizer"),
        (("--hidden", "x"), "--hidden"),
        (("--gate", "implies"), "--gate"),
        (("-f", "npy"), "'npy' is not one of 'table', 'json', 'csv', 'tsv'"),  # help never offers npy
        (("--hidden", "3,2"), "one hidden layer"),
        (("-o", "report.txt"), ".json, .csv or .tsv"),
        (("--save", "/nonexistent-folder/m.npz", "--epochs", "5"), "does not exist"),
        (("--plot", "out.jpg", "--epochs", "5"), "--plot writes .png files"),
        (("--lr", "-1"), "--lr"),
        (("--wired", "--save", "m.npz"), "--save"),
        (("--save", "m.txt"), "does not end in .npz"),
        (("--seed", "-1"), "--seed"),
    ],
)
def test_bad_input_is_exit_2(cli, args, fragment):
    cli("train-xor", *args).assert_input_error(fragment)


def test_installed_command_prints_json(shell):
    done = shell("nnkit train-xor --gate nand -f json | head -c 100000")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["gate"] == "nand" and result["accuracy"] == 1.0
    assert done.stderr == b""  # no progress bar in a pipe


def test_ctrl_c_stops_cleanly_writes_save_and_exits_130(cli, tmp_path, monkeypatch):
    from nnkit.term.progress import EpochProgress

    def interrupt_at_epoch_5(self, row):
        if row["epoch"] == 5:
            raise KeyboardInterrupt

    monkeypatch.setattr(EpochProgress, "update", interrupt_at_epoch_5)
    model = tmp_path / "partial.npz"
    run = cli("train-xor", "--save", str(model), "-f", "json")
    assert run.exit_code == 130
    result = json.loads(run.stdout)
    assert result["interrupted"] is True and result["epochs"] == 5
    _, meta = load_model(model)
    assert meta["epochs_run"] == 5


@pytest.mark.parametrize(("isatty", "quiet", "drawn"), [(True, False, True), (False, False, False), (True, True, False)])
def test_progress_bar_only_on_a_terminal(isatty, quiet, drawn):
    import io
    import sys

    from nnkit.course.logic_gates import train_gate
    from nnkit.term.env import Environment
    from nnkit.term.progress import EpochProgress

    err = io.StringIO()
    env = Environment(stdin=sys.stdin, stdout=io.StringIO(), stderr=err, stdin_isatty=False,
                      stdout_isatty=False, stderr_isatty=isatty, quiet=quiet)
    with EpochProgress(env, 30, description="train-xor xor") as progress:
        train_gate("xor", epochs=30, on_epoch=progress.update)
    text = err.getvalue()
    assert ("train-xor xor" in text and "30/30" in text and "loss" in text) == drawn
    assert drawn or text == ""


def test_saved_model_predicts_the_truth_table_with_nnkit_predict(cli, tmp_path):
    model = tmp_path / "xor.npz"
    result = report(cli("train-xor", "--save", str(model), "-f", "json"))
    run = cli("predict", str(model), "0,0;0,1;1,0;1,1", "-f", "csv")
    assert run.exit_code == 0, run.stderr
    rows = [line.split(",") for line in run.stdout.splitlines()[1:]]
    assert [int(row[0]) for row in rows] == XOR
    outputs = [row["output"] for row in result["truth_table"]]
    np.testing.assert_allclose([float(row[2]) for row in rows], outputs, rtol=1e-6)


@pytest.mark.parametrize("content", [b"PK\x03\x04 truncated", b"not an archive"])
def test_corrupt_model_file_is_exit_2(cli, tmp_path, content):
    path = tmp_path / "bad.npz"
    path.write_bytes(content)
    cli("predict", str(path), "0,1").assert_input_error("is not an nnkit model: not an .npz archive")


def test_foreign_npz_is_exit_2(cli, tmp_path):
    path = tmp_path / "foreign.npz"
    np.savez(path, x_train=np.zeros((2, 2)))
    cli("predict", str(path), "0,1").assert_input_error("not an nnkit model")


def test_no_hidden_keeps_working_for_one_release_with_a_note(cli):
    old = cli("train-xor", "--no-hidden", "--epochs", "50", "-f", "json")
    new = cli("train-xor", "--hidden", "none", "--epochs", "50", "-f", "json")
    assert old.exit_code == new.exit_code == 0
    assert old.stdout == new.stdout
    assert "--no-hidden is now --hidden none" in old.stderr
    assert new.stderr == ""


def test_report_goes_to_o_by_extension_and_json_down_a_pipe(cli, tmp_path):
    piped = cli("train-xor", "--epochs", "50")  # no -f, stdout not a terminal: the report as JSON
    assert json.loads(piped.stdout)["epochs"] == 50
    cli("train-xor", "--epochs", "50", "-o", str(tmp_path / "r.json"))
    assert json.loads((tmp_path / "r.json").read_text()) == json.loads(piped.stdout)
    run = cli("train-xor", "--epochs", "50", "-o", str(tmp_path / "r.csv"), "-f", "json")
    lines = (tmp_path / "r.csv").read_text().splitlines()
    assert lines[0] == "x1,x2,target,output,prediction" and len(lines) == 5
    assert f"nnkit: wrote {tmp_path / 'r.csv'}" in run.stderr


def test_progress_lines_logs_a_line_each_tenth_of_the_run(shell):
    run = shell("nnkit train-xor --epochs 100 --progress lines -f json")
    assert run.returncode == 0, run.stderr
    lines = run.stderr.decode().splitlines()
    assert [line.split()[2] for line in lines] == [f"{10 * k}/100" for k in range(1, 11)]
    assert "\r" not in run.stderr.decode()
    assert shell("nnkit train-xor --epochs 100 --progress none -f json").stderr == b""
