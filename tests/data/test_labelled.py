"""Dataset readers, label encoding, splits and preprocessing, on small files written here."""

import gzip
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nnkit.data.labelled import load_dataset, prepare, read_idx, write_idx
from nnkit.data.splits import stratified_split
from nnkit.errors import NnkitInputError

CANCER = Path(__file__).parents[2] / "samples" / "breast_cancer_wdbc.csv"


def small_images(n=60, size=(6, 5), classes=3, seed=0):
    rng = np.random.default_rng(seed)
    y = np.arange(n) % classes
    x = rng.integers(0, 256, (n, *size), dtype=np.uint8)
    return x, y.astype(np.uint8)


def learnable_images(n=90, size=(6, 5), classes=3, seed=0):
    """Noisy uint8 images whose class is where a bright band lies (row k for class k)."""
    rng = np.random.default_rng(seed)
    y = (np.arange(n) % classes).astype(np.uint8)
    x = rng.integers(0, 60, (n, *size), dtype=np.uint8)
    for i, k in enumerate(y):
        x[i, k % size[0], :] = 200 + rng.integers(0, 56)
    return x, y


def test_digits_is_the_bundled_set_scaled_to_unit_range():
    ds = load_dataset("digits")
    x, y = ds.parts["train"]
    assert x.shape == (1797, 8, 8) and y.shape == (1797,)
    assert np.bincount(y).tolist()[:3] == [178, 182, 177]
    p = prepare(ds, val_split=0.1, test_split=0.2, seed=0)
    assert p.classes == list(range(10))
    assert p.x["train"].dtype == np.float32
    assert p.x["train"].shape[1] == 64
    assert float(p.x["train"].max()) == 1.0 and float(p.x["train"].min()) == 0.0
    assert sum(v.shape[0] for v in p.x.values()) == 1797
    # Stratified: each class keeps its share in the test part (within rounding).
    assert np.all(np.abs(np.bincount(p.y["test"]) - 0.2 * np.bincount(y)) <= 0.5)
    assert p.preprocessing == {"kind": "scale", "divisor": 16.0, "image_shape": [8, 8]}


