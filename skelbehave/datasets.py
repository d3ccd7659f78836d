"""Loaders for public skeleton datasets read from a local folder.

Every loader returns a :class:`Dataset`: the pose sequences, their labels
(one int per sequence for trimmed clips, or one int array per sequence with a
label per frame for continuous recordings), subject ids, class names and the
standard cross-subject split (:meth:`Dataset.train_test_split`).

Where the data live: ``root`` is either the dataset's own folder or the folder
holding it under its usual name (``msr_action3d``, ``utd_mhad``,
``precog_2016``, ``ntu_rgbd_samples``, ``rat_social_dlc``,
``calms21_mouse083``). Without ``root``, the environment variable
``SKELBEHAVE_DATA`` or ``../shared/data`` (relative to the working directory)
is used. Nothing is cached on disk.

PRECOG (MIT licence) ships inside the package in a compact lossless float32
form: :func:`load_precog` without ``root`` reads it, so the demo runs anywhere.

Examples
--------
>>> ds = load_precog()                      # embedded copy, no download
>>> len(ds), ds.n_frames
(72, 19219)
>>> train, test = ds.train_test_split()
>>> len(train) + len(test)
72
"""

from __future__ import annotations

import io as _io
import logging
import lzma
import os
import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from .errors import PoseDataError, PoseFileNotFoundError
from .layouts import JointLayout
from .poses import PoseSequence

__all__ = [
    "Dataset",
    "data_root",
    "load_msr_action3d",
    "load_utd_mhad",
    "load_precog",
    "load_ntu_skeleton",
    "load_rat_social",
    "load_calms21",
    "precog_segments",
    "demo_summary",
    "MSR_ACTIONS",
    "UTD_ACTIONS",
    "PRECOG_ACTIONS",
    "PRECOG_CITATION",
]

logger = logging.getLogger(__name__)

# ----------------------------------------------------------------------------- class names
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
    """The default data folder: ``$SKELBEHAVE_DATA`` or ``../shared/data``."""
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


def _ints(pattern: str, name: str, path) -> tuple[int, ...]:
    m = re.fullmatch(pattern, name)
    if m is None:
        raise PoseDataError(f"file name does not match {pattern!r}", path=path)
    return tuple(int(g) for g in m.groups())


def _progress(items, progress: bool, desc: str):
    if not progress:
        return items
    from tqdm.auto import tqdm

    return tqdm(items, desc=desc)


# ----------------------------------------------------------------------------- MSR Action3D
def read_msr_skeleton(path) -> PoseSequence:
    """One MSR Action3D ``*_skeleton3D.txt`` file (20 lines ``x y z c`` per frame).

    All-zero frames (no skeleton found) become NaN; ``c`` is the confidence.

    Examples
    --------
    >>> import os
    >>> f = "../shared/data/msr_action3d/a01_s01_e01_skeleton3D.txt"
    >>> read_msr_skeleton(f).layout.name if os.path.exists(f) else "msr20"
    'msr20'
    """
    path = Path(path)
    if not path.is_file():
        raise PoseFileNotFoundError("no such file", path=path)
    text = path.read_text(encoding="ascii", errors="replace")
    try:
        vals = np.array(text.split(), dtype=np.float64)
    except ValueError:
        for k, ln in enumerate(text.splitlines(), 1):
            for c, tok in enumerate(ln.split(), 1):
                try:
                    float(tok)
                except ValueError:
                    raise PoseDataError(
                        f"expected a number, found {tok[:40]!r}", path=path, line=k, column=c
                    ) from None
        raise
    if vals.size == 0:
        raise PoseDataError("empty file; expected 20 lines 'x y z c' per frame", path=path, line=1)
    if vals.size % 80:
        lines = [ln for ln in text.splitlines() if ln.strip()]
        bad = next((k for k, ln in enumerate(lines) if len(ln.split()) != 4), None)
        if bad is not None:
            raise PoseDataError(
                f"expected 4 numbers 'x y z c', found {len(lines[bad].split())}", path=path, line=bad + 1
            )
        raise PoseDataError(
            f"expected 20 joint lines per frame (layout msr20), found {len(lines)} lines: "
            f"{len(lines) // 20} frames and {len(lines) % 20} extra lines (truncated?)",
            path=path,
        )
    if not np.isfinite(vals).all():
        raise PoseDataError("non-finite number in the file", path=path)
    arr = vals.reshape(-1, 20, 4)
    a, s, e = _ints(r"a(\d+)_s(\d+)_e(\d+)_skeleton3D\.txt", path.name, path)
    seq = PoseSequence(
        arr[:, :, :3],
        "msr20",
        fps=MSR_FPS,
        confidence=arr[:, :, 3],
        meta={"source": str(path), "action": a, "subject": s, "repetition": e, "units": "m"},
    )
    return seq.mark_zero_frames_missing()


