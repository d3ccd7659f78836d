"""Annotation files as per-frame labels: Caltech Behavior Annotator, BORIS, label CSVs (issue 17 item 2).

Real files: the rat social data set's Caltech annotations against the
per-frame CSVs the project derived from them, the data set folder as its
authors publish it (no ``labels_per_frame/``), and BORIS files written from
real predictions and read back.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from skelbehave.cli import main
from skelbehave.datasets import load_rat_social
from skelbehave.errors import ParameterError, PoseDataError
from skelbehave.io.annotations import (
    annotation_streams,
    detect_annotation_format,
    read_annotations,
    read_boris_events,
    write_boris_events,
)
from skelbehave.temporal import runs
from skelbehave.workflows import load_labelled

RECORDINGS = range(1, 13)
N = 900  # frames of the pose slices used for fit / evaluate
START = 3000


@pytest.fixture(scope="module")
def rat(shared_data) -> Path:
    return shared_data / "rat_social_dlc"


# ----------------------------------------------------------------------------- Caltech vs the derived CSVs
@pytest.mark.parametrize("n", RECORDINGS)
def test_caltech_equals_the_derived_per_frame_csv(rat, n):
    ann = read_annotations(rat / "annotations" / f"{n}_annot.txt")
    csv = read_annotations(rat / "labels_per_frame" / f"{n}_labels.csv")
    assert ann.attrs["format"] == "caltech" and csv.attrs["format"] == "frame_csv"
    assert list(ann.columns) == list(csv.columns)  # S1 (and S2 where annotated)
    L = len(csv)
    for c in csv.columns:
        assert np.array_equal(ann[c].to_numpy()[:L], csv[c].to_numpy()), (n, c)
    # the CSVs stop where the pose file stops; recordings 1, 7, 10 drop one more frame the annotation covers
    extra = {1: 1, 7: 1, 8: 7, 10: 1}.get(n, 0)
    assert len(ann) - L == extra
    assert not (ann.to_numpy() == "other").any()  # the annotator's ranges cover every frame


def test_caltech_ranges_are_one_based_and_inclusive(rat):
    ann = read_annotations(rat / "annotations" / "1_annot.txt")
    # "1 535 base", "536 961 social": frame 534 (0-based) is the last base frame, 535 the first social one
    assert (
        ann["S1"].iloc[534] == "base" and ann["S1"].iloc[535] == "social" and ann["S1"].iloc[960] == "social"
    )
    assert ann["S1"].iloc[961] == "nonsocial"
    s, e, v = runs(ann["S1"].to_numpy())
    assert (s[0], e[0], v[0]) == (0, 535, "base") and len(s) == 70


# ----------------------------------------------------------------------------- the data set as published
def test_rat_social_loads_from_the_published_folder(rat, tmp_path):
    pub = tmp_path / "rat_social_dlc"
    (pub / "dlc_csv").mkdir(parents=True)
    (pub / "annotations").mkdir()
    for n in (1, 2, 4, 8):
        f = next((rat / "dlc_csv").glob(f"{n}DLC_*.csv"))
        os.symlink(f, pub / "dlc_csv" / f.name)
        os.symlink(rat / "annotations" / f"{n}_annot.txt", pub / "annotations" / f"{n}_annot.txt")
    full = load_rat_social(rat)
    mine = load_rat_social(pub)
    assert mine.subjects.tolist() == [1, 2, 4, 8]
    for seq, y in zip(mine.sequences, mine.labels, strict=True):
        n = seq.meta["recording"]
        k = full.subjects.tolist().index(n)
        yf = full.labels[k]
        assert seq.meta["labels_from"].endswith(f"{n}_annot.txt")
        if n == 1:  # the annotation labels the last pose frame, which the derived CSV lacks
            assert len(y) == len(yf) + 1 and np.array_equal(y[:-1], yf)
            assert seq.n_frames == full.sequences[k].n_frames + 1
        else:
            assert np.array_equal(y, yf), n
            assert np.array_equal(seq.position, full.sequences[k].position, equal_nan=True)
    assert mine.sequences[-1].meta["dropped_unposed_label_frames"] == 7  # recording 8
    s2 = load_rat_social(pub, stream="S2")
    assert s2.subjects.tolist() == [1, 2, 8] and s2.info["skipped_recordings"] == [4]


def test_rat_social_caltech_label_of_another_stream_is_named(rat, tmp_path):
    pub = tmp_path / "rat_social_dlc"
    (pub / "dlc_csv").mkdir(parents=True)
    (pub / "annotations").mkdir()
    f = next((rat / "dlc_csv").glob("2DLC_*.csv"))
    os.symlink(f, pub / "dlc_csv" / f.name)
    text = (
        (rat / "annotations" / "2_annot.txt")
        .read_text()
        .replace("\t635\t1034\tsocial\n", "\t635\t1034\tfreezing\n")
    )
    (pub / "annotations" / "2_annot.txt").write_text(text)
    with pytest.raises(PoseDataError, match=r"2_annot.txt: stream S1: \['freezing'\] are not S1 behaviours"):
        load_rat_social(pub)


def test_rat_social_without_any_labels_names_both_places(rat, tmp_path):
    pub = tmp_path / "rat_social_dlc"
    (pub / "dlc_csv").mkdir(parents=True)
    f = next((rat / "dlc_csv").glob("2DLC_*.csv"))
    os.symlink(f, pub / "dlc_csv" / f.name)
    with pytest.raises(PoseDataError, match=r"labels_per_frame.*annotations"):
        load_rat_social(pub)


# ----------------------------------------------------------------------------- BORIS
def _boris_text(sep: str) -> str:
    head = ["Observation id", "Media FPS", "Subject", "Behavior", "Behavior type", "Start (s)", "Stop (s)"]
    rows = [
        ["obs1", "10", "rat1", "groom", "STATE", "0.100", "0.400"],
        ["obs1", "10", "rat1", "rear", "STATE", "0.400", "0.500"],
        ["obs1", "10", "rat2", "sniff", "STATE", "0.000", "0.200"],
        ["obs1", "10", "rat2", "squeak", "POINT", "0.300", "0.300"],
    ]
    return "\n".join(sep.join(r) for r in [head, *rows]) + "\n"


@pytest.mark.parametrize("ext,sep", [(".csv", ","), (".tsv", "\t")])
def test_boris_aggregated_events_csv_and_tsv(tmp_path, ext, sep):
    f = tmp_path / f"events{ext}"
    f.write_text(_boris_text(sep))
    assert detect_annotation_format(f) == "boris" and annotation_streams(f) == ["rat1", "rat2"]
    df = read_annotations(f, n_frames=6)
    assert df.attrs["fps"] == 10.0  # from the Media FPS column
    assert df["rat1"].tolist() == ["other", "groom", "groom", "groom", "rear", "other"]
    assert df["rat2"].tolist() == ["sniff", "sniff", "other", "other", "other", "other"]  # POINT skipped
    assert read_annotations(f, fps=20, fill="none")["rat1"].tolist()[:4] == ["none", "none", "groom", "groom"]


def test_boris_tabular_events_start_stop(tmp_path):
    f = tmp_path / "tabular.csv"
    f.write_text(
        "Observation id,FPS,Subject,Behavior,Status,Time\n"
        "o,25,,walk,START,0.04\no,25,,walk,STOP,0.12\no,25,,rest,START,0.12\no,25,,rest,STOP,0.2\n"
    )
    df = read_annotations(f)
    assert list(df.columns) == ["No focal subject"]  # BORIS's name for an empty subject
    assert df.iloc[:, 0].tolist() == ["other", "walk", "walk", "rest", "rest"]


def test_boris_tabular_events_after_a_preamble(tmp_path):
    """Older BORIS tabular exports put the observation's details before the table."""
    f = tmp_path / "old.tsv"
    f.write_text(
        "Observation id\tobs7\nObservation date\t2019-05-02\n\nMedia file(s)\nPlayer #1\tv.mp4\n\n"
        "Time\tMedia file path\tTotal length\tFPS\tSubject\tBehavior\tBehavioral category\tComment\tStatus\n"
        "0.1\tv.mp4\t1.0\t10.0\tmouse\tgroom\t\t\tSTART\n0.3\tv.mp4\t1.0\t10.0\tmouse\tgroom\t\t\tSTOP\n"
        "0.5\tv.mp4\t1.0\t10.0\tmouse\tgroom\t\t\tSTOP\n"
    )
    assert detect_annotation_format(f) == "boris"
    with pytest.raises(PoseDataError, match=r"old.tsv, line 10.*stops without a START"):
        read_annotations(f)
    f.write_text("".join(f.read_text().splitlines(keepends=True)[:-1]))
    assert read_annotations(f, n_frames=4)["mouse"].tolist() == ["other", "groom", "groom", "other"]


