"""Shared parts of the ablation runners: data selection, split, classifier, timing, encoding core."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..datasets import Dataset, dataset_names, get_dataset_spec
from ..errors import PoseDataError
from ..models.heads import make_head

__all__ = ["PAPER_DISPLACEMENT_GROUPS", "PAPER_POSITION_GROUPS", "load_dataset", "time_features"]

logger = logging.getLogger("skelbehave.ablation")

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
        A registry name with clip labels (:func:`skelbehave.datasets.dataset_names`,
        e.g. ``"msr_action3d"``, ``"utd_mhad"``; read from ``root``), or a ready
        :class:`Dataset`.
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
        spec = get_dataset_spec(dataset)
        if spec.frame_level:
            raise PoseDataError(
                f"{spec.name} has frame labels; the ablation studies need clip labels: "
                f"{', '.join(dataset_names(frame_level=False))}"
            )
        ds = spec.load(root)
    if ds.frame_level:
        raise PoseDataError(f"{ds.name} has frame labels; the ablation studies need clip labels")
    keep = np.ones(len(ds), dtype=bool)
    if classes is not None:
        keep &= np.isin(ds.labels, np.asarray(list(classes)))
    if subjects is not None:
        keep &= np.isin(ds.subjects, np.asarray(list(subjects)))
    if not keep.all():
        ds = ds.subset(np.flatnonzero(keep))
    if len(ds) == 0:
        raise PoseDataError(f"no sequence of {ds.name} left for classes={classes}, subjects={subjects}")
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
        raise PoseDataError(
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
    """A head of the one head registry (default ``"svm"``) or a clone of an estimator, seeded."""
    est = make_head("svm" if classifier is None else classifier, random_state=seed)
    if not isinstance(classifier, str | None) and "random_state" in est.get_params():
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
        from ..features import JointFeatures

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
    from ..features import JointFeatures

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
    from ..encoding import make_encoder

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
