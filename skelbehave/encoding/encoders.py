"""Fixed-length encoders of local descriptors: VLAD, bag of words, Fisher vectors.

All three share one interface (scikit-learn transformers): ``fit`` on a
:class:`~skelbehave.features.descriptors.LocalDescriptors` learns, per joint
group, a PCA projection and a codebook (K-means centres, or a diagonal GMM
for Fisher vectors); ``transform`` turns every sequence into one vector, the
concatenation over groups and temporal-pyramid cells of the per-cell code.
The shared machinery (PCA, block fusion, pyramid, saved state) is in
:mod:`skelbehave.encoding._codebook`; the encoders compute no features.
"""

from __future__ import annotations

import numpy as np

from ..errors import ParameterError
from . import _kernels
from ._codebook import (
    _CodebookEncoder,
    _l2_rows,
)

__all__ = ["VLADEncoder", "BoWEncoder", "FisherEncoder", "ENCODERS"]


def _kmeans_plusplus_indices(X: np.ndarray, n_clusters: int, rng: np.random.RandomState) -> np.ndarray:
    """Row indices of the k-means++ seeds that scikit-learn's ``KMeans`` picks on float32 ``X``.

    The same steps and random draws as ``sklearn.cluster._kmeans._kmeans_plusplus``
    (greedy, ``2 + log(k)`` candidates per seed, unit weights, data centred
    as ``KMeans.fit`` centres it); only the candidate distances come from
    :func:`._kernels.candidate_sq_distances`, one pass over the rows instead
    of float64 chunks.
    """
    Xc = X - X.mean(axis=0)
    norms = np.einsum("ij,ij->i", Xc, Xc, dtype=np.float64)
    n = len(Xc)
    sample_weight = np.ones(n, dtype=Xc.dtype)
    n_local_trials = 2 + int(np.log(n_clusters))
    center_id = rng.choice(n, p=sample_weight / sample_weight.sum())
    indices = np.full(n_clusters, -1, dtype=np.int64)
    indices[0] = center_id
    closest_dist_sq = _kernels.candidate_sq_distances(Xc, indices[:1], norms)
    current_pot = closest_dist_sq @ sample_weight
    for c in range(1, n_clusters):
        rand_vals = rng.uniform(size=n_local_trials) * current_pot
        candidate_ids = np.searchsorted(np.cumsum(sample_weight * closest_dist_sq), rand_vals)
        np.clip(candidate_ids, None, closest_dist_sq.size - 1, out=candidate_ids)
        distance_to_candidates = _kernels.candidate_sq_distances(Xc, candidate_ids.astype(np.int64), norms)
        np.minimum(closest_dist_sq, distance_to_candidates, out=distance_to_candidates)
        candidates_pot = distance_to_candidates @ sample_weight.reshape(-1, 1)
        best = np.argmin(candidates_pot)
        current_pot = candidates_pot[best]
        closest_dist_sq = distance_to_candidates[best]
        indices[c] = candidate_ids[best]
    return indices


def _kmeans(Z: np.ndarray, n_clusters: int, seed: int, kmeans: str) -> np.ndarray:
    from sklearn.cluster import KMeans, MiniBatchKMeans

    use_mini = kmeans == "minibatch" or (kmeans == "auto" and len(Z) > 50_000)
    if kmeans not in ("auto", "full", "minibatch"):
        raise ParameterError(f"kmeans must be 'auto', 'full' or 'minibatch', got {kmeans!r}")
    # float32: about half the time of float64 on the default model's data, same training-subject accuracy
    Z32 = np.ascontiguousarray(Z, dtype=np.float32)
    if use_mini:
        km = MiniBatchKMeans(n_clusters=n_clusters, batch_size=4096, n_init=3, random_state=seed)
    else:
        # the k-means++ seeding KMeans(random_state=seed) would do, with a faster distance kernel
        init = Z32[_kmeans_plusplus_indices(Z32, n_clusters, np.random.RandomState(seed))]
        km = KMeans(n_clusters=n_clusters, init=init, n_init=1, random_state=seed, max_iter=100)
    km.fit(Z32)
    return np.ascontiguousarray(km.cluster_centers_, dtype=np.float64)


