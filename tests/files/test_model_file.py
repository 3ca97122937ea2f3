"""Model files: plain .npz without pickle, identical predictions after loading, bad files refused."""

import contextlib
import json
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nnkit.errors import NnkitInputError
from nnkit.files.model_file import load_model, model_arrays, save_model
from nnkit.nn.stack import build_mlp


@pytest.fixture
def network():
    return build_mlp(5, [7, 4], 3, activation="tanh", output="softmax", rng=0)


def test_layout_is_plain_npz_with_meta_json(tmp_path, network):
    path = tmp_path / "model.npz"
    save_model(path, network, {"task": "classification", "classes": np.array(["a", "b", "c"]),
                               "preprocessing": {"kind": "standardize", "mean": np.arange(5.0), "std": np.ones(5)},
                               "options": {"seed": 0}})
    with np.load(path, allow_pickle=False) as archive:
        assert sorted(archive.files) == ["W0", "W1", "W2", "b0", "b1", "b2", "meta"]
        assert archive["W0"].shape == (5, 7) and archive["W2"].shape == (4, 3)
        assert archive["W0"].dtype == np.float32
        meta = json.loads(str(archive["meta"]))
    assert meta["format"] == "nnkit-model" and meta["version"] == 1
    assert meta["sizes"] == [5, 7, 4, 3] and meta["activations"] == ["tanh", "tanh"]
    assert meta["output"] == "softmax" and meta["classes"] == ["a", "b", "c"]
    assert meta["preprocessing"]["mean"] == [0.0, 1.0, 2.0, 3.0, 4.0]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_save_then_load_gives_identical_predictions(tmp_path, dtype):
    net = build_mlp(4, [6], 1, activation="relu", output="sigmoid", dtype=dtype, rng=2)
    path = tmp_path / "m.npz"
    save_model(path, net, {"classes": [0, 1]})
    loaded, meta = load_model(path)
    x = np.random.default_rng(0).standard_normal((20, 4))
    np.testing.assert_array_equal(loaded.predict_proba(x), net.predict_proba(x))
    assert loaded.dtype == dtype and loaded.output == "sigmoid" and meta["classes"] == [0, 1]


def test_write_is_atomic_and_leaves_no_temporary_files(tmp_path, network):
    save_model(tmp_path / "m.npz", network)
    save_model(tmp_path / "m.npz", network)
    assert [p.name for p in tmp_path.iterdir()] == ["m.npz"]


def _write(path, arrays):
    np.savez(path, **arrays)
    return path


def _meta_with(network, drop=(), **changes):
    arrays = model_arrays(network)
    meta = json.loads(str(arrays["meta"]))
    meta.update(changes)
    for key in drop:
        del meta[key]
    arrays["meta"] = np.array(json.dumps(meta))
    return arrays


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p, n: p.write_bytes(b"not a zip at all") and p, "not an .npz archive"),
        (lambda p, n: _write(p, {"x": np.zeros(3)}), "not an nnkit model"),
        (lambda p, n: _write(p, {**model_arrays(n), "meta": np.array("{not json")}), "not valid JSON"),
        (lambda p, n: _write(p, {**model_arrays(n), "meta": np.array(json.dumps({"format": "keras"}))}),
         "not an nnkit model"),
        (lambda p, n: _write(p, _meta_with(n, version=99)), "version 99"),
        (lambda p, n: _write(p, _meta_with(n, activations=["relu", "bogus"])), "activations.1. must be one of relu"),
        (lambda p, n: _write(p, _meta_with(n, activations=["relu"])), "one activation per hidden layer .2., not 1"),
        (lambda p, n: _write(p, _meta_with(n, output="linear")), "output must be one of softmax, sigmoid"),
        (lambda p, n: _write(p, _meta_with(n, sizes=[5, 8, 4, 3], drop=("layers", "input_shape"))), "W0 has shape"),
        (lambda p, n: _write(p, _meta_with(n, sizes=[5, 8, 4, 3])), "meta.layers does not match meta.sizes"),
        (lambda p, n: _write(p, {k: v for k, v in model_arrays(n).items() if k != "b1"}), "b1 is missing"),
        (lambda p, n: _write(p, {**model_arrays(n), "W1": np.full((7, 4), np.nan, dtype=np.float32)}), "NaN"),
        (lambda p, n: _write(p, {**model_arrays(n), "W1": np.ones((7, 4), dtype=int)}), "floats"),
    ],
)
def test_corrupt_or_foreign_files_are_input_errors(tmp_path, network, make, message):
    path = tmp_path / "bad.npz"
    make(path, network)
    with pytest.raises(NnkitInputError, match=message):
        load_model(path)


