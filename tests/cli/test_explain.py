"""``nnkit explain`` and the out-of-distribution caution of ``predict`` and ``explain``, end to end."""

import io
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.conftest import run_cli

SAMPLES = Path(__file__).parents[2] / "samples"


@pytest.fixture(scope="module")
def digits_cnn(tmp_path_factory):
    folder = tmp_path_factory.mktemp("explain")
    model = folder / "cnn.npz"
    run = run_cli("train", "--layers", "conv 4 3 relu, maxpool 2, flatten, dense 10 softmax", "--epochs", "3",
                  "--save", str(model))
    assert run.exit_code == 0, run.stderr
    from nnkit.data.labelled import load_digits

    x, y = load_digits().parts["train"]
    image = folder / "seven.npy"
    np.save(image, x[np.flatnonzero(y == 7)[0]])  # raw 0..16, as the data set stores it
    return model, image


@pytest.fixture(scope="module")
def mnist_like(tmp_path_factory):
    """A 28×28 model of the digits drawn as MNIST's (20×20 in the middle), and its test images."""
    from skimage.transform import resize

    from nnkit.data.labelled import load_digits

    folder = tmp_path_factory.mktemp("mnist_like")
    x, y = load_digits().parts["train"]
    big = np.zeros((len(x), 28, 28), np.uint8)
    for k in range(len(x)):
        big[k, 4:24, 4:24] = np.round(resize(x[k] / 16.0, (20, 20), order=1) * 255)
    data = folder / "digits28.npz"
    np.savez(data, x_train=big[:1400], y_train=y[:1400], x_test=big[1400:], y_test=y[1400:])
    model = folder / "d28.npz"
    run = run_cli("train", "--layers", "conv 8 3 relu, maxpool 2, flatten, dense 10 softmax", "--data", str(data),
                  "--epochs", "4", "--save", str(model))
    assert run.exit_code == 0, run.stderr
    test = folder / "test.npy"
    np.save(test, big[1400:])
    return model, test, folder


def test_explain_json_has_each_map_at_its_own_resolution(digits_cnn):
    from nnkit.files.model_file import load_model
    from nnkit.nn.explain import grad_cam, occlusion, saliency

    model, image = digits_cnn
    run = run_cli("explain", str(model), str(image), "--patch", "3", "--stride", "1")
    assert run.exit_code == 0, run.stderr
    report = json.loads(run.stdout)
    maps = report["maps"]
    assert maps["gradcam"]["shape"] == [6, 6] and maps["gradcam"]["layer"] == "conv2d"  # 8 - 3 + 1
    assert maps["saliency"]["shape"] == [8, 8] and maps["occlusion"]["shape"] == [8, 8]
    assert maps["occlusion"]["patch"] == 3 and maps["occlusion"]["stride"] == 1
    # the numbers are those of the library on the same prepared image
    network, _ = load_model(model)
    x = (np.load(image) / 16.0).astype(np.float32)[..., None]
    cls = int(np.argmax(network.forward(x[None])[0]))
    assert report["class"] == report["prediction"] == cls
    np.testing.assert_allclose(maps["gradcam"]["values"], grad_cam(network, x, cls).heatmap, atol=1e-12)
    np.testing.assert_allclose(maps["saliency"]["values"], saliency(network, x, cls), atol=1e-12)
    np.testing.assert_allclose(maps["occlusion"]["values"], occlusion(network, x, cls, 3, 1)[0], atol=1e-12)
    assert sum(report["probabilities"].values()) == pytest.approx(1, abs=1e-6)


def test_explain_one_map_as_npy_another_class_and_a_plot(digits_cnn, tmp_path):
    model, image = digits_cnn
    plot = tmp_path / "why.png"
    as_json = json.loads(run_cli("explain", str(model), str(image), "--class", "3").stdout)
    run = run_cli("explain", str(model), str(image), "--class", "3", "--method", "saliency", "-f", "npy",
                  "--plot", str(plot), "-o", str(tmp_path / "s.npy"))
    assert run.exit_code == 0, run.stderr
    values = np.load(io.BytesIO(run.stdout_bytes))
    np.testing.assert_array_equal(values, as_json["maps"]["saliency"]["values"])
    np.testing.assert_array_equal(np.load(tmp_path / "s.npy"), values)
    refused = run_cli("explain", str(model), str(image), "-o", str(tmp_path / "all.npy"))
    refused.assert_input_error("one map")
    assert not (tmp_path / "all.npy").exists()
    assert as_json["class"] == 3
    assert plot.read_bytes().startswith(b"\x89PNG")


def test_explain_a_photographed_digit_on_an_mnist_like_model(mnist_like):
    model, _, _ = mnist_like
    run = run_cli("explain", str(model), str(SAMPLES / "my_digit.png"), "--method", "occlusion")
    assert run.exit_code == 0, run.stderr
    assert "prepared as MNIST's digits were" in run.stderr
    assert json.loads(run.stdout)["maps"]["occlusion"]["shape"] == [28, 28]


def _blank(folder: Path) -> Path:
    path = folder / "blank.png"
    Image.fromarray(np.zeros((28, 28), np.uint8)).save(path)
    return path


