"""Loaders of the continuous recordings with frame labels: PRECOG, rat social (DLC), CalMS21."""

from __future__ import annotations

import logging
import re
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import ParameterError, PoseDataError, PoseFileNotFoundError
from ..io.annotations import read_annotations
from ..io.dlc import read_dlc_csv
from ..io.filenames import ids_from_name
from ..io.frame_labels import label_codes, read_frame_label_csv
from ..io.precog import pack_positions, read_precog_csv, read_precog_npz
from ..layouts import JointLayout
from ..poses import PoseSequence
from .base import (
    CALMS21_ACTIONS,
    KINECT_FPS,
    PRECOG_ACTIONS,
    PRECOG_CITATION,
    RAT_FPS,
    RAT_STREAMS,
    TRAIN_SUBJECTS,
    Dataset,
    _progress,
    _resolve,
)

__all__ = [
    "build_embedded_precog",
    "demo_summary",
    "load_calms21",
    "load_precog",
    "load_rat_social",
    "precog_segments",
]

logger = logging.getLogger(__name__)


# ----------------------------------------------------------------------------- PRECOG
def _precog_from_csv(folder: Path, progress: bool):
    files = sorted(folder.glob("Seq*_*.csv"), key=lambda p: ids_from_name(r"Seq(\d+)_(\d+)\.csv", p.name, p))
    if not files:
        raise PoseFileNotFoundError("no SeqK_P.csv files", path=folder)
    out = []
    for f in _progress(files, progress, "PRECOG"):
        k, p = ids_from_name(r"Seq(\d+)_(\d+)\.csv", f.name, f)
        pos, lab = read_precog_csv(f)
        out.append((f.name, k, p, pos, lab, str(f)))
    return out


_EMBEDDED = ("skelbehave._data", "precog/precog.npz")


def _precog_embedded():
    ref = resources.files(_EMBEDDED[0]).joinpath(_EMBEDDED[1])
    streams = read_precog_npz(ref.read_bytes(), source=str(ref))
    return [(n, k, p, pos, lab, f"skelbehave:_data/precog/{n}") for n, k, p, pos, lab in streams]


def build_embedded_precog(root, out) -> Path:
    """Write the compact embedded copy of PRECOG (maintainers only).

    Positions are stored as float32 (lossless with respect to float32) with
    the labels, stream offsets, script and subject ids, in an ``.npz`` read
    without pickle.
    """
    folder = _resolve(root, "precog")
    streams = _precog_from_csv(folder, progress=False)
    pos = np.concatenate([s[3] for s in streams]).astype(np.float32)
    lab = np.concatenate([s[4] for s in streams]).astype(np.int8)
    lengths = [len(s[4]) for s in streams]
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        out,
        format_version=np.array(1),
        position_xz=np.frombuffer(pack_positions(pos), dtype=np.uint8),
        n_frames=np.array(len(pos)),
        labels=lab,
        offsets=np.r_[0, np.cumsum(lengths)].astype(np.int64),
        script=np.array([s[1] for s in streams], dtype=np.int16),
        subject=np.array([s[2] for s in streams], dtype=np.int16),
        names=np.array([s[0] for s in streams]),
    )
    return out


