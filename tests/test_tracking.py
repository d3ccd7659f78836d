"""People who come and go: identities on the real clips in ../shared/videos, stitching, absence, overlay.

Every clip is extracted once per module (MediaPipe full model, up to 3 poses
a frame): the three KTH clips, the Intel clip (1394 frames at 768x432, people
walk up to a table one at a time) and the Sports2D clip (two people, 1768x994).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from skelbehave.errors import ParameterError, PoseDataError
from skelbehave.layouts import get_layout
from skelbehave.pose import extract, render_overlay
from skelbehave.pose.identities import body_proportions, track_poses
from skelbehave.pose.tracking import select_individuals
from skelbehave.poses import PoseSequence
from skelbehave.temporal.presence import present_frames

pytestmark = pytest.mark.video  # skipped without the video extra (tests/conftest.py)

KTH = {
    "boxing": "person01_boxing_d2_uncomp.mp4",
    "handclapping": "person01_handclapping_d1_uncomp.avi",
    "jogging": "person01_jogging_d1_uncomp.avi",
}
INTEL = "intel_one-by-one-person-detection.mp4"
SPORTS2D = "sports2d_demo.mp4"


@pytest.fixture(scope="module")
def videos(shared_dir) -> Path:
    return shared_dir / "videos"


@pytest.fixture(scope="module")
def model(shared_dir) -> Path:
    return shared_dir / "models" / "pose_landmarker_full.task"


@pytest.fixture(scope="module")
def tracked(videos, model):
    """Each clip extracted once with up to 3 people a frame (a cache shared by the tests below)."""
    cache: dict[str, list[PoseSequence]] = {}

    def get(clip: str) -> list[PoseSequence]:
        if clip not in cache:
            cache[clip] = extract(videos / clip, model=model, num_poses=3)
        return cache[clip]

    return get


def _centre(s: PoseSequence) -> np.ndarray:
    """(T, 2) bounding-box centre of the image landmarks in image heights; NaN where absent."""
    img = s.meta["image_landmarks"][:, :, :2] * [s.meta["width"] / s.meta["height"], 1.0]
    seen = ~np.isnan(img).all(axis=(1, 2))
    c = np.full((len(img), 2), np.nan)
    c[seen] = (np.nanmin(img[seen], axis=1) + np.nanmax(img[seen], axis=1)) / 2
    return c


def _check_absent_frames(s: PoseSequence) -> None:
    """Frames where the individual is not seen are absent: NaN, confidence 0, no pose for the models."""
    seen = ~np.isnan(s.meta["image_landmarks"]).all(axis=(1, 2))
    assert seen.sum() == s.meta["frames_seen"]
    np.testing.assert_array_equal(present_frames(s), seen)
    assert np.isnan(s.position[~seen]).all() and (s.confidence[~seen] == 0).all()
    assert np.isfinite(s.position[seen]).all()


# --------------------------------------------------------------------------- real clips
@pytest.mark.parametrize("action", sorted(KTH))
def test_single_person_kth_clip_gives_one_identity(tracked, action):
    (seq,) = tracked(KTH[action])  # exactly one identity, even with up to 3 poses a frame
    assert seq.meta["person"] == 0 and seq.n_frames == seq.meta["n_frames"]
    _check_absent_frames(seq)
    rep = seq.meta["tracking"]
    assert rep["lengths"] == {"0": seq.meta["frames_seen"]}
    assert all(n < rep["min_track_frames"] for n in rep["dropped"].values())
    if action == "jogging":
        # the jogger leaves the view 3 times for 3-4 s and comes back: 4 fragments stitched into one
        assert rep["fragments"] == 4 and len(rep["stitched"]) == 3
        assert seq.meta["frames_seen"] >= 130
        seen = present_frames(seq)
        runs = np.flatnonzero(np.diff(seen.astype(int)) == 1)
        assert len(runs) >= 3  # absent stretches between the passes stay absent (never filled)
    else:
        assert seq.meta["frames_seen"] >= 0.95 * seq.n_frames


def test_sports2d_two_people_never_swap(tracked):
    seqs = tracked(SPORTS2D)
    assert len(seqs) == 2  # a pose seen in 3 scattered frames is dropped, not a third person
    for s in seqs:
        _check_absent_frames(s)
    a, b = seqs
    ca, cb = _centre(a), _centre(b)
    both = ~np.isnan(ca[:, 0]) & ~np.isnan(cb[:, 0])
    assert both.sum() >= 120
    # between consecutive frames where both are seen, each moves far less than they are apart
    idx = np.flatnonzero(both[:-1] & both[1:])
    gap = np.linalg.norm(ca[idx] - cb[idx], axis=1)
    far = gap > 0.3
    assert far.sum() >= 100
    step_a = np.linalg.norm(ca[idx + 1] - ca[idx], axis=1)
    step_b = np.linalg.norm(cb[idx + 1] - cb[idx], axis=1)
    assert (step_a[far] < 0.5 * gap[far]).all() and (step_b[far] < 0.5 * gap[far]).all()
    # and over the whole clip: no jump of either track larger than a third of a frame height
    for c in (ca, cb):
        ok = ~np.isnan(c[:, 0])
        t = np.flatnonzero(ok[:-1] & ok[1:])
        assert np.linalg.norm(c[t + 1] - c[t], axis=1).max() < 0.35

    # the walker crosses the view from right to left in the lower half; the jumper starts on the roof
    def xs(c):
        return c[~np.isnan(c[:, 0]), 0]

    (walker, jumper) = (ca, cb) if xs(ca)[0] - xs(ca)[-1] > xs(cb)[0] - xs(cb)[-1] else (cb, ca)
    assert xs(walker)[0] - xs(walker)[-1] > 1.0
    assert np.nanmedian(walker[:, 1]) > 0.6
    assert jumper[~np.isnan(jumper[:, 1]), 1][:10].mean() < 0.5


def test_intel_clip_has_no_track_shorter_than_the_minimum(tracked):
    seqs = tracked(INTEL)
    rep = seqs[0].meta["tracking"]
    fps = seqs[0].fps
    assert fps == 10.0 and rep["min_track_frames"] == 10  # one second of frames by default
    assert all(s.meta["frames_seen"] >= rep["min_track_frames"] for s in seqs)
    assert [s.meta["person"] for s in seqs] == list(range(len(seqs)))
    # the detector's short-lived poses (a table's foot, half-visible people) were dropped and recorded
    assert len(rep["dropped"]) >= 5 and all(n < 10 for n in rep["dropped"].values())
    assert rep["fragments"] == len(seqs) + len(rep["dropped"]) + len(rep["stitched"])
    # six people walk up one at a time: each is one identity (plus at most two spurious tracks)
    long = [s for s in seqs if s.meta["frames_seen"] >= 100]
    assert len(long) == 6 and len(seqs) <= 8
    spans = sorted(
        (int(np.flatnonzero(present_frames(s))[0]), int(np.flatnonzero(present_frames(s))[-1])) for s in long
    )
    assert all(spans[k][1] < spans[k + 1][0] + 5 for k in range(5))  # one after another
    for s in seqs:
        _check_absent_frames(s)
        assert (~present_frames(s)).sum() > 0.5 * s.n_frames  # absent most of the clip: never padded


def test_min_track_frames_parameter(videos, model):
    seqs = extract(videos / KTH["jogging"], model=model, num_poses=2, min_track_frames="20s")
    assert seqs == []  # the jogger is seen for about 5.5 s
    assert extract(videos / KTH["jogging"], model=model, min_track_frames=200) == []  # also with one pose
    passes = extract(videos / KTH["jogging"], model=model, num_poses=2, stitch_gap=0)
    assert len(passes) == 4  # without stitching: one identity per pass across the view
    assert all(s.meta["tracking"]["stitched"] == [] and 25 <= s.meta["frames_seen"] < 40 for s in passes)
    with pytest.raises(ParameterError, match="min_track_frames"):
        extract(videos / KTH["jogging"], model=model, num_poses=2, min_track_frames="soon")


# --------------------------------------------------------------------------- generated data
_BOX = np.array([[0.0, 0.0], [0.3, 0.0], [0.0, 0.6], [0.3, 0.6]])
_EMPTY = np.empty((0, 4, 2))


def _body(shoulders: float, shin: float) -> np.ndarray:
    """A mediapipe33 3-D pose with given shoulder width and shin length (torso 0.5 m)."""
    L = get_layout("mediapipe33")
    p = np.zeros((33, 3))
    joints = {"shoulder": (shoulders / 2, 0.5), "hip": (0.1, 0.0), "elbow": (0.2, 0.25), "wrist": (0.2, 0.0),
              "knee": (0.1, -0.45), "ankle": (0.1, -0.45 - shin)}  # fmt: skip
    for name, (x, y) in joints.items():
        p[L.index("left_" + name), :2] = (-x, y)
        p[L.index("right_" + name), :2] = (x, y)
    return p


def test_stitching_through_a_loss_uses_position_and_velocity():
    # a person walking right at 0.05 per frame; unseen for 20 frames (behind something)
    walk = [_BOX[None] + [0.05 * t, 0.0] for t in range(60)]
    frames = walk[:20] + [_EMPTY] * 20 + walk[40:]
    ids, rep = track_poses(frames, max_gap=5, min_track_frames=5)
    # reappears 1 m (1.7 person sizes) from where it was lost, where its velocity was taking it
    assert rep.fragments == 2 and rep.stitched == [(0, 1)]
    assert {i for f in ids for i in f} == {0}
    # the same reappearance far from both the last position and the extrapolation: a new identity
    jumped = walk[:20] + [_EMPTY] * 20 + [w + np.array([0.0, 1.5]) for w in walk[40:]]
    ids, rep = track_poses(jumped, max_gap=5, min_track_frames=5)
    assert rep.stitched == [] and {i for f in ids for i in f} == {0, 1}
    # a loss longer than stitch_gap is never bridged
    ids, rep = track_poses(frames, max_gap=5, stitch_gap=10, min_track_frames=5)
    assert {i for f in ids for i in f} == {0, 1}


def test_stitching_needs_matching_body_proportions():
    still = [_BOX[None]] * 30
    frames = still + [_EMPTY] * 15 + still
    same = [_body(0.4, 0.45)[None]] * 30
    world_same = same + [np.empty((0, 33, 3))] * 15 + same
    other = [_body(0.25, 0.6)[None]] * 30  # someone else, stepping into the same place
    world_other = same + [np.empty((0, 33, 3))] * 15 + other
    ids, rep = track_poses(frames, world=world_same, max_gap=5, min_track_frames=5)
    assert {i for f in ids for i in f} == {0} and rep.stitched == [(0, 1)]
    ids, rep = track_poses(frames, world=world_other, max_gap=5, min_track_frames=5)
    assert {i for f in ids for i in f} == {0, 1} and rep.stitched == []
    d = body_proportions(np.stack([_body(0.4, 0.45), _body(0.25, 0.6)]))
    assert np.abs(d[0] - d[1]).mean() > 0.1


def test_overlapping_fragments_are_never_stitched_and_short_tracks_are_dropped():
    a = [_BOX[None] + [0.01 * t, 0.0] for t in range(40)]
    b = [_BOX[None] + [2.0, 0.0]] * 40
    # b is seen in frames 10-39 alongside a: two people, never one
    frames = [a[t] if t < 10 else np.concatenate([a[t], b[t]]) for t in range(40)]
    # and a flicker seen for 3 frames far from both
    for t in (20, 21, 22):
        frames[t] = np.concatenate([frames[t], (_BOX + np.array([4.0, 0.0]))[None]])
    ids, rep = track_poses(frames, max_gap=5, min_track_frames=5)
    assert rep.fragments == 3 and rep.stitched == [] and list(rep.dropped.values()) == [3]
    assert rep.lengths == {0: 40, 1: 30}
    assert ids[21] == [0, 1, None]
    with pytest.raises(ParameterError, match="min_track_frames"):
        track_poses(frames, min_track_frames=0)


def test_select_individuals():
    seqs = [PoseSequence(np.ones((3, 33, 3)), "mediapipe33", meta={"person": p}) for p in (0, 1, "rat2")]
    assert [s.meta["person"] for s in select_individuals(seqs, None)] == [0, 1, "rat2"]
    assert [s.meta["person"] for s in select_individuals(seqs, "1")] == [1]
    assert [s.meta["person"] for s in select_individuals(seqs, [1, "rat2"])] == [1, "rat2"]
    assert [s.meta["person"] for s in select_individuals(seqs, "0,rat2")] == [0, "rat2"]
    with pytest.raises(PoseDataError, match=r"no individual '7'.*0, 1, rat2"):
        select_individuals(seqs, 7, path="x.csv")


# --------------------------------------------------------------------------- overlay
def test_overlay_labels_each_individual_next_to_them(tracked, videos, tmp_path):
    """Sports2D, both people in view: each one's label is drawn by them, from score's table."""
    import cv2

    seqs = tracked(SPORTS2D)
    t0 = 100
    both = present_frames(seqs[0]) & present_frames(seqs[1])
    assert both[t0 : t0 + 2].all()
    cap = cv2.VideoCapture(str(videos / SPORTS2D))
    cap.set(cv2.CAP_PROP_POS_FRAMES, t0)
    frames = [cap.read()[1] for _ in range(2)]
    cap.release()
    part = [s[t0 : t0 + 2].copy(meta={**s.meta, "image_landmarks": s.meta["image_landmarks"][t0 : t0 + 2]})
            for s in seqs]  # fmt: skip
    table = pd.DataFrame(
        {"individual": [0, 1, 0, 1], "frame": [0, 0, 1, 1], "label": ["WALKING", "JUMPING"] * 2,
         "absent": False}
    )  # fmt: skip
    plain = render_overlay(iter(frames), part, tmp_path / "plain", fps=30, bgr=True)
    labelled = render_overlay(iter(frames), part, tmp_path / "lab", fps=30, bgr=True, predictions=table)
    old = render_overlay(
        iter(frames), part, tmp_path / "old", fps=30, bgr=True,
        predictions=table.rename(columns={"individual": "person"}),
    )  # fmt: skip
    p0 = cv2.imread(str(plain / "frame_000000.png")).astype(int)
    l0 = cv2.imread(str(labelled / "frame_000000.png")).astype(int)
    o0 = cv2.imread(str(old / "frame_000000.png")).astype(int)
    np.testing.assert_array_equal(l0, o0)  # the old 'person' column is read the same way
    diff = np.abs(l0 - p0).sum(axis=2) > 60
    assert diff.any()
    H, W = diff.shape
    ys, xs = np.nonzero(diff)
    assert not diff[: H // 10, : W // 5].any()  # nothing in the corner
    # every changed pixel lies just above one of the two people, right of their top joint
    near = np.zeros_like(diff)
    for s in part:
        xy = s.meta["image_landmarks"][0, :, :2] * [W, H]
        top = xy[np.nanargmin(xy[:, 1])]
        near[max(0, int(top[1]) - 60) : int(top[1]) + 5, max(0, int(top[0]) - 5) : int(top[0]) + 400] = True
        assert diff[max(0, int(top[1]) - 60) : int(top[1]) + 5, int(top[0]) : int(top[0]) + 400].sum() > 100
    assert near[ys, xs].all()
    # each individual got their own label: swapping the labels changes the picture
    swapped = render_overlay(
        iter(frames), part, tmp_path / "swap", fps=30, bgr=True,
        predictions=table.assign(label=["JUMPING", "WALKING"] * 2),
    )  # fmt: skip
    assert (cv2.imread(str(swapped / "frame_000000.png")).astype(int) != l0).any()


def test_overlay_draws_nothing_where_the_individual_is_absent(tracked, videos, tmp_path):
    """KTH jogging: in frames where the jogger is out of view nothing is drawn, label or skeleton."""
    import cv2

    (seq,) = tracked(KTH["jogging"])
    seen = present_frames(seq)
    n = 60
    t_abs = int(np.flatnonzero(~seen[:n])[-1])  # the jogger left the view
    t_seen = int(np.flatnonzero(seen[:n])[0])
    table = pd.DataFrame(
        {"individual": 0, "frame": range(n), "label": np.where(seen[:n], "jogging", ""), "absent": ~seen[:n]}
    )
    # the absent rows carry a label too in this copy: the absent flag alone must stop it
    table_flagged = table.assign(label="jogging")
    out = render_overlay(videos / KTH["jogging"], [seq], tmp_path / "o", predictions=table, max_frames=n)
    out2 = render_overlay(
        videos / KTH["jogging"], [seq], tmp_path / "o2", predictions=table_flagged, max_frames=n
    )
    cap = cv2.VideoCapture(str(videos / KTH["jogging"]))
    raw = [cap.read()[1] for _ in range(n)]
    cap.release()
    for d in (out, out2):
        np.testing.assert_array_equal(cv2.imread(str(d / f"frame_{t_abs:06d}.png")), raw[t_abs])
    drawn = cv2.imread(str(out / f"frame_{t_seen:06d}.png")).astype(int)
    changed = np.abs(drawn - raw[t_seen].astype(int)).sum(axis=2) > 60
    assert changed.mean() > 0.005 and not changed[:10, :40].any()  # by the jogger, not in the corner
    with pytest.raises(PoseDataError, match="none of the individuals"):
        render_overlay(videos / KTH["jogging"], [seq], tmp_path / "x", predictions=table.assign(individual=5),
                       max_frames=2)  # fmt: skip


# --------------------------------------------------------------------------- scoring per individual
@pytest.fixture(scope="module")
def kth_model(tracked, tmp_path_factory):
    """A small clip model trained on 2-second pieces of the three KTH clips' MediaPipe poses."""
    from skelbehave.encoding import VLADEncoder
    from skelbehave.pipeline import BehaviorModel

    X, y = [], []
    for action, clip in KTH.items():
        (s,) = tracked(clip)
        for a in range(0, s.n_frames - 50, 25):
            piece = s[a : a + 50]
            if present_frames(piece).mean() > 0.8:
                X.append(piece)
                y.append(action)
    model = BehaviorModel(encoder=VLADEncoder(n_clusters=4), random_state=0).fit(X, y)
    path = tmp_path_factory.mktemp("kth_model") / "kth.skb"
    model.save(path)
    return path


