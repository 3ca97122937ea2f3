"""The README is part of the product: its commands are the ones CI runs and users type."""

import re

from tests.cli.test_conventions import COMMANDS
from tests.conftest import ROOT

README = (ROOT / "README.md").read_text()


def first_commands() -> list[str]:
    block = re.search(r"```sh\n(.*?)```", README, re.S)
    assert block and README.index(block.group(0)) < 200, "the README must open with the set-up commands"
    return [line for line in block.group(1).splitlines() if line.strip()]


def test_readme_opens_with_exactly_two_commands():
    main_job, tests = first_commands()
    assert "pip install -e ." in main_job and main_job.endswith("nnkit train-mlp")
    assert '".[test]"' in tests and "pytest" in tests


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text().strip().splitlines()
    assert ci[-1] == first_commands()[1]


def test_every_command_is_documented():
    for command in COMMANDS:
        section = re.search(rf"^## {re.escape(command)}\n(.*?)(?=^## )", README, re.S | re.M)
        assert section, f"README has no section for {command}"
        assert f"nnkit {command}" in section.group(1), f"README section {command} shows no example"