def precog_segments(labels, *, bridge: int = 1, min_frames: int = 2) -> list[tuple[int, int, int]]:
    """Labelled segments of a PRECOG label stream: ``(start, stop, label)``, stop exclusive.

    A segment is a maximal run of one non-zero label. Clean-up of label
    flicker (documented in the data set README: two files flicker inside a
    segment): runs of the same label separated by at most ``bridge`` frames of
    0 are joined (the 0 frames are included), and runs shorter than
    ``min_frames`` are dropped. With the defaults the 72 streams give 360
    segments (363 raw runs: one joined, two 1-frame flickers dropped).

    Examples
    --------
    >>> precog_segments([0, 3, 3, 0, 3, 3, 5, 0, 0, 2, 2])
    [(1, 6, 3), (9, 11, 2)]
    """
    y = np.asarray(labels)
    if y.size == 0:
        return []
    ch = np.flatnonzero(np.diff(y)) + 1
    starts, stops = np.r_[0, ch], np.r_[ch, len(y)]
    runs = [[int(s), int(e), int(y[s])] for s, e in zip(starts, stops, strict=True)]
    merged: list[list[int]] = []
    for r in runs:
        if r[2] == 0:
            merged.append(r)
            continue
        if (
            len(merged) >= 2
            and merged[-1][2] == 0
            and merged[-1][1] - merged[-1][0] <= bridge
            and merged[-2][2] == r[2]
        ):
            merged.pop()
            merged[-1][1] = r[1]
        else:
            merged.append(r)
    return [(s, e, lab) for s, e, lab in merged if lab != 0 and e - s >= min_frames]


def load_precog(
    root=None,
    *,
    trimmed: bool = False,
    bridge: int = 1,
    min_frames: int = 2,
    progress: bool = False,
) -> Dataset:
    """PRECOG aggressive actions: 72 continuous Kinect v1 streams with frame labels.

    Parameters
    ----------
    root : path-like, optional
        The ``precog_2016`` folder (or its parent) with the original CSVs.
        Without it, the copy embedded in the package is used (identical
        values at float32 precision; see ``skelbehave/_data/precog/``).
    trimmed : bool
        False: one sequence per stream with per-frame labels (0 = no action).
        True: the labelled segments cut from the streams (:func:`precog_segments`),
        one clip label each.
    bridge, min_frames : int
        Segment clean-up, see :func:`precog_segments`.
    progress : bool
        Show a progress bar while reading CSVs.

    Returns
    -------
    Dataset
        Layout ``kinect_v1``; fps 30 (the Kinect v1 skeleton stream rate; the
        data set files do not state it); all-zero frames (no skeleton) are NaN;
        subjects are P of ``SeqK_P``; split: train on odd subjects 1, 3, ..., 11,
        test on even ones (PRECOG defines no split; the package's convention).

    Examples
    --------
    >>> ds = load_precog()
    >>> len(ds), ds.frame_level
    (72, True)
    >>> seg = load_precog(trimmed=True)
    >>> len(seg), seg.frame_level
    (360, False)
    """
    if root is None:
        streams = _precog_embedded()
        where = "embedded copy (float32)"
    else:
        streams = _precog_from_csv(_resolve(root, "precog"), progress)
        where = "original CSVs"
    seqs, labels, subjects = [], [], []
    for name, k, p, pos, lab, src in streams:
        meta = {"source": src, "name": name, "script": k, "subject": p, "units": "m"}
        seq = PoseSequence(pos, "kinect_v1", fps=KINECT_FPS, meta=meta).mark_zero_frames_missing()
        if not trimmed:
            seqs.append(seq)
            labels.append(lab)
            subjects.append(p)
            continue
        for s, e, y in precog_segments(lab, bridge=bridge, min_frames=min_frames):
            part = seq[s:e]
            part.meta.update(start_frame=s, stop_frame=e, label=y)
            seqs.append(part)
            labels.append(y)
            subjects.append(p)
    class_names = dict(PRECOG_ACTIONS)
    if trimmed:
        del class_names[0]
    return Dataset(
        name="precog_2016",
        sequences=seqs,
        labels=labels,
        subjects=subjects,
        class_names=class_names,
        train_subjects=TRAIN_SUBJECTS["precog_2016"],
        frame_level=not trimmed,
        info={
            "read_from": where,
            "fps": "30, assumed: Kinect v1 skeleton stream rate (not stated in the files)",
            "split": "package convention: train odd subjects, test even subjects",
            "segments": f"precog_segments(bridge={bridge}, min_frames={min_frames})" if trimmed else None,
            "citation": PRECOG_CITATION,
            "licence": "MIT",
        },
    )


