"""Ablation studies of the lightweight CNN: (d) pruning, (e) each CNN option."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..datasets import Dataset
from ..errors import ParameterError
from .core import _best_time, _progress, _rows, _scores, _Split, _split, load_dataset

__all__ = ["CNN_OPTIONS", "QUICK_CNN", "cnn_options", "pruning"]

logger = logging.getLogger("skelbehave.ablation")


# --------------------------------------------------------------------------- CNN helpers
def _cnn_classifier(**params):
    from ..models.cnn import CNNClassifier

    return CNNClassifier(**params)


def _count_macs(clf, X) -> float:
    """Multiply-accumulates of the fitted network for one sequence (conv + linear layers)."""
    try:  # the CNN package's own cost model, when it exists
        from ..models.cnn import model_cost

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
    n_jobs: int | None = 1,
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
    n_jobs : int or None
        Torch CPU threads (the glossary's ``n_jobs``).
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
            "n_jobs": n_jobs,
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
    n_jobs: int | None = 1,
    progress: bool = True,
) -> pd.DataFrame:
    """(e) Each CNN option on and off against a two-stream baseline.

    The options (:data:`CNN_OPTIONS`): a non-local block, the normal-curve
    residual coefficient profile, motion excitation, the adaptive temporal
    shift, DO-Conv, and two-stream fusion (the baseline) against each single
    stream.

    Parameters
    ----------
    dataset, seeds, classes, root, timing_repeats, n_jobs, progress :
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
        raise ParameterError(f"unknown CNN options {unknown}; expected some of {list(CNN_OPTIONS)}")
    rows: list[dict] = []
    jobs = [(n, int(s)) for n in names for s in seeds]
    for name, seed in _progress(jobs, progress, f"cnn options ({ds.name})"):
        params = {**(cnn_params or {}), **CNN_OPTIONS[name], "random_state": seed, "n_jobs": n_jobs}
        t0 = time.perf_counter()
        clf = _cnn_classifier(**params).fit(split.X_train, split.y_train)
        t_fit = time.perf_counter() - t0
        metrics = _cnn_metrics(clf, split, timing_repeats)
        metrics["fit_time_s"] = t_fit
        rows.extend(_rows("cnn_options", ds.name, name, {"option": name}, seed, metrics))
        logger.info("cnn option %s seed %s: accuracy %.3f", name, seed, metrics["accuracy"])
    return pd.DataFrame(rows)
