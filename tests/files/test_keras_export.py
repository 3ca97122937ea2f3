"""``nnkit export MODEL OUT.keras``: Keras itself loads the file, predicts what ``nnkit predict`` prints, and trains it.

Keras 3 runs on its JAX CPU backend here (the lightest backend that both predicts and trains). Every
model kind nnkit trains goes through ``nnkit export`` and ``keras.models.load_model`` (with warnings
as errors, so a file Keras only half loads fails), and the raw inputs go both to
``model.predict`` and to ``nnkit predict -f csv``: the probabilities agree within 1e-5.
"""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path

import numpy as np
import pytest

from nnkit.data.labelled import load_digits
from tests.conftest import run_cli
from tests.data.test_labelled import learnable_images

os.environ["KERAS_BACKEND"] = "jax"
import keras  # after the backend is chosen; the test extra installs keras and jax

assert keras.backend.backend() == "jax", "KERAS_BACKEND=jax must be set before keras is first imported"

CANCER = Path(__file__).parents[2] / "samples" / "breast_cancer_wdbc.csv"
EVERY_ACTIVATION = ", ".join(f"dense 6 {a}" for a in
                             ("relu", "leaky-relu", "elu", "gelu", "swish", "softplus", "tanh", "sigmoid", "identity"))


def _saved(tmp_path: Path, name: str, command: str, *args: str) -> Path:
    return _trained(tmp_path, name, command, *args)[0]


def _trained(tmp_path: Path, name: str, command: str, *args: str) -> tuple[Path, dict]:
    model = tmp_path / f"{name}.npz"
    run = run_cli(command, *args, "--save", str(model), "-q", "-f", "json")
    assert run.exit_code == 0, run.stderr
    return model, json.loads(run.stdout)


def _load(model: Path):
    out = model.with_suffix(".keras")
    run = run_cli("export", str(model), str(out))
    assert run.exit_code == 0, run.stderr
    assert json.loads(run.stdout)["format"] == "keras" and f"wrote {out}" in run.stderr  # a pipe: the JSON report
    assert sorted(zipfile.ZipFile(out).namelist()) == ["config.json", "metadata.json", "model.weights.h5"]
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "Skipping variable loading …" and the like are failures here
        return keras.models.load_model(out)


def _agree(model: Path, keras_model, x_raw: np.ndarray, predict_input: str) -> np.ndarray:
    run = run_cli("predict", str(model), predict_input, "-f", "csv")
    assert run.exit_code == 0, run.stderr
    expected = np.array([[float(v) for v in line.split(",")[1:]] for line in run.stdout.splitlines()[1:]])
    p = np.asarray(keras_model.predict(x_raw.astype(np.float32), verbose=0), dtype=np.float64)
    if p.shape[1] == 1:  # one sigmoid unit: Keras gives p(class 1), predict both columns
        p = np.hstack([1 - p, p])
    assert p.shape == expected.shape and len(p) >= 100
    np.testing.assert_allclose(p, expected, rtol=0, atol=1e-5)
    return p


def _images(tmp_path, n, size, classes, seed, colour=False):
    x, y = learnable_images(n, size=size, classes=classes, seed=seed)
    if colour:
        x = np.stack([x, x[:, ::-1], 255 - x], axis=-1)
    cut = n * 3 // 5
    data = tmp_path / "images.npz"
    np.savez(data, x_train=x[:cut], y_train=y[:cut], x_test=x[cut:], y_test=y[cut:])
    np.save(tmp_path / "test.npy", x[cut:])
    return data, x[cut:], y[cut:]


def test_every_activation_and_the_digits_pixels(tmp_path):
    model = _saved(tmp_path, "all", "train", "--layers", f"flatten, {EVERY_ACTIVATION}, dense 10 softmax",
                   "--epochs", "2")
    keras_model = _load(model)
    images, _ = load_digits().parts["train"]
    np.save(tmp_path / "digits.npy", images[:150])
    _agree(model, keras_model, images[:150], str(tmp_path / "digits.npy"))
    kinds = [layer.__class__.__name__ for layer in keras_model.layers]
    assert kinds[:3] == ["Rescaling", "Reshape", "Flatten"] and kinds.count("LeakyReLU") == 1
    assert keras_model.input_shape == (None, 8, 8)  # raw pixels 0..16: the ÷16 is inside the model