# ----------------------------------------------------------------------------- animals (DLC)
def _dyad_layout(name: str, animals: list[str], parts: list[str]) -> JointLayout:
    joints = tuple(f"{a}_{p}" for a in animals for p in parts)
    groups = {a: tuple(f"{a}_{p}" for p in parts) for a in animals}
    partitions = {1: (tuple(animals),), len(animals): tuple((a,) for a in animals)}
    return JointLayout(
        name=name,
        joints=joints,
        root=joints,
        groups=groups,
        partitions=partitions,
        description=f"{len(animals)} animals x {len(parts)} DeepLabCut keypoints, animal by animal",
    )


def _combine(seqs: list[PoseSequence], name: str, src: str, meta: dict) -> PoseSequence:
    parts = list(seqs[0].layout.joints)
    for s in seqs[1:]:
        if list(s.layout.joints) != parts:
            raise PoseDataError(
                f"animals have different keypoints: {parts} vs {list(s.layout.joints)}", path=src
            )
    animals = [re.sub(r"\W+", "_", str(s.meta["person"])).strip("_").lower() for s in seqs]
    layout = _dyad_layout(name, animals, parts)
    pos = np.concatenate([s.position for s in seqs], axis=1)
    conf = np.concatenate([s.confidence for s in seqs], axis=1) if seqs[0].confidence is not None else None
    return PoseSequence(pos, layout, fps=seqs[0].fps, confidence=conf, meta={"source": src, **meta})


def _rat_labels(folder: Path, n: int) -> tuple[dict[str, np.ndarray], Path]:
    """Labels of recording ``n``: the per-frame CSV when the folder has one, else the Caltech annotation."""
    csv = folder / "labels_per_frame" / f"{n}_labels.csv"
    if csv.exists():
        return read_frame_label_csv(csv, ("S1",), optional=("S2",)), csv
    txt = folder / "annotations" / f"{n}_annot.txt"
    if not txt.exists():
        raise PoseFileNotFoundError(
            f"no labels for recording {n}: neither {csv.name} in labels_per_frame/ nor {txt.name} in "
            "annotations/",
            path=txt,
        )
    ann = read_annotations(txt, format="caltech", fill="")
    cols = {c: ann[c].to_numpy(dtype=str) for c in ann.columns}
    for c, v in cols.items():
        if (v == "").any():
            r = int(np.flatnonzero(v == "")[0])
            raise PoseDataError(f"stream {c}: frame {r + 1} (1-based) is in no annotated range", path=txt)
        bad = sorted({str(x) for x in np.unique(v)} - set(RAT_STREAMS.get(c, v)))
        if bad:
            raise PoseDataError(f"stream {c}: {bad} are not {c} behaviours {list(RAT_STREAMS[c])}", path=txt)
    return cols, txt


