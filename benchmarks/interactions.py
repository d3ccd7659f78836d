"""Two-individual clips: the interaction model against the single-sequence baseline, rat dyads (S1).

Clips: every bout of ``social``, ``nonsocial`` or ``aggression`` in stream S1
of the shared rat dyads (``../shared/data/rat_social_dlc``), at least
``--min-frames`` frames (default 30 = 1 s at the assumed 30 fps; base frames
are not clips), at most ``--max-frames`` (longer bouts keep their central
part). Both rats' DeepLabCut tracks. Train on recordings 1-8, test on 9-12.

Models, with default options and one seed, fitted and scored side by side in
one run:

* ``interaction``: ``BehaviorModel.fit`` on recordings (each clip a list of
  two PoseSequences, one per rat, layout of one rat): shared codebook for
  both rats, relative descriptors, pooled independently of the rats' order
  (:mod:`skelbehave.pipeline.clip_multi`);
* ``baseline``: one sequence per clip, both rats concatenated in one layout
  (``rat_dyad``: individual1's 5 keypoints then individual2's).

Printed: macro F1 and per-class F1 on the test clips, fit and predict
seconds, and whether the predictions change when the two rats are listed
the other way round (for the baseline: when individual1 and individual2 are
swapped in the concatenated layout).

``--tune`` instead runs, on the training recordings 1-8 only (4 folds of 2
recordings each), the grid that chose
:data:`skelbehave.pipeline.clip_multi.RELATION_ENCODER` and an ablation
(pooled individuals only, relations only, both; and the baseline).

Run: ``python benchmarks/interactions.py`` (about 10 s on one core; ``--tune`` about a minute).
"""

from __future__ import annotations

import argparse
import itertools
import time
from pathlib import Path

import numpy as np
from sklearn.metrics import f1_score

import skelbehave
from skelbehave import PoseSequence
from skelbehave.datasets import load_rat_social, precog_segments
from skelbehave.layouts import JointLayout

REPO = Path(__file__).resolve().parents[1]
RAT = (REPO / ".." / "shared" / "data" / "rat_social_dlc").resolve()


def rat_dyad_clips(
    recordings, min_frames: int = 30, max_frames: int = 450, root=RAT
) -> tuple[list[list[PoseSequence]], list[PoseSequence], list[str], list[int]]:
    """Bouts of stream S1 cut as two-rat clips.

    Returns
    -------
    dyads : list of [PoseSequence, PoseSequence]
        Per clip, one sequence per rat (layout ``rat``: the 5 DeepLabCut keypoints).
    joined : list of PoseSequence
        The same clips with both rats in one layout (``rat_dyad``).
    labels : list of str
        ``social``, ``nonsocial`` or ``aggression``.
    recording : list of int
        The recording each clip comes from.
    """
    ds = load_rat_social(root)
    wanted = set(recordings)
    dyads, joined, labels, rec_of = [], [], [], []
    for seq, y, n in zip(ds.sequences, ds.labels, ds.subjects, strict=True):
        if n not in wanted:
            continue
        J = seq.layout.n_joints // 2
        parts = [j.split("_", 1)[1] for j in seq.layout.joints[:J]]
        lay = JointLayout.from_names(parts, name="rat")
        for start, stop, code in precog_segments(y, bridge=0, min_frames=min_frames):
            if stop - start > max_frames:
                start += (stop - start - max_frames) // 2
                stop = start + max_frames
            clip = seq[start:stop]
            meta = {"source": seq.meta["source"], "recording": n, "start_frame": start}
            rats = [
                PoseSequence(clip.position[:, k * J : (k + 1) * J], lay, fps=seq.fps, meta=dict(meta))
                for k in range(2)
            ]
            dyads.append(rats)
            joined.append(clip)
            labels.append(ds.class_names[int(code)])
            rec_of.append(n)
    return dyads, joined, labels, rec_of


def swap_joined(seq: PoseSequence) -> PoseSequence:
    """The concatenated clip with the two rats' columns swapped (the other order)."""
    J = seq.layout.n_joints // 2
    pos = np.concatenate([seq.position[:, J:], seq.position[:, :J]], axis=1)
    return PoseSequence(pos, seq.layout, fps=seq.fps, meta=dict(seq.meta))


def _grouped_cv(X, y, rec, folds, seed: int) -> np.ndarray:
    """Out-of-fold predictions, each fold a group of recordings."""
    out = np.empty(len(y), dtype=object)
    for f in folds:
        te = np.isin(rec, f)
        m = skelbehave.fit([X[i] for i in np.flatnonzero(~te)], y[~te], random_state=seed)
        out[te] = m.predict([X[i] for i in np.flatnonzero(te)])
    return out.astype(str)


