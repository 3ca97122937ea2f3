"""One dialect for every command (docs/conventions.md, "Options").

The first tests read every command's parameters, as the command line sees them, and fail when two
commands spell one meaning differently, or one spelling differently. The others check the behaviour
the spellings promise: what a pipe gets, inline matrices, "did you mean" and the old spellings.
"""

from __future__ import annotations

import json
from collections import defaultdict

import numpy as np
import pytest
from scipy import signal
from skimage.measure import block_reduce
from typer.main import get_command_from_info
from typer.models import CommandInfo

from nnkit.cli import common
from nnkit.cli.app import COMMANDS, command_function
from tests.conftest import ROOT, SAMPLES


def _command(name: str):
    return get_command_from_info(CommandInfo(name=name, callback=command_function(name)),
                                 pretty_exceptions_short=True, rich_markup_mode=None)


def _visible_options() -> dict[str, dict[str, object]]:
    """Every visible option: long name → {command: the click parameter}."""
    found: dict[str, dict[str, object]] = defaultdict(dict)
    for name in COMMANDS:
        for param in _command(name).params:
            if param.param_type_name == "option" and not param.hidden:
                long = next(opt for opt in param.opts if opt.startswith("--"))
                found[long][name] = param
    return found


OPTIONS = _visible_options()


def _declared(alias) -> dict:
    """The click parameter an ``Annotated`` alias of cli/common.py declares, for comparison."""
    import typer

    def probe(value=None) -> None:
        pass

    probe.__annotations__ = {"value": alias, "return": None}
    app = typer.Typer()
    app.command()(probe)
    param = typer.main.get_command(app).params[0]
    return _spelling(param)


#: Options whose help is the same words everywhere (the rest say what this command reads or draws).
SAME_HELP = {"--format", "--seed", "--precision", "--quiet", "--random"}


def _spelling(param) -> dict:
    long = next(opt for opt in param.opts if opt.startswith("--"))
    return {"opts": sorted(param.opts), "flag": param.is_flag, "type": str(param.type),
            "metavar": param.metavar, "help": param.help if long in SAME_HELP else None}


#: The vocabulary: each meaning's one spelling, declared once in cli/common.py.
VOCABULARY = {
    "--input": [common.Input],
    "--seed": [common.Seed],
    "--random": [common.Random],
    "--precision": [common.Precision],
    "--quiet": [common.Quiet],
    "--progress": [common.Progress],
    # arrays (CSV in a pipe), reports (JSON), or explain's report with its maps (JSON; one map as an array)
    "--format": [common.Format, common.ReportFormat, common.MapsFormat],
}
#: Commands whose -f/--format is the array one (CSV in a pipe); every other -f is a report's (JSON).
ARRAY_COMMANDS = {"dense", "activate", "loss", "onehot", "reshape", "convolve", "pool", "predict"}
#: Commands whose report holds arrays, one of which -f csv/tsv/npy prints (explain: one map).
MAPS_COMMANDS = {"explain"}

#: Options of one spelling whose type or default differ between commands, and why that is right.
SETTINGS_THAT_DIFFER = {
    "--activation": "each command's own default and choices (a layer's activation, the hidden layers')",
    "--batch-size": "each training command's default (32 for train-mlp, the course model's for train)",
    "--data": "training data (default digits) or data to classify (none by default)",
    "--epochs": "each command's default (2000 steps for a gate, 50 epochs, the course model's)",
    "--optimizer": "optimize races several; the training commands take one with their own default",
    "--val-from": "train takes the course model's setting unless given",
    "--val-split": "train takes the course model's setting unless given",
    "--size": "convolve: a named filter's size (one number); pool: the window, N or ROWS,COLS",
    "--stride": "convolve: one step; pool: N or ROWS,COLS (default: the window)",
    "--output": "what is written names its file: PATH, or OUT.onnx for export",
    "--plot": "each picture's help says what it draws",
    "--hidden": "each command's default size",
    "--patch": "a square of the image: where it is in convolve (ROW,COL), how large it is in explain's occlusion",
}
#: Spellings of the vocabulary's meanings that must not come back (old ones stay hidden for a release).
RETIRED = {"--features": "--plot", "--no-hidden": "--hidden none", "--save-plot": "--plot", "--png": "--plot",
           "--out": "--output", "--in": "--input", "--fmt": "--format", "--digits-png": "--plot",
           "--silent": "--quiet", "--digits-out": "--plot", "--random-seed": "--seed"}


