"""The course's notation (docs/conventions.md, "The course's column vectors"): a single column is one vector, with a note saying so.

The course writes its vectors as columns: ya and t2 are 10×1 (python_4_dl_intro.md, 2-7). Every
command that takes an array is run here on the row, the column and the matrix forms of the course's
examples, in -f csv, -f json and the table, checking the course's numbers and the stderr note.
"""

import json
import math

import numpy as np
import pytest
import scipy.special

from nnkit.files.orientation import COLUMN_READINGS

YA = np.array([0.01, 0.03, 0.7, 0.1, 0.01, 0.01, 0.01, 0.02, 0.1, 0.01])
ROW = ",".join(str(v) for v in YA)
COLUMN = ";".join(str(v) for v in YA)
DELTA = 1e-7
# the course's printed values, and what they are: ½Σ(y - t)² and -log(y_label + δ)
SSE = {2: 0.0559, 5: 0.7459}
CCE = {2: 0.356675, 5: 4.605160}


def onehot(label: int, sep: str) -> str:
    return sep.join("1" if i == label else "0" for i in range(10))


def note_of(run) -> str:
    return " ".join(run.stderr.split())


def assert_column_note(run, n: int = 10, what: str = "--pred") -> None:
    note = note_of(run)
    assert f"nnkit: {what} is a {n}×1 column: read as one vector of {n} values (the course's notation)" in note
    assert "--column samples" in note
    assert run.stderr.count("\n") == 1  # one line


def table_number(run, label: str) -> float:
    # "sse = 0.0559  (the sum of the contributions)"
    line = next(line for line in run.stdout.splitlines() if line.startswith(f"{label} = "))
    return float(line.split()[2])


def test_the_hand_computed_course_numbers():
    for label in (2, 5):
        t = np.eye(10)[label]
        assert 0.5 * np.sum((YA - t) ** 2) == pytest.approx(SSE[label], abs=1e-12)
        assert -np.sum(t * np.log(YA + DELTA)) == pytest.approx(CCE[label], abs=5e-7)


@pytest.mark.parametrize("label", [2, 5])
@pytest.mark.parametrize("kind", ["sse", "cce"])
@pytest.mark.parametrize(
    ("pred", "target", "column"),
    [
        (ROW, "index", False),
        (ROW, "onehot-row", False),
        (COLUMN, "index", True),
        (COLUMN, "onehot-column", True),
        (COLUMN, "onehot-row", True),
    ],
)
def test_loss_gives_the_courses_numbers_in_every_form_and_format(cli, kind, label, pred, target, column):
    t = {"index": str(label), "onehot-row": onehot(label, ","), "onehot-column": onehot(label, ";")}[target]
    expected = (SSE if kind == "sse" else CCE)[label]
    tolerance = 1e-12 if kind == "sse" else 5e-7
    runs = {fmt: cli("loss", kind, "--pred", pred, "--target", t, "-f", fmt) for fmt in ("csv", "json", "table")}
    for run in runs.values():
        assert run.exit_code == 0, run.stderr
        if column:
            assert_column_note(run)
        else:
            assert run.stderr == ""
    assert float(runs["csv"].stdout) == pytest.approx(expected, abs=tolerance)
    assert runs["csv"].stdout.count("\n") == 1  # the number only: the note is on stderr
    assert json.loads(runs["json"].stdout) == pytest.approx(expected, abs=tolerance)
    assert table_number(runs["table"], kind) == pytest.approx(expected, abs=5e-6)  # 6 significant digits


@pytest.mark.parametrize("kind", ["sse", "cce"])
def test_a_matrix_is_one_sample_per_row(cli, kind):
    matrix = f"{ROW};{ROW}"
    expected = [(SSE if kind == "sse" else CCE)[label] for label in (2, 5)]
    for indices in ("2,5", "2;5"):  # a row or a column of class indices: one per sample
        run = cli("loss", kind, "--pred", matrix, "--target", indices, "--reduction", "none", "-f", "json")
        assert run.stderr == ""
        assert json.loads(run.stdout) == pytest.approx(expected, abs=5e-7)
    dense = f"{onehot(2, ',')};{onehot(5, ',')}"
    run = cli("loss", kind, "--pred", matrix, "--target", dense, "-f", "csv")  # mean over the 2 samples
    assert float(run.stdout) == pytest.approx(sum(expected) / 2, abs=5e-7)