def test_several_people_are_scored_per_individual_and_can_be_chosen(tracked, kth_model, tmp_path):
    from skelbehave.batch import score_files
    from skelbehave.cli import main
    from skelbehave.io import write_poses

    seqs = tracked(INTEL)
    f = write_poses(tmp_path / "intel.pose.csv", seqs)
    window = ["--window", "2s"]
    df = score_files(kth_model, [f], tmp_path / "all", output_format="csv", window="2s", progress=False)
    assert (df["status"] == "done").all(), df["error"].tolist()
    t = pd.read_csv(df["output"].iloc[0])
    assert sorted(t["individual"].unique()) == list(range(len(seqs)))  # each individual on its own
    # segments where an individual is absent throughout get no label
    for who, g in t.groupby("individual"):
        seen = present_frames(seqs[who])
        for r in g.itertuples():
            assert pd.isna(r.label) == (not seen[r.start_frame : r.stop_frame].any())
    # --individual chooses tracks; the manifest records it, so another choice scores again
    assert main(["score", str(kth_model), str(f), "--out", str(tmp_path / "some"), "--individual", "0,3",
                 "--output-format", "csv", "--no-progress", *window]) == 0  # fmt: skip
    some = pd.read_csv(next((tmp_path / "some").glob("*.predictions.csv")))
    assert sorted(some["individual"].unique()) == [0, 3]
    pd.testing.assert_frame_equal(
        some.reset_index(drop=True), t[t["individual"].isin([0, 3])].reset_index(drop=True)
    )
    manifest = pd.read_csv(tmp_path / "some" / "manifest.csv")
    assert "individual=0,3" in manifest["options"].iloc[0]
    # an individual the file does not hold: the file fails with the reason, listing those it holds
    assert main(["score", str(kth_model), str(f), "--out", str(tmp_path / "none"), "--individual", "9",
                 "--no-progress"]) == 1  # fmt: skip
    err = pd.read_csv(tmp_path / "none" / "manifest.csv")["error"].iloc[0]
    assert "no individual '9'" in err and "0, 1, 2" in err


def test_fit_on_one_individual_of_a_multi_person_file(tracked, tmp_path):
    """``fit --individual``: train on the chosen track of each pose file."""
    from skelbehave.io import write_poses
    from skelbehave.workflows import load_labelled

    seqs = tracked(SPORTS2D)
    f = write_poses(tmp_path / "s.pose.csv", seqs)
    labels = tmp_path / "s.labels.csv"
    pd.DataFrame({"frame": range(seqs[0].n_frames), "label": "walk"}).to_csv(labels, index=False)
    recs, _ = load_labelled([f], [labels])
    assert [s.meta["person"] for s in recs[0]] == [0, 1]
    recs, ys = load_labelled([f], [labels], individual=1)
    assert [s.meta["person"] for s in recs[0]] == [1] and len(ys[0]) == seqs[1].n_frames
    np.testing.assert_allclose(recs[0][0].position, seqs[1].position, atol=1e-4, equal_nan=True)