def test_a_standardised_table_and_a_sigmoid_output(tmp_path):
    model = _saved(tmp_path, "cancer", "train-mlp", "--data", str(CANCER), "--hidden", "16", "--epochs", "20")
    keras_model = _load(model)
    table = np.genfromtxt(CANCER, delimiter=",", skip_header=1, usecols=range(30))
    p = _agree(model, keras_model, table, str(CANCER))
    assert table.max() > 1000 and np.mean(p.max(axis=1) > 0.9) > 0.8  # really standardised inside
    assert keras_model.layers[0].__class__.__name__ == "Normalization"
    assert keras_model.loss == "binary_crossentropy"


CONV_STACKS = {
    "valid-max-softmax": ("conv 6 3 relu, maxpool 2, conv 4 3 tanh, maxpool 2, flatten, dropout 0.2, dense 3 softmax", 3, False),
    "same-stride-mean": ("conv 5 4 elu stride=2 padding=same, meanpool 3 stride=2, flatten, dense 8 swish, dense 3 softmax", 3, False),
    "colour-sigmoid": ("conv 4 3 gelu padding=same, maxpool 2, flatten, dense 1 sigmoid", 2, True),
}


@pytest.mark.parametrize("name", CONV_STACKS)
def test_conv_stacks(tmp_path, name):
    stack, classes, colour = CONV_STACKS[name]
    data, x_test, _ = _images(tmp_path, 250, (28, 28), classes, seed=7, colour=colour)
    model = _saved(tmp_path, "conv", "train", "--layers", stack, "--data", str(data), "--epochs", "2")
    keras_model = _load(model)
    _agree(model, keras_model, x_test, str(tmp_path / "test.npy"))
    kinds = {layer.__class__.__name__ for layer in keras_model.layers}
    assert ("AveragePooling2D" if "meanpool" in stack else "MaxPooling2D") in kinds


def test_the_courses_models_keep_their_shapes_predict_and_train_on(tmp_path):
    """The chapter's two models: Keras's own summary counts, nnkit's accuracy, then one epoch of fit."""
    data, x_test, y_test = _images(tmp_path, 250, (28, 28), 10, seed=8)
    for course_model, parameters, last in (("course-cnn", 104_202, "Dense"), ("course-mlp", 101_770, "Softmax")):
        model, report = _trained(tmp_path, course_model, "train", "--model", course_model, "--data", str(data),
                                 "--epochs", "1")
        keras_model = _load(model)
        _agree(model, keras_model, x_test, str(tmp_path / "test.npy"))
        assert keras_model.count_params() == parameters
        assert keras_model.layers[-1].__class__.__name__ == last
        loss, accuracy = keras_model.evaluate(x_test, y_test, verbose=0)  # the test part nnkit reported on
        assert accuracy == pytest.approx(report["test"]["accuracy"], abs=1e-6)
        assert loss == pytest.approx(report["test"]["loss"], abs=1e-4)
        before = [keras.ops.convert_to_numpy(v.value) for v in keras_model.weights]
        history = keras_model.fit(x_test, y_test, epochs=1, batch_size=32, verbose=0)
        assert np.isfinite(history.history["loss"][0])
        after = [keras.ops.convert_to_numpy(v.value) for v in keras_model.weights]
        assert any(not np.array_equal(a, b) for a, b in zip(before, after, strict=True))
        assert keras_model.optimizer.__class__.__name__ == "RMSprop"


def test_a_float64_train_xor_model(tmp_path):
    model = _saved(tmp_path, "xor", "train-xor")
    keras_model = _load(model)
    rows = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
    p = keras_model.predict(rows, verbose=0)[:, 0]
    run = run_cli("predict", str(model), "0,0;0,1;1,0;1,1", "-f", "csv")
    expected = np.array([float(line.split(",")[-1]) for line in run.stdout.splitlines()[1:]])
    np.testing.assert_allclose(p, expected, rtol=0, atol=1e-5)
    assert (p > 0.5).tolist() == [False, True, True, False]


