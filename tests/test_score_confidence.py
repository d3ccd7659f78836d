"""``score --min-confidence``: abstention written into predictions tables, for clip and frame models."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import skelbehave
import skelbehave.io
from skelbehave.batch import score_files
from skelbehave.cli import main
from skelbehave.io import write_poses
from skelbehave.models.calibration import UNKNOWN


@pytest.fixture(scope="module")
def msr(shared_data, tmp_path_factory):
    """A small MSR Action3D clip model and three held-out clips written as pose CSVs."""
    from skelbehave.datasets import load_msr_action3d

    ds = load_msr_action3d(shared_data / "msr_action3d")
    keep = np.flatnonzero(np.isin(ds.labels, [1, 5, 10, 13]))
    X = [ds.sequences[i] for i in keep]
    y = np.array([f"a{v}" for v in ds.labels[keep]])
    model = skelbehave.fit(X[::2], y[::2], random_state=0, n_clusters=4)
    folder = tmp_path_factory.mktemp("msr_poses")
    paths = []
    for k, s in enumerate(X[1::2][:3]):
        paths.append(folder / f"clip{k}.pose.csv")
        write_poses(paths[-1], [s])
    return model, paths, X[1::2][:3]


def _tables(out) -> list[pd.DataFrame]:
    return [pd.read_csv(p) for p in sorted(out.glob("*.predictions.csv"))]


def test_clip_rows_below_the_bar_are_unknown(msr, tmp_path):
    model, paths, seqs = msr
    P = model.predict_proba(seqs)
    tops = np.sort(P.max(axis=1))
    bar = float(tops[0] + tops[1]) / 2  # between two clips' top probabilities: one clip falls below it
    plain = _tables_of(score_files(model, paths, tmp_path / "a", output_format="csv", progress=False))
    bars = score_files(model, paths, tmp_path / "b", output_format="csv", min_confidence=bar, progress=False)
    assert (bars["status"] == "done").all()
    got = _tables_of(bars)
    for a, b in zip(plain, got, strict=True):
        top = b[[c for c in b.columns if c.startswith("proba_")]].max(axis=1).to_numpy()
        np.testing.assert_allclose(top, a[[c for c in a.columns if c.startswith("proba_")]].max(axis=1))
        low = top < bar
        assert (b["label"][low] == UNKNOWN).all()
        assert (b["label"][~low] == a["label"][~low]).all()
    assert sum((t["label"] == UNKNOWN).sum() for t in got) >= 1


def _tables_of(manifest: pd.DataFrame) -> list[pd.DataFrame]:
    return [pd.read_csv(p) for p in manifest.sort_values("input")["output"]]


def test_frame_rows_and_the_cli(tmp_path):
    from skelbehave.datasets import load_precog

    ds = load_precog()
    tr = np.flatnonzero(np.isin(ds.subjects, [1, 2, 3]))
    model = skelbehave.FrameLevelModel(
        window=31, classifier_params={"n_estimators": 20}, context_folds=2, random_state=0
    )
    model.fit([ds.sequences[i] for i in tr], [ds.label_names[i] for i in tr])
    path = tmp_path / "rec.pose.csv"
    write_poses(path, [ds.sequences[int(np.flatnonzero(ds.subjects == 9)[0])]])
    model_path = model.save(tmp_path / "m.skb")
    assert main(["score", str(model_path), str(path), "--out", str(tmp_path / "o"),
                 "--min-confidence", "1", "--output-format", "csv", "--no-progress"]) == 0  # fmt: skip
    (table,) = _tables(tmp_path / "o")
    labelled = table["label"].notna()
    top = table[[c for c in table.columns if c.startswith("proba_")]].max(axis=1)
    below = labelled & (top < 1)
    assert below.sum() > 10 and (table["label"][below] == UNKNOWN).all()
    assert not (table["label"][labelled & (top >= 1)] == UNKNOWN).any()
    assert table["label"][~labelled].isna().all()  # absent frames stay without a label
    # the Python API gives the same frames "unknown" as the table, at a bar between the two
    rec = skelbehave.io.read_poses(path)
    bar = float(np.median(top[labelled]))
    pred = model.predict(rec, min_confidence=bar)[0]
    plain = model.predict(rec)[0]
    direct = model.predict_table(rec)
    dtop = direct[[c for c in direct.columns if c.startswith("proba_")]].max(axis=1).to_numpy()
    low = direct["label"].notna().to_numpy() & (dtop < bar)
    assert 0 < low.sum() < len(pred)
    assert (pred[low] == UNKNOWN).all() and (pred[~low] == plain[~low]).all()


def test_bad_bar_is_one_line(msr, tmp_path, capsys):
    model, paths, _ = msr
    model_path = model.save(tmp_path / "m.skb")
    with pytest.raises(SystemExit):
        main(["score", str(model_path), str(paths[0]), "--out", str(tmp_path / "o"),
              "--min-confidence", "80"])  # fmt: skip
    assert "must be a number in [0, 1]" in capsys.readouterr().err
    with pytest.raises(skelbehave.SkelbehaveError, match="min_confidence"):
        score_files(model, paths, tmp_path / "p", min_confidence=1.5, progress=False)


def test_evaluate_writes_the_coverage_accuracy_curve(msr, tmp_path):
    from skelbehave.workflows import evaluate_model

    model, _, _ = msr
    model_path = model.save(tmp_path / "m.skb")
    evaluate_model(model_path, "msr_action3d", subjects="6,8", report_dir=tmp_path / "rep")
    curve = pd.read_csv(tmp_path / "rep" / "coverage_accuracy.csv")
    assert curve["threshold"].iloc[0] == 0 and curve["coverage"].iloc[0] == 1
    assert (np.diff(curve["coverage"]) <= 0).all()
    assert (tmp_path / "rep" / "coverage_accuracy.png").stat().st_size > 5_000


def test_clip_model_segments_give_a_summary_and_boris_events(msr, tmp_path):
    """score a long recording with a clip model over sliding windows, then --summary and --events boris."""
    model, _, seqs = msr
    from skelbehave import PoseSequence

    long = PoseSequence(np.concatenate([s.position for s in seqs]), seqs[0].layout, fps=seqs[0].fps)
    path = tmp_path / "long.pose.csv"
    write_poses(path, [long])
    model_path = model.save(tmp_path / "m.skb")
    out = tmp_path / "o"
    argv = ["score", str(model_path), str(path), "--out", str(out), "--window", "1s", "--stride", "0.5s",
            "--summary", "--events", "boris", "--output-format", "csv", "--no-progress"]  # fmt: skip
    assert main(argv) == 0
    summary = pd.read_csv(out / "summary.csv")
    assert summary["frames"].sum() + summary["absent_frames"].iloc[0] == long.n_frames
    assert summary["fraction"].sum() == pytest.approx(1.0)
    from skelbehave.io import read_annotations

    back = read_annotations(out / "long.pose.boris.csv", n_frames=long.n_frames, fps=long.fps)
    from skelbehave.temporal import segment_frames

    frames = segment_frames(pd.read_csv(out / "long.pose.predictions.csv"))
    seen = frames["label"].notna().to_numpy()
    assert seen.sum() > 0.9 * long.n_frames
    assert (back.iloc[:, 0].to_numpy()[frames["frame"].to_numpy()[seen]] == frames["label"][seen]).all()