def tune(args, classes) -> None:
    """The relation encoder grid and the ablation, grouped CV on training recordings 1-8 only."""
    from skelbehave.pipeline import clip_multi

    dyads, joined, labels, rec = rat_dyad_clips(range(1, 9), args.min_frames, args.max_frames)
    rec, y = np.asarray(rec), np.asarray(labels)
    folds = [(1, 2), (3, 4), (5, 6), (7, 8)]
    chosen = dict(clip_multi.RELATION_ENCODER)
    print(f"grouped CV on {len(y)} training clips, folds {folds}; macro F1, then F1 of {classes}")
    try:
        for nc, pl, w in itertools.product([8, 16], [2, 3], [1.0, 2.0]):
            clip_multi.RELATION_ENCODER.update(n_clusters=nc, pyramid_levels=pl, kind_weights={"approach": w})
            p = _grouped_cv(dyads, y, rec, folds, args.seed)
            print(f"relation encoder n_clusters={nc:2d} pyramid_levels={pl} approach weight {w}: "
                  f"{f1_score(y, p, labels=classes, average='macro'):.3f} "
                  f"{f1_score(y, p, labels=classes, average=None).round(3).tolist()}")  # fmt: skip
        clip_multi.RELATION_ENCODER.clear()
        clip_multi.RELATION_ENCODER.update(chosen)
        pooled = clip_multi._pooled
        for part in ("individuals only", "relations only"):

            def masked(recs, V, R, owner, width, part=part):
                out = pooled(recs, V, R, owner, width)
                if part == "individuals only":
                    out[:, -2 * width :] = 0
                else:
                    out[:, : -2 * width] = 0
                return out

            clip_multi._pooled = masked
            p = _grouped_cv(dyads, y, rec, folds, args.seed)
            clip_multi._pooled = pooled
            f1 = f1_score(y, p, labels=classes, average="macro")
            print(f"ablation, {part:16s} (chosen encoders): {f1:.3f}")
    finally:
        clip_multi.RELATION_ENCODER.clear()
        clip_multi.RELATION_ENCODER.update(chosen)
    p = _grouped_cv(dyads, y, rec, folds, args.seed)
    print(f"both (the default): {f1_score(y, p, labels=classes, average='macro'):.3f}")
    p = _grouped_cv(joined, y, rec, folds, args.seed)
    print(f"baseline, rats concatenated: {f1_score(y, p, labels=classes, average='macro'):.3f}")


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--min-frames", type=int, default=30)
    ap.add_argument("--max-frames", type=int, default=450)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--tune", action="store_true", help="grouped CV on training recordings 1-8 only")
    args = ap.parse_args(argv)
    classes = ["social", "nonsocial", "aggression"]
    if args.tune:
        tune(args, classes)
        return
    t0 = time.perf_counter()
    dyads, joined, labels, rec = rat_dyad_clips(range(1, 13), args.min_frames, args.max_frames)
    rec = np.asarray(rec)
    tr, te = np.flatnonzero(rec <= 8), np.flatnonzero(rec >= 9)
    y = np.asarray(labels)
    print(
        f"rat dyads S1, bouts >= {args.min_frames} frames (at most {args.max_frames}): "
        f"{len(tr)} train clips (recordings 1-8), {len(te)} test clips (9-12); "
        f"test counts {dict(zip(classes, [int((y[te] == c).sum()) for c in classes], strict=True))}; "
        f"loaded in {time.perf_counter() - t0:.1f} s"
    )
    rows = []
    for name, X, swap in (
        ("interaction", dyads, lambda r: r[::-1]),
        ("baseline (rats concatenated)", joined, swap_joined),
    ):
        t = time.perf_counter()
        m = skelbehave.fit([X[i] for i in tr], y[tr], random_state=args.seed)
        fit_s = time.perf_counter() - t
        t = time.perf_counter()
        pred = m.predict([X[i] for i in te])
        pred_s = time.perf_counter() - t
        pred_sw = m.predict([swap(X[i]) for i in te])
        f1 = f1_score(y[te], pred, labels=classes, average=None)
        rows.append((name, f1_score(y[te], pred, labels=classes, average="macro"), f1, fit_s, pred_s,
                     float((pred != pred_sw).mean())))  # fmt: skip
    print(f"{'model':30s} {'macro F1':>8s} " + " ".join(f"{c:>10s}" for c in classes)
          + f" {'fit s':>7s} {'pred s':>7s} {'changed by swap':>15s}")  # fmt: skip
    for name, mf1, f1, fs, ps, ch in rows:
        print(f"{name:30s} {mf1:8.3f} " + " ".join(f"{v:10.3f}" for v in f1)
              + f" {fs:7.1f} {ps:7.1f} {ch:14.1%}")  # fmt: skip


if __name__ == "__main__":
    main()