def test_npy_file_missing_file_and_pickled_meta_are_refused(tmp_path, network):
    np.save(tmp_path / "a.npy", np.zeros(3))
    with pytest.raises(NnkitInputError, match="not an nnkit model: not an .npz archive"):
        load_model(tmp_path / "a.npy")
    with pytest.raises(NnkitInputError, match="does not exist"):
        load_model(tmp_path / "missing.npz")
    np.savez(tmp_path / "pickled.npz", **{**model_arrays(network), "meta": np.array([{"a": 1}], dtype=object)})
    with pytest.raises(NnkitInputError, match="'meta.npy' holds Python objects"):
        load_model(tmp_path / "pickled.npz")


def test_truncated_archive_is_an_input_error(tmp_path, network):
    path = tmp_path / "m.npz"
    save_model(path, network)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(NnkitInputError):
        load_model(path)
    # A damaged member behind an intact directory fails when read, and still as an input error.
    good = tmp_path / "g.npz"
    save_model(good, network)
    with zipfile.ZipFile(good) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    members["W1.npy"] = members["W1.npy"][:40]
    with zipfile.ZipFile(tmp_path / "d.npz", "w") as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    with pytest.raises(NnkitInputError):
        load_model(tmp_path / "d.npz")


def test_saving_into_a_missing_folder_is_an_input_error(tmp_path, network):
    with pytest.raises(NnkitInputError, match="does not exist"):
        save_model(tmp_path / "nope" / "m.npz", network)
    with pytest.raises(NnkitInputError, match="does not end in .npz"):
        save_model(tmp_path / "m.txt", network)
    assert not (tmp_path / "m.txt").exists()


def test_junk_bytes_are_not_blamed_on_pickles(tmp_path):
    # np.load takes unknown bytes for a pickle; the message must not advise allowing pickles.
    (tmp_path / "junk.npz").write_bytes(b"junk")
    with pytest.raises(NnkitInputError) as error:
        load_model(tmp_path / "junk.npz")
    assert "pickle" not in str(error.value) and "not an .npz archive" in str(error.value)


@settings(max_examples=25, deadline=None)
@given(
    sizes=st.lists(st.integers(1, 6), min_size=2, max_size=4),
    activation=st.sampled_from(["relu", "sigmoid", "tanh", "elu", "gelu"]),
    output=st.sampled_from(["softmax", "sigmoid"]),
    seed=st.integers(0, 2**16),
)
def test_any_network_round_trips_exactly(tmp_path_factory, sizes, activation, output, seed):
    net = build_mlp(sizes[0], sizes[1:-1], sizes[-1], activation=activation, output=output, rng=seed)
    path = tmp_path_factory.mktemp("models") / "m.npz"
    save_model(path, net)
    loaded, _ = load_model(path)
    assert loaded.sizes == net.sizes and loaded.activations == net.activations
    x = np.random.default_rng(seed).standard_normal((3, sizes[0]))
    np.testing.assert_array_equal(loaded.predict_proba(x), net.predict_proba(x))


# --- hostile model files: everything is validated against the declaration before use ---------------


def _patched_zip(path, offset_local, offset_central, value: bytes):
    """Overwrite a field of every member's local and central header (flags, compression method)."""
    data = bytearray(path.read_bytes())
    for signature, offset in ((b"PK\x03\x04", offset_local), (b"PK\x01\x02", offset_central)):
        start = data.find(signature)
        while start != -1:
            data[start + offset : start + offset + len(value)] = value
            start = data.find(signature, start + 4)
    path.write_bytes(bytes(data))
    return path


def _with_raw_member(path, arrays, name, content):
    np.savez(path, **arrays)
    with zipfile.ZipFile(path, "a") as archive:
        archive.writestr(name, content)
    return path


