"""Ablation studies of the descriptors and their encoding: (a) feature counts, (b) fusion, (c) encoders."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pandas as pd

from ..datasets import Dataset
from .core import (
    PAPER_DISPLACEMENT_GROUPS,
    PAPER_POSITION_GROUPS,
    _max_groups,
    _run_encoding_configs,
    _split,
    load_dataset,
)

__all__ = ["encoders", "feature_counts", "fusion"]


# --------------------------------------------------------------------------- (a) feature counts
def feature_counts(
    dataset: str | Dataset = "msr_action3d",
    *,
    seeds: Iterable[int] = (0, 1, 2),
    displacement_groups: Sequence[int] | None = None,
    position_groups: Sequence[int] | None = None,
    overlapping: Sequence[bool] = (False, True),
    fixed_position_groups: int = PAPER_POSITION_GROUPS,
    fixed_displacement_groups: int = PAPER_DISPLACEMENT_GROUPS,
    encoder: str = "vlad",
    n_clusters: int = 16,
    pyramid_levels: int = 3,
    encoder_params: Mapping[str, Any] | None = None,
    feature_params: Mapping[str, Any] | None = None,
    classifier=None,
    classes: Sequence[int] | None = None,
    root=None,
    timing_repeats: int = 3,
    n_jobs: int | None = 1,
    progress: bool = True,
) -> pd.DataFrame:
    """(a) Accuracy, macro F1 and extraction time against the number of joint groups.

    Two one-factor sweeps around the paper's choice: the number of
    displacement groups (1 up to the layout's maximum) with
    ``fixed_position_groups`` position groups, then the number of position
    groups with ``fixed_displacement_groups`` displacement groups; each with
    non-overlapping and overlapping groups.

    Parameters
    ----------
    dataset : str or Dataset
        A registry name with clip labels (``"msr_action3d"``, ``"utd_mhad"``, ...) or a Dataset.
    seeds : iterable of int
        Seeds of the encoder (K-means) and classifier.
    displacement_groups, position_groups : sequence of int, optional
        Group counts swept (default 1..``layout.max_groups``; an empty list skips that sweep).
    overlapping : sequence of bool
        Group kinds compared.
    fixed_position_groups, fixed_displacement_groups : int
        Count of the other kind during each sweep (0 = that kind alone).
    encoder, n_clusters, pyramid_levels, encoder_params :
        Encoding (``encoder_params`` adds further encoder parameters).
    feature_params : mapping, optional
        Further :class:`~skelbehave.features.JointFeatures` parameters.
    classifier : str or estimator, optional
        Head on the encoded vectors: a name of :func:`skelbehave.models.heads.make_head`
        (default ``"svm"``, the registry's defaults) or a scikit-learn classifier.
    classes : sequence of int, optional
        Restrict to these classes (small budgets).
    root : path, optional
        Data folder.
    timing_repeats : int
        Repeats of each timing (the best is kept).
    n_jobs : int
        numba threads of the feature extraction.
    progress : bool
        tqdm progress bar.

    Returns
    -------
    DataFrame
        Tidy rows; parameter columns ``sweep`` (``"displacement"`` or
        ``"position"``), ``n_groups`` (the swept count),
        ``n_position_groups``, ``n_displacement_groups``, ``overlapping``.

    Examples
    --------
    >>> df = feature_counts("msr_action3d", seeds=[0], displacement_groups=[1, 4],
    ...                     position_groups=[], overlapping=[False])  # doctest: +SKIP
    >>> sorted(df.metric.unique())  # doctest: +SKIP
    ['accuracy', 'encode_time_s', 'feature_time_s', 'fit_time_s', 'macro_f1', 'n_features']
    """
    ds = load_dataset(dataset, root=root, classes=classes)
    split = _split(ds)
    top = _max_groups(ds)
    disp = list(range(1, top + 1)) if displacement_groups is None else list(displacement_groups)
    pos = list(range(1, top + 1)) if position_groups is None else list(position_groups)
    eparams = {"n_clusters": n_clusters, "pyramid_levels": pyramid_levels, **(encoder_params or {})}
    configs = []
    for sweep, counts in (("displacement", disp), ("position", pos)):
        for ov in overlapping:
            for n in counts:
                npg, ndg = (
                    (fixed_position_groups, n) if sweep == "displacement" else (n, fixed_displacement_groups)
                )
                label = f"{sweep} {n} ({'overlapping' if ov else 'non-overlapping'})"
                params = {
                    "sweep": sweep,
                    "n_groups": int(n),
                    "n_position_groups": int(npg),
                    "n_displacement_groups": int(ndg),
                    "overlapping": bool(ov),
                }
                fparams = {
                    **(feature_params or {}),
                    "n_position_groups": int(npg),
                    "n_displacement_groups": int(ndg),
                    "overlapping": bool(ov),
                }
                configs.append((label, params, fparams, encoder, eparams))
    return _run_encoding_configs(
        "feature_counts",
        split,
        configs,
        seeds=list(seeds),
        classifier=classifier,
        timing_repeats=timing_repeats,
        n_jobs=n_jobs,
        progress=progress,
    )


# --------------------------------------------------------------------------- (b) fusion
def fusion(
    dataset: str | Dataset = "msr_action3d",
    *,
    seeds: Iterable[int] = (0, 1, 2),
    n_position_groups: int = PAPER_POSITION_GROUPS,
    n_displacement_groups: int = PAPER_DISPLACEMENT_GROUPS,
    encoder: str = "vlad",
    n_clusters: int = 16,
    pyramid_levels: int = 3,
    encoder_params: Mapping[str, Any] | None = None,
    feature_params: Mapping[str, Any] | None = None,
    classifier=None,
    classes: Sequence[int] | None = None,
    root=None,
    timing_repeats: int = 3,
    n_jobs: int | None = 1,
    progress: bool = True,
) -> pd.DataFrame:
    """(b) Relative position only vs relative displacement only vs their fusion.

    Parameters are those of :func:`feature_counts`; the three configurations
    are ``"position"`` (``n_position_groups`` groups, no displacement),
    ``"displacement"`` and ``"fusion"`` (both). Parameter columns: ``features``,
    ``n_position_groups``, ``n_displacement_groups``.

    Returns
    -------
    DataFrame
        Tidy rows (see the module documentation).

    Examples
    --------
    >>> df = fusion("utd_mhad", seeds=[0])  # doctest: +SKIP
    >>> df[df.metric == "accuracy"].groupby("config").value.mean()  # doctest: +SKIP
    """
    ds = load_dataset(dataset, root=root, classes=classes)
    split = _split(ds)
    eparams = {"n_clusters": n_clusters, "pyramid_levels": pyramid_levels, **(encoder_params or {})}
    configs = []
    for name, npg, ndg in (
        ("position", n_position_groups, 0),
        ("displacement", 0, n_displacement_groups),
        ("fusion", n_position_groups, n_displacement_groups),
    ):
        params = {"features": name, "n_position_groups": int(npg), "n_displacement_groups": int(ndg)}
        fparams = {**(feature_params or {}), "n_position_groups": int(npg), "n_displacement_groups": int(ndg)}
        configs.append((name, params, fparams, encoder, eparams))
    return _run_encoding_configs(
        "fusion",
        split,
        configs,
        seeds=list(seeds),
        classifier=classifier,
        timing_repeats=timing_repeats,
        n_jobs=n_jobs,
        progress=progress,
    )


# --------------------------------------------------------------------------- (c) encoders
def encoders(
    dataset: str | Dataset = "msr_action3d",
    *,
    seeds: Iterable[int] = (0, 1, 2),
    encoder_names: Sequence[str] = ("bow", "fisher", "vlad"),
    n_clusters: Sequence[int] = (8, 16, 32, 64),
    n_components: Sequence[int | None] = (2, 4, 8, None),
    pyramid_levels: Sequence[int] = (1, 2, 3, 4),
    base_n_clusters: int = 16,
    base_pyramid_levels: int = 3,
    feature_params: Mapping[str, Any] | None = None,
    classifier=None,
    classes: Sequence[int] | None = None,
    root=None,
    timing_repeats: int = 1,
    n_jobs: int | None = 1,
    progress: bool = True,
) -> pd.DataFrame:
    """(c) Bag of words vs Fisher vector vs VLAD, codebook size, PCA dimensions, pyramid levels.

    For every encoder, three one-factor sweeps around a base configuration
    (``base_n_clusters`` codewords, all PCA dimensions, ``base_pyramid_levels``
    levels): the codebook size, the PCA dimensions kept per group, the
    temporal pyramid levels. Descriptors: the paper's 6 position + 4
    displacement groups (override with ``feature_params``).

    Returns
    -------
    DataFrame
        Tidy rows; parameter columns ``factor`` (``"n_clusters"``,
        ``"n_components"`` or ``"pyramid_levels"``), ``encoder``,
        ``n_clusters``, ``n_components`` (0 = all), ``pyramid_levels``.

    Examples
    --------
    >>> df = encoders("msr_action3d", seeds=[0], n_clusters=[8], n_components=[],
    ...               pyramid_levels=[])  # doctest: +SKIP
    >>> sorted(df.encoder.unique())  # doctest: +SKIP
    ['bow', 'fisher', 'vlad']
    """
    ds = load_dataset(dataset, root=root, classes=classes)
    split = _split(ds)
    fparams = {
        "n_position_groups": PAPER_POSITION_GROUPS,
        "n_displacement_groups": PAPER_DISPLACEMENT_GROUPS,
        **(feature_params or {}),
    }
    configs = []
    seen = set()
    for enc in encoder_names:
        for factor, values in (
            ("n_clusters", n_clusters),
            ("n_components", n_components),
            ("pyramid_levels", pyramid_levels),
        ):
            for v in values:
                k = int(v) if factor == "n_clusters" else base_n_clusters
                c = (None if v is None else int(v)) if factor == "n_components" else None
                p = int(v) if factor == "pyramid_levels" else base_pyramid_levels
                label = f"{enc} {factor}={'all' if v is None else v}"
                if label in seen:
                    continue
                seen.add(label)
                params = {
                    "factor": factor,
                    "encoder": enc,
                    "n_clusters": k,
                    "n_components": 0 if c is None else c,
                    "pyramid_levels": p,
                }
                eparams = {"n_clusters": k, "n_components": c, "pyramid_levels": p}
                configs.append((label, params, fparams, enc, eparams))
    return _run_encoding_configs(
        "encoders",
        split,
        configs,
        seeds=list(seeds),
        classifier=classifier,
        timing_repeats=timing_repeats,
        n_jobs=n_jobs,
        progress=progress,
    )
