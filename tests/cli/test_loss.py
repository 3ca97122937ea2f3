"""``nnkit loss`` end to end: the course's numbers, pipes, gradients and bad input."""

import json
import math

import numpy as np
import pytest
import scipy.special

from nnkit.nn.losses import LOSS_ALIASES, LOSSES

Y = "0.01,0.03,0.7,0.1,0.01,0.01,0.01,0.02,0.1,0.01"
YA = np.array([float(v) for v in Y.split(",")])


@pytest.mark.parametrize("label", [2, 5])
def test_course_numbers(cli, label):
    t = np.eye(10)[label]
    sse = cli("loss", "sse", "--pred", Y, "--target", str(label))
    cce = cli("loss", "cce", "--pred", Y, "--target", ",".join(str(int(v)) for v in t))
    assert sse.exit_code == 0 and cce.exit_code == 0, (sse.stderr, cce.stderr)
    assert float(sse.stdout) == pytest.approx(0.5 * np.sum((YA - t) ** 2), abs=1e-12)
    assert float(cce.stdout) == pytest.approx(-math.log(YA[label] + 1e-7), abs=1e-12)
    assert sse.stdout.count("\n") == 1  # machine formats print only the number


def test_target_from_stdin_and_from_a_file(cli, tmp_path):
    run = cli("loss", "cross-entropy", "--pred", Y, "--target", "-", input="0,0,1,0,0,0,0,0,0,0\n")
    assert float(run.stdout) == pytest.approx(-math.log(0.7 + 1e-7), abs=1e-12)
    preds = tmp_path / "preds.csv"
    preds.write_text("0.2,0.8\n0.6,0.4\n")
    run = cli("loss", "mse", "--pred", str(preds), "--target", "1;0", "--reduction", "none")
    # target "1;0" is a column of class indices for 2 samples
    np.testing.assert_allclose(
        [float(v) for v in run.stdout.split(",")], [(0.04 + 0.04) / 2, (0.16 + 0.16) / 2], rtol=1e-14
    )


def test_from_logits_and_gradient(cli):
    z = np.array([[2.0, -1.0, 0.5], [0.0, 3.0, -2.0]])
    pred = "2,-1,0.5;0,3,-2"
    run = cli("loss", "cce", "--pred", pred, "--target", "0,2", "--from-logits", "-f", "json")
    expected = -scipy.special.log_softmax(z, axis=1)[[0, 1], [0, 2]].mean()
    assert json.loads(run.stdout) == pytest.approx(expected, rel=1e-14)
    run = cli("loss", "cce", "--pred", pred, "--target", "0,2", "--from-logits", "-g", "-f", "json")
    grad = (scipy.special.softmax(z, axis=1) - np.eye(3)[[0, 2]]) / 2
    np.testing.assert_allclose(json.loads(run.stdout), grad, rtol=1e-13, atol=1e-16)
    run = cli("loss", "sse", "--pred", "0.3,0.7", "--target", "0,1", "-g", "--reduction", "sum")
    assert run.stdout == "0.3,-0.30000000000000004\n"


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (("hinge", "--pred", "1", "--target", "1"), "unknown loss 'hinge'"),
        (("sse", "--pred", "1,2", "--target", "1,2,3"), "--pred has shape (2,) but --target"),
        (("bce", "--pred", "0.2,1.3", "--target", "0,1"), "probabilities in [0, 1] for bce"),
        (("cce", "--pred", "0.5,-0.5", "--target", "0"), "probabilities in [0, 1] for cce"),
        (("mse", "--pred", "1,nan", "--target", "1,2"), "--pred contains NaN"),
        (("cce", "--pred", Y, "--target", "10"), "class index 10 is out of range"),
        (("sse", "--pred", "missing.csv", "--target", "1"), "no such file"),
        (("sse", "--pred", "1,x", "--target", "1"), "not a number"),
        (("sse", "--pred", "-", "--target", "-"), "only one of --pred and --target"),
        (("sse", "--pred", "1", "--target", "1", "--reduction", "avg"), "--reduction must be"),
        (("sse", "--pred", "", "--target", "1"), "--pred is empty"),
        (("sse", "--pred", "1", "--target", " "), "--target is empty"),
    ],
)
def test_bad_input_exits_2(cli, args, fragment):
    cli("loss", *args, input="1\n").assert_input_error(fragment)


def test_help_lists_every_kind(cli):
    text = cli("loss", "--help").stdout
    for name in [*LOSSES, *LOSS_ALIASES]:
        assert name in text


def test_plot_for_every_kind(cli, tmp_path):
    for name in LOSSES:
        target = tmp_path / f"{name}.png"
        run = cli("loss", name, "--pred", "0.2,0.8;0.6,0.4", "--target", "1,0", "--plot", str(target))
        assert run.exit_code == 0, (name, run.stderr)
        assert target.read_bytes().startswith(b"\x89PNG")