@pytest.mark.parametrize("long", sorted(VOCABULARY))
def test_the_vocabulary_is_declared_once_and_used_as_declared(long):
    declared = [_declared(alias) for alias in VOCABULARY[long]]
    for command, param in OPTIONS[long].items():
        assert _spelling(param) in declared, (command, long, _spelling(param))
        if long == "--format":
            wanted = _declared(common.Format if command in ARRAY_COMMANDS else
                               common.MapsFormat if command in MAPS_COMMANDS else common.ReportFormat)
            assert _spelling(param) == wanted, command
        if long == "--seed":
            assert param.default == 0, command  # one seed policy: 0 unless given


def test_one_spelling_means_one_thing_in_every_command():
    for long, by_command in OPTIONS.items():
        spellings = {command: _spelling(param) for command, param in by_command.items()}
        opts = {command: spelling["opts"] for command, spelling in spellings.items()}
        assert len({tuple(o) for o in opts.values()}) == 1, (long, opts)  # -a/--activation everywhere
        if long in VOCABULARY or long in SETTINGS_THAT_DIFFER:
            continue
        kinds = {command: (s["flag"], s["type"], s["metavar"]) for command, s in spellings.items()}
        assert len(set(kinds.values())) == 1, (long, kinds)


def test_one_meaning_has_one_spelling():
    for long, by_command in OPTIONS.items():
        assert long not in RETIRED, (long, "is spelled", RETIRED[long], "now", sorted(by_command))
        for command, param in by_command.items():
            shorts = [opt for opt in param.opts if not opt.startswith("--")]
            for short, meaning in (("-o", "--output"), ("-i", "--input"), ("-f", "--format"), ("-q", "--quiet")):
                assert (short in shorts) == (long == meaning), (command, param.opts)
            metavar = param.metavar or ""
            if metavar.lower().endswith(".png"):
                assert long == "--plot", (command, long, "writes a picture: --plot PATH.png")
            if long == "--plot":
                assert metavar == "PATH.png", command
            if long == "--random":
                assert not param.is_flag and metavar == "SHAPE", command
            if long == "--hidden":
                assert not param.is_flag and metavar == "SIZES", command


def test_every_command_says_where_its_picture_and_its_result_go():
    pictures = {"dense", "activate", "loss", "optimize", "reshape", "convolve", "pool", "train-xor", "train-mlp",
                "train", "predict"}
    assert pictures <= set(OPTIONS["--plot"])
    results = set(COMMANDS) - {"train-mlp", "train"}  # their report's -o comes with the training run
    assert results <= set(OPTIONS["--output"])
    printing_floats = set(COMMANDS) - {"summary", "datasets", "export"}  # those print whole numbers and names
    assert printing_floats <= set(OPTIONS["--precision"])
    assert set(COMMANDS) <= set(OPTIONS["--quiet"])


def test_every_training_command_takes_progress():
    assert set(OPTIONS["--progress"]) == {"train-xor", "train-mlp", "train"}


def test_help_never_offers_a_format_the_command_refuses():
    for command, param in OPTIONS["--format"].items():
        if "npy" not in param.type.choices:
            continue
        assert command in ARRAY_COMMANDS | MAPS_COMMANDS, command


# --- what a pipe gets -------------------------------------------------------------------------------

PIPE_RUNS = {
    "dense": (["1,2", "--weights", "1;1"], "csv"),
    "activate": (["relu", "1", "-2"], "csv"),
    "loss": (["mse", "--pred", "1,2", "--target", "1,1"], "csv"),
    "onehot": (["0", "2", "--classes", "3"], "csv"),
    "reshape": (["1", "2", "3", "4", "--shape", "2,2"], "csv"),
    "convolve": (["1,2,3;4,5,6;7,8,9", "--kernel", "1,0;0,-1"], "csv"),
    "pool": (["1,2;3,4", "--size", "2"], "csv"),
    "optimize": (["--optimizer", "sgd", "--steps", "3"], "json"),
    "train-xor": (["--epochs", "20"], "json"),
    "summary": (["--model", "course-mlp"], "json"),
    "datasets": ([], "json"),
    "train": (["--layers", "flatten, dense 8 relu, dense 10 softmax", "--epochs", "1"], "json"),
    "train-mlp": (["--hidden", "8", "--epochs", "1"], "json"),
}


