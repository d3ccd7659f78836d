"""Fitted tree ensembles as flat arrays: saved and loaded without pickle, predicted by a numba kernel."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import ParameterTypeError, PoseDataError

__all__ = ["FlatTrees"]


def _trees_predict_raw(
    X, feature, threshold, missing_left, left, right, is_leaf, value, roots, tree_col, n_out
):
    """Sum over trees of leaf values per sample (numba kernel, compiled on first use).

    Rows go in blocks of 64, and each tree walks the whole block before the
    next tree: the tree's upper nodes and the block's rows stay in cache
    (about 1.5-2x faster than every tree per row on large forests).
    """
    n = X.shape[0]
    n_val = value.shape[1]
    out = np.zeros((n, n_out))
    block = 64
    for b0 in range(0, n, block):
        b1 = min(n, b0 + block)
        for t in range(roots.shape[0]):
            root = roots[t]
            c = tree_col[t]
            for i in range(b0, b1):
                node = root
                while not is_leaf[node]:
                    v = X[i, feature[node]]
                    if np.isnan(v):
                        node = left[node] if missing_left[node] else right[node]
                    elif v <= threshold[node]:
                        node = left[node]
                    else:
                        node = right[node]
                for k in range(n_val):
                    out[i, c + k] += value[node, k]
    return out


_KERNELS: dict[str, Any] = {}


def _trees_kernel():
    if "trees" not in _KERNELS:
        import numba

        _KERNELS["trees"] = numba.njit(cache=True, nogil=True)(_trees_predict_raw)
    return _KERNELS["trees"]


class FlatTrees:
    """A fitted tree ensemble as flat arrays, saved and loaded without pickle.

    Made from a ``HistGradientBoostingClassifier`` (``kind="boosted"``) or an
    ``ExtraTreesClassifier`` / ``RandomForestClassifier`` (``kind="forest"``)
    with :meth:`from_sklearn`; predicts like the estimator it came from
    (numeric features, NaN routed as learnt).

    Examples
    --------
    >>> from sklearn.ensemble import ExtraTreesClassifier
    >>> X = np.random.default_rng(0).normal(size=(60, 3)); y = (X[:, 0] > 0).astype(int)
    >>> et = ExtraTreesClassifier(n_estimators=5, random_state=0).fit(X, y)
    >>> bool(np.allclose(FlatTrees.from_sklearn(et).predict_proba(X), et.predict_proba(X)))
    True
    """

    _ARRAYS = (
        "feature",
        "threshold",
        "missing_left",
        "left",
        "right",
        "is_leaf",
        "value",
        "roots",
        "tree_col",
    )

    def __init__(self, kind: str, arrays: dict[str, np.ndarray], classes, n_features_in: int) -> None:
        self.kind = kind
        self.arrays = arrays
        self.classes_ = np.asarray(classes)
        self.n_features_in_ = int(n_features_in)

    @classmethod
    def from_sklearn(cls, est) -> FlatTrees:
        """Flatten a fitted HistGradientBoosting, ExtraTrees or RandomForest classifier."""
        name = type(est).__name__
        parts: dict[str, list] = {k: [] for k in cls._ARRAYS}
        base = 0
        if name == "HistGradientBoostingClassifier":
            if getattr(est, "is_categorical_", None) is not None and np.any(est.is_categorical_):
                raise ParameterTypeError("categorical features cannot be saved")
            kind = "boosted"
            k = int(est.n_trees_per_iteration_)
            trees = [(pred.nodes, t % k) for it in est._predictors for t, pred in enumerate(it)]
            for nd, col in trees:
                parts["roots"].append(base)
                parts["tree_col"].append(col)
                parts["feature"].append(nd["feature_idx"])
                parts["threshold"].append(nd["num_threshold"])
                parts["missing_left"].append(nd["missing_go_to_left"])
                parts["left"].append(nd["left"].astype(np.int64) + base)
                parts["right"].append(nd["right"].astype(np.int64) + base)
                parts["is_leaf"].append(nd["is_leaf"])
                parts["value"].append(nd["value"].reshape(-1, 1))
                base += len(nd)
            extra = {"baseline": np.asarray(est._baseline_prediction, dtype=np.float64).reshape(-1)}
        elif name in ("ExtraTreesClassifier", "RandomForestClassifier"):
            kind = "forest"
            for tree in est.estimators_:
                st = tree.tree_.__getstate__()
                nd, val = st["nodes"], np.asarray(st["values"], dtype=np.float64)[:, 0, :]
                leaf = nd["left_child"] < 0
                val = val / np.where(val.sum(1, keepdims=True) > 0, val.sum(1, keepdims=True), 1.0)
                parts["roots"].append(base)
                parts["tree_col"].append(0)
                parts["feature"].append(np.where(leaf, 0, nd["feature"]))
                parts["threshold"].append(nd["threshold"])
                parts["missing_left"].append(nd["missing_go_to_left"])
                parts["left"].append(np.where(leaf, 0, nd["left_child"] + base))
                parts["right"].append(np.where(leaf, 0, nd["right_child"] + base))
                parts["is_leaf"].append(leaf)
                parts["value"].append(val)
                base += len(nd)
            extra = {}
        else:
            raise ParameterTypeError(
                f"cannot flatten a {name}; supported: HistGradientBoosting, ExtraTrees, RandomForest"
            )
        dtypes = {"feature": np.int64, "threshold": np.float64, "missing_left": np.bool_, "left": np.int64,
                  "right": np.int64, "is_leaf": np.bool_, "value": np.float64}  # fmt: skip
        arrays = {k: np.concatenate(parts[k]).astype(t) for k, t in dtypes.items()}
        arrays["roots"] = np.asarray(parts["roots"], dtype=np.int64)
        arrays["tree_col"] = np.asarray(parts["tree_col"], dtype=np.int64)
        arrays.update(extra)
        return cls(kind, arrays, est.classes_, est.n_features_in_)

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Class probabilities, as the source estimator computes them.

        Raises
        ------
        PoseDataError
            When ``X`` is not 2-D with :attr:`n_features_in_` columns (the
            kernel would otherwise read past its rows).

        Examples
        --------
        >>> from sklearn.ensemble import ExtraTreesClassifier
        >>> X = np.random.default_rng(0).normal(size=(30, 3)); y = (X[:, 0] > 0).astype(int)
        >>> flat = FlatTrees.from_sklearn(ExtraTreesClassifier(n_estimators=3, random_state=0).fit(X, y))
        >>> flat.predict_proba(X[:, :2])
        Traceback (most recent call last):
        ...
        skelbehave.errors.PoseDataError: the tree ensemble expects 3 features per row, found 2
        """
        a = self.arrays
        X = np.asarray(X)  # float32 rows as they are (exact against float64 thresholds): half the memory
        X = np.ascontiguousarray(X, dtype=X.dtype if X.dtype in (np.float32, np.float64) else np.float64)
        if X.ndim != 2 or X.shape[1] != self.n_features_in_:
            found = X.shape[1] if X.ndim == 2 else f"an array of shape {X.shape}"
            raise PoseDataError(
                f"the tree ensemble expects {self.n_features_in_} features per row, found {found}"
            )
        tree = [a[n] for n in ("feature", "threshold", "missing_left", "left", "right", "is_leaf", "value")]
        if self.kind == "forest":
            raw = _trees_kernel()(X, *tree, a["roots"], a["tree_col"], a["value"].shape[1])
            return raw / len(a["roots"])
        k = len(a["baseline"])
        raw = _trees_kernel()(X, *tree, a["roots"], a["tree_col"], k)
        raw += a["baseline"]
        if k == 1:
            p1 = 1.0 / (1.0 + np.exp(-raw[:, 0]))
            return np.stack([1 - p1, p1], axis=1)
        raw -= raw.max(axis=1, keepdims=True)
        e = np.exp(raw)
        return e / e.sum(axis=1, keepdims=True)

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Most probable class."""
        return self.classes_[self.predict_proba(X).argmax(axis=1)]

    def _get_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        """JSON-able parameters and arrays (the state protocol of :mod:`skelbehave.pipeline.persist`)."""
        params = {"kind": self.kind, "classes": self.classes_.tolist(), "n_features_in": self.n_features_in_}
        arrays = dict(self.arrays)
        leaf = arrays["is_leaf"]
        # a smaller file, the same predictions: only leaves' values are read (inner rows are written as
        # zeros, which compress to nearly nothing), and node and feature numbers fit 32 bits
        value = arrays["value"].copy()
        value[~leaf] = 0.0
        arrays["value"] = value
        arrays["threshold"] = np.where(leaf, 0.0, arrays["threshold"])
        for k in ("feature", "left", "right", "roots", "tree_col"):
            if len(arrays[k]) and int(np.abs(arrays[k]).max()) < 2**31 - 1:
                arrays[k] = arrays[k].astype(np.int32)
        return params, arrays

    @classmethod
    def _from_state(cls, params: dict[str, Any], arrays: dict[str, np.ndarray]) -> FlatTrees:
        """Rebuild from :meth:`_get_state` output, checking every array and that every tree walk ends.

        Raises
        ------
        ModelFileError
            A missing array, a wrong dtype or length, NaN values or thresholds,
            no trees, classes that do not match the value columns, or a node,
            feature or output column outside its table.

        Examples
        --------
        >>> from sklearn.ensemble import ExtraTreesClassifier
        >>> X = np.random.default_rng(0).normal(size=(40, 3)); y = (X[:, 0] > 0).astype(int)
        >>> ft = FlatTrees.from_sklearn(ExtraTreesClassifier(n_estimators=3, random_state=0).fit(X, y))
        >>> back = FlatTrees._from_state(*ft._get_state())
        >>> bool((back.predict(X) == ft.predict(X)).all())
        True
        """
        from ..errors import ModelFileError
        from ..io.archive import state_array, state_classes, state_int, state_str

        kind = state_str(params, "kind", ("boosted", "forest"))
        classes = state_classes(params)
        nf = state_int(params, "n_features_in", 1, 100_000_000)
        ints = {k: state_array(arrays, k, "iu", ndim=1, dtype=np.int64) for k in ("feature", "left", "right")}
        n = len(ints["feature"])
        a: dict[str, np.ndarray] = dict(ints)
        a["threshold"] = state_array(arrays, "threshold", "f", shape=(n,), finite=False, dtype=np.float64)
        for k in ("missing_left", "is_leaf"):
            a[k] = state_array(arrays, k, "bui", shape=(n,)).astype(np.bool_)
        a["value"] = state_array(arrays, "value", "f", shape=(n, None), dtype=np.float64)
        a["roots"] = state_array(arrays, "roots", "iu", ndim=1, dtype=np.int64)
        a["tree_col"] = state_array(arrays, "tree_col", "iu", shape=(len(a["roots"]),), dtype=np.int64)
        for k in ("left", "right"):
            if len(a[k]) != n:
                raise ModelFileError(f"array {k} has {len(a[k])} nodes, expected {n}")
        if len(a["roots"]) == 0 or n == 0:
            raise ModelFileError("the tree ensemble holds no trees")
        inner = ~a["is_leaf"]
        if np.isnan(a["threshold"][inner]).any():  # +inf: HistGradientBoosting's split of NaN from the rest
            raise ModelFileError("array threshold holds NaN split thresholds")
        idx = np.arange(n)
        roots = a["roots"]
        if roots.min() < 0 or roots.max() >= n:
            raise ModelFileError("array roots refers outside the node table")
        # children after their parent and inside the table: every walk ends at a leaf
        if (a["left"][inner] <= idx[inner]).any() or (a["right"][inner] <= idx[inner]).any():
            raise ModelFileError("arrays left/right: child nodes must come after their parent")
        if inner.any() and max(a["left"][inner].max(), a["right"][inner].max()) >= n:
            raise ModelFileError("arrays left/right: a node refers outside the node table")
        if inner.any() and (a["feature"][inner].min() < 0 or a["feature"][inner].max() >= nf):
            raise ModelFileError(
                f"array feature: a split uses a feature outside the input (n_features_in={nf})"
            )
        if kind == "boosted":
            a["baseline"] = state_array(arrays, "baseline", "f", ndim=1, dtype=np.float64)
            n_out = len(a["baseline"])
            want = 1 if len(classes) == 2 else len(classes)
            if n_out != want or a["value"].shape[1] != 1:
                raise ModelFileError(
                    f"array baseline has {n_out} outputs and value {a['value'].shape[1]} columns; "
                    f"{len(classes)} classes need {want} and 1"
                )
        else:
            n_out = a["value"].shape[1]
            if n_out != len(classes):
                raise ModelFileError(f"array value has {n_out} columns but there are {len(classes)} classes")
        if a["tree_col"].min() < 0 or (a["tree_col"] + a["value"].shape[1]).max() > n_out:
            raise ModelFileError("array tree_col: tree output column out of range")
        return cls(kind, a, classes, nf)