def load_msr_action3d(root=None, *, subset: str = "cvpr12", progress: bool = False) -> Dataset:
    """MSR Action3D: 557 standard sequences, 20 actions, 10 subjects (Kinect v1, 20 joints).

    Parameters
    ----------
    root : path-like, optional
        The ``msr_action3d`` folder or its parent.
    subset : {"cvpr12", "all"}
        ``"cvpr12"``: the 557 sequences of ``files_used_in_cvpr12_paper.txt``
        (the standard protocol, Wang et al. CVPR 2012); ``"all"``: every file
        (567, including the all-zero ``a13_s09_e02``).
    progress : bool
        Show a progress bar.

    Returns
    -------
    Dataset
        Labels 1..20 (:data:`MSR_ACTIONS`), subjects 1..10, layout ``msr20``,
        fps 15 (the capture rate given by Li et al., 2010); all-zero frames are
        NaN. Split: train subjects 1, 3, 5, 7, 9.

    Examples
    --------
    >>> ds = load_msr_action3d()  # doctest: +SKIP
    >>> len(ds), len(set(ds.labels))  # doctest: +SKIP
    (557, 20)
    """
    folder = _resolve(root, "msr")
    if subset == "cvpr12":
        lst = folder / "files_used_in_cvpr12_paper.txt"
        if not lst.is_file():
            raise PoseFileNotFoundError("the standard list of 557 sequences is missing", path=lst)
        names = [ln.strip() for ln in lst.read_text().splitlines() if ln.strip()]
        files = [folder / f"{n}_skeleton3D.txt" for n in names]
    elif subset == "all":
        files = sorted(folder.glob("a*_s*_e*_skeleton3D.txt"))
    else:
        raise ValueError(f"subset must be 'cvpr12' or 'all', got {subset!r}")
    seqs = [read_msr_skeleton(f) for f in _progress(files, progress, "MSR Action3D")]
    return Dataset(
        name="msr_action3d",
        sequences=seqs,
        labels=[s.meta["action"] for s in seqs],
        subjects=[s.meta["subject"] for s in seqs],
        class_names=dict(MSR_ACTIONS),
        train_subjects=(1, 3, 5, 7, 9),
        info={"fps": "15 fps (Li et al. 2010)", "split": "cross-subject, train 1,3,5,7,9 (Wang et al. 2012)"},
    )


# ----------------------------------------------------------------------------- UTD-MHAD
# UTD order: head, shoulder_center, spine, hip_center, then the limbs as kinect_v1.
_UTD_TO_KINECT = np.r_[3, 2, 1, 0, 4:20]


