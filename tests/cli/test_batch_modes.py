"""train-mlp --batch-size full,1,32: one model per batch size, the same split, seed and epochs."""

import json
import math
from collections import Counter

import pytest

from nnkit.nn import optimizers

FAST = ["--hidden", "8", "--epochs", "2"]


@pytest.fixture
def counted_steps(monkeypatch):
    """The number of updates each optimizer object really made (one object per model)."""
    counts = Counter()
    step = optimizers.Optimizer.step

    def counting(self, grads):
        counts[id(self)] += 1
        return step(self, grads)

    monkeypatch.setattr(optimizers.Optimizer, "step", counting)
    return counts


def test_full_is_one_update_per_epoch_and_1_one_per_sample(cli, counted_steps):
    run = cli("train-mlp", "--batch-size", "full,1,32", *FAST, "-f", "json")
    assert run.exit_code == 0, run.stderr
    report = json.loads(run.stdout)
    n = report["training_samples"]
    assert [r["batch_size"] for r in report["runs"]] == ["full", 1, 32]
    assert [r["mode"] for r in report["runs"]] == ["batch learning", "online learning", "mini-batch learning"]
    assert [r["mode_ja"] for r in report["runs"]] == ["バッチ学習", "オンライン学習", "ミニバッチ学習"]
    assert [r["updates_per_epoch"] for r in report["runs"]] == [1, n, math.ceil(n / 32)]
    # the optimizers really stepped that often: one object per model, in the order trained
    assert list(counted_steps.values()) == [2 * 1, 2 * n, 2 * math.ceil(n / 32)]
    for r in report["runs"]:
        assert r["epochs_run"] == 2 and len(r["history"]) == 2
        assert r["train"]["samples"] == n
        assert r["seconds_per_epoch"] == pytest.approx(sum(h["seconds"] for h in r["history"]) / 2)


def test_each_model_is_the_single_run_of_its_batch_size(cli):
    several = json.loads(cli("train-mlp", "--batch-size", "full,32", *FAST, "--seed", "3", "-f", "json").stdout)
    for r in several["runs"]:
        single = json.loads(cli("train-mlp", "--batch-size", str(r["batch_size"]), *FAST, "--seed", "3",
                                "-f", "json").stdout)
        # the same split (sizes and results of every part), the same initial weights and shuffles
        for part in ("train", "validation", "test"):
            assert r[part]["samples"] == single[part]["samples"]
            assert r[part]["loss"] == single[part]["loss"]
        assert r["test"]["confusion_matrix"] == single["test"]["confusion_matrix"]
        drop = lambda rows: [{k: v for k, v in row.items() if k != "seconds"} for row in rows]  # noqa: E731
        assert drop(r["history"]) == drop(single["history"])


def test_table_csv_and_plot(cli, tmp_path):
    picture = tmp_path / "modes.png"
    run = cli("train-mlp", "--batch-size", "full,64", *FAST, "-f", "table", "--plot", str(picture))
    assert run.exit_code == 0, run.stderr
    assert "full バッチ学習" in run.stdout and "64 ミニバッチ学習" in run.stdout  # the course's 2-9 words
    assert picture.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    run = cli("train-mlp", "--batch-size", "full,64", *FAST, "-f", "csv")
    lines = run.stdout.splitlines()
    assert lines[0] == "batch_size,epoch,loss,accuracy,val_loss,val_accuracy,seconds"
    assert [line.split(",")[:2] for line in lines[1:]] == [["full", "1"], ["full", "2"], ["64", "1"], ["64", "2"]]


@pytest.mark.parametrize(
    ("sizes", "message"),
    [
        ("0,32", "--batch-size values must be at least 1, got 0"),
        ("full,full", "--batch-size full is given twice"),
        ("32,32", "--batch-size 32 is given twice"),
        ("full,100000", "--batch-size 100000 is larger than the 1259 training samples"),
        ("full,1259", "the same as 'full'"),
        ("full,x", "--batch-size takes numbers or 'full'"),
    ],
)
def test_bad_values_are_exit_2(cli, sizes, message):
    cli("train-mlp", "--batch-size", sizes, *FAST).assert_input_error(message)


def test_one_model_options_are_refused(cli, tmp_path):
    cli("train-mlp", "--batch-size", "full,1", "--save", str(tmp_path / "m.npz"), *FAST).assert_input_error(
        "--save takes one model"
    )
    assert not (tmp_path / "m.npz").exists()


def test_ctrl_c_keeps_the_models_trained_so_far(cli, monkeypatch):
    from nnkit.nn import network

    calls = {"n": 0}
    train_batch = network.Network.train_batch

    def interrupting(self, x, t):
        calls["n"] += 1
        if calls["n"] == 2 + 20 + 5:  # full: 2 steps; 64: 20 steps per epoch; stop in its 2nd epoch
            raise KeyboardInterrupt
        return train_batch(self, x, t)

    monkeypatch.setattr(network.Network, "train_batch", interrupting)
    run = cli("train-mlp", "--batch-size", "full,64,1", *FAST, "-f", "json")
    assert run.exit_code == 130
    report = json.loads(run.stdout)
    assert report["interrupted"] is True
    assert [r["batch_size"] for r in report["runs"]] == ["full", 64]  # batch size 1 never started
    assert [r["epochs_run"] for r in report["runs"]] == [2, 1]
    assert "interrupted" in run.stderr


def test_installed_command_pipes_json_and_refuses_zero(shell):
    run = shell("nnkit train-mlp --batch-size full,1 --hidden 4 --epochs 1 | "
                "python -c 'import json,sys; print([r[\"updates_per_epoch\"] for r in json.load(sys.stdin)[\"runs\"]])'")
    assert run.returncode == 0, run.stderr
    assert run.stdout.decode().strip() == "[1, 1259]"
    run = shell("nnkit train-mlp --batch-size 0,full")
    assert run.returncode == 2 and run.stdout == b""
    assert run.stderr.decode().startswith("nnkit: error: --batch-size values must be at least 1, got 0")


def test_the_table_says_when_early_stopping_ended_a_run_sooner(cli):
    run = cli("train-mlp", "--batch-size", "full,1", "--hidden", "8", "--epochs", "30", "--early-stopping", "1",
              "-f", "table")
    assert run.exit_code == 0, run.stderr
    report = json.loads(cli("train-mlp", "--batch-size", "full,1", "--hidden", "8", "--epochs", "30",
                            "--early-stopping", "1", "-f", "json").stdout)
    ran = [r["epochs_run"] for r in report["runs"]]
    assert ran != [30, 30]  # online learning overfits at once: its validation loss stops improving
    assert f"epochs run: batch size full {ran[0]}, batch size 1 {ran[1]}" in run.stdout
