"""Reports people look at (issue 17 item 5): evaluate's report folder, score --summary / --events boris.

Real data: the embedded PRECOG streams (a small model trained on subject 1,
evaluated and scored on subject 10) and rat recordings read from the folder
as the data set's authors publish it (Caltech annotations, gaps in the tracking).
"""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
import pytest

matplotlib.use("Agg")

from matplotlib.image import imread
from sklearn.metrics import precision_recall_fscore_support

from skelbehave.cli import main
from skelbehave.datasets import load_precog
from skelbehave.evaluation import summarize_predictions
from skelbehave.io import write_poses
from skelbehave.io.annotations import read_boris_events
from skelbehave.pipeline import FrameLevelModel
from skelbehave.plots import plot_ethogram
from skelbehave.temporal import absent_labels, segments
from skelbehave.workflows import evaluate_model


@pytest.fixture(scope="module")
def precog_model(tmp_path_factory) -> Path:
    ds = load_precog()
    tr = ds.subset(np.flatnonzero(ds.subjects == 1))
    model = FrameLevelModel(classifier_params={"n_estimators": 8}, random_state=0).fit(
        tr.sequences, tr.label_names
    )
    path = tmp_path_factory.mktemp("reports") / "precog.skb"
    model.save(path)
    return path


def _png(path: Path) -> np.ndarray:
    assert path.exists() and path.stat().st_size > 10_000, path
    img = imread(path)
    assert img.ndim == 3 and img.shape[0] >= 200 and img.shape[1] >= 300, img.shape
    assert img[..., :3].std() > 0.05  # not a blank canvas
    return img


# ----------------------------------------------------------------------------- evaluate
def test_evaluate_writes_figures_and_consistent_tables(precog_model, tmp_path):
    rep_dir = tmp_path / "report"
    table = evaluate_model(precog_model, "precog", subjects="10", report_dir=rep_dir)
    names = [f"Seq{k}_10" for k in range(1, 7)]
    assert sorted(p.name for p in rep_dir.glob("ethogram_*.png")) == sorted(
        f"ethogram_{n}.png" for n in names
    )
    _png(rep_dir / "confusion_matrix.png")
    for n in names:
        _png(rep_dir / f"ethogram_{n}.png")
    metrics = pd.read_csv(rep_dir / "metrics.csv", index_col=0)
    assert np.allclose(metrics["frame_f1"], table["frame_f1"])

    # per-class precision / recall / F1 = scikit-learn's on the same frames
    ds = load_precog()
    sub = ds.subset(np.flatnonzero(ds.subjects == 10))
    from skelbehave import load

    pred = load(precog_model).predict(sub.sequences)
    yt, yp = np.concatenate(sub.label_names), np.concatenate(pred)
    scored = ~absent_labels(yp)  # frames without a pose are not scored (Seq2_10 holds no skeleton)
    assert 0 < scored.sum() < len(yt)
    yt, yp = yt[scored], yp[scored]
    per = pd.read_csv(rep_dir / "per_class.csv", index_col=0)
    p, r, f, _ = precision_recall_fscore_support(yt, yp, labels=per.index.tolist(), zero_division=0.0)
    assert np.allclose(per["precision"], p) and np.allclose(per["recall"], r) and np.allclose(per["f1"], f)
    assert per["support"].sum() == len(yt)
    # macro frame F1 over the behaviours (background 'no action' left out) matches the per-class table
    beh = [c for c in per.index if c != "no action"]
    assert np.isclose(metrics.loc["macro", "frame_f1"], per.loc[beh, "f1"].mean())

    bouts = pd.read_csv(rep_dir / "bouts.csv")
    assert set(bouts["source"]) == {"predicted", "annotated"} and set(bouts["file"]) == set(names)
    g = bouts.groupby(["file", "source"])
    budget, present = g["fraction"].sum(), g["present_frames"].first()
    assert np.allclose(budget[present > 0], 1.0)
    # Seq2_10 and Seq4_10 hold no skeleton in any frame: predicted nothing, in no time budget
    assert budget[present == 0].index.tolist() == [("Seq2_10", "predicted"), ("Seq4_10", "predicted")]
    assert (budget[present == 0] == 0.0).all()
    for k, n in enumerate(names):
        got = bouts[(bouts["file"] == n) & (bouts["source"] == "predicted")].set_index("label")["bouts"]
        want = segments(pred[k])["label"].value_counts()
        assert all(got.get(c, 0) == want.get(c, 0) for c in set(got.index) | set(want.index)), n
        annotated = bouts[(bouts["file"] == n) & (bouts["source"] == "annotated")]
        assert annotated["frames"].sum() == len(sub.label_names[k])