@pytest.mark.parametrize("command", sorted(PIPE_RUNS))
def test_a_pipe_gets_csv_for_arrays_and_json_for_reports(cli, command):
    args, kind = PIPE_RUNS[command]
    run = cli(command, *args)
    assert run.exit_code == 0, run.stderr
    assert (command in ARRAY_COMMANDS) == (kind == "csv")
    if kind == "json":
        assert json.loads(run.stdout)
    else:
        rows = np.loadtxt(run.stdout.splitlines(), delimiter=",", ndmin=2)
        assert rows.size and "{" not in run.stdout and "│" not in run.stdout
    explicit = cli(command, *args, "-f", kind)
    if kind == "json":  # the same report but for its wall times
        assert _untimed(json.loads(explicit.stdout)) == _untimed(json.loads(run.stdout))
    else:
        assert explicit.stdout == run.stdout


def _untimed(value):
    if isinstance(value, dict):
        return {key: _untimed(item) for key, item in value.items() if key != "seconds"}
    if isinstance(value, list):
        return [_untimed(item) for item in value]
    return value


def test_the_pipe_rule_is_in_every_format_help_and_the_readme():
    assert "CSV in a pipe" in _declared(common.Format)["help"]
    assert "JSON in a pipe" in _declared(common.ReportFormat)["help"]
    readme = " ".join((ROOT / "README.md").read_text().split())
    assert "in a pipe, CSV for arrays and JSON for reports" in readme


# --- inline matrices ----------------------------------------------------------------------------------

IMAGE = np.array([[1.0, 2, 3, 4], [5, 6, 7, 8], [9, 10, 11, 12], [13, 14, 15, 16]])
TEXT = ";".join(",".join(f"{v:g}" for v in row) for row in IMAGE)


def test_pool_takes_a_matrix_typed_in(cli):
    run = cli("pool", TEXT, "--size", "2", "-f", "json")
    assert run.exit_code == 0, run.stderr
    assert json.loads(run.stdout) == block_reduce(IMAGE, (2, 2), np.max).tolist()  # [[6, 8], [14, 16]]
    mean = cli("pool", TEXT, "--size", "2", "--op", "mean", "-f", "json")
    assert json.loads(mean.stdout) == [[3.5, 5.5], [11.5, 13.5]]


def test_convolve_takes_a_matrix_typed_in(cli):
    kernel = np.array([[1.0, 0], [0, -1]])
    run = cli("convolve", TEXT, "--kernel", "1,0;0,-1", "-f", "json")
    assert run.exit_code == 0, run.stderr
    assert json.loads(run.stdout) == signal.convolve2d(IMAGE, kernel, mode="valid").tolist()


def test_a_small_result_is_printed_in_full_on_a_terminal(cli, monkeypatch):
    from nnkit.cli import convolve as convolve_module

    # The table view, as a terminal gets it: the summary and then every value of the 2×2 result.
    run = cli("pool", TEXT, "--size", "2", "-f", "table")
    assert "pooled shape" in run.stdout
    cells = [line.split("│")[2:-1] for line in run.stdout.splitlines() if line.startswith("│")]
    values = [[float(v) for v in row] for row in cells[-2:]]
    assert values == [[6.0, 8.0], [14.0, 16.0]]
    big = cli("pool", str(SAMPLES / "brain.png"), "--size", "2", "-f", "table")
    assert "pooled shape" in big.stdout and len(big.stdout.splitlines()) < 20  # too big: the summary only
    assert convolve_module.print_if_fits  # the one place that decides


