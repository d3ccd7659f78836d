"""Inference of :class:`~skelbehave.models.cnn.CNNClassifier` (a mixin): per-stream and fused
class probabilities, labels and the parameter count.

Examples
--------
>>> import numpy as np
>>> from skelbehave.models.cnn import CNNClassifier
>>> X = [np.random.default_rng(k).normal(size=(20, 20, 3)) for k in range(6)]
>>> clf = CNNClassifier(layout="msr20", channels=(8,), n_frames=16, max_epochs=1, random_state=0)
>>> sorted(clf.fit(X, [0, 1] * 3).stream_proba(X[:2]))
['motion', 'position']
"""

from __future__ import annotations

import numpy as np
import torch

from ...errors import PoseDataError
from ...features.frame import check_sequence_list
from ...poses import as_sequences
from ...temporal.presence import NO_POSE, has_pose
from .training import fuse_probabilities

__all__ = ["InferenceMixin"]


class InferenceMixin:
    """Prediction methods of CNNClassifier (mixed in)."""

    def _check_fitted(self) -> None:
        if not hasattr(self, "network_"):
            from sklearn.exceptions import NotFittedError

            raise NotFittedError("CNNClassifier is not fitted yet; call fit first")

    def stream_proba(self, X, batch_size: int = 256) -> dict[str, np.ndarray]:
        """Class probabilities of each stream separately, ``{stream: (n, n_classes)}``."""
        self._check_fitted()
        check_sequence_list(X)
        seqs = as_sequences(X, layout=self.layout)
        ok = np.array([has_pose(s) for s in seqs], dtype=bool)
        if len(seqs) and not ok.all():  # no pose: rows of NaN, never a class
            keep = [q for q, k in zip(seqs, ok, strict=True) if k]
            part = self.stream_proba(keep, batch_size) if keep else None
            out_nan = {}
            for s in self.streams_:
                full = np.full((len(seqs), len(self.classes_)), np.nan)
                if part is not None:
                    full[ok] = part[s]
                out_nan[s] = full
            return out_nan
        positions, root, _ = self._positions(seqs)
        device = self._device()
        net = self.network_.to(device).eval()
        out: dict[str, list] = {s: [] for s in self.streams_}
        with self._threads(), torch.no_grad():
            for b0 in range(0, len(positions), batch_size):
                inputs = self._inputs(positions[b0 : b0 + batch_size], root)
                for s in self.streams_:
                    if inputs[s].shape[1] != len(self.input_mean_[s]):
                        raise PoseDataError(
                            f"stream {s!r}: the sequences give {inputs[s].shape[1]} input channels, the "
                            f"network was trained on {len(self.input_mean_[s])} (another layout or 2-D/3-D)"
                        )
                xin = self._standardise(inputs, device)
                for s in self.streams_:
                    out[s].append(torch.softmax(net.streams[s](xin[s]), 1).cpu().numpy())
        return {s: np.concatenate(v) for s, v in out.items()}

    def fuse(self, probs: dict[str, np.ndarray], weights: dict[str, float] | None = None) -> np.ndarray:
        """Fuse per-stream probabilities (:meth:`stream_proba`) with ``fusion_rule``.

        ``weights`` defaults to the fitted ``fusion_weights_``.
        """
        w = (
            weights
            or getattr(self, "fusion_weights_", None)
            or {s: 1.0 / len(self.streams_) for s in self.streams_}
        )
        return fuse_probabilities(
            [probs[s] for s in self.streams_], [w[s] for s in self.streams_], self.fusion_rule
        )

    def predict_proba(self, X) -> np.ndarray:
        """Fused class probabilities (``fusion_rule`` with ``fusion_weights_``), shape ``(n, n_classes)``."""
        return self.fuse(self.stream_proba(X))

    def predict(self, X) -> np.ndarray:
        """Predicted labels; ``"no_pose"`` for a sequence with no valid frame (its probabilities are NaN)."""
        proba = self.predict_proba(X)  # first: an unfitted model raises NotFittedError, not AttributeError
        absent = np.isnan(proba).all(axis=1)
        if not absent.any():
            return self.classes_[proba.argmax(1)]
        kind = self.classes_.dtype.kind
        dtype = np.result_type(self.classes_.dtype, np.array(NO_POSE).dtype) if kind == "U" else object
        out = np.full(len(proba), NO_POSE, dtype=dtype)
        out[~absent] = self.classes_[np.nan_to_num(proba[~absent]).argmax(1)]
        return out

    def n_parameters(self) -> int:
        """Parameters of the fitted (inference-form) network, all streams."""
        self._check_fitted()
        return int(sum(p.numel() for p in self.network_.parameters()))
