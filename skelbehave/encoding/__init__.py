"""Fixed-length encodings of local joint descriptors, per joint group.

:class:`VLADEncoder` (the default), :class:`BoWEncoder` and
:class:`FisherEncoder` share one scikit-learn transformer interface:
``fit(LocalDescriptors)`` learns a PCA and a codebook per joint group (on a
random subsample of at most ``max_fit_samples`` rows, so fitting scales to
millions of descriptors), and ``transform(LocalDescriptors)`` returns an
``(n_sequences, n_features_out_)`` array. A temporal pyramid (whole
sequence, halves, quarters, ...; ``pyramid_levels``) makes time order count.
Assignment and accumulation run in numba over all sequences at once.

Every fitted encoder exposes ``_get_state() -> (params, arrays)`` and the
classmethod ``_from_state(params, arrays)`` so that
:mod:`skelbehave.pipeline.persist` saves it as JSON + arrays, without pickle.

Examples
--------
>>> import numpy as np
>>> from skelbehave.features.descriptors import BlockInfo, LocalDescriptors
>>> from skelbehave.encoding import VLADEncoder
>>> D = LocalDescriptors([np.random.default_rng(0).normal(size=(60, 4))], offsets=[0, 30, 60],
...                      frame_index=np.r_[np.arange(30), np.arange(30)], n_frames=[30, 30],
...                      block_info=[BlockInfo("displacement", "all")])
>>> VLADEncoder(n_clusters=3, pyramid_levels=1, random_state=0).fit_transform(D).shape
(2, 12)
"""

from __future__ import annotations

from ..errors import ParameterError
from ._codebook import _numba_threads as encoder_threads
from .encoders import ENCODERS, BoWEncoder, FisherEncoder, VLADEncoder

__all__ = ["ENCODERS", "BoWEncoder", "FisherEncoder", "VLADEncoder", "encoder_threads", "make_encoder"]


def make_encoder(name: str = "vlad", **params) -> VLADEncoder | BoWEncoder | FisherEncoder:
    """An encoder by name (``"vlad"``, ``"bow"`` or ``"fisher"``) with parameters.

    Examples
    --------
    >>> make_encoder("bow", n_clusters=32).n_clusters
    32
    """
    try:
        cls = ENCODERS[name.lower()]
    except KeyError:
        raise ParameterError(f"unknown encoder {name!r}; expected one of {sorted(ENCODERS)}") from None
    return cls(**params)
