"""One-call workflows behind the ``fit``, ``evaluate`` and ``info`` commands.

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
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .errors import PoseDataError

log = logging.getLogger(__name__)

__all__ = ["DATASETS", "evaluate_model", "fit_model", "load_labelled", "model_info", "parse_ids"]

#: data set names accepted by ``fit`` / ``evaluate``: (loader, keyword arguments, frame level?)
DATASETS: dict[str, tuple[str, dict, bool]] = {
    "precog": ("load_precog", {}, True),
    "precog_trimmed": ("load_precog", {"trimmed": True}, False),
    "rat_social": ("load_rat_social", {}, True),
    "msr_action3d": ("load_msr_action3d", {}, False),
    "utd_mhad": ("load_utd_mhad", {}, False),
}

#: labels that are not behaviours, per data set: left out of training and scoring
IGNORED = {"rat_social": ["base"]}
#: background classes: predicted, but not averaged in the macro F1 ("over the actions")
BACKGROUND = {"precog": ["no action"]}


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
    from . import datasets

    if name not in DATASETS:
        raise PoseDataError(f"unknown data set {name!r}; known: {sorted(DATASETS)}")
    fn, kw, frame = DATASETS[name]
    loader = getattr(datasets, fn)
    if root is None and name.startswith("precog"):
        return loader(**kw), frame  # the embedded copy
    return loader(root, **kw), frame


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
    raise ValueError(f"split must be 'train', 'test' or 'all', got {split!r}")


def load_labelled(
    poses: Sequence[str | os.PathLike],
    labels: Sequence[str | os.PathLike],
    *,
    label_column: str | None = None,
    fps: float | None = None,
) -> tuple[list[list[Any]], list[np.ndarray]]:
    """Pose files and their per-frame label CSVs (``frame`` + one label column).

    The label column is ``label_column``, else ``label``, else the only
    column besides ``frame``. Returns recordings (lists of PoseSequence, one
    per individual) and label arrays; a label file one frame shorter than
    its pose file drops the pose file's last frame.
    """
    from .io import read_poses

    if len(poses) != len(labels):
        raise PoseDataError(f"got {len(poses)} pose files but {len(labels)} label files")
    recs, ys = [], []
    for p, lab in zip(poses, labels, strict=True):
        seqs = read_poses(p, fps=fps) if fps is not None else read_poses(p)
        df = pd.read_csv(lab, dtype=str, keep_default_na=False)
        cols = [c for c in df.columns if c != "frame"]
        col = label_column or ("label" if "label" in cols else (cols[0] if len(cols) == 1 else None))
        if col is None or col not in df.columns:
            raise PoseDataError(
                f"cannot tell the label column: expected {label_column or 'label'!r}, found columns "
                f"{list(df.columns)}; pass label_column=...",
                path=lab,
                line=1,
            )
        y = df[col].to_numpy(dtype=str)
        T = seqs[0].n_frames
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
    ignore_labels : list of str, optional
        Labels that are not behaviours (default for ``rat_social``: ``base``).
    **params
        :class:`~skelbehave.pipeline.FrameLevelModel` (or clip-level
        :func:`skelbehave.fit`) parameters.

    Returns
    -------
    The fitted model.

    Examples
    --------
    >>> # fit_model("precog", "precog.skb", subjects="1-8", context_folds=4)
    """
    from .pipeline import FrameLevelModel

    subj = parse_ids(subjects)
    if isinstance(source, str) and labels is None and not Path(source).exists():
        ds, frame_level = _load_dataset(source, root)
        idx = _split_indices(ds, split, subj)
        sub = ds.subset(idx)
        names = sub.label_names
        if frame_level:
            ign = ignore_labels if ignore_labels is not None else IGNORED.get(source)
            params.setdefault("fps", fps)
            model = FrameLevelModel(ignore_labels=ign, **params).fit(sub.sequences, names)
        else:
            from .pipeline import fit as fit_clips

            model = fit_clips(sub.sequences, names, **params)
        log.info("trained on %d sequences of %s", len(sub), ds.name)
    else:
        paths = [source] if isinstance(source, (str, os.PathLike)) else list(source)
        if labels is None:
            raise PoseDataError("training on pose files needs their per-frame label files (labels=...)")
        recs, ys = load_labelled(paths, labels, label_column=label_column, fps=fps)
        params.setdefault("fps", fps)
        model = FrameLevelModel(ignore_labels=ignore_labels, **params).fit(recs, ys)
    if out is not None:
        model.save(out)
        log.info("model saved to %s", out)
    return model


