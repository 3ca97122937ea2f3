"""``nnkit export``: ONNX Runtime on the exported file gives what ``nnkit predict`` prints.

For each kind of model (MLP softmax, MLP sigmoid for two classes, a standardised table) the same raw
inputs go to ``nnkit predict -f csv`` and to an ``onnxruntime.InferenceSession`` of the exported
file: the probabilities agree within 1e-5 on at least 100 inputs, and the predicted classes are
the same.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest

from nnkit.data.labelled import load_digits
from nnkit.files.onnx_export import ACTIVATION_NODES, OPSET
from nnkit.nn.layers import HIDDEN_ACTIVATIONS
from tests.conftest import run_cli
from tests.data.test_labelled import learnable_images

CANCER = Path(__file__).parents[2] / "samples" / "breast_cancer_wdbc.csv"


def _train(tmp_path, name, *args) -> Path:
    model = tmp_path / f"{name}.npz"
    run = run_cli("train-mlp", *args, "--save", str(model), "-q", "-f", "json")
    assert run.exit_code == 0, run.stderr
    return model


def _export(model: Path) -> ort.InferenceSession:
    out = model.with_suffix(".onnx")
    run = run_cli("export", str(model), str(out))
    assert run.exit_code == 0, run.stderr
    report = json.loads(run.stdout)  # a report: JSON in a pipe, as every command's
    assert report["path"] == str(out) and report["bytes"] == out.stat().st_size
    onnx.checker.check_model(onnx.load(str(out)), full_check=True)
    return ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])


def _predict_csv(model: Path, *inputs: str) -> tuple[list[str], np.ndarray]:
    run = run_cli("predict", str(model), *inputs, "-f", "csv")
    assert run.exit_code == 0, run.stderr
    rows = [line.split(",") for line in run.stdout.splitlines()[1:]]  # after the header row
    return [r[0] for r in rows], np.array([[float(v) for v in r[1:]] for r in rows])


def _classes(model: Path) -> list[str]:
    with np.load(model) as archive:
        return [str(c) for c in json.loads(str(archive["meta"]))["classes"]]


def _agree(model: Path, session, x_raw: np.ndarray, predict_input: str):
    predicted, expected = _predict_csv(model, predict_input)
    probabilities, label = session.run(None, {"input": x_raw.astype(np.float32)})
    assert len(predicted) == x_raw.shape[0] >= 100
    np.testing.assert_allclose(probabilities, expected, rtol=0, atol=1e-5)
    classes = _classes(model)
    assert [classes[k] for k in label] == predicted
    assert label.dtype == np.int64 and probabilities.shape == expected.shape
    return probabilities


def test_mlp_softmax_on_raw_digit_pixels(tmp_path):
    model = _train(tmp_path, "digits", "--hidden", "32,16", "--epochs", "8")
    session = _export(model)
    images, _ = load_digits().parts["train"]
    x = images[:300].astype(np.float32)  # raw pixels 0..16: the ÷16 is inside the graph
    np.save(tmp_path / "digits.npy", images[:300])
    p = _agree(model, session, x, str(tmp_path / "digits.npy"))
    assert p.shape == (300, 10)
    inputs = session.get_inputs()
    assert [(i.name, i.shape, i.type) for i in inputs] == [("input", ["batch", 8, 8], "tensor(float)")]
    assert [(o.name, o.shape) for o in session.get_outputs()] == [("probabilities", ["batch", 10]), ("label", ["batch"])]


def test_mlp_sigmoid_two_classes_on_raw_uint8_images(tmp_path):
    x, y = learnable_images(360, size=(28, 28), classes=2, seed=4)
    data = tmp_path / "two-classes.npz"
    np.savez(data, x_train=x[:200], y_train=y[:200], x_test=x[200:], y_test=y[200:])
    model = _train(tmp_path, "two", "--data", str(data), "--hidden", "8", "--activation", "tanh", "--epochs", "5")
    with np.load(model) as archive:
        assert json.loads(str(archive["meta"]))["output"] == "sigmoid"
    session = _export(model)
    np.save(tmp_path / "test.npy", x[200:])
    p = _agree(model, session, x[200:], str(tmp_path / "test.npy"))
    np.testing.assert_allclose(p.sum(axis=1), 1.0, atol=1e-6)
    # --data: the test part of the same file, through predict's own reader.
    predicted, expected = _predict_csv(model, "--data", str(data))
    assert len(predicted) == 160
    np.testing.assert_allclose(session.run(["probabilities"], {"input": x[200:].astype(np.float32)})[0], expected, atol=1e-5)


def test_tabular_model_standardises_inside_the_graph(tmp_path):
    model = _train(tmp_path, "cancer", "--data", str(CANCER), "--hidden", "16", "--epochs", "20")
    session = _export(model)
    table = np.genfromtxt(CANCER, delimiter=",", skip_header=1, usecols=range(30))
    assert table.shape == (569, 30)
    p = _agree(model, session, table, str(CANCER))
    assert _classes(model) == ["benign", "malignant"]
    # The raw features really are standardised by the graph: far from 0..1, yet confident outputs.
    assert table.max() > 1000 and np.mean(p.max(axis=1) > 0.9) > 0.8


def test_tabular_softmax_with_three_classes(tmp_path):
    rng = np.random.default_rng(3)
    centres = np.array([[100.0, -5.0, 0.01], [130.0, 5.0, 0.03], [160.0, 0.0, 0.02]])
    labels = np.repeat(np.array(["a", "b", "c"]), 60)
    x = centres[np.repeat(np.arange(3), 60)] + rng.normal(0, [10.0, 2.0, 0.005], (180, 3))
    csv = tmp_path / "three.csv"
    csv.write_text("f1,f2,f3,label\n" + "".join(",".join(repr(float(v)) for v in r) + f",{c}\n" for r, c in zip(x, labels, strict=True)))
    model = _train(tmp_path, "three", "--data", str(csv), "--hidden", "8", "--activation", "gelu", "--epochs", "20")
    _agree(model, _export(model), x, str(csv))


def test_every_hidden_activation_has_an_onnx_form():
    assert set(ACTIVATION_NODES) == set(HIDDEN_ACTIVATIONS)


@pytest.mark.parametrize("activation", HIDDEN_ACTIVATIONS)
def test_each_activation_matches_predict(tmp_path, activation):
    model = _train(tmp_path, activation, "--hidden", "12,12", "--activation", activation, "--epochs", "2")
    images, _ = load_digits().parts["train"]
    np.save(tmp_path / "digits.npy", images[:120])
    _agree(model, _export(model), images[:120], str(tmp_path / "digits.npy"))


def test_batch_size_is_dynamic_and_the_opset_is_recorded(tmp_path):
    model = _train(tmp_path, "digits", "--hidden", "8", "--epochs", "1")
    session = _export(model)
    images, _ = load_digits().parts["train"]
    for n in (1, 7, 1797):
        p, label = session.run(None, {"input": images[:n].astype(np.float32)})
        assert p.shape == (n, 10) and label.shape == (n,)
    proto = onnx.load(str(model.with_suffix(".onnx")))
    assert [(o.domain, o.version) for o in proto.opset_import] == [("", OPSET)]
    props = {p.key: p.value for p in proto.metadata_props}
    assert json.loads(props["classes"]) == list(range(10))
    assert proto.producer_name == "nnkit"


def test_a_foreign_or_damaged_model_is_refused_and_nothing_is_written(tmp_path):
    foreign = tmp_path / "foreign.npz"
    np.savez(foreign, weights=np.ones((2, 2)))
    out = tmp_path / "out.onnx"
    run_cli("export", str(foreign), str(out)).assert_input_error("is not an nnkit model")
    damaged = tmp_path / "damaged.npz"
    good = _train(tmp_path, "good", "--hidden", "4", "--epochs", "1")
    damaged.write_bytes(good.read_bytes()[:300])
    run_cli("export", str(damaged), str(out)).assert_input_error("not an .npz archive")
    run_cli("export", str(tmp_path / "missing.npz"), str(out)).assert_input_error("does not exist")
    run_cli("export", str(good), str(tmp_path / "model.txt")).assert_input_error("exported as .onnx or .keras")
    run_cli("export", str(good), str(tmp_path / "no-folder" / "m.onnx")).assert_input_error("does not exist")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["damaged.npz", "foreign.npz", "good.npz"]


def test_without_the_onnx_package_a_clear_error(tmp_path, monkeypatch):
    good = _train(tmp_path, "good", "--hidden", "4", "--epochs", "1")
    monkeypatch.setitem(sys.modules, "onnx", None)  # import onnx → ImportError
    run = run_cli("export", str(good), str(tmp_path / "m.onnx"))
    run.assert_input_error("needs the onnx package")
    assert "nnkit-cli[export]" in run.stderr
    assert not (tmp_path / "m.onnx").exists()


def test_end_to_end_through_the_installed_command(tmp_path, shell):
    model = _train(tmp_path, "digits", "--hidden", "8", "--epochs", "1")
    result = shell(f"nnkit export {model} {tmp_path / 'm.onnx'} && nnkit export {model} -o {tmp_path / 'q.onnx'} -q")
    assert result.returncode == 0, result.stderr
    first, second = (json.loads(line) for line in result.stdout.decode().splitlines())
    assert first["input"] == {"name": "input", "type": "float32", "shape": ["batch", 8, 8]}
    assert [value["shape"] for value in first["outputs"]] == [["batch", 10], ["batch"]]
    assert second["path"] == str(tmp_path / "q.onnx")
    assert result.stderr.decode().splitlines() == [f"nnkit: wrote {tmp_path / 'm.onnx'}"]
    assert (tmp_path / "m.onnx").read_bytes() == (tmp_path / "q.onnx").read_bytes()


def test_a_float64_train_xor_model_exports_in_float64(tmp_path):
    model = tmp_path / "xor.npz"
    assert run_cli("train-xor", "--save", str(model), "-q", "-f", "json").exit_code == 0
    session = _export(model)
    rows = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
    probabilities, label = session.run(None, {"input": rows})
    assert probabilities.dtype == np.float64 and label.tolist() == [0, 1, 1, 0]
    _, expected = _predict_csv(model, "0,0;0,1;1,0;1,1")
    np.testing.assert_allclose(probabilities, expected, rtol=0, atol=1e-12)


# --- conv stacks (nnkit train) ---------------------------------------------------------------------

CONV_STACKS = {
    # Keras-style valid convs and max pooling, a softmax over three classes.
    "valid-max-softmax": ("conv 6 3 relu, maxpool 2, conv 4 3 tanh, maxpool 2, flatten, dropout 0.2, dense 3 softmax", 3, 1),
    # same padding (the odd extra row at the bottom), stride 2, mean pooling with an overlapping stride.
    "same-stride-mean": ("conv 5 4 elu stride=2 padding=same, meanpool 3 stride=2, flatten, dense 8 swish, dense 3 softmax", 3, 1),
    # colour (28×28×3) images, two classes: one sigmoid output.
    "colour-sigmoid": ("conv 4 3 gelu padding=same, maxpool 2, flatten, dense 1 sigmoid", 2, 3),
}


@pytest.mark.parametrize("name", CONV_STACKS)
def test_conv_stack_matches_predict(tmp_path, name):
    stack, classes, channels = CONV_STACKS[name]
    x, y = learnable_images(300, size=(28, 28), classes=classes, seed=7)
    if channels == 3:
        x = np.stack([x, x[:, ::-1], 255 - x], axis=-1)  # three different channels, uint8
    data = tmp_path / "images.npz"
    np.savez(data, x_train=x[:180], y_train=y[:180], x_test=x[180:], y_test=y[180:])
    model = tmp_path / "conv.npz"
    run = run_cli("train", "--layers", stack, "--data", str(data), "--epochs", "2", "--save", str(model), "-q", "-f", "json")
    assert run.exit_code == 0, run.stderr
    with np.load(model) as archive:
        assert json.loads(str(archive["meta"]))["output"] == ("sigmoid" if stack.endswith("sigmoid") else "softmax")
    session = _export(model)
    np.save(tmp_path / "test.npy", x[180:])
    p = _agree(model, session, x[180:], str(tmp_path / "test.npy"))
    assert p.shape == (120, classes)
    assert session.get_inputs()[0].shape == ["batch", 28, 28] + ([3] if channels == 3 else [])
    ops = {node.op_type for node in onnx.load(str(model.with_suffix(".onnx"))).graph.node}
    assert {"Conv", "Transpose", "Flatten", "Gemm"} <= ops
    assert ("AveragePool" if "meanpool" in stack else "MaxPool") in ops
    assert "Dropout" not in ops


def test_the_courses_cnn_and_mlp_models_export(tmp_path):
    """The chapter's two models (104 202 and 101 770 parameters), one epoch on 28×28 images."""
    x, y = learnable_images(200, size=(28, 28), classes=10, seed=8)
    data = tmp_path / "mnist-like.npz"
    np.savez(data, x_train=x[:100], y_train=y[:100], x_test=x[100:], y_test=y[100:])
    np.save(tmp_path / "test.npy", x[100:])
    for course_model in ("course-cnn", "course-mlp"):
        model = tmp_path / f"{course_model}.npz"
        run = run_cli("train", "--model", course_model, "--data", str(data), "--epochs", "1", "--save", str(model), "-q", "-f", "json")
        assert run.exit_code == 0, run.stderr
        session = _export(model)
        _agree(model, session, x[100:], str(tmp_path / "test.npy"))
        proto = onnx.load(str(model.with_suffix(".onnx")))
        weights = sum(int(np.prod(t.dims)) for t in proto.graph.initializer if t.name.startswith(("W_", "kernel_", "b_")))
        assert weights == {"course-cnn": 104_202, "course-mlp": 101_770}[course_model]