class _KMeansEncoder(_CodebookEncoder):
    _codebook_keys = ("centres",)

    def _init_codebooks(self) -> None:
        self.centres_: list[np.ndarray] = []

    def _fit_codebook(self, Z, seed):
        self.centres_.append(_kmeans(Z, self.n_clusters, seed, self.kmeans))

    def _codebook_arrays(self, g):
        return {"centres": self.centres_[g]}

    def _set_codebook_arrays(self, arrays):
        self.centres_.append(np.ascontiguousarray(arrays["centres"], dtype=np.float64))


class VLADEncoder(_KMeansEncoder):
    """VLAD per joint group, with a temporal pyramid.

    For each group: PCA, a K-means codebook of ``n_clusters`` centres, then
    for every sequence and pyramid cell the sum of residuals of its
    descriptors to their nearest centre (Jégou et al. 2010). Normalisations,
    each switchable: signed square root (``power_norm``), per-centre L2
    (``intra_norm``, Arandjelović & Zisserman 2013), and L2 of each
    (group, cell) block (``l2_norm``; the whole vector is then scaled to unit
    norm at most).

    Parameters
    ----------
    n_clusters : int, default 16
        Codebook size ``l`` per group.
    n_components : int, float or None, default None
        PCA dimensions kept per group (a float in (0, 1) keeps that fraction
        of variance; None keeps all, rotating only).
    whiten : bool, default False
        Divide PCA components by their standard deviation.
    pyramid_levels : int, default 3
        1 = whole sequence only, 2 = + halves, 3 = + quarters, ...
    power_norm, intra_norm, l2_norm : bool, default True
        The three normalisations.
    kmeans : {"auto", "full", "minibatch"}, default "auto"
        K-means flavour; "auto" uses MiniBatchKMeans above 50,000 rows.
    max_fit_samples : int or None, default 100_000
        Rows per group used to fit PCA and codebook (random subsample), so
        fitting scales to millions of descriptors.
    fuse : bool, default False
        Early fusion: blocks of the same body part (``BlockInfo.part``, e.g.
        the position, displacement and acceleration blocks of ``arm_left``)
        are concatenated into one descriptor, each scaled to unit total
        variance on the training rows, before PCA and codebook. Blocks
        without a partner stay alone.
    kind_weights : dict of str to float, optional
        Weight of each block kind (``BlockInfo.kind``) in fused descriptors,
        e.g. ``{"displacement": 2.0, "acceleration": 3.0}``; kinds not listed
        (and every kind when None) weigh 1. Used only with ``fuse``.
    dtype : {"float64", "float32"}, default "float64"
        Type of the encoded vectors (accumulation is in float64 either way);
        float32 halves their memory and the classifier's fit time.
    random_state : int, RandomState or None
        Seeds subsampling and K-means.
    n_jobs : int or None
        numba threads for encoding (None = 1, -1 = all).

    Attributes
    ----------
    centres_ : list of ndarray (l, k)
        Codebook per group, in PCA space.
    n_features_out_ : int
        Length of the output vector.

    Examples
    --------
    >>> import numpy as np
    >>> from skelbehave.features.descriptors import BlockInfo, LocalDescriptors
    >>> rng = np.random.default_rng(0)
    >>> D = LocalDescriptors([rng.normal(size=(100, 6))], offsets=[0, 40, 100],
    ...                      frame_index=np.r_[np.arange(40), np.arange(60)],
    ...                      n_frames=[40, 60], block_info=[BlockInfo("position", "all")])
    >>> enc = VLADEncoder(n_clusters=4, pyramid_levels=2, random_state=0).fit(D)
    >>> enc.transform(D).shape   # 1 group x 3 cells x 4 centres x 6 dims
    (2, 72)
    """

    _kind = "vlad"

    def __init__(
        self,
        n_clusters: int = 16,
        n_components: int | float | None = None,
        whiten: bool = False,
        pyramid_levels: int = 3,
        power_norm: bool = True,
        intra_norm: bool = True,
        l2_norm: bool = True,
        kmeans: str = "auto",
        max_fit_samples: int | None = 100_000,
        fuse: bool = False,
        kind_weights: dict[str, float] | None = None,
        dtype: str = "float64",
        random_state=None,
        n_jobs: int | None = None,
    ) -> None:
        self.n_clusters = n_clusters
        self.n_components = n_components
        self.whiten = whiten
        self.pyramid_levels = pyramid_levels
        self.power_norm = power_norm
        self.intra_norm = intra_norm
        self.dtype = dtype
        self.fuse = fuse
        self.kind_weights = kind_weights
        self.l2_norm = l2_norm
        self.kmeans = kmeans
        self.max_fit_samples = max_fit_samples
        self.random_state = random_state
        self.n_jobs = n_jobs

    def _group_width(self, g):
        l, k = self.centres_[g].shape
        return _kernels.n_cells(self.pyramid_levels) * l * k

    def _encode_into(self, g, Z, offsets, rel_time, out, col0, scale) -> bool:
        _kernels.vlad_encode(
            Z,
            self.centres_[g],
            offsets,
            rel_time,
            self.pyramid_levels,
            bool(self.power_norm),
            bool(self.intra_norm),
            bool(self.l2_norm),
            float(scale),
            out,
            int(col0),
        )
        return True

    def _encode_group(self, g, Z, offsets, rel_time):
        """NumPy path (accumulate, then normalise): the reference of :meth:`_encode_into`."""
        V, _ = _kernels.vlad_accumulate(Z, self.centres_[g], offsets, rel_time, self.pyramid_levels)
        if self.power_norm:
            V = np.sign(V) * np.sqrt(np.abs(V))
        if self.intra_norm:
            V = _l2_rows(V, axis=3)
        n, cells = V.shape[:2]
        V = V.reshape(n, cells, -1)
        if self.l2_norm:
            V = _l2_rows(V, axis=2)
        return V.reshape(n, -1)


