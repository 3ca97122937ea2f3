"""Named data sets (``--data mnist`` …) fetched from a local HTTP server standing in for the publishers.

The server on 127.0.0.1 serves small fixtures in each publisher's real layout (Keras's ``mnist.npz``,
Fashion-MNIST's four gzip IDX files, a MedMNIST ``.npz`` with (n, 1) labels); ``NNKIT_DATA_URL``
points nnkit at it and ``NNKIT_DATA_DIR`` at a fresh cache. The registry's checksums are replaced by
the fixtures' (the real files' sums cannot match small fixtures), except where the real sums are
exactly what is tested (a wrong file is refused).
"""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import http.server
import io
import json
import os
import socket
import threading
from pathlib import Path

import numpy as np
import pytest

from nnkit.data import named as named_datasets
from nnkit.data.labelled import write_idx
from tests.conftest import run_cli
from tests.data.test_labelled import learnable_images


class _Publisher(http.server.ThreadingHTTPServer):
    """Serves ``files`` (name → bytes); records every request; can corrupt or cut a file."""

    def __init__(self, files: dict[str, bytes]):
        self.files = dict(files)
        self.requests: list[str] = []
        self.corrupt: set[str] = set()
        self.truncate: set[str] = set()
        self.trickle: set[str] = set()  # one byte every 50 ms, for at most 10 s
        self.bomb: set[str] = set()  # gzip content-encoding that inflates to 64 MB of zeros
        super().__init__(("127.0.0.1", 0), _Handler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/data"


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        server: _Publisher = self.server
        name = self.path.removeprefix("/data/")
        server.requests.append(name)
        body = server.files.get(name)
        if body is None:
            self.send_error(404)
            return
        if name in server.corrupt:
            body = body[:-1] + bytes([body[-1] ^ 0xFF])
        if name in server.trickle:
            self._trickle(body)
            return
        if name in server.bomb:
            body = gzip.compress(b"\0" * (64 << 20), compresslevel=9)
            self.send_response(200)
            self.send_header("Content-Encoding", "gzip")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        # A partial download: the connection closes after half of the promised bytes.
        self.wfile.write(body[: len(body) // 2] if name in server.truncate else body)

    def _trickle(self, body: bytes) -> None:
        import time

        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        end = time.monotonic() + 10  # bounded: the test server stops by itself
        for byte in body:
            if time.monotonic() > end:
                break
            try:
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
            except OSError:  # the client hung up: what the test wants
                break
            time.sleep(0.05)

    def log_message(self, *args):  # keep the test output clean
        pass


def _npz_bytes(**arrays) -> bytes:
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    return buffer.getvalue()


def _idx_gz(array) -> bytes:
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb") as f:
        header = bytes([0, 0, 0x08, array.ndim]) + b"".join(int(s).to_bytes(4, "big") for s in array.shape)
        f.write(header + np.ascontiguousarray(array, dtype=np.uint8).tobytes())
    return buffer.getvalue()


def fixture_files() -> dict[str, bytes]:
    """Small files in each publisher's layout: 28×28 uint8 images, labels as each stores them."""
    x, y = learnable_images(150, size=(28, 28), classes=3, seed=1)
    x_bin, y_bin = learnable_images(120, size=(28, 28), classes=2, seed=2)
    files = {
        "mnist.npz": _npz_bytes(x_train=x[:100], y_train=y[:100], x_test=x[100:], y_test=y[100:]),
        "train-images-idx3-ubyte.gz": _idx_gz(x[:100]),
        "train-labels-idx1-ubyte.gz": _idx_gz(y[:100]),
        "t10k-images-idx3-ubyte.gz": _idx_gz(x[100:]),
        "t10k-labels-idx1-ubyte.gz": _idx_gz(y[100:]),
        "pneumoniamnist.npz": _npz_bytes(
            train_images=x_bin[:80], train_labels=y_bin[:80, None],
            val_images=x_bin[80:100], val_labels=y_bin[80:100, None],
            test_images=x_bin[100:], test_labels=y_bin[100:, None],
        ),
    }
    # The IDX writer of the package and this one agree (the fixture is the real layout).
    assert gzip.decompress(files["t10k-labels-idx1-ubyte.gz"])[:8] == bytes([0, 0, 8, 1, 0, 0, 0, 50])
    return files


@pytest.fixture
def publisher(tmp_path, monkeypatch):
    """A running local publisher, a fresh cache, and the registry's hashes set to the fixtures'."""
    files = fixture_files()
    for name in ("mnist", "fashion-mnist", "pneumoniamnist"):
        dataset = named_datasets.NAMED_DATASETS[name]
        remotes = tuple(
            dataclasses.replace(r, known_hash=f"{r.known_hash.split(':')[0]}:"
                                + hashlib.new(r.known_hash.split(":")[0], files[r.name]).hexdigest())
            for r in dataset.files
        )
        monkeypatch.setitem(named_datasets.NAMED_DATASETS, name, dataclasses.replace(dataset, files=remotes))
    server = _Publisher(files)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    cache = tmp_path / "cache"
    env = {"NNKIT_DATA_URL": server.url, "NNKIT_DATA_DIR": str(cache)}
    yield server, cache, env
    server.shutdown()
    server.server_close()


def _train(env, data, *extra):
    return run_cli("train-mlp", "--data", data, "--hidden", "8", "--epochs", "3", "-f", "json", *extra, env=env)


def test_first_use_downloads_and_caches_second_use_makes_no_request(publisher):
    server, cache, env = publisher
    run = _train(env, "mnist")
    assert run.exit_code == 0, run.stderr
    assert server.requests == ["mnist.npz"]
    assert (cache / "mnist" / "mnist.npz").read_bytes() == server.files["mnist.npz"]
    report = json.loads(run.stdout)
    assert report["classes"] == [0, 1, 2]
    assert report["test"]["confusion_matrix"] and sum(map(sum, report["test"]["confusion_matrix"])) == 50
    assert run.stderr == ""  # in a pipe: no progress bar, no pooch log line
    again = _train(env, "mnist")
    assert again.exit_code == 0, again.stderr
    assert server.requests == ["mnist.npz"]  # no second request
    assert json.loads(again.stdout)["test"] == report["test"]


def test_fashion_mnist_is_four_idx_files_with_the_publishers_class_names(publisher):
    server, cache, env = publisher
    run = _train(env, "fashion-mnist")
    assert run.exit_code == 0, run.stderr
    assert sorted(server.requests) == sorted(
        ["train-labels-idx1-ubyte.gz", "train-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz"]
    )
    report = json.loads(run.stdout)
    # The publisher's ten classes in its order (not sorted by name); labels 0, 1, 2 are its first three.
    assert report["classes"] == list(named_datasets.NAMED_DATASETS["fashion-mnist"].class_names)
    assert report["classes"][:3] == ["T-shirt/top", "Trouser", "Pullover"]
    support = {row["class"]: row["support"] for row in report["test"]["per_class"]}
    assert support["T-shirt/top"] + support["Trouser"] + support["Pullover"] == 50 and support["Bag"] == 0
    assert sorted(p.name for p in (cache / "fashion-mnist").iterdir()) == sorted(server.requests)


def test_medmnist_parts_labels_and_predict_on_its_test_part(publisher, tmp_path):
    server, cache, env = publisher
    model = tmp_path / "pneumonia.npz"
    run = _train(env, "pneumoniamnist", "--save", str(model))
    assert run.exit_code == 0, run.stderr
    report = json.loads(run.stdout)
    assert report["classes"] == ["normal", "pneumonia"]
    assert sum(map(sum, report["test"]["confusion_matrix"])) == 20  # MedMNIST's own test part
    assert "roc_auc" in report["test"]
    predicted = run_cli("predict", str(model), "--data", "pneumoniamnist", "-f", "json", env=env)
    assert predicted.exit_code == 0, predicted.stderr
    rows = json.loads(predicted.stdout)
    assert [r["input"] for r in rows] == [f"pneumoniamnist:test[{i}]" for i in range(20)]
    assert server.requests == ["pneumoniamnist.npz"]
    # The same probabilities as predicting the raw test images given as an .npy file.
    with np.load(cache / "pneumoniamnist" / "pneumoniamnist.npz") as archive:
        np.save(tmp_path / "test.npy", archive["test_images"])
    direct = json.loads(run_cli("predict", str(model), str(tmp_path / "test.npy"), "-f", "json", env=env).stdout)
    assert [r["probabilities"] for r in rows] == [r["probabilities"] for r in direct]


@pytest.mark.parametrize("damage", ["corrupt", "truncate"])
def test_a_damaged_download_is_refused_and_removed(publisher, damage):
    server, cache, env = publisher
    getattr(server, damage).add("mnist.npz")
    run = _train(env, "mnist")
    url = f"{server.url}/mnist.npz"
    run.assert_input_error(url)
    assert str(cache / "mnist" / "mnist.npz") in run.stderr  # where to put it by hand
    assert not (cache / "mnist").exists()  # nothing half-written left, not even an empty folder
    getattr(server, damage).clear()
    assert _train(env, "mnist").exit_code == 0  # the next try downloads it whole


def test_a_file_put_there_by_hand_is_used_without_a_download_but_checked(publisher):
    server, cache, env = publisher
    (cache / "mnist").mkdir(parents=True)
    (cache / "mnist" / "mnist.npz").write_bytes(server.files["mnist.npz"])
    assert _train(env, "mnist").exit_code == 0
    assert server.requests == []
    (cache / "mnist" / "mnist.npz").write_bytes(b"not the published file")
    run = _train(env, "mnist")
    run.assert_input_error(str(cache / "mnist" / "mnist.npz"), "checksum")
    assert server.requests == []  # refused, not silently replaced
    assert (cache / "mnist" / "mnist.npz").read_bytes() == b"not the published file"


def test_a_missing_file_on_the_server_names_the_url_and_the_path(publisher):
    server, cache, env = publisher
    del server.files["pneumoniamnist.npz"]
    run = _train(env, "pneumoniamnist")
    run.assert_input_error(f"{server.url}/pneumoniamnist.npz", "HTTP 404")
    assert "put it at" in run.stderr and str(cache / "pneumoniamnist" / "pneumoniamnist.npz") in run.stderr
    assert not (cache / "pneumoniamnist").exists()  # no empty folder left behind


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_no_server_is_an_input_error_with_the_url_and_the_path(tmp_path, shell):
    """End to end through the installed command, with the real registry's checksums."""
    url = f"http://127.0.0.1:{_closed_port()}/mirror"
    result = shell(
        "nnkit train-mlp --data organamnist --epochs 1",
        env={"NNKIT_DATA_URL": url, "NNKIT_DATA_DIR": str(tmp_path)},
    )
    stderr = result.stderr.decode()
    assert result.returncode == 2, stderr
    assert result.stdout == b""
    assert stderr.startswith(f"nnkit: error: cannot download organamnist.npz of organamnist from {url}/organamnist.npz: no connection")
    assert f"put it at {tmp_path / 'organamnist' / 'organamnist.npz'}" in stderr
    assert "Traceback" not in stderr
    assert not (tmp_path / "organamnist").exists()  # no empty folder left behind


def test_the_real_registry_uses_the_publishers_addresses_and_checksums():
    """The sums of Keras's loaders and MedMNIST's info.py (3.0.2), not made-up ones."""
    registry = named_datasets.NAMED_DATASETS
    mnist = registry["mnist"].files[0]
    assert mnist.url == "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz"
    assert mnist.known_hash == "sha256:731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"
    pneumonia = registry["pneumoniamnist"].files[0]
    assert pneumonia.url == "https://zenodo.org/records/10519652/files/pneumoniamnist.npz?download=1"
    assert pneumonia.known_hash == "md5:28209eda62fecd6e6a2d98b1501bb15f"
    for dataset in registry.values():
        assert dataset.class_names is None or len(dataset.class_names) == dataset.n_classes
        assert all(len(r.known_hash.split(":")[1]) in (32, 64) for r in dataset.files)
        assert not any("," in c for c in dataset.class_names or ())  # one CSV cell each


def test_datasets_lists_names_sizes_classes_licence_and_cache_state(publisher):
    server, _cache, env = publisher
    listed = json.loads(run_cli("datasets", "-f", "json", env=env).stdout)
    by_name = {row["name"]: row for row in listed}
    assert list(by_name) == list(named_datasets.NAMED_DATASETS)
    assert {"mnist", "fashion-mnist", "pneumoniamnist", "breastmnist", "dermamnist", "bloodmnist", "organamnist"} <= set(by_name)
    assert by_name["pneumoniamnist"]["train"] == 4708 and by_name["pneumoniamnist"]["classes"] == 2
    assert by_name["dermamnist"]["licence"] == "CC BY-NC 4.0" and by_name["dermamnist"]["image_shape"] == "28×28×3"
    assert not by_name["mnist"]["cached"]
    assert run_cli("datasets", "--download", "mnist", "-f", "csv", env=env).exit_code == 0
    csv_rows = run_cli("datasets", "-f", "csv", env=env).stdout.splitlines()
    assert csv_rows[0].split(",")[:3] == ["name", "title", "train"]
    mnist = next(r for r in json.loads(run_cli("datasets", "-f", "json", env=env).stdout) if r["name"] == "mnist")
    assert mnist["cached"] and mnist["cached_bytes"] == len(server.files["mnist.npz"])
    assert mnist["url"] == f"{server.url}/mnist.npz"
    run_cli("datasets", "--download", "no-such-set", env=env).assert_input_error("no-such-set")


def test_a_local_path_wins_over_a_name(tmp_path, publisher, monkeypatch):
    """A folder called mnist in the working folder is read as IDX files, as before names existed."""
    server, _cache, env = publisher
    folder = tmp_path / "mnist"
    folder.mkdir()
    x, y = learnable_images(60, size=(28, 28))
    write_idx(folder / "train-images-idx3-ubyte.gz", x)
    write_idx(folder / "train-labels-idx1-ubyte.gz", y)
    monkeypatch.chdir(tmp_path)
    assert _train(env, "mnist").exit_code == 0
    assert server.requests == []
    assert Path("mnist").is_dir()


def test_datasets_table_and_argument_errors(publisher):
    server, _cache, env = publisher
    table = run_cli("datasets", "-f", "table", env=env)
    assert table.exit_code == 0
    lines = table.stdout.splitlines()
    assert any(line.split()[:1] == ["pneumoniamnist"] and "4708/524/624" in line and line.split()[-1] == "no" for line in lines)
    assert any(line.split()[:1] == ["mnist"] and "60k/–/10k" in line for line in lines)
    run_cli("datasets", "mnist", env=env).assert_input_error("--download only")
    run_cli("datasets", "--download", env=env).assert_input_error("needs the names")
    assert server.requests == []


def test_a_cache_folder_that_cannot_be_made_is_an_input_error(publisher, tmp_path):
    server, _cache, env = publisher
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    run = _train({**env, "NNKIT_DATA_DIR": str(blocker)}, "mnist")
    run.assert_input_error("cannot create the data folder")
    assert "NNKIT_DATA_DIR" in run.stderr and server.requests == []


def test_predict_data_needs_a_test_part_and_an_image_model(publisher, tmp_path):
    server, _cache, env = publisher
    cancer = Path(__file__).parents[2] / "samples" / "breast_cancer_wdbc.csv"
    table_model = tmp_path / "cancer.npz"
    assert run_cli("train-mlp", "--data", str(cancer), "--epochs", "1", "--save", str(table_model), "-q", env=env).exit_code == 0
    run_cli("predict", str(table_model), "--data", "mnist", env=env).assert_input_error("trained on a table")
    assert server.requests == []  # refused before any download
    image_model = tmp_path / "mnist-model.npz"
    assert _train(env, "mnist", "--save", str(image_model)).exit_code == 0
    x, y = learnable_images(40, size=(28, 28))
    np.savez(tmp_path / "train-only.npz", train_images=x, train_labels=y[:, None], val_images=x, val_labels=y[:, None],
             test_images=x[:0], test_labels=y[:0, None])
    run_cli("predict", str(image_model), "--data", str(tmp_path / "train-only.npz"), env=env).assert_input_error("test part is empty")


def test_train_takes_named_data_sets_too(publisher, tmp_path):
    server, _cache, env = publisher
    model = tmp_path / "cnn.npz"
    run = run_cli(
        "train", "--layers", "conv 4 3 relu, maxpool 2, flatten, dense 1 sigmoid", "--data", "pneumoniamnist",
        "--epochs", "1", "--save", str(model), "-f", "json", env=env,
    )
    assert run.exit_code == 0, run.stderr
    report = json.loads(run.stdout)
    assert report["classes"] == ["normal", "pneumonia"] and sum(map(sum, report["test"]["confusion_matrix"])) == 20
    assert server.requests == ["pneumoniamnist.npz"]
    rows = json.loads(run_cli("predict", str(model), "--data", "pneumoniamnist", "-f", "json", env=env).stdout)
    assert len(rows) == 20 and {r["prediction"] for r in rows} <= {"normal", "pneumonia"}
    assert server.requests == ["pneumoniamnist.npz"]



def test_a_trickling_server_is_cut_off_at_the_deadline(publisher):
    import time

    server, cache, env = publisher
    server.trickle.add("mnist.npz")
    started = time.monotonic()
    run = _train({**env, "NNKIT_DOWNLOAD_DEADLINE": "1"}, "mnist")
    run.assert_input_error("took longer than 1 s")
    assert time.monotonic() - started < 8  # the per-read time-out alone would never end it
    assert not (cache / "mnist").exists()


def test_a_compressed_bomb_is_refused_as_it_arrives(publisher, monkeypatch):
    server, cache, env = publisher
    server.bomb.add("mnist.npz")
    monkeypatch.setattr(named_datasets, "most_bytes", lambda dataset: 1 << 20)
    run = _train(env, "mnist")
    run.assert_input_error("sent more than 1048576 bytes")
    assert not (cache / "mnist").exists()  # nothing of the 64 MB was kept


def test_the_cap_is_the_data_sets_own_size(publisher):
    mnist = named_datasets.NAMED_DATASETS["mnist"]
    assert named_datasets.most_bytes(mnist) == 70_000 * (784 + 8) + (1 << 20)


def test_a_fifo_or_a_device_in_the_cache_is_refused_without_reading_it(publisher):
    server, cache, env = publisher
    (cache / "mnist").mkdir(parents=True)
    os.mkfifo(cache / "mnist" / "mnist.npz")
    _train(env, "mnist").assert_input_error("not a regular file")
    (cache / "mnist" / "mnist.npz").unlink()
    (cache / "mnist" / "mnist.npz").symlink_to("/dev/zero")
    _train(env, "mnist").assert_input_error("not a regular file")
    assert server.requests == []
