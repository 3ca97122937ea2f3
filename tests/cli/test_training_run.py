"""One training run as plain steps, called without the command line: the same report as the command."""

import json

import numpy as np
import pytest

from nnkit.cli import training_run as run
from nnkit.term.env import Environment
from nnkit.term.interrupts import InterruptGuard

CANCER = "samples/breast_cancer_wdbc.csv"


def _request(**changes) -> run.TrainingRequest:
    settings = run.Settings(optimizer="adam", lr=None, batch_size="32", epochs=2, val_split=0.1,
                            val_from="stratified", test_split=0.2, early_stopping=None, l2=0.0, seed=1)
    fields = {"command": "train-mlp", "settings": settings, "data": CANCER, "positive": "malignant",
              "architecture": run.Architecture([{"type": "dense", "units": 8, "activation": "relu"},
                                                {"type": "dense", "units": None}], "--hidden [8]")}
    return run.TrainingRequest(**{**fields, **changes})


def _quiet():
    return Environment.from_sys(quiet=True)


def test_the_run_returns_the_commands_report(cli):
    with InterruptGuard() as guard:
        result = run.run_training(_request(), _quiet(), guard)
        guard.release()
    command = json.loads(cli("train-mlp", "--data", CANCER, "--hidden", "8", "--epochs", "2", "--seed", "1",
                             "--positive", "malignant", "-f", "json").stdout)
    del command["seconds"]
    report = json.loads(json.dumps(result.report))
    for rows in (report["history"], command["history"]):
        for row in rows:
            del row["seconds"]
    assert report == command
    # what the command draws from: the two-class ROC of the test part and the prepared parts
    is_positive, scores = result.roc
    assert len(scores) == command["test"]["samples"] == len(result.prepared.y["test"])
    assert is_positive.sum() == sum(r["support"] for r in command["test"]["per_class"] if r["class"] == "malignant")
    assert result.title == "30-8-1 network"


def test_evaluate_gives_each_parts_loss_and_the_test_metrics():
    with InterruptGuard() as guard:
        result = run.run_training(_request(positive=None), _quiet(), guard)
        guard.release()
    parts, roc = run.evaluate(result.network, result.prepared, run.positive_index(None, result.prepared.classes))
    x, y = result.prepared.x["validation"], result.prepared.y["validation"]
    p = result.network.forward(x)[:, 0].astype(np.float64)
    expected = -np.mean(np.where(y == 1, np.log(p), np.log1p(-p)))  # binary cross-entropy by hand
    assert parts["validation"]["loss"] == pytest.approx(expected, rel=1e-4)
    assert parts["validation"]["accuracy"] == pytest.approx(np.mean((p > 0.5) == (y == 1)))
    assert roc[1] == pytest.approx(result.network.forward(result.prepared.x["test"])[:, 0])


def test_several_batch_sizes_read_the_data_once(cli, monkeypatch):
    from nnkit.data import labelled

    reads = []
    load = labelled.load_dataset
    monkeypatch.setattr(labelled, "load_dataset", lambda *a, **k: reads.append(a) or load(*a, **k))
    done = cli("train-mlp", "--batch-size", "full,64,128", "--hidden", "4", "--epochs", "1", "-f", "json")
    assert done.exit_code == 0, done.stderr
    assert len(json.loads(done.stdout)["runs"]) == 3
    assert len(reads) == 1
