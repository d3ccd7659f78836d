"""The :class:`Dataset` container, class names, standard splits and where data sets live."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import PoseDataError, PoseFileNotFoundError
from ..poses import PoseSequence

__all__ = [
    "CALMS21_ACTIONS",
    "Dataset",
    "KINECT_FPS",
    "MSR_ACTIONS",
    "MSR_FPS",
    "NTU_TRAIN_SUBJECTS",
    "PRECOG_ACTIONS",
    "PRECOG_CITATION",
    "RAT_FPS",
    "RAT_STREAMS",
    "RAT_TRAIN_RECORDINGS",
    "TRAIN_SUBJECTS",
    "UTD_ACTIONS",
    "data_root",
]

MSR_ACTIONS = {
    1: "high arm wave",
    2: "horizontal arm wave",
    3: "hammer",
    4: "hand catch",
    5: "forward punch",
    6: "high throw",
    7: "draw x",
    8: "draw tick",
    9: "draw circle",
    10: "hand clap",
    11: "two hand wave",
    12: "side boxing",
    13: "bend",
    14: "forward kick",
    15: "side kick",
    16: "jogging",
    17: "tennis swing",
    18: "tennis serve",
    19: "golf swing",
    20: "pick up and throw",
}
"""MSR Action3D action names (Li, Zhang & Liu, CVPR workshops 2010)."""

UTD_ACTIONS = {
    1: "right arm swipe to the left",
    2: "right arm swipe to the right",
    3: "right hand wave",
    4: "two hand front clap",
    5: "right arm throw",
    6: "cross arms in the chest",
    7: "basketball shoot",
    8: "right hand draw x",
    9: "right hand draw circle (clockwise)",
    10: "right hand draw circle (counter clockwise)",
    11: "draw triangle",
    12: "bowling (right hand)",
    13: "front boxing",
    14: "baseball swing from right",
    15: "tennis right hand forehand swing",
    16: "arm curl (two arms)",
    17: "tennis serve",
    18: "two hand push",
    19: "right hand knock on door",
    20: "right hand catch an object",
    21: "right hand pick up and throw",
    22: "jogging in place",
    23: "walking in place",
    24: "sit to stand",
    25: "stand to sit",
    26: "forward lunge (left foot forward)",
    27: "squat (two arms stretch out)",
}
"""UTD-MHAD action names (Chen, Jafari & Kehtarnavaz, ICIP 2015; dataset web page)."""

PRECOG_ACTIONS = {
    0: "no action",
    1: "right punch",
    2: "left punch",
    3: "front right kick",
    4: "front left kick",
    5: "side right kick",
    6: "side left kick",
    7: "back fist",
    8: "elbow strike",
}
"""PRECOG labels; 0 = no action (the background class of the continuous streams)."""

CALMS21_ACTIONS = {0: "attack", 1: "investigation", 2: "mount", 3: "other"}
"""CalMS21 task 1 label ids (Sun et al., 2021)."""

RAT_STREAMS = {
    "S1": ("base", "social", "nonsocial", "aggression"),
    "S2": ("base", "lateralthreat", "keepdown", "clinch", "uprightposture", "freezing", "bite", "chase"),
}
"""Behaviour streams of the rat social data set; code = position, 0 = base."""

PRECOG_CITATION = (
    "PRECOG data set of aggressive actions, D. Jardim et al., 2016; (c) 2016 David Jardim, MIT licence. "
    "Described in: D. Jardim, L. Nunes, M. Dias, Human Activity Recognition from automatically labeled "
    "data in RGB-D videos, CEEC 2016."
)

# Kinect v1 (MSR Action3D, UTD-MHAD, PRECOG) and Kinect v2 (NTU) skeleton streams run at 30 Hz;
# MSR Action3D was captured at 15 frames per second (Li et al., 2010, section 4).
MSR_FPS = 15.0
KINECT_FPS = 30.0
RAT_FPS = 30.0

NTU_TRAIN_SUBJECTS = (1, 2, 4, 5, 8, 9, 13, 14, 15, 16, 17, 18, 19, 25, 27, 28, 31, 34, 35, 38)
"""NTU RGB+D cross-subject training performers (Shahroudy et al., CVPR 2016)."""
RAT_TRAIN_RECORDINGS = (1, 2, 3, 4, 5, 6, 7, 8)

#: standard training subjects per data set (``Dataset.name``); the others are test subjects
TRAIN_SUBJECTS: dict[str, tuple[int, ...] | None] = {
    "msr_action3d": (1, 3, 5, 7, 9),
    "utd_mhad": (1, 3, 5, 7),
    "precog_2016": (1, 3, 5, 7, 9, 11),
    "ntu_rgbd": NTU_TRAIN_SUBJECTS,
    "rat_social_dlc": RAT_TRAIN_RECORDINGS,
    "calms21_mouse083": None,
}

_SUBDIRS = {
    "msr": "msr_action3d",
    "utd": "utd_mhad",
    "precog": "precog_2016",
    "ntu": "ntu_rgbd_samples",
    "rat": "rat_social_dlc",
    "calms21": "calms21_mouse083",
}


# ----------------------------------------------------------------------------- Dataset
@dataclass
class Dataset:
    """Pose sequences with labels, subjects and a standard split.

    Attributes
    ----------
    name : str
        Data set name, e.g. ``"msr_action3d"``.
    sequences : list of PoseSequence
        One per clip / recording (``meta`` names the source file and ids).
    labels : ndarray of int, or list of ndarray of int
        Clip-level: one label per sequence (array of shape (n,)). Frame-level
        (``frame_level=True``): one int array per sequence, one label per frame.
    subjects : ndarray of int
        Subject (performer) id per sequence; for animal data, the recording id.
    class_names : dict of int to str
        Label code -> name.
    train_subjects : tuple of int or None
        Subjects of the standard training set; the rest are test subjects.
        None when the data set has no cross-subject split (one recording).
    frame_level : bool
        Whether ``labels`` are per frame.
    info : dict
        Free-form notes: fps source, split source, cleaning applied.

    Examples
    --------
    >>> from skelbehave.datasets import load_precog
    >>> ds = load_precog()
    >>> tr, te = ds.train_test_split()
    >>> sorted(set(ds.subjects[tr].tolist()))
    [1, 3, 5, 7, 9, 11]
    >>> ds.subset(te).name
    'precog_2016'
    """

    name: str
    sequences: list[PoseSequence]
    labels: Any
    subjects: np.ndarray
    class_names: dict[int, str]
    train_subjects: tuple[int, ...] | None
    frame_level: bool = False
    info: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.subjects = np.asarray(self.subjects, dtype=np.int64)
        n = len(self.sequences)
        if self.frame_level:
            self.labels = [np.asarray(y, dtype=np.int64) for y in self.labels]
            for i, (s, y) in enumerate(zip(self.sequences, self.labels, strict=True)):
                if y.shape != (s.n_frames,):
                    raise PoseDataError(
                        f"{self.name}: sequence {i} has {s.n_frames} frames but {y.shape} frame labels",
                        path=s.meta.get("source"),
                    )
        else:
            self.labels = np.asarray(self.labels, dtype=np.int64)
        if len(self.labels) != n or len(self.subjects) != n:
            raise PoseDataError(
                f"{self.name}: {n} sequences, {len(self.labels)} labels, {len(self.subjects)} subjects"
            )

    def __len__(self) -> int:
        return len(self.sequences)

    def __repr__(self) -> str:
        kind = "frame labels" if self.frame_level else "clip labels"
        return (
            f"Dataset({self.name!r}, {len(self)} sequences, {self.n_frames} frames, "
            f"{len(self.class_names)} classes, {kind}, subjects={sorted(set(self.subjects.tolist()))})"
        )

    @property
    def n_frames(self) -> int:
        """Total number of frames over all sequences."""
        return int(sum(s.n_frames for s in self.sequences))

    @property
    def label_names(self) -> list:
        """Class names of the labels (a list of str, or of str arrays for frame labels)."""
        if self.frame_level:
            names = np.array([self.class_names.get(k, str(k)) for k in range(max(self.class_names) + 1)])
            return [names[y] for y in self.labels]
        return [self.class_names[int(k)] for k in self.labels]

    def train_test_split(self) -> tuple[np.ndarray, np.ndarray]:
        """Indices of the standard cross-subject training and test sequences.

        Returns
        -------
        train, test : ndarray of int
            Positions into :attr:`sequences` (use :meth:`subset` for Datasets).
        """
        if self.train_subjects is None:
            raise PoseDataError(
                f"{self.name} has no cross-subject split (all sequences come from one recording/subject)"
            )
        is_train = np.isin(self.subjects, self.train_subjects)
        return np.flatnonzero(is_train), np.flatnonzero(~is_train)

    def subset(self, indices) -> Dataset:
        """A Dataset with the sequences at ``indices`` (same class names and split)."""
        idx = np.asarray(indices, dtype=np.int64).reshape(-1)
        labels = [self.labels[i] for i in idx] if self.frame_level else self.labels[idx]
        return Dataset(
            name=self.name,
            sequences=[self.sequences[i] for i in idx],
            labels=labels,
            subjects=self.subjects[idx],
            class_names=dict(self.class_names),
            train_subjects=self.train_subjects,
            frame_level=self.frame_level,
            info=dict(self.info),
        )

    def class_counts(self) -> dict[str, int]:
        """Sequences (clip labels) or frames (frame labels) per class name."""
        if self.frame_level:
            y = np.concatenate(self.labels) if self.labels else np.zeros(0, np.int64)
        else:
            y = self.labels
        codes, counts = np.unique(y, return_counts=True)
        return {self.class_names.get(int(c), str(c)): int(n) for c, n in zip(codes, counts, strict=True)}


# ----------------------------------------------------------------------------- helpers
def data_root() -> Path:
    """The default data folder: ``$SKELBEHAVE_DATA`` or ``../shared/data``.

    Examples
    --------
    >>> import os
    >>> data_root() == (Path(os.environ["SKELBEHAVE_DATA"]) if "SKELBEHAVE_DATA" in os.environ
    ...                 else Path("../shared/data"))
    True
    """
    env = os.environ.get("SKELBEHAVE_DATA")
    return Path(env) if env else Path("..") / "shared" / "data"


def _resolve(root, key: str) -> Path:
    sub = _SUBDIRS[key]
    base = data_root() if root is None else Path(os.fspath(root))
    if (base / sub).is_dir():
        return base / sub
    if root is not None and base.is_dir():
        return base  # the data set's own folder
    raise PoseFileNotFoundError(
        f"data set folder not found: looked for {base / sub} and {base}; pass root=... or set "
        "SKELBEHAVE_DATA to the folder that holds it",
        path=base / sub,
    )


def _progress(items, progress: bool, desc: str):
    if not progress:
        return items
    from tqdm.auto import tqdm

    return tqdm(items, desc=desc)
