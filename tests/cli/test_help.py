"""Help that teaches: course sections, examples one per line, no eaten text, completion."""

import os
import re
import subprocess

import numpy as np
import pytest
from rich.text import Text

from nnkit.cli.app import COMMANDS, app, command_function
from nnkit.cli.helptext import COURSE, COURSE_SECTIONS, flow, plain
from tests.conftest import ROOT, nnkit_executable, run_cli

#: The course's own term each command's help must name (python_4_dl_intro.md's section titles).
COURSE_TERMS = {
    "activate": "2-5 活性化関数",
    "loss": "2-7 損失関数",
    "onehot": "one-hot ベクトル",
    "reshape": "画像および教師データの変形: 画像の変換",
    "convolve": "3-2 畳み込み層",
    "pool": "最大値プーリング",
    "train-xor": "隠れ層 hidden layer の意義 (XOR",
    "train-mlp": "2-9 バッチ処理",
    "predict": "順伝播",
}
#: Commands whose help examples (shell variables, pipes, the course's numbers) run in the suite, their
#: --plot lines aside (every picture is drawn by its command's own tests); the image and training
#: commands' examples are in docs/, whose pages tests/test_readme_numbers.py runs.
RUNNABLE_EXAMPLES = ["activate", "loss", "onehot", "dense"]


def nnkit(*args: str, columns: int = 80, **env: str) -> subprocess.CompletedProcess:
    environment = {**os.environ, "COLUMNS": str(columns), **env}
    environment.pop("NNKIT_DEBUG", None)
    return subprocess.run(
        [nnkit_executable(), *args], capture_output=True, text=True, env=environment, timeout=60, check=False
    )


def help_text(command: str, columns: int = 80) -> str:
    """``nnkit COMMAND --help`` on a terminal ``columns`` wide (in-process: Rich reads $COLUMNS)."""
    run = run_cli(command, "--help", env={"COLUMNS": str(columns)})
    assert run.exit_code == 0 and run.stderr == "", run.stderr
    return run.stdout


def test_help_on_80_columns_of_the_installed_command():
    assert nnkit("convolve", "--help").stdout == help_text("convolve")


def examples(command: str) -> list[str]:
    """The lines of the command's ``\\b`` example block, as its docstring writes them."""
    doc = command_function(command).__doc__
    blocks = [p for p in doc.split("\n\n") if p.strip().startswith("\\b")]
    assert len(blocks) == 1, f"{command}: one \\b block of examples"
    lines = [line.strip() for line in blocks[0].strip().splitlines()[1:]]
    assert lines[0] == "Examples:"
    return lines[1:]


def test_every_command_has_a_course_section():
    missing = set(COMMANDS) - set(COURSE_SECTIONS)
    assert not missing, f"add the course section of {missing} to nnkit.cli.helptext.COURSE_SECTIONS"
    assert set(COURSE_TERMS) <= set(COMMANDS)


@pytest.mark.parametrize("command", COMMANDS)
def test_help_names_the_course_section_in_the_courses_words(command):
    text = help_text(command)
    line = next(line.strip() for line in text.splitlines() if line.strip().startswith("Course: "))
    assert line.startswith(f"Course: {COURSE_SECTIONS[command][:20]}")
    assert COURSE_TERMS.get(command, COURSE_SECTIONS[command]) in " ".join(text.split()), line


@pytest.mark.parametrize("command", COMMANDS)
def test_examples_are_one_per_line_on_80_columns(command):
    text = help_text(command, columns=80)
    shown = [line.strip() for line in text.splitlines()]
    lines = examples(command)
    assert len(lines) >= 3
    for before, example in zip(["", *lines], lines, strict=False):
        assert example in shown, f"{command}: {example!r} is not one line of --help on 80 columns"
        assert example.startswith(("nnkit ", "ya=", "cut ", "cat ")) or before.endswith("\\"), example


@pytest.mark.parametrize("command", COMMANDS)
def test_prose_flows_and_is_not_broken_where_the_source_breaks(command):
    # on a wide terminal each prose paragraph of the docstring is one line of --help
    text = help_text(command, columns=1000)
    doc = flow(command_function(command).__doc__)
    prose = [p for p in doc.split("\n\n") if not p.startswith("Examples:")]
    shown = [line.strip() for line in text.splitlines()]
    for paragraph in prose:
        assert paragraph in shown, (command, paragraph)


@pytest.mark.parametrize("command", COMMANDS)
def test_rich_markup_eats_no_text(command):
    # every help text, rendered as Rich renders it, reads exactly as written ([…] included)
    click_command = app_command().get_command(None, command)
    texts = [click_command.help, *(getattr(p, "help", None) or "" for p in click_command.params)]
    for text in texts:
        assert Text.from_markup(text).plain == text.replace("\\[", "["), text


def app_command():
    import typer.main

    return typer.main.get_command(app)


def test_convolve_help_says_what_to_install():
    text = " ".join(help_text("convolve").split())
    assert "nnkit-cli[medical]" in text
    assert "brain[22:25, 102:105]" in text


def test_plain_keeps_brackets_that_are_not_tags():
    for text in ("nnkit-cli[medical]", "[bold]x[/]", "brain[22:25]", "a \\ b", "[0, 1]"):
        assert Text.from_markup(plain(text)).plain == text


def test_nnkit_alone_prints_the_help_and_succeeds(cli):
    run = nnkit()
    assert run.returncode == 0 and run.stderr == ""
    assert "Usage: nnkit" in run.stdout and "activate" in run.stdout and COURSE in " ".join(run.stdout.split())
    inprocess = cli()
    assert inprocess.exit_code == 0 and "Usage: nnkit" in inprocess.stdout and inprocess.stderr == ""