def _lying_header(path, network):
    """W0's header promises 10⁶×10⁶ floats; the member holds a few bytes."""
    np.savez(path, **model_arrays(network))
    with zipfile.ZipFile(path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    header = members["W0.npy"][:128].replace(b"(5, 7)", b"(1000000, 1000000)".ljust(6))
    members["W0.npy"] = header + members["W0.npy"][128:]
    with zipfile.ZipFile(path, "w") as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return path


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p, n: _write(p, _meta_with(n, classes=3)), "meta.classes must be a list, not an integer"),
        (lambda p, n: _write(p, _meta_with(n, options=[1, 2])), "meta.options must be an object, not a list"),
        (lambda p, n: _write(p, _meta_with(n, preprocessing="standardize")),
         "meta.preprocessing must be an object, not a string"),
        (lambda p, n: _write(p, _meta_with(n, preprocessing={"kind": "standardize", "std": [1.0] * 5})),
         "meta.preprocessing.mean is missing"),
        (lambda p, n: _write(p, _meta_with(n, preprocessing={"kind": "standardize", "mean": [[0.0]] * 5,
                                                            "std": [1.0] * 5})),
         r"meta.preprocessing.mean\[0\] must be a finite number, not a list"),
        (lambda p, n: _write(p, _meta_with(n, preprocessing={"kind": "standardize", "mean": [0.0] * 4,
                                                            "std": [1.0] * 5})),
         "mean must hold 5 values .one per input., not 4"),
        (lambda p, n: _write(p, _meta_with(n, preprocessing={"kind": "scale", "divisor": 0})),
         "divisor must be a positive number"),
        (lambda p, n: _write(p, _meta_with(n, classes=["a", "b", "c", "d"])), "must name the 3 classes of the output layer, not 4"),
        (lambda p, n: _write(p, _meta_with(n, classes=["a", "b"])), "must name the 3 classes of the output layer, not 2"),
        (lambda p, n: _write(p, _meta_with(n, classes=["a", "b", "a"])), r"classes\[2\] repeats 'a'"),
        (lambda p, n: _write(p, _meta_with(n, classes=[True, False, None])), r"classes\[0\] must be a class name"),
        (lambda p, n: _write(p, _meta_with(n, options={"lr": -1})), "options.lr must be a positive number"),
        (lambda p, n: _write(p, _meta_with(n, options={"batch_size": "half"})), "positive integer or 'full'"),
        (lambda p, n: _write(p, _meta_with(n, epochs_run=1.5)), "epochs_run must be an integer"),
        (lambda p, n: _write(p, _meta_with(n, sizes="5,7,4,3")), "meta.sizes must be a list, not a string"),
        (lambda p, n: _write(p, _meta_with(n, kind="transformer")), "meta.kind must be one of mlp"),
        (lambda p, n: _write(p, _meta_with(n, version="1")), "meta.version must be an integer"),
        (lambda p, n: _write(p, {**model_arrays(n), "meta": np.array('{"format": "nnkit-model", "a": '
                                                                     + "[" * 100_000 + "]" * 100_000 + "}")}),
         "nested too deeply"),
        (lambda p, n: _write(p, {**model_arrays(n), "meta": np.array("[1, 2]")}), "does not say format"),
        (lambda p, n: _write(p, {**model_arrays(n), "meta": np.array(["{}", "{}"])}), "not one JSON string"),
        (lambda p, n: _write(p, {**model_arrays(n), "W9": np.zeros(2, np.float32)}), "array 'W9' its meta data does not"),
        (lambda p, n: _write(p, {**model_arrays(n), "W0": np.zeros((5, 7, 1), np.float32)}), "W0 has shape"),
        (lambda p, n: _write(p, {**model_arrays(n), "W0": np.zeros((5, 7), np.complex64)}), "complex64 values"),
        (lambda p, n: _write(p, {**model_arrays(n), "W0": np.zeros((5, 7), [("a", "f4")])}), "plain numbers"),
        (lambda p, n: _with_raw_member(p, model_arrays(n), "notes.txt", b"hello"), "'notes.txt' is not a .npy"),
        (lambda p, n: _with_raw_member(p, model_arrays(n), "W5.npy", b"raw bytes, no header"),
         "'W5.npy' is not a valid .npy"),
        (lambda p, n: _patched_zip(_write(p, model_arrays(n)), 6, 8, b"\x01\x00"), "is encrypted"),
        (lambda p, n: _patched_zip(_write(p, model_arrays(n)), 8, 10, b"\x62\x00"), "compression method .98."),
        (_lying_header, "the header promises 1000000×1000000 float32"),
    ],
)
def test_hostile_model_files_are_not_nnkit_models(tmp_path, network, make, message):
    path = tmp_path / "bad.npz"
    make(path, network)
    with pytest.raises(NnkitInputError, match=message) as error:
        load_model(path)
    assert str(path) in error.value.message


