"""Defaults of :class:`~skelbehave.pipeline.BehaviorModel` and the routing of ``skelbehave.fit`` options.

Kept apart from :mod:`skelbehave.pipeline.clip` so that module stays short;
the names are re-exported there.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from ..encoding import ENCODERS, make_encoder
from ..errors import NoPoseError, NoPoseWarning, ParameterTypeError
from ..models.heads import make_head
from ..poses import PoseSequence
from ..temporal.presence import has_pose

__all__ = [
    "DEFAULT_CALIBRATION",
    "DEFAULT_CLASSIFIER",
    "DEFAULT_ENCODER",
    "DEFAULT_FEATURES",
    "calibration_groups",
    "default_features",
    "drop_no_pose",
    "item_has_pose",
    "missing_label",
    "split_options",
]

#: Default JointFeatures parameters of :class:`BehaviorModel`: 2 body parts
#: (upper body + arms, legs), each described by its root-relative positions,
#: its displacement and its acceleration (central differences with ``step``
#: 2, :mod:`skelbehave.features.kinematics`), fused into one descriptor per
#: part, each sequence turned to face +x (``rotate``: one angle per sequence
#: about the vertical axis; layouts without ``facing`` joints are not turned).
#: Chosen by grouped CV on the *training* clips of four tasks at once (MSR
#: Action3D, UTD-MHAD, PRECOG segments, rat dyad clips; ``python
#: benchmarks/accuracy.py --tune``): rotation raised the mean out-of-fold
#: macro F1 from 0.830 to 0.840 (PRECOG 0.769 -> 0.795, MSR 0.906 -> 0.915,
#: UTD 0.949 -> 0.953, the 2-D rats unchanged) and was the candidate the
#: other three tasks chose whichever one was left out; no variation around
#: it (codebook size, pyramid, kind weights, pairs, step, head) did better
#: on the mean.
DEFAULT_FEATURES: dict[str, Any] = {
    "n_position_groups": 2,
    "n_displacement_groups": 2,
    "step": 2,
    "acceleration": True,
    "rotate": True,
}

#: Default VLADEncoder parameters of :class:`BehaviorModel`: in each fused
#: body-part descriptor every block has unit total variance times the weight
#: of its kind (position 1, displacement 2, acceleration 3).
DEFAULT_ENCODER: dict[str, Any] = {
    "n_clusters": 16,
    "pyramid_levels": 3,
    "fuse": True,
    "kind_weights": {"displacement": 2.0, "acceleration": 3.0},
    "max_fit_samples": 20_000,
    "dtype": "float32",
}

#: Default head of :class:`BehaviorModel`: RidgeClassifier(alpha=0.1, balanced)
#: beat LinearSVC in the same training-subject CV on both data sets.
DEFAULT_CLASSIFIER = "ridge"


def default_features():
    from ..features import JointFeatures

    return JointFeatures(**DEFAULT_FEATURES)


#: Default calibration of the clip heads' probabilities
#: (:func:`skelbehave.models.calibration.fit_calibrated`): temperature scaling
#: on out-of-fold decision scores of the training vectors. One parameter, so
#: predictions are the head's own; on held-out training subjects of MSR
#: Action3D it lowers the log-loss and Brier score of the softmax of the
#: ridge scores (tests/test_calibration.py).
DEFAULT_CALIBRATION = "temperature"


def calibration_groups(items) -> np.ndarray | None:
    """Who each training clip comes from, for grouped calibration folds; None if not every clip says.

    Read from ``meta["subject"]`` (the datasets' loaders set it), else
    ``meta["recording"]``; a recording (list of sequences) is read from its
    first individual.

    Examples
    --------
    >>> from skelbehave.poses import PoseSequence
    >>> clip = lambda s: PoseSequence(np.zeros((3, 20, 3)), "msr20", meta={"subject": s})
    >>> calibration_groups([clip(1), clip(2), clip(1)]).tolist()
    ['1', '2', '1']
    >>> calibration_groups([clip(1), PoseSequence(np.zeros((3, 20, 3)), "msr20")]) is None
    True
    """
    out = []
    for item in items:
        seq = item if isinstance(item, PoseSequence) else (item[0] if len(item) else None)
        meta = getattr(seq, "meta", None) or {}
        who = meta.get("subject", meta.get("recording"))
        if who is None:
            return None
        out.append(str(who))
    return np.asarray(out)


def item_has_pose(item) -> bool:
    """Whether a sequence, or any individual of a recording (a list of sequences), holds a pose."""
    if isinstance(item, PoseSequence):
        return has_pose(item)
    return any(has_pose(p) for p in item)


def drop_no_pose(seqs: list[PoseSequence], y: np.ndarray) -> tuple[list[PoseSequence], np.ndarray]:
    """Training sequences without a pose are left out, with a :class:`~skelbehave.errors.NoPoseWarning`."""
    ok = np.array([item_has_pose(s) for s in seqs], dtype=bool)
    if ok.all():
        return seqs, y
    bad = np.flatnonzero(~ok)
    where = ", ".join(
        f"item {i}" + (f" ({seqs[i].meta['source']})" if seqs[i].meta.get("source") else "") for i in bad[:5]
    )
    if not ok.any():
        raise NoPoseError(f"no training sequence holds a pose (every frame missing or all-zero): {where}...")
    warnings.warn(
        f"{len(bad)} of {len(seqs)} training sequences have no valid frame (every frame missing or all-zero) "
        f"and are left out: {where}{', ...' if len(bad) > 5 else ''}",
        NoPoseWarning,
        stacklevel=3,
    )
    return [s for s, k in zip(seqs, ok, strict=True) if k], y[ok]


def missing_label(v) -> bool:
    """A label that is not given: None, NaN or NaT."""
    if v is None:
        return True
    try:
        return bool(v != v)
    except (TypeError, ValueError):
        return False


def split_options(options: dict[str, Any]):
    """Route ``skelbehave.fit`` keyword options to the model and its components."""
    from ..features import JointFeatures

    model_keys = {"features", "encoder", "classifier", "random_state", "n_jobs", "calibration"}
    model_kw = {k: options.pop(k) for k in list(options) if k in model_keys}
    enc = model_kw.get("encoder", "vlad")
    clf = model_kw.get("classifier", DEFAULT_CLASSIFIER)
    f_names = set(JointFeatures._get_param_names()) - {"n_jobs", "layout", "fps"}
    e_names = set(ENCODERS[enc].__init__.__code__.co_varnames[1:]) if isinstance(enc, str) else set()
    e_names -= {"random_state", "n_jobs"}
    fkw = {k: options.pop(k) for k in list(options) if k in f_names}
    ekw = {k: options.pop(k) for k in list(options) if k in e_names}
    ckw = {}
    if isinstance(clf, str) and clf != "ensemble" and options:  # the ensemble takes no head options
        probe = make_head(clf)
        c_names = set(probe.get_params()) - {"random_state"}
        ckw = {k: options.pop(k) for k in list(options) if k in c_names}
    if options:
        raise ParameterTypeError(
            f"unknown option(s) {sorted(options)}; options are BehaviorModel parameters "
            f"{sorted(model_keys)}, JointFeatures parameters {sorted(f_names)}, "
            f"encoder parameters {sorted(e_names)} or classifier parameters"
        )
    if fkw:
        if model_kw.get("features") is not None:
            raise ParameterTypeError(f"give feature options {sorted(fkw)} or features=..., not both")
        model_kw["features"] = JointFeatures(**{**DEFAULT_FEATURES, **fkw})
    if ekw:
        base = DEFAULT_ENCODER if enc == "vlad" else {}
        model_kw["encoder"] = make_encoder(enc, **{**base, **ekw})
    if ckw:
        model_kw["classifier"] = make_head(clf, **ckw)
    return model_kw
