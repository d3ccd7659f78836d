"""Reports people look at: what ``evaluate`` and ``score --summary / --events`` write into a folder.

- :func:`write_evaluation_report`: predicted vs annotated per-frame labels ->
  ``confusion_matrix.png``, ``ethogram_<recording>.png`` (one per recording),
  ``per_class.csv`` (precision, recall, F1, support), ``bouts.csv`` (bouts and
  time budget per recording and label, predicted and annotated) and
  ``metrics.csv`` (the frame / segment F1 table).
- :func:`write_prediction_reports`: after scoring, ``summary.csv`` (bouts and
  time budget across all files and individuals, see
  :func:`skelbehave.evaluation.summarize_predictions`) and BORIS aggregated
  events files ``<name>.boris.csv`` (see :func:`skelbehave.io.annotations.write_boris_events`).

Every file is written atomically; figures use the Agg backend.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from .._util.fs import atomic_path
from ..errors import ParameterError

__all__ = ["recording_names", "write_clip_report", "write_evaluation_report", "write_prediction_reports"]

log = logging.getLogger(__name__)


def _save(fig, path: Path) -> Path:
    import matplotlib.pyplot as plt

    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=100, format="png")
    plt.close(fig)
    return path


def _file_names(names: Sequence) -> list[str]:
    """File-safe, distinct names (``a/b.csv`` -> ``a_b``; a repeated name gets ``-2``, ``-3``)."""
    out, seen = [], {}
    for n in names:
        base = re.sub(r"[^\w.-]+", "_", Path(str(n)).name.split(".predictions")[0]).strip("._") or "recording"
        k = seen.get(base, 0) + 1
        seen[base] = k
        out.append(base if k == 1 else f"{base}-{k}")
    return out


def _absent(y: np.ndarray) -> np.ndarray:
    from ..temporal.segments import absent_labels

    y = np.asarray(y)
    return np.zeros(len(y), dtype=bool) if y.dtype.kind in "iub" else absent_labels(y)


def write_evaluation_report(
    out,
    y_true,
    y_pred,
    *,
    names: Sequence | None = None,
    classes: Sequence | None = None,
    fps: float | None = None,
    ignore: Sequence | None = None,
    metrics: pd.DataFrame | None = None,
) -> dict[str, Path | list[Path]]:
    """Write the figures and tables of a frame-level evaluation into the folder ``out``.

    Parameters
    ----------
    out : path-like
        Folder (created when missing).
    y_true, y_pred : list of array-like
        Annotated and predicted per-frame labels, one pair per recording.
    names : sequence, optional
        Recording names (file names of the ethograms); default ``recording-1``, ...
    classes : sequence, optional
        The model's classes (row order); labels annotated but never
        predicted are added after them.
    fps : float, optional
        Time axis in seconds and durations in the bout table.
    ignore : sequence, optional
        Annotated labels left out of scoring (e.g. ``base``): not in the
        confusion matrix, the per-class table or the ethograms' rows.
    metrics : DataFrame, optional
        Written as ``metrics.csv`` (e.g. :func:`skelbehave.evaluation.frame_report`).

    Returns
    -------
    dict
        ``confusion_matrix``, ``per_class``, ``bouts``, ``metrics`` (when given): paths;
        ``ethograms``: list of paths.

    Notes
    -----
    As in :func:`skelbehave.evaluation.frame_report`, frames whose annotation
    is ignored and frames predicted ``no_pose`` (nobody present) are not scored:
    the confusion matrix and the per-class table count the other frames.

    Examples
    --------
    >>> import tempfile
    >>> files = write_evaluation_report(tempfile.mkdtemp(), [["a", "a", "b", "b"]], [["a", "b", "b", "b"]],
    ...                                 names=["rec1"], fps=2.0)
    >>> sorted(files), files["ethograms"][0].name
    (['bouts', 'confusion_matrix', 'ethograms', 'per_class'], 'ethogram_rec1.png')
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

    from ..evaluation import summarize_predictions
    from .results import plot_confusion_matrix, plot_ethogram

    yt = [np.asarray(a, dtype=object) for a in y_true]
    yp = [np.asarray(a, dtype=object) for a in y_pred]
    if len(yt) != len(yp) or any(len(a) != len(b) for a, b in zip(yt, yp, strict=False)):
        raise ParameterError("y_true and y_pred need one label sequence each per recording, of equal lengths")
    if not yt:
        raise ParameterError("no recording to report on")
    names = _file_names(names if names is not None else [f"recording-{k + 1}" for k in range(len(yt))])
    if len(names) != len(yt):
        raise ParameterError(f"{len(names)} names for {len(yt)} recordings")
    ign = set(ignore or ())
    out = Path(os.fspath(out))
    out.mkdir(parents=True, exist_ok=True)
    files: dict[str, Path | list[Path]] = {}

    t_all, p_all = np.concatenate(yt), np.concatenate(yp)
    scored = ~_absent(p_all) & ~np.isin(t_all, list(ign) if ign else [])
    cls = [c for c in (classes if classes is not None else []) if c not in ign]
    cls += sorted({c for c in np.unique(t_all[scored]) if c not in ign} - set(cls), key=str)
    cls += sorted({c for c in np.unique(p_all[scored])} - set(cls), key=str)
    cm = confusion_matrix(t_all[scored], p_all[scored], labels=cls)
    n = len(cls)
    fig, ax = plt.subplots(figsize=(2.2 + 0.7 * n, 1.8 + 0.6 * n))
    plot_confusion_matrix(cm, labels=[str(c) for c in cls], normalize=True, ax=ax, title=(
        f"Frame confusion matrix: {int(scored.sum())} frames, {len(yt)} recording(s)"))  # fmt: skip
    fig.tight_layout()
    files["confusion_matrix"] = _save(fig, out / "confusion_matrix.png")

    p, r, f, s = precision_recall_fscore_support(t_all[scored], p_all[scored], labels=cls, zero_division=0.0)
    per = pd.DataFrame(
        {"precision": p, "recall": r, "f1": f, "support": s}, index=pd.Index(cls, name="label")
    )
    with atomic_path(out / "per_class.csv") as tmp:
        per.to_csv(tmp)
    files["per_class"] = out / "per_class.csv"

    etho = []
    rows = cls + sorted({c for a in yt for c in np.unique(a)} - set(cls) - ign - {"no_pose"}, key=str)
    for name, a, b in zip(names, yt, yp, strict=True):
        fig, ax = plt.subplots(figsize=(11, 1.6 + 0.45 * len(rows)))
        plot_ethogram(b, fps=fps, classes=rows, true_labels=a, ignore=sorted(ign, key=str), ax=ax,
                      title=f"{name}: predicted (coloured bars) vs annotated (grey bars)")  # fmt: skip
        fig.tight_layout()
        etho.append(_save(fig, out / f"ethogram_{name}.png"))
    files["ethograms"] = etho

    tables = []
    for source, ys in (("predicted", yp), ("annotated", yt)):
        tabs = {}
        for name, y in zip(names, ys, strict=True):
            time = np.arange(len(y)) / fps if fps else np.full(len(y), np.nan)
            tabs[name] = pd.DataFrame({"frame": np.arange(len(y)), "time": time, "label": y})
        t = summarize_predictions(tabs, fps=fps, classes=rows)
        t.insert(1, "source", source)
        tables.append(t.drop(columns="individual"))
    with atomic_path(out / "bouts.csv") as tmp:
        pd.concat(tables, ignore_index=True).to_csv(tmp, index=False)
    files["bouts"] = out / "bouts.csv"
    if metrics is not None:
        with atomic_path(out / "metrics.csv") as tmp:
            metrics.to_csv(tmp)
        files["metrics"] = out / "metrics.csv"
    return files