def _load_any(path):
    from .io.archive import read_archive

    doc, arrays = read_archive(path)
    if doc.get("kind") == "FrameLevelModel":
        from .pipeline import FrameLevelModel

        return FrameLevelModel._from_doc(doc, arrays, path)
    from .pipeline import load

    return load(path)


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
    ignore: Sequence[str] | None = None,
    background: Sequence[str] | None = None,
    iou_thresholds: Sequence[float] = (0.1, 0.25, 0.5),
) -> pd.DataFrame:
    """Score a model (object or saved path) on a data set split or on labelled pose files.

    Frame-level models: a table with one row per behaviour (frames, bouts,
    frame F1, segment F1 at each IoU threshold) and a ``macro`` row averaged
    over the behaviours (background classes such as PRECOG's ``no action``
    are predicted but left out of the average); ``attrs`` hold the frame
    accuracy and the number of sequences. Clip-level models: per-class
    precision, recall, F1 with ``attrs["accuracy"]`` and ``attrs["macro_f1"]``.

    Examples
    --------
    >>> # evaluate_model("precog.skb", "precog", subjects="9-12")
    """
    from .evaluation import frame_report
    from .pipeline import FrameLevelModel

    if isinstance(model, (str, os.PathLike)):
        model = _load_any(model)
    subj = parse_ids(subjects)
    name = source if isinstance(source, str) else None
    if isinstance(source, str) and labels is None and not Path(source).exists():
        ds, _ = _load_dataset(source, root)
        sub = ds.subset(_split_indices(ds, split, subj))
        X, y = sub.sequences, sub.label_names
    else:
        paths = [source] if isinstance(source, (str, os.PathLike)) else list(source)
        if labels is None:
            raise PoseDataError("evaluating on pose files needs their per-frame label files (labels=...)")
        X, y = load_labelled(paths, labels, label_column=label_column, fps=fps)
        name = None
    if isinstance(model, FrameLevelModel):
        pred = model.predict(X)
        ign = ignore if ignore is not None else (model.ignore_labels or IGNORED.get(name or "", None))
        bg = set(background if background is not None else BACKGROUND.get(name or "", []))
        classes = [c for c in model.classes_.tolist() if c not in bg]
        rep = frame_report(y, pred, labels=classes, ignore=ign, iou_thresholds=iou_thresholds)
        rep.attrs["n_sequences"] = len(X)
        rep.attrs["background"] = sorted(bg)
        return rep
    from .evaluation import evaluate

    report = evaluate(model, X, y)
    table = report.per_class.copy() if hasattr(report, "per_class") else pd.DataFrame()
    table.attrs["accuracy"] = getattr(report, "accuracy", float("nan"))
    table.attrs["macro_f1"] = getattr(report, "macro_f1", float("nan"))
    table.attrs["n_sequences"] = len(X)
    return table


def model_info(path: str | os.PathLike) -> dict[str, Any]:
    """Metadata of a saved model file: kind, classes, layout, versions, checksum, components.

    Reads JSON and array names only (the file's checksums are verified);
    nothing from the file is executed.

    Examples
    --------
    >>> # model_info("precog.skb")["classes"]
    """
    from .batch import file_sha256
    from .io.archive import read_archive

    doc, arrays = read_archive(path)
    man = doc.get("_manifest", {})
    info: dict[str, Any] = {
        "file": str(path),
        "sha256": file_sha256(path),
        "kind": doc.get("kind"),
        "format_version": man.get("format_version"),
        "package_version": man.get("package_version"),
        "created": man.get("created"),
        "classes": doc.get("classes"),
    }
    lay = doc.get("layout")
    if isinstance(lay, dict):
        info["layout"] = lay.get("name")
        info["joints"] = lay.get("joints")
    elif lay is not None:
        info["layout"] = lay
    if doc.get("kind") == "FrameLevelModel":
        fitted = doc.get("fitted", {})
        info["individuals"] = fitted.get("n_individuals_")
        info["fps"] = fitted.get("fps_")
        info["window_frames"] = fitted.get("window_frames_")
        info["stride_frames"] = fitted.get("stride_frames_")
        comps = {"features": f"FrameFeatures ({len(doc.get('feature_names', []))} per frame)"}
        c = doc.get("classifier") or {}
        n_trees = len(arrays.get("classifier.roots", []))
        comps["classifier"] = f"{c.get('kind')} trees: {n_trees}, {c.get('n_features_in')} window features"
        if doc.get("context"):
            comps["context"] = f"{doc['context'].get('kind')} trees: {len(arrays.get('context.roots', []))}"
        info["components"] = comps
        info["params"] = doc.get("params")
    else:
        comps = doc.get("components", {})
        info["components"] = {role: entry.get("type") for role, entry in comps.items()}
        info["n_features_out"] = doc.get("n_features_out")
    info["arrays"] = len(arrays)
    return info
