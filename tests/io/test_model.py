"""Model files: plain .npz without pickle, identical predictions after loading, bad files refused."""

import json
import zipfile

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nnkit.engine.network import build_mlp
from nnkit.errors import NnkitInputError
from nnkit.io.model import load_model, model_arrays, save_model


@pytest.fixture
def network():
    return build_mlp(5, [7, 4], 3, activation="tanh", output="softmax", rng=0)


def test_layout_is_plain_npz_with_meta_json(tmp_path, network):
    path = tmp_path / "model.npz"
    save_model(path, network, {"task": "classification", "classes": np.array(["a", "b", "c"]),
                               "preprocessing": {"mean": np.arange(5.0)}, "options": {"seed": 0}})
    with np.load(path, allow_pickle=False) as archive:
        assert sorted(archive.files) == ["W0", "W1", "W2", "b0", "b1", "b2", "meta"]
        assert archive["W0"].shape == (5, 7) and archive["W2"].shape == (4, 3)
        assert archive["W0"].dtype == np.float32
        meta = json.loads(str(archive["meta"]))
    assert meta["format"] == "nnkit-model" and meta["version"] == 1
    assert meta["sizes"] == [5, 7, 4, 3] and meta["activations"] == ["tanh", "tanh"]
    assert meta["output"] == "softmax" and meta["classes"] == ["a", "b", "c"]
    assert meta["preprocessing"] == {"mean": [0.0, 1.0, 2.0, 3.0, 4.0]}


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


def _meta_with(network, **changes):
    arrays = model_arrays(network)
    meta = json.loads(str(arrays["meta"]))
    meta.update(changes)
    arrays["meta"] = np.array(json.dumps(meta))
    return arrays


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p, n: p.write_bytes(b"not a zip at all") and p, "cannot read the model"),
        (lambda p, n: _write(p, {"x": np.zeros(3)}), "not an nnkit model"),
        (lambda p, n: _write(p, {**model_arrays(n), "meta": np.array("{not json")}), "not valid JSON"),
        (lambda p, n: _write(p, {**model_arrays(n), "meta": np.array(json.dumps({"format": "keras"}))}),
         "not an nnkit model"),
        (lambda p, n: _write(p, _meta_with(n, version=99)), "version 99"),
        (lambda p, n: _write(p, _meta_with(n, activations=["relu", "bogus"])), "unknown activation"),
        (lambda p, n: _write(p, _meta_with(n, activations=["relu"])), "one activation per hidden layer"),
        (lambda p, n: _write(p, _meta_with(n, output="linear")), "unknown output"),
        (lambda p, n: _write(p, _meta_with(n, sizes=[5, 8, 4, 3])), "W0 has shape"),
        (lambda p, n: _write(p, {k: v for k, v in model_arrays(n).items() if k != "b1"}), "b1 is missing"),
        (lambda p, n: _write(p, {**model_arrays(n), "W1": np.full((7, 4), np.nan)}), "NaN"),
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
    with pytest.raises(NnkitInputError, match="not an nnkit model"):
        load_model(tmp_path / "a.npy")
    with pytest.raises(NnkitInputError, match="does not exist"):
        load_model(tmp_path / "missing.npz")
    np.savez(tmp_path / "pickled.npz", **{**model_arrays(network), "meta": np.array([{"a": 1}], dtype=object)})
    with pytest.raises(NnkitInputError, match="cannot read the model"):
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
