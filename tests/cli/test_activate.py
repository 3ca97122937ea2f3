"""``nnkit activate`` end to end: in-process through CliRunner, and the installed command."""

import json
import math

import numpy as np
import pytest
import scipy.special

from nnkit.nn.activations import ACTIVATIONS


def floats(text: str) -> np.ndarray:
    return np.array([[float(v) for v in line.split(",")] for line in text.strip().splitlines()])


def test_relu_of_positional_numbers_with_negatives(cli):
    run = cli("activate", "relu", "1", "-2", "3", "-1e-3", "-inf")
    assert run.exit_code == 0, run.stderr
    assert run.stdout == "1.0,0.0,3.0,0.0,0.0\n"
    assert run.stderr == ""


def test_course_matrix_with_random_seed(cli):
    run = cli("activate", "relu", "--random", "5x3", "--seed", "42")
    assert run.exit_code == 0, run.stderr
    expected = np.maximum(0, np.random.RandomState(42).randn(5, 3))
    np.testing.assert_array_equal(floats(run.stdout), expected)


def test_softmax_rows_and_axis(cli):
    run = cli("activate", "softmax", "1,2,3;1,1,1", "-f", "json")
    assert run.exit_code == 0, run.stderr
    x = np.array([[1.0, 2, 3], [1, 1, 1]])
    np.testing.assert_allclose(json.loads(run.stdout), scipy.special.softmax(x, axis=1), rtol=1e-15)
    run = cli("activate", "softmax", "1,2,3;1,1,1", "--axis", "0")
    np.testing.assert_allclose(floats(run.stdout), scipy.special.softmax(x, axis=0), rtol=1e-15)


def test_derivatives(cli):
    run = cli("activate", "sigmoid", "-d", "0", "2")
    s = scipy.special.expit(2.0)
    np.testing.assert_allclose(floats(run.stdout), [[0.25, s * (1 - s)]], rtol=1e-14)
    run = cli("activate", "softmax", "--derivative", "0", "0")
    np.testing.assert_allclose(floats(run.stdout), [[0.25, -0.25], [-0.25, 0.25]], rtol=1e-15)
    run = cli("activate", "leaky-relu", "--alpha", "0.2", "-3", "4")
    assert floats(run.stdout).tolist() == [[-0.6000000000000001, 4.0]]


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (("rellu", "1"), "unknown activation function 'rellu'"),
        (("relu", "1", "nan"), "NaN at index 1"),
        (("softmax", "inf", "1"), "undefined for infinite input"),
        (("relu", "--alpha", "0.1", "1"), "--alpha applies only to leaky-relu and elu"),
        (("softmax", "-d", "1,2;3,4"), "needs one vector"),
        (("softmax", "--axis", "3", "1,2"), "--axis must be between"),
        (("relu", "1", "x"), "not a number"),
    ],
)
def test_bad_input_exits_2_with_a_message(cli, args, fragment):
    cli("activate", *args).assert_input_error(fragment)


def test_every_function_runs_and_help_lists_them(cli):
    for name in ACTIVATIONS:
        run = cli("activate", name, "-1", "0.5", "-f", "json")
        assert run.exit_code == 0, (name, run.stderr)
        assert np.allclose(json.loads(run.stdout), ACTIVATIONS[name].fn(np.array([-1, 0.5])))
    help_text = cli("activate", "--help").stdout
    for name in ACTIVATIONS:
        assert name in help_text


def test_plot_writes_a_png(cli, tmp_path):
    target = tmp_path / "gelu.png"
    run = cli("activate", "gelu", "-1", "2", "--plot", str(target), "--range", "-3:3")
    assert run.exit_code == 0, run.stderr
    assert target.read_bytes().startswith(b"\x89PNG")
    assert not list(tmp_path.glob(".*part"))  # no temporary file left behind
    cli("activate", "relu", "1", "--plot", str(tmp_path / "x.jpg")).assert_input_error(".png")
    cli("activate", "relu", "1", "--plot", str(target), "--range", "5:1").assert_input_error("--range")
    # finite but undrawable: high - low overflows, or a width below what an axis can show
    for bad in ("-1e308:1e308", "0:1e-320"):
        cli("activate", "relu", "1", "--plot", str(target), "--range", bad).assert_input_error("cannot be drawn")


