"""nnkit optimize end to end: JSON paths against torch.optim's rules, the table, CSV, the plot, errors."""

import json

import numpy as np
import pytest

from nnkit.course.optimizer_race import SURFACES
from tests.course.test_optimizer_race import torch_reference


def test_json_has_every_path_equal_to_torch_optim(cli):
    run = cli("optimize", "--function", "rosenbrock", "-f", "json")
    assert run.exit_code == 0, run.stderr
    report = json.loads(run.stdout)
    s = SURFACES["rosenbrock"]
    assert report["start"] == [-1.5, 2.0] and report["minimum"] == [1.0, 1.0]
    assert [p["optimizer"] for p in report["paths"]] == ["sgd", "momentum", "adagrad", "rmsprop", "adam"]
    for path in report["paths"]:
        lr, steps = s.settings[path["optimizer"]]
        reference = torch_reference(path["optimizer"], s.gradient, (-1.5, 2.0), lr, steps)
        np.testing.assert_allclose(path["points"], reference, rtol=1e-12, atol=1e-12)
        assert path["final"] == path["points"][-1]
        values = np.array(path["values"])
        reached = path["steps_to_tol"]
        if reached is None:
            assert values.min() > 0.01
        else:
            assert values[reached] <= 0.01 and values[:reached].min() > 0.01


def test_options_override_the_defaults(cli):
    run = cli("optimize", "--optimizer", "sgd,adam", "--optimizer", "momentum", "--lr", "0.05", "--steps", "7",
              "--start", "3,-1", "-f", "json")
    report = json.loads(run.stdout)
    assert [p["optimizer"] for p in report["paths"]] == ["sgd", "adam", "momentum"]
    for path in report["paths"]:
        assert path["lr"] == 0.05 and path["steps"] == 7 and len(path["points"]) == 8
        np.testing.assert_allclose(
            path["points"], torch_reference(path["optimizer"], SURFACES["bowl"].gradient, (3.0, -1.0), 0.05, 7),
            rtol=1e-12, atol=1e-15,
        )


def test_csv_is_one_line_per_point(cli):
    run = cli("optimize", "--optimizer", "sgd", "--steps", "2", "--lr", "0.5", "-f", "csv")
    assert run.stdout.splitlines() == [
        "optimizer,step,x,y,f",
        "sgd,0,-7.0,2.0,6.45",
        f"sgd,1,-6.65,0.0,{6.65**2 / 20!r}",  # x - 0.5·x/10, y - 0.5·2y
        f"sgd,2,{-6.65 + 0.5 * 0.665!r},0.0,{(-6.65 + 0.5 * 0.665) ** 2 / 20!r}",
    ]


def test_table(cli):
    run = cli("optimize", "-f", "table")
    assert run.exit_code == 0
    assert "x²/20 + y² from (-7, 2)" in run.stdout
    for name in SURFACES["bowl"].settings:
        assert name in run.stdout
    assert "not reached" in run.stdout and "within tol" in run.stdout


def test_the_table_says_momentum_only_touched_the_tolerance_on_the_bowl(cli):
    # momentum's f dips to 0.0095 at step 24 and rises again (0.048 at step 30): touched, not stayed
    report = json.loads(cli("optimize", "-f", "json").stdout)
    momentum = next(p for p in report["paths"] if p["optimizer"] == "momentum")
    values = np.array(momentum["values"])
    assert momentum["steps_to_tol"] == 24 and values[24] == pytest.approx(0.0095, abs=5e-5)
    assert momentum["below_tol_from"] is None and values[-1] == pytest.approx(0.048, abs=5e-4)
    adagrad = next(p for p in report["paths"] if p["optimizer"] == "adagrad")
    assert adagrad["below_tol_from"] == adagrad["steps_to_tol"] == 20 and (np.array(adagrad["values"])[20:] <= 0.01).all()
    table = cli("optimize", "-f", "table").stdout  # 100 columns in a pipe: a cell may wrap
    assert "touched 24," in table and "ended above" in table and "stays from 20" in table


