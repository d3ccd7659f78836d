"""Helpers of :class:`~skelbehave.pipeline.frame.FrameLevelModel`'s saved state (private).

The head names written for a classifier given as an estimator, JSON values of
parameters, the registered layout of a loaded model, and the check that a
loaded model's stages describe windows as wide as its heads expect.
"""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np

from ..errors import LayoutError, ModelFileError
from ..features.frame_pairs import RELATIONS
from ..io.archive import state_bool, state_int, state_int_list, state_str
from ..layouts import JointLayout, get_layout
from ..poses import PoseSequence
from ..temporal.context import CONTEXT_STATS
from ..temporal.windows import sliding_windows

#: window encodings a saved model may name (``FrameLevelModel``'s ``ENCODINGS``)
_ENCODINGS = ("statistics", "vlad", "vlad+statistics")

#: values of parameters added since the first frame-level files, for files written before them: a
#: file without them was fitted with (and is scored with) these (the context stage as it was)
_BEFORE = {"context_stats": ("mean",), "context_means": (), "relations": "none"}


def _checked_init(cls: type, init: Any) -> dict[str, Any]:
    """The constructor parameters of a saved frame-level model, each checked (type, range, length).

    Lists become tuples where the signature's default is a tuple; parameters
    a file predates take their values of then (:data:`_BEFORE`), not today's
    defaults, so an older model scores as it did.

    Raises
    ------
    ModelFileError
        An unknown parameter, or one of the wrong type or out of range.
    """
    if not isinstance(init, dict):
        raise ModelFileError("init must be an object of parameters")
    names = set(cls._get_param_names())
    unknown = sorted(set(init) - names)
    if unknown:
        raise ModelFileError(f"init: unknown parameters {unknown}")
    sig = inspect.signature(cls.__init__).parameters
    kw = {
        k: tuple(v) if isinstance(sig[k].default, tuple) and isinstance(v, list) else v
        for k, v in init.items()
    }
    for k, v in _BEFORE.items():
        kw.setdefault(k, v)
    state_int_list(kw, "pyramid", 1, 64, max_len=8) if "pyramid" in kw else None
    state_int_list(kw, "context_scales", 1, 100_000, max_len=16) if "context_scales" in kw else None
    state_int_list(kw, "context_means", 1, 100_000, max_len=8)
    cs = kw["context_stats"]
    if not isinstance(cs, tuple) or not cs or not all(isinstance(v, str) and v in CONTEXT_STATS for v in cs):
        raise ModelFileError(f"context_stats must be a non-empty list of {list(CONTEXT_STATS)}, got {cs!r}")
    if "step" in kw:
        state_int(kw, "step", 1, 1000)
    for k in ("acceleration", "joint_speed", "context_raw"):
        if k in kw:
            state_bool(kw, k)
    if "weights" in kw:
        state_str(kw, "weights", ("gaussian", "triangular", "uniform", "center"))
    if "encoding" in kw:
        state_str(kw, "encoding", _ENCODINGS)
    state_str(kw, "relations", RELATIONS)
    if kw.get("rotate", "auto") not in ("auto", True, False):
        raise ModelFileError(f"rotate must be 'auto', true or false, got {kw['rotate']!r}")
    if "n_jobs" in kw:
        state_int(kw, "n_jobs", -1, 1024, none=True)
    ew = kw.get("extra_windows") or ()
    if not isinstance(ew, tuple | list) or len(ew) > 8:
        raise ModelFileError(f"extra_windows must be a list of at most 8 window lengths, got {ew!r}")
    for v in ew:
        if isinstance(v, str):
            state_str({"extra_windows": v}, "extra_windows")
        else:
            state_int({"extra_windows": v}, "extra_windows", 1, 100_000)
    return kw

__all__: list[str] = []


def _check_widths(m: Any) -> None:
    """Run a loaded model's stages on a short synthetic recording: window and context widths must match.

    Catches saved parameters (features, pyramid, extra windows, encoder blocks, context scales) that
    would make the model describe windows differently from how its heads were trained.
    """
    rng = np.random.default_rng(0)
    T = 12
    rec = [
        PoseSequence(rng.normal(size=(T, m.layout_.n_joints, m.n_dims_)), m.layout_, fps=m.fps_ or 30.0)
        for _ in range(m.n_individuals_)
    ]
    F, lengths = m._features([rec])
    w = sliding_windows(lengths, m.window_frames_, T)
    width = m._window_X(m._frame_input(F, lengths), w).shape[1]
    if width != m.n_features_in_:
        raise ModelFileError(
            f"the saved parameters describe a window with {width} values but the classifier was trained "
            f"on {m.n_features_in_}"
        )
    if m.context_ is not None:
        width = m._context_input(np.zeros((T, len(m.classes_))), F, lengths).shape[1]
        if width != int(m.context_.n_features_in_):
            raise ModelFileError(
                f"context: the saved parameters give {width} context values but the second stage was "
                f"trained on {m.context_.n_features_in_}"
            )


#: head names of estimator classes, written for a classifier given as an estimator
_HEAD_NAMES = {
    "ExtraTreesClassifier": "extra_trees",
    "HistGradientBoostingClassifier": "hgb",
    "RidgeClassifier": "ridge",
    "LinearSVC": "svm",
    "LogisticRegression": "logreg",
}


def _registered_layout(lay: JointLayout) -> JointLayout:
    """The registered layout of the same name when it is the same layout (group order included)."""
    try:
        known = get_layout(lay.name)
    except LayoutError:
        return lay
    same = known.joints == lay.joints and set(known.groups) == set(lay.groups)
    same = same and all(tuple(known.groups[g]) == tuple(lay.groups[g]) for g in known.groups)
    return known if same else lay


def _jsonable(v):
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, tuple | list):
        return [_jsonable(x) for x in v]
    if isinstance(v, dict):
        return {str(k): _jsonable(x) for k, x in v.items()}
    if v is None or isinstance(v, bool | int | float | str):
        return v
    return repr(v)