@pytest.mark.parametrize("kind", ["sse", "cce"])
def test_the_gradient_of_a_column_is_a_column(cli, kind):
    t = np.eye(10)[2]
    expected = YA - t if kind == "sse" else -t / (YA + DELTA)
    run = cli("loss", kind, "--pred", COLUMN, "--target", onehot(2, ";"), "-g", "-f", "json")
    assert_column_note(run)
    got = np.array(json.loads(run.stdout))
    assert got.shape == (10, 1)
    np.testing.assert_allclose(got[:, 0], expected, rtol=1e-14, atol=1e-17)
    run = cli("loss", kind, "--pred", COLUMN, "--target", "2", "-g", "-f", "csv")
    assert run.stdout.count("\n") == 10  # one value per line: the column's shape
    np.testing.assert_allclose([float(v) for v in run.stdout.split()], expected, rtol=1e-14, atol=1e-17)
    run = cli("loss", kind, "--pred", ROW, "--target", "2", "-g", "-f", "csv")
    assert run.stdout.count("\n") == 1 and run.stderr == ""  # a row stays a row


@pytest.mark.parametrize("kind", ["mse", "mae", "bce"])
def test_losses_that_average_give_the_same_mean_in_both_readings(cli, kind):
    # mse, mae and bce average over a sample's outputs: one vector of 10 or 10 samples of 1, the
    # default mean is the same number; only --reduction sum/none tell the readings apart.
    t = onehot(2, ";")
    vector = cli("loss", kind, "--pred", COLUMN, "--target", t)
    samples = cli("loss", kind, "--pred", COLUMN, "--target", t, "--column", "samples")
    assert_column_note(vector)
    assert samples.stderr == ""
    assert float(vector.stdout) == pytest.approx(float(samples.stdout), rel=1e-14)
    per_sample = cli("loss", kind, "--pred", COLUMN, "--target", t, "--column", "samples", "--reduction", "none")
    assert len(per_sample.stdout.split(",")) == 10
    one = cli("loss", kind, "--pred", COLUMN, "--target", t, "--reduction", "none", "-q")
    assert float(one.stdout) == pytest.approx(float(vector.stdout), rel=1e-14) and one.stderr == ""


def test_the_other_reading_and_the_quiet_and_explicit_ones(cli):
    t2 = onehot(2, ";")
    samples = cli("loss", "sse", "--pred", COLUMN, "--target", t2, "--column", "samples")
    assert float(samples.stdout) == pytest.approx(SSE[2] / 10, abs=1e-12)  # mean over 10 samples
    assert samples.stderr == ""
    explicit = cli("loss", "sse", "--pred", COLUMN, "--target", t2, "--column", "vector")
    quiet = cli("loss", "sse", "--pred", COLUMN, "--target", t2, "-q")
    for run in (explicit, quiet):
        assert float(run.stdout) == pytest.approx(SSE[2], abs=1e-12) and run.stderr == ""
    # a class index beside a column read as samples is one index per sample: 10 of them
    run = cli("loss", "cce", "--pred", COLUMN, "--target", "2", "--column", "samples")
    run.assert_input_error("--pred has shape (10, 1) but --target has shape (1,)")
    assert COLUMN_READINGS == ("vector", "samples")


def test_a_one_hot_column_from_a_pipe_and_a_file(shell, tmp_path):
    # the course's t2 as a column in a pipe, and ya as a one-column file
    result = shell(f'nnkit onehot 2 --classes 10 -f csv | nnkit reshape --shape -1,1 | nnkit loss cce --pred "{COLUMN}" --target -')
    assert result.returncode == 0, result.stderr
    assert float(result.stdout) == pytest.approx(CCE[2], abs=5e-7)
    assert b"--pred is a 10" in result.stderr and b"--column samples" in result.stderr
    np.savetxt(tmp_path / "ya.csv", YA.reshape(-1, 1), delimiter=",")
    result = shell(f"nnkit loss sse --pred {tmp_path / 'ya.csv'} --target 5 -f json")
    assert json.loads(result.stdout) == pytest.approx(SSE[5], abs=1e-12)
    assert result.stderr.count(b"\n") == 1


# --- softmax -------------------------------------------------------------------------------------


