"""Failing systems, for real: a full disk, read-only files, closed streams, names too long.

Each ends with exit 2 and one ``nnkit: error:`` line naming the path and the cause; a failed write
leaves an existing target as it was and no temporary file behind. The full disk is a 64 KB tmpfs
mounted for the test (root can mount one); where mounting is not allowed, the same write is made
to fail in-process with the ``OSError`` the kernel would raise (``ENOSPC`` at the write call).
"""

from __future__ import annotations

import contextlib
import errno
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from tests.conftest import nnkit_executable, run_cli


def run(args: list[str], cwd: Path, shell_redirect: str = "", stdin: bytes | None = None):
    """Run the installed nnkit through ``sh`` so that ``>&-``/``<&-`` close real descriptors."""
    command = " ".join(_quote(a) for a in [nnkit_executable(), *args]) + " " + shell_redirect
    result = subprocess.run(
        ["sh", "-c", command], cwd=cwd, input=stdin, capture_output=True, timeout=120,
        env={**os.environ, "COLUMNS": "100"},
    )
    return result.returncode, result.stdout.decode(errors="replace"), result.stderr.decode(errors="replace")


def _quote(word: str) -> str:
    return "'" + word.replace("'", "'\\''") + "'"


def assert_one_error(code: int, stderr: str, *fragments: str) -> None:
    assert code == 2, (code, stderr)
    lines = stderr.strip().splitlines()
    assert lines and lines[0].startswith("nnkit: error: "), stderr
    assert all(line.startswith("  hint: ") for line in lines[1:]), stderr
    assert "Traceback" not in stderr and "Warning" not in stderr
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])


@pytest.fixture
def full_disk(tmp_path):
    """A folder on a file system with no space left (a tmpfs filled up), or None if none can be mounted."""
    mount = tmp_path / f"full-{uuid.uuid4().hex[:6]}"
    mount.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount)],
                             capture_output=True).returncode == 0
    if not mounted:
        yield None
        return
    try:
        (mount / "old.csv").write_text("7,7,7\n")
        with contextlib.suppress(OSError), open(mount / "filler", "wb", buffering=0) as filler:
            while True:
                filler.write(b"\0" * 4096)
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], capture_output=True)


def test_a_full_disk_is_an_input_error_and_the_old_file_survives(full_disk, tmp_path, monkeypatch):
    if full_disk is not None:
        before = sorted(p.name for p in full_disk.iterdir())
        code, _, err = run(["activate", "relu", "--random", "300x300", "-o", str(full_disk / "old.csv")], tmp_path)
        assert_one_error(code, err, f"cannot write {full_disk / 'old.csv'}: No space left on device")
        assert (full_disk / "old.csv").read_text() == "7,7,7\n"
        assert sorted(p.name for p in full_disk.iterdir()) == before  # no temporary file left
        code, _, err = run(["train-xor", "--epochs", "5", "--save", str(full_disk / "m.npz")], tmp_path)
        assert_one_error(code, err, "No space left on device")
        assert sorted(p.name for p in full_disk.iterdir()) == before
        # stdout redirected to a file on the full disk: the final write fails, still one line.
        code, _, err = run(["activate", "relu", "--random", "300x300"], tmp_path,
                           f"> {_quote(str(full_disk / 'out.csv'))}")
        assert_one_error(code, err, "standard output", "No space left on device")
    else:  # no tmpfs here (not root, or a sandbox): the kernel's answer, simulated at the write call
        _simulated_full_disk(tmp_path, monkeypatch)


def test_a_write_call_failing_with_enospc_leaves_the_old_file(tmp_path, monkeypatch):
    _simulated_full_disk(tmp_path, monkeypatch)


def _simulated_full_disk(tmp_path, monkeypatch):
    (tmp_path / "old.csv").write_text("7,7,7\n")
    real_fdopen = os.fdopen

    class FullFile:
        def __init__(self, handle):
            self.handle = handle

        def write(self, data):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.handle.close()

    monkeypatch.setattr(os, "fdopen", lambda fd, mode: FullFile(real_fdopen(fd, mode)))
    result = run_cli("activate", "relu", "1", "-o", str(tmp_path / "old.csv"))
    result.assert_input_error("No space left on device")
    assert (tmp_path / "old.csv").read_text() == "7,7,7\n"
    assert [p.name for p in tmp_path.iterdir()] == ["old.csv"]


def test_a_read_only_target_is_refused_even_for_root(tmp_path):
    target = tmp_path / "ro.csv"
    target.write_text("old\n")
    target.chmod(0o444)
    for args in (["activate", "relu", "1", "-o", str(target)],
                 ["train-xor", "--epochs", "2", "--save", str(tmp_path / "ro.npz")]):
        if args[0] == "train-xor":
            (tmp_path / "ro.npz").write_bytes(b"keep")
            (tmp_path / "ro.npz").chmod(0o444)
        code, _, err = run(args, tmp_path)
        assert_one_error(code, err, "is read-only (mode 444)")
    assert target.read_text() == "old\n" and (tmp_path / "ro.npz").read_bytes() == b"keep"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ro.csv", "ro.npz"]