def complete(words: str, cword: int) -> list[str]:
    """What bash completion offers for COMP_WORDS (in-process, through Click's completion env vars)."""
    run = run_cli(env={"_NNKIT_COMPLETE": "complete_bash", "COMP_WORDS": words, "COMP_CWORD": str(cword)})
    assert run.exit_code == 0 and run.stderr == "", run.stderr
    return run.stdout.split()


@pytest.mark.parametrize("instruction", ["complete_bash", "bash_complete"])  # Typer's order and Click's
def test_completion_of_the_installed_command(instruction):
    run = nnkit(_NNKIT_COMPLETE=instruction, COMP_WORDS="nnkit activate s", COMP_CWORD="2")
    assert run.stdout.split() == ["sigmoid", "softmax", "step", "softplus", "swish"] and run.returncode == 0


def test_completion_offers_the_registries_names():
    from nnkit.course.filters import FILTERS
    from nnkit.nn.activations import ACTIVATIONS
    from nnkit.nn.losses import LOSS_ALIASES, LOSSES
    from nnkit.nn.optimizers import OPTIMIZERS

    assert complete("nnkit ", 1) == list(COMMANDS)
    assert complete("nnkit activate ", 2) == list(ACTIVATIONS)
    assert complete("nnkit activate s", 2) == [name for name in ACTIVATIONS if name.startswith("s")]
    assert complete("nnkit loss ", 2) == [*LOSSES, *LOSS_ALIASES]
    assert complete("nnkit convolve samples/brain.png --filter ", 4) == list(FILTERS)
    assert complete("nnkit convolve x.png --filter sobel", 4) == ["sobel-x", "sobel-y"]
    assert complete("nnkit train-xor --optimizer ", 3) == list(OPTIMIZERS)
    assert complete("nnkit pool x --op ", 4) == ["max", "mean", "min", "median", "sum"]
    assert "--column" in complete("nnkit loss sse --", 3)


def test_zsh_completion_describes_each_name():
    run = nnkit(_NNKIT_COMPLETE="complete_zsh", _TYPER_COMPLETE_ARGS="nnkit activate rel")
    assert '"relu":"ReLU\\\\: max(0, x)"' in run.stdout


def test_install_completion_then_tab_in_bash(tmp_path):
    # --install-completion for real, in a throw-away HOME, and the installed script driven by bash
    run = nnkit("--install-completion", "bash", HOME=str(tmp_path))
    assert run.returncode == 0, run.stderr
    script = tmp_path / ".bash_completions" / "nnkit.sh"
    assert f"source '{script}'" in (tmp_path / ".bashrc").read_text()
    environment = {**os.environ, "PATH": f"{os.path.dirname(nnkit_executable())}{os.pathsep}{os.environ['PATH']}"}
    tab = (
        f"source '{script}'; COMP_WORDS=(nnkit convolve x.png --filter sob); COMP_CWORD=4; "
        '_nnkit_completion nnkit; printf "%s\\n" "${COMPREPLY[@]}"'
    )
    done = subprocess.run(["bash", "-c", tab], capture_output=True, text=True, env=environment, timeout=60)
    assert done.stdout.split() == ["sobel-x", "sobel-y"], done.stderr


def test_completion_scripts_are_offered():
    run = nnkit("--show-completion", "bash")
    assert run.returncode == 0 and "_NNKIT_COMPLETE=complete_bash" in run.stdout
    top = nnkit("--help").stdout
    assert "--install-completion" in top and "--show-completion" in top


@pytest.mark.slow
def test_help_examples_run(tmp_path):
    # every example of the quick commands, as a learner would paste them, in one shell
    (tmp_path / "samples").symlink_to(ROOT / "samples")
    np.save(tmp_path / "feature.npy", np.random.RandomState(0).rand(40, 30))
    lines = [
        line.split("  #")[0].rstrip()
        for command in RUNNABLE_EXAMPLES
        for line in examples(command)
        if "--plot" not in line
    ]
    script = "set -e -o pipefail\n" + "\n".join(lines) + "\n"
    environment = {**os.environ, "PATH": f"{os.path.dirname(nnkit_executable())}{os.pathsep}{os.environ['PATH']}"}
    run = subprocess.run(
        ["bash", "-c", script], cwd=tmp_path, capture_output=True, text=True, env=environment, timeout=120
    )
    assert run.returncode == 0, (script, run.stderr)
    assert "nnkit: error" not in run.stderr


def test_report_csv_has_a_header_row_in_all_three_commands(cli, tmp_path):
    model = tmp_path / "xor.npz"
    xor = cli("train-xor", "--save", str(model), "-f", "csv")
    assert xor.stdout.splitlines()[0] == "x1,x2,target,output,prediction"
    mlp = cli("train-mlp", "--epochs", "1", "--hidden", "4", "-f", "csv")
    assert mlp.stdout.splitlines()[0] == "epoch,loss,accuracy,val_loss,val_accuracy,seconds"
    predicted = cli("predict", str(model), "0,1;1,1", "-f", "csv")
    header, *rows = predicted.stdout.splitlines()
    assert header == "prediction,0,1" and len(rows) == 2
    tsv = cli("predict", str(model), "0,1", "-f", "tsv")
    assert tsv.stdout.splitlines()[0] == "prediction\t0\t1"
    # the header is what nnkit's own readers skip: the truth table reads back as numbers
    back = cli("reshape", "--shape", "-1", "-f", "json", input=xor.stdout)
    assert len(re.findall(r"[\d.e-]+", back.stdout)) == 20
