"""The conventions every command shares (docs/conventions.md): input, output, errors, exit codes, pipes."""

import subprocess
import sys

import numpy as np
import pytest

import nnkit
from nnkit.cli.app import COMMANDS, command_function
from tests.conftest import ROOT


def test_the_eight_commands_of_the_spec_and_predict():
    assert list(COMMANDS) == [
        "dense",
        "activate",
        "loss",
        "optimize",
        "backprop",
        "onehot",
        "reshape",
        "convolve",
        "pool",
        "shift",
        "train-xor",
        "train-mlp",
        "train",
        "summary",
        "predict",
        "evaluate",
        "explain",
        "datasets",
        "export",
    ]


def test_help_lists_every_command(cli):
    run = cli("--help")
    assert run.exit_code == 0
    for command in COMMANDS:
        assert command in run.stdout


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(cli, command):
    run = cli(command, "--help")
    assert run.exit_code == 0 and "Usage" in run.stdout
    callback = command_function(command)
    assert callback.__doc__ and len(callback.__doc__.strip()) > 20


def test_version(cli):
    assert cli("--version").stdout == f"nnkit {nnkit.__version__}\n"


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (["reshape", "1", "x2", "--shape", "2"], None, "not a number: 'x2'"),
        (["reshape", "-i", "/no/such/file.csv", "--shape", "2"], None, "no such file: /no/such/file.csv"),
        (["reshape", "-i", "/", "--shape", "2"], None, "is a folder"),
        (["reshape", "1,2;3", "--shape", "3"], None, "different lengths"),
        (["reshape", "--shape", "2"], "", "stdin is empty"),
        (["reshape", "--shape", "2"], b"PK\x03\x04 corrupt", "stdin: not an .npz archive"),
        (["reshape", "--shape", "2"], b"\x93NUMPY\x01\x00 truncated", "stdin is not a valid .npy file"),
        (["onehot", "--decode", "nan,1"], None, "NaN"),
        (["onehot", "7", "--classes", "3"], None, "label 7 is outside 0..2"),
        (["reshape", "1", "2", "--shape", "2", "--bogus"], None, "no such option: --bogus"),
        (["reshape", "1", "2", "--shape", "2", "-f", "xml"], None, "invalid value for '-f'"),
        (["reshape", "1", "2", "--shape", "2", "--precision", "0"], None, "--precision"),
        (["reshape", "1", "2", "--shape", "2", "-o", "out.xyz"], None, "extension"),
        (["no-such-command"], None, "no such command"),
    ],
)
def test_bad_input_is_exit_2_and_one_line(cli, args, stdin, message):
    run = cli(*args, input=stdin)
    run.assert_input_error()
    assert message.lower() in run.stderr.lower()
    assert run.stdout == ""


def test_refuses_to_overwrite_its_input(cli, tmp_path):
    source = tmp_path / "a.csv"
    source.write_text("1,2,3,4\n")
    cli("reshape", "-i", str(source), "--shape", "2,2", "-o", str(source)).assert_input_error("refusing to overwrite")
    assert source.read_text() == "1,2,3,4\n"


def test_internal_error_is_exit_1_one_line_and_traceback_on_request(cli, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("boom\nsecond line")

    monkeypatch.setattr("nnkit.cli.onehot.one_hot", broken)
    run = cli("onehot", "0", "1")
    assert run.exit_code == 1
    assert run.stderr.splitlines()[0] == "nnkit: error: internal error: RuntimeError: boom"
    assert "Traceback" not in run.stderr
    debug = cli("onehot", "0", "1", env={"NNKIT_DEBUG": "1"})
    assert debug.exit_code == 1 and "Traceback" in debug.stderr


def test_keyboard_interrupt_is_exit_130(cli, monkeypatch):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("nnkit.cli.onehot.one_hot", interrupted)
    run = cli("onehot", "0", "1")
    assert run.exit_code == 130 and "Traceback" not in run.stderr


# --- the installed command, in real pipes -----------------------------------------------------------


def test_pipeline_onehot_npy_into_reshape(shell):
    done = shell("nnkit onehot 0 2 1 --classes 3 -f npy | nnkit reshape --shape 1,-1 -f csv")
    assert done.returncode == 0, done.stderr
    assert done.stdout == b"1,0,0,0,0,1,0,1,0\n" and done.stderr == b""


def test_negative_numbers_and_errors_through_the_installed_command(shell):
    done = shell("nnkit reshape 1 -2 -1e-3 -inf --shape 2,-1 -f json")
    assert done.returncode == 0, done.stderr
    assert done.stdout == b"[[1.0, -2.0], [-0.001, -Infinity]]\n"
    bad = shell("nnkit reshape 1 2 3 --shape 2,2")
    assert bad.returncode == 2 and bad.stdout == b""
    assert bad.stderr.decode().startswith("nnkit: error: cannot reshape 3 values") and b"Traceback" not in bad.stderr


def test_closed_pipe_ends_quietly(shell):
    done = shell("nnkit reshape --random 3000x50 --seed 1 --shape 50,-1 | head -c 100 > /dev/null")
    assert done.stderr == b""
    assert done.returncode in (0, 141)


def test_python_dash_m(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "nnkit", "onehot", "1", "0"], capture_output=True, cwd=tmp_path, timeout=60
    )
    assert done.returncode == 0 and done.stdout == b"0,1\n1,0\n"


def test_text_output_reads_back_exactly(shell, tmp_path):
    np.save(tmp_path / "x.npy", np.random.default_rng(0).normal(size=(4, 3)))
    done = shell(f"nnkit reshape -i {tmp_path}/x.npy --shape 3,4 | nnkit reshape --shape 4,3 -f npy > {tmp_path}/y.npy")
    assert done.returncode == 0, done.stderr
    np.testing.assert_array_equal(np.load(tmp_path / "y.npy"), np.load(tmp_path / "x.npy"))


def test_no_heavy_imports_at_start_up():
    code = (
        "import sys; from nnkit.cli.app import app; "
        "heavy = [m for m in ('scipy', 'skimage', 'matplotlib', 'PIL', 'nibabel', 'pydicom', 'pydantic') if m in sys.modules]; "
        "print(heavy)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert done.stdout.strip() == "[]", done.stdout + done.stderr