# --- did you mean -------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("args", "hint"),
    [
        (["activte", "relu", "1"], "did you mean 'activate'?"),
        (["activate", "relu", "1", "--seeed", "3"], "did you mean --seed?"),
        (["activate", "relu", "1", "--preciison", "3"], "did you mean --precision?"),
        (["activate", "relo", "1"], "did you mean 'relu'?"),
        (["loss", "msee", "--pred", "1", "--target", "1"], "did you mean 'mse'?"),
        (["convolve", "1,2;3,4", "--filter", "sobelx"], "did you mean 'sobel-x'"),
        (["train-xor", "--optimizer", "adamm"], "did you mean 'adam'?"),
        (["optimize", "--optimizer", "adamm"], "did you mean 'adam'?"),
        (["optimize", "--function", "rosenbrok"], "did you mean 'rosenbrock'?"),
        (["train", "--layers", "dens 10"], "did you mean 'dense'?"),
        (["train", "--layers", "dense 10 relux"], "did you mean 'relu'"),
        (["train", "--model", "course-cn"], "did you mean 'course-cnn'"),
        (["train-mlp", "--data", "mnst"], "did you mean 'mnist'"),
        (["datasets", "--download", "fashion-mnst"], "did you mean 'fashion-mnist'?"),
        (["train-mlp", "--hidden", "256", "128"], "--hidden 256,128"),
        (["pool", str(SAMPLES / "brian.png"), "--size", "2"], f"did you mean '{SAMPLES / 'brain.png'}'?"),
        (["train-mlp", "--data", str(SAMPLES / "breast_cancer_wdcb.csv")], "breast_cancer_wdbc.csv"),
        (["train-mlp", "--data", str(SAMPLES / "breast_cancer_wdbc.csv"), "--positive", "malignent"],
         "did you mean 'malignant'?"),
    ],
)
def test_did_you_mean(cli, args, hint):
    run = cli(*args)
    run.assert_input_error()
    assert hint in run.stderr, run.stderr


def test_nothing_close_gets_no_guess(cli):
    run = cli("zzzzzz")
    run.assert_input_error("no such command 'zzzzzz'")
    assert "did you mean" not in run.stderr


def test_a_course_model_on_data_of_another_size_names_both_sizes(cli):
    run = cli("train", "--model", "course-cnn", "--data", "digits")
    run.assert_input_error("they are 8×8, the model was made for 28×28×1 images")


# --- old spellings: one more release, with a note --------------------------------------------------------

@pytest.mark.parametrize(
    ("old", "new", "note"),
    [
        (["dense", "1,2", "--random", "--units", "2"], ["dense", "1,2", "--random-weights", "--units", "2"],
         "dense --random without a shape is now --random-weights"),
        (["pool", "1,2;3,4", "-k", "2"], ["pool", "1,2;3,4", "--size", "2"], "-k is now --size"),
        (["train-xor", "--no-hidden", "--epochs", "20"], ["train-xor", "--hidden", "none", "--epochs", "20"],
         "--no-hidden is now --hidden none"),
    ],
)
def test_old_spellings_still_work_with_a_note(cli, old, new, note):
    before, after = cli(*old), cli(*new)
    assert before.exit_code == after.exit_code == 0, before.stderr
    assert before.stdout == after.stdout
    assert f"nnkit: note: {note}" in before.stderr and "note" not in after.stderr


def test_random_and_seed_are_the_same_in_every_command(cli):
    # --seed 0 unless given: two runs agree, and --random SHAPE is the course's np.random.seed(0); randn
    expected = np.random.RandomState(0).randn(2, 3)
    for command in (["activate", "identity"], ["reshape", "--shape", "2,3"], ["dense", "--weights", "1;0;0"]):
        first, second = cli(*command, "--random", "2x3", "-f", "json"), cli(*command, "--random", "2x3", "-f", "json")
        assert first.stdout == second.stdout, command
    shown = json.loads(cli("activate", "identity", "--random", "2x3", "-f", "json").stdout)
    np.testing.assert_array_equal(shown, expected)
    dense = json.loads(cli("dense", "--random", "2x3", "--random-weights", "--units", "2", "-f", "json").stdout)
    rng = np.random.RandomState(0)
    x, W, b = rng.randn(2, 3), rng.randn(3, 2), rng.randn(2)  # one stream: x, then W, then b
    np.testing.assert_allclose(dense, x @ W + b, rtol=1e-12)
