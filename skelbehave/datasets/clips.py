"""Loaders of the trimmed-clip data sets: MSR Action3D, UTD-MHAD, NTU RGB+D samples."""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import ParameterError, PoseDataError, PoseFileNotFoundError
from ..io.filenames import ids_from_name
from ..io.msr import read_msr_skeleton
from ..io.ntu import read_ntu_skeleton
from ..io.utd import read_utd_skeleton
from .base import MSR_ACTIONS, TRAIN_SUBJECTS, UTD_ACTIONS, Dataset, _progress, _resolve

__all__ = ["load_msr_action3d", "load_ntu_skeleton", "load_utd_mhad"]


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
        raise ParameterError(f"subset must be 'cvpr12' or 'all', got {subset!r}")
    seqs = [read_msr_skeleton(f) for f in _progress(files, progress, "MSR Action3D")]
    return Dataset(
        name="msr_action3d",
        sequences=seqs,
        labels=[s.meta["action"] for s in seqs],
        subjects=[s.meta["subject"] for s in seqs],
        class_names=dict(MSR_ACTIONS),
        train_subjects=TRAIN_SUBJECTS["msr_action3d"],
        info={"fps": "15 fps (Li et al. 2010)", "split": "cross-subject, train 1,3,5,7,9 (Wang et al. 2012)"},
    )


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
        key=lambda p: ids_from_name(r"a(\d+)_s(\d+)_t(\d+)_skeleton\.mat", p.name, p),
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
        train_subjects=TRAIN_SUBJECTS["utd_mhad"],
        info={"fps": "30 (Kinect v1)", "split": "cross-subject, train 1,3,5,7 (Chen et al. 2015)"},
    )


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
        train_subjects=TRAIN_SUBJECTS["ntu_rgbd"],
        info={"fps": "30 (Kinect v2)", "split": "official cross-subject performers"},
    )
