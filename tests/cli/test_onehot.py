import json

import numpy as np


def test_integer_labels_to_csv(cli):
    run = cli("onehot", "0", "2", "1", "--classes", "3")
    assert run.exit_code == 0 and run.stderr == ""
    assert run.stdout == "1,0,0\n0,0,1\n0,1,0\n"


def test_classes_default_to_largest_label_plus_one(cli):
    assert cli("onehot", "1", "3", "-f", "json").stdout.strip() == "[[0, 1, 0, 0], [0, 0, 0, 1]]"


def test_word_labels_sorted_and_mapping_on_stderr(cli):
    run = cli("onehot", "patient", "healthy", "patient")
    assert run.stdout == "0,1\n1,0\n0,1\n"
    assert run.stderr == "nnkit: classes: 0=healthy, 1=patient\n"
    assert cli("onehot", "patient", "healthy", "-q").stderr == ""


def test_names_give_the_order(cli):
    run = cli("onehot", "healthy", "patient", "--names", "patient,healthy")
    assert run.stdout == "0,1\n1,0\n" and run.stderr == ""


def test_table_shows_labels_classes_and_blocks(cli):
    out = cli("onehot", "healthy", "patient", "-f", "table").stdout
    assert "healthy" in out and "patient" in out and "██··" in out and "··██" in out


def test_labels_from_a_file_and_stdin(cli, tmp_path):
    (tmp_path / "labels.csv").write_text("label\n2\n0\n")
    assert cli("onehot", "-i", str(tmp_path / "labels.csv"), "-c", "3").stdout == "0,0,1\n1,0,0\n"
    assert cli("onehot", "-c", "3", input="1\n2\n").stdout == "0,1,0\n0,0,1\n"


def test_decode_probabilities_and_names(cli):
    assert cli("onehot", "--decode", "0.1,0.7,0.2;0.9,0.05,0.05").stdout == "1,0\n"
    run = cli("onehot", "--decode", "0.1,0.7,0.2;0.9,0.05,0.05", "--names", "cat,dog,bird", "-f", "json")
    assert json.loads(run.stdout) == ["dog", "cat"]


def test_decode_from_a_pipe_round_trip(cli):
    encoded = cli("onehot", "3", "0", "2", "-c", "5", "-f", "npy").stdout_bytes
    assert cli("onehot", "--decode", input=encoded).stdout == "3,0,2\n"


def test_label_out_of_range_is_named(cli):
    cli("onehot", "0", "5", "--classes", "3").assert_input_error("label 5 is outside 0..2")
    cli("onehot", "0", "-1", "--classes", "3").assert_input_error("label -1 is outside 0..2")
    cli("onehot", "sick", "--names", "healthy,patient").assert_input_error("'sick' is not one of --names")
    cli("onehot", "a", "b", "--classes", "3").assert_input_error("--classes 3 does not match the 2 class names")
    cli("onehot", "--decode", "0.1,0.9", "--names", "a,b,c").assert_input_error("3 names for rows of 2 classes")


def test_output_file(cli, tmp_path):
    target = tmp_path / "y.npy"
    run = cli("onehot", "0", "1", "-o", str(target))
    assert run.exit_code == 0 and run.stdout == ""
    np.testing.assert_array_equal(np.load(target), [[1, 0], [0, 1]])


def test_whole_floats_are_class_numbers_not_names(cli):
    # a spreadsheet writes class 1 as "1.0": it is class 1, not a class named "1.0"
    run = cli("onehot", "1.0", "0.0", "2.0")
    assert run.stdout == "0,1,0\n1,0,0\n0,0,1\n" and run.stderr == ""
    cli("onehot", "1.5", "0").assert_input_error("label 1.5 is not a whole number")
