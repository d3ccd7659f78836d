"""The ``skelbehave demo`` job: frame-level behaviours on the embedded PRECOG data.

Trains a :class:`~skelbehave.pipeline.FrameLevelModel` on the continuous
PRECOG streams of subjects 1-8, labels every frame of subjects 9-12,
evaluates (frame and segment F1 over the 8 actions) and writes an ethogram.
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

__all__ = ["DEMO_MODEL", "PREVIOUS_MODEL", "run_demo"]

#: the first settings chosen by grouped cross-validation on training subjects 1-8
PREVIOUS_MODEL = {
    "window": 31,
    "fit_stride": 2,
    "n_estimators": 200,
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
    class_weight="balanced",
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
        params.update(n_estimators=25, context_folds=0, fit_stride=3, median=0)
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
    rep.to_csv(out / "report.csv")
    bouts = bout_table(truth, fps=ds.sequences[0].fps).join(
        bout_table(pred, fps=ds.sequences[0].fps), lsuffix="_annotated", rsuffix="_predicted", how="outer"
    )
    bouts.to_csv(out / "bouts.csv")
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
    fig.savefig(out / "ethogram.png", dpi=120)
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
    (out / "summary.txt").write_text(text + "\n")
    return text