def test_a_blank_image_and_a_brain_slice_get_the_caution_and_stdout_does_not_change(mnist_like, tmp_path):
    model, _, folder = mnist_like
    # the same model without the summary, as files written before it: no caution, the same output
    arrays = dict(np.load(model))
    meta = json.loads(str(arrays["meta"]))
    del meta["training_summary"]
    arrays["meta"] = np.array(json.dumps(meta))
    older = tmp_path / "older.npz"
    np.savez(older, **arrays)
    for picture in (_blank(folder), SAMPLES / "brain.png"):
        run = run_cli("predict", str(model), str(picture), "-f", "csv")
        assert run.exit_code == 0, run.stderr
        cautions = [line for line in run.stderr.splitlines() if "caution" in line]
        assert len(cautions) == 1 and "unlike the training inputs" in cautions[0], run.stderr
        plain = run_cli("predict", str(older), str(picture), "-f", "csv")
        assert plain.exit_code == 0 and "caution" not in plain.stderr
        assert plain.stdout == run.stdout
    explained = run_cli("explain", str(model), str(SAMPLES / "brain.png"), "--method", "saliency")
    assert explained.exit_code == 0 and "caution" in explained.stderr
    assert json.loads(explained.stdout)["caution"]
    volume = run_cli("explain", str(model), str(SAMPLES / "mni152_t1_1mm.nii.gz"), "--method", "saliency")
    assert volume.exit_code == 0, volume.stderr
    assert "scaled to 0..1" in volume.stderr and "caution" in volume.stderr


def test_few_false_alarms_on_the_digits_test_images(mnist_like):
    model, test, _ = mnist_like
    run = run_cli("predict", str(model), str(test), "-f", "json")
    assert run.exit_code == 0, run.stderr
    from nnkit.files.model_file import load_model
    from nnkit.nn.novelty import caution

    network, meta = load_model(model)
    x = np.load(test).astype(np.float32) / 255.0
    proba = network.forward(x[..., None])
    flagged = np.mean([caution(meta["training_summary"], row, p) is not None for row, p in zip(x, proba, strict=True)])
    assert flagged < 0.06  # about 4 % on these 397 images (1.2 % by construction on the training images)
    assert ("caution" in run.stderr) == (flagged > 0)  # predict says so for the same inputs


def test_the_digits_model_cautions_on_a_blank_and_a_shrunk_brain_not_on_its_test_images(digits_cnn, tmp_path):
    from skimage.transform import resize

    from nnkit.data.labelled import load_digits, prepare
    from nnkit.files.images import read_image

    model, _ = digits_cnn
    np.save(tmp_path / "blank.npy", np.zeros((8, 8)))
    brain = read_image(SAMPLES / "brain.png")
    np.save(tmp_path / "brain.npy", resize(brain, (8, 8), anti_aliasing=True) * 16)  # the digits' 0..16 scale
    for name in ("blank.npy", "brain.npy"):
        run = run_cli("predict", str(model), str(tmp_path / name), "-f", "csv")
        assert run.exit_code == 0 and "unlike the training inputs" in run.stderr, (name, run.stderr)
    test = prepare(load_digits(), val_split=0.1, test_split=0.2, seed=0).x["test"]  # the run's held-out part
    np.save(tmp_path / "test.npy", test.reshape(-1, 8, 8) * 16)
    run = run_cli("predict", str(model), str(tmp_path / "test.npy"), "-f", "csv")
    flagged = [line for line in run.stderr.splitlines() if "caution" in line]
    more = [int(line.split()[2]) for line in flagged if " more of the " in line]
    count = len(flagged) - len(more) + sum(more)
    assert count / len(test) < 0.05, run.stderr  # 1.9 % for an 8-epoch CNN (see docs/commands.md, explain)


def test_a_colour_image_as_an_npy_array(tmp_path):
    """MedMNIST's colour sets: (H, W, 3) uint8 arrays, scaled as in training; saliency takes the largest channel."""
    from nnkit.files.model_file import model_arrays
    from nnkit.nn.explain import saliency
    from nnkit.nn.stack import build_network

    net = build_network([{"type": "conv2d", "filters": 3, "kernel": 3, "activation": "relu"}, {"type": "flatten"},
                         {"type": "dense", "units": 4, "activation": "softmax"}], (10, 10, 3), seed=2)
    meta = {"classes": ["a", "b", "c", "d"], "preprocessing": {"kind": "scale", "divisor": 255.0, "image_shape": [10, 10, 3]}}
    np.savez(tmp_path / "colour.npz", **model_arrays(net, meta))
    pixels = np.random.default_rng(0).integers(0, 256, (10, 10, 3)).astype(np.uint8)
    np.save(tmp_path / "colour.npy", pixels)
    run = run_cli("explain", str(tmp_path / "colour.npz"), str(tmp_path / "colour.npy"), "--plot", str(tmp_path / "c.png"))
    assert run.exit_code == 0, run.stderr
    report = json.loads(run.stdout)
    x = (pixels / 255.0).astype(np.float32)
    cls = ["a", "b", "c", "d"].index(report["class"])
    np.testing.assert_allclose(report["maps"]["saliency"]["values"], saliency(net, x, cls), atol=1e-12)
    assert report["maps"]["gradcam"]["shape"] == [8, 8] and report["maps"]["occlusion"]["shape"] == [10, 10]
    assert (tmp_path / "c.png").read_bytes().startswith(b"\x89PNG")
