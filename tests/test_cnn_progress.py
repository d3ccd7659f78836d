"""The CNN's training progress bar: on when asked (or on a terminal / at INFO logging), silent in tests."""

from __future__ import annotations

import logging

import numpy as np
import pytest

pytest.importorskip("torch")

import skelbehave
from skelbehave.models.cnn import CNNClassifier
from skelbehave.models.cnn.training import show_progress

TINY = dict(layout="msr20", channels=(8,), n_frames=16, max_epochs=2, finetune_epochs=0, random_state=0)


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = [np.cumsum(rng.normal(size=(20, 20, 3)), axis=0) * (1 + k % 2) for k in range(24)]
    return X, np.array(["slow", "fast"] * 12)


def test_bar_when_asked(data, capsys):
    CNNClassifier(progress=True, **TINY).fit(*data)
    err = capsys.readouterr().err
    assert "CNN train" in err and "loss=" in err and "val_acc=" in err and "epoch" in err


def test_silent_by_default_in_captured_output(data, capsys, caplog):
    caplog.set_level(logging.WARNING, logger="skelbehave")
    assert not show_progress(None)  # pytest's captured stderr is no terminal
    CNNClassifier(**TINY).fit(*data)
    assert capsys.readouterr().err == ""


def test_bar_at_info_logging_and_through_fit(data, capsys, caplog):
    caplog.set_level(logging.INFO, logger="skelbehave")
    assert show_progress(None) and not show_progress(False)
    X, y = data
    m = skelbehave.fit(X, y, layout="msr20", classifier="cnn", channels=(8,), n_frames=16, max_epochs=2,
                       finetune_epochs=0, random_state=0)  # fmt: skip
    assert m.classifier_.progress is None and "CNN train" in capsys.readouterr().err
