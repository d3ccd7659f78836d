"""Classifier heads: scikit-learn heads (:mod:`.heads`) and the pruned 1-D CNN (:mod:`.cnn`, needs torch).

Examples
--------
>>> from skelbehave.models import make_head
>>> type(make_head("svm")).__name__
'LinearSVC'
"""

from __future__ import annotations

from .heads import HEADS, SAVABLE_HEADS, head_predict_proba, is_sequence_model, make_head

__all__ = ["HEADS", "SAVABLE_HEADS", "head_predict_proba", "is_sequence_model", "make_head"]
