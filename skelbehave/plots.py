"""Plots: ablation curves, confusion matrices, ethograms, skeletons.

Every function draws on ``ax`` (a new figure's axes when ``ax=None``) and
returns the :class:`matplotlib.axes.Axes`, with axis labels (units in
brackets) and a legend where there is more than one series. matplotlib is
imported on first use; use the Agg backend on machines without a display.

The ablation plots take the tidy tables of :mod:`skelbehave.ablation` (one
row per configuration x seed x metric) and draw the mean over seeds with the
standard deviation as error bars.

Examples
--------
>>> import matplotlib
>>> matplotlib.use("Agg")
>>> import numpy as np
>>> ax = plot_confusion_matrix(np.array([[5, 1], [0, 4]]), labels=["sit", "stand"])
>>> ax.get_xlabel()
'predicted label'
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd
    from matplotlib.axes import Axes

__all__ = [
    "plot_cnn_options",
    "plot_confusion_matrix",
    "plot_encoders",
    "plot_ethogram",
    "plot_feature_counts",
    "plot_fusion",
    "plot_pruning_tradeoff",
    "plot_skeleton",
]

# --------------------------------------------------------------------------- shared helpers (ablation helper)
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
        raise ValueError(f"no rows with metric {metric!r}; metrics present: {sorted(df['metric'].unique())}")
    g = sub.groupby(by, sort=False, dropna=False)["value"].agg(["mean", "std"]).reset_index()
    s = _scale(metric)
    g["mean"] = g["mean"].to_numpy(dtype=float) * s
    g["std"] = g["std"].fillna(0.0).to_numpy(dtype=float) * s
    return g


def _title_dataset(df: pd.DataFrame) -> str:
    names = list(dict.fromkeys(df["dataset"])) if "dataset" in df else []
    return ", ".join(str(n) for n in names)


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
        raise ValueError(f"no rows for sweep {sweep!r}")
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
        raise ValueError(f"no rows for factor {factor!r}")
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


# --------------------------------------------------------------------------- confusion matrix
def plot_confusion_matrix(
    cm: np.ndarray,
    labels: Sequence[Any] | None = None,
    *,
    normalize: bool = True,
    annotate: bool | None = None,
    cmap: str = "Blues",
    ax: Axes | None = None,
) -> Axes:
    """A confusion matrix (rows: true, columns: predicted), row-normalised to % by default.

    Parameters
    ----------
    cm : ndarray, shape (n_classes, n_classes)
        Counts, e.g. from :func:`sklearn.metrics.confusion_matrix`.
    labels : sequence, optional
        Class names, in the order of ``cm``.
    normalize : bool
        Show the share of each true class in % instead of counts.
    annotate : bool, optional
        Write the values into the cells (default: when there are at most 20 classes).
    cmap : str
    ax : Axes, optional

    Returns
    -------
    Axes

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> ax = plot_confusion_matrix([[3, 1], [2, 2]], labels=["a", "b"], normalize=False)
    >>> ax.get_ylabel()
    'true label'
    """
    ax = _axes(ax)
    cm = np.asarray(cm, dtype=float)
    if cm.ndim != 2 or cm.shape[0] != cm.shape[1]:
        raise ValueError(f"cm must be a square matrix, got shape {cm.shape}")
    n = cm.shape[0]
    labels = [str(v) for v in (labels if labels is not None else range(n))]
    if len(labels) != n:
        raise ValueError(f"{len(labels)} labels for a {n} x {n} matrix")
    if normalize:
        tot = cm.sum(axis=1, keepdims=True)
        vals = np.divide(cm, tot, out=np.zeros_like(cm), where=tot > 0) * 100.0
    else:
        vals = cm
    im = ax.imshow(vals, cmap=cmap, vmin=0, vmax=100 if normalize else None)
    cb = ax.figure.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
    cb.set_label("share of true class [%]" if normalize else "sequences")
    ax.set_xticks(range(n), labels, rotation=90, fontsize="x-small" if n > 10 else "small")
    ax.set_yticks(range(n), labels, fontsize="x-small" if n > 10 else "small")
    ax.set_xlabel("predicted label")
    ax.set_ylabel("true label")
    if annotate is None:
        annotate = n <= 20
    if annotate:
        hi = np.nanmax(vals) if vals.size else 0
        for i in range(n):
            for j in range(n):
                if vals[i, j] == 0:
                    continue
                ax.text(
                    j,
                    i,
                    f"{vals[i, j]:.0f}",
                    ha="center",
                    va="center",
                    fontsize="xx-small" if n > 10 else "small",
                    color="white" if vals[i, j] > 0.6 * hi else "black",
                )
    return ax


# --------------------------------------------------------------------------- skeleton
def plot_skeleton(
    pose,
    layout=None,
    *,
    frame: int | Sequence[int] = 0,
    dims: tuple[int, int] = (0, 1),
    labels: bool = False,
    ax: Axes | None = None,
    **line_kw,
) -> Axes:
    """Draw a skeleton (joints and the layout's bones), projected onto two coordinates.

    Parameters
    ----------
    pose : PoseSequence or ndarray
        A sequence, a ``(T, J, C)`` array or one ``(J, C)`` frame.
    layout : str or JointLayout, optional
        Needed for arrays (a PoseSequence carries its own).
    frame : int or sequence of int
        Frame(s) of a sequence to draw (several frames are overlaid, fading from light to dark).
    dims : (int, int)
        Coordinates on the horizontal and vertical axis (``(0, 1)``: x, y).
    labels : bool
        Write joint names.
    ax : Axes, optional
    **line_kw
        Passed to the bone lines.

    Returns
    -------
    Axes

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import numpy as np
    >>> ax = plot_skeleton(np.random.default_rng(0).normal(size=(20, 3)), layout="msr20")
    >>> len(ax.lines)
    19
    """
    from .layouts import get_layout
    from .poses import PoseSequence

    ax = _axes(ax)
    if isinstance(pose, PoseSequence):
        lay = pose.layout
        pos = pose.position
    else:
        if layout is None:
            raise ValueError("plot_skeleton needs layout= for arrays")
        lay = get_layout(layout)
        pos = np.asarray(pose, dtype=float)
        if pos.ndim == 2:
            pos = pos[None]
    if layout is not None and isinstance(pose, PoseSequence):
        lay = get_layout(layout)
    if pos.ndim != 3 or pos.shape[1] != lay.n_joints:
        raise ValueError(
            f"expected (frames, {lay.n_joints}, coords) positions for layout {lay.name!r}, "
            f"got shape {pos.shape}"
        )
    frames = [frame] if np.isscalar(frame) else list(frame)
    a, b = dims
    bones = lay.bone_indices
    colour = line_kw.pop("color", "tab:blue")
    for k, f in enumerate(frames):
        P = pos[int(f)]
        alpha = 1.0 if len(frames) == 1 else 0.25 + 0.75 * k / (len(frames) - 1)
        for i, j in bones:
            ax.plot([P[i, a], P[j, a]], [P[i, b], P[j, b]], color=colour, alpha=alpha, **line_kw)
        ax.scatter(P[:, a], P[:, b], s=12, color="tab:red", alpha=alpha, zorder=3)
        if labels and k == len(frames) - 1:
            for name, (u, v) in zip(lay.joints, P[:, [a, b]], strict=True):
                ax.annotate(name, (u, v), fontsize="xx-small", xytext=(3, 3), textcoords="offset points")
    axis = "xyz"
    ax.set_xlabel(f"{axis[a] if a < 3 else a} [layout units]")
    ax.set_ylabel(f"{axis[b] if b < 3 else b} [layout units]")
    ax.set_aspect("equal", adjustable="datalim")
    ax.set_title(
        f"{lay.name} skeleton, frame {frames[0] if len(frames) == 1 else f'{frames[0]}-{frames[-1]}'}"
    )
    return ax


# --------------------------------------------------------------------------- ethogram (frame-level helper)
# plot_ethogram lives below this line (owned by the frame-level helper).


def plot_ethogram(
    labels,
    *,
    fps: float | None = None,
    classes: Sequence[Any] | None = None,
    true_labels=None,
    proba: np.ndarray | None = None,
    ignore: Sequence[Any] = (),
    title: str | None = None,
    ax: Axes | None = None,
) -> Axes:
    """Ethogram: which behaviour happens when, one row per behaviour.

    Each bout is a horizontal bar on its behaviour's row. With
    ``true_labels`` the annotation is drawn as a thin black bar under the
    prediction on each row, and with ``proba`` (``(T, n_classes)`` in the
    order of ``classes``) a bar's opacity follows the bout's mean probability.

    Parameters
    ----------
    labels : array-like (T,)
        Per-frame labels (names, or indices into ``classes``).
    fps : float, optional
        x axis in seconds when given, else in frames.
    classes : sequence, optional
        Row order (and names of integer labels). Default: sorted labels.
    true_labels : array-like (T,), optional
        Annotation drawn alongside.
    proba : ndarray (T, n_classes), optional
        Probabilities; set bar opacity (needs ``classes``).
    ignore : sequence
        Labels not drawn (e.g. a background class).
    title : str, optional
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> ax = plot_ethogram(["rest", "rest", "walk", "walk", "rest"], fps=1.0)
    >>> [t.get_text() for t in ax.get_yticklabels()], ax.get_xlabel()
    (['rest', 'walk'], 'time [s]')
    """
    import matplotlib.pyplot as plt

    from .temporal.segments import runs

    y = np.asarray(labels)
    if classes is not None and np.issubdtype(y.dtype, np.integer):
        y = np.asarray(classes, dtype=object)[y]
    yt = None
    if true_labels is not None:
        yt = np.asarray(true_labels)
        if classes is not None and np.issubdtype(yt.dtype, np.integer):
            yt = np.asarray(classes, dtype=object)[yt]
        if len(yt) != len(y):
            raise ValueError(f"true_labels has {len(yt)} frames, labels {len(y)}")
    if classes is None:
        seen = set(np.unique(y).tolist())
        if yt is not None:
            seen |= set(np.unique(yt).tolist())
        rows = sorted(seen, key=str)
    else:
        rows = list(classes)
    ign = set(ignore)
    rows = [c for c in rows if c not in ign]
    if ax is None:
        _, ax = plt.subplots(figsize=(10, 0.45 * len(rows) + 1.4))
    scale = 1.0 / fps if fps else 1.0
    # tab10 without its grey (grey marks the legend's "predicted"), then tab20 for many rows
    palette = [plt.get_cmap("tab10")(i) for i in range(10) if i != 7]
    if len(rows) > len(palette):
        palette = [plt.get_cmap("tab20")(i) for i in range(20)]
    cs = None
    if proba is not None and classes is not None:
        cs = np.vstack([np.zeros((1, proba.shape[1])), np.cumsum(proba, axis=0)])
    col_of = {c: k for k, c in enumerate(classes)} if classes is not None else {}
    ps, pe, pv = runs(y)
    ts, te, tv = runs(yt) if yt is not None else (None, None, None)
    for r, c in enumerate(rows):
        colour = palette[r % len(palette)]
        m = pv == c
        if m.any():
            if cs is not None:
                k = col_of[c]
                alpha = np.clip((cs[pe[m], k] - cs[ps[m], k]) / (pe[m] - ps[m]), 0.15, 1.0)
            else:
                alpha = np.ones(int(m.sum()))
            h = 0.5 if yt is not None else 0.8
            for a, b, al in zip(ps[m], pe[m], alpha, strict=True):
                bar = [(a * scale, (b - a) * scale)]
                ax.broken_barh(bar, (r - 0.4, h), facecolors=[colour], alpha=float(al))
        if yt is not None:
            m = tv == c
            ax.broken_barh(
                list(zip(ts[m] * scale, (te[m] - ts[m]) * scale, strict=True)),
                (r + 0.15, 0.25),
                facecolors="black",
                alpha=0.6,
            )
    ax.set_yticks(range(len(rows)))
    ax.set_yticklabels([str(c) for c in rows])
    ax.set_ylim(len(rows) - 0.4, -0.6)
    ax.set_xlim(0, max(len(y), 1) * scale)
    ax.set_xlabel("time [s]" if fps else "frame")
    ax.set_ylabel("behaviour")
    if yt is not None:
        from matplotlib.patches import Patch

        ax.legend(
            handles=[
                Patch(color="grey", label="predicted"),
                Patch(color="black", alpha=0.6, label="annotated"),
            ],
            loc="upper right",
            fontsize="small",
            ncol=2,
        )
    if title:
        ax.set_title(title)
    return ax