def test_closed_streams(tmp_path):
    code, out, err = run(["activate", "relu", "1", "-2", "3"], tmp_path, ">&-")
    assert_one_error(code, err, "cannot write the result to standard output: standard output is closed")
    code, _, err = run(["activate", "relu"], tmp_path, "<&-")
    assert_one_error(code, err, "cannot read standard input: standard input is closed")
    code, _, err = run(["onehot"], tmp_path, "<&-")
    assert_one_error(code, err, "standard input is closed")
    # A closed stderr: nowhere to tell, but the status still says it.
    code, out, err = run(["activate", "relu", "oops"], tmp_path, "2>&-")
    assert (code, out) == (2, "")
    # Writing to a file needs no stdout.
    code, _, err = run(["activate", "relu", "1", "-o", "r.csv"], tmp_path, ">&-")
    assert code == 0 and (tmp_path / "r.csv").read_text() == "1.0\n"


def test_names_too_long_are_paths_refused_or_numbers_read(tmp_path):
    long_word = "a" * 5000
    code, _, err = run(["activate", "relu", "-i", long_word], tmp_path)
    assert_one_error(code, err, "(5000 characters): File name too long")
    pred = ",".join(["0.5"] * 400)
    code, out, err = run(["loss", "mse", "--pred", pred, "--target", ",".join(["1"] * 400)], tmp_path)
    assert code == 0 and abs(float(out) - 0.25) < 1e-12, err
    code, _, err = run(["reshape", "1," * 2000 + "1", "--shape", "-1"], tmp_path)
    assert code == 0, err
    code, _, err = run(["activate", "relu", "1", "-o", "x" * 300 + ".csv"], tmp_path)
    assert_one_error(code, err, "File name too long")
    assert list(tmp_path.iterdir()) == []


def test_stdin_that_is_a_folder_stops_python_before_nnkit_starts(tmp_path):
    # CPython refuses a directory as stdin while it initialises (init_sys_streams), before any
    # code of nnkit runs: nothing nnkit can change. This records what the user sees.
    code, _, err = run(["activate", "relu"], tmp_path, "< /")
    assert code != 0 and "is a directory" in err
    assert sys.version_info >= (3, 11)


# --- class 4: every target checked before the first write --------------------------------------------


def test_several_outputs_are_all_or_nothing(tmp_path):
    import numpy as np

    images = tmp_path / "in"
    images.mkdir()
    for name in ("a", "b"):
        np.save(images / f"{name}.npy", np.arange(36.0).reshape(6, 6))
    out = tmp_path / "out"
    out.mkdir()
    (out / "b.png").mkdir()  # the second target is a folder: refused before a.png is written
    code, _, err = run(["convolve", str(images) + "/", "--filter", "box", "-o", str(out) + "/"], tmp_path)
    assert_one_error(code, err, "it is a folder")
    assert sorted(p.name for p in out.iterdir()) == ["b.png"]
    code, _, err = run(["convolve", str(images / "a.npy"), "--filter", "box", "-o", "x.png",
                        "--save-array", "missing/x.npy"], tmp_path)
    assert_one_error(code, err, "the folder missing does not exist")
    code, _, err = run(["pool", str(images / "a.npy"), "--size", "2", "-o", "same.npy",
                        "--save-array", "same.npy"], tmp_path)
    assert_one_error(code, err, "-o and --save-array would both write same.npy")
    code, _, err = run(["train-xor", "--epochs", "2", "--save", "m.npz", "--plot", "nowhere/p.png"], tmp_path)
    assert_one_error(code, err, "the folder nowhere does not exist")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in", "out"]


def test_training_data_and_resumed_models_are_inputs(tmp_path):
    import numpy as np

    rng = np.random.default_rng(0)
    np.savez(tmp_path / "k.npz", x_train=rng.integers(0, 255, (40, 4, 4), dtype=np.uint8),
             y_train=np.arange(40) % 2, x_test=rng.integers(0, 255, (10, 4, 4), dtype=np.uint8),
             y_test=np.arange(10) % 2)
    before = (tmp_path / "k.npz").read_bytes()
    code, _, err = run(["train-mlp", "--data", "k.npz", "--epochs", "1", "--save", "k.npz"], tmp_path)
    assert_one_error(code, err, "--save k.npz is one of the inputs")
    assert (tmp_path / "k.npz").read_bytes() == before
    code, _, err = run(["train-mlp", "--data", "k.npz", "--epochs", "1", "--save", "m.npz", "-q"], tmp_path)
    assert code == 0, err
    model = (tmp_path / "m.npz").read_bytes()
    code, _, err = run(["train-mlp", "--data", "k.npz", "--resume", "m.npz", "--epochs", "1",
                        "--plot", "./m.npz"], tmp_path)
    assert_one_error(code, err, "--plot writes .png files")
    code, _, err = run(["train-mlp", "--data", "k.npz", "--resume", "m.npz", "--epochs", "1",
                        "--save", "./m.npz", "--plot", "m.png", "-q"], tmp_path)
    assert_one_error(code, err, "--save m.npz is one of the inputs")
    assert (tmp_path / "m.npz").read_bytes() == model
    assert sorted(p.name for p in tmp_path.iterdir()) == ["k.npz", "m.npz"]
