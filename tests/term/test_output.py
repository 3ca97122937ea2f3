import io
import json

import numpy as np
import pytest
from PIL import Image

from nnkit.errors import NnkitInputError
from nnkit.term.env import Environment
from nnkit.term.output import (
    array_table,
    array_to_uint8,
    atomic_write,
    emit,
    format_number,
    resolve_format,
    to_text,
    write_array_file,
)


class FakeStdout(io.TextIOWrapper):
    def __init__(self, tty: bool):
        super().__init__(io.BytesIO(), encoding="utf-8")
        self._tty = tty

    def isatty(self):
        return self._tty

    def value(self) -> bytes:
        self.flush()
        return self.buffer.getvalue()


def make_env(tty: bool = False):
    out = FakeStdout(tty)
    return Environment(io.StringIO(), out, io.StringIO(), False, tty, False), out


def test_text_formats():
    assert to_text(np.float64(0.1), "csv") == "0.1\n"
    assert to_text(np.array([1.5, -2.0, np.inf]), "csv") == "1.5,-2.0,inf\n"
    assert to_text(np.array([[1, 2], [3, 4]]), "tsv") == "1\t2\n3\t4\n"
    assert to_text(np.array([True, False]), "csv") == "1,0\n"
    assert to_text(np.array(["cat", "dog"]), "csv") == "cat,dog\n"
    assert json.loads(to_text(np.array([[1.0, 2.5]]), "json")) == [[1.0, 2.5]]
    assert to_text(np.float32(0.1).reshape(()), "csv") == "0.1\n"
    assert json.loads(to_text(np.array([0.1], dtype=np.float32), "json")) == [0.1]


def test_full_precision_round_trip():
    values = np.array([1 / 3, 2**-1074, 1.7976931348623157e308])
    assert np.array_equal(np.array(to_text(values, "csv").strip().split(","), dtype=float), values)


def test_format_number():
    assert format_number(1 / 3, 3) == "0.333"
    assert format_number(np.int64(7)) == "7"
    assert format_number(np.nan) == "nan"


def test_default_format_depends_on_the_terminal():
    env, _ = make_env(tty=True)
    assert resolve_format(None, env) == "table"
    env, _ = make_env(tty=False)
    assert resolve_format(None, env) == "csv"


def test_npy_refused_on_a_terminal():
    env, _ = make_env(tty=True)
    with pytest.raises(NnkitInputError, match="terminal"):
        resolve_format("npy", env)


def test_emit_machine_formats_print_only_the_result():
    env, out = make_env()
    emit(np.array([[1, 0], [0, 1]]), env, "csv")
    assert out.value() == b"1,0\n0,1\n"
    env, out = make_env()
    emit(np.arange(3.0), env, "npy")
    assert np.array_equal(np.load(io.BytesIO(out.value())), np.arange(3.0))


def test_emit_table_rounds_to_precision():
    env, out = make_env()
    emit(np.array([1 / 3, 2 / 3]), env, "table", precision=3)
    text = out.value().decode()
    assert "0.333" in text and "0.667" in text and "0.3333" not in text


def test_emit_to_file_prints_nothing_in_a_pipe(tmp_path):
    env, out = make_env()
    emit(np.array([1, 2]), env, None, str(tmp_path / "r.json"))
    assert out.value() == b""
    assert json.loads((tmp_path / "r.json").read_text()) == [1, 2]


@pytest.mark.parametrize("suffix", [".csv", ".tsv", ".txt", ".json", ".npy", ".png"])
def test_write_every_extension(tmp_path, suffix):
    env, _ = make_env()
    matrix = np.array([[0.0, 0.5], [1.0, 2.0]])
    path = tmp_path / f"out{suffix}"
    write_array_file(matrix, path, env)
    if suffix == ".npy":
        assert np.array_equal(np.load(path), matrix)
    elif suffix == ".png":
        assert np.array_equal(np.asarray(Image.open(path)), [[0, 64], [128, 255]])
    elif suffix == ".json":
        assert json.loads(path.read_text()) == matrix.tolist()
    else:
        separator = {".csv": ",", ".tsv": "\t", ".txt": " "}[suffix]
        assert path.read_text() == f"0.0{separator}0.5\n1.0{separator}2.0\n"


def test_unknown_extension_and_missing_folder(tmp_path):
    env, _ = make_env()
    with pytest.raises(NnkitInputError, match="extension"):
        write_array_file(np.zeros(2), tmp_path / "out.xyz", env)
    with pytest.raises(NnkitInputError, match="does not exist"):
        write_array_file(np.zeros(2), tmp_path / "no" / "out.csv", env)


def test_atomic_write_leaves_nothing_on_failure(tmp_path):
    target = tmp_path / "out.csv"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic_write(target) as handle:
        handle.write(b"half")
        raise RuntimeError("interrupted")
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv"]


def test_refuses_to_overwrite_an_input(tmp_path):
    env, _ = make_env()
    source = tmp_path / "in.csv"
    source.write_text("1,2\n")
    env.inputs.append(source)
    with pytest.raises(NnkitInputError, match="refusing to overwrite the input file"):
        write_array_file(np.zeros(2), tmp_path / "." / "in.csv", env)
    assert source.read_text() == "1,2\n"


def test_png_scaling():
    np.testing.assert_array_equal(array_to_uint8(np.full((2, 2), 3.0)), np.zeros((2, 2)))
    np.testing.assert_array_equal(array_to_uint8(np.array([[-1.0, 0.5, 2.0]]), clip=True), [[0, 128, 255]])
    with pytest.raises(NnkitInputError, match="NaN"):
        array_to_uint8(np.array([[np.nan]]))


def test_a_wide_matrix_shows_only_the_columns_that_fit():
    from rich.console import Console

    console = Console(file=io.StringIO(), width=80, color_system=None)
    matrix = np.arange(4 * 30, dtype=float).reshape(4, 30) + 0.123456
    console.print(array_table(matrix, 6, width=80))
    text = console.file.getvalue()
    assert max(len(line) for line in text.splitlines()) <= 80
    assert "29.1235" in text and "…" in text  # first and last columns whole, the middle elided
    assert "0.123456" in text and "119.123" in text