def test_softmax_of_a_column_is_one_column_vector_in_every_format(cli):
    expected = scipy.special.softmax([1.0, 2.0, 3.0])
    csv = cli("activate", "softmax", "1;2;3", "-f", "csv")
    assert_column_note(csv, 3, "the input")
    values = [float(line) for line in csv.stdout.splitlines()]
    assert len(values) == 3  # a column in, a column out
    np.testing.assert_allclose(values, expected, rtol=1e-15)
    assert math.fsum(values) == pytest.approx(1.0, abs=1e-12)
    js = cli("activate", "softmax", "1;2;3", "-f", "json")
    assert_column_note(js, 3, "the input")
    got = np.array(json.loads(js.stdout))
    assert got.shape == (3, 1)
    np.testing.assert_allclose(got[:, 0], expected, rtol=1e-15)
    table = cli("activate", "softmax", "1;2;3", "-f", "table")
    assert_column_note(table, 3, "the input")
    assert "0.0900306" in table.stdout and "0.665241" in table.stdout
    assert "sum of the outputs: 1\n" in table.stdout
    npy = cli("activate", "softmax", "1;2;3", "-f", "npy")
    assert_column_note(npy, 3, "the input")


def test_softmax_of_a_row_and_of_a_matrix_is_per_row(cli):
    row = cli("activate", "softmax", "1,2,3", "-f", "json")
    assert row.stderr == ""
    np.testing.assert_allclose(json.loads(row.stdout), scipy.special.softmax([1, 2, 3]), rtol=1e-15)
    matrix = cli("activate", "softmax", "1,2,3;1,1,1", "-f", "json")
    got = np.array(json.loads(matrix.stdout))
    np.testing.assert_allclose(got, scipy.special.softmax([[1, 2, 3], [1, 1, 1]], axis=1), rtol=1e-15)
    np.testing.assert_allclose(got.sum(axis=1), 1.0, atol=1e-12)
    assert matrix.stderr == ""
    table = cli("activate", "softmax", "1,2,3", "-f", "table")
    assert "sum of the outputs: 1\n" in table.stdout


def test_softmax_of_a_column_read_otherwise(cli):
    # each one-element row on its own: all 1, as asked, and no note
    for args in (["--column", "samples"], ["--axis", "1"], ["--axis", "-1"]):
        run = cli("activate", "softmax", "1;2;3", *args, "-f", "csv")
        assert run.stdout == "1.0\n1.0\n1.0\n" and run.stderr == "", args
    run = cli("activate", "softmax", "1;2;3", "--axis", "0", "-f", "csv")  # the column's axis, chosen
    np.testing.assert_allclose([float(v) for v in run.stdout.split()], scipy.special.softmax([1, 2, 3]))
    assert run.stderr == ""
    run = cli("activate", "softmax", "1;2;3", "-q", "-f", "csv")
    assert run.stderr == "" and len(run.stdout.split()) == 3


def test_softmax_jacobian_of_a_column(cli):
    s = scipy.special.softmax([1.0, 2.0, 3.0])
    run = cli("activate", "softmax", "-d", "1;2;3", "-f", "json")
    assert_column_note(run, 3, "the input")
    np.testing.assert_allclose(json.loads(run.stdout), np.diag(s) - np.outer(s, s), rtol=1e-14, atol=1e-17)
    row = cli("activate", "softmax", "-d", "1,2,3", "-f", "json")
    assert json.loads(row.stdout) == json.loads(run.stdout) and row.stderr == ""


def test_elementwise_functions_keep_a_column_without_a_note(cli):
    run = cli("activate", "relu", "1;-2;3", "-f", "json")
    assert json.loads(run.stdout) == [[1.0], [0.0], [3.0]] and run.stderr == ""
    run = cli("activate", "sigmoid", "0;2", "-f", "table")
    assert "0.880797" in run.stdout and run.stderr == ""


# --- onehot, reshape, convolve, pool ------------------------------------------------------------------