@pytest.mark.parametrize(
    "text,match",
    [
        ("Subject,Behavior,Start (s),Stop (s)\na,x,0,1\n", "states no one frame rate"),
        ("Subject,Behavior,Start (s),Stop (s),FPS\na,x,0,1,10\na,y,0.5,2,10\n", "line 3.*overlaps"),
        ("Subject,Behavior,Start (s),Stop (s),FPS\na,x,zero,1,10\n", "line 2.*Start"),
        ("Subject,Behavior,Status,Time,FPS\na,x,START,0,10\n", "never stops"),
        ("Subject,Behavior,Time\na,x,0\n", "Start \\(s\\)"),
    ],
)
def test_bad_boris_files_name_file_line_and_field(tmp_path, text, match):
    f = tmp_path / "bad.csv"
    f.write_text(text)
    with pytest.raises((PoseDataError, ParameterError), match=match) as exc:
        read_annotations(f)
    assert "bad.csv" in str(exc.value)


def test_bad_caltech_files(tmp_path):
    f = tmp_path / "x_annot.txt"
    head = "Caltech Behavior Annotator - Annotation File\n\nConfiguration file:\nbase\tz\nsocial\ts\n\n"
    f.write_text(head + "S1:\tstart\tend\ttype\n---\n\t1\t10\tbase\n\t8\t12\tsocial\n")
    with pytest.raises(PoseDataError, match=r"line 10.*overlaps.*line 9"):
        read_annotations(f)
    f.write_text(head + "S1:\tstart\tend\ttype\n---\n\t1\t10\tbiting\n")
    with pytest.raises(PoseDataError, match=r"line 9.*'biting' is not in the configuration"):
        read_annotations(f)
    f.write_text(head + "S1:\tstart\tend\ttype\n---\n\t0\t10\tbase\n")
    with pytest.raises(PoseDataError, match="1-based"):
        read_annotations(f)
    f.write_text("frame;label\n")
    with pytest.raises(PoseDataError, match="unknown annotation format"):
        read_annotations(f)


