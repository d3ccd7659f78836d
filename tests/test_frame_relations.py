"""Relations between animals in FrameLevelModel (``relations=``): symmetric, saved, no effect on one person.

Small slices of the real rat dyads (two DeepLabCut animals in the ``rat_dyad`` layout, split into
individuals) and of PRECOG (one person); small forests.
"""

from __future__ import annotations

import numpy as np
import pytest

from skelbehave.datasets import load_precog, load_rat_social
from skelbehave.errors import ModelFileError, ParameterError
from skelbehave.features.frame import FrameFeatures, as_recording
from skelbehave.features.frame_pairs import pool_individuals, recording_features, relation_columns
from skelbehave.features.interaction import relative_descriptors
from skelbehave.pipeline.frame import FrameLevelModel, load_frame_model

SMALL = {"classifier_params": {"n_estimators": 8, "min_samples_leaf": 5, "class_weight": "balanced"},
         "context_folds": 2, "random_state": 0}  # fmt: skip


@pytest.fixture(scope="module")
def rats():
    """Three training slices and one test slice (2,500 frames each) of rat recordings 1-4, stream S1."""
    ds = load_rat_social()
    recs = [as_recording(ds.sequences[i][2000:4500]) for i in range(4)]
    ys = [ds.label_names[i][2000:4500] for i in range(4)]
    return recs, ys


@pytest.fixture(scope="module")
def rat_model(rats):
    recs, ys = rats
    return FrameLevelModel(ignore_labels=["base"], **SMALL).fit(recs[:3], ys[:3])


def test_relation_columns_are_the_interaction_kernels(rats):
    a, b = rats[0][0]
    R, names = relation_columns([a, b])
    blocks, _ = relative_descriptors(a, b)
    ab = np.concatenate(blocks, axis=1).astype(np.float32)
    ab[~np.isfinite(ab)] = np.nan
    np.testing.assert_array_equal(R[:, : ab.shape[1]], ab)
    assert names[0] == "i0>i1:rel0" and names[ab.shape[1]] == "i1>i0:rel0" and R.shape[1] == 2 * ab.shape[1]


def test_swapping_the_animals_gives_the_same_features_only_when_pooled(rats):
    rec = rats[0][0]
    ff = FrameFeatures()
    F, names = recording_features(ff, rec, "symmetric")
    G, names_g = recording_features(ff, rec[::-1], "symmetric")
    assert names == names_g and np.isfinite(F).any(axis=0).all()
    np.testing.assert_array_equal(F, G)
    O, _ = recording_features(ff, rec, "ordered")
    P, _ = recording_features(ff, rec[::-1], "ordered")
    assert not np.array_equal(O, P, equal_nan=True)  # ordered columns do depend on who is first
    assert O.shape[1] == F.shape[1] > recording_features(ff, rec, "none")[0].shape[1]


def test_pooling_keeps_the_value_of_the_only_animal_present():
    F = np.array([[np.nan, 3.0], [2.0, 1.0]], dtype=np.float32)
    P, names = pool_individuals(F, ["i0:speed0", "i1:speed0"])
    assert names == ["lo:speed0", "hi:speed0"]
    np.testing.assert_array_equal(P, [[3.0, 3.0], [1.0, 2.0]])


def test_predictions_do_not_depend_on_who_is_listed_first(rats, rat_model):
    test = rats[0][3]
    p = rat_model.predict_proba([test])[0]
    q = rat_model.predict_proba([test[::-1]])[0]
    np.testing.assert_array_equal(p, q)
    assert rat_model.relations == "symmetric" and rat_model.n_individuals_ == 2
    assert any(n.startswith("pair>lo:rel") for n in rat_model.feature_names_)
    # the training swapped as well: the same model, the same probabilities
    recs, ys = rats
    swapped = FrameLevelModel(ignore_labels=["base"], **SMALL).fit([r[::-1] for r in recs[:3]], ys[:3])
    np.testing.assert_array_equal(swapped.predict_proba([test])[0], p)


def test_save_load_round_trip_and_files_from_before_relations(rats, rat_model, tmp_path):
    test = rats[0][3]
    back = load_frame_model(rat_model.save(tmp_path / "rel.skb"))
    assert back.relations == "symmetric"
    np.testing.assert_allclose(back.predict_proba([test])[0], rat_model.predict_proba([test])[0], atol=1e-12)
    np.testing.assert_array_equal(back.predict([test])[0], rat_model.predict([test])[0])
    # a file written before the parameter existed was fitted without relations: it loads as "none"
    recs, ys = rats
    old = FrameLevelModel(ignore_labels=["base"], relations="none", **SMALL).fit(recs[:3], ys[:3])
    params, arrays = old._get_state()
    del params["init"]["relations"]
    loaded = FrameLevelModel._from_state(params, arrays)
    assert loaded.relations == "none"
    np.testing.assert_allclose(loaded.predict_proba([test])[0], old.predict_proba([test])[0], atol=1e-12)
    # a file naming relations that its heads were not trained on is refused (window widths differ)
    params["init"]["relations"] = "symmetric"
    with pytest.raises(ModelFileError, match="window"):
        FrameLevelModel._from_state(params, arrays)
    params["init"]["relations"] = "both"
    with pytest.raises(ModelFileError, match="relations"):
        FrameLevelModel._from_state(params, arrays)


def test_bad_relations_value_is_refused(rats):
    recs, ys = rats
    with pytest.raises(ParameterError, match="relations must be one of"):
        FrameLevelModel(relations="pairs", **SMALL).fit(recs[:2], ys[:2])


def test_one_person_precog_is_unaffected():
    ds = load_precog()
    idx = [i for i, s in enumerate(ds.subjects) if s in (1, 2, 3)][:6]
    X, y = [ds.sequences[i] for i in idx[:5]], [ds.label_names[i] for i in idx[:5]]
    test = ds.sequences[idx[5]]
    F, _ = recording_features(FrameFeatures(), as_recording(test), "symmetric")
    G, _ = recording_features(FrameFeatures(), as_recording(test), "none")
    np.testing.assert_array_equal(F, G)
    a = FrameLevelModel(**SMALL).fit(X, y)
    b = FrameLevelModel(relations="none", **SMALL).fit(X, y)
    assert a.feature_names_ == b.feature_names_
    np.testing.assert_array_equal(a.predict_proba([test])[0], b.predict_proba([test])[0])