def test_targets_follow_the_output_rules(tmp_path):
    good = _saved(tmp_path, "good", "train-mlp", "--hidden", "4", "--epochs", "1")
    run_cli("export", str(good), str(tmp_path / "no-folder" / "m.keras")).assert_input_error("does not exist")
    run_cli("export", str(good), str(tmp_path / "m.h5")).assert_input_error("exported as .onnx or .keras")
    run_cli("export", str(good), f"{tmp_path / 'out.onnx'}/").assert_input_error("names a folder")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["good.npz"]
    (tmp_path / "old.keras").write_bytes(b"old")  # an existing target is replaced whole, atomically
    assert run_cli("export", str(good), str(tmp_path / "old.keras")).exit_code == 0
    assert zipfile.is_zipfile(tmp_path / "old.keras")


def test_without_h5py_a_clear_error(tmp_path, monkeypatch):
    import sys

    good = _saved(tmp_path, "good", "train-mlp", "--hidden", "4", "--epochs", "1")
    monkeypatch.setitem(sys.modules, "h5py", None)
    run = run_cli("export", str(good), str(tmp_path / "m.keras"))
    run.assert_input_error("needs the h5py package")
    assert "nnkit-cli[export]" in run.stderr and not (tmp_path / "m.keras").exists()


def test_the_docs_colab_cell_runs_as_written(tmp_path, monkeypatch):
    """docs/export.md's Colab cell, its Python lines verbatim, with a small MNIST-shaped data set."""
    text = (Path(__file__).parents[2] / "docs" / "export.md").read_text()
    cell = text.split("In Colab, after uploading", 1)[1].split("```python\n", 1)[1].split("```", 1)[0]
    shell_lines = [line for line in cell.splitlines() if line.startswith("!")]
    assert shell_lines == ['!pip install -q "nnkit-cli[export]"', "!nnkit export cnn.npz cnn.keras"]
    data, *_ = _images(tmp_path, 250, (28, 28), 10, seed=5)
    monkeypatch.chdir(tmp_path)
    _saved(tmp_path, "cnn", "train", "--model", "course-cnn", "--data", str(data), "--epochs", "1")
    assert run_cli("export", "cnn.npz", "cnn.keras").exit_code == 0
    with np.load(data) as archive:
        small = (archive["x_train"], archive["y_train"]), (archive["x_test"], archive["y_test"])
    monkeypatch.setattr(keras.datasets.mnist, "load_data", lambda: small)
    namespace: dict = {}
    python = "\n".join(line for line in cell.splitlines() if not line.startswith("!"))
    python = python.replace("epochs=5", "epochs=1")
    exec(compile(python, "docs/export.md", "exec"), namespace)
    assert 0 <= namespace["test_accuracy"] <= 1 and np.isfinite(namespace["test_loss"])


def test_every_hidden_activation_has_a_keras_form():
    from nnkit.nn.layers.activation import HIDDEN_ACTIVATIONS, KERAS_ACTIVATIONS

    assert set(KERAS_ACTIVATIONS) | {"leaky-relu"} == set(HIDDEN_ACTIVATIONS)


def test_a_standard_deviation_below_keras_floor_is_refused_not_silently_changed():
    """Keras's Normalization divides by max(std, 1e-7): a smaller stored std would predict otherwise."""
    from nnkit.errors import NnkitInputError
    from nnkit.files.keras_export import keras_members
    from nnkit.nn.stack import build_mlp

    network = build_mlp(2, [3], 2, rng=0)
    meta = {"preprocessing": {"kind": "standardize", "mean": [0.0, 0.1], "std": [1.0, 1.4e-17],
                              "feature_names": ["a", "b"]}}
    with pytest.raises(NnkitInputError, match="feature b"):
        keras_members(network, meta)
    meta["preprocessing"]["std"][1] = 2e-7
    assert "model.weights.h5" in keras_members(network, meta)