def write_prediction_reports(
    outputs,
    out,
    *,
    summary: bool = True,
    events: str | None = None,
    fps: float | None = None,
) -> dict[str, Path | list[Path]]:
    """After scoring: the aggregated bout / time-budget table and annotation-tool event files.

    Parameters
    ----------
    outputs : DataFrame or list of path-like
        The manifest :func:`skelbehave.batch.score_files` returns (its
        ``output`` of the rows with status ``done``), or predictions files.
    out : path-like
        Folder for ``summary.csv`` and the event files.
    summary : bool
        Write ``summary.csv``: :func:`skelbehave.evaluation.summarize_predictions`
        over all files and individuals.
    events : {None, "boris"}
        ``"boris"``: one ``<name>.boris.csv`` BORIS aggregated events file per predictions file.
    fps : float, optional
        Frame rate (default: from each table's ``time`` column); BORIS needs one.

    Returns
    -------
    dict
        ``summary``: path; ``events``: list of paths.

    Raises
    ------
    ParameterError
        A table that is neither frame-level nor clip segments, an unknown
        ``events`` format, BORIS events without a frame rate. Clip-level
        tables (sliding segments) count each frame with its nearest segment's
        label (:func:`skelbehave.temporal.segment_frames`).

    Examples
    --------
    >>> import tempfile, os
    >>> d = tempfile.mkdtemp()
    >>> pd.DataFrame({"frame": range(4), "time": [0, .5, 1, 1.5], "label": list("aabb")}).to_csv(
    ...     os.path.join(d, "rec1.predictions.csv"), index=False)
    >>> files = write_prediction_reports([os.path.join(d, "rec1.predictions.csv")], d, events="boris")
    >>> files["summary"].name, [p.name for p in files["events"]]
    ('summary.csv', ['rec1.boris.csv'])
    """
    from ..evaluation import fps_from_times, prediction_tables, summarize_predictions
    from ..io.annotations import write_boris_events

    if events not in (None, "boris"):
        raise ParameterError(f"events must be None or 'boris', got {events!r}")
    if isinstance(outputs, pd.DataFrame):
        done = outputs[outputs["status"] == "done"] if "status" in outputs.columns else outputs
        paths = [Path(str(p)) for p in done["output"]]
    else:
        paths = [Path(os.fspath(p)) for p in outputs]
    out = Path(os.fspath(out))
    out.mkdir(parents=True, exist_ok=True)
    tables = prediction_tables([str(p) for p in paths])
    files: dict[str, Path | list[Path]] = {}
    if summary:
        table = summarize_predictions(dict(tables), fps=fps)
        with atomic_path(out / "summary.csv") as tmp:
            table.to_csv(tmp, index=False)
        files["summary"] = out / "summary.csv"
    if events == "boris":
        written = []
        for (name, t), src in zip(tables, paths, strict=True):
            rate = fps if fps is not None else fps_from_times(t)
            if rate is None:
                raise ParameterError(
                    f"{src}: BORIS events are in seconds and this table has no times; pass --fps"
                )
            written.append(write_boris_events(t, out / f"{name}.boris.csv", fps=rate, observation_id=name))
        files["events"] = written
    return files


