"""Helpers of :class:`~skelbehave.pipeline.frame.FrameLevelModel`'s saved state (private).

The head names written for a classifier given as an estimator, JSON values of
parameters, the registered layout of a loaded model, and the check that a
loaded model's stages describe windows as wide as its heads expect.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import LayoutError, ModelFileError
from ..layouts import JointLayout, get_layout
from ..poses import PoseSequence
from ..temporal.windows import sliding_windows

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
