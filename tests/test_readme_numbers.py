"""Every command of every page (README.md, docs/*.md) runs as written and prints what the page shows.

Each page's commands run in order in a fresh folder with ``samples/`` linked in, as a user runs them
from a clone (docs/build.py's own runner: the output the page shows is checked against the output
the same runner gets). Three kinds of claims:

- a ``console`` block's output: the numbers in it, in order, are the numbers the command prints on
  an 80-column terminal (timings left out; ``numbers=off`` blocks only have to succeed);
- an ``sh`` line's comment made of numbers (``# 0.7459``): the numbers the command prints, digit for
  digit as written;
- every ``sh`` line: exit status 0 and no ``nnkit: error``.

Named data sets (``--data mnist``, ``fashion-mnist``) come from a local HTTP server serving small
files in the publishers' layouts (tests/data/test_named.py's fixtures); the subprocesses take the
fixtures' checksums from tests/docs_site/sitecustomize.py. The Japanese and English tutorials have
the same commands (tests/test_docs.py), so the English one is not run a second time.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import threading

import pytest

from tests.conftest import ROOT
from tests.data.test_named import _Publisher, fixture_files
from tests.test_docs import build

PAGES = [page for page in build.markdown_files() if page.name != "tutorial.en.md"]


@pytest.fixture(scope="module")
def publisher(tmp_path_factory):
    """A local publisher of the named data sets and the environment that points nnkit at it."""
    files = fixture_files()
    hashes = {name: f"sha256:{hashlib.sha256(body).hexdigest()}" for name, body in files.items()}
    server = _Publisher(files)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    site = str(ROOT / "tests" / "docs_site")
    yield {
        "NNKIT_DATA_URL": server.url,
        "NNKIT_DATA_DIR": str(tmp_path_factory.mktemp("cache")),
        "NNKIT_TEST_HASHES": json.dumps(hashes),
        "PYTHONPATH": site + os.pathsep + os.environ.get("PYTHONPATH", ""),
    }
    server.shutdown()
    server.server_close()


def claimed(comment: str) -> list[str]:
    return re.findall(build.NUMBER, comment.split("(")[0])


def agrees(said: str, got: str) -> bool:
    """``0.0559`` claims 0.0559 to the last digit written; ``2`` or ``1e-7`` a value within ½."""
    digits = len(said.split(".")[1]) if "." in said else 0
    if "e" in said or digits == 0:
        return abs(float(got) - float(said)) <= 0.5
    significant = len(said.lstrip("-0.").replace(".", ""))
    return float(f"{float(got):.{significant}g}") == float(said)


def problems_of(run) -> list[str]:
    """What a page says that its commands did not do."""
    problems = []
    for ran in run.ran:
        step = ran.step
        if ran.status != 0 or "nnkit: error" in ran.output + ran.errors:
            problems.append(f"{step.command}\n  exit {ran.status}: {(ran.output + ran.errors).strip()[-600:]}")
        elif step.kind == "console" and step.compare:
            shown, printed = build.numbers(step.shown), build.numbers(build.excerpt(step, ran.output))
            if shown != printed:
                problems.append(f"{step.command}\n  the page shows {shown}\n  the command printed {printed}")
        elif step.claim:
            said, got = claimed(step.claim), build.numbers(ran.output)
            if len(said) != len(got) or not all(agrees(s, g) for s, g in zip(said, got, strict=False)):
                problems.append(f"{step.command}\n  claims {step.claim!r}, printed {ran.output.strip()!r}")
    return problems


@pytest.mark.slow
@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(ROOT)) for p in PAGES])
def test_every_command_of_the_page_runs_and_prints_what_the_page_shows(page, tmp_path, publisher):
    run = build.run_page(page, tmp_path, publisher)
    problems = problems_of(run)
    assert not problems, "\n".join(problems) + "\n(python docs/build.py regenerates the pages' outputs)"
    for name in build.images_shown(page.read_text()):
        assert (build.IMAGES / name).is_file(), f"{page.name} shows docs/images/{name}, which does not exist"


def test_the_checker_catches_a_wrong_number(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("```console\n$ nnkit activate relu 1 -2 3 -f csv\n1.0,0.0,4.0\n```\n\n"
                    "```sh\nnnkit loss sse --pred 0.5 --target 1 -f csv   # 0.2\n"
                    "nnkit activate relu --no-such-option\n```\n")
    problems = problems_of(build.run_page(page, tmp_path / "run"))
    assert len(problems) == 3, problems
    assert "'4.0'" in problems[0] and "'3.0'" in problems[0]
    assert "0.125" in problems[1] and "no such option" in problems[2]