def test_on_styblinski_tang_sgd_stops_in_the_local_minimum_and_momentum_reaches_the_global(cli):
    report = json.loads(cli("optimize", "--function", "styblinski-tang", "-f", "json").stdout)
    ends = {p["optimizer"]: p for p in report["paths"]}
    # the roots of 4t³ - 32t + 5 (each coordinate's flat points), by NumPy's polynomial solver
    deep, _, shallow = np.sort(np.roots([4.0, 0.0, -32.0, 5.0]).real)
    assert ends["sgd"]["final"] == pytest.approx([shallow, deep], abs=1e-6) and ends["sgd"]["ends_in"] == "local"
    assert ends["momentum"]["final"] == pytest.approx([deep, deep], abs=1e-4)
    assert ends["momentum"]["ends_in"] == "global"
    assert report["f_min"] == pytest.approx(deep**4 - 16 * deep**2 + 5 * deep)
    table = cli("optimize", "--function", "styblinski-tang", "-f", "table").stdout
    assert "ends in" in table and "極小値" in table


def test_divergence_is_a_note_not_a_warning(cli):
    run = cli("optimize", "--function", "rosenbrock", "--optimizer", "sgd", "--lr", "100", "-f", "json")
    assert run.exit_code == 0
    assert "sgd diverged after" in run.stderr and "lower --lr" in run.stderr
    assert json.loads(run.stdout)["paths"][0]["diverged"] is True


def test_plot(cli, tmp_path):
    path = tmp_path / "race.png"
    run = cli("optimize", "--plot", str(path), "-q", "-f", "json")
    assert run.exit_code == 0, run.stderr
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_pipe_default_is_json(shell):
    run = shell("nnkit optimize --optimizer adam --steps 3 | python -c 'import json,sys; print(len(json.load(sys.stdin)[\"paths\"][0][\"points\"]))'")
    assert run.returncode == 0, run.stderr
    assert run.stdout.decode().strip() == "4"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--function", "himmel"], "unknown function 'himmel'"),
        (["--optimizer", "nadam"], "unknown optimizer 'nadam'"),
        (["--optimizer", "sgd,sgd"], "--optimizer sgd is given twice"),
        (["--lr", "0"], "--lr must be a positive number"),
        (["--lr", "nan"], "--lr must be a positive number"),
        (["--steps", "-1"], "--steps must be between 0 and 1000000"),
        (["--start", "1"], "--start takes a point X,Y"),
        (["--start", "nan,1"], "--start must be two finite numbers"),
        (["--start", "1e300,1e300"], "--start (1e+300, 1e+300) is too far out"),
        (["--tol", "0"], "--tol must be a positive number"),
        (["--plot", "race.jpg"], "--plot writes a PNG"),
    ],
)
def test_bad_input_is_exit_2(cli, args, message):
    cli("optimize", *args).assert_input_error(message)


def test_the_plot_keeps_a_far_start_and_the_minimum_in_view():
    # the view widens at most a few times the surface's region for paths that wander off, but the
    # start and the minimum are marked: they must stay inside it (a start at y = -20 was cut off)
    from nnkit.course.optimizer_race import descend
    from nnkit.plots.optimizer_race import optimize_figure

    s = SURFACES["bowl"]
    start = (30.0, -20.0)
    paths = [descend(s, name, start) for name in s.settings]
    figure = optimize_figure(s, paths, start, 0.01)
    axis = figure.axes[0]
    (x0, x1), (y0, y1) = axis.get_xlim(), axis.get_ylim()
    for x, y in (start, s.minimum):  # inside, and not on the edge where half the marker is cut off
        assert x0 + 0.03 * (x1 - x0) < x < x1 - 0.03 * (x1 - x0), (x, (x0, x1))
        assert y0 + 0.03 * (y1 - y0) < y < y1 - 0.03 * (y1 - y0), (y, (y0, y1))
    import matplotlib.pyplot as plt

    plt.close(figure)


def test_a_path_of_one_point_is_still_drawn_in_the_curve():
    from nnkit.course.optimizer_race import descend
    from nnkit.plots.optimizer_race import optimize_figure

    s = SURFACES["bowl"]
    figure = optimize_figure(s, [descend(s, "sgd", s.start, steps=0)], s.start, 0.01)
    (line,) = figure.axes[1].get_lines()[:1]
    assert len(line.get_xdata()) == 1 and line.get_marker() not in (None, "None", "")
    import matplotlib.pyplot as plt

    plt.close(figure)
