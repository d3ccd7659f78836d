"""A model trained on Kinect skeletons (UTD-MHAD) labels MediaPipe poses of the KTH clips.

The model is trained on the common skeleton (``layout="common15"``) from the
UTD-MHAD training subjects (1, 3, 5, 7), on the classes that also occur in the
shared KTH clips plus distractors; MediaPipe poses extracted from the three
KTH clips are converted automatically when scored. The configuration is the
package default plus ``rotate=True`` (the KTH cameras are not frontal), fixed
before looking at the KTH results; nothing is tuned on KTH.

What this method gets right on the real clips (see benchmarks/cross_layout.py
for the probabilities): jogging. Boxing and hand clapping are NOT labelled
correctly (they come out as each other); see the module documentation of
benchmarks/cross_layout.py for what was investigated. The tests below assert
what holds, and the known misses as such, so that a change that fixes (or
breaks) them shows.

Cost: MediaPipe extraction of the three KTH clips (cached in pytest's cache
folder, keyed by the video and model bytes) and one UTD model fit (a few s).
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

import numpy as np
import pytest

from skelbehave import poses as poses_module
from skelbehave.datasets import load_utd_mhad
from skelbehave.errors import LayoutError
from skelbehave.features import JointFeatures
from skelbehave.pipeline import BehaviorModel
from skelbehave.pipeline.clip import DEFAULT_FEATURES
from skelbehave.poses import PoseSequence

pytestmark = pytest.mark.video  # skipped without the video extra (tests/conftest.py)

#: UTD-MHAD action -> label; the first three also occur in the KTH clips
UTD_CLASSES = {
    13: "boxing",  # front boxing
    4: "handclapping",  # two hand front clap
    22: "jogging",  # jogging in place
    3: "wave",  # right hand wave (distractor)
    6: "arm cross",  # cross arms in the chest (distractor)
    24: "sit to stand",  # distractor
}
KTH = {
    "boxing": "person01_boxing_d2_uncomp.mp4",
    "handclapping": "person01_handclapping_d1_uncomp.avi",
    "jogging": "person01_jogging_d1_uncomp.avi",
}


def utd_split(root=None):
    """UTD-MHAD sequences of :data:`UTD_CLASSES`: (train seqs, train labels, test seqs, test labels)."""
    ds = load_utd_mhad(root)
    tr, te = ds.train_test_split()

    def pick(idx):
        seqs = [ds.sequences[i] for i in idx if ds.sequences[i].meta["action"] in UTD_CLASSES]
        return seqs, np.array([UTD_CLASSES[s.meta["action"]] for s in seqs])

    return (*pick(tr), *pick(te))


def cross_layout_model(random_state: int = 0) -> BehaviorModel:
    """The model of this check: package defaults, facing rotation, trained on the common skeleton."""
    return BehaviorModel(
        features=JointFeatures(**{**DEFAULT_FEATURES, "rotate": True}),
        layout="common15",
        random_state=random_state,
    )


def seen_frames(seq: PoseSequence) -> PoseSequence:
    """The frames where the person was found (the KTH jogger runs out of view twice)."""
    return seq[np.flatnonzero(~seq.missing.all(axis=1))]


def _digest(*paths: Path) -> str:
    h = hashlib.sha256()
    for p in paths:
        h.update(p.read_bytes())
    return h.hexdigest()[:16]


@pytest.fixture(scope="module")
def kth_poses(shared_dir, request, tmp_path_factory) -> dict[str, PoseSequence]:
    """MediaPipe (full model) poses of the three KTH clips, cached by video and model content."""
    from skelbehave.pose import extract

    model = shared_dir / "models" / "pose_landmarker_full.task"
    cache_provider = getattr(request.config, "cache", None)  # absent under -p no:cacheprovider
    cache = (
        Path(cache_provider.mkdir("skelbehave_kth_poses"))
        if cache_provider is not None
        else tmp_path_factory.mktemp("kth_poses")
    )
    out = {}
    for label, clip in KTH.items():
        video = shared_dir / "videos" / clip
        f = cache / f"{clip}.{_digest(video, model)}.npz"
        if f.is_file():
            z = np.load(f)
            seq = PoseSequence(z["position"], "mediapipe33", fps=float(z["fps"]), confidence=z["confidence"])
        else:
            (seq,) = extract(video, model)
            np.savez(f.with_suffix(".tmp.npz"), position=seq.position, fps=seq.fps, confidence=seq.confidence)
            f.with_suffix(".tmp.npz").replace(f)
        out[label] = seq
    return out


@pytest.fixture(scope="module")
def utd():
    return utd_split()


@pytest.fixture(scope="module")
def model(utd):
    Xtr, ytr, _, _ = utd
    return cross_layout_model().fit(Xtr, ytr)


def test_mediapipe_poses_become_kinect_space(kth_poses, utd):
    """Converted KTH poses stand up like UTD skeletons: y up, metres, left shoulder on the camera's right."""
    Xtr = utd[0]
    ref = np.concatenate([s.to_layout("common15").position for s in Xtr[:40]])
    for label, seq in kth_poses.items():
        c = seen_frames(seq).to_layout("common15")
        assert c.layout.name == "common15" and c.meta["source_layout"] == "mediapipe33"
        assert c.convention == {"x": "left", "y": "up", "z": "away", "unit": "m"}
        i = c.layout.index
        for p in (c.position, ref):
            assert np.nanmean(p[:, i("head"), 1] > p[:, i("hip_center"), 1]) > 0.95  # upright
            assert np.nanmean(p[:, i("ankle_left"), 1] < p[:, i("knee_left"), 1]) > 0.9
            trunk = np.nanmedian(np.linalg.norm(p[:, i("neck")] - p[:, i("hip_center")], axis=1))
            assert 0.3 < trunk < 0.6, (label, trunk)  # metres, person-sized
        if label == "handclapping":  # faces the camera, as the UTD subjects do
            for p in (c.position, ref):
                assert np.nanmean(p[:, i("shoulder_left"), 0] < p[:, i("shoulder_right"), 0]) > 0.9


