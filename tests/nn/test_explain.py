"""Grad-CAM, saliency and occlusion against float64 finite differences, a plain loop, and sanity checks."""

import numpy as np
import pytest
from scipy.stats import spearmanr

from nnkit.data.labelled import load_digits
from nnkit.errors import NnkitInputError
from nnkit.nn.explain import (
    choose_conv_layer,
    class_probability,
    class_score,
    float64_copy,
    grad_cam,
    mass_inside,
    occlusion,
    resize_map,
    saliency,
    score_gradients,
)
from nnkit.nn.stack import build_mlp, build_network
from nnkit.nn.training import fit

CNN = [
    {"type": "conv2d", "filters": 3, "kernel": 3, "activation": "relu"},
    {"type": "conv2d", "filters": 4, "kernel": 2, "activation": "tanh"},
    {"type": "maxpool2d", "size": 2},
    {"type": "dropout", "rate": 0.5},
    {"type": "flatten"},
    {"type": "dense", "units": 3, "activation": "softmax"},
]


def _numeric_gradient(f, x, eps=1e-6):
    g = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        old = x[idx]
        x[idx] = old + eps
        up = f(x)
        x[idx] = old - eps
        down = f(x)
        x[idx] = old
        g[idx] = (up - down) / (2 * eps)
    return g


@pytest.fixture
def cnn():
    net = build_network(CNN, (9, 9, 2), seed=3, dtype=np.float64)
    image = np.random.default_rng(0).random((9, 9, 2))
    return net, image


@pytest.mark.parametrize("cls", [0, 2])
def test_saliency_gradient_matches_finite_differences_conv(cnn, cls):
    net, image = cnn
    g = score_gradients(net, image[None], cls).input[0]
    numeric = _numeric_gradient(lambda v: class_score(net, v[None], cls)[0], image.copy())
    assert np.abs(g).max() > 1e-3  # not a zero gradient agreeing with itself
    np.testing.assert_allclose(g, numeric, rtol=0, atol=1e-5)
    np.testing.assert_allclose(saliency(net, image, cls), np.abs(numeric).max(axis=-1), rtol=0, atol=1e-5)


@pytest.mark.parametrize(("output", "units", "cls"), [("softmax", 4, 3), ("sigmoid", 1, 0), ("sigmoid", 1, 1)])
def test_saliency_of_a_dense_model(output, units, cls):
    net = build_mlp(6, [5, 4], units, activation="tanh", output=output, dtype=np.float64, rng=1)
    x = np.random.default_rng(2).normal(size=6)
    numeric = _numeric_gradient(lambda v: class_score(net, v[None], cls)[0], x.copy())
    np.testing.assert_allclose(saliency(net, x, cls), np.abs(numeric), rtol=0, atol=1e-5)
    if units == 1:  # the score of the first class of a sigmoid unit is -z: the same magnitude
        np.testing.assert_allclose(saliency(net, x, 0), saliency(net, x, 1), rtol=0, atol=1e-12)


@pytest.mark.parametrize("layer", ["conv2d", "conv2d_1"])
def test_grad_cam_matches_its_definition_with_finite_difference_gradients(cnn, layer):
    net, image = cnn
    cls = 1
    name, index = choose_conv_layer(net, layer)
    g = score_gradients(net, image[None], cls, keep=index)
    rest = net.layers[index + 2 :]  # after the conv layer and its activation

    def score_from(a):
        h = a[None]
        for later in rest:
            h = later.forward(h)
        return h[0, cls]

    numeric = _numeric_gradient(score_from, g.activations[0].copy())
    np.testing.assert_allclose(g.gradients[0], numeric, rtol=0, atol=1e-5)
    alpha = numeric.mean(axis=(0, 1))
    cam = np.maximum(np.einsum("ijk,k->ij", g.activations[0], alpha), 0)
    result = grad_cam(net, image, cls, layer)
    assert result.layer == name
    np.testing.assert_allclose(result.weights, alpha, rtol=0, atol=1e-5)
    np.testing.assert_allclose(result.heatmap, cam / cam.max(), rtol=0, atol=1e-5)
    assert result.heatmap.shape == g.activations.shape[1:3]


def test_float32_model_is_explained_in_float64_without_touching_it(cnn):
    net64, image = cnn
    net32 = build_network(CNN, (9, 9, 2), seed=3)
    before = [p.copy() for p in net32.parameters()]
    a = grad_cam(net32, image, 0).heatmap
    b = grad_cam(net64, image, 0).heatmap
    np.testing.assert_allclose(a, b, atol=1e-5)
    for p, q in zip(before, net32.parameters(), strict=True):
        np.testing.assert_array_equal(p, q)
    assert float64_copy(net32).dtype == np.float64


