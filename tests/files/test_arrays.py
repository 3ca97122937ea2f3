import io

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from nnkit.errors import NnkitInputError
from nnkit.files.arrays import (
    load_array,
    load_tokens,
    parse_bytes,
    parse_numbers,
    parse_shape,
    parse_text_table,
    random_array,
    read_input_file,
)
from nnkit.term.env import Environment
from nnkit.term.output import to_npy_bytes, to_text


def make_env(stdin: bytes = b"", tty: bool = False) -> Environment:
    stdin_stream = io.TextIOWrapper(io.BytesIO(stdin))
    return Environment(stdin_stream, io.StringIO(), io.StringIO(), tty, False, False)


def test_numbers_vector_and_integers():
    got = parse_numbers(["1", " -2", "3"])
    assert got.dtype == np.int64
    np.testing.assert_array_equal(got, [1, -2, 3])


def test_numbers_floats_negative_exponent_and_infinities():
    got = parse_numbers([" -1e-3", "2.5", " -inf", "inf", "nan"])
    assert got.dtype == np.float64
    assert got[0] == -0.001 and got[1] == 2.5 and got[2] == -np.inf and got[3] == np.inf and np.isnan(got[4])


def test_numbers_matrix_with_commas_spaces_and_semicolons():
    np.testing.assert_array_equal(parse_numbers(["1,2;3,4"]), [[1, 2], [3, 4]])
    np.testing.assert_array_equal(parse_numbers(["1 2; 3 4;"]), [[1, 2], [3, 4]])
    np.testing.assert_array_equal(parse_numbers(["1;2;3"]), [[1], [2], [3]])


@pytest.mark.parametrize(
    ("tokens", "message"),
    [(["1", "x"], "not a number: 'x'"), (["1,2;3"], "different lengths"), ([";"], "no numbers"), (["1;;2"], "row 2")],
)
def test_numbers_errors(tokens, message):
    with pytest.raises(NnkitInputError, match=message):
        parse_numbers(tokens)


def test_text_table_header_delimiters_and_comments():
    np.testing.assert_array_equal(parse_text_table("x,y\n1,2\n3,4\n"), [[1, 2], [3, 4]])
    np.testing.assert_array_equal(parse_text_table("a\tb\n1.5\t2\n"), [1.5, 2.0])
    np.testing.assert_array_equal(parse_text_table("# comment\n1 2 3\n\n4 5 6\n"), [[1, 2, 3], [4, 5, 6]])
    assert parse_text_table("1,2\n", suffix=".csv").dtype == np.int64


def test_text_table_errors_name_the_source():
    with pytest.raises(NnkitInputError, match="data.csv is empty"):
        parse_text_table("\n\n", "data.csv")
    with pytest.raises(NnkitInputError, match="data.csv line 2, column 2: not a number: 'oops'"):
        parse_text_table("1,2\n3,oops\n", "data.csv")
    with pytest.raises(NnkitInputError, match="data.csv line 2 has 1 fields; line 1 has 2"):
        parse_text_table("1,2\n3\n", "data.csv")
    with pytest.raises(NnkitInputError, match="header but no rows"):
        parse_text_table("a,b\n", "data.csv")


def test_files_of_every_kind(tmp_path):
    env = make_env()
    matrix = np.array([[0.25, -1.0], [3.0, 1e-300]])
    (tmp_path / "m.csv").write_text("a,b\n0.25,-1\n3,1e-300\n")
    (tmp_path / "m.tsv").write_text("0.25\t-1\n3\t1e-300\n")
    (tmp_path / "m.txt").write_text("0.25 -1\n3   1e-300\n")
    np.save(tmp_path / "m.npy", matrix)
    np.savez(tmp_path / "one.npz", only=matrix)
    np.savez(tmp_path / "two.npz", a=matrix, b=matrix * 2)
    for name in ("m.csv", "m.tsv", "m.txt", "m.npy", "one.npz"):
        np.testing.assert_array_equal(read_input_file(tmp_path / name, env), matrix)
    np.testing.assert_array_equal(read_input_file(tmp_path / "two.npz", env, key="b"), matrix * 2)
    with pytest.raises(NnkitInputError, match="holds 2 arrays; choose one with --key"):
        read_input_file(tmp_path / "two.npz", env)
    with pytest.raises(NnkitInputError, match="no array named 'c'"):
        read_input_file(tmp_path / "two.npz", env, key="c")
    assert (tmp_path / "m.csv") in env.inputs