def test_evaluate_cli_report_folder_and_table_only(precog_model, tmp_path, capsys):
    out = tmp_path / "rep"
    assert main(["evaluate", str(precog_model), "precog", "--subjects", "12", "--out", str(out)]) == 0
    assert "report written to" in capsys.readouterr().out
    assert {p.name for p in out.iterdir()} >= {
        "confusion_matrix.png",
        "per_class.csv",
        "bouts.csv",
        "metrics.csv",
    }
    assert len(list(out.glob("ethogram_*.png"))) == 6
    assert (
        main(["evaluate", str(precog_model), "precog", "--subjects", "12", "--out", str(tmp_path / "t.csv")])
        == 0
    )
    assert (tmp_path / "t.csv").is_file() and not (tmp_path / "confusion_matrix.png").exists()
    (tmp_path / "afile").write_text("x")
    assert (
        main(["evaluate", str(precog_model), "precog", "--subjects", "12", "--out", str(tmp_path / "afile")])
        == 1
    )
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "--out" in err


def test_rat_social_from_the_published_folder_fits_and_reports(shared_data, tmp_path, capsys):
    """`fit rat_social` / `evaluate` on dlc_csv/ + annotations/ only (no labels_per_frame/), gaps included."""
    rat = shared_data / "rat_social_dlc"
    pub = tmp_path / "data" / "rat_social_dlc"
    (pub / "dlc_csv").mkdir(parents=True)
    (pub / "annotations").mkdir()
    for n in (2, 9):
        f = next((rat / "dlc_csv").glob(f"{n}DLC_*.csv"))
        os.symlink(f, pub / "dlc_csv" / f.name)
        os.symlink(rat / "annotations" / f"{n}_annot.txt", pub / "annotations" / f"{n}_annot.txt")
    model = tmp_path / "rat.skb"
    fit = ["fit", "rat_social", "--root", str(tmp_path / "data"), "--subjects", "2", "--fit-stride", "8"]
    assert main([*fit, "--classifier-params", "n_estimators=5", "--out", str(model), "--no-progress"]) == 0
    assert "['aggression', 'nonsocial', 'social']" in capsys.readouterr().out  # 'base' ignored, as registered
    out = tmp_path / "rep"
    assert main(["evaluate", str(model), "rat_social", "--root", str(tmp_path / "data"), "--subjects", "9",
                 "--out", str(out)]) == 0  # fmt: skip
    _png(out / "ethogram_recording-9.png")
    bouts = pd.read_csv(out / "bouts.csv")
    pred = bouts[bouts["source"] == "predicted"]
    assert (pred["absent_frames"] > 0).all()  # the rats leave the tracking: absent frames are in no budget
    assert np.isclose(pred["fraction"].sum(), 1.0)
    assert (pred["present_frames"] + pred["absent_frames"]).nunique() == 1


# ----------------------------------------------------------------------------- score --summary / --events
@pytest.fixture(scope="module")
def precog_pose_files(tmp_path_factory) -> list[Path]:
    d = tmp_path_factory.mktemp("precog_poses")
    ds = load_precog()
    out = []
    for s in ds.sequences:
        if s.meta["subject"] == 10 and s.meta["script"] in (1, 2, 3):  # Seq2_10 holds no skeleton at all
            seq = s.copy()
            if s.meta["script"] == 3:
                seq.position[30:130] = np.nan  # nobody in view for a while
            out.append(write_poses(d / s.meta["name"].replace(".csv", ".pose.csv"), seq))
    return out