# ----------------------------------------------------------------------------- round trips, real predictions
@pytest.fixture(scope="module")
def precog_predictions(tmp_path_factory):
    """Real predictions: a small PRECOG model scoring one test stream of subject 10 (individual column)."""
    from skelbehave.batch import score_sequences
    from skelbehave.datasets import load_precog
    from skelbehave.pipeline import FrameLevelModel

    ds = load_precog()
    tr = ds.subset(np.flatnonzero(ds.subjects == 1))
    model = FrameLevelModel(classifier_params={"n_estimators": 8}, random_state=0).fit(
        tr.sequences, tr.label_names
    )
    te = ds.subset(np.flatnonzero(ds.subjects == 10))
    seq = te.sequences[0]
    seq.position[60:150] = np.nan  # nobody in view for 3 s: those frames are absent (no label)
    return score_sequences(model, [seq]), seq.fps


def test_boris_round_trip_of_real_predictions(precog_predictions, tmp_path):
    table, fps = precog_predictions
    assert "individual" in table.columns and table["absent"].sum() > 0
    labels = table["label"].where(~table["absent"], "no_pose").to_numpy(dtype=object)
    assert len(set(labels) - {"no_pose"}) >= 2
    for name in ("pred.boris.csv", "pred.boris.tsv"):
        f = write_boris_events(table, tmp_path / name, fps=fps)
        back = read_boris_events(f, fill="no_pose", n_frames=len(table))
        assert list(back.columns) == [str(table["individual"].iloc[0])]
        assert np.array_equal(back.iloc[:, 0].to_numpy(), labels)
    ev = pd.read_csv(tmp_path / "pred.boris.csv")
    v = runs(labels)[2]
    assert len(ev) == int((v != "no_pose").sum())  # one STATE row per bout; absent stretches none
    assert set(ev["Behavior type"]) == {"STATE"} and ev["Observation id"].iloc[0] == "pred"