def read_utd_skeleton(path) -> PoseSequence:
    """One UTD-MHAD ``aA_sS_tT_skeleton.mat`` file, reordered to the ``kinect_v1`` layout.

    Examples
    --------
    >>> import os
    >>> f = "../shared/data/utd_mhad/a1_s1_t1_skeleton.mat"
    >>> read_utd_skeleton(f).n_joints if os.path.exists(f) else 20
    20
    """
    from scipy.io import loadmat

    path = Path(path)
    if not path.is_file():
        raise PoseFileNotFoundError("no such file", path=path)
    try:
        mat = loadmat(path)
    except Exception as exc:  # scipy raises several types for corrupt files
        raise PoseDataError(f"not a readable MATLAB file: {exc}", path=path) from None
    if "d_skel" not in mat:
        raise PoseDataError(
            f"expected a variable 'd_skel', found {sorted(k for k in mat if not k.startswith('__'))}",
            path=path,
        )
    d = np.asarray(mat["d_skel"], dtype=np.float64)
    if d.ndim != 3 or d.shape[:2] != (20, 3):
        raise PoseDataError(f"'d_skel' must have shape (20, 3, frames), found {d.shape}", path=path)
    pos = d.transpose(2, 0, 1)[:, _UTD_TO_KINECT]
    a, s, t = _ints(r"a(\d+)_s(\d+)_t(\d+)_skeleton\.mat", path.name, path)
    seq = PoseSequence(
        pos, "kinect_v1", fps=KINECT_FPS, meta={"source": str(path), "action": a, "subject": s, "trial": t}
    )
    return seq.mark_zero_frames_missing()


def load_utd_mhad(root=None, *, progress: bool = False) -> Dataset:
    """UTD-MHAD skeletons: 861 sequences, 27 actions, 8 subjects (Kinect v1).

    Joints are reordered from the UTD order to the ``kinect_v1`` layout.
    fps 30 (Kinect v1 skeleton stream). Split: train subjects 1, 3, 5, 7.

    Examples
    --------
    >>> ds = load_utd_mhad()  # doctest: +SKIP
    >>> len(ds), len(set(ds.labels))  # doctest: +SKIP
    (861, 27)
    """
    folder = _resolve(root, "utd")
    files = sorted(
        folder.glob("a*_s*_t*_skeleton.mat"),
        key=lambda p: _ints(r"a(\d+)_s(\d+)_t(\d+)_skeleton\.mat", p.name, p),
    )
    if not files:
        raise PoseFileNotFoundError("no aA_sS_tT_skeleton.mat files", path=folder)
    seqs = [read_utd_skeleton(f) for f in _progress(files, progress, "UTD-MHAD")]
    return Dataset(
        name="utd_mhad",
        sequences=seqs,
        labels=[s.meta["action"] for s in seqs],
        subjects=[s.meta["subject"] for s in seqs],
        class_names=dict(UTD_ACTIONS),
        train_subjects=(1, 3, 5, 7),
        info={"fps": "30 (Kinect v1)", "split": "cross-subject, train 1,3,5,7 (Chen et al. 2015)"},
    )


# ----------------------------------------------------------------------------- PRECOG
_PRECOG_JOINTS = (
    "HipCenter Spine ShoulderCenter Head ShoulderLeft ElbowLeft WristLeft HandLeft ShoulderRight "
    "ElbowRight WristRight HandRight HipLeft KneeLeft AnkleLeft FootLeft HipRight KneeRight AnkleRight "
    "FootRight"
).split()


