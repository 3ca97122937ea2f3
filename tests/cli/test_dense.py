"""nnkit dense end to end: the course's [1 x]·[b; W] table, machine formats, pipes and errors."""

import io
import json

import numpy as np
import pytest

from nnkit.nn.activations import sigmoid

W3 = "0.1,0.2,0.3;0.4,0.5,0.6;0.7,0.8,0.9"  # one row per input, one column per unit


def test_csv_is_the_activation_of_x_w_plus_b(cli):
    run = cli("dense", "1", "2", "3", "--weights", W3, "--bias", "1,0,-1", "-a", "sigmoid")
    assert run.exit_code == 0, run.stderr
    W = np.array([[0.1, 0.2, 0.3], [0.4, 0.5, 0.6], [0.7, 0.8, 0.9]])
    expected = sigmoid(np.array([1.0, 2.0, 3.0]) @ W + np.array([1.0, 0.0, -1.0]))
    np.testing.assert_allclose(np.array(run.stdout.strip().split(","), dtype=float), expected, rtol=0, atol=1e-15)
    # by hand: z = (1 + 0.1 + 0.8 + 2.1, 0 + 0.2 + 1.0 + 2.4, -1 + 0.3 + 1.2 + 2.7) = (4, 3.6, 3.2)
    np.testing.assert_allclose(expected, 1 / (1 + np.exp(-np.array([4.0, 3.6, 3.2]))), rtol=1e-15)


def test_the_table_shows_the_course_labels_and_sums(cli):
    run = cli("dense", "1", "2", "3", "--weights", W3, "--bias", "1,0,-1", "-a", "sigmoid", "-f", "table")
    assert run.exit_code == 0, run.stderr
    out = run.stdout
    assert "[1 x]" in out and "[b; W]" in out
    assert "activation sigmoid(z) = 1 / (1 + exp(-z))" in out  # in z: x is the layer's input here
    for cell in ("b_1 = 1", "b_3 = -1", "w_11 = 0.1", "w_21 = 0.2", "w_31 = 0.3", "w_12 = 0.4", "w_13 = 0.7",
                 "w_33 = 0.9"):
        assert cell in out, cell
    assert "z_1 = 1·b_1 + x_1·w_11 + x_2·w_12 + x_3·w_13" in out
    assert "= 1·1 + 1·0.1 + 2·0.4 + 3·0.7" in out
    assert "= 1·(-1) + 1·0.3 + 2·0.6 + 3·0.9" in out
    assert "h_1 = sigmoid(4) = 0.982014" in out
    assert "h_3 = sigmoid(3.2) = 0.960834" in out


def test_the_formula_is_written_in_z(cli):
    run = cli("dense", "1", "-w", "1,1", "-a", "softmax", "-f", "table")
    assert "softmax(z) = exp(z_k) / Σ_i exp(z_i)" in run.stdout


def test_several_rows_json_and_npy(cli):
    run = cli("dense", "1,2;3,4;5,6", "-w", "1,0;0,1", "-b", "0.5,-0.5", "-f", "json")
    assert json.loads(run.stdout) == [[1.5, 1.5], [3.5, 3.5], [5.5, 5.5]]
    run = cli("dense", "1,2;3,4", "-w", "1;1", "-a", "relu", "-f", "npy")
    np.testing.assert_array_equal(np.load(io.BytesIO(run.stdout_bytes)), [[3.0], [7.0]])


def test_random_weights_are_the_course_generator(cli):
    run = cli("dense", "1,2;3,4", "--random-weights", "--units", "2", "--seed", "42", "-f", "json")
    np.random.seed(42)
    W, b = np.random.randn(2, 2), np.random.randn(2)
    np.testing.assert_allclose(json.loads(run.stdout), np.array([[1, 2], [3, 4]]) @ W + b, rtol=0, atol=1e-15)


def test_chains_into_activate_and_loss(shell, tmp_path):
    (tmp_path / "target.csv").write_text("0,1\n")
    run = shell(
        "nnkit dense 1 2 -w '0.5,-1;2,0.25' -b 0,1 -f npy | nnkit activate softmax -f csv",
        cwd=tmp_path,
    )
    assert run.returncode == 0, run.stderr
    z = np.array([1.0, 2.0]) @ np.array([[0.5, -1.0], [2.0, 0.25]]) + np.array([0.0, 1.0])
    expected = np.exp(z) / np.exp(z).sum()
    np.testing.assert_allclose(np.array(run.stdout.decode().split(","), dtype=float), expected, rtol=1e-15)
    run = shell("nnkit dense 1 2 -w '0.5,-1;2,0.25' -b 0,1 -a softmax | nnkit loss cce --pred - --target 1",
                cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert float(run.stdout) == pytest.approx(-np.log(expected[1] + 1e-7), rel=1e-12)


def test_plot_is_written(cli, tmp_path):
    path = tmp_path / "layer.png"
    run = cli("dense", "1", "2", "3", "-w", W3, "-b", "1,0,-1", "--plot", str(path), "-q")
    assert run.exit_code == 0, run.stderr
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["1", "2"], "dense needs --weights"),
        (["1", "2", "-w", "1,2,3"], "each input row has 2 value(s) but --weights has 1 row(s)"),
        (["1", "-w", "1,2", "-b", "1,2,3"], "--bias has 3 value(s) but --weights has 2 column(s)"),
        (["1", "-w", "1", "-a", "nope"], "unknown activation function 'nope'"),
        (["1", "-w", "1", "--random-weights"], "not with --weights and --random-weights"),
        (["1", "-w", "1", "--units", "3"], "--units applies to --random-weights only"),
        (["1", "-w", "x"], "--weights: not a number: 'x'"),
        (["1", "--random-weights", "--units", "0"], "at least one input and one unit"),
        (["1", "--random-weights", "--units", "2", "-b", "1,2,3"], "--bias has 3 value(s) but --units is 2"),
        (["1", "-w", "1", "--plot", "layer.jpg"], "--plot writes a PNG"),
        (["nan", "-w", "1"], "input contains NaN"),
    ],
)
def test_bad_input_is_exit_2(cli, args, message):
    cli("dense", *args).assert_input_error(message)


@pytest.mark.parametrize(
    "args",
    [
        ["-i", "-", "-w", "-"],
        ["-w", "-"],  # no numbers and no --input: the input is stdin too
        ["1", "2", "-w", "-", "-b", "-"],
        ["--random-weights", "-b", "-"],
    ],
)
def test_only_one_operand_from_stdin(cli, args):
    # stdin can be read once: the second reader used to find it empty ("stdin is empty")
    cli("dense", *args, input="1,2\n3,4\n").assert_input_error("only one of")


def test_many_units_are_labelled_h_1_to_n(cli):
    # too many units for z beside h: the h table keeps the course's 1-based h_j, not 0, 1, …
    run = cli("dense", "1", "2", "--random-weights", "--units", "7", "--seed", "0", "-f", "table")
    assert run.exit_code == 0, run.stderr
    h_table = run.stdout[run.stdout.rindex("activation h"):]
    assert "h_1" in h_table and "h_7" in h_table