@pytest.mark.parametrize(("patch", "stride"), [(3, 1), (4, 2), (4, 3), (9, 9)])
def test_occlusion_matches_a_plain_loop(cnn, patch, stride):
    net, image = cnn
    cls = 2
    drops, base = occlusion(net, image, cls, patch, stride, batch=5)
    p0 = net.forward(image[None])[0, cls]
    assert base == pytest.approx(p0, abs=1e-12)
    total, count = np.zeros((9, 9)), np.zeros((9, 9))
    rows = sorted({*range(0, 9 - patch + 1, stride), 9 - patch})
    for i in rows:
        for j in rows:
            covered = image.copy()
            covered[i : i + patch, j : j + patch, :] = 0.0
            drop = p0 - net.forward(covered[None])[0, cls]
            total[i : i + patch, j : j + patch] += drop
            count[i : i + patch, j : j + patch] += 1
    np.testing.assert_allclose(drops, total / count, rtol=0, atol=1e-12)


def test_class_probability_of_a_sigmoid_unit():
    z = np.array([[0.3], [-2.0]])
    np.testing.assert_allclose(class_probability(None, z, 1), 1 / (1 + np.exp(-z[:, 0])))
    np.testing.assert_allclose(class_probability(None, z, 0), 1 / (1 + np.exp(z[:, 0])))


def test_bad_requests():
    dense = build_mlp(4, [3], 2)
    with pytest.raises(NnkitInputError, match="no conv layer|has none"):
        grad_cam(dense, np.zeros(4), 0)
    net = build_network(CNN, (9, 9, 2), seed=0)
    with pytest.raises(NnkitInputError, match="conv2d_7"):
        choose_conv_layer(net, "conv2d_7")
    with pytest.raises(NnkitInputError, match="class index"):
        saliency(net, np.zeros((9, 9, 2)), 5)
    with pytest.raises(NnkitInputError, match="--patch"):
        occlusion(net, np.zeros((9, 9, 2)), 0, patch=10)


# --- a small CNN trained on the bundled digits --------------------------------------------------------
# Each 8×8 digit sits at a random place on a blank 16×16 canvas, so that "where" has an answer: the
# ink covers about an eighth of the picture. The stack ends in global average pooling (a mean pool
# over the whole map), the setting Grad-CAM generalises (CAM); behind flatten → dense the mean
# gradient of most channels is negative on these digits and the map is empty (see the report).
GAP_CNN = [{"type": "conv2d", "filters": 8, "kernel": 3, "padding": "same", "activation": "relu"},
           {"type": "maxpool2d", "size": 2},
           {"type": "conv2d", "filters": 16, "kernel": 3, "padding": "same", "activation": "relu"},
           {"type": "maxpool2d", "size": 8, "op": "mean"},
           {"type": "flatten"}, {"type": "dense", "units": 10, "activation": "softmax"}]


@pytest.fixture(scope="module")
def digits_cnn():
    from nnkit.nn.optimizers import make_optimizer

    x, y = load_digits().parts["train"]
    rng = np.random.default_rng(0)
    canvas = np.zeros((len(x), 16, 16, 1), np.float32)
    boxes = np.zeros((len(x), 16, 16), bool)
    for k in range(len(x)):
        i, j = rng.integers(0, 9, 2)
        canvas[k, i : i + 8, j : j + 8, 0] = x[k] / 16.0
        boxes[k, i : i + 8, j : j + 8] = True
    net = build_network(GAP_CNN, (16, 16, 1), seed=0)
    fit(net, canvas[:1500], y[:1500], optimizer=make_optimizer("adam", net.parameters(), lr=0.01),
        epochs=8, batch_size=32, seed=0)
    test = slice(1500, 1560)
    assert np.mean(net.predict(canvas[test]) == y[test]) > 0.6
    return net, canvas[test], y[test], boxes[test]


@pytest.mark.slow
def test_grad_cam_mass_lies_on_the_digit(digits_cnn):
    net, x, y, boxes = digits_cnn
    on_ink, on_box, ink_area = [], [], []
    for image, label, box in zip(x, y, boxes, strict=True):
        ink = image[..., 0] > 0
        heat = resize_map(grad_cam(net, image, int(label)).heatmap, (16, 16))
        on_ink.append(mass_inside(heat, ink))
        on_box.append(mass_inside(heat, box))
        ink_area.append(ink.mean())
    assert np.median(on_box) > 0.5  # most of the map on the digit's quarter of the canvas
    assert np.mean(on_ink) > 2.5 * np.mean(ink_area)  # and far more on the ink than its share


@pytest.mark.slow
def test_grad_cam_fails_the_sanity_check_when_conv_weights_are_randomised(digits_cnn):
    """Adebayo et al. (2018): a map that survives randomised weights explains nothing."""
    net, x, y, _ = digits_cnn
    randomised = build_network(GAP_CNN, (16, 16, 1), seed=0)
    weights = net.get_weights()
    rng = np.random.default_rng(1)
    for i in range(4):  # W and b of both conv layers re-drawn at their trained scale; the dense layer kept
        weights[i] = rng.normal(0, weights[i].std() + 1e-3, weights[i].shape).astype(np.float32)
    randomised.set_weights(weights)
    correlations = []
    for image, label in zip(x[:30], y[:30], strict=True):
        a = grad_cam(net, image, int(label)).heatmap.ravel()
        b = grad_cam(randomised, image, int(label)).heatmap.ravel()
        if a.std() > 0 and b.std() > 0:
            correlations.append(spearmanr(a, b).statistic)
    assert len(correlations) >= 20
    assert np.median(correlations) < 0.5
