"""``--save`` onto the ``--data`` file is refused before training (it replaced the data set by the model)."""

import numpy as np

from tests.conftest import run_cli
from tests.io.test_datasets import learnable_images


def test_save_over_the_data_file_is_refused_before_training(tmp_path):
    """train-mlp --data d.npz --save d.npz replaced the data set by the model (found while testing export)."""
    x, y = learnable_images(60, size=(28, 28))
    data = tmp_path / "d.npz"
    np.savez(data, x_train=x, y_train=y, x_test=x, y_test=y)
    before = data.read_bytes()
    for command in (["train-mlp"], ["train", "--model", "course-mlp"]):
        run = run_cli(*command, "--data", str(data), "--epochs", "1", "--save", str(data))
        run.assert_input_error("refusing to overwrite the input file")
    assert data.read_bytes() == before
