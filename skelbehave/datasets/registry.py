"""One registry of the data sets the package knows: how to load each, and how to use it.

Every command and study that takes a data set by name (``skelbehave fit
precog``, ``skelbehave ablate fusion --dataset utd_mhad``, the benchmarks)
looks it up here: loader and its fixed options, clip or frame labels, labels
left out of training and scoring, the background class, the standard split
and a one-line description.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from ..errors import UnknownDatasetError
from .base import TRAIN_SUBJECTS, Dataset
from .clips import load_msr_action3d, load_ntu_skeleton, load_utd_mhad
from .streams import load_calms21, load_precog, load_rat_social

__all__ = ["DATASETS", "DatasetSpec", "dataset_names", "get_dataset_spec", "load_dataset"]


@dataclass(frozen=True)
class DatasetSpec:
    """What the package knows about one data set.

    Attributes
    ----------
    name : str
        Registry name (``"precog"``, ``"msr_action3d"``, ...).
    loader : callable
        ``loader(root, **options)`` returns a :class:`Dataset`.
    frame_level : bool
        True: one label per frame (continuous recordings); False: one per clip.
    description : str
        One line: content, classes, subjects.
    options : mapping
        Fixed keyword arguments of ``loader`` for this entry (e.g. ``trimmed=True``).
    ignore_labels : tuple of str
        Labels that are not behaviours: left out of training and scoring.
    background_labels : tuple of str
        Background classes: predicted, but not averaged in the macro F1.
    train_subjects : tuple of int or None
        Standard training subjects (recordings for animals); the rest are
        test subjects. None: no cross-subject split.
    split : str
        Where the split comes from.
    embedded : bool
        Loadable without a data folder (a copy ships with the package).

    Examples
    --------
    >>> spec = get_dataset_spec("precog")
    >>> spec.frame_level, spec.background_labels, spec.train_subjects
    (True, ('no action',), (1, 3, 5, 7, 9, 11))
    """

    name: str
    loader: Callable[..., Dataset]
    frame_level: bool
    description: str
    options: Mapping[str, Any] = field(default_factory=dict)
    ignore_labels: tuple[str, ...] = ()
    background_labels: tuple[str, ...] = ()
    train_subjects: tuple[int, ...] | None = None
    split: str = ""
    embedded: bool = False

    def load(self, root=None, **kwargs) -> Dataset:
        """Load the data set (from ``root``, the default data folder, or the embedded copy).

        Parameters
        ----------
        root : path-like, optional
            The data set's folder or its parent. Without it: the embedded copy
            when there is one, else ``$SKELBEHAVE_DATA`` or ``../shared/data``.
        **kwargs
            More loader options (e.g. ``progress=True``); they override :attr:`options`.

        Returns
        -------
        Dataset

        Examples
        --------
        >>> ds = get_dataset_spec("precog_trimmed").load()
        >>> len(ds), ds.frame_level
        (360, False)
        """
        opts = {**self.options, **kwargs}
        return self.loader(**opts) if root is None else self.loader(root, **opts)


def _spec(
    name: str, dataset: str, loader, frame_level: bool, description: str, split: str, **kw
) -> DatasetSpec:
    return DatasetSpec(
        name=name,
        loader=loader,
        frame_level=frame_level,
        description=description,
        train_subjects=TRAIN_SUBJECTS[dataset],
        split=split,
        **kw,
    )


_SPECS = (
    _spec(
        "msr_action3d", "msr_action3d", load_msr_action3d, False,
        "MSR Action3D: 557 clips, 20 actions, 10 subjects, Kinect v1 (20 joints), 15 fps",
        "cross-subject, train 1,3,5,7,9 (Wang et al. 2012)",
    ),
    _spec(
        "utd_mhad", "utd_mhad", load_utd_mhad, False,
        "UTD-MHAD: 861 clips, 27 actions, 8 subjects, Kinect v1 (20 joints), 30 fps",
        "cross-subject, train 1,3,5,7 (Chen et al. 2015)",
    ),
    _spec(
        "precog", "precog_2016", load_precog, True,
        "PRECOG: 72 continuous streams of 8 aggressive actions and 'no action', 12 subjects, Kinect v1",
        "package convention: train odd subjects, test even subjects",
        background_labels=("no action",), embedded=True,
    ),
    _spec(
        "precog_trimmed", "precog_2016", load_precog, False,
        "PRECOG segments: the 360 labelled action segments cut from the streams, one clip label each",
        "package convention: train odd subjects, test even subjects",
        options=MappingProxyType({"trimmed": True}), embedded=True,
    ),
    _spec(
        "rat_social", "rat_social_dlc", load_rat_social, True,
        "Rat dyads: 12 DeepLabCut recordings, stream S1 (base, social, nonsocial, aggression)",
        "package convention: train recordings 1-8, test 9-12",
        ignore_labels=("base",),
    ),
    _spec(
        "rat_social_s2", "rat_social_dlc", load_rat_social, True,
        "Rat dyads, stream S2 (7 fine behaviours and base); recordings 4 and 9 have no S2 labels",
        "package convention: train recordings 1-8, test 9-12",
        options=MappingProxyType({"stream": "S2"}), ignore_labels=("base",),
    ),
    _spec(
        "ntu_rgbd", "ntu_rgbd", load_ntu_skeleton, False,
        "NTU RGB+D samples: .skeleton files, one sequence per body, Kinect v2 (25 joints)",
        "official cross-subject performers (Shahroudy et al. 2016)",
    ),
    _spec(
        "calms21", "calms21_mouse083", load_calms21, True,
        "CalMS21 task 1, sequence mouse083: two mice x 7 keypoints, 4,881 labelled frames",
        "none (one recording)",
    ),
)  # fmt: skip

DATASETS: Mapping[str, DatasetSpec] = MappingProxyType({s.name: s for s in _SPECS})
"""Registry name -> :class:`DatasetSpec`."""

_ALIASES = {
    "precog_2016": "precog",
    "rat_social_dlc": "rat_social",
    "calms21_mouse083": "calms21",
    "ntu": "ntu_rgbd",
}


def get_dataset_spec(name: str) -> DatasetSpec:
    """The registry entry of a data set (``-`` and ``_`` and case do not matter).

    Raises
    ------
    UnknownDatasetError
        For a name the registry does not know; the message lists the known names.

    Examples
    --------
    >>> get_dataset_spec("UTD-MHAD").train_subjects
    (1, 3, 5, 7)
    """
    key = str(name).strip().lower().replace("-", "_")
    key = _ALIASES.get(key, key)
    if key not in DATASETS:
        raise UnknownDatasetError(f"unknown data set {name!r}; known: {', '.join(DATASETS)}")
    return DATASETS[key]


def dataset_names(*, frame_level: bool | None = None) -> tuple[str, ...]:
    """Registry names, optionally only those with frame (True) or clip (False) labels.

    Examples
    --------
    >>> dataset_names(frame_level=False)
    ('msr_action3d', 'utd_mhad', 'precog_trimmed', 'ntu_rgbd')
    """
    return tuple(n for n, s in DATASETS.items() if frame_level is None or s.frame_level == frame_level)


def load_dataset(name: str, root=None, **kwargs) -> Dataset:
    """Load a registered data set by name: ``get_dataset_spec(name).load(root, **kwargs)``.

    Examples
    --------
    >>> load_dataset("precog").n_frames
    19219
    """
    return get_dataset_spec(name).load(root, **kwargs)
