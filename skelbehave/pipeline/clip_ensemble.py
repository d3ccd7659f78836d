"""``classifier="ensemble"``: the default VLAD model and the CNN, class probabilities averaged.

:class:`EnsembleClassifier` is a sequence-level classifier (it takes the pose
sequences themselves, like the CNN): it fits

- a :class:`~skelbehave.pipeline.BehaviorModel` with the default joint
  features, VLAD encoding and ridge head, whose probabilities are the
  calibrated ones (temperature scaling, :mod:`skelbehave.models.calibration`);
- a :class:`~skelbehave.models.cnn.CNNClassifier` with its defaults,

and predicts ``cnn_weight * p_cnn + (1 - cnn_weight) * p_vlad``.
``BehaviorModel(classifier="ensemble")`` (or ``skelbehave.fit(...,
classifier="ensemble")``) builds one; it saves and loads like every model
kind (both members nested in the one file, every field checked on load).

The weight 0.7 was chosen with the CNN defaults on held-out TRAINING subjects
(MSR Action3D: train 1,3,5 / validate 7,9; UTD-MHAD: train 1,3,5 / validate
7; seeds 0, 1, 2; ``benchmarks/cnn_accuracy.py`` prints this validation):
the best mean over the two datasets. Validation accuracy, mean of the 3
seeds, VLAD model alone / CNN alone / ensemble with CNN weight 0.5, 0.7,
0.8, 0.9: MSR 86.8 / 92.4 / 91.8, 93.6, 93.9, 94.2 %; UTD 95.4 / 95.1 /
96.6, 98.8, 97.5, 96.6 % (the default VLAD model facing +x, ``rotate=True``).
With the VLAD default before that change 0.8 had been best (MSR 94.4 %, UTD
98.5 %). A second fold (MSR validate 1,3; UTD validate 1), weights 0.5 / 0.7 /
0.8 / 0.9: MSR 85.5 / 83.2 / 81.4 / 79.4 % (VLAD alone 86.7, CNN 75.8), UTD
98.8 / 98.8 / 98.4 / 97.8 % (VLAD 98.4, CNN 97.8); over both folds and data
sets 0.7 stays best (mean 93.6 %, against 93.2 at 0.5 and 92.8 at 0.8).
The CNN's probabilities are the softer (label smoothing, geometric stream
fusion), hence its larger weight.

Needs the ``cnn`` extra (PyTorch).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, clone

from .._util.optional import require
from ..errors import ModelFileError, ParameterError
from . import persist

__all__ = ["DEFAULT_CNN_WEIGHT", "EnsembleClassifier"]

#: weight of the CNN's probabilities (the VLAD model gets the rest); see the module docstring
DEFAULT_CNN_WEIGHT = 0.7

_STATE_VERSION = 1


def _new_cnn(random_state):
    require("torch", "cnn", "the ensemble classifier")
    from ..models.cnn.estimator import CNNClassifier

    return CNNClassifier(random_state=random_state)


class EnsembleClassifier(ClassifierMixin, BaseEstimator):
    """Mean of the calibrated probabilities of a VLAD :class:`BehaviorModel` and a CNN.

    Parameters
    ----------
    vlad : BehaviorModel
        The (unfitted) VLAD member; cloned at fit. ``BehaviorModel(classifier="ensemble")``
        passes ``BehaviorModel()`` with its own seed and threads.
    cnn : CNNClassifier or None
        The (unfitted) CNN member; None: ``CNNClassifier()`` with the defaults.
    cnn_weight : float
        Weight of the CNN's probabilities, in [0, 1].
    random_state : int or None
        Seed of both members (when theirs is None).

    Attributes
    ----------
    vlad_, cnn_ : fitted members
    classes_ : ndarray

    Examples
    --------
    >>> from skelbehave.pipeline import BehaviorModel
    >>> EnsembleClassifier(vlad=BehaviorModel()).cnn_weight
    0.7
    """

    _skelbehave_sequence_input = True
    _skelbehave_name = "ensemble"

    def __init__(self, vlad=None, cnn=None, cnn_weight: float = DEFAULT_CNN_WEIGHT, random_state=None):
        self.vlad = vlad
        self.cnn = cnn
        self.cnn_weight = cnn_weight
        self.random_state = random_state

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.three_d_array = True
        return tags

    def fit(self, X, y) -> EnsembleClassifier:
        """Fit both members on the sequences ``X`` and labels ``y``."""
        w = self.cnn_weight
        if isinstance(w, bool) or not isinstance(w, int | float) or not 0.0 <= float(w) <= 1.0:
            raise ParameterError(f"cnn_weight must be a number in [0, 1], got {w!r}")
        if self.vlad is None or type(self.vlad).__name__ != "BehaviorModel":
            raise ParameterError("vlad must be a BehaviorModel (classifier='ensemble' gives one)")
        vlad = clone(self.vlad)
        if getattr(vlad, "classifier", None) in ("cnn", "ensemble"):
            raise ParameterError("the ensemble's vlad member must not be a CNN or another ensemble")
        cnn = _new_cnn(self.random_state) if self.cnn is None else clone(self.cnn)
        if vlad.random_state is None:
            vlad.set_params(random_state=self.random_state)
        if cnn.random_state is None:
            cnn.set_params(random_state=self.random_state)
        self.vlad_ = vlad.fit(X, y)
        self.cnn_ = cnn.fit(X, y)
        if not np.array_equal(np.asarray(self.vlad_.classes_), np.asarray(self.cnn_.classes_)):
            raise ParameterError("the members saw different classes")  # both drop the same no-pose items
        self.classes_ = np.asarray(self.cnn_.classes_)
        return self

    def member_proba(self, X) -> dict[str, np.ndarray]:
        """Each member's class probabilities, ``{"vlad": (n, k), "cnn": (n, k)}``."""
        if not hasattr(self, "cnn_"):
            from sklearn.exceptions import NotFittedError

            raise NotFittedError("EnsembleClassifier is not fitted yet; call fit first")
        return {"vlad": self.vlad_.predict_proba(X), "cnn": self.cnn_.predict_proba(X)}

    def combine(self, probs: dict[str, np.ndarray], cnn_weight: float | None = None) -> np.ndarray:
        """The weighted mean of :meth:`member_proba`'s arrays (``cnn_weight`` defaults to the parameter).

        Examples
        --------
        >>> e = EnsembleClassifier(cnn_weight=0.25)
        >>> e.combine({"vlad": np.array([[1.0, 0.0]]), "cnn": np.array([[0.0, 1.0]])}).tolist()
        [[0.75, 0.25]]
        """
        w = float(self.cnn_weight if cnn_weight is None else cnn_weight)
        return w * probs["cnn"] + (1.0 - w) * probs["vlad"]

    def predict_proba(self, X) -> np.ndarray:
        """Weighted mean of the members' probabilities, shape ``(n, n_classes)``."""
        return self.combine(self.member_proba(X))

    def predict(self, X) -> np.ndarray:
        """The class of highest ensemble probability."""
        return self.classes_[self.predict_proba(X).argmax(1)]

    # ------------------------------------------------------------------ persistence
    def _get_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        if not hasattr(self, "cnn_"):
            raise ParameterError("fit the ensemble before saving it")
        arrays: dict[str, np.ndarray] = {"classes": np.asarray(self.classes_)}
        params = {
            "version": _STATE_VERSION,
            "cnn_weight": float(self.cnn_weight),
            "random_state": self.random_state if isinstance(self.random_state, int) else None,
            "vlad": persist.nest("vlad", self.vlad_, arrays),
            "cnn": persist.nest("cnn", self.cnn_, arrays),
        }
        return params, arrays

    @classmethod
    def _from_state(cls, params: dict[str, Any], arrays: dict[str, np.ndarray]) -> EnsembleClassifier:
        """Rebuild a fitted ensemble, checking the weight, both members and their classes.

        Raises
        ------
        ModelFileError
            Another state version, a weight outside [0, 1], a member of the wrong kind (the VLAD member
            may not hold a CNN or another ensemble), or members whose classes differ.
        """
        from ..io.archive import state_array, state_float, state_int

        if params.get("version") != _STATE_VERSION:
            raise ModelFileError(
                f"ensemble state version {params.get('version')!r} is not supported "
                f"(expected {_STATE_VERSION})"
            )
        w = state_float(params, "cnn_weight", 0.0, 1.0)
        rs = state_int(params, "random_state", 0, 2**32 - 1, none=True) if "random_state" in params else None
        entry = params.get("vlad")
        inner = entry.get("params", {}).get("classifier") if isinstance(entry, dict) else None
        if isinstance(inner, dict) and inner.get("kind") in ("CNNClassifier", "EnsembleClassifier"):
            raise ModelFileError("vlad: the VLAD member must not hold a CNN or another ensemble")
        vlad = persist.unnest("vlad", entry, arrays, ("BehaviorModel",))
        cnn = persist.unnest("cnn", params.get("cnn"), arrays, ("CNNClassifier",))
        if vlad is None or cnn is None:
            raise ModelFileError("the ensemble needs both members, vlad and cnn")
        if vlad.encoder_ is None:
            raise ModelFileError("vlad: the VLAD member must encode its sequences (features and encoder)")
        classes = state_array(arrays, "classes", "iuU", ndim=1)
        for name, m in (("vlad", vlad), ("cnn", cnn)):
            if not np.array_equal(np.asarray(m.classes_), classes):
                raise ModelFileError(
                    f"{name}: its classes {np.asarray(m.classes_).tolist()} differ from the ensemble's "
                    f"{classes.tolist()}"
                )
        out = cls(vlad=clone(vlad), cnn=clone(cnn), cnn_weight=w, random_state=rs)
        out.vlad_, out.cnn_, out.classes_ = vlad, cnn, classes
        return out