def test_a_model_file_the_reader_would_refuse_is_never_written(tmp_path, network):
    from nnkit.files.schema import SchemaError

    with pytest.raises(SchemaError, match="classes"):
        save_model(tmp_path / "m.npz", network, {"classes": ["only one"]})
    assert list(tmp_path.iterdir()) == []


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=150, deadline=None)
@given(key=st.sampled_from(["format", "version", "kind", "sizes", "activations", "output", "task", "classes",
                            "preprocessing", "options", "epochs_run", "data", "gate"]), value=_JSON)
def test_any_meta_value_is_read_or_refused_as_an_input_error(tmp_path_factory, key, value):
    network = build_mlp(2, [3], 1, activation="relu", output="sigmoid", rng=0)
    path = tmp_path_factory.mktemp("fuzz") / "m.npz"
    np.savez(path, **_meta_with(network, **{key: value}))
    try:
        loaded, meta = load_model(path)
    except NnkitInputError as error:
        assert str(path) in error.message
        return
    # Accepted: then every key predict and train-mlp read has the declared type.
    assert loaded.sizes == [2, 3, 1]
    assert meta.get("classes") is None or len(meta["classes"]) == 2


@settings(max_examples=100, deadline=None)
@given(data=st.data())
def test_damaged_model_bytes_are_input_errors(tmp_path_factory, data):
    network = build_mlp(2, [3], 2, activation="tanh", output="softmax", rng=0)
    path = tmp_path_factory.mktemp("bytes") / "m.npz"
    save_model(path, network, {"classes": ["a", "b"]})
    raw = bytearray(path.read_bytes())
    for _ in range(data.draw(st.integers(1, 8))):
        raw[data.draw(st.integers(0, len(raw) - 1))] = data.draw(st.integers(0, 255))
    path.write_bytes(bytes(raw))
    with contextlib.suppress(NnkitInputError):  # any other exception fails the test
        load_model(path)


# --- the layer list ----------------------------------------------------------------------------------
FIXTURES = Path(__file__).parent / "fixtures"
CNN = [
    {"type": "conv2d", "filters": 4, "kernel": 3, "padding": "same", "activation": "relu"},
    {"type": "maxpool2d", "size": 2},
    {"type": "conv2d", "filters": 6, "kernel": 3, "stride": 2},
    {"type": "flatten"},
    {"type": "dropout", "rate": 0.25},
    {"type": "dense", "units": 3, "activation": "softmax"},
]


@pytest.fixture
def cnn():
    from nnkit.nn.stack import build_network

    return build_network(CNN, (11, 9, 2), seed=3, init="keras")


@pytest.mark.parametrize("name", ["digits", "cancer"])
def test_models_written_before_the_layer_list_load_and_predict_the_same(name):
    # Written by main 5180aac (see fixtures/README.md): version 1, sizes + activations, no layers.
    from nnkit.data.labelled import load_dataset
    from nnkit.data.preprocessing import apply_preprocessing

    net, meta = load_model(FIXTURES / f"model_main_{name}.npz")
    assert "layers" not in meta and meta["version"] == 1
    source = "digits" if name == "digits" else str(Path(__file__).parents[2] / "samples" / "breast_cancer_wdbc.csv")
    x = load_dataset(source).parts["train"][0][:20]
    proba = net.predict_proba(apply_preprocessing(x, meta["preprocessing"]))
    np.testing.assert_array_equal(proba, np.load(FIXTURES / f"model_main_{name}_proba20.npy"))


