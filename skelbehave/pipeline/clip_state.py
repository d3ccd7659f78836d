"""Rebuilding a :class:`~skelbehave.pipeline.BehaviorModel` from its saved state, checking every field.

Kept apart from :mod:`skelbehave.pipeline.clip` so that module stays short;
:meth:`BehaviorModel._from_state` calls :func:`behavior_model_from_state`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import LayoutError, ModelFileError
from ..io.archive import state_classes, state_float, state_int, state_layout, state_str
from ..layouts import get_layout
from ..models.calibration import CALIBRATIONS
from ..models.heads import is_sequence_model
from . import persist

__all__ = ["behavior_model_from_state"]


def behavior_model_from_state(cls, params: dict[str, Any], arrays: dict[str, np.ndarray]):
    """Rebuild a fitted model from :meth:`_get_state` output, checking every field.

    Raises
    ------
    ModelFileError
        A parameter of the wrong type or out of range, or components
        that do not fit together (layout, coordinate count, vector
        length, classes).
    """
    layout = state_layout(params)
    try:  # prefer the registered object when it is the same layout
        known = get_layout(layout.name)
        layout = known if known.joints == layout.joints else layout
    except LayoutError:
        pass
    n_dims = state_int(params, "n_dims", 2, 3)
    classes = state_classes(params)
    if len(classes) < 2:
        raise ModelFileError(f"classes: a model needs at least 2 classes, got {classes.tolist()}")
    n_out = state_int(params, "n_features_out", 0, 100_000_000)
    fitted = {
        "features": persist.unnest("features", params.get("features"), arrays, ("JointFeatures",)),
        "encoder": persist.unnest(
            "encoder", params.get("encoder"), arrays, ("VLADEncoder", "BoWEncoder", "FisherEncoder")
        ),
        "classifier": persist.unnest("classifier", params.get("classifier"), arrays),
        "interaction": persist.unnest(
            "interaction", params.get("interaction"), arrays, ("InteractionFeatures",)
        ),
        "relation_encoder": persist.unnest(
            "relation_encoder", params.get("relation_encoder"), arrays, ("VLADEncoder",)
        ),
    }
    inter, rel = fitted["interaction"], fitted["relation_encoder"]
    if (inter is None) != (rel is None):
        raise ModelFileError("interaction and relation_encoder come together (a model of interactions)")
    clf = fitted["classifier"]
    if clf is None:
        raise ModelFileError("classifier is missing")
    if not np.array_equal(np.asarray(clf.classes_), classes):
        raise ModelFileError(
            f"classifier: its classes {np.asarray(clf.classes_).tolist()} differ from the model's "
            f"{classes.tolist()}"
        )
    if is_sequence_model(clf):
        if fitted["features"] is not None or fitted["encoder"] is not None or n_out != 0 or inter is not None:
            raise ModelFileError("a sequence classifier takes no features, encoder or encoded vector")
    else:
        feats, enc = fitted["features"], fitted["encoder"]
        if feats is None or enc is None:
            raise ModelFileError("features and encoder are missing")
        if feats.layout_.joints != layout.joints or feats.n_dims_ != n_dims:
            raise ModelFileError(
                f"features: fitted for {feats.layout_.n_joints} joints x {feats.n_dims_} coordinates, "
                f"the model for {layout.n_joints} x {n_dims}"
            )
        made = [(str(b), int(d)) for b, d in zip(feats.block_info_, feats.dims_, strict=True)]
        seen = [(str(b), int(d)) for b, d in zip(enc.input_blocks_, enc.input_dims_, strict=True)]
        if made != seen:
            raise ModelFileError(f"features: its blocks {made} differ from the encoder's {seen}")
        made_out = int(enc.n_features_out_)
        if inter is not None:  # pooled individuals (mean, max) and pooled pairs (mean, max)
            if inter.layout_.joints != layout.joints or inter.n_dims_ != n_dims:
                raise ModelFileError("interaction: fitted for another layout or coordinate count")
            seen = [(str(b), int(d)) for b, d in zip(inter.block_info_, inter.dims_, strict=True)]
            want = [(str(b), int(d)) for b, d in zip(rel.input_blocks_, rel.input_dims_, strict=True)]
            if seen != want:
                raise ModelFileError(f"interaction: blocks {seen} differ from the relation encoder's {want}")
            made_out = 2 * made_out + 2 * int(rel.n_features_out_)
        if made_out != n_out or int(clf.n_features_in_) != n_out:
            raise ModelFileError(
                f"n_features_out is {n_out}, the encoders give {made_out} values and the "
                f"classifier expects {clf.n_features_in_}"
            )
    calibration = None
    if "calibration" in params:
        calibration = state_str(params, "calibration", CALIBRATIONS, none=True)
    calibrator = persist.unnest("calibrator", params.get("calibrator"), arrays, ("Calibrator",))
    if calibrator is not None:
        if is_sequence_model(clf):
            raise ModelFileError("calibrator: a sequence classifier is not recalibrated")
        if not np.array_equal(calibrator.classes_, classes):
            raise ModelFileError(
                f"calibrator: its classes {calibrator.classes_.tolist()} differ from the model's "
                f"{classes.tolist()}"
            )
    fps = state_float(params, "fps", 1e-3, 1e5, none=True) if "fps" in params else None
    rs = state_int(params, "random_state", 0, 2**32 - 1, none=True) if "random_state" in params else None
    n_jobs = state_int(params, "n_jobs", -1, 1024, none=True) if "n_jobs" in params else None
    model = cls(
        features=fitted["features"],
        encoder=fitted["encoder"] if fitted["encoder"] is not None else "vlad",
        classifier=clf,
        layout=layout.name,
        fps=fps,
        random_state=rs,
        n_jobs=n_jobs,
        calibration=calibration,
    )
    model.layout_ = layout
    model.n_dims_ = n_dims
    model.features_ = fitted["features"]
    model.encoder_ = fitted["encoder"]
    model.classifier_ = clf
    model.calibrator_ = calibrator
    model.interaction_, model.relation_encoder_ = inter, rel
    model.classes_ = classes
    model.n_features_out_ = n_out
    model.fit_time_ = float("nan")
    return model
