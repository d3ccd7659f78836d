"""Ablation runners: the method's experiments on real data, as tidy tables.

Every runner loads a data set (by name, ``"msr_action3d"`` or ``"utd_mhad"``,
or a :class:`~skelbehave.datasets.Dataset`), trains on the standard
cross-subject training subjects, tests on the others, and returns a tidy
:class:`pandas.DataFrame` with **one row per configuration x seed x metric**:

========================  ==========================================================
column                    meaning
========================  ==========================================================
``study``                 ``"feature_counts"``, ``"fusion"``, ``"encoders"``,
                          ``"pruning"`` or ``"cnn_options"``
``dataset``               data set name
``config``                short human-readable label of the configuration
*parameter columns*       the swept parameters (e.g. ``n_displacement_groups``)
``seed``                  random seed (K-means / CNN initialisation)
``metric``                ``accuracy``, ``macro_f1``, ``feature_time_s``, ...
``value``                 the measured number
========================  ==========================================================

Metrics of the descriptor + encoding studies (a)-(c):

- ``accuracy``, ``macro_f1`` on the test subjects;
- ``feature_time_s``: wall time of :meth:`JointFeatures.transform` on the
  *whole* data set (:func:`time_features`: best of ``timing_repeats`` rounds
  interleaved over all configurations of the study, after one warm-up call, so
  numba compilation is excluded; the same value for every seed);
- ``encode_time_s``: encoder fit on the training descriptors plus transform
  of all descriptors;
- ``fit_time_s``: encoder fit + classifier fit (training cost);
- ``n_features``: length of the encoded vector.

Metrics of the CNN studies (d)-(e): ``accuracy``, ``macro_f1``, ``params``
(parameters of the inference network), ``macs`` (multiply-accumulates for
one sequence, from :func:`skelbehave.models.cnn.model_cost` (Torch-Pruning's
counter), else convolution and linear layers counted with forward hooks), ``latency_ms`` (prediction time
per test sequence, one thread, best of ``timing_repeats``), ``fit_time_s``.

The classifier on top of the encoded vectors is a linear SVM
(``LinearSVC(C=1)``) unless ``classifier`` says otherwise; any scikit-learn
classifier instance is accepted (it is cloned).

Examples
--------
>>> from skelbehave import ablation
>>> df = ablation.fusion("msr_action3d", seeds=[0], n_clusters=8)  # doctest: +SKIP
>>> df.pivot_table(index="config", columns="metric", values="value")  # doctest: +SKIP
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .datasets import Dataset, load_msr_action3d, load_utd_mhad

__all__ = [
    "STUDIES",
    "DATASETS",
    "cnn_options",
    "encoders",
    "feature_counts",
    "fusion",
    "load_dataset",
    "pruning",
    "run_study",
    "summarize",
    "time_features",
]

logger = logging.getLogger(__name__)

DATASETS: dict[str, Callable[..., Dataset]] = {
    "msr_action3d": load_msr_action3d,
    "utd_mhad": load_utd_mhad,
}

#: the paper's choice (DESIGN.md section 3): 6 position groups, 4 displacement groups
PAPER_POSITION_GROUPS = 6
PAPER_DISPLACEMENT_GROUPS = 4


# --------------------------------------------------------------------------- data
def load_dataset(
    dataset: str | Dataset,
    *,
    root=None,
    classes: Sequence[int] | None = None,
    subjects: Sequence[int] | None = None,
) -> Dataset:
    """A data set by name (or as given), optionally restricted to some classes/subjects.

    Parameters
    ----------
    dataset : str or Dataset
        ``"msr_action3d"`` or ``"utd_mhad"`` (read from ``root``, see
        :mod:`skelbehave.datasets`), or a ready :class:`Dataset`.
    root : path, optional
        Data folder (default ``$SKELBEHAVE_DATA`` or ``../shared/data``).
    classes : sequence of int, optional
        Keep only these label codes (small budgets for notebooks and tests).
    subjects : sequence of int, optional
        Keep only these subjects (must include training and test subjects).

    Returns
    -------
    Dataset

    Examples
    --------
    >>> ds = load_dataset("msr_action3d", classes=[1, 2, 3])  # doctest: +SKIP
    >>> sorted(set(ds.labels.tolist()))  # doctest: +SKIP
    [1, 2, 3]
    """
    if isinstance(dataset, Dataset):
        ds = dataset
    else:
        key = str(dataset).lower().replace("-", "_")
        if key not in DATASETS:
            raise ValueError(f"unknown dataset {dataset!r}; expected one of {sorted(DATASETS)} or a Dataset")
        ds = DATASETS[key](root)
    if ds.frame_level:
        raise ValueError(f"{ds.name} has frame labels; the ablation studies need clip labels")
    keep = np.ones(len(ds), dtype=bool)
    if classes is not None:
        keep &= np.isin(ds.labels, np.asarray(list(classes)))
    if subjects is not None:
        keep &= np.isin(ds.subjects, np.asarray(list(subjects)))
    if not keep.all():
        ds = ds.subset(np.flatnonzero(keep))
    if len(ds) == 0:
        raise ValueError(f"no sequence of {ds.name} left for classes={classes}, subjects={subjects}")
    return ds


@dataclass
class _Split:
    ds: Dataset
    train: np.ndarray
    test: np.ndarray

    @property
    def X_train(self) -> list:
        return [self.ds.sequences[i] for i in self.train]

    @property
    def X_test(self) -> list:
        return [self.ds.sequences[i] for i in self.test]

    @property
    def y_train(self) -> np.ndarray:
        return self.ds.labels[self.train]

    @property
    def y_test(self) -> np.ndarray:
        return self.ds.labels[self.test]


def _split(ds: Dataset) -> _Split:
    tr, te = ds.train_test_split()
    if len(tr) == 0 or len(te) == 0:
        raise ValueError(
            f"{ds.name}: the cross-subject split leaves {len(tr)} training, {len(te)} test sequences"
        )
    return _Split(ds, tr, te)


def _progress(items: list, progress: bool, desc: str):
    if not progress:
        return items
    from tqdm.auto import tqdm

    return tqdm(items, desc=desc, leave=False)


def _scores(y_true, y_pred) -> dict[str, float]:
    from sklearn.metrics import accuracy_score, f1_score

    return {
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "macro_f1": float(f1_score(y_true, y_pred, average="macro", zero_division=0)),
    }


def _rows(study: str, dataset: str, config: str, params: Mapping[str, Any], seed, metrics: Mapping) -> list:
    base = {"study": study, "dataset": dataset, "config": config, **params, "seed": seed}
    return [{**base, "metric": k, "value": float(v)} for k, v in metrics.items()]


def _make_classifier(classifier, seed: int):
    from sklearn.base import clone

    if classifier is None or classifier == "svm":
        from sklearn.svm import LinearSVC

        return LinearSVC(C=1.0, max_iter=5000, random_state=seed)
    if classifier == "logistic":
        from sklearn.linear_model import LogisticRegression

        return LogisticRegression(C=10.0, max_iter=2000, random_state=seed)
    if isinstance(classifier, str):
        raise ValueError(f"unknown classifier {classifier!r}; expected 'svm', 'logistic' or an estimator")
    est = clone(classifier)
    if "random_state" in est.get_params():
        est.set_params(random_state=seed)
    return est


# --------------------------------------------------------------------------- descriptor + encoding core
def _best_time(fn: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    best, out = np.inf, None
    for _ in range(max(1, repeats)):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


class _DescriptorCache:
    """Descriptors of train and test sequences per feature configuration (seed-independent)."""

    def __init__(self, split: _Split, n_jobs: int | None) -> None:
        self.split = split
        self.n_jobs = n_jobs
        self._cache: dict[tuple, tuple] = {}

    def get(self, feature_params: Mapping[str, Any]):
        from .features import JointFeatures

        key = tuple(sorted(feature_params.items()))
        if key not in self._cache:
            feats = JointFeatures(n_jobs=self.n_jobs, **feature_params).fit(self.split.ds.sequences[:1])
            Dtr = feats.transform(self.split.X_train)
            Dte = feats.transform(self.split.X_test)
            self._cache = {key: (feats, Dtr, Dte)}  # keep one: descriptors can be large
        return self._cache[key]


def time_features(
    dataset: str | Dataset,
    feature_configs: Sequence[Mapping[str, Any]],
    *,
    repeats: int = 5,
    n_jobs: int | None = 1,
    root=None,
    classes: Sequence[int] | None = None,
) -> list[float]:
    """Feature-extraction time of each configuration on the whole data set, in seconds.

    :meth:`JointFeatures.transform` of every sequence, after one warm-up call
    (numba compilation is not timed). The configurations are timed in
    ``repeats`` interleaved rounds (all configurations, then all again, ...)
    and the best round is kept, so a change of load on a shared machine hits
    every configuration alike.

    Parameters
    ----------
    dataset : str or Dataset
    feature_configs : sequence of mapping
        :class:`~skelbehave.features.JointFeatures` parameters per configuration.
    repeats : int
        Rounds.
    n_jobs : int
        numba threads.
    root, classes :
        As in :func:`load_dataset`.

    Returns
    -------
    list of float

    Examples
    --------
    >>> configs = [{"n_displacement_groups": 1}, {"n_displacement_groups": 6}]
    >>> t1, t6 = time_features("msr_action3d", configs, repeats=3)  # doctest: +SKIP
    """
    from .features import JointFeatures

    ds = load_dataset(dataset, root=root, classes=classes)
    seqs = ds.sequences
    feats = [JointFeatures(n_jobs=n_jobs, **p).fit(seqs[:1]) for p in feature_configs]
    for f in feats:
        f.transform(seqs[:2])
    best = np.full(len(feats), np.inf)
    for _ in range(max(1, repeats)):
        for k, f in enumerate(feats):
            t0 = time.perf_counter()
            f.transform(seqs)
            best[k] = min(best[k], time.perf_counter() - t0)
    return best.tolist()


def _encode_and_classify(
    Dtr, Dte, split: _Split, encoder: str, encoder_params: Mapping[str, Any], classifier, seed: int
) -> dict[str, float]:
    from .encoding import make_encoder

    enc = make_encoder(encoder, random_state=seed, **encoder_params)
    t0 = time.perf_counter()
    Xtr = enc.fit_transform(Dtr)
    t_fit_enc = time.perf_counter() - t0
    t0 = time.perf_counter()
    Xte = enc.transform(Dte)
    t_enc_te = time.perf_counter() - t0
    clf = _make_classifier(classifier, seed)
    t0 = time.perf_counter()
    clf.fit(Xtr, split.y_train)
    t_clf = time.perf_counter() - t0
    pred = clf.predict(Xte)
    return {
        **_scores(split.y_test, pred),
        "encode_time_s": t_fit_enc + t_enc_te,
        "fit_time_s": t_fit_enc + t_clf,
        "n_features": Xtr.shape[1],
    }


def _run_encoding_configs(
    study: str,
    split: _Split,
    configs: list[tuple[str, dict, dict, str, dict]],
    *,
    seeds: Sequence[int],
    classifier,
    timing_repeats: int,
    n_jobs: int | None,
    progress: bool,
) -> pd.DataFrame:
    """configs: (label, table params, feature params, encoder name, encoder params)."""
    cache = _DescriptorCache(split, n_jobs)
    # feature-extraction time per distinct feature configuration, interleaved rounds
    fkeys = list(dict.fromkeys(tuple(sorted(c[2].items())) for c in configs))
    times = dict(
        zip(
            fkeys,
            time_features(split.ds, [dict(k) for k in fkeys], repeats=timing_repeats, n_jobs=n_jobs),
            strict=True,
        )
    )
    rows: list[dict] = []
    # group by feature params so each descriptor set is computed once
    order = sorted(range(len(configs)), key=lambda i: repr(sorted(configs[i][2].items())))
    for i in _progress(order, progress, f"{study} ({split.ds.name})"):
        label, params, fparams, enc_name, eparams = configs[i]
        _, Dtr, Dte = cache.get(fparams)
        for seed in seeds:
            metrics = {"feature_time_s": times[tuple(sorted(fparams.items()))]}
            metrics.update(_encode_and_classify(Dtr, Dte, split, enc_name, eparams, classifier, int(seed)))
            rows.extend(_rows(study, split.ds.name, label, params, int(seed), metrics))
            logger.info("%s %s seed %s: accuracy %.3f", study, label, seed, metrics["accuracy"])
    df = pd.DataFrame(rows)
    # restore the configuration order given (rows of one config stay together)
    rank = {c[0]: k for k, c in enumerate(configs)}
    df["_rank"] = df["config"].map(rank)
    return df.sort_values(["_rank", "seed"], kind="stable").drop(columns="_rank").reset_index(drop=True)


def _max_groups(ds: Dataset) -> int:
    return int(ds.sequences[0].layout.max_groups)


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
        ``"msr_action3d"``, ``"utd_mhad"`` or a clip-labelled Dataset.
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
    classifier : "svm", "logistic" or estimator, optional
        Classifier on the encoded vectors (default linear SVM).
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


# --------------------------------------------------------------------------- CNN helpers
def _cnn_classifier(**params):
    from .models.cnn import CNNClassifier

    return CNNClassifier(**params)


def _count_macs(clf, X) -> float:
    """Multiply-accumulates of the fitted network for one sequence (conv + linear layers)."""
    try:  # the CNN package's own cost model, when it exists
        from .models.cnn import model_cost

        cost = model_cost(clf, repeats=1, batch_sizes=(1,))
        if isinstance(cost, Mapping) and "macs" in cost:
            return float(cost["macs"])
    except Exception:  # fall back to counting with hooks
        pass
    import torch
    from torch import nn

    total = [0.0]

    def conv_hook(mod, _inp, out):
        k = int(np.prod(mod.kernel_size))
        total[0] += float(out.numel() / out.shape[0]) * (mod.in_channels // mod.groups) * k

    def lin_hook(mod, _inp, out):
        total[0] += float(out.numel() / out.shape[0]) * mod.in_features

    handles = []
    for m in clf.network_.modules():
        if isinstance(m, nn.Conv1d | nn.Conv2d):
            handles.append(m.register_forward_hook(conv_hook))
        elif isinstance(m, nn.Linear):
            handles.append(m.register_forward_hook(lin_hook))
    try:
        with torch.no_grad():
            clf.stream_proba(X[:1])
    finally:
        for h in handles:
            h.remove()
    return total[0]


def _cnn_metrics(clf, split: _Split, timing_repeats: int) -> dict[str, float]:
    X = split.X_test
    latency, pred = _best_time(lambda: clf.predict(X), timing_repeats)
    return {
        **_scores(split.y_test, pred),
        "params": float(clf.n_parameters()),
        "macs": _count_macs(clf, X),
        "latency_ms": 1000.0 * latency / max(len(X), 1),
    }


#: a small, quick CNN budget used by the notebooks and tests
QUICK_CNN = {"channels": (16, 16, 32, 32), "n_frames": 32, "max_epochs": 8, "patience": 100}


# --------------------------------------------------------------------------- (d) pruning
def pruning(
    dataset: str | Dataset = "msr_action3d",
    *,
    seeds: Iterable[int] = (0, 1),
    ratios: Sequence[float] = (0.0, 0.25, 0.5, 0.65, 0.8),
    doconv: Sequence[bool] = (False, True),
    sparsity: float = 1e-4,
    finetune_epochs: int = 20,
    cnn_params: Mapping[str, Any] | None = None,
    classes: Sequence[int] | None = None,
    root=None,
    timing_repeats: int = 3,
    n_threads: int | None = 1,
    progress: bool = True,
) -> pd.DataFrame:
    """(d) Pruning ratio vs parameters, MACs, latency and accuracy, with and without DO-Conv.

    For each DO-Conv setting and seed, one :class:`~skelbehave.models.cnn.CNNClassifier`
    is trained with the BatchNorm L1 penalty (``sparsity``), then pruned
    physically to every ratio in ``ratios`` (ratio 0 is the unpruned network)
    and fine-tuned for ``finetune_epochs`` epochs.

    Parameters
    ----------
    dataset : str or Dataset
    seeds : iterable of int
    ratios : sequence of float
        Global fractions of channels removed.
    doconv : sequence of bool
        Train with over-parameterised convolutions (folded for inference) or not.
    sparsity : float
        L1 factor on BatchNorm scales during training.
    finetune_epochs : int
        Fine-tuning epochs after each pruning.
    cnn_params : mapping, optional
        Further CNNClassifier parameters (budget: ``max_epochs``, ``channels``,
        ``n_frames`` ...); :data:`QUICK_CNN` is a small budget.
    classes, root, timing_repeats :
        As in :func:`feature_counts`.
    n_threads : int or None
        Torch CPU threads.
    progress : bool

    Returns
    -------
    DataFrame
        Tidy rows; parameter columns ``doconv``, ``prune_ratio``; metrics
        ``accuracy``, ``macro_f1``, ``params``, ``macs``, ``latency_ms``,
        ``fit_time_s`` (training, plus pruning and fine-tuning for ratio > 0).

    Examples
    --------
    >>> df = pruning("msr_action3d", seeds=[0], ratios=[0, 0.5], cnn_params=QUICK_CNN)  # doctest: +SKIP
    """
    ds = load_dataset(dataset, root=root, classes=classes)
    split = _split(ds)
    rows: list[dict] = []
    jobs = [(dc, int(s)) for dc in doconv for s in seeds]
    for dc, seed in _progress(jobs, progress, f"pruning ({ds.name})"):
        params = {
            **(cnn_params or {}),
            "doconv": bool(dc),
            "sparsity": sparsity,
            "random_state": seed,
            "n_threads": n_threads,
        }
        t0 = time.perf_counter()
        base = _cnn_classifier(**params).fit(split.X_train, split.y_train)
        t_fit = time.perf_counter() - t0
        for r in ratios:
            t0 = time.perf_counter()
            model = (
                base
                if r == 0
                else base.prune(split.X_train, split.y_train, ratio=float(r), finetune_epochs=finetune_epochs)
            )
            t_prune = time.perf_counter() - t0
            metrics = _cnn_metrics(model, split, timing_repeats)
            metrics["fit_time_s"] = t_fit + (t_prune if r else 0.0)
            label = f"{'DO-Conv' if dc else 'plain'} pruned {round(100 * r)}%"
            rows.extend(
                _rows("pruning", ds.name, label, {"doconv": bool(dc), "prune_ratio": float(r)}, seed, metrics)
            )
            logger.info("pruning %s seed %s: accuracy %.3f", label, seed, metrics["accuracy"])
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- (e) CNN options
#: each option of the CNN, as CNNClassifier parameters changed from the baseline
CNN_OPTIONS: dict[str, dict[str, Any]] = {
    "baseline (two-stream)": {},
    "non-local block": {"non_local": True},
    "residual coefs normal": {"residual_coefs": "normal"},
    "motion excitation": {"motion_excitation": True},
    "temporal shift": {"temporal_shift": True},
    "DO-Conv": {"doconv": True},
    "position stream only": {"streams": ("position",)},
    "motion stream only": {"streams": ("motion",)},
}


def cnn_options(
    dataset: str | Dataset = "msr_action3d",
    *,
    seeds: Iterable[int] = (0, 1),
    options: Sequence[str] | None = None,
    cnn_params: Mapping[str, Any] | None = None,
    classes: Sequence[int] | None = None,
    root=None,
    timing_repeats: int = 3,
    n_threads: int | None = 1,
    progress: bool = True,
) -> pd.DataFrame:
    """(e) Each CNN option on and off against a two-stream baseline.

    The options (:data:`CNN_OPTIONS`): a non-local block, the normal-curve
    residual coefficient profile, motion excitation, the adaptive temporal
    shift, DO-Conv, and two-stream fusion (the baseline) against each single
    stream.

    Parameters
    ----------
    dataset, seeds, classes, root, timing_repeats, n_threads, progress :
        As in :func:`pruning`.
    options : sequence of str, optional
        Keys of :data:`CNN_OPTIONS` (default all).
    cnn_params : mapping, optional
        Baseline CNNClassifier parameters (the budget).

    Returns
    -------
    DataFrame
        Tidy rows; parameter column ``option``; metrics ``accuracy``,
        ``macro_f1``, ``params``, ``macs``, ``latency_ms``, ``fit_time_s``.

    Examples
    --------
    >>> df = cnn_options("utd_mhad", seeds=[0], options=["baseline (two-stream)", "non-local block"],
    ...                  cnn_params=QUICK_CNN)  # doctest: +SKIP
    """
    ds = load_dataset(dataset, root=root, classes=classes)
    split = _split(ds)
    names = list(CNN_OPTIONS) if options is None else list(options)
    unknown = [n for n in names if n not in CNN_OPTIONS]
    if unknown:
        raise ValueError(f"unknown CNN options {unknown}; expected some of {list(CNN_OPTIONS)}")
    rows: list[dict] = []
    jobs = [(n, int(s)) for n in names for s in seeds]
    for name, seed in _progress(jobs, progress, f"cnn options ({ds.name})"):
        params = {**(cnn_params or {}), **CNN_OPTIONS[name], "random_state": seed, "n_threads": n_threads}
        t0 = time.perf_counter()
        clf = _cnn_classifier(**params).fit(split.X_train, split.y_train)
        t_fit = time.perf_counter() - t0
        metrics = _cnn_metrics(clf, split, timing_repeats)
        metrics["fit_time_s"] = t_fit
        rows.extend(_rows("cnn_options", ds.name, name, {"option": name}, seed, metrics))
        logger.info("cnn option %s seed %s: accuracy %.3f", name, seed, metrics["accuracy"])
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- summaries and the CLI entry
STUDIES: dict[str, Callable[..., pd.DataFrame]] = {
    "feature-counts": feature_counts,
    "fusion": fusion,
    "encoders": encoders,
    "pruning": pruning,
    "cnn-options": cnn_options,
}


def summarize(df: pd.DataFrame, metrics: Sequence[str] | None = None) -> pd.DataFrame:
    """Mean and standard deviation over seeds, one row per configuration, ``metric_mean``/``metric_std``.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"study": "fusion", "dataset": "d", "config": ["a", "a"], "seed": [0, 1],
    ...                    "metric": "accuracy", "value": [0.5, 0.7]})
    >>> summarize(df)[["config", "accuracy_mean", "n_seeds"]].round(2).values.tolist()
    [['a', 0.6, 2]]
    """
    if metrics is not None:
        df = df[df["metric"].isin(list(metrics))]
    keys = [c for c in df.columns if c not in ("seed", "metric", "value")]
    agg = df.groupby([*keys, "metric"], sort=False, dropna=False)["value"].agg(["mean", "std"])
    wide = agg.unstack("metric")
    metric_order = list(dict.fromkeys(df["metric"]))
    wide.columns = [f"{m}_{s}" for s, m in wide.columns]
    order = [f"{m}_{s}" for m in metric_order for s in ("mean", "std")]
    wide = wide[[c for c in order if c in wide.columns]].reset_index()
    n = df.groupby(keys, sort=False, dropna=False)["seed"].nunique().rename("n_seeds").reset_index()
    return wide.merge(n, on=keys, how="left")


def run_study(
    what: str,
    dataset: str | Dataset = "msr_action3d",
    out: str | Path = "ablation",
    *,
    plot: bool = True,
    tag: str | None = None,
    **options,
) -> dict[str, Path]:
    """Run one study, write its tidy table (CSV), its summary and its figures (PNG) into ``out``.

    Parameters
    ----------
    what : {"feature-counts", "fusion", "encoders", "pruning", "cnn-options"}
    dataset : str or Dataset
    out : path
        Output folder (created).
    plot : bool
        Also write the figures.
    tag : str, optional
        Suffix of the file names (variants of one study side by side).
    **options :
        Passed to the runner (``seeds``, budgets ...).

    Returns
    -------
    dict of str -> Path
        ``"table"``, ``"summary"`` and one entry per figure.

    Examples
    --------
    >>> paths = run_study("fusion", "msr_action3d", "out/", seeds=[0])  # doctest: +SKIP
    >>> paths["table"].name  # doctest: +SKIP
    'fusion_msr_action3d.csv'
    """
    from ._util.fs import atomic_write

    key = what.lower().replace("_", "-")
    if key not in STUDIES:
        raise ValueError(f"unknown study {what!r}; expected one of {sorted(STUDIES)}")
    df = STUDIES[key](dataset, **options)
    name = df["dataset"].iloc[0] if len(df) else str(dataset)
    stem = f"{key.replace('-', '_')}_{name}" + (f"_{tag}" if tag else "")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {"table": out / f"{stem}.csv", "summary": out / f"{stem}_summary.csv"}
    with atomic_write(paths["table"]) as fh:
        df.to_csv(fh, index=False)
    with atomic_write(paths["summary"]) as fh:
        summarize(df).to_csv(fh, index=False, float_format="%.6g")
    if plot:
        paths.update(_study_figures(key, df, out, stem))
    return paths


def _study_figures(key: str, df: pd.DataFrame, out: Path, stem: str) -> dict[str, Path]:
    import matplotlib

    if matplotlib.get_backend().lower() not in ("agg", "module://matplotlib_inline.backend_inline"):
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from . import plots

    figs: dict[str, Path] = {}

    def save(fig, suffix: str) -> None:
        path = out / f"{stem}{suffix}.png"
        fig.tight_layout()
        fig.savefig(path, dpi=90)
        plt.close(fig)
        figs[f"figure{suffix}"] = path

    if key == "feature-counts":
        for sweep in ("displacement", "position"):
            if (df["sweep"] == sweep).any():
                fig, ax = plt.subplots(figsize=(6, 4))
                plots.plot_feature_counts(df, sweep=sweep, ax=ax)
                save(fig, f"_{sweep}")
    elif key == "fusion":
        fig, ax = plt.subplots(figsize=(5, 4))
        plots.plot_fusion(df, ax=ax)
        save(fig, "")
    elif key == "encoders":
        factors = [f for f in ("n_clusters", "n_components", "pyramid_levels") if (df["factor"] == f).any()]
        fig, axes = plt.subplots(1, len(factors), figsize=(5 * len(factors), 4), squeeze=False)
        for ax, f in zip(axes[0], factors, strict=True):
            plots.plot_encoders(df, factor=f, ax=ax)
        save(fig, "")
    elif key == "pruning":
        fig, axes = plt.subplots(1, 2, figsize=(10, 4))
        plots.plot_pruning_tradeoff(df, x="prune_ratio", ax=axes[0])
        plots.plot_pruning_tradeoff(df, x="params", ax=axes[1])
        save(fig, "")
    elif key == "cnn-options":
        fig, ax = plt.subplots(figsize=(6, 4))
        plots.plot_cnn_options(df, ax=ax)
        save(fig, "")
    return figs
