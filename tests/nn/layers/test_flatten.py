"""Flatten: Keras's channels-last order, and backward restores the shape."""

import numpy as np

from nnkit.nn.layers import Flatten


def test_flatten_is_keras_channels_last_c_order_and_backward_restores_the_shape():
    x = np.arange(2 * 3 * 2 * 4.0).reshape(2, 3, 2, 4)
    layer = Flatten()
    y = layer.forward(x, training=True)
    np.testing.assert_array_equal(y[1], x[1].ravel())
    assert y[0, :5].tolist() == [x[0, 0, 0, 0], x[0, 0, 0, 1], x[0, 0, 0, 2], x[0, 0, 0, 3],
                                 x[0, 0, 1, 0]]
    np.testing.assert_array_equal(layer.backward(y), x)
