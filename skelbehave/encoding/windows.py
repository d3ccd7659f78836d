"""VLAD of sliding windows: every window of a long recording encoded as if it were a sequence.

A frame-level model describes each window (a few dozen frames around every
frame) by the per-group VLAD of the frames' local descriptors, with its
temporal pyramid. Cutting every window out as a sequence of its own and
calling :meth:`VLADEncoder.transform` costs the codebook search ``window``
times per frame; :func:`encode_windows` projects and assigns every frame
once, then sums residuals per window (numba, ``prange`` over windows). The
output equals the per-window :meth:`~VLADEncoder.transform` (tested).
"""

from __future__ import annotations

import numpy as np
from sklearn.utils.validation import check_is_fitted

from ..errors import ParameterError, ParameterTypeError
from ..features.descriptors import LocalDescriptors
from . import _kernels
from ._codebook import _numba_threads
from .encoders import VLADEncoder

__all__ = ["encode_windows"]


def encode_windows(
    encoder: VLADEncoder, D: LocalDescriptors, start: np.ndarray, stop: np.ndarray
) -> np.ndarray:
    """VLAD vector of every window ``[start, stop)`` of the rows of ``D``.

    Parameters
    ----------
    encoder : VLADEncoder
        Fitted on descriptors with the same blocks as ``D``.
    D : LocalDescriptors
        Per-frame descriptors; windows refer to its concatenated rows.
    start, stop : array of int (n,)
        Row range of each window (global rows, ``stop`` exclusive, non-empty).

    Returns
    -------
    ndarray, shape (n, encoder.n_features_out_)
        Window ``w`` encoded exactly as :meth:`VLADEncoder.transform` encodes
        a sequence made of rows ``start[w]:stop[w]`` (relative time within
        the window places rows in the pyramid cells).

    Examples
    --------
    >>> from skelbehave.features.descriptors import BlockInfo, LocalDescriptors
    >>> rng = np.random.default_rng(0)
    >>> D = LocalDescriptors([rng.normal(size=(50, 3))], offsets=[0, 50], frame_index=np.arange(50),
    ...                      n_frames=[50], block_info=[BlockInfo("position", "all")])
    >>> enc = VLADEncoder(n_clusters=4, pyramid_levels=2, random_state=0).fit(D)
    >>> V = encode_windows(enc, D, np.array([0, 10]), np.array([20, 30]))
    >>> cut = LocalDescriptors([D.blocks[0][np.r_[0:20, 10:30]]], offsets=[0, 20, 40],
    ...                        frame_index=np.r_[0:20, 0:20], n_frames=[20, 20], block_info=D.block_info)
    >>> bool(np.allclose(V, enc.transform(cut)))
    True
    """
    if not isinstance(encoder, VLADEncoder):
        raise ParameterTypeError(f"encode_windows needs a VLADEncoder, got {type(encoder).__name__}")
    check_is_fitted(encoder, "n_features_out_")
    if not isinstance(D, LocalDescriptors):
        raise ParameterTypeError(f"encode_windows needs LocalDescriptors, got {type(D).__name__}")
    if list(D.block_info) != encoder.input_blocks_ or [int(d) for d in D.dims] != encoder.input_dims_:
        raise ParameterError("descriptor blocks differ from the blocks the encoder was fitted on")
    start = np.ascontiguousarray(start, dtype=np.int64)
    stop = np.ascontiguousarray(stop, dtype=np.int64)
    if start.shape != stop.shape or start.ndim != 1:
        raise ParameterError("start and stop must be 1-D arrays of the same length")
    if len(start) and (start.min() < 0 or stop.max() > D.n_rows or np.any(stop <= start)):
        raise ParameterError(f"windows must be non-empty row ranges inside 0..{D.n_rows}")
    Df = encoder._fused(D)
    G = len(Df.blocks)
    levels = int(encoder.pyramid_levels)
    scale = 1.0 / np.sqrt(G * _kernels.n_cells(levels)) if (encoder.l2_norm and G) else 1.0
    out = np.empty((len(start), encoder.n_features_out_), dtype=encoder._out_dtype())
    col = 0
    with _numba_threads(encoder.n_jobs):
        for g, block in enumerate(Df.blocks):
            Z = encoder._project(g, block)
            C = np.ascontiguousarray(encoder.centres_[g], dtype=np.float64)
            assign = _kernels.nearest_centres(Z, C)
            _kernels.vlad_encode_windows(
                Z, assign, C, start, stop, levels, bool(encoder.power_norm), bool(encoder.intra_norm),
                bool(encoder.l2_norm), float(scale), out, int(col),
            )  # fmt: skip
            col += encoder._group_width(g)
    return out
