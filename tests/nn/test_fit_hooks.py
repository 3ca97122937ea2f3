"""fit's per-batch hook and its diagnosis of a loss that became NaN or infinite."""

import numpy as np
import pytest

from nnkit.errors import NnkitInputError
from nnkit.nn.stack import build_mlp
from nnkit.nn.training import fit

X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]] * 5, dtype=float)
T = np.array([0, 1, 1, 0] * 5)


def test_on_batch_sees_every_step_with_the_running_mean_loss():
    net = build_mlp(2, [3], 2, output="softmax", dtype=np.float64, rng=0)
    seen = []
    history = fit(net, X, T, optimizer="sgd", epochs=2, batch_size=8, seed=0,
                  on_batch=lambda number, batches, loss: seen.append((number, batches, loss)))
    assert [(number, batches) for number, batches, _ in seen] == [(1, 3), (2, 3), (3, 3)] * 2
    # the last step's running mean is the epoch's loss (20 samples: batches of 8, 8 and 4)
    assert seen[2][2] == pytest.approx(history[0]["loss"], rel=1e-12)
    assert seen[5][2] == pytest.approx(history[1]["loss"], rel=1e-12)


def test_a_stop_asked_for_in_on_batch_ends_after_that_batch_with_the_last_epochs_weights():
    net = build_mlp(2, [3], 2, output="softmax", dtype=np.float64, rng=0)
    calls = []

    def stop_in_the_second_epoch(number, batches, loss):
        calls.append(number)
        if len(calls) == 4:
            raise KeyboardInterrupt

    history = fit(net, X, T, optimizer="sgd", epochs=5, batch_size=8, on_batch=stop_in_the_second_epoch)
    assert history.interrupted and len(history) == 1 and len(calls) == 4
    again = build_mlp(2, [3], 2, output="softmax", dtype=np.float64, rng=0)
    fit(again, X, T, optimizer="sgd", epochs=1, batch_size=8)
    for kept, one_epoch in zip(net.get_weights(), again.get_weights(), strict=True):
        np.testing.assert_array_equal(kept, one_epoch)  # the weights of the completed epoch


def test_a_non_finite_loss_names_its_epoch_batch_and_the_first_layer_that_went_non_finite():
    net = build_mlp(2, [3], 2, output="softmax", dtype=np.float64, rng=0)
    weights = net.get_weights()
    weights[2][0, 0] = np.inf  # the output layer's first weight: layer 1 (Dense) and 2 (ReLU) stay finite
    net.set_weights(weights)
    with pytest.raises(NnkitInputError) as caught:
        fit(net, X, T, optimizer="sgd", epochs=3, batch_size=8)
    message = caught.value.message
    assert "in epoch 1 (batch 1 of 3)" in message
    kinds = [type(layer).__name__ for layer in net.layers]
    assert f"the output of layer 3 ({kinds[2]})" in message, (kinds, message)
    assert "lower --lr" in caught.value.hint
