"""Machinery shared by the encoders of :mod:`skelbehave.encoding.encoders` (private).

Thread limits, PCA, the fusion of descriptor blocks by body part
(:class:`~skelbehave.features.descriptors.BlockInfo`), subsampling of fit
rows, the temporal pyramid and the saved state: everything of an encoder
except its codebook and its code.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from .._util.threads import limit_threads as _numba_threads  # n_jobs -> numba, BLAS, torch: one home
from ..errors import ParameterError, ParameterTypeError
from ..features.descriptors import BlockInfo, LocalDescriptors
from . import _kernels

logger = logging.getLogger(__name__)


def _kind_weights(weights) -> dict[str, float]:
    """``kind_weights`` as a checked ``{kind: weight}`` dict (None: every kind 1)."""
    if weights is None:
        return {}
    if not isinstance(weights, dict):
        raise ParameterTypeError(
            f"kind_weights must be a dict {{kind: weight}} or None, got {type(weights).__name__}"
        )
    out = {}
    for k, v in weights.items():
        w = float(v)
        if not (np.isfinite(w) and w >= 0):
            raise ParameterError(f"kind_weights[{k!r}] must be a finite weight >= 0, got {v!r}")
        out[str(k)] = w
    return out


def _pca(X: np.ndarray, n_components: int | float | None, whiten: bool):
    """Mean, components ``(k, d)`` and per-component scale of a PCA of ``X`` (deterministic signs)."""
    mean = X.mean(axis=0)
    Xc = X - mean
    cov = Xc.T @ Xc / max(len(X) - 1, 1)
    evals, evecs = np.linalg.eigh(cov)
    order = np.argsort(evals)[::-1]
    evals = np.clip(evals[order], 0.0, None)
    evecs = evecs[:, order].T  # (d, d) rows = components
    d = X.shape[1]
    if n_components is None:
        k = d
    elif isinstance(n_components, float) and 0 < n_components < 1:
        ratio = np.cumsum(evals) / max(evals.sum(), 1e-300)
        k = int(np.searchsorted(ratio, n_components) + 1)
    else:
        k = int(n_components)
        if k < 1:
            raise ParameterError(f"n_components must be >= 1 or a fraction in (0, 1), got {n_components}")
    k = min(k, d)
    comps = evecs[:k]
    # sign convention: largest absolute loading positive (reproducible across runs)
    signs = np.sign(comps[np.arange(k), np.abs(comps).argmax(axis=1)])
    signs[signs == 0] = 1
    comps = comps * signs[:, None]
    if whiten:
        scale = np.sqrt(evals[:k] + 1e-12 * max(evals[0], 1e-300))
    else:
        scale = np.ones(k)
    return mean, comps, scale


def _l2_rows(A: np.ndarray, axis) -> np.ndarray:
    norm = np.sqrt((A * A).sum(axis=axis, keepdims=True))
    return np.divide(A, norm, out=np.zeros_like(A), where=norm > 0)


def _finite_number(v) -> bool:
    """A finite int or float read from a model file (not a bool)."""
    return isinstance(v, int | float) and not isinstance(v, bool) and bool(np.isfinite(v))


class _CodebookEncoder(TransformerMixin, BaseEstimator):
    """Shared machinery: per-group PCA, subsampling, pyramid, state for saving."""

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False  # input: LocalDescriptors from JointFeatures, not a matrix
        return tags

    _kind = "base"

    # ----------------------------------------------------------------- helpers
    def _check_input(self, D) -> LocalDescriptors:
        if not isinstance(D, LocalDescriptors):
            raise ParameterTypeError(
                f"{type(self).__name__} expects LocalDescriptors (from skelbehave.features.JointFeatures), "
                f"got {type(D).__name__}"
            )
        if self.pyramid_levels < 1:
            raise ParameterError(f"pyramid_levels must be >= 1, got {self.pyramid_levels}")
        n = getattr(self, "n_clusters", 1)
        if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
            raise ParameterError(f"n_clusters must be an integer >= 1, got {n!r}")
        return D

    def _fit_rows(self, block: np.ndarray, rng: np.random.RandomState, name: str) -> np.ndarray:
        return np.ascontiguousarray(block[self._fit_row_index(block, rng, name)], dtype=np.float64)

    def _fit_row_index(self, block: np.ndarray, rng: np.random.RandomState, name: str) -> np.ndarray:
        """Sorted indices of the complete rows of ``block`` used for fitting (at most ``max_fit_samples``)."""
        ok = ~np.isnan(block).any(axis=1)
        rows = np.flatnonzero(ok)
        if len(rows) < self.n_clusters:
            raise ParameterError(
                f"group {name!r}: {len(rows)} complete descriptor rows, fewer than n_clusters="
                f"{self.n_clusters}; give more data or fewer clusters"
            )
        if self.max_fit_samples is not None and len(rows) > self.max_fit_samples:
            rows = np.sort(rng.choice(rows, size=int(self.max_fit_samples), replace=False))
        return rows

    def _plan_fusion(self, D: LocalDescriptors) -> None:
        """Which input blocks form each encoded group, and the scale of every input block.

        With ``fuse`` the blocks of one body part (``BlockInfo.part``) form one
        group, each scaled to unit total variance on the training rows times
        the weight of its kind (``kind_weights``); without it every block is
        its own group, unscaled.
        """
        fuse = bool(getattr(self, "fuse", False))
        weights = _kind_weights(getattr(self, "kind_weights", None))
        plan: dict[str, list[int]] = {}
        for i, info in enumerate(D.block_info):
            plan.setdefault(info.part if fuse else str(info), []).append(i)
        self.fusion_plan_ = [[k, v] for k, v in plan.items()]
        scales = np.ones(len(D.blocks))
        if fuse:
            for i, (info, block) in enumerate(zip(D.block_info, D.blocks, strict=True)):
                if not len(block):
                    sd = 1.0
                else:  # sqrt(np.nansum(np.nanvar(block, axis=0))), one kernel call without temporaries
                    block = np.ascontiguousarray(block, dtype=np.float64)
                    sd = float(np.sqrt(_kernels.total_variance(block)))
                w = weights.get(info.kind, 1.0)
                scales[i] = w / sd if sd > 0 else w
        self.block_scale_ = scales

    def _fused(self, D: LocalDescriptors) -> LocalDescriptors:
        """``D`` with the blocks of each fused group side by side (each multiplied by its scale)."""
        # set only on encoders upgraded from first-release files: their acceleration blocks were per
        # second per frame, today's are per second squared (divide by fps; unknown fps means per frame)
        power = getattr(self, "input_rate_power_", None)
        if D.fps is None or power is None or not any(power):
            power = None
        trivial = all(len(idx) == 1 for _, idx in self.fusion_plan_) and np.all(self.block_scale_ == 1)
        if trivial and power is None:
            return D
        infos, blocks = [], []
        for _key, idx in self.fusion_plan_:
            members = [D.block_info[i] for i in idx]
            if len(idx) > 1:
                infos.append(BlockInfo("+".join(m.kind for m in members), members[0].part))
            else:
                infos.append(members[0])
            out = np.empty((D.n_rows, sum(D.blocks[i].shape[1] for i in idx)))
            col = 0
            for i in idx:
                w = D.blocks[i].shape[1]
                np.multiply(D.blocks[i], self.block_scale_[i], out=out[:, col : col + w])
                if power is not None and power[i]:
                    rows_fps = np.repeat(D.fps, D.lengths())[:, None]
                    out[:, col : col + w] *= rows_fps ** float(power[i])
                col += w
            blocks.append(out)
        return D.replace_blocks(blocks, infos)

    def _project(self, g: int, block: np.ndarray) -> np.ndarray:
        Z = (np.asarray(block, dtype=np.float64) - self.pca_mean_[g]) @ self.pca_components_[g].T
        if self.whiten:  # without whitening the scale is all ones: skip a pass over the rows
            Z /= self.pca_scale_[g]
        return np.ascontiguousarray(Z)

    def fit(self, D: LocalDescriptors, y=None):
        """Learn per-group PCA and codebooks from local descriptors.

        Parameters
        ----------
        D : LocalDescriptors
            Descriptors of the training sequences.
        y : ignored

        Returns
        -------
        self
        """
        self._fit_fused(D)
        return self

    def fit_transform(self, D: LocalDescriptors, y=None, **fit_params) -> np.ndarray:
        """:meth:`fit`, then :meth:`transform` of the same descriptors (fused blocks built once).

        Parameters
        ----------
        D : LocalDescriptors
            Descriptors of the training sequences.
        y : ignored

        Returns
        -------
        ndarray, shape (n, n_features_out_)

        Examples
        --------
        >>> import numpy as np
        >>> from skelbehave.encoding import VLADEncoder
        >>> from skelbehave.features.descriptors import BlockInfo, LocalDescriptors
        >>> D = LocalDescriptors([np.random.default_rng(0).normal(size=(60, 3))], offsets=[0, 30, 60],
        ...                      frame_index=np.r_[np.arange(30), np.arange(30)], n_frames=[30, 30],
        ...                      block_info=[BlockInfo("position", "all")])
        >>> VLADEncoder(n_clusters=2, pyramid_levels=1, random_state=0).fit_transform(D).shape
        (2, 6)
        """
        Dfused, projected = self._fit_fused(D, project_all=True)
        return self._encode_fused(Dfused, projected)

    def _fit_fused(
        self, D: LocalDescriptors, project_all: bool = False
    ) -> tuple[LocalDescriptors, list[np.ndarray] | None]:
        """Fit on ``D``; returns ``D`` with fusion applied (input of :meth:`_encode_fused`)
        and, with ``project_all``, every group's rows projected (the fit rows are taken from them:
        a row's projection does not depend on the other rows, so this is the same as projecting them
        alone)."""
        D = self._check_input(D)
        rng = check_random_state(self.random_state)
        self.input_blocks_ = list(D.block_info)
        self.input_dims_ = [int(d) for d in D.dims]
        self.input_rate_power_ = None
        self._plan_fusion(D)
        D = self._fused(D)
        Dfused = D
        seeds = rng.randint(0, 2**31 - 1, size=max(len(D.blocks), 1))
        self.group_names_ = list(D.group_names)
        self.group_dims_ = [int(d) for d in D.dims]
        self.pca_mean_, self.pca_components_, self.pca_scale_ = [], [], []
        self._init_codebooks()
        projected: list[np.ndarray] | None = [] if project_all else None
        with _numba_threads(self.n_jobs):
            for g, (name, block) in enumerate(zip(D.group_names, D.blocks, strict=True)):
                grng = np.random.RandomState(seeds[g])
                rows = self._fit_row_index(block, grng, name)
                X = np.ascontiguousarray(block[rows], dtype=np.float64)
                mean, comps, scale = _pca(X, self.n_components, self.whiten)
                self.pca_mean_.append(mean)
                self.pca_components_.append(comps)
                self.pca_scale_.append(scale)
                if projected is not None:
                    projected.append(self._project(g, block))
                    Z = np.ascontiguousarray(projected[-1][rows])
                else:
                    Z = (X - mean) @ comps.T
                    if self.whiten:
                        Z /= scale
                    Z = np.ascontiguousarray(Z)
                self._fit_codebook(Z, int(seeds[g]))
                logger.debug("%s: group %s, %d rows, %d -> %d dims", self._kind, name, len(X), *Z.shape[::-1])
        self.n_features_out_ = int(sum(self._group_width(g) for g in range(len(self.group_names_))))
        return Dfused, projected

    def transform(self, D: LocalDescriptors) -> np.ndarray:
        """Encode every sequence into one fixed-length vector.

        Parameters
        ----------
        D : LocalDescriptors
            Descriptors of ``n`` sequences, same groups as in ``fit``.

        Returns
        -------
        ndarray, shape (n, n_features_out_)
        """
        check_is_fitted(self, "n_features_out_")
        D = self._check_input(D)
        if list(D.block_info) != self.input_blocks_ or [int(d) for d in D.dims] != self.input_dims_:
            seen = [str(b) for b in self.input_blocks_]
            raise ParameterError(
                f"descriptor blocks {list(zip(D.group_names, D.dims, strict=True))} differ from the blocks "
                f"seen in fit {list(zip(seen, self.input_dims_, strict=True))}"
            )
        return self._encode_fused(self._fused(D))

    def _encode_fused(self, D: LocalDescriptors, projected: list[np.ndarray] | None = None) -> np.ndarray:
        """Encode descriptors that already went through :meth:`_fused`
        (``projected``: their blocks already through :meth:`_project`)."""
        rel_time = np.ascontiguousarray(D.relative_time(), dtype=np.float64)
        offsets = np.ascontiguousarray(D.offsets, dtype=np.int64)
        G = len(D.blocks)
        out = np.empty((D.n_sequences, self.n_features_out_), dtype=self._out_dtype())
        scale = 1.0 / np.sqrt(G * _kernels.n_cells(self.pyramid_levels)) if (self.l2_norm and G) else 1.0
        col = 0
        with _numba_threads(self.n_jobs):
            for g, block in enumerate(D.blocks):
                Z = self._project(g, block) if projected is None else projected[g]
                w = self._group_width(g)
                if not self._encode_into(g, Z, offsets, rel_time, out, col, scale):
                    out[:, col : col + w] = self._encode_group(g, Z, offsets, rel_time) * scale
                col += w
        return out

    # -------------------------------------------------------------- save/load
    def _get_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        """Parameters (JSON-able) and learnt arrays, for saving without pickle."""
        check_is_fitted(self, "n_features_out_")
        params = self.get_params()
        if not (params.get("random_state") is None or isinstance(params["random_state"], int)):
            params["random_state"] = None
        params = {
            "params": params,
            "group_names": self.group_names_,
            "group_dims": self.group_dims_,
            "input_blocks": [[b.kind, b.part] for b in self.input_blocks_],
            "input_dims": self.input_dims_,
            "fusion_plan": self.fusion_plan_,
        }
        if getattr(self, "input_rate_power_", None) is not None:
            params["input_rate_power"] = [float(p) for p in self.input_rate_power_]
        arrays: dict[str, np.ndarray] = {"block_scale": np.asarray(self.block_scale_, dtype=np.float64)}
        for g in range(len(self.group_names_)):
            arrays[f"pca_mean_{g}"] = self.pca_mean_[g]
            arrays[f"pca_components_{g}"] = self.pca_components_[g]
            arrays[f"pca_scale_{g}"] = self.pca_scale_[g]
            for key, val in self._codebook_arrays(g).items():
                arrays[f"{key}_{g}"] = val
        return params, arrays

    @classmethod
    def _from_state(cls, params: dict[str, Any], arrays: dict[str, np.ndarray]):
        """Rebuild a fitted encoder from :meth:`_get_state` output, checking every field.

        Shapes are checked against the encoder's own parameters: per group
        ``g``, ``pca_mean_g`` is ``(d_g,)``, ``pca_components_g`` ``(k, d_g)``
        with ``k <= d_g``, the codebook ``(l, k)`` with ``l <= n_clusters``;
        ``d_g`` is the sum of the input block widths the fusion plan puts in
        the group.

        Raises
        ------
        ModelFileError
            A parameter of the wrong type or out of range, or an array of the
            wrong dtype or shape, or holding NaN.
        """
        from ..errors import ModelFileError
        from ..io.archive import state_array, state_int, state_int_list, state_str

        p = params.get("params")
        if not isinstance(p, dict):
            raise ModelFileError("params must be an object")
        unknown = sorted(set(p) - set(cls._get_param_names()))
        if unknown:
            raise ModelFileError(f"unknown parameters {unknown}")
        n_clusters = state_int(p, "n_clusters", 1, 4096)
        state_int(p, "pyramid_levels", 1, 8)
        if "n_jobs" in p:
            state_int(p, "n_jobs", -1, 1024, none=True)
        if "dtype" in p:
            state_str(p, "dtype", ("float32", "float64"))
        kw = p.get("kind_weights")
        if kw is not None and not (isinstance(kw, dict) and all(_finite_number(v) for v in kw.values())):
            raise ModelFileError(f"kind_weights must map kinds to finite numbers, got {kw!r}")
        self = cls(**p)
        names = params.get("group_names")
        ok = isinstance(names, list) and 1 <= len(names) <= 1024
        if not (ok and all(isinstance(n, str) for n in names)):
            raise ModelFileError("group_names must be a list of 1 to 1024 strings")
        G = len(names)
        self.group_names_ = list(names)
        self.group_dims_ = state_int_list(params, "group_dims", 1, 1_000_000, max_len=G)
        blocks = params.get("input_blocks")
        if not isinstance(blocks, list) or not all(
            isinstance(b, list) and len(b) == 2 and all(isinstance(x, str) for x in b) for b in blocks
        ):
            raise ModelFileError("input_blocks must be a list of [kind, part] string pairs")
        self.input_blocks_ = [BlockInfo(k, part) for k, part in blocks]
        self.input_dims_ = state_int_list(params, "input_dims", 1, 1_000_000, max_len=len(blocks))
        if len(self.group_dims_) != G or len(self.input_dims_) != len(blocks):
            raise ModelFileError("group_dims / input_dims do not match group_names / input_blocks")
        power = params.get("input_rate_power")
        if power is not None and not (
            isinstance(power, list) and len(power) == len(blocks) and all(_finite_number(x) for x in power)
        ):
            raise ModelFileError("input_rate_power must hold one finite number per input block")
        self.input_rate_power_ = None if power is None else [float(x) for x in power]
        plan = params.get("fusion_plan")
        if not isinstance(plan, list) or len(plan) != G:
            raise ModelFileError(f"fusion_plan must hold one entry per group ({G})")
        self.fusion_plan_ = []
        for g, entry in enumerate(plan):
            if not (isinstance(entry, list) and len(entry) == 2 and isinstance(entry[0], str)):
                raise ModelFileError("fusion_plan entries must be [name, [block indices]]")
            nb = len(blocks)
            idx = state_int_list({"fusion_plan": entry[1]}, "fusion_plan", 0, nb - 1, max_len=nb)
            if not idx or sum(self.input_dims_[i] for i in idx) != self.group_dims_[g]:
                raise ModelFileError(
                    f"fusion_plan: group {g} does not add up to its {self.group_dims_[g]} columns"
                )
            self.fusion_plan_.append([entry[0], idx])
        self.block_scale_ = state_array(arrays, "block_scale", "f", shape=(len(blocks),), dtype=np.float64)
        self.pca_mean_, self.pca_components_, self.pca_scale_ = [], [], []
        self._init_codebooks()
        for g in range(G):
            d = self.group_dims_[g]
            self.pca_mean_.append(state_array(arrays, f"pca_mean_{g}", "f", shape=(d,), dtype=np.float64))
            comps = state_array(arrays, f"pca_components_{g}", "f", ndim=2, dtype=np.float64)
            k = comps.shape[0]
            if comps.shape[1] != d or not 1 <= k <= d:
                raise ModelFileError(
                    f"array pca_components_{g} must have shape (k <= {d}, {d}), got {comps.shape}"
                )
            self.pca_components_.append(comps)
            scale = state_array(arrays, f"pca_scale_{g}", "f", shape=(k,), dtype=np.float64)
            if (scale <= 0).any():
                raise ModelFileError(f"array pca_scale_{g} must be positive")
            self.pca_scale_.append(scale)
            book, n_codes = {}, None
            for key in self._codebook_keys:
                a = state_array(arrays, f"{key}_{g}", "f", dtype=np.float64)
                n_codes = a.shape[0] if n_codes is None and a.ndim >= 1 else n_codes
                want = (n_codes, k) if a.ndim == 2 else (n_codes,)
                if a.shape != want or not 1 <= (n_codes or 0) <= n_clusters:
                    raise ModelFileError(
                        f"array {key}_{g} must have shape (l <= n_clusters={n_clusters}"
                        f"{', ' + str(k) if a.ndim == 2 else ''}), got {a.shape}"
                    )
                if key == "sigmas" and (a <= 0).any():
                    raise ModelFileError(f"array {key}_{g} must be positive")
                book[key] = a
            self._set_codebook_arrays(book)
        self.n_features_out_ = int(sum(self._group_width(g) for g in range(G)))
        return self

    # hooks for subclasses
    _codebook_keys: tuple[str, ...] = ()

    def _init_codebooks(self) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _fit_codebook(self, Z: np.ndarray, seed: int) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _codebook_arrays(self, g: int) -> dict[str, np.ndarray]:  # pragma: no cover - abstract
        raise NotImplementedError

    def _set_codebook_arrays(self, arrays: dict[str, np.ndarray]) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _group_width(self, g: int) -> int:  # pragma: no cover - abstract
        raise NotImplementedError

    def _encode_group(self, g, Z, offsets, rel_time) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def _out_dtype(self) -> np.dtype:
        dt = np.dtype(getattr(self, "dtype", "float64"))
        if dt not in (np.float32, np.float64):
            raise ParameterError(
                f"dtype must be 'float32' or 'float64', got {getattr(self, 'dtype', None)!r}"
            )
        return dt

    def _encode_into(self, g, Z, offsets, rel_time, out, col0, scale) -> bool:
        """Optional one-pass kernel writing the group's code into ``out``; False = not available."""
        return False