def test_boris_round_trip_of_the_real_rat_annotation(rat, tmp_path):
    ann = read_annotations(rat / "annotations" / "5_annot.txt")
    table = pd.DataFrame({"frame": np.arange(len(ann)), "label": ann["S2"].to_numpy()})
    f = write_boris_events(table, tmp_path / "5.boris.csv", fps=30.0)
    assert np.array_equal(read_annotations(f)["No focal subject"].to_numpy(), ann["S2"].to_numpy())


# ----------------------------------------------------------------------------- everywhere labels are taken
@pytest.fixture(scope="module")
def rat_slices(rat, tmp_path_factory):
    """Frames START..START+N of two recordings as DLC CSVs, with the S1 labels in all three formats."""
    d = tmp_path_factory.mktemp("ratann")
    out = []
    for n in (5, 8):
        src = next((rat / "dlc_csv").glob(f"{n}DLC_*.csv"))
        lines = src.read_text().splitlines(keepends=True)
        pose = d / f"rat{n}.csv"
        pose.write_text("".join(lines[:4] + lines[4 + START : 4 + START + N]))
        y = read_annotations(rat / "annotations" / f"{n}_annot.txt")["S1"].to_numpy()[START : START + N]
        csv = d / f"rat{n}_labels.csv"
        pd.DataFrame({"frame": range(N), "S1": y}).to_csv(csv, index=False)
        s, e, v = runs(y)
        body = "".join(f"\t{a + 1}\t{b}\t{lab}\n" for a, b, lab in zip(s, e, v, strict=True))
        txt = d / f"rat{n}_annot.txt"
        txt.write_text(
            "Caltech Behavior Annotator - Annotation File\n\nConfiguration file:\nbase\tz\nsocial\ts\n"
            f"nonsocial\te\naggression\ta\n\nS1:\tstart\tend\ttype\n-----------------------------\n{body}\n"
        )
        boris = write_boris_events(pd.DataFrame({"frame": range(N), "label": y}), d / f"rat{n}.tsv", fps=30.0)
        out.append({"pose": pose, "csv": csv, "caltech": txt, "boris": boris, "y": y})
    return out


def test_load_labelled_gives_the_same_labels_from_every_format(rat_slices):
    for fmt, col in (("csv", "S1"), ("caltech", "S1"), ("boris", None)):
        recs, ys = load_labelled([r["pose"] for r in rat_slices], [r[fmt] for r in rat_slices],
                                 label_column=col, fps=30.0)  # fmt: skip
        for y, r in zip(ys, rat_slices, strict=True):
            assert np.array_equal(y, r["y"]), fmt
        assert [rec[0].n_frames for rec in recs] == [N, N]


def test_fit_and_evaluate_cli_take_caltech_and_boris_labels(rat_slices, tmp_path, capsys):
    model = tmp_path / "rat.skb"
    args = [
        "fit",
        str(rat_slices[0]["pose"]),
        "--labels",
        str(rat_slices[0]["caltech"]),
        "--label-column",
        "S1",
    ]
    args += ["--fps", "30", "--window", "0.5s", "--classifier-params", "n_estimators=8", "--no-progress"]
    assert main([*args, "--ignore-labels", "base", "--out", str(model)]) == 0
    assert "FrameLevelModel" in capsys.readouterr().out
    ev = ["evaluate", str(model), str(rat_slices[1]["pose"]), "--labels", str(rat_slices[1]["boris"])]
    assert main([*ev, "--fps", "30", "--out", str(tmp_path / "rep.csv")]) == 0
    out = capsys.readouterr().out
    assert "macro" in out and "accuracy" in out
    rep = pd.read_csv(tmp_path / "rep.csv", index_col=0)
    assert 0.0 <= rep.loc["macro", "frame_f1"] <= 1.0


def test_bad_label_files_end_in_one_line(rat_slices, tmp_path, capsys):
    bad = tmp_path / "bad_annot.txt"
    bad.write_text(
        "Caltech Behavior Annotator - Annotation File\n\nS1:\tstart\tend\ttype\n---\n\t5\t2\tbase\n"
    )
    pose = str(rat_slices[0]["pose"])
    assert main(["fit", pose, "--labels", str(bad), "--fps", "30", "--out", str(tmp_path / "m.skb")]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "bad_annot.txt" in err and "line 5" in err
    assert main(["fit", pose, "--labels", str(rat_slices[0]["caltech"]), "--label-column", "S9",
                 "--out", str(tmp_path / "m.skb")]) == 1  # fmt: skip
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "--label-column 'S9'" in err and "['S1']" in err
