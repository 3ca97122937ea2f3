"""Hostile input through the installed ``nnkit``: every class of bad input (docs/conventions.md, "Errors and exit codes") for every command that reads it.

Each case runs as a real process in its own empty working folder, beside a shared folder of hostile
files. Every case must end with its expected status (2, or 0 where the input is valid), print at
most one ``nnkit: error:`` line (plus an optional ``hint:``), never a traceback or a warning, leave
its working folder empty and leave the shared files exactly as they were. The cases run a few at a
time in each of a few chunks, so pytest-xdist spreads them over the cores.

Failing systems that need a mount (a full disk) and Ctrl-C are in test_failing_systems.py and
test_interrupts.py.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import struct
import subprocess
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from nnkit.cli.layers_grammar import parse_layers
from nnkit.files.model_file import model_arrays
from nnkit.nn.stack import build_mlp, build_network
from tests.conftest import nnkit_executable


@dataclass(frozen=True)
class Case:
    """``nnkit ARGS`` with ``stdin`` (bytes, or a shell redirection such as ``<&-``), expecting ``code``."""

    name: str
    args: tuple
    stdin: bytes | str = b""
    code: int = 2
    fragment: str = ""  # expected in the error line


def C(name, *args, stdin=b"", code=2, fragment=""):
    return Case(name, tuple(args), stdin, code, fragment)


# --- the shared hostile files -------------------------------------------------------------------------


def _npy_header(shape, dtype="<f8") -> bytes:
    header = repr({"descr": dtype, "fortran_order": False, "shape": shape}).encode()
    header += b" " * (63 - (10 + len(header)) % 64) + b"\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header


def _model_with(network, **changes):
    arrays = model_arrays(network)
    meta = json.loads(str(arrays["meta"]))
    meta.update(changes)
    arrays["meta"] = np.array(json.dumps(meta))
    return arrays


def make_files(folder: Path) -> None:
    w = folder.joinpath
    w("nul.csv").write_bytes(b"1,2\n3\x00,4\n")
    w("ragged.csv").write_text("1,2\n3\n")
    w("hex.csv").write_text("a,b\n1,0x10\n")
    w("under.csv").write_text("1_000,2\n")
    w("header.csv").write_text("a,b,c\n")
    w("comment.csv").write_text("# only a comment\n")
    w("empty.csv").write_text("")
    w("binary.csv").write_bytes(bytes(range(256)))
    w("quote.csv").write_text('1,"2\n')
    w("json_obj.txt").write_text('{"a": 1}')
    w("deep.txt").write_text("[" * 50000 + "]" * 50000)
    w("good.csv").write_text("x1,x2,y\n0.5,1,0\n1.5,2,1\n2.5,0,0\n0.1,3,1\n1,1,0\n2,2,1\n3,1,0\n0,0,1\n")
    w("good_rows.csv").write_text("0.5,1\n1.5,2\n")
    w("labels_ragged.txt").write_text("cat dog\ncat\n")
    w("lie.npy").write_bytes(_npy_header((20000, 20000)) + b"\0" * 64)
    w("huge.npy").write_bytes(_npy_header((10**6, 10**6)))
    w("objects.npy").write_bytes(_npy_header((2,), "|O") + b"\0" * 16)
    w("complex.npy").write_bytes(_npy_header((2,), "<c16") + b"\0" * 32)
    np.save(w("big_values.npy"), np.full((8, 8), 1e308))
    # Round three: a header that is not Python, integers beyond int64, text where numbers belong, a
    # hex first row (data, not a header), a 3-D array, images with a NaN in the test part only.
    w("bad_header.npy").write_bytes(_npy_header((2,)).replace(b"(2,)", b"(2,(") + b"\0" * 16)
    np.save(w("uint64.npy"), np.array([2**64 - 1, 3], dtype=np.uint64))
    np.save(w("text.npy"), np.array(["a", "b"]))
    w("hex_first.csv").write_text("0x1,2\n3,4\n")
    np.save(w("volume.npy"), np.zeros((3, 4, 5)))
    nan_test = np.zeros((4, 4, 4)) + np.arange(4)[:, None, None]
    nan_test[0, 0, 0] = np.nan
    np.savez(w("nan_test.npz"), x_train=np.zeros((20, 4, 4)) + np.arange(20)[:, None, None],
             y_train=np.arange(20) % 2, x_test=nan_test, y_test=np.arange(4) % 2)
    # .npz members: a header promising more than the member holds, raw bytes, encrypted.
    with zipfile.ZipFile(w("lie.npz"), "w") as archive:
        archive.writestr("x_train.npy", _npy_header((60000, 28, 28), "|u1") + b"\0" * 10)
        for key in ("y_train", "x_test", "y_test"):
            archive.writestr(f"{key}.npy", _npy_header((1,), "|u1") + b"\0")
    with zipfile.ZipFile(w("raw.npz"), "w") as archive:
        archive.writestr("a.npy", b"raw bytes without a header")
    np.savez(w("enc.npz"), a=np.zeros(3))
    data = bytearray(w("enc.npz").read_bytes())
    for signature, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        start = data.find(signature)
        while start != -1:
            data[start + offset] |= 1
            start = data.find(signature, start + 4)
    w("enc.npz").write_bytes(bytes(data))
    # MNIST IDX folders: a lying header, and a gzip bomb (16 MB of zeros behind a tiny header).
    lie = folder / "idx_lie"
    lie.mkdir()
    (lie / "train-images-idx3-ubyte").write_bytes(bytes([0, 0, 8, 3]) + struct.pack(">3I", 60000, 28, 28) + b"\0" * 100)
    (lie / "train-labels-idx1-ubyte").write_bytes(bytes([0, 0, 8, 1]) + struct.pack(">I", 60000) + b"\0" * 100)
    bomb = folder / "idx_bomb"
    bomb.mkdir()
    with gzip.open(bomb / "train-images-idx3-ubyte.gz", "wb", compresslevel=9) as f:
        f.write(bytes([0, 0, 8, 3]) + struct.pack(">3I", 10, 28, 28))
        for _ in range(16):
            f.write(b"\0" * (1 << 20))
    with gzip.open(bomb / "train-labels-idx1-ubyte.gz", "wb") as f:
        f.write(bytes([0, 0, 8, 1]) + struct.pack(">I", 10) + bytes(10))
    # Models from elsewhere.
    net = build_mlp(2, [3], 2, activation="relu", output="softmax", rng=0)
    good_meta = {"classes": ["a", "b"], "preprocessing": {"kind": "standardize", "mean": [0.0, 0.0],
                                                         "std": [1.0, 1.0]}}
    np.savez(w("model.npz"), **_model_with(net, **good_meta))
    np.savez(w("m_classes_int.npz"), **_model_with(net, classes=3))
    np.savez(w("m_options_list.npz"), **_model_with(net, **good_meta, options=[1]))
    np.savez(w("m_prep_str.npz"), **_model_with(net, classes=["a", "b"], preprocessing="standardize"))
    np.savez(w("m_no_mean.npz"), **_model_with(net, classes=["a", "b"],
                                               preprocessing={"kind": "standardize", "std": [1.0, 1.0]}))
    np.savez(w("m_classes_long.npz"), **_model_with(net, classes=["a", "b", "c"]))
    np.savez(w("m_zero_std.npz"), **_model_with(net, classes=["a", "b"],
                                                preprocessing={"kind": "standardize", "mean": [0, 0], "std": [0, 1]}))
    arrays = _model_with(net, **good_meta)
    arrays["meta"] = np.array('{"format": "nnkit-model", "x": ' + "[" * 100000 + "]" * 100000 + "}")
    np.savez(w("m_deep.npz"), **arrays)
    # evaluate and explain: labels the model does not know, image models with and without conv layers
    w("cd_other.csv").write_text("f1,f2,label\n" + "".join(f"{i},{-i},{'xy'[i % 2]}\n" for i in range(6)))
    w("cd_ok.csv").write_text("f1,f2,label\n" + "".join(f"{i},{i % 3},{'ab'[i % 2]}\n" for i in range(8)))
    digits_meta = {"classes": list(range(10)), "preprocessing": {"kind": "scale", "divisor": 16.0, "image_shape": [8, 8]}}
    conv = build_network([{"type": "conv2d", "filters": 2, "kernel": 3, "activation": "relu"}, {"type": "flatten"},
                          {"type": "dense", "units": 10, "activation": "softmax"}], (8, 8, 1), seed=0)
    np.savez(w("m_conv.npz"), **_model_with(conv, **digits_meta))
    np.savez(w("m_dense_img.npz"), **_model_with(build_mlp(64, [4], 10, rng=0), **digits_meta))
    np.save(w("digit8.npy"), np.arange(64.0).reshape(8, 8) % 17)
    np.save(w("digits8.npy"), np.zeros((3, 8, 8)))
    huge = _model_with(net, **good_meta)
    huge["W0"] = np.full((2, 3), 1e30, dtype=huge["W0"].dtype)  # finite, but 1e30 × 1e30 is not
    huge["W1"] = np.full((3, 2), 1e30, dtype=huge["W1"].dtype)
    np.savez(w("m_huge_weights.npz"), **huge)
    with zipfile.ZipFile(w("m_raw_member.npz"), "w") as archive:
        for name, array in _model_with(net, **good_meta).items():
            with archive.open(f"{name}.npy", "w") as member:
                np.lib.format.write_array(member, array)
        archive.writestr("W9.npy", b"raw")
    # Tampered conv models: sizes the arrays do not have, or sizes whose work cannot fit.
    conv = build_network(parse_layers("conv 2 3 relu, gap, dense 2 softmax"), (6, 6, 1), seed=0)
    for name, edit in (("m_conv_kernel", {"kernel": 1000000}), ("m_conv_filters", {"filters": 1000000})):
        arrays = model_arrays(conv, {"classes": ["a", "b"]})
        meta = json.loads(str(arrays["meta"]))
        meta["layers"][0].update(edit)
        arrays["meta"] = np.array(json.dumps(meta))
        np.savez(w(f"{name}.npz"), **arrays)
    np.savez(w("m_conv_input.npz"), **_model_with(conv, classes=["a", "b"], input_shape=[1000000, 1000000, 1]))
    big_endian = {k: (v.astype(">f4") if k != "meta" else v) for k, v in _model_with(net, **good_meta).items()}
    np.savez(w("m_big_endian.npz"), **big_endian)
    (folder / "images").mkdir()
    for name in ("a", "b"):
        np.save(folder / "images" / f"{name}.npy", np.arange(36.0).reshape(6, 6))
    (folder / "blocked").mkdir()
    (folder / "blocked" / "b.png").mkdir()
    w("ro.csv").write_text("keep\n")
    w("ro.csv").chmod(0o444)
    np.savez(w("keras.npz"), x_train=np.zeros((20, 4, 4), np.uint8) + np.arange(20, dtype=np.uint8)[:, None, None],
             y_train=np.arange(20) % 2, x_test=np.zeros((4, 4, 4), np.uint8), y_test=np.arange(4) % 2)


def cases(d: str) -> list[Case]:
    """Every case; ``d`` is the shared folder (absolute)."""
    f = lambda name: f"{d}/{name}"  # noqa: E731
    long_numbers = ",".join(["0.5"] * 400)
    bad_text = ["nul.csv", "ragged.csv", "hex.csv", "under.csv", "header.csv", "comment.csv", "empty.csv",
                "binary.csv", "quote.csv", "json_obj.txt", "deep.txt"]
    bad_arrays = ["lie.npy", "huge.npy", "objects.npy", "complex.npy", "lie.npz", "raw.npz", "enc.npz"]
    out = [
        # 1. failing systems: closed streams, names too long, read-only targets.
        C("closed stdout activate", "activate", "relu", "1", "-2", "3", stdin=">&-", fragment="standard output is closed"),
        C("closed stdout onehot", "onehot", "0", "1", stdin=">&-", fragment="standard output is closed"),
        C("closed stdout loss", "loss", "mse", "--pred", "0.5", "--target", "1", stdin=">&-"),
        C("closed stdout reshape", "reshape", "1,2,3,4", "--shape", "2,2", stdin=">&-"),
        C("closed stdout pool", "pool", f("images/a.npy"), "--size", "2", "-f", "csv", stdin=">&-"),
        C("closed stdout convolve", "convolve", f("images/a.npy"), "--filter", "box", "-f", "csv", stdin=">&-"),
        C("closed stdout predict", "predict", f("model.npz"), "1,2", stdin=">&-"),
        C("closed stdout train-xor", "train-xor", "--epochs", "3", stdin=">&-"),
        C("closed stdin activate", "activate", "relu", stdin="<&-", fragment="standard input is closed"),
        C("closed stdin onehot", "onehot", stdin="<&-"),
        C("closed stdin reshape", "reshape", "--shape", "2", stdin="<&-"),
        C("closed stdin predict", "predict", f("model.npz"), stdin="<&-"),
        C("closed stdin pool", "pool", "-", "--size", "2", stdin="<&-"),
        C("closed stdin loss", "loss", "mse", "--pred", "-", "--target", "1", stdin="<&-"),
        C("long -i activate", "activate", "relu", "-i", "a" * 5000, fragment="File name too long"),
        C("long -i onehot", "onehot", "-i", "a" * 5000),
        C("long -i reshape", "reshape", "-i", "a" * 5000, "--shape", "2"),
        C("long numbers loss", "loss", "mse", "--pred", long_numbers, "--target", long_numbers, code=0),
        C("long numbers predict", "predict", f("model.npz"), ",".join(["1"] * 2000)),
        C("long image convolve", "convolve", "b" * 5000 + ".png", "--filter", "box"),
        C("long -o", "activate", "relu", "1", "-o", "x" * 300 + ".csv", fragment="File name too long"),
        C("long --data", "train-mlp", "--data", "d" * 5000 + ".csv"),
        C("long --resume", "train-mlp", "--resume", "m" * 5000 + ".npz"),
        C("long model", "predict", "m" * 5000 + ".npz", "1,2"),
        C("read-only -o activate", "activate", "relu", "1", "-o", f("ro.csv"), fragment="read-only"),
        C("read-only -o onehot", "onehot", "0", "1", "-o", f("ro.csv"), fragment="read-only"),
        C("read-only -o loss", "loss", "mse", "--pred", "1", "--target", "1", "-o", f("ro.csv")),
        C("read-only -o reshape", "reshape", "1,2", "--shape", "2", "-o", f("ro.csv")),
        C("read-only -o pool", "pool", f("images/a.npy"), "--size", "2", "-o", f("ro.csv")),
        C("-i a folder", "activate", "relu", "-i", d, fragment="is a folder"),
        # 2. sizes that cannot fit.
        C("onehot classes", "onehot", "0", "--classes", "100000000000", fragment="of memory is available"),
        C("random activate", "activate", "relu", "--random", "99999999999999999999x1", fragment="needs"),
        C("random reshape", "reshape", "--random", "99999999999x99999999", "--shape", "-1"),
        C("hidden xor", "train-xor", "--hidden", "100000000000", fragment="needs"),
        C("epochs xor", "train-xor", "--epochs", "99999999999999999999", fragment="at most"),
        C("epochs mlp", "train-mlp", "--epochs", "99999999999999999999", fragment="at most"),
        C("hidden mlp", "train-mlp", "--hidden", "100000000000", "--epochs", "1", fragment="from 1 to 1000000"),
        C("hidden mlp too big", "train-mlp", "--hidden", "1000000,1000000", "--epochs", "1", fragment="needs"),
        C("idx lying header", "train-mlp", "--data", f("idx_lie"), "--epochs", "1", fragment="the header promises"),
        C("idx gzip bomb", "train-mlp", "--data", f("idx_bomb"), "--epochs", "1", fragment="the header promises"),
        C("npz lying member", "train-mlp", "--data", f("lie.npz"), "--epochs", "1", fragment="header promises"),
        C("convolve lying npy", "convolve", f("lie.npy"), "--filter", "box", fragment="header promises"),
        C("pool huge npy", "pool", f("huge.npy"), "--size", "2"),
        # 3. model files from elsewhere.
        *[C(f"predict {m}", "predict", f(m), "1,2", fragment="not an nnkit model")
          for m in ("m_classes_int.npz", "m_options_list.npz", "m_prep_str.npz", "m_no_mean.npz",
                    "m_classes_long.npz", "m_zero_std.npz", "m_deep.npz", "m_raw_member.npz", "enc.npz",
                    "raw.npz", "lie.npz", "good.csv")],
        *[C(f"resume {m}", "train-mlp", "--resume", f(m), "--epochs", "1", fragment="not an nnkit model")
          for m in ("m_classes_int.npz", "m_deep.npz", "enc.npz")],
        C("predict valid", "predict", f("model.npz"), "1,2", code=0),
        # Claimed sizes are checked against the file's arrays and the memory before anything is made.
        *[C(f"{command} {m}", *args, fragment=fragment)
          for m, fragment in (("m_conv_kernel.npz", "does not fit"), ("m_conv_filters.npz", "its meta data says"),
                              ("m_conv_input.npz", "needs"))
          for command, *args in (("predict", "predict", f(m), f("images/a.npy")), ("summary", "summary", f(m)),
                                 ("export", "export", f(m), "out.onnx"),
                                 ("resume", "train", "--resume", f(m), "--epochs", "1"))],
        C("predict big-endian", "predict", f("m_big_endian.npz"), "1,2", code=0),
        # 4. several outputs: all or nothing; --data/--resume are inputs.
        C("convolve DIR/ blocked", "convolve", f("images") + "/", "--filter", "box", "-o", f("blocked") + "/",
          fragment="it is a folder"),
        C("convolve -o + missing --save-array", "convolve", f("images/a.npy"), "--filter", "box", "-o", "x.png",
          "--save-array", "missing/x.npy", fragment="does not exist"),
        C("pool -o = --save-array", "pool", f("images/a.npy"), "--size", "2", "-o", "s.npy", "--save-array", "s.npy"),
        C("xor --save + bad --plot", "train-xor", "--epochs", "2", "--save", "m.npz", "--plot", "nope/p.png"),
        C("mlp --save + bad --plot", "train-mlp", "--epochs", "1", "--save", "m.npz", "--plot", "nope/p.png"),
        C("mlp --data = --save", "train-mlp", "--data", f("keras.npz"), "--epochs", "1", "--save", f("keras.npz"),
          fragment="one of the inputs"),
        C("mlp --resume = --save", "train-mlp", "--resume", f("model.npz"), "--epochs", "1", "--save",
          f("model.npz"), fragment="one of the inputs"),
        C("convolve -o = input", "convolve", f("images/a.npy"), "--filter", "box", "--save-array",
          f("images/a.npy"), fragment="one of the inputs"),
        # 5. bad text for every reader of text.
        *[C(f"activate -i {name}", "activate", "relu", "-i", f(name)) for name in bad_text],
        *[C(f"onehot -i {name}", "onehot", "-i", f(name)) for name in bad_text
          if name not in ("hex.csv", "under.csv", "header.csv")],
        # One line of words is a list of labels (a header needs rows below it); 0x10 is a word label.
        C("onehot one line of words", "onehot", "-i", f("header.csv"), code=0),
        *[C(f"loss --pred {name}", "loss", "mse", "--pred", f(name), "--target", "1") for name in bad_arrays],
        *[C(f"onehot -i {name}", "onehot", "-i", f(name)) for name in bad_arrays],
        *[C(f"loss --pred {name}", "loss", "mse", "--pred", f(name), "--target", "1") for name in bad_text[:6]],
        *[C(f"reshape -i {name}", "reshape", "-i", f(name), "--shape", "-1") for name in bad_text[:6]],
        *[C(f"train-mlp --data {name}", "train-mlp", "--data", f(name), "--epochs", "1")
          for name in ("nul.csv", "ragged.csv", "hex.csv", "header.csv", "comment.csv", "quote.csv")],
        *[C(f"predict {name}", "predict", f("model.npz"), f(name))
          for name in ("nul.csv", "ragged.csv", "hex.csv", "header.csv", "comment.csv")],
        *[C(f"kernel-file {name}", "convolve", f("images/a.npy"), "--kernel-file", f(name))
          for name in ("nul.csv", "ragged.csv", "hex.csv")],
        *[C(f"stdin {name}", "activate", "relu", stdin=Path(d, name).read_bytes() if Path(d).exists() else b"")
          for name in ("nul.csv", "ragged.csv", "hex.csv", "binary.csv")],
        C("onehot ragged labels", "onehot", "-i", f("labels_ragged.txt"), fragment="has 1 fields"),
        C("hex on the command line", "activate", "relu", "0x10", fragment="not a number"),
        C("underscore on the command line", "activate", "relu", "1_000", fragment="not a number"),
        *[C(f"activate -i {name}", "activate", "relu", "-i", f(name)) for name in bad_arrays],
        *[C(f"reshape -i {name}", "reshape", "-i", f(name), "--shape", "-1") for name in bad_arrays[:4]],
        C("valid table", "activate", "relu", "-i", f("good_rows.csv"), code=0),
        C("json back in", "onehot", "--decode", stdin=b"[[0.1, 0.9], [0.8, 0.2]]", code=0),
        C("train-mlp valid table", "train-mlp", "--data", f("good.csv"), "--epochs", "2", "--test-split", "0",
          "--val-split", "0", "-q", code=0),
        # 6. results beyond float64: a documented inf or an input error, never a warning.
        C("convolve overflow", "convolve", f("big_values.npy"), "--kernel", "1e308,1e308;1e308,1e308", "-f", "csv",
          code=0),
        C("pool sum overflow", "pool", f("big_values.npy"), "--size", "2", "--op", "sum", "-f", "csv", code=0),
        C("train-mlp lr 1e308", "train-mlp", "--lr", "1e308", "--epochs", "2", fragment="diverged"),
        C("train-xor lr 1e308", "train-xor", "--lr", "1e308", "--epochs", "20", "-f", "json", code=0),
        C("predict huge weights", "predict", f("m_huge_weights.npz"), "1e30,1e30", fragment="not finite"),
        C("activate softmax 1e308", "activate", "softmax", "1e308", "-1e308", code=0),
        C("loss mse 1e200", "loss", "mse", "--pred", "1e200", "--target", "-1e200", code=0),
        # 7. train and summary: the layer grammar, conv on a table, models from elsewhere.
        C("train misspelt layer", "train", "--layers", "conv 8 3, maxpol 2, flatten, dense 10", fragment="maxpol"),
        C("train shrinking stack", "train", "--layers", "conv 8 5, maxpool 2, conv 8 3, flatten, dense 10",
          "--epochs", "1", fragment="layer 3 (conv2d)"),
        C("train conv on a table", "train", "--layers", "conv 8 3, flatten, dense 2", "--data", f("good.csv"),
          "--epochs", "1", fragment="need images"),
        C("train huge dense", "train", "--layers", "flatten, dense 100000000000, dense 10", "--epochs", "1",
          fragment="from 1 to 1000000"),
        C("train epochs", "train", "--model", "course-cnn", "--epochs", "99999999999999999999", fragment="at most"),
        C("train idx lying header", "train", "--model", "course-cnn", "--data", f("idx_lie"), "--epochs", "1",
          fragment="the header promises"),
        C("train --data = --save", "train", "--model", "course-mlp", "--data", f("keras.npz"), "--epochs", "1",
          "--save", f("keras.npz"), fragment="one of the inputs"),
        *[C(f"train --data {name}", "train", "--layers", "dense 4 relu, dense 2", "--data", f(name), "--epochs", "1")
          for name in ("nul.csv", "ragged.csv", "hex.csv")],
        *[C(f"train --resume {m}", "train", "--resume", f(m), "--epochs", "1", fragment="not an nnkit model")
          for m in ("m_classes_int.npz", "m_deep.npz", "enc.npz")],
        *[C(f"summary {m}", "summary", f(m), fragment="not an nnkit model")
          for m in ("m_classes_int.npz", "m_options_list.npz", "m_deep.npz", "lie.npz", "good.csv")],
        C("summary huge input", "summary", "--model", "course-cnn", "--input-shape", "100000,100000,1",
          fragment="needs"),
        C("summary bad input shape", "summary", "--layers", "dense 2", "--input-shape", "0", fragment="--input-shape"),
        # Sizes in --layers are bounded, and shapes walked, before any weight or probe is made.
        C("summary huge kernel", "summary", "--layers", "conv 8 100000, flatten, dense 10", "--input-shape", "8,8,1",
          fragment="does not fit"),
        C("summary kernel over the bound", "summary", "--layers", "conv 8 10000000, flatten, dense 10",
          "--input-shape", "8,8,1", fragment="from 1 to 1000000"),
        C("train huge kernel", "train", "--layers", "conv 1 30000, flatten, dense 10", "--epochs", "1",
          fragment="does not fit"),
        C("summary valid", "summary", f("model.npz"), "-f", "json", code=0),
        C("summary course-cnn", "summary", "--model", "course-cnn", "-f", "csv", code=0),
        # dense and optimize: the same classes.
        C("closed stdout dense", "dense", "1", "2", "--weights", "0.5;0.5", stdin=">&-",
          fragment="standard output is closed"),
        C("closed stdin dense", "dense", "--weights", "0.5", stdin="<&-", fragment="standard input is closed"),
        C("dense units", "dense", "1", "2", "--random-weights", "--units", "100000000000", fragment="needs"),
        C("dense lying npy", "dense", "1", "2", "--weights", f("lie.npy"), fragment="header promises"),
        C("dense hex -i", "dense", "-i", f("hex.csv"), "--weights", "0.5;0.5", fragment="not a number"),
        C("dense read-only -o", "dense", "1", "2", "--weights", "0.5;0.5", "-o", f("ro.csv"), fragment="read-only"),
        C("dense long weights", "dense", "1", "--weights", "w" * 5000),
        C("dense overflow", "dense", "1e308", "--weights", "1e308", "-f", "csv", code=0),
        C("optimize steps", "optimize", "--steps", "99999999999999999999"),
        C("optimize closed stdout", "optimize", "--steps", "3", stdin=">&-", fragment="standard output is closed"),
        C("optimize lr 1e308", "optimize", "--lr", "1e308", "--steps", "5", "-f", "json", code=0),
        C("optimize plot missing folder", "optimize", "--steps", "3", "--plot", "nope/p.png"),
        # backprop: a hostile table, a lying .npy, a closed stdout, a huge sum, a lr that saturates everything
        C("backprop hex -i", "backprop", "-i", f("hex.csv"), fragment="not a number"),
        C("backprop lying npy", "backprop", "-i", f("lie.npy"), fragment="header promises"),
        C("backprop closed stdout", "backprop", stdin=">&-", fragment="standard output is closed"),
        C("backprop steps", "backprop", "--steps", "99999999999999999999"),
        C("backprop lr 1e308", "backprop", "--lr", "1e308", "--steps", "5", "-f", "json", code=0),
        # shift: hostile images, a closed stdout, a model that is not one
        C("shift lying npy", "shift", f("lie.npy"), fragment="header promises"),
        C("shift hex", "shift", f("hex.csv"), fragment="not a number"),
        C("shift closed stdout", "shift", f("images/a.npy"), "--by", "0,1", stdin=">&-",
          fragment="standard output is closed"),
        C("shift model not a model", "shift", f("images/a.npy"), "--trained", f("lie.npz")),
        # export and datasets: model files from elsewhere, bad targets, unknown names.
        *[C(f"export {m}", "export", f(m), "out.onnx", fragment="not an nnkit model")
          for m in ("m_classes_int.npz", "m_deep.npz", "enc.npz", "lie.npz")],
        C("export not onnx", "export", f("model.npz"), "out.csv"),
        C("export missing folder", "export", f("model.npz"), "nope/out.onnx"),
        C("export onto its model", "export", f("model.npz"), f("model.npz")),
        # evaluate and explain (issue 19)
        C("evaluate classes differ", "evaluate", f("model.npz"), "--data", f("cd_other.csv"), fragment="not one of the model's classes"),
        C("evaluate threshold above 1", "evaluate", f("model.npz"), "--data", f("cd_ok.csv"), "--threshold", "1.5",
          fragment="--threshold must lie in [0, 1]"),
        C("evaluate threshold nan", "evaluate", f("model.npz"), "--data", f("cd_ok.csv"), "--threshold", "nan"),
        C("evaluate plot missing folder", "evaluate", f("model.npz"), "--data", f("cd_ok.csv"), "--plot", "nope/e.png"),
        C("evaluate valid", "evaluate", f("model.npz"), "--data", f("cd_ok.csv"), "--bootstrap", "20", code=0),
        C("explain dense gradcam", "explain", f("m_dense_img.npz"), f("digit8.npy"), "--method", "gradcam",
          "--plot", "x.png", fragment="needs a conv layer"),
        C("explain no such layer", "explain", f("m_conv.npz"), f("digit8.npy"), "--layer", "conv2d_9", fragment="conv2d_9"),
        C("explain dense --layer", "explain", f("m_dense_img.npz"), f("digit8.npy"), "--layer", "conv2d",
          "--plot", "x.png", fragment="needs a conv layer"),
        C("explain table model", "explain", f("model.npz"), f("digit8.npy"), fragment="table of features"),
        C("explain a stack", "explain", f("m_conv.npz"), f("digits8.npy"), fragment="takes one image"),
        C("explain npy of all", "explain", f("m_conv.npz"), f("digit8.npy"), "-f", "npy", fragment="one map"),
        C("explain valid", "explain", f("m_conv.npz"), f("digit8.npy"), "-f", "json", code=0),
        C("explain dense valid", "explain", f("m_dense_img.npz"), f("digit8.npy"), "-f", "json", code=0),
        C("datasets unknown", "datasets", "--download", "nosuchset"),
        # Round three (§3, §4, §8-§10): each class at its cause.
        *[C(f"lr {lr} {cmd}", cmd, "--lr", lr, *extra, fragment="--lr must be a positive number")
          for lr in ("5e-324", "1e-310")
          for cmd, extra in (("train-mlp", ("--epochs", "1")), ("train", ("--model", "course-mlp", "--epochs", "1")),
                             ("optimize", ("--optimizer", "adam", "--steps", "3")))],
        C("nan in the test part", "train-mlp", "--data", f("nan_test.npz"), "--epochs", "1",
          fragment="test images hold NaN"),
        C("train nan in the test part", "train", "--layers", "flatten, dense 2", "--data", f("nan_test.npz"),
          "--epochs", "1", fragment="test images hold NaN"),
        *[C(f"malformed npy header {cmd}", cmd, *args, f("bad_header.npy"), fragment="not a valid .npy file")
          for cmd, args in (("activate", ("relu", "-i")), ("onehot", ("-i",)), ("reshape", ("--shape", "-1", "-i")),
                            ("loss", ("mse", "--target", "1", "--pred")), ("dense", ("1", "--weights")))],
        C("onehot uint64", "onehot", "-i", f("uint64.npy"), fragment="too large to be a class number"),
        C("activate text npy", "activate", "relu", "-i", f("text.npy"), fragment="holds text"),
        C("dense text weights", "dense", "1", "--weights", f("text.npy"), fragment="holds text"),
        C("activate /dev/zero", "activate", "relu", "-i", "/dev/zero", fragment="is a device"),
        C("dense --weights /dev/zero", "dense", "1", "--weights", "/dev/zero", fragment="is a device"),
        C("hex first row is data", "activate", "relu", "-i", f("hex_first.csv"), fragment="not a number: '0x1'"),
        C("reshape 3-D npy huge slice", "reshape", f("volume.npy"), "--slice", "0:99999999999999999999",
          "--shape", "-1", fragment="outside the volume"),
        C("reshape 3-D npy slice", "reshape", f("volume.npy"), "--slice", "2:1", "--shape", "-1", "-f", "csv", code=0),
        *[C(f"--plot then a bad -o {cmd}", cmd, *args, "--plot", "p.png", "-o", "nodir/x.csv", fragment="nodir")
          for cmd, args in (("dense", ("1", "2", "--weights", "0.5;0.5")), ("loss", ("mse", "--pred", "1", "--target", "1")),
                            ("activate", ("sigmoid", "1", "2")))],
        C("control characters escaped", "onehot", "a", "--names", "x\u202ey\nz,w", fragment="is not one of --names"),
        C("datasets closed stdout", "datasets", "-f", "csv", stdin=">&-", fragment="standard output is closed"),
    ]
    return out


# --- running them -------------------------------------------------------------------------------------


def _snapshot(folder: Path) -> dict:
    state = {}
    for path in sorted(folder.rglob("*")):
        info = path.lstat()
        digest = hashlib.sha1(path.read_bytes()).hexdigest() if path.is_file() else "dir"
        state[str(path.relative_to(folder))] = (info.st_mode, info.st_size, digest)
    return state


def run_case(case: Case, cwd: Path) -> list[str]:
    """The promises this case broke (empty: none)."""
    redirect = case.stdin if isinstance(case.stdin, str) else ""
    words = [nnkit_executable(), *case.args]
    command = " ".join("'" + w.replace("'", "'\\''") + "'" for w in words) + " " + redirect
    try:
        result = subprocess.run(
            ["sh", "-c", command], cwd=cwd, input=None if redirect else case.stdin, capture_output=True,
            timeout=120, env={**os.environ, "COLUMNS": "100", "NNKIT_DEBUG": ""},
        )
    except subprocess.TimeoutExpired:
        return ["timed out (120 s)"]
    err = result.stderr.decode(errors="replace")
    broken = []
    if result.returncode != case.code:
        broken.append(f"exit {result.returncode}, expected {case.code}")
    lines = err.strip().splitlines()
    errors = [line for line in lines if line.startswith("nnkit: error: ")]
    if case.code == 2 and redirect != "2>&-":
        if len(errors) != 1 or not lines[0].startswith("nnkit: error: "):
            broken.append("not exactly one 'nnkit: error:' line first")
        if any(not line.startswith("  hint: ") for line in lines[1:]):
            broken.append("more than one error line and its hint")
        if case.fragment and errors and case.fragment not in errors[0]:
            broken.append(f"{case.fragment!r} not in the error line")
    if case.code == 0 and errors:
        broken.append("an error line on a valid input")
    for word in ("Traceback", "Warning", "warning:", "internal error"):
        if word in err:
            broken.append(f"{word!r} on stderr")
    left = sorted(p.name for p in cwd.iterdir())
    if left:
        broken.append(f"left files in the working folder: {left}")
    return [f"{case.name}: {problem} | stderr: {err.strip()[:300]}" for problem in broken]


@pytest.fixture(scope="module")
def shared(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hostile")
    make_files(folder)
    return folder


CHUNKS = 4


@pytest.mark.slow
@pytest.mark.parametrize("chunk", range(CHUNKS))
def test_hostile_cases_keep_every_promise(shared, tmp_path, chunk):
    before = _snapshot(shared)
    mine = cases(str(shared))[chunk::CHUNKS]
    folders = []
    for i, _ in enumerate(mine):
        folders.append(tmp_path / f"case{i}")
        folders[-1].mkdir()
    with ThreadPoolExecutor(max_workers=3) as pool:
        broken = [p for problems in pool.map(run_case, mine, folders) for p in problems]
    assert _snapshot(shared) == before, "a case changed the shared input files"
    assert not broken, "\n".join(broken)


def test_the_table_covers_every_command_and_class():
    from nnkit.cli.app import COMMANDS

    all_cases = cases("/nowhere")
    assert {c.args[0] for c in all_cases} == set(COMMANDS)
    assert len(all_cases) >= 150


def test_what_json_prints_is_read_back_through_a_pipe(tmp_path):
    nnkit = nnkit_executable()
    pipeline = (f"'{nnkit}' activate softmax 1 2 3 -f json | '{nnkit}' onehot --decode && "
                f"'{nnkit}' activate softmax '1,2,3;3,2,1' -f json | '{nnkit}' onehot --decode -f json")
    result = subprocess.run(["sh", "-c", pipeline], cwd=tmp_path, capture_output=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.decode().split("\n")[:2] == ["2", "[2, 0]"]


def test_help_into_a_closed_pipe_ends_quietly(tmp_path):
    nnkit = nnkit_executable()
    for words in ("--help", "train --help"):
        pipe = subprocess.run(["bash", "-c", f"'{nnkit}' {words} | head -c 20 > /dev/null; echo ${{PIPESTATUS[0]}}"],
                              cwd=tmp_path, capture_output=True, timeout=60)
        assert pipe.stderr == b""
        assert pipe.stdout.decode().strip() in ("0", "141")  # as any output to a closed pipe ends, never 1


def test_a_named_pipe_is_read_and_control_characters_are_escaped(tmp_path):
    nnkit = nnkit_executable()
    done = subprocess.run(["bash", "-c", f"'{nnkit}' activate relu -i <(echo 1,-2)"], capture_output=True, timeout=60)
    assert done.returncode == 0 and done.stdout == b"1.0,0.0\n"
    names = "x\u202ey\nz,w"
    done = subprocess.run([nnkit, "onehot", "a", "--names", names], capture_output=True, timeout=60)
    assert done.returncode == 2
    assert done.stderr.decode().splitlines() == ["nnkit: error: label 'a' is not one of --names",
                                                 "  hint: names: x\\u202ey\\nz, w"]