def test_an_mlp_is_still_version_1_and_lists_its_layers(tmp_path, network):
    save_model(tmp_path / "m.npz", network)
    with np.load(tmp_path / "m.npz", allow_pickle=False) as archive:
        meta = json.loads(str(archive["meta"]))
    assert meta["version"] == 1 and "kind" not in meta  # an nnkit from before the layer list reads it
    assert meta["input_shape"] == [5]
    assert meta["layers"] == [{"type": "dense", "units": 7}, {"type": "activation", "name": "tanh"},
                              {"type": "dense", "units": 4}, {"type": "activation", "name": "tanh"},
                              {"type": "dense", "units": 3}]


def test_a_conv_model_round_trips_without_pickle(tmp_path, cnn):
    path = tmp_path / "cnn.npz"
    save_model(path, cnn, {"classes": ["a", "b", "c"]})
    with np.load(path, allow_pickle=False) as archive:
        meta = json.loads(str(archive["meta"]))
        assert archive["W0"].shape == (3, 3, 2, 4) and archive["W1"].shape == (3, 3, 4, 6)
        # 11×9 → same: 11×9 → pool 2 (partial edge dropped): 5×4 → 3×3 stride 2: 2×1, 6 channels
        assert archive["W2"].shape == (2 * 1 * 6, 3)
    assert meta["version"] == 2 and meta["kind"] == "layers" and meta["input_shape"] == [11, 9, 2]
    assert [c["type"] for c in meta["layers"]] == [
        "conv2d", "activation", "maxpool2d", "conv2d", "flatten", "dropout", "dense"]
    loaded, _ = load_model(path)
    x = np.random.default_rng(0).random((5, 11, 9, 2), dtype=np.float32)
    np.testing.assert_array_equal(loaded.predict_proba(x), cnn.predict_proba(x))
    assert loaded.configs() == cnn.configs() and loaded.input_shape == (11, 9, 2)


def _cnn_meta(cnn, edit):
    arrays = model_arrays(cnn)
    meta = json.loads(str(arrays["meta"]))
    edit(meta)
    arrays["meta"] = np.array(json.dumps(meta))
    return arrays


def _set(path, value):
    def edit(meta):
        target = meta
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return edit


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (_set(["layers", 0, "type"], "conv"), r"meta.layers\[0\].type must be one of conv2d"),
        (_set(["layers", 0, "filters"], "4"), r"meta.layers\[0\].filters must be an integer"),
        (_set(["layers", 0, "filters"], 5), "W0 has shape"),
        (_set(["layers", 0, "padding"], "full"), r"padding must be one of valid, same"),
        (_set(["layers", 2, "size"], 40), r"meta.layers\[2\] \(maxpool2d\) does not fit"),
        (_set(["layers", 3, "kernel"], 9), r"meta.layers\[3\] \(conv2d\) does not fit"),
        (_set(["layers", 5, "rate"], 1.5), r"rate must be a number in \[0, 1\)"),
        (_set(["layers", 1, "name"], "softmax"), r"meta.layers\[1\].name must be one of"),
        (_set(["layers"], []), "meta.layers must hold 1 to 1000 items, not 0"),
        (_set(["layers"], "conv 4 3"), "meta.layers must be a list"),
        (_set(["input_shape"], [11, 9]), "meta.input_shape must be"),
        (_set(["input_shape"], [99]), r"\(conv2d\) does not fit: conv2d needs images"),
        (lambda meta: meta["layers"].pop(), "must end with a dense layer"),
        (lambda meta: meta["layers"].insert(4, {"type": "dense", "units": 3}), r"\(dense\) does not fit: dense needs flat inputs"),
        (_set(["version"], 1), "meta.version must be 2"),
        (_set(["classes"], ["a", "b"]), "must name the 3 classes"),
    ],
)
def test_a_damaged_layer_list_is_an_input_error(tmp_path, cnn, edit, message):
    path = _write(tmp_path / "bad.npz", _cnn_meta(cnn, edit))
    with pytest.raises(NnkitInputError, match=message):
        load_model(path)


def test_extra_or_missing_conv_weights_are_refused(tmp_path, cnn):
    arrays = model_arrays(cnn)
    with pytest.raises(NnkitInputError, match="W3"):
        load_model(_write(tmp_path / "a.npz", {**arrays, "W3": np.zeros(2, np.float32)}))
    with pytest.raises(NnkitInputError, match="b1 is missing"):
        load_model(_write(tmp_path / "b.npz", {k: v for k, v in arrays.items() if k != "b1"}))
