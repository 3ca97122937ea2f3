r"""Regenerate what the documentation shows from nnkit itself: ``python docs/build.py``.

One command, three products:

1. ``docs/reference.md``, every command's help, options and examples, read from the CLI;
2. the output under every ``$ nnkit …`` line of a ``console`` block in README.md and docs/*.md,
   run as written (on an 80-column pseudo-terminal, as a user sees it, colours off);
3. the pictures in ``docs/images/``: an image a page shows (``![…](images/NAME.png)``) is copied
   there from the file of the same name that one of the page's commands wrote.

The commands of each page run in order in a fresh folder holding a link to ``samples/``, as a user
runs them from a clone of the repository; ``sh`` blocks run too (their lines that call ``nnkit``),
so that later commands find the files earlier ones wrote. ``python docs/build.py --check`` changes
nothing and exits 1 when a page or the reference is stale. tests/test_docs.py uses the same
functions to run every page in the test suite.

Block grammar (Markdown fences):

- ```` ```sh ````: each line that calls ``nnkit`` runs (``\`` continues a line); a comment made of
  numbers (``# 0.0559``, ``# 1,0,0 / 0,0,1``) claims what the command prints, digit for digit.
- ```` ```console ````: ``$ COMMAND`` lines, each followed by what it prints. ```` ```console tail=N````
  (or ``head=N``) shows only the last (first) N lines of it; ``numbers=off`` marks an output with
  timings in it: only its exit status is checked, and it is written only when the block is empty.
- any other fence is shown, never run.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
IMAGES = DOCS / "images"
REFERENCE = DOCS / "reference.md"
COLUMNS = 80

_FENCE = re.compile(r"^```([^\n`]*)\n(.*?)^```[ \t]*$", re.S | re.M)
_CALLS_NNKIT = re.compile(r"(?:^|[|;&(]\s*|\$\(\s*)nnkit\b")
_SKIPPED = ("pip ", "python3 -m venv", "python -m ", "python benchmarks/")
NUMBER = r"-?\d+(?:\.\d+)?(?:e[-+]?\d+)?"
_CLAIM = re.compile(rf"{NUMBER}(?:\s*[,/]\s*{NUMBER})*(?:\s*\(.*\))?")
_IMAGE = re.compile(r"!\[[^\]]*\]\((?:docs/)?images/([^)\s]+\.png)\)")
# What varies from run to run: durations, and a progress bar's rate. Never compared.
_TIMING = re.compile(r"(?:\d+(?:\.\d+)?\s?(?:ms|s|it/s)\b|\d+:\d\d:\d\d|\d+(?:\.\d+)?\s?s/epoch)")


def markdown_files() -> list[Path]:
    """Every page whose commands run: README.md and docs/*.md (the generated reference aside)."""
    return [ROOT / "README.md", *sorted(p for p in DOCS.glob("*.md") if p != REFERENCE)]


@dataclass
class Step:
    """One command of a page: where it is, how it is written, and what the page says it prints."""

    command: str
    kind: str  # "sh" or "console"
    claim: str = ""  # sh: the numbers of its comment
    shown: str | None = None  # console: the output the page shows
    span: tuple[int, int] | None = None  # console: where that output sits in the page's text
    head: int | None = None
    tail: int | None = None
    compare: bool = True  # console numbers=off: the output holds timings, only the exit status counts


def _joined(lines: list[str]) -> list[tuple[str, int]]:
    r"""Lines with ``\`` continuations joined, each with the index of its first line."""
    out, current, first = [], "", 0
    for index, line in enumerate(lines):
        if not current:
            first = index
        if line.rstrip().endswith("\\"):
            current += line.rstrip()[:-1] + " "
            continue
        out.append((current + line, first))
        current = ""
    return out


def runs(line: str) -> bool:
    """Whether a shell line is one of nnkit's commands to run (not an install or a benchmark)."""
    stripped = line.strip()
    return bool(_CALLS_NNKIT.search(stripped)) and not stripped.startswith(("#", *_SKIPPED))


def steps(text: str) -> list[Step]:
    """The commands of a page, in order."""
    found = []
    for fence in _FENCE.finditer(text):
        info, body = fence.group(1).split(), fence.group(2)
        if not info or info[0] not in ("sh", "console"):
            continue
        if info[0] == "sh":
            for line, _ in _joined(body.splitlines()):
                command, sep, comment = line.partition("  # ")
                if runs(command):
                    claim = comment.strip() if sep and _CLAIM.fullmatch(comment.strip()) else ""
                    found.append(Step(command.strip(), "sh", claim=claim))
            continue
        options = dict(option.split("=", 1) for option in info[1:] if "=" in option)
        found.extend(_console_steps(body, fence.start(2), options))
    return found


def _console_steps(body: str, offset: int, options: dict) -> list[Step]:
    lines = body.splitlines(keepends=True)
    starts = [i for i, line in enumerate(lines) if line.startswith("$ ")]
    result = []
    for n, start in enumerate(starts):
        end = starts[n + 1] if n + 1 < len(starts) else len(lines)
        command_end = start
        while lines[command_end].rstrip().endswith("\\"):
            command_end += 1
        command = " ".join(line.rstrip().rstrip("\\").strip() for line in lines[start:command_end + 1])[2:]
        out_from = offset + sum(len(line) for line in lines[:command_end + 1])
        out_to = offset + sum(len(line) for line in lines[:end])
        result.append(Step(
            command.strip(), "console", shown="".join(lines[command_end + 1:end]), span=(out_from, out_to),
            head=int(options["head"]) if "head" in options else None,
            tail=int(options["tail"]) if "tail" in options else None,
            compare=options.get("numbers") != "off",
        ))
    return result


# ---------------------------------------------------------------------------------------------
# Running a command as a user sees it


def screen(raw: str) -> str:
    r"""What a terminal shows after ``raw``: ``\r`` and cursor-up rewrite lines, colours vanish.

    Examples
    --------
    >>> screen("bar 10%\r\x1b[2Kbar 100%\r\n\x1b[1mdone\x1b[0m\r\n")
    'bar 100%\ndone\n'
    """
    rows: list[list[str]] = [[]]
    row = col = 0
    for token in re.finditer(r"\x1b\[([0-9;?]*)([A-Za-z])|\x1b[()][A-Z0-9]|.", raw, re.S):
        text, final = token.group(0), token.group(2)
        if final == "A":
            row = max(0, row - int(token.group(1) or 1))
        elif final == "K":
            rows[row][col if token.group(1) in ("", "0") else 0:] = []
        elif text.startswith("\x1b"):
            continue
        elif text == "\r":
            col = 0
        elif text == "\n":
            row, col = row + 1, 0
        else:
            line = rows[row]
            line.extend(" " * (col - len(line)))
            line[col:col + 1] = [text]
            col += 1
        while len(rows) <= row:
            rows.append([])
    lines = ["".join(r).rstrip() for r in rows]
    while lines and not lines[-1]:
        lines.pop()
    return "\n".join(lines) + "\n" if lines else ""


def environment(extra: dict | None = None) -> dict:
    """The environment commands run in: this interpreter's ``nnkit`` first on PATH, colours off."""
    env = dict(os.environ)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    for key in ("NNKIT_DEBUG", "JPY_PARENT_PID", "COLAB_RELEASE_TAG", "MPLBACKEND", "FORCE_COLOR"):
        env.pop(key, None)
    # One BLAS thread: the same float32 sums in every run, so printed digits do not wobble.
    env.update({"NO_COLOR": "1", "COLUMNS": str(COLUMNS), "LINES": "40", "TERM": "xterm",
                "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"})
    env.update(extra or {})
    return env


def run_on_terminal(command: str, cwd: Path, env: dict, timeout: float = 300) -> tuple[int, str]:
    """Run a shell line with stdout and stderr on one 80-column pseudo-terminal; (status, screen)."""
    import fcntl
    import pty
    import struct
    import termios

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, COLUMNS, 0, 0))
    process = subprocess.Popen(["bash", "-o", "pipefail", "-c", command], cwd=cwd, env=env,
                               stdin=subprocess.DEVNULL, stdout=slave, stderr=slave)
    os.close(slave)
    chunks = []
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: every writer has closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(master)
    status = process.wait(timeout=timeout)
    return status, screen(b"".join(chunks).decode("utf-8", "replace"))


def run_in_pipe(command: str, cwd: Path, env: dict, timeout: float = 300) -> tuple[int, str, str]:
    """Run a shell line with stdout in a pipe (what a script gets); (status, stdout, stderr)."""
    done = subprocess.run(["bash", "-o", "pipefail", "-c", command], cwd=cwd, env=env, capture_output=True,
                          stdin=subprocess.DEVNULL, timeout=timeout)
    return done.returncode, done.stdout.decode("utf-8", "replace"), done.stderr.decode("utf-8", "replace")


def excerpt(step: Step, output: str) -> str:
    """The part of ``output`` the page shows (all of it, or its first or last lines)."""
    lines = output.splitlines(keepends=True)
    if step.head is not None:
        lines = lines[:step.head]
    if step.tail is not None:
        lines = lines[-step.tail:]
    return "".join(lines)


def numbers(text: str) -> list[str]:
    """The numbers in a text, timings left out (they differ from run to run)."""
    return re.findall(NUMBER, _TIMING.sub(" ", text))


@dataclass
class Ran:
    """A step and what it did."""

    step: Step
    status: int
    output: str  # console: the screen; sh: stdout
    errors: str = ""  # sh: stderr (a console step's is on its screen)
    seconds: float = 0.0


@dataclass
class PageRun:
    """Every step of one page, run in order in one folder."""

    page: Path
    folder: Path
    ran: list[Ran] = field(default_factory=list)


def workspace(folder: Path) -> Path:
    """A folder to run a page's commands in: ``samples/`` linked in, as in a clone of the repository."""
    folder.mkdir(parents=True, exist_ok=True)
    link = folder / "samples"
    if not link.exists():
        link.symlink_to(ROOT / "samples", target_is_directory=True)
    return folder


def run_page(page: Path, folder: Path, env: dict | None = None) -> PageRun:
    """Run every step of ``page`` in ``folder``, console steps on a terminal, sh steps in a pipe."""
    env = environment(env)
    result = PageRun(page, workspace(folder))
    for step in steps(page.read_text()):
        start = time.perf_counter()
        if step.kind == "console":
            ran = Ran(step, *run_on_terminal(step.command, folder, env))
        else:
            ran = Ran(step, *run_in_pipe(step.command, folder, env))
        ran.seconds = time.perf_counter() - start
        result.ran.append(ran)
    return result


def refreshed(page: Path, run: PageRun) -> str:
    """The page's text with each console block's output replaced by what its command printed."""
    text = page.read_text()
    for ran in reversed(run.ran):
        # A numbers=off output holds timings: it is rewritten only when the page has none yet, so
        # that rebuilding does not churn the page with new seconds.
        keep = not ran.step.compare and ran.step.shown.strip()
        if ran.step.kind == "console" and ran.step.span and not keep:
            start, end = ran.step.span
            text = text[:start] + excerpt(ran.step, ran.output) + text[end:]
    return text


def images_shown(text: str) -> list[str]:
    """The names of the pictures a page shows from ``docs/images/``."""
    return _IMAGE.findall(text)


# ---------------------------------------------------------------------------------------------
# The command reference


def _cell(text: str) -> str:
    """Help text as one Markdown table cell: one line, Rich's escapes undone, no stray HTML or columns."""
    text = re.sub(r"\s+", " ", text or "").replace("\\[", "[")
    return text.replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")


def _option_row(param) -> str:
    names = ", ".join(f"`{name}`" for name in [*param.opts, *param.secondary_opts])
    kind = param.make_metavar(_context()) if not getattr(param, "is_flag", False) else ""
    kind = re.sub(r"\s+", " ", kind).replace("|", "\\|")
    help_text = _cell(getattr(param, "help", None))
    default = param.default
    shown = getattr(param, "show_default", True) is not False and default not in (None, False, (), "")
    default_text = f" Default: `{default}`." if shown and not callable(default) else ""
    return f"| {names} | {'`' + kind + '`' if kind else ''} | {help_text}{default_text} |"


_CONTEXT = []


def _context():
    import typer
    from typer.main import get_command

    from nnkit.cli.app import app

    if not _CONTEXT:
        _CONTEXT.append(typer.Context(get_command(app)))
    return _CONTEXT[0]


def _examples_and_prose(help_text: str) -> tuple[str, list[str]]:
    prose, _, examples = help_text.partition("Examples:")
    lines = [line.rstrip() for line in textwrap.dedent(examples.strip("\n")).splitlines() if line.strip()]
    return prose.strip().replace("\\[", "["), lines


def reference_markdown() -> str:
    """The command reference, from the CLI itself: each command's help, arguments, options, examples."""
    from typer.main import get_command

    from nnkit.cli.app import COMMANDS, app

    group = get_command(app)
    parts = [
        "# Command reference",
        "",
        "<!-- Generated by `python docs/build.py` from nnkit's own help: edit the commands, not this page. -->",
        "",
        "Every command, in the course's order, as its `--help` describes it. The conventions every command",
        "shares (input, output and pipes, errors and exit codes) are in [conventions.md](conventions.md);",
        "the course, section by section, in the tutorial ([日本語](tutorial.ja.md), [English](tutorial.en.md)).",
        "",
        " · ".join(f"[{name}](#nnkit-{name})" for name in COMMANDS),
        "",
    ]
    for name in COMMANDS:
        command = group.get_command(None, name)
        prose, examples = _examples_and_prose(command.help or "")
        usage = " ".join(command.collect_usage_pieces(_context()))
        parts += [f"## nnkit {name}", "", prose, "", "```text", f"nnkit {name} {usage}", "```", ""]
        if examples:
            parts += ["Examples:", "", "```text", *examples, "```", ""]
        arguments = [p for p in command.params if p.param_type_name == "argument"]
        options = [p for p in command.params if p.param_type_name == "option"]
        if arguments:
            parts += ["| argument | kind | meaning |", "| --- | --- | --- |"]
            for param in arguments:
                kind = re.sub(r"\s+", " ", param.make_metavar(_context())).replace("|", "\\|")
                help_text = _cell(getattr(param, "help", None))
                parts.append(f"| `{param.name.upper()}` | `{kind}` | {help_text} |")
            parts.append("")
        if options:
            parts += ["| option | value | meaning |", "| --- | --- | --- |"]
            parts += [_option_row(param) for param in options]
            parts.append("")
    return "\n".join(parts).rstrip() + "\n"


def reference_in_a_fresh_process() -> str:
    """The reference as a fresh interpreter makes it (as ``python docs/build.py`` does).

    Python's typing caches ``Literal[…] | None`` by value, ignoring the order of the values, so the
    choices of one ``--format`` print in the order of whichever module spelled that set first in the
    process; a test process has imported many modules before, in another order.
    """
    done = subprocess.run([sys.executable, __file__, "--print-reference"], capture_output=True, check=True)
    return done.stdout.decode()


# ---------------------------------------------------------------------------------------------


def build(check: bool, pages: list[Path] | None = None) -> list[str]:
    """Regenerate (or, with ``check``, only compare) the reference, the pages' outputs and pictures."""
    stale = []
    reference = reference_markdown()
    if (REFERENCE.read_text() if REFERENCE.exists() else "") != reference:
        stale.append(str(REFERENCE.relative_to(ROOT)))
        if not check:
            REFERENCE.write_text(reference)
    with tempfile.TemporaryDirectory(prefix="nnkit-docs-") as tmp:
        for page in pages or markdown_files():
            run = run_page(page, Path(tmp) / page.stem)
            for ran in run.ran:
                if ran.status != 0:
                    print(f"{page.name}: exit {ran.status}: {ran.step.command}\n{ran.output}{ran.errors}",
                          file=sys.stderr)
            text = refreshed(page, run)
            if text != page.read_text():
                stale.append(str(page.relative_to(ROOT)))
                if not check:
                    page.write_text(text)
            if not check:
                for name in images_shown(text):
                    made = run.folder / name
                    if made.exists():
                        IMAGES.mkdir(exist_ok=True)
                        shutil.copyfile(made, IMAGES / name)
    return stale


def main() -> int:
    """``python docs/build.py [--check]``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 when something is stale")
    parser.add_argument("pages", nargs="*", type=Path, help="only these pages (default: all)")
    parser.add_argument("--print-reference", action="store_true", help="print the reference and stop")
    args = parser.parse_args()
    if args.print_reference:
        sys.stdout.write(reference_markdown())
        return 0
    stale = build(args.check, [page.resolve() for page in args.pages])
    for name in stale:
        print(("stale: " if args.check else "updated: ") + name)
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
