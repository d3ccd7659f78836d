"""Running a study by name: the tidy table, its summary over seeds, and its figures."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import pandas as pd

from ..datasets import Dataset
from ..errors import ParameterError
from .cnn import cnn_options, pruning
from .descriptors import encoders, feature_counts, fusion

__all__ = ["STUDIES", "run_study", "study_figures", "summarize"]


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
    from .._util.fs import atomic_write

    key = what.lower().replace("_", "-")
    if key not in STUDIES:
        raise ParameterError(f"unknown study {what!r}; expected one of {sorted(STUDIES)}")
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
        paths.update(study_figures(key, df, out, stem))
    return paths


def study_figures(key: str, df: pd.DataFrame, out: Path, stem: str) -> dict[str, Path]:
    """Write the figures of one study's table as ``out/<stem><suffix>.png``.

    Parameters
    ----------
    key : str
        Study name (a key of :data:`STUDIES`).
    df : DataFrame
        The study's tidy table.
    out : Path
        Folder.
    stem : str
        File name stem.

    Returns
    -------
    dict of str -> Path
        ``"figure<suffix>"`` -> file written.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> import pandas as pd
    >>> df = pd.DataFrame({"study": "fusion", "dataset": "d", "config": ["position", "fusion"],
    ...                    "features": ["position", "fusion"], "seed": 0, "metric": "accuracy",
    ...                    "value": [0.6, 0.8]})
    >>> figs = study_figures("fusion", df, Path(tempfile.mkdtemp()), "fusion_d")
    >>> [p.name for p in figs.values()]
    ['fusion_d.png']
    """
    import matplotlib

    if matplotlib.get_backend().lower() not in ("agg", "module://matplotlib_inline.backend_inline"):
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .. import plots

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