def read_precog_csv(path) -> tuple[np.ndarray, np.ndarray]:
    """One PRECOG ``SeqK_P.csv``: positions (T, 20, 3) float64 and labels (T,) int.

    Examples
    --------
    >>> import os
    >>> f = "../shared/data/precog_2016/Seq1_1.csv"
    >>> read_precog_csv(f)[0].shape[1:] if os.path.exists(f) else (20, 3)
    (20, 3)
    """
    path = Path(path)
    if not path.is_file():
        raise PoseFileNotFoundError("no such file", path=path)
    raw = path.read_bytes()
    try:
        text = raw.decode("ascii")
    except UnicodeDecodeError as exc:
        raise PoseDataError(f"not ASCII text (byte {exc.start})", path=path) from None
    lines = text.splitlines()
    if not lines or not text.strip():
        raise PoseDataError("empty file; expected a header naming 20 joints", path=path, line=1)
    head = [h.strip() for h in lines[0].split(";")]
    if head != _PRECOG_JOINTS:
        raise PoseDataError(
            f"expected the header {'; '.join(_PRECOG_JOINTS)}, found {lines[0][:120]!r}", path=path, line=1
        )
    body = lines[1:]
    while body and not body[-1].strip():
        body.pop()
    if not body:
        raise PoseDataError("no frames after the header", path=path, line=2)
    counts = [ln.count(";") for ln in body]
    if any(c != 20 for c in counts):
        r = next(i for i, c in enumerate(counts) if c != 20)
        raise PoseDataError(
            f"expected 21 ';'-separated fields (20 joints 'x y z' and a label), found {counts[r] + 1}",
            path=path,
            line=r + 2,
        )
    try:
        vals = np.array(" ".join(body).replace(";", " ").split(), dtype=np.float64)
    except ValueError:
        vals = None
    if vals is None or vals.size != 61 * len(body):
        for r, ln in enumerate(body):
            parts = ln.split(";")
            for k, p in enumerate(parts[:20]):
                toks = p.split()
                if len(toks) != 3:
                    raise PoseDataError(
                        f"joint {_PRECOG_JOINTS[k]}: expected 3 numbers 'x y z', found {len(toks)}",
                        path=path,
                        line=r + 2,
                        column=k + 1,
                    )
                for t in toks:
                    try:
                        float(t)
                    except ValueError:
                        raise PoseDataError(
                            f"joint {_PRECOG_JOINTS[k]}: expected a number, found {t[:40]!r}",
                            path=path,
                            line=r + 2,
                            column=k + 1,
                        ) from None
            if len(parts[20].split()) != 1:
                raise PoseDataError(
                    f"expected one label, found {parts[20][:40]!r}", path=path, line=r + 2, column=21
                )
        raise PoseDataError("could not parse the numbers", path=path)  # pragma: no cover
    arr = vals.reshape(len(body), 61)
    lab = arr[:, 60]
    ok = (lab == np.round(lab)) & (lab >= 0) & (lab <= 8)
    if not ok.all():
        r = int(np.flatnonzero(~ok)[0])
        raise PoseDataError(
            f"label must be an integer 0..8, found {lab[r]:g}", path=path, line=r + 2, column=21
        )
    if not np.isfinite(arr).all():
        r = int(np.flatnonzero(~np.isfinite(arr).all(axis=1))[0])
        raise PoseDataError("non-finite coordinate", path=path, line=r + 2)
    return arr[:, :60].reshape(-1, 20, 3), lab.astype(np.int64)


def _precog_from_csv(folder: Path, progress: bool):
    files = sorted(folder.glob("Seq*_*.csv"), key=lambda p: _ints(r"Seq(\d+)_(\d+)\.csv", p.name, p))
    if not files:
        raise PoseFileNotFoundError("no SeqK_P.csv files", path=folder)
    out = []
    for f in _progress(files, progress, "PRECOG"):
        k, p = _ints(r"Seq(\d+)_(\d+)\.csv", f.name, f)
        pos, lab = read_precog_csv(f)
        out.append((f.name, k, p, pos, lab, str(f)))
    return out


_EMBEDDED = ("skelbehave._data", "precog/precog.npz")


def _pack_positions(pos32: np.ndarray) -> bytes:
    """Lossless float32 compression: time delta of the bit patterns, byte planes, xz."""
    bits = pos32.reshape(len(pos32), -1).view(np.int32)
    delta = np.diff(bits, axis=0, prepend=np.zeros((1, bits.shape[1]), np.int32))
    planes = np.ascontiguousarray(delta.T).view(np.uint8).reshape(-1, 4).T
    return lzma.compress(np.ascontiguousarray(planes).tobytes(), preset=9 | lzma.PRESET_EXTREME)


