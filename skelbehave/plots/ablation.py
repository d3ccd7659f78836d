"""Ablation plots: tidy tables of :mod:`skelbehave.ablation`, mean over seeds with the standard deviation."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd
    from matplotlib.axes import Axes

from ..errors import ParameterError
from ._common import _axes, _label, _mean_std, _scale, _title_dataset


# --------------------------------------------------------------------------- (a) feature counts
def plot_feature_counts(
    df: pd.DataFrame,
    *,
    sweep: str = "displacement",
    metric: str = "accuracy",
    time_metric: str | None = "feature_time_s",
    ax: Axes | None = None,
) -> Axes:
    """Accuracy (solid, left axis) and extraction time (dashed, right axis) against the group count.

    Parameters
    ----------
    df : DataFrame
        Table of :func:`skelbehave.ablation.feature_counts`.
    sweep : {"displacement", "position"}
        Which sweep to draw.
    metric : str
        Left-axis metric (``"accuracy"`` or ``"macro_f1"``).
    time_metric : str or None
        Right-axis metric (``"feature_time_s"``, ``"encode_time_s"``, ...); None: no right axis.
    ax : Axes, optional

    Returns
    -------
    Axes
        The left axes (the right one is ``ax.right_ax``).

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import pandas as pd
    >>> df = pd.DataFrame({"dataset": "d", "sweep": "displacement", "n_groups": [1, 1, 2, 2],
    ...     "overlapping": False, "seed": 0, "metric": ["accuracy", "feature_time_s"] * 2,
    ...     "value": [0.5, 0.01, 0.6, 0.02]})
    >>> plot_feature_counts(df).get_xlabel()
    'number of displacement groups'
    """
    ax = _axes(ax)
    sub = df[df["sweep"] == sweep]
    if sub.empty:
        raise ParameterError(f"no rows for sweep {sweep!r}")
    colours = {False: "tab:blue", True: "tab:orange"}
    handles = []
    for ov, part in sub.groupby("overlapping", sort=True):
        kind = "overlapping" if ov else "non-overlapping"
        m = _mean_std(part, ["n_groups"], metric)
        handles.append(
            ax.errorbar(
                m["n_groups"].to_numpy(),
                m["mean"].to_numpy(),
                yerr=m["std"].to_numpy(),
                marker="o",
                capsize=3,
                color=colours.get(bool(ov)),
                label=f"{_label(metric).split(' [')[0]}, {kind}",
            )
        )
    ax.set_xlabel(f"number of {sweep} groups")
    ax.set_ylabel(_label(metric))
    ax.set_xticks(sorted(sub["n_groups"].unique()))
    ax.grid(alpha=0.3)
    if time_metric is not None and (sub["metric"] == time_metric).any():
        ax2 = ax.twinx()
        for ov, part in sub.groupby("overlapping", sort=True):
            kind = "overlapping" if ov else "non-overlapping"
            t = _mean_std(part, ["n_groups"], time_metric)
            handles.append(
                ax2.errorbar(
                    t["n_groups"].to_numpy(),
                    t["mean"].to_numpy(),
                    yerr=t["std"].to_numpy(),
                    marker="s",
                    linestyle="--",
                    capsize=3,
                    color=colours.get(bool(ov)),
                    alpha=0.7,
                    label=f"{_label(time_metric).split(' [')[0]}, {kind}",
                )
            )
        ax2.set_ylabel(_label(time_metric))
        ax2.set_ylim(bottom=0)
        ax.right_ax = ax2
    # below the axes: the two y axes leave no free corner inside
    ax.legend(handles=handles, fontsize="small", loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2)
    other = "position" if sweep == "displacement" else "displacement"
    fixed = sub[f"n_{other}_groups"].iloc[0] if f"n_{other}_groups" in sub else None
    title = f"{_title_dataset(sub)}: {sweep} groups"
    if fixed is not None:
        title += f" ({fixed} {other} groups)"
    ax.set_title(title)
    return ax


# --------------------------------------------------------------------------- (b) fusion
def plot_fusion(df: pd.DataFrame, *, metric: str = "accuracy", ax: Axes | None = None) -> Axes:
    """Bars of position only, displacement only and fusion, one colour per data set.

    Parameters
    ----------
    df : DataFrame
        Table(s) of :func:`skelbehave.ablation.fusion` (several data sets may be concatenated).
    metric : str
    ax : Axes, optional

    Returns
    -------
    Axes

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import pandas as pd
    >>> df = pd.DataFrame({"dataset": "d", "config": ["position", "fusion"], "seed": 0,
    ...                    "metric": "accuracy", "value": [0.6, 0.8]})
    >>> plot_fusion(df).get_ylabel()
    'accuracy [%]'
    """
    ax = _axes(ax)
    m = _mean_std(df, ["dataset", "config"], metric)
    configs = list(dict.fromkeys(m["config"]))
    datasets = list(dict.fromkeys(m["dataset"]))
    width = 0.8 / max(len(datasets), 1)
    x = np.arange(len(configs))
    for k, name in enumerate(datasets):
        part = m[m["dataset"] == name].set_index("config").reindex(configs)
        bars = ax.bar(
            x + (k - (len(datasets) - 1) / 2) * width,
            part["mean"],
            width,
            yerr=part["std"],
            capsize=3,
            label=name,
        )
        ax.bar_label(bars, fmt="%.1f", fontsize="x-small", padding=2)
    ax.set_xticks(
        x,
        [
            c.replace("position", "relative position").replace("displacement", "relative displacement")
            for c in configs
        ],
        fontsize="small",
    )
    ax.set_xlabel("features")
    ax.set_ylabel(_label(metric))
    ax.set_ylim(0, 105 if _scale(metric) == 100 else None)
    ax.legend(title="data set", fontsize="small")
    ax.set_title("position vs displacement vs fusion")
    ax.grid(axis="y", alpha=0.3)
    return ax


# --------------------------------------------------------------------------- (c) encoders
def plot_encoders(
    df: pd.DataFrame, *, factor: str = "n_clusters", metric: str = "accuracy", ax: Axes | None = None
) -> Axes:
    """One line per encoder (BoW, Fisher, VLAD) against one factor.

    Parameters
    ----------
    df : DataFrame
        Table of :func:`skelbehave.ablation.encoders`.
    factor : {"n_clusters", "n_components", "pyramid_levels"}
    metric : str
    ax : Axes, optional

    Returns
    -------
    Axes

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import pandas as pd
    >>> df = pd.DataFrame({"dataset": "d", "factor": "n_clusters", "encoder": ["vlad", "bow"],
    ...     "n_clusters": 8, "seed": 0, "metric": "accuracy", "value": [0.8, 0.6]})
    >>> plot_encoders(df).get_xlabel()
    'codebook size (codewords per group)'
    """
    ax = _axes(ax)
    sub = df[df["factor"] == factor]
    if sub.empty:
        raise ParameterError(f"no rows for factor {factor!r}")
    names = {"bow": "bag of words", "fisher": "Fisher vector", "vlad": "VLAD"}
    xlabels = {
        "n_clusters": "codebook size (codewords per group)",
        "n_components": "PCA dimensions per group (0 = all)",
        "pyramid_levels": "temporal pyramid levels",
    }
    vals = sorted(sub[factor].unique())
    top = max(vals) * 2 if max(vals) > 0 else 1  # "all" PCA dimensions (0) drawn right of the largest value
    for enc, part in sub.groupby("encoder", sort=True):
        m = _mean_std(part, [factor], metric)
        m["_x"] = np.where(m[factor] == 0, top, m[factor]) if factor == "n_components" else m[factor]
        m = m.sort_values("_x")
        ax.errorbar(
            m["_x"].to_numpy(),
            m["mean"].to_numpy(),
            yerr=m["std"].to_numpy(),
            marker="o",
            capsize=3,
            label=names.get(enc, enc),
        )
    if factor in ("n_clusters", "n_components"):
        ax.set_xscale("log", base=2)
    if factor == "n_components":
        vals = [v for v in vals if v] + [v for v in vals if not v]
        ax.set_xticks([v if v else top for v in vals], [str(v) if v else "all" for v in vals])
    else:
        ax.set_xticks(vals, [str(v) for v in vals])
    ax.minorticks_off()
    ax.set_xlabel(xlabels.get(factor, factor))
    ax.set_ylabel(_label(metric))
    ax.legend(title="encoder", fontsize="small")
    ax.set_title(f"{_title_dataset(sub)}: encoders")
    ax.grid(alpha=0.3)
    return ax


# --------------------------------------------------------------------------- (d) pruning
def plot_pruning_tradeoff(
    df: pd.DataFrame, *, x: str = "params", y: str = "accuracy", annotate: bool = True, ax: Axes | None = None
) -> Axes:
    """Accuracy against pruning ratio, parameters, MACs or latency, with and without DO-Conv.

    Parameters
    ----------
    df : DataFrame
        Table of :func:`skelbehave.ablation.pruning`.
    x : {"prune_ratio", "params", "macs", "latency_ms"}
    y : str
        Usually ``"accuracy"`` or ``"macro_f1"``.
    annotate : bool
        Write the pruning ratio next to each point (when ``x`` is not the ratio).
    ax : Axes, optional

    Returns
    -------
    Axes

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import pandas as pd
    >>> df = pd.DataFrame({"dataset": "d", "doconv": [False] * 4, "prune_ratio": [0, 0, 0.5, 0.5],
    ...     "seed": 0, "metric": ["accuracy", "params"] * 2, "value": [0.8, 1e5, 0.78, 4e4]})
    >>> plot_pruning_tradeoff(df, x="params").get_xlabel()
    'parameters [thousands]'
    """
    ax = _axes(ax)
    for dc, part in df.groupby("doconv", sort=True):
        my = _mean_std(part, ["prune_ratio"], y).sort_values("prune_ratio")
        if x == "prune_ratio":
            xs, xerr = my["prune_ratio"].to_numpy() * 100.0, None
        else:
            mx = _mean_std(part, ["prune_ratio"], x).sort_values("prune_ratio")
            # a trade-off curve: points joined in the order of the x quantity
            order = np.argsort(mx["mean"].to_numpy(), kind="stable")
            mx, my = mx.iloc[order], my.iloc[order]
            xs, xerr = mx["mean"].to_numpy(), mx["std"].to_numpy()
        ax.errorbar(
            xs,
            my["mean"].to_numpy(),
            yerr=my["std"].to_numpy(),
            xerr=xerr,
            marker="o",
            capsize=3,
            label="DO-Conv" if dc else "plain convolution",
        )
        if annotate and x != "prune_ratio":
            for xv, yv, r in zip(xs, my["mean"], my["prune_ratio"], strict=True):
                ax.annotate(
                    f"{round(100 * r)}%",
                    (xv, yv),
                    textcoords="offset points",
                    xytext=(4, 4),
                    fontsize="x-small",
                )
    ax.set_xlabel(_label(x))
    ax.set_ylabel(_label(y))
    ax.legend(fontsize="small")
    ax.set_title(f"{_title_dataset(df)}: pruning trade-off")
    ax.grid(alpha=0.3)
    return ax


# --------------------------------------------------------------------------- (e) CNN options
def plot_cnn_options(df: pd.DataFrame, *, metric: str = "accuracy", ax: Axes | None = None) -> Axes:
    """Horizontal bars: each CNN option (on) against the baseline, mean over seeds.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import pandas as pd
    >>> df = pd.DataFrame({"dataset": "d", "option": ["baseline (two-stream)", "non-local block"],
    ...                    "seed": 0, "metric": "accuracy", "value": [0.7, 0.72]})
    >>> plot_cnn_options(df).get_xlabel()
    'accuracy [%]'
    """
    ax = _axes(ax)
    m = _mean_std(df, ["option"], metric)
    y = np.arange(len(m))[::-1]
    base = m["option"].str.startswith("baseline")
    colours = np.where(base, "tab:grey", "tab:blue")
    bars = ax.barh(y, m["mean"], xerr=m["std"], capsize=3, color=colours)
    ax.bar_label(bars, fmt="%.1f", fontsize="x-small", padding=3)
    ax.set_yticks(y, m["option"], fontsize="small")
    if base.any():
        ax.axvline(
            float(m.loc[base, "mean"].iloc[0]), color="k", linestyle=":", linewidth=1, label="baseline"
        )
        ax.legend(fontsize="small", loc="lower right")
    ax.set_xlabel(_label(metric))
    if _scale(metric) == 100:
        ax.set_xlim(0, 105)
    ax.set_title(f"{_title_dataset(df)}: CNN options")
    ax.grid(axis="x", alpha=0.3)
    return ax
