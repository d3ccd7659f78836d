"""One long recording over several threads: time blocks with overlap give the labels of one thread."""

from __future__ import annotations

import numpy as np
import pytest

from skelbehave.batch.chunks import plan_workers
from skelbehave.datasets import load_rat_social
from skelbehave.errors import ParameterError
from skelbehave.pipeline import FrameLevelModel


@pytest.fixture(scope="module")
def rat():
    ds = load_rat_social()
    model = FrameLevelModel(
        window="1s", fit_stride=8, classifier_params={"n_estimators": 8, "min_samples_leaf": 10},
        ignore_labels=["base"], random_state=0,
    )  # fmt: skip
    model.fit([ds.sequences[0]], [ds.label_names[0]])
    return model, ds.sequences[4]  # recording 5: about 14,000 frames, 2 rats, gaps


def test_threads_give_the_labels_of_one_thread_bit_for_bit(rat):
    model, seq = rat
    one = model.set_params(n_jobs=1).predict_proba([seq])[0]
    two = model.set_params(n_jobs=2).predict_proba([seq])[0]
    assert seq.n_frames > 3 * 4096  # several time blocks
    np.testing.assert_array_equal(one, two)
    assert (model.predict([seq])[0] == model.set_params(n_jobs=1).predict([seq])[0]).all()


def test_time_blocks_give_the_labels_of_the_unsplit_recording(rat, monkeypatch):
    """Blocks of 500 windows (each reading half a window of frames beyond its ends) vs one block."""
    import skelbehave.features.frame as frame_features
    import skelbehave.pipeline.frame_stages as stages

    model, seq = rat
    model.set_params(n_jobs=1)
    split = model.predict_proba([seq])[0]
    whole_blocks = lambda w, block=10**9: frame_features.window_blocks(w, block)  # noqa: E731
    monkeypatch.setattr(stages, "window_blocks", whole_blocks)
    whole = model.predict_proba([seq])[0]
    small = lambda w, block=500: frame_features.window_blocks(w, block)  # noqa: E731
    monkeypatch.setattr(stages, "window_blocks", small)
    tiny = model.predict_proba([seq])[0]
    present = ~np.isnan(whole).all(axis=1)
    for other in (split, tiny):
        np.testing.assert_allclose(other, whole, rtol=0, atol=1e-9, equal_nan=True)
        assert (other[present].argmax(axis=1) == whole[present].argmax(axis=1)).all()


def test_plan_workers_gives_spare_processes_cores_to_threads():
    assert plan_workers(1, 2, 1) == (1, 2)
    assert plan_workers(0, 2, 1) == (1, 2)
    assert plan_workers(8, 2, 1) == (2, 1)
    assert plan_workers(1, 2, None) == (1, 2)
    assert plan_workers(1, 2, -1) == (1, -1)
    with pytest.raises(ParameterError, match="jobs must be a whole number >= 1"):
        plan_workers(3, 0, 1)
