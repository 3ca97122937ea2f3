"""``nnkit summary``: the course chapter's shapes and parameter counts exactly, saved models, errors."""

import json
import os
import subprocess
import sys

import pytest

CNN_ROWS = [  # next_chapter_mnist.md, model 2 (Keras's model.summary())
    ("conv2d", "Conv2D", "relu", [26, 26, 32], 320),
    ("max_pooling2d", "MaxPooling2D", None, [13, 13, 32], 0),
    ("conv2d_1", "Conv2D", "relu", [11, 11, 64], 18_496),
    ("max_pooling2d_1", "MaxPooling2D", None, [5, 5, 64], 0),
    ("conv2d_2", "Conv2D", "relu", [3, 3, 128], 73_856),
    ("flatten", "Flatten", None, [1152], 0),
    ("dense", "Dense", "softmax", [10], 11_530),
]
MLP_ROWS = [  # model 1: Dense(10) then a Softmax layer of its own, a row of its own
    ("flatten", "Flatten", None, [784], 0),
    ("dense", "Dense", "relu", [128], 100_480),
    ("dropout", "Dropout", None, [128], 0),
    ("dense_1", "Dense", None, [10], 1_290),
    ("softmax", "Softmax", None, [10], 0),
]

#: The chapter's two models in Keras 3, printed by model.summary() (wide enough for Keras's 88-character
#: table). Each is built in a fresh session, so its layers are numbered as in the chapter's notebook.
_KERAS_SUMMARY = """
import keras
from keras import layers
stacks = {
    "course-mlp": lambda: [layers.Flatten(), layers.Dense(128, activation="relu"), layers.Dropout(0.2),
                           layers.Dense(10), layers.Softmax()],
    "course-cnn": lambda: [layers.Conv2D(32, 3, activation="relu"), layers.MaxPooling2D(2),
                           layers.Conv2D(64, 3, activation="relu"), layers.MaxPooling2D(2),
                           layers.Conv2D(128, 3, activation="relu"), layers.Flatten(),
                           layers.Dense(10, activation="softmax")],
}
for name, stack in stacks.items():
    keras.backend.clear_session()
    lines = []
    keras.Sequential([keras.Input((28, 28, 1)), *stack()]).summary(print_fn=lines.append)
    print(f"=== {name}\\n" + "".join(lines), end="")
"""


@pytest.fixture(scope="module")
def keras_summaries():
    env = {**os.environ, "KERAS_BACKEND": "jax", "COLUMNS": "200"}
    done = subprocess.run([sys.executable, "-c", _KERAS_SUMMARY], capture_output=True, text=True, env=env,
                          timeout=300, check=True)
    return dict(part.split("\n", 1) for part in done.stdout.split("=== ")[1:])


@pytest.mark.parametrize("model", ["course-mlp", "course-cnn"])
def test_the_course_models_print_exactly_as_keras_model_summary(cli, keras_summaries, model):
    assert cli("summary", "--model", model, "-f", "table").stdout == keras_summaries[model]


def rows(result):
    return [(r["name"], r["type"], r["activation"], r["output_shape"], r["params"]) for r in result["layers"]]


@pytest.mark.parametrize(("model", "expected", "total"), [("course-cnn", CNN_ROWS, 104_202), ("course-mlp", MLP_ROWS, 101_770)])
def test_the_chapters_two_models(cli, model, expected, total):
    run = cli("summary", "--model", model)
    assert run.exit_code == 0, run.stderr
    result = json.loads(run.stdout)
    assert result["input_shape"] == [28, 28, 1]
    assert rows(result) == expected
    assert result["total_params"] == total == sum(r[-1] for r in expected)
    table = cli("summary", "--model", model, "-f", "table").stdout
    assert f"Total params: {total:,}" in table
    assert "(None, 26, 26, 32)" in table or "(None, 784)" in table


def test_a_layers_stack_with_an_input_shape_or_data(cli):
    stack = "conv 6 3 relu padding=same stride=2, meanpool 2, flatten, dense 3"
    result = json.loads(cli("summary", "--layers", stack, "--input-shape", "9,7,2").stdout)
    # same, stride 2: ⌈9/2⌉×⌈7/2⌉ = 5×4; mean pool 2 drops the partial edge: 2×2.
    assert rows(result) == [
        ("conv2d", "Conv2D", "relu", [5, 4, 6], 3 * 3 * 2 * 6 + 6),
        ("average_pooling2d", "AveragePooling2D", None, [2, 2, 6], 0),
        ("flatten", "Flatten", None, [24], 0),
        ("dense", "Dense", "softmax", [3], 24 * 3 + 3),
    ]
    digits = json.loads(cli("summary", "--layers", "conv 4 3, flatten, dense 10", "--data", "digits").stdout)
    assert digits["input_shape"] == [8, 8, 1] and digits["total_params"] == 40 + 6 * 6 * 4 * 10 + 10
    rows_only = json.loads(cli("summary", "--layers", "dense 16 relu, dense 1 sigmoid", "--input-shape", "30").stdout)
    assert rows_only["total_params"] == 30 * 16 + 16 + 17


def test_a_saved_model_matches_its_stack(cli, tmp_path):
    model = tmp_path / "m.npz"
    stack = "conv 4 3 relu, maxpool 2, dropout 0.1, flatten, dense 10 softmax"
    assert cli("train", "--layers", stack, "--epochs", "1", "--save", str(model)).exit_code == 0
    saved = json.loads(cli("summary", str(model)).stdout)
    asked = json.loads(cli("summary", "--layers", stack, "--input-shape", "8,8,1").stdout)
    assert saved == asked
    old = json.loads(cli("summary", "tests/files/fixtures/model_main_digits.npz").stdout)  # before the layer list
    assert rows(old) == [("dense", "Dense", "relu", [16], 64 * 16 + 16), ("dense_1", "Dense", "relu", [8], 136),
                         ("dense_2", "Dense", "softmax", [10], 90)]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "takes one of: a model file, --layers or --model"),
        (["--model", "course-cnn", "--layers", "dense 2"], "takes one of"),
        (["--layers", "conv 4 3, flatten, dense 2"], "--layers needs an input shape"),
        (["--layers", "conv 4 3, flatten, dense 2", "--input-shape", "28x28"], "--input-shape is height,width,channels"),
        (["--layers", "conv 4 3, flatten, dense 2", "--input-shape", "a,b,c"], "--input-shape takes sizes"),
        (["--model", "course-cnn", "--input-shape", "8,8,1"], "layer 4 (maxpool2d): maxpool2d with a 2×2 window does not fit its 1×1×64 input"),
        (["--layers", "conv 4 3, dense 2", "--input-shape", "30"], "layer 1 (conv2d): conv2d needs images"),
        (["--layers", "maxpool", "--input-shape", "8,8,1"], "maxpool needs SIZE"),
        (["no-such-model.npz"], "does not exist"),
    ],
)
def test_bad_input_is_exit_2(cli, args, message):
    cli("summary", *args).assert_input_error(message)