def write_clip_report(out, report, coverage: pd.DataFrame | None = None) -> dict[str, Path]:
    """A clip-level evaluation (:class:`~skelbehave.evaluation.ClassificationReport`) into the folder ``out``.

    Writes ``confusion_matrix.png`` (sequences, row-normalised) and
    ``per_class.csv`` (precision, recall, F1, support); with ``coverage`` (the
    table of :func:`skelbehave.evaluation.coverage_accuracy`) also
    ``coverage_accuracy.csv`` and ``coverage_accuracy.png`` (accuracy on the
    clips kept and the share kept, against ``min_confidence``).

    Examples
    --------
    >>> import tempfile
    >>> from skelbehave.evaluation import classification_report
    >>> rep = classification_report(["a", "a", "b"], ["a", "b", "b"])
    >>> sorted(write_clip_report(tempfile.mkdtemp(), rep))
    ['confusion_matrix', 'per_class']
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .results import plot_confusion_matrix

    out = Path(os.fspath(out))
    out.mkdir(parents=True, exist_ok=True)
    cm = report.confusion
    n = len(cm)
    no_pose = int(getattr(report, "n_no_pose", 0))
    skipped = f" ({no_pose} without a pose left out)" if no_pose else ""
    fig, ax = plt.subplots(figsize=(2.2 + 0.7 * n, 1.8 + 0.6 * n))
    title = f"Clip confusion matrix: {int(cm.to_numpy().sum())} sequences{skipped}"
    plot_confusion_matrix(cm.to_numpy(), labels=[str(c) for c in cm.index], ax=ax, title=title)
    fig.tight_layout()
    files = {"confusion_matrix": _save(fig, out / "confusion_matrix.png")}
    with atomic_path(out / "per_class.csv") as tmp:
        report.per_class.to_csv(tmp)
    files["per_class"] = out / "per_class.csv"
    if coverage is not None:
        with atomic_path(out / "coverage_accuracy.csv") as tmp:
            coverage.to_csv(tmp, index=False)
        files["coverage_accuracy"] = out / "coverage_accuracy.csv"
        fig, ax = plt.subplots(figsize=(5.0, 3.4))
        kept = "accuracy on the clips kept"
        ax.plot(coverage["threshold"], coverage["accuracy"], marker="o", ms=3, label=kept)
        ax.plot(coverage["threshold"], coverage["coverage"], marker="s", ms=3, label="share of clips kept")
        ax.set_xlabel("min_confidence (top calibrated probability)")
        ax.set_ylabel("fraction")
        ax.set_ylim(0, 1.02)
        ax.set_title("Abstention: accuracy vs coverage")
        ax.legend(loc="lower left", fontsize=8)
        fig.tight_layout()
        files["coverage_accuracy_png"] = _save(fig, out / "coverage_accuracy.png")
    return files


def recording_names(recordings) -> list[str]:
    """A name per recording (a PoseSequence or a list): ``meta["name"]``, the source file, or its number.

    Examples
    --------
    >>> from skelbehave import PoseSequence
    >>> s = PoseSequence(np.zeros((2, 20, 3)), "msr20", meta={"source": "/d/a13_s01.txt"})
    >>> recording_names([s, [s]])
    ['a13_s01', 'a13_s01']
    """
    names = []
    for k, rec in enumerate(recordings):
        seq = rec[0] if isinstance(rec, (list, tuple)) and rec else rec
        meta = getattr(seq, "meta", {}) or {}
        src = meta.get("source")
        name = meta.get("name") or (Path(str(src)).name if src else None)
        name = str(name).split(".")[0] if name else None
        if meta.get("recording") is not None and not meta.get("name"):
            name = f"recording-{meta['recording']}"
        names.append(str(name or f"recording-{k + 1}"))
    return names