class BoWEncoder(_KMeansEncoder):
    """Bag of words per joint group: histogram of nearest codewords, with a temporal pyramid.

    Same parameters as :class:`VLADEncoder` (no ``intra_norm``); each cell's
    histogram is divided by its row count, then optionally square-rooted
    (``power_norm``) and L2-normalised.

    Examples
    --------
    >>> import numpy as np
    >>> from skelbehave.features.descriptors import BlockInfo, LocalDescriptors
    >>> D = LocalDescriptors([np.random.default_rng(0).normal(size=(50, 3))], offsets=[0, 50],
    ...                      frame_index=np.arange(50), n_frames=[50],
    ...                      block_info=[BlockInfo("position", "all")])
    >>> BoWEncoder(n_clusters=5, pyramid_levels=1, random_state=0).fit(D).transform(D).shape
    (1, 5)
    """

    _kind = "bow"

    def __init__(
        self,
        n_clusters: int = 64,
        n_components: int | float | None = None,
        whiten: bool = False,
        pyramid_levels: int = 3,
        power_norm: bool = True,
        l2_norm: bool = True,
        kmeans: str = "auto",
        max_fit_samples: int | None = 100_000,
        random_state=None,
        n_jobs: int | None = None,
    ) -> None:
        self.n_clusters = n_clusters
        self.n_components = n_components
        self.whiten = whiten
        self.pyramid_levels = pyramid_levels
        self.power_norm = power_norm
        self.l2_norm = l2_norm
        self.kmeans = kmeans
        self.max_fit_samples = max_fit_samples
        self.random_state = random_state
        self.n_jobs = n_jobs

    def _group_width(self, g):
        return _kernels.n_cells(self.pyramid_levels) * self.centres_[g].shape[0]

    def _encode_group(self, g, Z, offsets, rel_time):
        H = _kernels.bow_accumulate(Z, self.centres_[g], offsets, rel_time, self.pyramid_levels)
        tot = H.sum(axis=2, keepdims=True)
        H = np.divide(H, tot, out=np.zeros_like(H), where=tot > 0)
        if self.power_norm:
            H = np.sqrt(H)
        if self.l2_norm:
            H = _l2_rows(H, axis=2)
        return H.reshape(len(H), -1)


