"""Result plots: confusion matrices, skeletons, ethograms."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

from ..errors import ParameterError
from ._common import _axes


# --------------------------------------------------------------------------- confusion matrix
def plot_confusion_matrix(
    cm: np.ndarray,
    labels: Sequence[Any] | None = None,
    *,
    normalize: bool = True,
    annotate: bool | None = None,
    cmap: str = "Blues",
    title: str | None = None,
    unit: str = "sequences",
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
    title : str, optional
    unit : str
        What the counts count (colour bar label without ``normalize``), e.g. ``"frames"``.
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
        raise ParameterError(f"cm must be a square matrix, got shape {cm.shape}")
    n = cm.shape[0]
    labels = [str(v) for v in (labels if labels is not None else range(n))]
    if len(labels) != n:
        raise ParameterError(f"{len(labels)} labels for a {n} x {n} matrix")
    if normalize:
        tot = cm.sum(axis=1, keepdims=True)
        vals = np.divide(cm, tot, out=np.zeros_like(cm), where=tot > 0) * 100.0
    else:
        vals = cm
    im = ax.imshow(vals, cmap=cmap, vmin=0, vmax=100 if normalize else None)
    cb = ax.figure.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
    cb.set_label("share of true class [%]" if normalize else unit)
    if title:
        ax.set_title(title)
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
    from ..layouts import get_layout
    from ..poses import PoseSequence

    ax = _axes(ax)
    if isinstance(pose, PoseSequence):
        lay = pose.layout
        pos = pose.position
    else:
        if layout is None:
            raise ParameterError("plot_skeleton needs layout= for arrays")
        lay = get_layout(layout)
        pos = np.asarray(pose, dtype=float)
        if pos.ndim == 2:
            pos = pos[None]
    if layout is not None and isinstance(pose, PoseSequence):
        lay = get_layout(layout)
    if pos.ndim != 3 or pos.shape[1] != lay.n_joints:
        raise ParameterError(
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

    from ..temporal.segments import runs

    y = np.asarray(labels)
    if classes is not None and np.issubdtype(y.dtype, np.integer):
        y = np.asarray(classes, dtype=object)[y]
    yt = None
    if true_labels is not None:
        yt = np.asarray(true_labels)
        if classes is not None and np.issubdtype(yt.dtype, np.integer):
            yt = np.asarray(classes, dtype=object)[yt]
        if len(yt) != len(y):
            raise ParameterError(f"true_labels has {len(yt)} frames, labels {len(y)}")
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
    # tab10 without its grey (black-ish bars mark the annotation), then tab20 for many rows
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
        from matplotlib.legend_handler import HandlerTuple
        from matplotlib.patches import Patch

        # the predicted bars take their row's colour: the legend's swatch shows those colours
        shown = [palette[r % len(palette)] for r in range(min(len(rows), 8))]
        ax.legend(
            handles=[tuple(Patch(color=c) for c in shown), Patch(color="black", alpha=0.6)],
            labels=["predicted (colour of its row)", "annotated"],
            handler_map={tuple: HandlerTuple(ndivide=None, pad=0)},
            loc="lower right",  # above the axes, right: never over the bars
            bbox_to_anchor=(1.0, 1.0),
            borderaxespad=0.2,
            fontsize="small",
            ncol=2,
            handlelength=max(2.0, 0.6 * len(shown)),
        )
    if title:
        ax.set_title(title, loc="left" if yt is not None else "center", fontsize="medium")
    return ax