def test_bad_files(tmp_path):
    env = make_env()
    with pytest.raises(NnkitInputError, match="no such file"):
        read_input_file(tmp_path / "missing.csv", env)
    with pytest.raises(NnkitInputError, match="is a folder"):
        read_input_file(tmp_path, env)
    (tmp_path / "broken.npy").write_bytes(to_npy_bytes(np.arange(100.0))[:90])
    with pytest.raises(NnkitInputError, match="broken.npy is not a valid .npy file"):
        read_input_file(tmp_path / "broken.npy", env)
    (tmp_path / "broken.npz").write_bytes(b"PK\x03\x04garbage")
    with pytest.raises(NnkitInputError, match="broken.npz: not an .npz archive"):
        read_input_file(tmp_path / "broken.npz", env)
    (tmp_path / "binary.csv").write_bytes(b"\xff\xfe\x00\x01")
    with pytest.raises(NnkitInputError, match="neither text .UTF-8; byte 0 on line 1 is not. nor"):
        read_input_file(tmp_path / "binary.csv", env)
    np.save(tmp_path / "objects.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(NnkitInputError, match="objects.npy"):
        read_input_file(tmp_path / "objects.npy", env)


def test_stdin_text_and_npy_bytes():
    np.testing.assert_array_equal(load_array(None, make_env(b"1,2\n3,4\n")), [[1, 2], [3, 4]])
    array = np.arange(6, dtype=np.float32).reshape(2, 3)
    got = load_array(None, make_env(to_npy_bytes(array)))
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, array)
    np.testing.assert_array_equal(load_array(None, make_env(b"5 6"), input_path="-"), [5, 6])


def test_stdin_errors():
    with pytest.raises(NnkitInputError, match="no input"):
        load_array(None, make_env(tty=True))
    with pytest.raises(NnkitInputError, match="stdin is empty"):
        load_array(None, make_env(b"  \n"))
    with pytest.raises(NnkitInputError, match="one way"):
        load_array(["1"], make_env(), input_path="x.csv")


def test_random_reproduces_the_course():
    np.random.seed(42)
    expected = np.random.randn(5, 3)
    np.testing.assert_array_equal(random_array("5x3", 42), expected)
    assert random_array("4", 0).shape == (4,)
    with pytest.raises(NnkitInputError, match="not a shape"):
        random_array("5xq", 1)
    with pytest.raises(NnkitInputError, match="positive"):
        random_array("0x3", 1)


def test_parse_shape():
    assert parse_shape("5x3") == (5, 3)
    assert parse_shape(" -1,20") == (-1, 20)
    assert parse_shape("2 3 4") == (2, 3, 4)


def test_tokens_names_numbers_header_and_npy(tmp_path):
    assert load_tokens(["healthy", "patient,healthy"], make_env()) == ["healthy", "patient", "healthy"]
    assert load_tokens(None, make_env(b"label\n0\n2\n1\n")) == ["0", "2", "1"]
    assert load_tokens(None, make_env(b"cat dog\ncat mouse\n")) == ["cat", "dog", "cat", "mouse"]
    with pytest.raises(NnkitInputError, match="stdin line 2 has 1 fields; line 1 has 2"):
        load_tokens(None, make_env(b"cat dog\ncat\n"))
    np.testing.assert_array_equal(load_tokens(None, make_env(to_npy_bytes(np.array([1, 0])))), [1, 0])
    with pytest.raises(NnkitInputError, match="no labels"):
        load_tokens(None, make_env(tty=True))


finite = st.floats(allow_nan=False, allow_infinity=True, width=64)


@settings(max_examples=60, deadline=None)
@given(arrays(np.float64, st.tuples(st.integers(1, 5), st.integers(1, 5)), elements=finite))
def test_csv_and_npy_round_trip(matrix):
    for fmt in ("csv", "tsv"):
        text = to_text(matrix, fmt)
        back = parse_text_table(text, suffix="." + fmt)
        np.testing.assert_array_equal(np.asarray(back, dtype=np.float64).reshape(matrix.shape), matrix)
    np.testing.assert_array_equal(parse_bytes(to_npy_bytes(matrix), "stdin"), matrix)


@settings(max_examples=60, deadline=None)
@given(arrays(np.float32, st.integers(1, 8), elements=st.floats(width=32, allow_nan=False)))
def test_float32_text_round_trip_is_exact(vector):
    back = parse_text_table(to_text(vector, "csv"))
    np.testing.assert_array_equal(np.asarray(back, dtype=np.float64).astype(np.float32).reshape(vector.shape), vector)
