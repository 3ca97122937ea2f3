"""The learning-rate finder: its schedule, smoothing and valley rule by hand, and that it only looks."""

import numpy as np
import pytest

from nnkit.data.labelled import load_dataset, prepare
from nnkit.nn.lr_finder import exponential_rates, find_lr, smooth, valley
from nnkit.nn.stack import build_network


def test_the_schedule_grows_by_one_factor_per_step():
    rates = exponential_rates(1e-7, 10.0, 100)
    assert rates[0] == pytest.approx(1e-7) and rates[-1] == pytest.approx(10.0)
    np.testing.assert_allclose(rates[1:] / rates[:-1], (1e8) ** (1 / 99))


def test_smoothing_is_a_bias_corrected_moving_average():
    losses = np.array([3.0, 1.0, 2.0, 5.0])
    by_hand, average = [], 0.0
    for i, loss in enumerate(losses, start=1):
        average = 0.98 * average + 0.02 * loss
        by_hand.append(average / (1 - 0.98**i))
    np.testing.assert_allclose(smooth(losses), by_hand, rtol=1e-14)


def test_the_valley_is_the_longest_falling_run():
    # falls 9 → 1 over steps 1..6 (a bump at step 3 is skipped), then rises
    losses = np.array([5.0, 9.0, 8.0, 8.5, 6.0, 3.0, 1.0, 4.0, 7.0])
    start, end, index = valley(losses)
    assert (start, end) == (1, 6)  # 9 → 8 → 6 → 3 → 1: five long, ending at step 6, reaching back five steps
    assert index == start + int((end - start) / 3) + int((end - start) / 6)


def test_the_finder_leaves_the_weights_as_they_were():
    data = prepare(load_dataset("digits"), val_split=0.1, val_from="stratified", test_split=0.2, seed=0)
    specs = [{"type": "dense", "units": 32, "activation": "relu"}, {"type": "dense", "units": 10, "activation": "softmax"}]
    network = build_network(specs, data.input_shape, seed=0)
    before = [p.copy() for p in network.parameters()]
    found = find_lr(network, data.x["train"], data.y["train"], "adam", 32, seed=0)
    for p, kept in zip(network.parameters(), before, strict=True):
        np.testing.assert_array_equal(p, kept)
    assert found.lrs[0] == pytest.approx(1e-7) and found.valley[0] < found.valley[1]
    assert found.lrs[found.valley[0]] <= found.suggestion <= found.lrs[found.valley[1]]
    # the first loss is the untrained network's loss on the first shuffled batch
    order = np.random.default_rng(0).permutation(len(data.x["train"]))[:32]
    assert found.losses[0] == pytest.approx(network.loss(data.x["train"][order], data.y["train"][order]), rel=1e-5)