def load_rat_social(root=None, *, stream: str = "S1", fps: float = RAT_FPS) -> Dataset:
    """Rat dyadic social behaviour: 12 DeepLabCut recordings with frame labels.

    Each recording is one sequence holding both rats (layout ``rat_dyad``:
    ``individual1_top ... individual2_tail-e``, 2-D pixels, groups = animals),
    confidence = DeepLabCut likelihood, missed detections NaN.

    Parameters
    ----------
    root : path-like, optional
        The ``rat_social_dlc`` folder or its parent: ``dlc_csv/`` and the
        labels, from ``labels_per_frame/N_labels.csv`` where present, else from
        the Caltech Behavior Annotator files ``annotations/N_annot.txt`` as the
        data set's authors publish them (see :mod:`skelbehave.io.annotations`).
    stream : {"S1", "S2"}
        Behaviour stream: S1 (base, social, nonsocial, aggression) or S2
        (base, lateralthreat, keepdown, clinch, uprightposture, freezing, bite,
        chase); codes follow :data:`RAT_STREAMS` (0 = base). Recordings 4 and
        9 have no S2 annotations: with ``stream="S2"`` they are left out (and named in
        ``info["skipped_recordings"]``).
    fps : float
        Frame rate; not stated by the data set, 30 is what its authors assume.

    Returns
    -------
    Dataset
        ``subjects`` = recording number; split (package convention, the
        data set defines none): train recordings 1-8, test 9-12. Where the
        label file stops one frame before the pose file (recordings 1, 7 and
        10), the unlabelled last pose frame is dropped
        (``meta["dropped_unlabelled_frames"]``). Read from the Caltech files,
        those three keep their last frame (the annotation covers it), and
        annotated frames past the pose file's end are cut
        (``meta["dropped_unposed_label_frames"]``, recording 8: 7 frames).
        ``meta["labels_from"]`` names the label file.

    Examples
    --------
    >>> ds = load_rat_social()  # doctest: +SKIP
    >>> len(ds), ds.sequences[0].layout.n_joints  # doctest: +SKIP
    (12, 10)
    """
    if stream not in RAT_STREAMS:
        raise ParameterError(f"stream must be one of {list(RAT_STREAMS)}, got {stream!r}")
    folder = _resolve(root, "rat")
    csvs = {}
    for f in (folder / "dlc_csv").glob("*DLC*.csv"):
        m = re.match(r"(\d+)DLC", f.name)
        if m:
            csvs[int(m.group(1))] = f
    if not csvs:
        raise PoseFileNotFoundError("no N...DLC...csv files", path=folder / "dlc_csv")
    seqs, labels, subjects, skipped = [], [], [], []
    for n in sorted(csvs):
        animals = read_dlc_csv(csvs[n], fps=fps)
        cols, lab_path = _rat_labels(folder, n)
        if stream not in cols:
            logger.warning("%s has no %s labels: recording %d left out", lab_path, stream, n)
            skipped.append(n)
            continue
        y = label_codes(cols[stream], RAT_STREAMS[stream], lab_path, stream)
        meta = {"recording": n, "subject": n, "animals": [a.meta["person"] for a in animals], "units": "px"}
        meta["labels_from"] = str(lab_path)
        for other, vals in cols.items():
            if other != stream:
                meta[f"labels_{other}"] = label_codes(vals, RAT_STREAMS[other], lab_path, other)
        seq = _combine(animals, "rat_dyad", str(csvs[n]), meta)
        extra = seq.n_frames - len(y)
        if extra < 0 and lab_path.suffix == ".txt":
            # the annotator's ranges may run past the tracked frames: labels without a pose are cut
            y = y[: seq.n_frames]
            for k in [k for k in seq.meta if k.startswith("labels_")]:
                seq.meta[k] = seq.meta[k][: seq.n_frames]
            seq.meta["dropped_unposed_label_frames"] = -extra
            extra = 0
        if extra < 0 or extra > 1:
            raise PoseDataError(
                f"{lab_path.name} labels {len(y)} frames, the pose file has {seq.n_frames}", path=lab_path
            )
        if extra:
            seq = seq[: len(y)]
            seq.meta["dropped_unlabelled_frames"] = extra
        seqs.append(seq)
        labels.append(y)
        subjects.append(n)
    return Dataset(
        name="rat_social_dlc",
        sequences=seqs,
        labels=labels,
        subjects=subjects,
        class_names=dict(enumerate(RAT_STREAMS[stream])),
        train_subjects=TRAIN_SUBJECTS["rat_social_dlc"],
        frame_level=True,
        info={
            "stream": stream,
            "fps": f"{fps} (not stated by the data set; 30 assumed by its authors)",
            "split": "package convention: train recordings 1-8, test 9-12",
            "skipped_recordings": skipped,
        },
    )


