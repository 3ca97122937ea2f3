"""samples/course.ipynb runs top to bottom in a real Jupyter kernel, and its cells show the course.

A ``!`` command that fails does not fail its cell, so before the run every ``!nnkit`` line is
followed by a check of IPython's ``_exit_code``: a command that exits non-zero stops the notebook.

The kernel is this interpreter (a kernelspec written into a temporary folder that ``JUPYTER_PATH``
puts first), so ``!nnkit`` is the installed command under test. IPython runs ``!`` commands on a
pseudo-terminal of 80 columns, as Colab does: the tables are drawn, and the progress line of
training must leave no escape sequences behind once the cell has finished.
"""

import os
import re
import shutil
import sys
from pathlib import Path

import nbformat  # nbclient and ipykernel are in the test extra: a missing one fails, never skips
import pytest

from tests.conftest import ROOT, SAMPLES

NOTEBOOK = SAMPLES / "course.ipynb"
SGR = re.compile(r"\x1b\[[0-9;]*m")  # colours and bold: the output area draws them


def visible(text: str) -> str:
    """What a notebook's output area shows: each ``\\r`` overwrites its line from the start."""
    lines = []
    for line in text.replace("\r\n", "\n").split("\n"):
        shown = ""
        for part in line.split("\r"):
            shown = part + shown[len(part):]
        lines.append(shown)
    return "\n".join(lines)


def checked(source: str) -> str:
    """A cell's source with an exit-status check after each ``!nnkit`` line (at the cell's top level)."""
    lines = []
    for line in source.splitlines():
        lines.append(line)
        if line.startswith("!nnkit"):
            lines.append(f"assert _exit_code == 0, {'exit %d: ' + line!r} % _exit_code")
    return "\n".join(lines)


def test_a_failing_command_fails_its_cell():
    namespace = {"_exit_code": 2}
    with pytest.raises(AssertionError, match="exit 2: !nnkit nope"):
        exec(checked("!nnkit nope").split("\n", 1)[1], namespace)
    namespace["_exit_code"] = 0
    exec(checked("!nnkit fine").split("\n", 1)[1], namespace)


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    from ipykernel.kernelspec import install
    from nbclient import NotebookClient

    folder = tmp_path_factory.mktemp("notebook")
    for name in ("brain.png", "mni152_t1_1mm.nii.gz"):
        shutil.copy(SAMPLES / name, folder / name)
    kernels = folder / "kernels"
    install(kernel_name="nnkit-test", prefix=str(kernels))  # kernel.json runs sys.executable
    saved = {key: os.environ.get(key) for key in ("JUPYTER_PATH", "PATH")}
    os.environ["JUPYTER_PATH"] = str(kernels / "share" / "jupyter")
    os.environ["PATH"] = str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", "")
    try:
        notebook = nbformat.read(NOTEBOOK, as_version=4)
        for cell in notebook.cells:
            if cell.cell_type == "code":
                cell.source = checked(cell.source)
        NotebookClient(notebook, kernel_name="nnkit-test", timeout=120,
                       resources={"metadata": {"path": str(folder)}}).execute()
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    return notebook, folder


def cell_text(cell) -> str:
    return "".join(output.get("text", "") for output in cell.get("outputs", []) if output["output_type"] == "stream")


def find_cell(notebook, fragment: str):
    cells = [cell for cell in notebook.cells if cell.cell_type == "code" and fragment in cell.source]
    assert len(cells) == 1, fragment
    return visible(SGR.sub("", cell_text(cells[0])))


@pytest.mark.slow
def test_the_notebook_runs_cleanly(executed):
    notebook, folder = executed
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert all(cell.execution_count for cell in code)
    for cell in code:
        raw = cell_text(cell)
        assert not any(output["output_type"] == "error" for output in cell.outputs), cell.source
        assert "nnkit: error" not in raw and "Traceback" not in raw, (cell.source, raw)
        # colours are fine; cursor moves, line erasing and hidden cursors of a live display are not
        assert "\x1b" not in SGR.sub("", raw), (cell.source, repr(raw[:300]))
        for line in visible(SGR.sub("", raw)).splitlines():
            assert len(line) <= 80, (cell.source, line)  # drawn for the pseudo-terminal's 80 columns
    pictures = [cell for cell in code if "Image(" in cell.source]
    assert len(pictures) == 7
    for cell in pictures:
        assert any("image/png" in output.get("data", {}) for output in cell.outputs), cell.source
    assert (folder / "pooled.png").exists() and not (ROOT / "samples" / "pooled.png").exists()


