"""Pipelines: clip labels (:class:`BehaviorModel`) and frame labels (:class:`FrameLevelModel`).

Both are built from the same parts (features, encoding, heads) and saved in
one file format (:mod:`skelbehave.pipeline.persist`): :func:`save` writes a
fitted ``BehaviorModel``, ``FrameLevelModel`` or ``CNNClassifier``, and
:func:`load` returns whatever a file holds.

Examples
--------
>>> from skelbehave.pipeline import BehaviorModel, FrameLevelModel
>>> BehaviorModel().classifier, FrameLevelModel().window
('ridge', 31)
"""

from .clip import BehaviorModel, fit
from .frame import FrameLevelModel
from .persist import load, save

__all__ = ["BehaviorModel", "FrameLevelModel", "fit", "load", "save"]