def load_calms21(root=None, *, fps: float = 30.0) -> Dataset:
    """CalMS21 task 1, sequence mouse083: two mice x 7 keypoints, 4,881 labelled frames.

    One sequence holding both mice (layout ``calms21_dyad``: ``resident_nose
    ... intruder_tail_base``, 2-D pixels), labels per frame with the CalMS21
    ids (:data:`CALMS21_ACTIONS`: 0 attack, 1 investigation, 2 mount,
    3 other). 30 Hz (Sun et al., 2021). One recording: no cross-subject split.

    Examples
    --------
    >>> ds = load_calms21()  # doctest: +SKIP
    >>> ds.class_counts()  # doctest: +SKIP
    {'investigation': 1172, 'mount': 597, 'other': 3112}
    """
    folder = _resolve(root, "calms21")
    pose = folder / "mouse083_pose.csv"
    animals = read_dlc_csv(pose, fps=fps)
    lab_path = folder / "mouse083_labels.csv"
    cols = read_frame_label_csv(lab_path, ("label_id", "label"))
    ids = pd.to_numeric(pd.Series(cols["label_id"]), errors="coerce").to_numpy()
    bad = ~np.isin(ids, list(CALMS21_ACTIONS))
    if bad.any():
        r = int(np.flatnonzero(bad)[0])
        raise PoseDataError(
            f"label_id must be one of {sorted(CALMS21_ACTIONS)}, found {cols['label_id'][r]!r}",
            path=lab_path,
            line=r + 2,
            column="label_id",
        )
    ids = ids.astype(np.int64)
    names = np.array([CALMS21_ACTIONS[int(k)] for k in ids])
    if (names != np.char.strip(cols["label"].astype(str))).any():
        r = int(np.flatnonzero(names != cols["label"])[0])
        raise PoseDataError(
            f"label {cols['label'][r]!r} does not match label_id {ids[r]} ({names[r]!r})",
            path=lab_path,
            line=r + 2,
            column="label",
        )
    seq = _combine(animals, "calms21_dyad", str(pose), {"subject": 83, "name": "mouse083", "units": "px"})
    if seq.n_frames != len(ids):
        raise PoseDataError(f"{len(ids)} frame labels for {seq.n_frames} pose frames", path=lab_path)
    return Dataset(
        name="calms21_mouse083",
        sequences=[seq],
        labels=[ids],
        subjects=[83],
        class_names=dict(CALMS21_ACTIONS),
        train_subjects=TRAIN_SUBJECTS["calms21_mouse083"],
        frame_level=True,
        info={"fps": "30 (Sun et al. 2021)", "split": "none (one sequence)"},
    )


def demo_summary(root=None) -> str:
    """A text summary of the PRECOG demo data: streams, frames, subjects, split and segment counts.

    Examples
    --------
    >>> print(demo_summary().splitlines()[0])
    PRECOG aggressive actions (embedded copy, MIT licence)
    """
    streams = load_precog(root)
    segs = load_precog(root, trimmed=True)
    tr, te = streams.train_test_split()
    fps = streams.sequences[0].fps
    lines = [
        "PRECOG aggressive actions (embedded copy, MIT licence)" if root is None else f"PRECOG from {root}",
        f"  {len(streams)} continuous streams, {streams.n_frames} frames "
        f"({streams.n_frames / fps / 60:.1f} min at {fps:g} fps), layout kinect_v1 (20 joints, 3-D)",
        f"  subjects {sorted(set(streams.subjects.tolist()))}; cross-subject split: "
        f"{len(tr)} training / {len(te)} test streams",
        f"  {len(segs)} labelled segments, {np.mean([s.n_frames for s in segs.sequences]):.0f} "
        "frames on average:",
    ]
    counts = segs.class_counts()
    for code, name in segs.class_names.items():
        lines.append(f"    {code} {name:<18} {counts.get(name, 0):4d} segments")
    frames = streams.class_counts()
    lines.append(f"  frames without action: {frames.get('no action', 0)} of {streams.n_frames}")
    lines.append(f"  Cite: {PRECOG_CITATION}")
    return "\n".join(lines)
