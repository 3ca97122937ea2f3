"""The one text-table reader: what each input accepts, and the line and column of what it refuses."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nnkit.errors import NnkitInputError
from nnkit.files.tables import is_number, read_numbers, read_table, read_words
from nnkit.term.output import to_text

NL = "\n"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("1,2\n3,0x10\n", "t.csv line 2, column 2: not a number: '0x10'"),
        ("1,2\n3,1_000\n", "line 2, column 2: not a number: '1_000'"),
        ("1,2\n3,١٢\n", "line 2, column 2: not a number: '١٢'"),
        ("a,b\n1,2\n3,\n", "line 3, column 2 ('b'): an empty cell"),
        ("1,2\n3\n", "t.csv line 2 has 1 fields; line 1 has 2"),
        ("# head\n\n1,2\n3,4,5\n", "t.csv line 4 has 3 fields; line 3 has 2"),
        ("1,2\n3\x00,4\n", "t.csv line 2, character 2: a control character (NUL)"),
        ("1,2\x1b\n", "line 1, character 4: a control character (ESC)"),
        ("a,b\n", "t.csv has a header but no rows of numbers"),
        ("# only a comment\n", "t.csv holds only comments"),
        ("  \n\n", "t.csv is empty"),
        ('1,"2\n', "t.csv line 1: unexpected end of data"),
        ('{"task": "classification"}', "t.csv is a JSON object"),
        ("[[1, 2], [3]]", "the JSON lists have different lengths"),
        ("[1, true]", "the JSON holds true, not a number"),
        ("[" * 40 + "1" + "]" * 40, "nested more than 32 lists deep"),
        ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
        ("[]", "the JSON list is empty"),
    ],
)
def test_bad_text_is_refused_with_where(text, message):
    with pytest.raises(NnkitInputError) as error:
        read_numbers(text, "t.csv")
    assert message in error.value.message


@pytest.mark.parametrize(
    ("text", "suffix", "expected"),
    [
        ("1,2\n3,4\n", "", [[1, 2], [3, 4]]),
        ("\ufeffx;y\r\n1;2\r\n", "", [1, 2]),  # BOM, CRLF, semicolons, header
        ("# c\n1 2  3\n\n# d\n4 5 6\n", ".txt", [[1, 2, 3], [4, 5, 6]]),
        ("1\t-inf\n", ".tsv", [1.0, -np.inf]),
        ('"a, b",c\n"1",2\n', ".csv", [1, 2]),
        ("[0.5, 0.25]", "", [0.5, 0.25]),
    ],
)
def test_accepted_forms(text, suffix, expected):
    np.testing.assert_array_equal(read_numbers(text, "t", suffix), np.array(expected))


def test_integers_stay_integers_and_floats_stay_floats():
    assert read_numbers("1,2\n3,4\n").dtype == np.int64
    assert read_numbers("1,2\n3,4.0\n").dtype == np.float64
    assert read_numbers("[1, 2]").dtype == np.int64


def test_words_follow_the_same_rules():
    assert read_words("healthy,patient\nhealthy,healthy\n") == ["healthy", "patient", "healthy", "healthy"]
    assert read_words("label\n0\n2\n") == ["0", "2"]
    assert read_words("healthy patient healthy") == ["healthy", "patient", "healthy"]  # one line: labels
    assert read_words('["a", "b"]') == ["a", "b"]
    with pytest.raises(NnkitInputError, match="holds only comments"):
        read_words("# nothing\n")
    with pytest.raises(NnkitInputError, match="line 2 has 1 fields"):
        read_words("1,2\n3\n")


def test_header_detection_and_column_names():
    table = read_table("age,sex,y\n61,m,0\n45,f,1\n")
    assert table.header == ["age", "sex", "y"] and table.width == 3
    with pytest.raises(NnkitInputError, match=r"line 2, column 2 \('sex'\): not a number: 'm'"):
        table.numbers()
    assert table.strings(1) == ["m", "f"]
    np.testing.assert_array_equal(table.numbers([0, 2]), [[61, 0], [45, 1]])


finite = st.floats(allow_nan=False, allow_infinity=True, width=64)


@settings(max_examples=60, deadline=None)
@given(
    matrix=st.integers(1, 5).flatmap(
        lambda cols: st.lists(st.lists(finite, min_size=cols, max_size=cols), min_size=2, max_size=6)
    ),
    fmt=st.sampled_from(["csv", "tsv", "txt", "json"]),
)
def test_what_nnkit_prints_reads_back_exactly(matrix, fmt):
    array = np.array(matrix)
    np.testing.assert_array_equal(read_numbers(to_text(array, fmt), "t"), array)


@settings(max_examples=300, deadline=None)
@given(text=st.text(alphabet=st.sampled_from(list("0123456789.,;\t -+eExXn\"#[]{}\n\r\x00_a")), max_size=40))
def test_any_text_is_an_array_or_an_input_error(text):
    try:
        array = read_numbers(text, "t")
    except NnkitInputError as error:
        assert error.message.startswith("t")
        return
    assert array.dtype.kind in "if" and array.size > 0


@given(st.text(max_size=12))
def test_is_number_agrees_with_numpy(text):
    if is_number(text):
        float(text.strip())  # every accepted cell is a float NumPy and Python read