def test_utd_model_on_the_common_skeleton(model, utd):
    """Trained on converted Kinect data, the model still separates the UTD test subjects."""
    _, _, Xte, yte = utd
    assert model.layout_.name == "common15"
    assert (model.predict(Xte) == yte).mean() >= 0.9
    # Kinect sequences in their own layout are converted on the way in: same as converting first
    conv = [s.to_layout("common15") for s in Xte[:6]]
    np.testing.assert_allclose(model.predict_proba(Xte[:6]), model.predict_proba(conv))


def test_kth_clips_labelled_from_mediapipe_poses(model, kth_poses, caplog):
    """The UTD model scores MediaPipe poses directly (automatic conversion, logged once)."""
    seqs = [seen_frames(s) for s in kth_poses.values()]
    poses_module._CONVERSIONS_LOGGED.discard(("mediapipe33", "common15"))
    with caplog.at_level(logging.INFO, logger="skelbehave.poses"):
        proba = model.predict_proba(seqs)
        model.predict_proba(seqs)
    assert proba.shape == (3, len(UTD_CLASSES)) and np.allclose(proba.sum(axis=1), 1)
    pred = dict(zip(kth_poses, model.classes_[proba.argmax(axis=1)], strict=True))
    assert pred["jogging"] == "jogging"
    logged = [r for r in caplog.records if "from layout 'mediapipe33' to 'common15'" in r.getMessage()]
    assert len(logged) == 1  # once, not once per call


def test_kinect_layout_model_explains_missing_joints(utd):
    """A model trained on kinect_v1 itself cannot take MediaPipe poses: the error names the joints."""
    Xtr, ytr, _, _ = utd
    m = BehaviorModel(random_state=0).fit(Xtr[::4], ytr[::4])
    assert m.layout_.name == "kinect_v1"
    mp = PoseSequence(np.zeros((30, 33, 3)), "mediapipe33", fps=25)
    with pytest.raises(LayoutError, match=r"spine.*hand_left.*hand_right.*foot_left.*foot_right.*common15"):
        m.predict([mp])


def test_frame_level_model_converts_recordings():
    """A frame-level model trained on the common skeleton (PRECOG) scores Kinect recordings as converted."""
    from skelbehave.datasets import load_precog
    from skelbehave.errors import PoseDataError
    from skelbehave.pipeline import FrameLevelModel

    ds = load_precog()
    X = [s.to_layout("common15") for s in ds.sequences[:6]]
    m = FrameLevelModel(random_state=0).fit(X, list(ds.labels[:6]))
    raw = ds.sequences[6]
    np.testing.assert_allclose(m.predict_proba([raw])[0], m.predict_proba([raw.to_layout("common15")])[0])
    mp = PoseSequence(np.zeros((40, 33, 3)), "mediapipe33", fps=30)
    assert m.predict_proba([mp])[0].shape == (40, len(m.classes_))
    kinect = FrameLevelModel(random_state=0).fit(ds.sequences[:6], list(ds.labels[:6]))
    with pytest.raises(PoseDataError, match=r"in layout 'kinect_v1'.*no counterpart for \['spine'"):
        kinect.predict_proba([mp])


def test_saved_common_skeleton_model_scores_mediapipe(model, kth_poses, tmp_path):
    """The layout's mapping and convention survive save / load; a damaged mapping is refused."""
    import skelbehave
    from skelbehave.errors import ModelFileError
    from skelbehave.io.archive import state_layout

    seqs = [seen_frames(s) for s in kth_poses.values()]
    again = skelbehave.load(model.save(tmp_path / "utd_common15.skb"))
    assert again.layout_.common == model.layout_.common and again.layout_.convention["y"] == "up"
    np.testing.assert_allclose(again.predict_proba(seqs), model.predict_proba(seqs))
    # a stored mapping onto a joint the layout lacks, or a bad convention, is a damaged file
    d = model.layout_.to_dict()
    for key, value in [("common", {"neck": ["nape"]}), ("common", ["neck"]), ("convention", {"x": "up"})]:
        with pytest.raises(ModelFileError, match="layout"):
            state_layout({"layout": {**d, key: value}})


@pytest.mark.xfail(
    strict=True,
    reason="known miss (issue 13): MediaPipe's depth on a 60-pixel side-on boxer puts the jabs along the "
    "shoulder axis, and boxing and handclapping come out as each other; see benchmarks/cross_layout.py. "
    "strict: when this starts to pass, remove the mark and update the report",
)
def test_kth_boxing_and_handclapping_labelled_from_mediapipe_poses(model, kth_poses):
    """What the issue asks for: all three KTH clips labelled right from MediaPipe poses alone."""
    seqs = [seen_frames(s) for s in kth_poses.values()]
    pred = dict(zip(kth_poses, model.predict(seqs), strict=True))
    assert pred["boxing"] == "boxing"
    assert pred["handclapping"] == "handclapping"