def test_installed_command_pipes_and_no_heavy_imports(shell):
    done = shell("nnkit activate relu 1 -2 3 | nnkit activate sigmoid -f json")
    assert done.returncode == 0, done.stderr
    values = json.loads(done.stdout)
    expected = [1 / (1 + math.exp(-v)) for v in (1.0, 0.0, 3.0)]
    np.testing.assert_allclose(values, expected, rtol=1e-15)
    # start-up is a feature: relu must not pull in scipy or matplotlib
    code = (
        "import sys; from nnkit.cli.app import app; from typer.testing import CliRunner; "
        "CliRunner().invoke(app, ['activate', 'relu', '1']); "
        "print(sorted(m for m in ('scipy', 'matplotlib', 'PIL') if m in sys.modules))"
    )
    done = shell(f'python -c "{code}"')
    assert done.stdout.decode().strip() == "[]", done.stderr
    done = shell("nnkit activate softmax nan")
    assert done.returncode == 2
    assert done.stderr.decode().startswith("nnkit: error: ")


def test_a_matrix_too_wide_for_the_terminal_is_listed_element_by_element(cli):
    # ten classes per row at 6 digits do not fit: Rich would cut every number to "0.…"
    run = cli("activate", "softmax", "--random", "3x10", "--seed", "1", "-f", "table")
    assert run.exit_code == 0, run.stderr
    assert "x (3×10) and softmax(x)" in run.stdout
    s = scipy.special.softmax(np.random.RandomState(1).randn(3, 10), axis=1)
    assert f"{s[0, 0]:.6g}" in run.stdout and f"{s[2, 9]:.6g}" in run.stdout
    assert "…" not in run.stdout
    # the course's 5×3 matrix still fits: two matrices, input above output
    run = cli("activate", "relu", "--random", "5x3", "--seed", "42", "-f", "table")
    assert "input x (5×3)" in run.stdout and "relu(x) (5×3)" in run.stdout


def test_plot_alone_with_an_empty_stdin_draws_only_the_picture(shell, tmp_path):
    # a script, `< /dev/null` or a notebook's `!nnkit …`: stdin is no terminal, and empty
    done = shell(f"nnkit activate sigmoid --plot {tmp_path / 's.png'} < /dev/null")
    assert done.returncode == 0, done.stderr
    assert done.stdout == b"" and (tmp_path / "s.png").read_bytes().startswith(b"\x89PNG")
    # without --plot an empty stdin is still an error
    done = shell("nnkit activate sigmoid < /dev/null")
    assert done.returncode == 2 and done.stderr.startswith(b"nnkit: error: stdin is empty")


def test_every_derivative_plot_draws_the_derivative(cli, tmp_path, monkeypatch):
    from matplotlib.figure import Figure

    labels = {}
    save = Figure.savefig

    def record(figure, *args, **kwargs):
        lines = figure.axes[0].lines
        labels["curves"] = [line.get_label() for line in lines if not line.get_label().startswith("_")]
        labels["title"] = figure.axes[0].get_title()
        return save(figure, *args, **kwargs)

    monkeypatch.setattr(Figure, "savefig", record)
    for name in ACTIVATIONS:
        run = cli("activate", name, "-d", "1", "--plot", str(tmp_path / f"{name}.png"))
        assert run.exit_code == 0, (name, run.stderr)
        assert labels["title"].endswith("and its derivative")
        assert len(labels["curves"]) == 2, (name, labels)


def test_plot_keeps_the_range_and_says_which_inputs_fall_outside(cli, tmp_path, monkeypatch):
    from matplotlib.figure import Figure

    seen = {}
    save = Figure.savefig

    def record(figure, *args, **kwargs):
        seen["xlim"] = figure.axes[0].get_xlim()
        return save(figure, *args, **kwargs)

    monkeypatch.setattr(Figure, "savefig", record)
    # an input at 1e300 would otherwise stretch the axis and squash the curve into a line at 0
    run = cli("activate", "sigmoid", "1e300", "-2", "--plot", str(tmp_path / "s.png"))
    assert run.exit_code == 0, run.stderr
    assert seen["xlim"] == (-5.0, 5.0)
    assert "1 input(s) outside --range -5:5 are not marked" in run.stderr


def test_plot_alone_with_an_output_file_is_not_picture_only(shell, tmp_path):
    # -o asks for a result: with no numbers that is an error, not a silently missing file
    done = shell(f"nnkit activate relu --plot {tmp_path / 'r.png'} -o {tmp_path / 'r.csv'} < /dev/null")
    assert done.returncode == 2 and done.stderr.startswith(b"nnkit: error: stdin is empty")
    assert not (tmp_path / "r.csv").exists()
