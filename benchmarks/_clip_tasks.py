"""The clip datasets of ``../shared/data`` as train/test tasks, and the Rocket baselines run on them.

Four clip tasks, each split as its source defines (test subjects or
recordings never used for choices):

- ``msr_action3d``: 557 sequences, 20 actions, train subjects 1,3,5,7,9.
- ``utd_mhad``: 861 sequences, 27 actions, train subjects 1,3,5,7.
- ``precog_2016``: the trimmed action segments (8 actions), train subjects
  1,3,5,7,9,11.
- ``rat_dyads``: bouts of stream S1 of the rat dyads (social, nonsocial,
  aggression; 30-450 frames) cut as two-rat clips, train recordings 1-8,
  test 9-12 (``benchmarks/interactions.py``). skelbehave gets each clip as a
  recording (one sequence per rat); the baselines get both rats in one layout.

NTU holds six files (parser fixtures) and CalMS21 one sequence: neither can
be split by subject or recording, so neither is a task here.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from skelbehave import PoseSequence
from skelbehave.datasets import load_msr_action3d, load_precog, load_utd_mhad

HERE = Path(__file__).resolve().parent
TASKS = ("msr_action3d", "utd_mhad", "precog_2016", "rat_dyads")


@dataclass
class ClipTask:
    """One clip dataset split into training and test clips."""

    name: str
    X_train: list
    y_train: np.ndarray
    groups_train: np.ndarray
    X_test: list
    y_test: np.ndarray
    #: one sequence per clip (both individuals in one layout), for the baselines and the CNN
    flat_train: list[PoseSequence] = field(default_factory=list)
    flat_test: list[PoseSequence] = field(default_factory=list)

    @property
    def multi(self) -> bool:
        return bool(self.X_train) and not isinstance(self.X_train[0], PoseSequence)


def _from_dataset(ds) -> ClipTask:
    tr, te = ds.train_test_split()
    seqs, y = ds.sequences, np.asarray(ds.labels)
    Xtr, Xte = [seqs[i] for i in tr], [seqs[i] for i in te]
    return ClipTask(ds.name, Xtr, y[tr], np.asarray(ds.subjects)[tr], Xte, y[te], Xtr, Xte)


def _rat_dyads() -> ClipTask:
    sys.path.insert(0, str(HERE))
    from interactions import rat_dyad_clips

    d_tr, j_tr, y_tr, r_tr = rat_dyad_clips(range(1, 9))
    d_te, j_te, y_te, _ = rat_dyad_clips(range(9, 13))
    return ClipTask("rat_dyads", d_tr, np.asarray(y_tr), np.asarray(r_tr), d_te, np.asarray(y_te), j_tr, j_te)


def load_task(name: str) -> ClipTask:
    if name == "msr_action3d":
        return _from_dataset(load_msr_action3d())
    if name == "utd_mhad":
        return _from_dataset(load_utd_mhad())
    if name == "precog_2016":
        return _from_dataset(load_precog(trimmed=True))
    if name == "rat_dyads":
        return _rat_dyads()
    raise ValueError(f"unknown task {name!r}; expected one of {TASKS}")


def cv_folds(task: ClipTask) -> list[np.ndarray]:
    """Validation folds of the training clips: a training subject each; the rats, pairs of recordings."""
    g = task.groups_train
    if task.name == "rat_dyads":
        return [np.flatnonzero(np.isin(g, pair)) for pair in ((1, 2), (3, 4), (5, 6), (7, 8))]
    return [np.flatnonzero(g == s) for s in np.unique(g)]


# ----------------------------------------------------------------------------- Rocket baselines
def rocket_input(seqs: list[PoseSequence], n_frames: int = 64) -> np.ndarray:
    """(n, J*C, n_frames) float64: gaps filled, resampled, root-centred (no root: the joints' mean)."""
    out = []
    for s in seqs:
        p = s.position
        ok = ~np.isnan(p).all(axis=(1, 2))
        if ok.sum() >= 2:
            s = s.copy(position=p[ok], confidence=None)
        s = s.fill_gaps(max_gap=10 * s.n_frames)
        r = s.resample(n_frames).position  # (T, J, C)
        roots = s.layout.root_indices
        if len(roots) == 0 or len(roots) == s.layout.n_joints:
            roots = np.arange(s.layout.n_joints)
        with warnings.catch_warnings():  # frames where no root joint is seen: 0 after nan_to_num
            warnings.simplefilter("ignore", RuntimeWarning)
            root = np.nanmean(r[:, roots], axis=1, keepdims=True)
        r = np.nan_to_num(r - root)
        out.append(r.reshape(n_frames, -1).T)
    return np.stack(out).astype(np.float64)


def rocket_python(explicit: str | None) -> str | None:
    """The interpreter that can import aeon: this one, ``explicit``, or $SKELBEHAVE_ROCKET_PYTHON."""
    for cand in (explicit, os.environ.get("SKELBEHAVE_ROCKET_PYTHON")):
        if cand:
            return cand
    try:
        import aeon  # noqa: F401
    except ImportError:
        return None
    return sys.executable


def run_rockets(
    tasks: dict[str, tuple[list, np.ndarray, list]], python: str, repeats: int = 1, seed: int = 0
) -> dict[str, dict[str, tuple[np.ndarray, float, float]]]:
    """``{task: {method: (pred, fit_s, pred_s)}}``; input preparation (resampling) is not timed.

    ``tasks`` maps a name to (train sequences, train labels, test sequences).
    """
    arrays = {}
    for name, (Xtr, ytr, Xte) in tasks.items():
        arrays[f"{name}/X_train"] = rocket_input(Xtr)
        arrays[f"{name}/y_train"] = np.asarray(ytr).astype(str)
        arrays[f"{name}/X_test"] = rocket_input(Xte)
    with tempfile.TemporaryDirectory() as d:
        inp, outp = Path(d) / "in.npz", Path(d) / "out.npz"
        np.savez(inp, **arrays)
        cmd = [python, str(HERE / "_rocket.py"), str(inp), str(outp), "--repeats", str(repeats)]
        subprocess.run([*cmd, "--seed", str(seed)], check=True)
        with np.load(outp, allow_pickle=False) as z:
            res: dict[str, dict[str, tuple[np.ndarray, float, float]]] = {}
            for key in z.files:
                name, method, what = key.rsplit("/", 2)
                if what == "pred":
                    fit_s, pred_s = z[f"{name}/{method}/seconds"]
                    res.setdefault(name, {})[method] = (z[key], float(fit_s), float(pred_s))
    return res