def test_help_names_the_extra_and_the_tensors():
    text = " ".join(run_cli("export", "--help").stdout.split())
    assert "pip install 'nnkit-cli[export]'" in text  # not eaten as Rich markup
    assert "'probabilities' (batch, classes)" in text and "opset 21" in text


def test_the_documented_onnx_runtime_example_runs_as_written(tmp_path, monkeypatch):
    """The documented Python lines, verbatim, on an exported conv model and a Keras-layout mnist.npz."""
    page = (Path(__file__).parents[2] / "docs" / "conventions.md").read_text()
    section = page.split("\n### ONNX export\n", 1)[1].split("\n## ", 1)[0]
    code = section.split("```python\n", 1)[1].split("```", 1)[0]
    assert section.count("GELU as") == 1  # the list of activations is written once
    x, y = learnable_images(220, size=(28, 28), classes=10, seed=9)
    np.savez(tmp_path / "mnist.npz", x_train=x[:120], y_train=y[:120], x_test=x[120:], y_test=y[120:])
    stack = "conv 4 3 relu padding=same, maxpool 2, flatten, dense 10 softmax"
    run = run_cli("train", "--layers", stack, "--data", str(tmp_path / "mnist.npz"), "--epochs", "1",
                  "--save", str(tmp_path / "cnn.npz"), "-q", "-f", "json")  # fmt: skip
    assert run.exit_code == 0, run.stderr
    assert run_cli("export", str(tmp_path / "cnn.npz"), str(tmp_path / "cnn.onnx")).exit_code == 0
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    exec(compile(code, "docs/conventions.md", "exec"), namespace)  # the page's own lines
    predicted, expected = _predict_csv(tmp_path / "cnn.npz", "--data", str(tmp_path / "mnist.npz"))
    assert namespace["probabilities"].shape == (100, 10)
    np.testing.assert_allclose(namespace["probabilities"], expected, rtol=0, atol=1e-5)
    classes = _classes(tmp_path / "cnn.npz")
    assert [classes[k] for k in namespace["label"]] == predicted


