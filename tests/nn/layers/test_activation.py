"""The activation layer: each hidden activation against central differences and its registry function."""

import numpy as np
import pytest

from nnkit.nn.activations import ACTIVATIONS
from nnkit.nn.layers import HIDDEN_ACTIVATIONS, Activation
from tests.nn.layers.test_dense import TOLERANCE, numerical_gradient, relative_error


@pytest.mark.parametrize("name", HIDDEN_ACTIVATIONS)
def test_activation_layer_gradient_matches_central_differences(name):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((4, 5)) * 2
    x[np.abs(x) < 1e-3] = 0.5  # keep away from the kinks of relu, leaky-relu and elu
    weights = rng.standard_normal((4, 5))
    layer = Activation(name)

    def loss():
        return float(np.sum(weights * layer.forward(x.copy())))

    layer.forward(x.copy(), training=True)
    dx = layer.backward(weights)
    assert relative_error(dx, numerical_gradient(loss, x)) <= TOLERANCE


@pytest.mark.parametrize("name", HIDDEN_ACTIVATIONS)
def test_activation_layer_forward_is_the_registry_function(name):
    x = np.linspace(-3, 3, 13).reshape(1, -1)
    np.testing.assert_allclose(Activation(name).forward(x), ACTIVATIONS[name].fn(x), rtol=1e-15)


def test_relu_backward_masks_and_leaves_dout_alone_unless_asked():
    layer = Activation("relu")
    layer.forward(np.array([[-1.0, 0.0, 2.0]]), training=True)
    dout = np.array([[5.0, 5.0, 5.0]])
    np.testing.assert_array_equal(layer.backward(dout), [[0.0, 0.0, 5.0]])
    np.testing.assert_array_equal(dout, [[5.0, 5.0, 5.0]])