def test_score_summary_and_boris_events(precog_model, precog_pose_files, tmp_path, capsys):
    out = tmp_path / "pred"
    args = ["score", str(precog_model), *map(str, precog_pose_files), "--out", str(out), "--no-progress"]
    assert main([*args, "--output-format", "csv", "--summary", "--events", "boris"]) == 0
    assert "3 of 3 files scored" in capsys.readouterr().out
    summary = pd.read_csv(out / "summary.csv")
    assert set(summary["file"]) == {"Seq1_10.pose", "Seq2_10.pose", "Seq3_10.pose"}
    budget = summary.groupby("file")["fraction"].sum()
    assert np.allclose(budget[["Seq1_10.pose", "Seq3_10.pose"]], 1.0)
    assert budget["Seq2_10.pose"] == 0.0  # nobody in any frame: no time budget, no bout
    assert (summary[summary["file"] == "Seq2_10.pose"][["bouts", "present_frames"]] == 0).all().all()
    assert len(pd.read_csv(out / "Seq2_10.pose.boris.csv")) == 0
    for f in precog_pose_files:
        stem = f.name[: -len(".csv")]
        table = pd.read_csv(out / f"{stem}.predictions.csv")
        mine = summary[summary["file"] == stem]
        assert (mine["absent_frames"] == int(table["absent"].sum())).all()
        assert (mine["present_frames"] == int((~table["absent"]).sum())).all()
        labels = table["label"].where(~table["absent"], "no_pose").to_numpy(dtype=object)
        want = segments(labels)["label"].value_counts()
        got = mine.set_index("label")["bouts"]
        assert all(got.get(c, 0) == want.get(c, 0) for c in set(got.index) | set(want.index))
        assert np.allclose(mine["seconds"], mine["frames"] / 30.0)
        if stem != "Seq2_10.pose":
            back = read_boris_events(out / f"{stem}.boris.csv", fill="no_pose", n_frames=len(table))
            assert np.array_equal(back.iloc[:, 0].to_numpy(), labels)
    assert summary[summary["file"] == "Seq3_10.pose"]["absent_frames"].iloc[0] >= 50
    # the library gives the same table as the CLI wrote
    lib = summarize_predictions(sorted(out.glob("*.predictions.csv")))
    assert np.allclose(lib["fraction"].to_numpy(), summary["fraction"].to_numpy())


def test_summary_of_clip_segments_counts_each_frame_once(tmp_path):
    """A clip model's segments: every frame counted once, with its nearest segment's label."""
    t = pd.DataFrame(
        {"input": ["a.csv"] * 3, "individual": [0] * 3, "start_frame": [0, 5, 10], "stop_frame": [10, 15, 20],
         "start_time": [0.0, 0.5, 1.0], "stop_time": [1.0, 1.5, 2.0], "label": ["x", "y", None]}
    )  # fmt: skip
    s = summarize_predictions([t])
    assert s["frames"].sum() + s["absent_frames"].iloc[0] == 20  # 0..19, the unlabelled tail absent
    assert s.set_index("label")["frames"].to_dict() == {"x": 8, "y": 5}  # frame 7.5 is nearer to x's centre
    assert s["fraction"].sum() == pytest.approx(1.0)
    with pytest.raises(Exception, match="frame-level predictions table"):
        summarize_predictions([pd.DataFrame({"input": ["a.csv"], "label": ["x"]})])


# ----------------------------------------------------------------------------- legible figures
def test_ethogram_legend_colours_match_the_bars():
    from matplotlib.patches import Rectangle

    ax = plot_ethogram(["a", "a", "b", "c", "c"], true_labels=["a", "b", "b", "c", "c"], fps=10.0, title="t")
    leg = ax.get_legend()
    assert [t.get_text() for t in leg.get_texts()] == ["predicted (colour of its row)", "annotated"]
    swatches = [tuple(np.round(p.get_facecolor(), 3)) for p in leg.findobj(Rectangle)]
    bars = [tuple(np.round(c.get_facecolor()[0], 3)) for c in ax.collections]
    predicted = [b for b in bars if b[:3] != (0.0, 0.0, 0.0)]
    annotated = {b for b in bars if b[:3] == (0.0, 0.0, 0.0)}
    assert len(set(predicted)) == 3 and set(predicted) <= set(
        swatches
    )  # one colour per row, all in the legend
    assert annotated <= set(swatches)  # the annotation's swatch is the annotation bars' colour and alpha
    assert not any(s[0] == s[1] == s[2] and 0 < s[0] < 1 for s in swatches)  # no grey swatch
    assert (
        ax.get_xlabel() == "time [s]" and ax.get_ylabel() == "behaviour" and ax.get_title(loc="left") == "t"
    )
