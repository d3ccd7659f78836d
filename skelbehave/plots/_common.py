"""Helpers shared by the plotting modules: axes, metric labels and scales, mean and spread over seeds."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import ParameterError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd


_METRIC_LABELS = {
    "accuracy": "accuracy [%]",
    "macro_f1": "macro F1 [%]",
    "feature_time_s": "feature extraction time [ms]",
    "encode_time_s": "encoding time [s]",
    "fit_time_s": "training time [s]",
    "n_features": "encoded vector length",
    "params": "parameters [thousands]",
    "macs": "MACs per sequence [millions]",
    "latency_ms": "latency per sequence [ms]",
    "prune_ratio": "channels pruned [%]",
}
# display scale of each metric (values in the tables are SI / fractions)
_METRIC_SCALE = {
    "accuracy": 100.0,
    "macro_f1": 100.0,
    "feature_time_s": 1000.0,
    "params": 1e-3,
    "macs": 1e-6,
    "prune_ratio": 100.0,
}


def _axes(ax):
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots()
    return ax


def _label(metric: str) -> str:
    return _METRIC_LABELS.get(metric, metric)


def _scale(metric: str) -> float:
    return _METRIC_SCALE.get(metric, 1.0)


def _mean_std(df: pd.DataFrame, by: list[str], metric: str) -> pd.DataFrame:
    sub = df[df["metric"] == metric]
    if sub.empty:
        present = sorted(df["metric"].unique())
        raise ParameterError(f"no rows with metric {metric!r}; metrics present: {present}")
    g = sub.groupby(by, sort=False, dropna=False)["value"].agg(["mean", "std"]).reset_index()
    s = _scale(metric)
    g["mean"] = g["mean"].to_numpy(dtype=float) * s
    g["std"] = g["std"].fillna(0.0).to_numpy(dtype=float) * s
    return g


def _title_dataset(df: pd.DataFrame) -> str:
    names = list(dict.fromkeys(df["dataset"])) if "dataset" in df else []
    return ", ".join(str(n) for n in names)