def test_breast_cancer_table_header_labels_and_training_statistics():
    ds = load_dataset(str(CANCER))
    assert ds.kind == "table"
    assert ds.label_name == "diagnosis"
    assert ds.feature_names[0] == "mean_radius" and len(ds.feature_names) == 30
    x, labels = ds.parts["train"]
    assert x.shape == (569, 30)
    assert x[0, 0] == 17.99  # the first data row, so the header was not read as data
    p = prepare(ds, val_split=0.1, test_split=0.2, seed=1)
    assert p.classes == ["benign", "malignant"]
    # Standardised with the training part's statistics only: train is exactly centred.
    np.testing.assert_allclose(p.x["train"].mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose(p.x["train"].std(axis=0), 1, atol=1e-4)
    assert abs(float(p.x["test"].mean())) > 1e-4
    train_rows = x[stratified_split(labels, [0.1, 0.2], seed=1)[0]]
    np.testing.assert_allclose(p.preprocessing["mean"], train_rows.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(p.preprocessing["std"], train_rows.std(axis=0), rtol=1e-12)
    assert not np.allclose(p.preprocessing["mean"], x.mean(axis=0), rtol=1e-6)


def test_label_column_by_name_and_index(tmp_path):
    f = tmp_path / "t.csv"
    f.write_text("group,a,b\nyes,1,2\nno,3,4\nyes,5,6\nno,7,8\n")
    by_name = load_dataset(str(f), label_column="group")
    by_index = load_dataset(str(f), label_column="0")
    for ds in (by_name, by_index):
        x, labels = ds.parts["train"]
        assert x.tolist() == [[1, 2], [3, 4], [5, 6], [7, 8]]
        assert labels.tolist() == ["yes", "no", "yes", "no"]
        assert ds.feature_names == ["a", "b"]


def test_headerless_whitespace_table_with_integer_labels(tmp_path):
    f = tmp_path / "t.txt"
    f.write_text("0.5 1.5 1\n2.5 3.5 0\n")
    ds = load_dataset(str(f))
    x, labels = ds.parts["train"]
    assert x.tolist() == [[0.5, 1.5], [2.5, 3.5]]
    assert labels.dtype.kind == "i" and labels.tolist() == [1, 0]


@pytest.mark.parametrize(
    ("text", "option", "message"),
    [
        ("a,b,y\n1,2,0\n1,oops,1\n", None, r"line 3, column 2 \('b'\): not a number: 'oops'"),
        ("a,b,y\n1,2,0\n1,,1\n", None, r"line 3, column 2 \('b'\): a missing value"),
        ("a,b,y\n1,2,0\n1,NA,1\n", None, r"line 3, column 2 \('b'\): a missing value"),
        ("a,b,y\n1,2,0\n3,4,1\n", "label", r"--label-column 'label' does not exist"),
        ("a,b,y\n1,2,0\n3,4,1\n", "7", r"--label-column 7 does not exist"),
        ("", None, r"is empty"),
        ("a,b,y\n1,2\n", None, r"line 2 has 2 fields; line 1 has 3"),
        ("a,b,y\n", None, r"has a header but no data rows"),
    ],
)
def test_bad_tables_name_the_problem(tmp_path, text, option, message):
    f = tmp_path / "bad.csv"
    f.write_text(text)
    with pytest.raises(NnkitInputError, match=message):
        load_dataset(str(f), label_column=option)


def test_one_class_only_is_refused(tmp_path):
    f = tmp_path / "one.csv"
    f.write_text("a,y\n1,sick\n2,sick\n3,sick\n")
    with pytest.raises(NnkitInputError, match="one class only"):
        prepare(load_dataset(str(f)))


def test_idx_round_trip_gzip_and_raw(tmp_path):
    x, _ = small_images()
    for name in ("a-idx3-ubyte", "a-idx3-ubyte.gz"):
        write_idx(tmp_path / name, x)
        assert np.array_equal(read_idx(tmp_path / name), x)
    # The header really is the IDX one: magic 0x00000803, then big-endian dimensions.
    raw = (tmp_path / "a-idx3-ubyte").read_bytes()
    assert raw[:4] == b"\x00\x00\x08\x03"
    assert int.from_bytes(raw[4:8], "big") == 60
    assert gzip.decompress((tmp_path / "a-idx3-ubyte.gz").read_bytes()) == raw


@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_idx_folder(tmp_path, suffix):
    x, y = small_images(80)
    write_idx(tmp_path / f"train-images-idx3-ubyte{suffix}", x[:60])
    write_idx(tmp_path / f"train-labels-idx1-ubyte{suffix}", y[:60])
    write_idx(tmp_path / f"t10k-images-idx3-ubyte{suffix}", x[60:])
    write_idx(tmp_path / f"t10k-labels-idx1-ubyte{suffix}", y[60:])
    ds = load_dataset(str(tmp_path))
    assert set(ds.parts) == {"train", "test"} and ds.image_shape == (6, 5)
    p = prepare(ds, val_split=0.1, seed=0)
    assert p.x["test"].shape == (20, 30)
    assert p.x["train"].shape[0] + p.x["validation"].shape[0] == 60
    # 8-bit pixels ÷ 255, flattened in row-major (the course's reshape) order.
    np.testing.assert_array_equal(p.x["test"][0], (x[60].reshape(-1) / np.float32(255)))


def test_idx_bad_magic_and_bad_size(tmp_path):
    (tmp_path / "train-images-idx3-ubyte").write_bytes(b"\x12\x34\x08\x03" + b"\x00" * 12)
    with pytest.raises(NnkitInputError, match="bad magic number"):
        read_idx(tmp_path / "train-images-idx3-ubyte")
    x, _ = small_images(4)
    write_idx(tmp_path / "short", x)
    (tmp_path / "short").write_bytes((tmp_path / "short").read_bytes()[:-3])
    with pytest.raises(NnkitInputError, match="the header promises 4×6×5 = 120 bytes"):
        read_idx(tmp_path / "short")


def test_idx_folder_with_mixed_image_sizes(tmp_path):
    x, y = small_images(20)
    x2, _ = small_images(10, size=(5, 5))
    write_idx(tmp_path / "train-images-idx3-ubyte", x)
    write_idx(tmp_path / "train-labels-idx1-ubyte", y)
    write_idx(tmp_path / "t10k-images-idx3-ubyte", x2)
    write_idx(tmp_path / "t10k-labels-idx1-ubyte", y[:10])
    with pytest.raises(NnkitInputError, match="images of mixed sizes"):
        load_dataset(str(tmp_path))


def test_idx_folder_without_training_files(tmp_path):
    with pytest.raises(NnkitInputError, match="no MNIST training files"):
        load_dataset(str(tmp_path))


def test_keras_npz_layout(tmp_path):
    x, y = small_images(50)
    f = tmp_path / "mnist.npz"
    np.savez(f, x_train=x[:40], y_train=y[:40], x_test=x[40:], y_test=y[40:])
    ds = load_dataset(str(f))
    assert set(ds.parts) == {"train", "test"} and ds.divisor == 255.0
    p = prepare(ds, val_split=0.0, seed=0)
    assert set(p.x) == {"train", "test"} and p.x["train"].shape == (40, 30)


@pytest.mark.parametrize(
    ("dtype", "scale", "divisor"),
    [(np.int64, 1, 255.0), (np.float32, 1, 255.0), (np.float64, 1 / 255, 1.0), (np.int32, 257, 65535.0)],
)
def test_npz_pixels_of_other_dtypes_are_scaled_by_their_range(tmp_path, dtype, scale, divisor):
    x, y = small_images(50)
    f = tmp_path / "mnist.npz"
    x = (x.astype(np.float64) * scale).astype(dtype)
    np.savez(f, x_train=x[:40], y_train=y[:40], x_test=x[40:], y_test=y[40:])
    ds = load_dataset(str(f))
    assert ds.divisor == divisor
    p = prepare(ds, val_split=0.0, seed=0)
    assert p.x["train"].min() >= 0.0 and p.x["train"].max() <= 1.0


def test_medmnist_npz_layout_with_column_labels(tmp_path):
    x, y = small_images(60, classes=2)
    f = tmp_path / "pneumoniamnist.npz"
    col = y.reshape(-1, 1)
    np.savez(
        f,
        train_images=x[:40],
        train_labels=col[:40],
        val_images=x[40:50],
        val_labels=col[40:50],
        test_images=x[50:],
        test_labels=col[50:],
    )
    p = prepare(load_dataset(str(f)), seed=0)
    assert {k: v.shape[0] for k, v in p.x.items()} == {"train": 40, "validation": 10, "test": 10}
    assert p.y["validation"].tolist() == (np.arange(40, 50) % 2).tolist()


def test_npz_without_expected_keys(tmp_path):
    f = tmp_path / "other.npz"
    np.savez(f, images=np.zeros((2, 3, 3)), labels=np.zeros(2))
    with pytest.raises(NnkitInputError, match=r"neither the Keras MNIST keys.*it has: images, labels"):
        load_dataset(str(f))


def test_npz_with_mixed_sizes(tmp_path):
    f = tmp_path / "mixed.npz"
    np.savez(
        f,
        x_train=np.zeros((4, 28, 28), np.uint8),
        y_train=np.array([0, 1, 0, 1]),
        x_test=np.zeros((2, 32, 32), np.uint8),
        y_test=np.array([0, 1]),
    )
    with pytest.raises(NnkitInputError, match=r"images of mixed sizes.*train 28×28, test 32×32"):
        load_dataset(str(f))


def test_corrupt_npz(tmp_path):
    f = tmp_path / "broken.npz"
    f.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(NnkitInputError, match="broken.npz: not an .npz archive"):
        load_dataset(str(f))


def test_unknown_source():
    with pytest.raises(NnkitInputError, match="no such data set"):
        load_dataset("no/such/file.csv")


def test_same_seed_same_split_other_seed_other_split():
    ds = load_dataset("digits")
    a, b, c = (prepare(ds, seed=s) for s in (3, 3, 4))
    assert np.array_equal(a.x["test"], b.x["test"]) and np.array_equal(a.y["test"], b.y["test"])
    assert not np.array_equal(a.x["test"], c.x["test"])


@settings(max_examples=40, deadline=None)
@given(
    st.tuples(st.integers(1, 5), st.integers(1, 4), st.integers(1, 4)),
    st.booleans(),
    st.data(),
)
def test_idx_round_trip_property(shape, gz, data):
    import tempfile

    values = data.draw(st.lists(st.integers(0, 255), min_size=int(np.prod(shape)), max_size=int(np.prod(shape))))
    array = np.array(values, dtype=np.uint8).reshape(shape)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / ("x-idx3-ubyte.gz" if gz else "x-idx3-ubyte")
        write_idx(path, array)
        assert np.array_equal(read_idx(path), array)
