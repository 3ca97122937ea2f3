"""Shared fixtures: run nnkit in-process (CliRunner) or as the installed command (subprocess)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

# Exact checks run on one thread (nnkit's pool and BLAS), here and in the nnkit subprocesses;
# tests/nn/test_threads.py compares one thread with two.
os.environ.setdefault("NNKIT_THREADS", "1")

from nnkit.cli.app import app

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"


@dataclass
class Run:
    """What a run of nnkit did: its exit code and its two streams, kept apart."""

    exit_code: int
    stdout: str
    stderr: str
    stdout_bytes: bytes

    def assert_input_error(self, *fragments: str) -> None:
        """Exit 2, nothing on stdout, and one ``nnkit: error:`` line (plus an optional hint) on stderr."""
        assert self.exit_code == 2, (self.exit_code, self.stdout, self.stderr)
        assert "Traceback" not in self.stderr
        lines = self.stderr.strip().splitlines()
        assert lines and lines[0].startswith("nnkit: error: "), self.stderr
        assert all(line.startswith("  hint: ") for line in lines[1:]), self.stderr
        for fragment in fragments:
            assert fragment in lines[0], (fragment, lines[0])


def run_cli(*args: str, input: str | bytes | None = None, env: dict | None = None) -> Run:
    """Run ``nnkit ARGS…`` in-process; stdout and stderr are pipes (not terminals)."""
    result = CliRunner().invoke(app, list(args), input=input, env=env, catch_exceptions=False)
    return Run(result.exit_code, result.stdout, result.stderr, result.stdout_bytes)


@pytest.fixture
def cli():
    """``cli("onehot", "0", "1")`` runs nnkit in-process and returns a :class:`Run`."""
    return run_cli


def nnkit_executable() -> str:
    """The installed ``nnkit`` script of the environment running the tests."""
    beside = Path(sys.executable).parent / "nnkit"
    found = str(beside) if beside.exists() else shutil.which("nnkit")
    if found is None:
        pytest.fail("the nnkit command is not installed in this environment (pip install -e .)")
    return found


def run_shell(command: str, cwd: Path | None = None, input: bytes | None = None, env: dict | None = None):
    """Run a shell command line in which ``nnkit`` is the installed command (pipes allowed)."""
    environment = dict(os.environ)
    environment["PATH"] = str(Path(nnkit_executable()).parent) + os.pathsep + environment.get("PATH", "")
    environment.pop("NNKIT_DEBUG", None)
    environment.update(env or {})
    return subprocess.run(
        ["bash", "-o", "pipefail", "-c", command],
        cwd=cwd or ROOT,
        input=input,
        capture_output=True,
        env=environment,
        timeout=120,
    )


@pytest.fixture
def shell():
    """``shell("nnkit onehot 0 1 | nnkit reshape --shape 1,-1")`` → CompletedProcess (bytes)."""
    return run_shell


def start_on_a_terminal(args: list[str]):
    """Start ``nnkit ARGS`` with stderr on a pseudo-terminal and stdout on a pipe (the report)."""
    import pty

    master, slave = pty.openpty()
    process = subprocess.Popen([nnkit_executable(), *args], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=slave, env={**os.environ, "COLUMNS": "100"})
    os.close(slave)
    return process, master


def read_terminal(master: int, seen: list[str], done, timeout: float = 90.0) -> bool:
    """Read the terminal into ``seen`` until ``done(text)`` or the end of the output."""
    import select

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if done("".join(seen)):
            return True
        ready, _, _ = select.select([master], [], [], 0.05)
        if ready:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the process closed the terminal
                return done("".join(seen))
            if not chunk:
                return done("".join(seen))
            seen.append(chunk.decode(errors="replace"))
    return done("".join(seen))