def test_terminal_view_shows_the_pieces(cli):
    # FORCE a table through -f table: the pieces, t and the total appear
    run = cli("loss", "cce", "--pred", Y, "--target", "2", "-f", "table")
    assert run.exit_code == 0, run.stderr
    assert "contribution" in run.stdout
    assert "0.356675" in run.stdout
    assert "cce = 0.356675" in run.stdout


def test_terminal_view_with_logits_names_z(cli):
    # the gradient is with respect to the logits z, and no δ enters the formula
    run = cli("loss", "cce", "--pred", "2,-1,0.5", "--target", "0", "--from-logits", "-g", "-f", "table")
    assert run.exit_code == 0, run.stderr
    assert "∂L/∂z" in run.stdout and "∂L/∂y" not in run.stdout
    assert "log softmax(z)_k" in run.stdout and "δ" not in run.stdout
    run = cli("loss", "bce", "--pred", "0.3", "--target", "1", "--reduction", "none", "-f", "table")
    assert "bce per sample = 1.20397\n" in run.stdout


def test_course_pipeline_through_the_installed_command(shell):
    done = shell(f'nnkit onehot 2 --classes 10 -f csv | nnkit loss cce --pred "{Y}" --target -')
    assert done.returncode == 0, done.stderr
    assert float(done.stdout) == pytest.approx(0.35667480108, abs=1e-10)
    assert done.stdout.decode().startswith("0.356674801")
    done = shell(f'nnkit onehot 5 --classes 10 -f csv | nnkit loss sse --pred "{Y}" --target -')
    assert float(done.stdout) == pytest.approx(0.7459, abs=1e-12)
    done = shell('nnkit loss bce --pred "0.2,1.5" --target "0,1"')
    assert done.returncode == 2
    assert done.stderr.decode().startswith("nnkit: error: --pred must be probabilities")


def test_plots_keep_the_curves_readable(cli, tmp_path, monkeypatch):
    from matplotlib.figure import Figure

    seen = {}
    save = Figure.savefig

    def record(figure, *args, **kwargs):
        ax = figure.axes[0]
        seen["ylim"] = ax.get_ylim()
        seen["first"] = (ax.lines[0].get_xdata()[0], ax.lines[0].get_ydata()[0])
        return save(figure, *args, **kwargs)

    monkeypatch.setattr(Figure, "savefig", record)
    # bce of y = 0 for t = 1 is PyTorch's clamped 100: drawn at the top edge, not squashing the curves
    run = cli("loss", "bce", "--pred", "0.9,0.2,0", "--target", "1,0,1", "--plot", str(tmp_path / "b.png"))
    assert run.exit_code == 0, run.stderr
    assert 6 < seen["ylim"][1] < 8
    # the course's cross-entropy figure starts at y = 0, where -log(0 + δ) = 16.1
    run = cli("loss", "cce", "--pred", Y, "--target", "2", "--plot", str(tmp_path / "c.png"))
    assert run.exit_code == 0, run.stderr
    assert seen["first"] == (0.0, pytest.approx(-math.log(1e-7), rel=1e-12))


def test_a_column_read_as_samples_points_to_the_courses_number(cli):
    column = Y.replace(",", ";")  # the course's ya = np.array([[0.01], [0.03], …]), 10×1
    t2 = ";".join("1" if i == 2 else "0" for i in range(10))
    run = cli("loss", "sse", "--pred", column, "--target", t2, "--column", "samples", "--reduction", "sum")
    assert float(run.stdout) == pytest.approx(0.0559, abs=1e-12) and run.stderr == ""
    # with the default mean over 10 samples of one output, the terminal points to the course's number
    run = cli("loss", "sse", "--pred", column, "--target", t2, "--column", "samples", "-f", "table")
    assert "sse = 0.00559  (mean over 10 samples)" in run.stdout
    assert "the course's sse is their sum: 0.0559 (without --column samples)" in " ".join(run.stdout.split())


def test_plot_of_a_huge_difference_has_a_finite_curve(cli, tmp_path):
    # (1e300)² overflows: the loss is inf, and the curve is drawn where it is finite, quietly
    run = cli("loss", "sse", "--pred", "1e300", "--target", "0", "--plot", str(tmp_path / "s.png"))
    assert run.exit_code == 0, run.stderr
    assert run.stdout == "inf\n" and "Warning" not in run.stderr


def test_terminal_view_never_cuts_a_number(cli):
    # 17 digits in seven columns are wider than the terminal: numbers fold, never end in "…"
    args = ("cce", "--pred", "2,-1,0.5;0,3,-2", "--target", "0,2", "--from-logits", "-g")
    run = cli("loss", *args, "--precision", "17", "-f", "table")
    assert run.exit_code == 0, run.stderr
    assert "…" not in run.stdout