class FisherEncoder(_CodebookEncoder):
    """Fisher vectors of a diagonal GMM per joint group, with a temporal pyramid.

    Gradients with respect to the means and standard deviations (Perronnin
    et al. 2010, "improved" Fisher vectors): per cell
    ``[S1 / (N sqrt(w)), S2 / (N sqrt(2 w))]``, then signed square root and
    L2 (switchable). The output is twice as long as VLAD's for the same
    codebook size.

    Examples
    --------
    >>> import numpy as np
    >>> from skelbehave.features.descriptors import BlockInfo, LocalDescriptors
    >>> D = LocalDescriptors([np.random.default_rng(0).normal(size=(80, 3))], offsets=[0, 80],
    ...                      frame_index=np.arange(80), n_frames=[80],
    ...                      block_info=[BlockInfo("position", "all")])
    >>> FisherEncoder(n_clusters=2, pyramid_levels=1, random_state=0).fit(D).transform(D).shape
    (1, 12)
    """

    _kind = "fisher"
    _codebook_keys = ("means", "sigmas", "log_weights")

    def __init__(
        self,
        n_clusters: int = 8,
        n_components: int | float | None = None,
        whiten: bool = False,
        pyramid_levels: int = 3,
        power_norm: bool = True,
        l2_norm: bool = True,
        max_fit_samples: int | None = 50_000,
        random_state=None,
        n_jobs: int | None = None,
    ) -> None:
        self.n_clusters = n_clusters
        self.n_components = n_components
        self.whiten = whiten
        self.pyramid_levels = pyramid_levels
        self.power_norm = power_norm
        self.l2_norm = l2_norm
        self.max_fit_samples = max_fit_samples
        self.random_state = random_state
        self.n_jobs = n_jobs

    def _init_codebooks(self):
        self.means_: list[np.ndarray] = []
        self.sigmas_: list[np.ndarray] = []
        self.log_weights_: list[np.ndarray] = []

    def _fit_codebook(self, Z, seed):
        from sklearn.mixture import GaussianMixture

        gmm = GaussianMixture(
            n_components=self.n_clusters,
            covariance_type="diag",
            reg_covar=1e-4,
            max_iter=100,
            random_state=seed,
        ).fit(Z)
        self.means_.append(np.ascontiguousarray(gmm.means_, dtype=np.float64))
        self.sigmas_.append(np.ascontiguousarray(np.sqrt(gmm.covariances_), dtype=np.float64))
        self.log_weights_.append(np.log(np.maximum(gmm.weights_, 1e-300)).astype(np.float64))

    def _codebook_arrays(self, g):
        return {"means": self.means_[g], "sigmas": self.sigmas_[g], "log_weights": self.log_weights_[g]}

    def _set_codebook_arrays(self, arrays):
        self.means_.append(np.ascontiguousarray(arrays["means"], dtype=np.float64))
        self.sigmas_.append(np.ascontiguousarray(arrays["sigmas"], dtype=np.float64))
        self.log_weights_.append(np.ascontiguousarray(arrays["log_weights"], dtype=np.float64))

    def _group_width(self, g):
        l, k = self.means_[g].shape
        return _kernels.n_cells(self.pyramid_levels) * 2 * l * k

    def _encode_group(self, g, Z, offsets, rel_time):
        _, S1, S2, rows = _kernels.fisher_accumulate(
            Z, self.means_[g], self.sigmas_[g], self.log_weights_[g], offsets, rel_time, self.pyramid_levels
        )
        w = np.exp(self.log_weights_[g])[None, None, :, None]
        N = np.maximum(rows, 1.0)[:, :, None, None]
        F = np.concatenate([S1 / (N * np.sqrt(w)), S2 / (N * np.sqrt(2 * w))], axis=2)
        if self.power_norm:
            F = np.sign(F) * np.sqrt(np.abs(F))
        n, cells = F.shape[:2]
        F = F.reshape(n, cells, -1)
        if self.l2_norm:
            F = _l2_rows(F, axis=2)
        return F.reshape(n, -1)


ENCODERS: dict[str, type[_CodebookEncoder]] = {
    "vlad": VLADEncoder,
    "bow": BoWEncoder,
    "fisher": FisherEncoder,
}