def _unpack_positions(blob: bytes, n_frames: int, n_values: int) -> np.ndarray:
    planes = np.frombuffer(lzma.decompress(blob), dtype=np.uint8).reshape(4, -1)
    delta = np.ascontiguousarray(planes.T).view(np.int32).reshape(n_values, n_frames).T
    bits = np.cumsum(delta, axis=0, dtype=np.int32)
    return bits.view(np.float32).reshape(n_frames, -1, 3)


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
        position_xz=np.frombuffer(_pack_positions(pos), dtype=np.uint8),
        n_frames=np.array(len(pos)),
        labels=lab,
        offsets=np.r_[0, np.cumsum(lengths)].astype(np.int64),
        script=np.array([s[1] for s in streams], dtype=np.int16),
        subject=np.array([s[2] for s in streams], dtype=np.int16),
        names=np.array([s[0] for s in streams]),
    )
    return out


def _precog_embedded():
    ref = resources.files(_EMBEDDED[0]).joinpath(_EMBEDDED[1])
    with np.load(_io.BytesIO(ref.read_bytes()), allow_pickle=False) as z:
        if int(z["format_version"]) != 1:
            raise PoseDataError("embedded PRECOG copy has an unknown format version", path=str(ref))
        n = int(z["n_frames"])
        pos = _unpack_positions(z["position_xz"].tobytes(), n, 60)
        lab, off = z["labels"].astype(np.int64), z["offsets"]
        script, subject, names = z["script"], z["subject"], z["names"]
    out = []
    for i in range(len(script)):
        a, b = int(off[i]), int(off[i + 1])
        src = f"skelbehave:_data/precog/{names[i]}"
        out.append(
            (str(names[i]), int(script[i]), int(subject[i]), pos[a:b].astype(np.float64), lab[a:b], src)
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
        train_subjects=(1, 3, 5, 7, 9, 11),
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


# ----------------------------------------------------------------------------- NTU RGB+D
NTU_TRAIN_SUBJECTS = (1, 2, 4, 5, 8, 9, 13, 14, 15, 16, 17, 18, 19, 25, 27, 28, 31, 34, 35, 38)
"""NTU RGB+D cross-subject training performers (Shahroudy et al., CVPR 2016)."""


def load_ntu_skeleton(path=None) -> Dataset:
    """NTU RGB+D ``.skeleton`` files: one sequence per body (tracking id).

    Parameters
    ----------
    path : path-like, optional
        A ``.skeleton`` file or a folder of them (default: the
        ``ntu_rgbd_samples`` folder under the data root).

    Returns
    -------
    Dataset
        Labels = action number (A), subjects = performer (P), layout ``ntu25``,
        fps 30. Split: the official cross-subject training performers.

    Examples
    --------
    >>> ds = load_ntu_skeleton()  # doctest: +SKIP
    >>> [s.meta["body_id"] for s in ds.sequences if s.meta["action"] == 58]  # doctest: +SKIP
    ['72057594037944738', '72057594037944734']
    """
    from .io.ntu import read_ntu_skeleton

    if path is None:
        p = _resolve(None, "ntu")
    else:
        p = Path(os.fspath(path))
        if not p.exists():
            raise PoseFileNotFoundError("no such file or folder", path=p)
    files = sorted(p.glob("*.skeleton")) if p.is_dir() else [p]
    if not files:
        raise PoseFileNotFoundError("no .skeleton files", path=p)
    seqs = [s for f in files for s in read_ntu_skeleton(f)]
    for s in seqs:
        if "action" not in s.meta:
            raise PoseDataError("file name must follow SsssCcccPpppRrrrAaaa.skeleton", path=s.meta["source"])
    return Dataset(
        name="ntu_rgbd",
        sequences=seqs,
        labels=[s.meta["action"] for s in seqs],
        subjects=[s.meta["subject"] for s in seqs],
        class_names={s.meta["action"]: f"A{s.meta['action']:03d}" for s in seqs},
        train_subjects=NTU_TRAIN_SUBJECTS,
        info={"fps": "30 (Kinect v2)", "split": "official cross-subject performers"},
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


def _read_label_csv(
    path: Path, columns: tuple[str, ...], optional: tuple[str, ...] = ()
) -> dict[str, np.ndarray]:
    import pandas as pd

    if not path.is_file():
        raise PoseFileNotFoundError("no such file", path=path)
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False)
    except Exception as exc:
        raise PoseDataError(f"not a readable CSV: {exc}", path=path) from None
    expected = ["frame", *columns]
    if list(df.columns) != expected and list(df.columns) != [*expected, *optional]:
        raise PoseDataError(
            f"expected columns {expected + list(optional)}, found {list(df.columns)}", path=path, line=1
        )
    frame = pd.to_numeric(df["frame"], errors="coerce").to_numpy()
    if len(frame) == 0:
        raise PoseDataError("no label rows", path=path, line=2)
    if not np.array_equal(frame, np.arange(len(frame))):
        r = int(np.flatnonzero(frame != np.arange(len(frame)))[0])
        raise PoseDataError(f"expected frame {r}, found {df['frame'].iloc[r]!r}", path=path, line=r + 2)
    return {c: df[c].to_numpy(dtype=str) for c in df.columns if c != "frame"}


def _codes(values: np.ndarray, names: tuple[str, ...], path: Path, column: str) -> np.ndarray:
    lookup = {n: k for k, n in enumerate(names)}
    out = np.empty(len(values), dtype=np.int64)
    for i, v in enumerate(values):
        k = lookup.get(v.strip())
        if k is None:
            raise PoseDataError(
                f"unknown label {v!r}; expected one of {list(names)}", path=path, line=i + 2, column=column
            )
        out[i] = k
    return out


RAT_FPS = 30.0
RAT_TRAIN_RECORDINGS = (1, 2, 3, 4, 5, 6, 7, 8)


def load_rat_social(root=None, *, stream: str = "S1", fps: float = RAT_FPS) -> Dataset:
    """Rat dyadic social behaviour: 12 DeepLabCut recordings with frame labels.

    Each recording is one sequence holding both rats (layout ``rat_dyad``:
    ``individual1_top ... individual2_tail-e``, 2-D pixels, groups = animals),
    confidence = DeepLabCut likelihood, missed detections NaN.

    Parameters
    ----------
    root : path-like, optional
        The ``rat_social_dlc`` folder or its parent.
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
        (``meta["dropped_unlabelled_frames"]``).

    Examples
    --------
    >>> ds = load_rat_social()  # doctest: +SKIP
    >>> len(ds), ds.sequences[0].layout.n_joints  # doctest: +SKIP
    (12, 10)
    """
    from .io.dlc import read_dlc_csv

    if stream not in RAT_STREAMS:
        raise ValueError(f"stream must be one of {list(RAT_STREAMS)}, got {stream!r}")
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
        lab_path = folder / "labels_per_frame" / f"{n}_labels.csv"
        cols = _read_label_csv(lab_path, ("S1",), optional=("S2",))
        if stream not in cols:
            logger.warning("%s has no %s labels: recording %d left out", lab_path, stream, n)
            skipped.append(n)
            continue
        y = _codes(cols[stream], RAT_STREAMS[stream], lab_path, stream)
        meta = {"recording": n, "subject": n, "animals": [a.meta["person"] for a in animals], "units": "px"}
        for other, vals in cols.items():
            if other != stream:
                meta[f"labels_{other}"] = _codes(vals, RAT_STREAMS[other], lab_path, other)
        seq = _combine(animals, "rat_dyad", str(csvs[n]), meta)
        extra = seq.n_frames - len(y)
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
        train_subjects=RAT_TRAIN_RECORDINGS,
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
    import pandas as pd

    from .io.dlc import read_dlc_csv

    folder = _resolve(root, "calms21")
    pose = folder / "mouse083_pose.csv"
    animals = read_dlc_csv(pose, fps=fps)
    lab_path = folder / "mouse083_labels.csv"
    cols = _read_label_csv(lab_path, ("label_id", "label"))
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
        train_subjects=None,
        frame_level=True,
        info={"fps": "30 (Sun et al. 2021)", "split": "none (one sequence)"},
    )


# ----------------------------------------------------------------------------- demo
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