def test_decode_a_one_hot_column_is_one_label(cli):
    column = cli("onehot", "--decode", onehot(2, ";"), "-f", "json")
    assert json.loads(column.stdout) == [2]
    assert_column_note(column, 10, "the input")
    row = cli("onehot", "--decode", onehot(2, ","), "-f", "json")
    assert json.loads(row.stdout) == [2] and row.stderr == ""
    course = cli("onehot", "--decode", COLUMN, "-f", "csv")  # the course's ya: class 2 is most likely
    assert course.stdout == "2\n"
    matrix = cli("onehot", "--decode", f"{onehot(2, ',')};{onehot(5, ',')}", "-f", "csv")
    assert matrix.stdout == "2,5\n" and matrix.stderr == ""
    samples = cli("onehot", "--decode", onehot(2, ";"), "--column", "samples", "-f", "csv")
    assert samples.stdout == ",".join("0" * 10) + "\n" and samples.stderr == ""
    table = cli("onehot", "--decode", onehot(2, ";"), "-f", "table", "--names", ",".join("abcdefghij"))
    assert "c" in table.stdout.split() and table.stderr.count("\n") == 1


def test_encoding_labels_in_a_column_is_one_row_per_label(cli):
    # labels are one sample each, whatever the layout: a column of labels is no vector
    for labels, stdin in (("2,5", None), ("2 5", None), (None, "2\n5\n")):
        run = cli("onehot", *([labels] if labels else []), "--classes", "10", "-f", "json", input=stdin)
        assert json.loads(run.stdout) == np.eye(10)[[2, 5]].tolist() and run.stderr == ""


def test_reshape_turns_the_row_into_the_courses_column_and_back(cli):
    run = cli("reshape", ROW, "--shape", "-1,1", "-f", "json")
    assert np.array(json.loads(run.stdout)).shape == (10, 1) and run.stderr == ""
    run = cli("reshape", COLUMN, "--shape", "1,-1", "-f", "csv")
    assert [float(v) for v in run.stdout.split(",")] == YA.tolist() and run.stderr == ""


def test_images_are_not_vectors(cli):
    # convolve and pool read any 2-D array as an image: a 10×1 column is a 10-pixel-high image
    run = cli("pool", "-", "--size", "5", "-f", "json", input="\n".join(str(v) for v in YA) + "\n")
    assert json.loads(run.stdout) == [[0.7], [0.1]] and "column" not in run.stderr
    run = cli("convolve", "-", "--kernel", "1;1", "-f", "json", input="1\n2\n3\n")
    assert json.loads(run.stdout) == [[3.0], [5.0]] and "column" not in run.stderr


def test_dense_takes_the_courses_column_as_one_input(cli):
    w = np.array([[0.1, 0.2, 0.3], [0.4, 0.5, 0.6], [0.7, 0.8, 0.9]])
    b = np.array([1.0, 0.0, -1.0])
    expected = np.array([1.0, 2.0, 3.0]) @ w + b  # [4, 3.6, 3.2]
    weights = "0.1,0.2,0.3;0.4,0.5,0.6;0.7,0.8,0.9"
    row = cli("dense", "1,2,3", "-w", weights, "-b", "1,0,-1", "-f", "json")
    np.testing.assert_allclose(json.loads(row.stdout), expected, rtol=1e-15)
    assert row.stderr == ""
    column = cli("dense", "1;2;3", "-w", weights, "-b", "1,0,-1", "-f", "json")
    assert_column_note(column, 3, "the input")
    got = np.array(json.loads(column.stdout))
    assert got.shape == (3, 1)  # a column in, a column out
    np.testing.assert_allclose(got[:, 0], expected, rtol=1e-15)
    matrix = cli("dense", "1,2,3;1,2,3", "-w", weights, "-b", "1,0,-1", "-f", "csv")
    assert len(matrix.stdout.splitlines()) == 2 and matrix.stderr == ""
    samples = cli("dense", "1;2;3", "-w", "0.5", "--column", "samples", "-f", "json")
    assert json.loads(samples.stdout) == [[0.5], [1.0], [1.5]] and samples.stderr == ""


def test_softmax_plot_marks_a_column_as_it_marks_the_row(cli, tmp_path, monkeypatch):
    import nnkit.plots.curves

    marked = []
    monkeypatch.setattr(nnkit.plots.curves, "plot_curves", lambda *a, points=None, **k: marked.append(points))
    for values in ("1,2,3", "1;2;3"):
        assert cli("activate", "softmax", values, "--plot", str(tmp_path / "s.png"), "-q").exit_code == 0
    (row_x, row_y), (col_x, col_y) = marked
    np.testing.assert_array_equal(col_x, row_x)
    np.testing.assert_allclose(col_y, scipy.special.softmax([1, 2, 3]), rtol=1e-15)
    np.testing.assert_array_equal(col_y, row_y)