def test_the_note_gives_the_graphs_own_shapes_even_without_class_names(tmp_path):
    """A model whose meta has no class list (optional in the format): 10 outputs, not a guessed 2."""
    model = _train(tmp_path, "digits", "--hidden", "8", "--epochs", "1")
    with np.load(model) as archive:
        arrays = dict(archive)
    meta = json.loads(str(arrays["meta"]))
    del meta["classes"]
    arrays["meta"] = np.array(json.dumps(meta))
    bare = tmp_path / "bare.npz"
    np.savez(bare, **arrays)
    run = run_cli("export", str(bare), str(tmp_path / "bare.onnx"))
    assert run.exit_code == 0, run.stderr
    assert [value["shape"] for value in json.loads(run.stdout)["outputs"]] == [["batch", 10], ["batch"]]
    table = " ".join(run_cli("export", str(bare), str(tmp_path / "bare.onnx"), "-f", "table").stdout.split())
    assert "input 'input' float32 (batch, 8, 8) → 'probabilities' (batch, 10), 'label' (batch)" in table
    session = ort.InferenceSession(str(tmp_path / "bare.onnx"), providers=["CPUExecutionProvider"])
    assert session.get_outputs()[0].shape == ["batch", 10]


def test_a_model_with_big_endian_weights_exports_and_predicts_the_same(tmp_path):
    """Arrays written big-endian (another machine's np.save) are read as the same native floats."""
    model = _train(tmp_path, "digits", "--hidden", "8", "--epochs", "2")
    with np.load(model) as archive:
        arrays = {name: archive[name] for name in archive.files}
    swapped = tmp_path / "swapped.npz"
    np.savez(swapped, **{k: v if k == "meta" else v.astype(v.dtype.newbyteorder(">")) for k, v in arrays.items()})
    with np.load(swapped) as archive:
        assert archive["W0"].dtype.byteorder == ">"
    images, _ = load_digits().parts["train"]
    np.save(tmp_path / "digits.npy", images[:120])
    session = _export(swapped)
    _, original = _predict_csv(model, str(tmp_path / "digits.npy"))
    p = _agree(swapped, session, images[:120].astype(np.float32), str(tmp_path / "digits.npy"))
    np.testing.assert_array_equal(_predict_csv(swapped, str(tmp_path / "digits.npy"))[1], original)
    assert p.shape == (120, 10)
