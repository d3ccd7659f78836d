"""Public skeleton data sets: one registry, loaders read from a local folder.

:data:`DATASETS` is the one registry of the data sets the package knows
(:class:`DatasetSpec`: loader, clip or frame labels, ignored and background
labels, standard split, description); :func:`load_dataset` loads one by name.
The file formats are read by :mod:`skelbehave.io` (``io.msr``, ``io.utd``,
``io.precog``, ``io.ntu``, ``io.dlc``, ``io.frame_labels``).

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
>>> sorted(DATASETS)[:3]
['calms21', 'msr_action3d', 'ntu_rgbd']
"""

from __future__ import annotations

from ..io.msr import read_msr_skeleton
from ..io.precog import read_precog_csv
from ..io.utd import read_utd_skeleton
from .base import (
    CALMS21_ACTIONS,
    KINECT_FPS,
    MSR_ACTIONS,
    MSR_FPS,
    NTU_TRAIN_SUBJECTS,
    PRECOG_ACTIONS,
    PRECOG_CITATION,
    RAT_FPS,
    RAT_STREAMS,
    RAT_TRAIN_RECORDINGS,
    TRAIN_SUBJECTS,
    UTD_ACTIONS,
    Dataset,
    data_root,
)
from .clips import load_msr_action3d, load_ntu_skeleton, load_utd_mhad
from .registry import DATASETS, DatasetSpec, dataset_names, get_dataset_spec, load_dataset
from .streams import (
    build_embedded_precog,
    demo_summary,
    load_calms21,
    load_precog,
    load_rat_social,
    precog_segments,
)

__all__ = [
    "DATASETS",
    "DatasetSpec",
    "dataset_names",
    "get_dataset_spec",
    "load_dataset",
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
    "build_embedded_precog",
    "read_msr_skeleton",
    "read_utd_skeleton",
    "read_precog_csv",
    "MSR_ACTIONS",
    "UTD_ACTIONS",
    "PRECOG_ACTIONS",
    "CALMS21_ACTIONS",
    "RAT_STREAMS",
    "PRECOG_CITATION",
    "MSR_FPS",
    "KINECT_FPS",
    "RAT_FPS",
    "NTU_TRAIN_SUBJECTS",
    "RAT_TRAIN_RECORDINGS",
    "TRAIN_SUBJECTS",
]