@pytest.mark.slow
def test_the_notebook_shows_the_courses_numbers(executed):
    notebook, _ = executed
    assert "nnkit 0." in find_cell(notebook, "--version")
    relu = find_cell(notebook, "activate relu --random 5x3")
    assert "┏" in relu and "0.496714" in relu and "1.52303" in relu  # np.random.seed(42) randn, ReLU'd
    assert "1" in find_cell(notebook, "activate softmax 0.3 2.9 4.0")
    (sse,) = [visible(SGR.sub("", cell_text(cell))) for cell in notebook.cells
              if cell.cell_type == "code" and cell.source.splitlines()[0].endswith("--target 2")]
    assert "sse = 0.0559" in sse and "0.045" in sse  # the total and the correct class's ½(0.7 - 1)²
    losses = find_cell(notebook, "--target 5 -f csv").split()
    assert [float(v) for v in losses] == pytest.approx([0.7459, 0.356675, 4.605160], abs=5e-7)
    assert "patient" in find_cell(notebook, "onehot healthy")
    patch = find_cell(notebook, "--patch 150,60")
    assert "image[150:153, 60:63]" in patch and "sum = 1.00784" in patch
    feature = find_cell(notebook, "--filter identity --plot convolve.png")
    assert "400 × 338" in feature and "398 × 336" in feature
    assert "80 × 68" in find_cell(notebook, "pool feature.npy --size 5")
    mni = find_cell(notebook, "--slice axial:80")
    assert "axial slice 2:80" in mni and "anterior up, patient's right on the left" in mni
    assert "XOR is not linearly separable" in find_cell(notebook, "train-xor --hidden none")
    xor = find_cell(notebook, "--seed 10 --plot xor.png")
    assert "learned 4/4" in xor and "AND(h1, h2)" in xor
    assert "train-xor xor 2000/2000" in xor  # the progress line, finished and left in place
    mlp = find_cell(notebook, "train-mlp --epochs 15")
    assert "confusion" in mlp.lower() and "15/15" in mlp
    # the training display: one kept line per epoch, as Keras's fit leaves them (no escape codes: above)
    kept = [line.split() for line in mlp.splitlines() if line.startswith("Epoch ")]
    assert [words[1] for words in kept] == [f"{epoch}/15" for epoch in range(1, 16)]
    assert all("loss" in words and "val_loss" in words for words in kept)
    assert "h_1 = sigmoid(2) = 0.880797" in find_cell(notebook, "dense 2 --weights 0.5")
    forward = find_cell(notebook, "nnkit loss cce --pred - --target 0")
    assert "cce = 0.00671525" in forward and "-0.00669285" in forward  # 順伝播, then ∂L/∂z of 逆伝播
    assert "104,202" in find_cell(notebook, "summary --model course-cnn")


def setup_cell() -> str:
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    first = next(cell for cell in notebook.cells if cell.cell_type == "code")
    return "\n".join(line for line in first.source.splitlines() if not line.startswith("!"))


@pytest.mark.parametrize(
    ("present", "archives", "installed"),
    [
        (set(), ["nnkit_cli-0.1.0.tar.gz"], ["./nnkit_cli-0.1.0.tar.gz[medical]"]),  # a fresh Colab runtime
        (set(), [], ["nnkit-cli[medical]"]),  # nothing uploaded: the index name, once it is published
        ({"nnkit"}, [], ["nibabel", "pydicom"]),  # nnkit without [medical]: the NIfTI cell needs nibabel
        ({"nnkit", "nibabel"}, [], ["pydicom"]),
        ({"nnkit", "nibabel", "pydicom"}, [], None),  # everything there: nothing installed
    ],
)
def test_the_setup_cell_installs_what_the_cells_use_whatever_is_installed(monkeypatch, present, archives, installed):
    import glob
    import importlib.util
    import subprocess

    calls = []
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: object() if name in present else None)
    monkeypatch.setattr(glob, "glob", lambda pattern: list(archives))
    monkeypatch.setattr(subprocess, "run", lambda args, **kw: calls.append(args))
    exec(setup_cell(), {})
    if installed is None:
        assert calls == []
    else:
        assert calls == [[sys.executable, "-m", "pip", "install", "-q", *installed]]


def test_the_setup_cell_covers_every_module_the_cells_need():
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    code = "\n".join(cell.source for cell in notebook.cells if cell.cell_type == "code")
    setup = setup_cell()
    if re.search(r"\.nii(\.gz)?\b|\.dcm\b", code):
        assert '"nibabel"' in setup and '"pydicom"' in setup and "[medical]" in setup
    imported = set(re.findall(r"^(?:from|import) (\w+)", code, re.M))
    assert imported <= {"glob", "importlib", "subprocess", "sys", "pathlib", "IPython"}, imported  # stdlib + kernel


def test_the_cells_follow_the_japanese_tutorials_order():
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    headings = "\n".join(cell.source for cell in notebook.cells if cell.cell_type == "markdown")
    in_notebook = re.findall(r"^## (\d(?:-\d)?)\.", headings, re.M)
    tutorial = re.findall(r"^#{2,3} (\d(?:-\d)?)\.", (ROOT / "docs" / "tutorial.ja.md").read_text(), re.M)
    assert len(in_notebook) >= 10
    positions = [tutorial.index(section) for section in in_notebook]
    assert positions == sorted(positions), in_notebook
