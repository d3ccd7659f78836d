"""One-call workflows behind the ``fit``, ``evaluate``, ``info`` and ``demo`` commands.

Each function is what one CLI sub-command does, so the command line and
Python give the same results:

- :func:`fit_model` trains a frame-level model (:class:`~skelbehave.pipeline.FrameLevelModel`)
  on a data set with frame labels (``precog``, ``rat_social``) or on pose
  files with per-frame label CSVs, or a clip-level
  :class:`~skelbehave.pipeline.BehaviorModel` on a clip data set
  (``msr_action3d``, ``utd_mhad``, ``precog_trimmed``); it saves the model.
- :func:`evaluate_model` scores a saved model on a data set split or on
  labelled pose files: frame-level accuracy, macro / per-class F1 and
  segment F1 (frame-level models) or the clip-level report.
- :func:`model_info` reads a model file's metadata without running code.
- :func:`run_demo` trains a frame-level model on the embedded PRECOG streams
  of subjects 1-8, labels every frame of subjects 9-12, evaluates and draws.

Data sets are named as in :data:`skelbehave.datasets.DATASETS` (the one
registry: loader, clip or frame labels, ignored and background labels).
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .errors import ParameterError, PoseDataError

log = logging.getLogger(__name__)

__all__ = [
    "DEMO_MODEL",
    "PREVIOUS_MODEL",
    "evaluate_model",
    "fit_model",
    "is_dataset",
    "load_labelled",
    "model_info",
    "parse_ids",
    "run_demo",
]


def is_dataset(source) -> bool:
    """Whether ``source`` names a data set of :data:`skelbehave.datasets.DATASETS` (not a file).

    Examples
    --------
    >>> is_dataset("precog"), is_dataset(["a.csv"]), is_dataset("no_such_thing")
    (True, False, False)
    """
    from .datasets import get_dataset_spec
    from .errors import UnknownDatasetError

    if not isinstance(source, str) or Path(source).exists():
        return False
    try:
        get_dataset_spec(source)
    except UnknownDatasetError:
        return False
    return True


def parse_ids(text: str | Sequence[int] | None) -> list[int] | None:
    """Subject / recording ids from ``"1-8"``, ``"1,3,5"`` or ``"1-4,9"``.

    Examples
    --------
    >>> parse_ids("1-4,9")
    [1, 2, 3, 4, 9]
    """
    if text is None:
        return None
    if not isinstance(text, str):
        return [int(v) for v in text]
    out: list[int] = []
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        if "-" in part:
            a, b = part.split("-", 1)
            out.extend(range(int(a), int(b) + 1))
        else:
            out.append(int(part))
    return out


def _load_dataset(name: str, root=None):
    """The data set and its registry entry (an unknown name raises UnknownDatasetError)."""
    from .datasets import get_dataset_spec

    spec = get_dataset_spec(name)
    return spec.load(root), spec


def _split_indices(ds, split: str, subjects: Sequence[int] | None) -> np.ndarray:
    if subjects is not None:
        idx = np.flatnonzero(np.isin(ds.subjects, list(subjects)))
        if len(idx) == 0:
            raise PoseDataError(
                f"{ds.name}: no sequence of subjects {list(subjects)}; subjects are "
                f"{sorted(set(ds.subjects.tolist()))}"
            )
        return idx
    if split == "all":
        return np.arange(len(ds))
    tr, te = ds.train_test_split()
    if split == "train":
        return tr
    if split == "test":
        return te
    raise ParameterError(f"split must be 'train', 'test' or 'all', got {split!r}")


def load_labelled(
    poses: Sequence[str | os.PathLike],
    labels: Sequence[str | os.PathLike],
    *,
    label_column: str | None = None,
    fps: float | None = None,
    individual: int | str | list | None = None,
) -> tuple[list[list[Any]], list[np.ndarray]]:
    """Pose files and their per-frame labels (label CSV, Caltech Behavior Annotator or BORIS events).

    Label files are read by :func:`skelbehave.io.annotations.read_annotations`.
    The label column (stream, subject) is ``label_column``, else ``label``,
    else the only one. Returns recordings (lists of PoseSequence, one
    per individual) and label arrays; a label CSV one frame shorter than
    its pose file drops the pose file's last frame; Caltech and BORIS
    intervals are cut or padded to the pose file's frames (uncovered frames:
    ``"other"``). ``individual`` keeps only
    those individuals of each file (see
    :func:`skelbehave.pose.tracking.select_individuals`).
    """
    from .io import read_poses
    from .io.annotations import detect_annotation_format, read_annotations

    if len(poses) != len(labels):
        raise PoseDataError(f"got {len(poses)} pose files but {len(labels)} label files")
    recs, ys = [], []
    for p, lab in zip(poses, labels, strict=True):
        seqs = read_poses(p, fps=fps) if fps is not None else read_poses(p)
        if individual is not None:
            from .pose.tracking import select_individuals

            seqs = select_individuals(seqs, individual, path=p)
        T = seqs[0].n_frames
        per_frame = detect_annotation_format(lab) == "frame_csv"
        df = read_annotations(lab, n_frames=None if per_frame else T, fps=fps or seqs[0].fps)
        cols = list(df.columns)
        col = label_column or ("label" if "label" in cols else (cols[0] if len(cols) == 1 else None))
        if col is None or col not in df.columns:
            raise PoseDataError(
                f"cannot tell the label column: expected {label_column or 'label'!r}, found columns "
                f"{cols}; pass label_column=...",
                path=lab,
                line=1,
            )
        y = df[col].to_numpy(dtype=str)
        if len(y) == T - 1:
            seqs = [s[: len(y)] for s in seqs]
        elif len(y) != T:
            raise PoseDataError(f"{len(y)} labels but the pose file {p} has {T} frames", path=lab)
        recs.append(seqs)
        ys.append(y)
    return recs, ys


def fit_model(
    source: str | Sequence[str | os.PathLike],
    out: str | os.PathLike | None = None,
    *,
    labels: Sequence[str | os.PathLike] | None = None,
    label_column: str | None = None,
    split: str = "train",
    subjects: Sequence[int] | str | None = None,
    root=None,
    fps: float | None = None,
    ignore_labels: Sequence[str] | None = None,
    individual: int | str | list | None = None,
    classes: Sequence[str] | None = None,
    **params,
):
    """Train a model on a data set (by name) or on labelled pose files, and save it.

    Parameters
    ----------
    source : str or list of paths
        A name from :data:`DATASETS`, or pose files (with ``labels``).
    out : path, optional
        Where to save the model (``.skb``); not saved when None.
    labels : list of paths
        Per-frame label CSVs, one per pose file.
    label_column : str, optional
        Column of the label CSVs holding the labels.
    split : {"train", "all"}
        Part of a data set to train on (its standard split).
    subjects : "1-8" or list of int, optional
        Train on these subjects / recordings instead of ``split``.
    root : path, optional
        Data folder (default ``$SKELBEHAVE_DATA`` or ``../shared/data``;
        PRECOG defaults to the embedded copy).
    fps : float, optional
        Frame rate of pose files that do not state one.
    individual : int, str or list, optional
        Pose files: train on these individuals (tracks) of each file only,
        e.g. the one person of a video whose extraction also found others.
    ignore_labels : list of str, optional
        Labels that are not behaviours (default: the data set's, e.g.
        ``base`` for ``rat_social``).
    classes : list of str, optional
        Clip-level data sets: train on the sequences of these classes only
        (e.g. the behaviours a camera is expected to see).
    **params
        :class:`~skelbehave.pipeline.FrameLevelModel` parameters (frame
        labels), or :class:`~skelbehave.pipeline.BehaviorModel` parameters
        (clip labels: ``classifier``, ``random_state``, ``n_jobs``, ...).

    Returns
    -------
    The fitted model.

    Examples
    --------
    >>> # fit_model("precog", "precog.skb", subjects="1-8", context_folds=4)
    """
    from .pipeline import BehaviorModel, FrameLevelModel

    subj = parse_ids(subjects)
    if labels is None and isinstance(source, str) and not Path(source).exists():
        ds, spec = _load_dataset(source, root)
        idx = _split_indices(ds, split, subj)
        sub = ds.subset(idx)
        names = sub.label_names
        if classes is not None:
            if spec.frame_level:
                raise ParameterError("classes: only for clip-level data sets")
            known = sorted(set(map(str, names)))
            unknown = [c for c in classes if c not in known]
            if unknown or len(set(classes)) < 2:
                raise ParameterError(
                    f"classes: need 2 or more of {source}'s classes; {unknown or list(classes)} "
                    f"not usable; the classes are {known}"
                )
            keep = np.flatnonzero(np.isin(np.asarray(names, dtype=str), list(classes)))
            sub = sub.subset(keep)
            names = sub.label_names
        if spec.frame_level:
            ign = ignore_labels if ignore_labels is not None else (list(spec.ignore_labels) or None)
            params.setdefault("fps", fps)
            model = FrameLevelModel(ignore_labels=ign, **params).fit(sub.sequences, names)
        else:
            model = BehaviorModel(**params).fit(sub.sequences, names)
        log.info("trained on %d sequences of %s", len(sub), ds.name)
    else:
        paths = [source] if isinstance(source, (str, os.PathLike)) else list(source)
        if labels is None:
            raise PoseDataError("training on pose files needs their per-frame label files (labels=...)")
        recs, ys = load_labelled(paths, labels, label_column=label_column, fps=fps, individual=individual)
        params.setdefault("fps", fps)
        model = FrameLevelModel(ignore_labels=ignore_labels, **params).fit(recs, ys)
    if out is not None:
        model.save(out)
        log.info("model saved to %s", out)
    return model


def evaluate_model(
    model,
    source: str | Sequence[str | os.PathLike],
    *,
    labels: Sequence[str | os.PathLike] | None = None,
    label_column: str | None = None,
    split: str = "test",
    subjects: Sequence[int] | str | None = None,
    root=None,
    fps: float | None = None,
    ignore_labels: Sequence[str] | None = None,
    background: Sequence[str] | None = None,
    iou_thresholds: Sequence[float] = (0.1, 0.25, 0.5),
    out: str | os.PathLike | None = None,
    report_dir: str | os.PathLike | None = None,
) -> pd.DataFrame:
    """Score a model (object or saved path) on a data set split or on labelled pose files.

    Frame-level models: a table with one row per behaviour (frames, bouts,
    frame F1, segment F1 at each IoU threshold) and a ``macro`` row averaged
    over the behaviours (background classes such as PRECOG's ``no action``
    are predicted but left out of the average); ``attrs`` hold the frame
    accuracy and the number of sequences. Clip-level models: per-class
    precision, recall, F1 with ``attrs["accuracy"]`` and ``attrs["macro_f1"]``.
    With ``out`` the table is also written there (CSV, atomically). With
    ``report_dir`` (a folder) the figures and tables people look at are written
    there (:func:`skelbehave.plots.reports.write_evaluation_report`: confusion
    matrix, an ethogram per recording, per-class precision / recall / F1, bouts
    and time budgets, this table as ``metrics.csv``).

    Examples
    --------
    >>> # evaluate_model("precog.skb", "precog", subjects="9-12", report_dir="precog_report")
    """
    from .evaluation import frame_report
    from .pipeline import FrameLevelModel, load

    if isinstance(model, (str, os.PathLike)):
        model = load(model)
    subj = parse_ids(subjects)
    spec = None
    if labels is None and isinstance(source, str) and not Path(source).exists():
        ds, spec = _load_dataset(source, root)
        sub = ds.subset(_split_indices(ds, split, subj))
        X, y = sub.sequences, sub.label_names
    else:
        paths = [source] if isinstance(source, (str, os.PathLike)) else list(source)
        if labels is None:
            raise PoseDataError("evaluating on pose files needs their per-frame label files (labels=...)")
        X, y = load_labelled(paths, labels, label_column=label_column, fps=fps)
    if isinstance(model, FrameLevelModel):
        pred = model.predict(X)
        ign = ignore_labels
        if ign is None:
            ign = model.ignore_labels or (list(spec.ignore_labels) if spec else None) or None
        bg = set(background if background is not None else (spec.background_labels if spec else ()))
        classes = [c for c in model.classes_.tolist() if c not in bg]
        rep = frame_report(y, pred, labels=classes, ignore=ign, iou_thresholds=iou_thresholds)
        rep.attrs["n_sequences"] = len(X)
        rep.attrs["background"] = sorted(bg)
        if report_dir is not None:
            from .plots.reports import recording_names, write_evaluation_report

            first = X[0][0] if isinstance(X[0], (list, tuple)) else X[0]
            rate = getattr(model, "fps", None) or (fps if fps is not None else getattr(first, "fps", None))
            names, classes_ = recording_names(X), model.classes_.tolist()
            write_evaluation_report(
                report_dir, y, pred, names=names, classes=classes_, fps=rate, ignore=ign, metrics=rep
            )
        return _written(rep, out)
    from .evaluation import evaluate

    report = evaluate(model, X, y)
    table = report.per_class.copy() if hasattr(report, "per_class") else pd.DataFrame()
    table.attrs["accuracy"] = getattr(report, "accuracy", float("nan"))
    table.attrs["macro_f1"] = getattr(report, "macro_f1", float("nan"))
    table.attrs["n_sequences"] = len(X)
    if report_dir is not None:
        from .plots.reports import write_clip_report

        coverage = None
        if hasattr(model, "predict_proba") and hasattr(model, "classes_"):
            from .evaluation import coverage_accuracy

            coverage = coverage_accuracy(np.asarray(y), model.predict_proba(X), model.classes_)
        write_clip_report(report_dir, report, coverage=coverage)
    return _written(table, out)


def _written(table: pd.DataFrame, out: str | os.PathLike | None) -> pd.DataFrame:
    if out is not None:
        from ._util.fs import atomic_path

        with atomic_path(out) as tmp:
            table.to_csv(tmp)
    return table


def model_info(path: str | os.PathLike) -> dict[str, Any]:
    """What a saved model file holds: kind, classes, layout, versions, checksum, components, parameters.

    The file is read with :func:`skelbehave.load` (checksums verified;
    nothing from the file is executed).

    Examples
    --------
    >>> # model_info("precog.skb")["classes"]
    """
    from ._util.fs import file_sha256
    from .io.archive import read_archive
    from .pipeline import FrameLevelModel, load

    model = load(path)
    doc, arrays = read_archive(path)
    man = doc.get("_manifest", {})
    info: dict[str, Any] = {
        "file": str(path),
        "sha256": file_sha256(path),
        "kind": type(model).__name__,
        "format_version": man.get("format_version"),
        "package_version": man.get("package_version"),
        "created": man.get("created"),
        "classes": [c.item() if hasattr(c, "item") else c for c in model.classes_],
    }
    lay = getattr(model, "layout_", None)
    if lay is not None:
        info["layout"] = lay.name
        info["joints"] = list(lay.joints)
    if isinstance(model, FrameLevelModel):
        info["individuals"] = model.n_individuals_
        info["fps"] = model.fps_
        info["window_frames"] = model.window_frames_
        info["stride_frames"] = model.stride_frames_
    info["components"] = {
        role: _describe(est)
        for role in ("features", "encoder", "classifier", "context")
        if (est := getattr(model, f"{role}_", None)) is not None
    }
    if hasattr(model, "get_params"):
        info["params"] = {k: v for k, v in model.get_params(deep=False).items() if _plain(v)}
    info["arrays"] = len(arrays)
    return info


def _plain(v: Any) -> bool:
    return v is None or isinstance(v, (str, int, float, bool, tuple, list, dict))


def _describe(est) -> str:
    """One line on a fitted component: its class and its size."""
    name = type(est).__name__
    for attr, what in (("n_trees_", "trees"), ("n_estimators", "trees"), ("n_clusters", "clusters")):
        v = getattr(est, attr, None)
        if isinstance(v, (int, np.integer)) and not isinstance(v, bool):
            return f"{name} ({v} {what})"
    return name


# ----------------------------------------------------------------------------- the demo
#: the first settings chosen by grouped cross-validation on training subjects 1-8
PREVIOUS_MODEL = {
    "window": 31,
    "fit_stride": 2,
    "classifier_params": {"n_estimators": 200},
    "context_folds": 4,
    "median": 9,
    "classifier": "extra_trees",
    "random_state": 0,
}
#: settings of the demo model: :data:`PREVIOUS_MODEL` plus the changes that won a second grouped
#: cross-validation on training subjects 1-8 (``python benchmarks/frame_level.py --cv``)
#: (mean frame macro F1 over the held-out pairs 1-2, 3-4, 5-6, 7-8: 0.809 -> 0.823)
DEMO_MODEL = dict(
    PREVIOUS_MODEL,
    classifier_params={"n_estimators": 200, "class_weight": "balanced"},
    label_mode="majority",
    context_scales=(9, 31, 91, 271),
)
TRAIN_SUBJECTS = tuple(range(1, 9))
TEST_SUBJECTS = (9, 10, 11, 12)


def run_demo(
    out_dir: str | os.PathLike = "skelbehave-demo",
    *,
    root=None,
    quick: bool = False,
    n_jobs: int = 1,
) -> str:
    """Train on PRECOG subjects 1-8, label every frame of subjects 9-12, write a report and an ethogram.

    Parameters
    ----------
    out_dir : path
        Receives ``precog_frame_model.skb``, ``report.csv`` (per-action frame
        and segment F1), ``bouts.csv`` (time spent and bout counts per action,
        annotated vs predicted), ``ethogram.png`` (one test stream, predicted
        vs annotated) and ``summary.txt``.
    root : path, optional
        Folder with the original PRECOG CSVs (default: the embedded copy).
    quick : bool
        A small model without the context stage (seconds instead of minutes).
    n_jobs : int
        Threads for the forests.

    Returns
    -------
    str
        The summary that is also written to ``summary.txt``.

    Examples
    --------
    >>> # print(run_demo("demo-out"))
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ._util.fs import atomic_path
    from .datasets import PRECOG_CITATION, load_precog
    from .evaluation import frame_report
    from .pipeline import FrameLevelModel
    from .plots import plot_ethogram
    from .temporal import bout_table

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    ds = load_precog(root)
    names = ds.label_names
    tr = np.flatnonzero(np.isin(ds.subjects, TRAIN_SUBJECTS))
    te = np.flatnonzero(np.isin(ds.subjects, TEST_SUBJECTS))
    params = dict(DEMO_MODEL, n_jobs=n_jobs)
    if quick:
        params.update(context_folds=0, fit_stride=3, median=0)
        params["classifier_params"] = dict(params["classifier_params"], n_estimators=25)
    t0 = time.perf_counter()
    model = FrameLevelModel(**params).fit([ds.sequences[i] for i in tr], [names[i] for i in tr])
    fit_s = time.perf_counter() - t0
    model.save(out / "precog_frame_model.skb")
    t0 = time.perf_counter()
    X_te = [ds.sequences[i] for i in te]
    pred = model.predict(X_te)
    pred_s = time.perf_counter() - t0
    truth = [names[i] for i in te]
    actions = [c for c in model.classes_.tolist() if c != "no action"]
    rep = frame_report(truth, pred, labels=actions)
    with atomic_path(out / "report.csv") as tmp:
        rep.to_csv(tmp)
    fps = ds.sequences[0].fps
    bouts = pd.concat(
        [
            bout_table(truth, fps=fps).add_suffix("_annotated"),
            bout_table(pred, fps=fps).add_suffix("_predicted"),
        ],
        axis=1,
        join="outer",
    )
    with atomic_path(out / "bouts.csv") as tmp:
        bouts.to_csv(tmp)
    # ethogram of the test stream with the most actions
    k = int(np.argmax([len(np.unique(y)) * 1000 + len(y) for y in truth]))
    seq = X_te[k]
    fig, ax = plt.subplots(figsize=(11, 4))
    plot_ethogram(
        pred[k],
        true_labels=truth[k],
        fps=seq.fps,
        classes=model.classes_.tolist(),
        ignore=["no action"],
        title=f"PRECOG {seq.meta.get('name', '')}: predicted (colour) vs annotated (black)",
        ax=ax,
    )
    fig.tight_layout()
    with atomic_path(out / "ethogram.png") as tmp:
        fig.savefig(tmp, dpi=120, format="png")
    plt.close(fig)
    n_frames = sum(len(y) for y in truth)
    lines = [
        "skelbehave demo: frame-level behaviours on PRECOG (embedded copy, MIT licence)"
        if root is None
        else f"skelbehave demo: frame-level behaviours on PRECOG from {root}",
        f"  trained on subjects 1-8 ({len(tr)} streams) in {fit_s:.1f} s"
        f"{' (quick settings)' if quick else ''}; labelled {len(te)} streams of subjects 9-12 "
        f"({n_frames} frames) in {pred_s:.1f} s",
        f"  frame accuracy {rep.attrs['accuracy']:.3f}; macro F1 over the 8 actions: frame "
        f"{rep.loc['macro', 'frame_f1']:.3f}, segment (IoU 0.5) {rep.loc['macro', 'segment_f1@0.5']:.3f}",
        "  per action (frame F1 / segment F1@0.5):",
    ]
    for c in actions:
        lines.append(f"    {c:<18} {rep.loc[c, 'frame_f1']:.3f} / {rep.loc[c, 'segment_f1@0.5']:.3f}")
    lines += [
        f"  wrote {out / 'precog_frame_model.skb'}, report.csv, bouts.csv, ethogram.png",
        f"  Cite: {PRECOG_CITATION}",
    ]
    text = "\n".join(lines)
    with atomic_path(out / "summary.txt") as tmp:
        tmp.write_text(text + "\n")
    return text
