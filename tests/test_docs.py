"""The README and docs/ are part of the product: the commands CI runs and users type, kept current.

tests/test_readme_numbers.py runs every command of every page; this file checks the pages' shape:
the README's two set-up lines and CI, the generated reference, the two tutorials in step, the
pictures, the course map and the Colab install line.
"""

from __future__ import annotations

import importlib.util
import re
import sys

from nnkit import __version__
from nnkit.cli.app import COMMANDS
from nnkit.cli.helptext import COURSE_SECTIONS
from tests.conftest import ROOT


def _load_build():
    spec = importlib.util.spec_from_file_location("nnkit_docs_build", ROOT / "docs" / "build.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


build = _load_build()
README = (ROOT / "README.md").read_text()
JA = (ROOT / "docs" / "tutorial.ja.md").read_text()
EN = (ROOT / "docs" / "tutorial.en.md").read_text()


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


def test_the_readme_is_a_front_page():
    assert len(README.encode()) <= 10_500, len(README.encode())
    assert "医療従事者のためのPython: 深層学習入門" in README and "[medical]" in README
    for page in ("tutorial.ja.md", "tutorial.en.md", "reference.md", "conventions.md", "data.md", "speed.md"):
        assert f"(docs/{page})" in README, page
    assert "| image |" not in README and "| contender |" not in README  # the benchmark tables live in speed.md
    quick = README.split("## Quick start")[1].split("\n## ")[0]
    assert len(build.steps(quick)) >= 6


def test_the_readmes_course_map_covers_every_section():
    course_map = README.split("## The course, section by section")[1].split("\n## ")[0]
    for section in ("2-1", "2-2", "2-3", "2-4", "2-5", "2-6", "2-7", "2-8", "2-9", "3-2", "3-3", "next chapter"):
        assert f"| {section}" in course_map, section
    for command in ("dense", "activate", "loss", "onehot", "reshape", "optimize", "convolve", "pool",
                    "train-xor", "train-mlp", "train", "summary", "predict", "datasets", "export"):
        assert re.search(rf"nnkit {re.escape(command)}(?![\w-])", course_map), command


def test_no_page_cites_what_a_user_does_not_have():
    for page in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        text = page.read_text()
        assert "../shared" not in text and not re.search(r"\bSPEC\b|\bissue \d+", text), page.name


def test_the_reference_is_current():
    reference = (ROOT / "docs" / "reference.md").read_text()
    assert reference == build.reference_in_a_fresh_process(), "docs/reference.md is stale: run python docs/build.py"
    for command in COMMANDS:
        assert f"## nnkit {command}\n" in reference
        assert f"Course: {COURSE_SECTIONS[command]}" in reference  # each --help still names its section


def test_the_two_tutorials_list_the_same_commands():
    ja, en = build.steps(JA), build.steps(EN)
    assert [s.command for s in ja] == [s.command for s in en]
    assert [(s.kind, s.head, s.tail, s.compare) for s in ja] == [(s.kind, s.head, s.tail, s.compare) for s in en]
    assert len(ja) >= 30
    # the same outputs (regenerated together) and the same pictures
    assert [s.shown for s in ja if s.compare] == [s.shown for s in en if s.compare]
    assert build.images_shown(JA) == build.images_shown(EN)


def sections(text: str) -> list[str]:
    return re.findall(r"^#{2,3} (\d(?:-\d)?)\.", text, re.M)


def test_the_tutorials_follow_the_course_in_its_terms():
    assert sections(JA) == ["0", "1", "2", "2-1", "2-2", "2-3", "2-4", "2-5", "2-6", "2-7", "2-8", "2-9",
                            "3", "3-1", "3-2", "3-3", "4"]
    assert sections(EN) == sections(JA) and "## 次の章" in JA and "## Next chapter" in EN
    for term in ("順伝播", "逆伝播", "活性化関数", "損失関数", "二乗和誤差", "交差エントロピー誤差", "オプティマイザ",
                 "バッチ学習", "オンライン学習", "ミニバッチ学習", "畳み込み", "ゼロパディング", "ストライド",
                 "特徴量マップ", "最大値プーリング", "中間層", "隠れ層"):
        assert term in JA and term in EN, term  # English gives the course's term beside its own


def test_every_picture_a_page_shows_exists_and_every_picture_is_shown():
    shown = set()
    for page in build.markdown_files():
        for name in build.images_shown(page.read_text()):
            assert (build.IMAGES / name).is_file(), (page.name, name)
            shown.add(name)
    assert {p.name for p in build.IMAGES.glob("*.png")} == shown


def test_the_terminal_screen_is_what_a_user_sees():
    assert build.screen("\x1b[?25l\r\x1b[2Ktrain 0/2\r\x1b[2Ktrain 2/2\r\n\x1b[?25h\r\x1b[1A\x1b[2K\x1b[1mdone\x1b[0m\r\n") \
        == "done\n"
    assert build.numbers("epoch 3/10 0.52s loss 0.25 0:00:01 12.5 ms") == ["3", "10", "0.25"]


def test_a_console_block_is_parsed_into_command_and_shown_output():
    text = "x\n```console tail=2\n$ nnkit a \\\n  --b 1\nout 1\nout 2\n$ nnkit c\n```\n```sh\nnnkit d  # 3\npip install x\n```\n"
    a, c, d = build.steps(text)
    assert (a.command, a.shown, a.tail) == ("nnkit a --b 1", "out 1\nout 2\n", 2)
    assert text[a.span[0]:a.span[1]] == "out 1\nout 2\n"
    assert (c.command, c.shown) == ("nnkit c", "")
    assert (d.kind, d.command, d.claim) == ("sh", "nnkit d", "3")


COLAB = re.compile(r'!pip install -q "\./(nnkit_cli-([0-9.]+)\.tar\.gz)\[medical\]"')


def test_the_colab_install_line_names_the_archive_the_build_makes(tmp_path):
    """The README's Colab line installs the file ``python -m build --sdist`` writes, with [medical]."""
    line = COLAB.search(README)
    assert line, "the README's Colab install line is missing"
    archive, version = line.groups()
    assert version == __version__
    assert 'pip install -q "nnkit-cli[medical]"' in README  # the index name, for when it is published
    assert "python -m build --sdist" in README and f"dist/{archive}" in README
    # The same name the build backend gives: PEP 625 (the distribution name normalised, then the version).
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert 'name = "nnkit-cli"' in pyproject and re.search(r"^medical = \[", pyproject, re.M)
    assert archive == f"{re.sub(r'[-_.]+', '_', 'nnkit-cli').lower()}-{__version__}.tar.gz"


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens."""
    text = re.sub(r"[`*]", "", heading.strip().lower())
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(text: str) -> set[str]:
    return {slug(h) for h in re.findall(r"^#+ (.+)$", text, re.M)} | set(re.findall(r'<a id="([^"]+)"', text))


def test_links_between_pages_resolve():
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    for page in pages:
        text = re.sub(r"```.*?```", "", page.read_text(), flags=re.S)
        for target in re.findall(r"\]\(([^)\s]+)\)", text):
            if re.match(r"[a-z]+:", target):
                continue
            path, _, anchor = target.partition("#")
            linked = (page.parent / path).resolve() if path else page
            if not linked.exists() and linked.name == "design.md":
                continue  # written in another branch until the lead merges it
            assert linked.exists(), (page.name, target)
            if anchor:
                assert anchor in anchors(linked.read_text()), (page.name, target)
