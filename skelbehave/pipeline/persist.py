"""Saving and loading every model kind: one state protocol, one registry of kinds, one :func:`load`.

The state protocol
------------------
Every class that can be saved has

- ``_get_state(self) -> (params, arrays)``: ``params`` a JSON-able dict,
  ``arrays`` a dict of name -> ndarray (numbers, booleans or text; never
  objects);
- the classmethod ``_from_state(cls, params, arrays)``, which rebuilds a
  fitted object and checks every field it reads (dtype, shape against the
  object's own parameters, finiteness, ranges), raising
  :class:`~skelbehave.errors.ModelFileError` naming the field.

Nested components are stored by role: a component entry is
``{"kind": <registered name>, "params": {...}}`` inside its parent's params,
and its arrays are named ``<role>.<name>`` (:func:`nest` / :func:`unnest`).
A file's ``model.json`` is the entry of the top-level object.

The registry (:data:`KINDS`, extended with :func:`register_kind`) maps kind
names to ``"skelbehave.<module>:<attribute>"`` strings resolved with
:mod:`importlib` on load: a file can only name registered kinds, never an
import path. scikit-learn linear heads are saved through the adapter
:class:`skelbehave.models.heads.LinearHead`; fitted tree ensembles through
:class:`skelbehave.models.trees.FlatTrees`.

Format version 1 files (the first release) are upgraded on load
(:func:`_upgrade_v1`); see ``data_specs/model_file.md``.
"""

from __future__ import annotations

import hashlib
import importlib
import re
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ModelFileError, ParameterError, ParameterTypeError
from ..io.archive import MAX_TOTAL_BYTES, read_archive, write_archive
from ..models.heads import SAVABLE_HEADS, LinearHead

__all__ = ["KINDS", "TOP_KINDS", "get_state", "load", "nest", "register_kind", "save", "unnest"]

#: Registry of savable kinds: name written in files -> ``"skelbehave.<module>:<attribute>"``.
KINDS: dict[str, str] = {
    "BehaviorModel": "skelbehave.pipeline.clip:BehaviorModel",
    "FrameLevelModel": "skelbehave.pipeline.frame:FrameLevelModel",
    "CNNClassifier": "skelbehave.models.cnn.estimator:CNNClassifier",
    "JointFeatures": "skelbehave.features.joint:JointFeatures",
    "VLADEncoder": "skelbehave.encoding.encoders:VLADEncoder",
    "BoWEncoder": "skelbehave.encoding.encoders:BoWEncoder",
    "FisherEncoder": "skelbehave.encoding.encoders:FisherEncoder",
    "FlatTrees": "skelbehave.models.trees:FlatTrees",
    "LinearHead": "skelbehave.models.heads:LinearHead",
}

#: Kinds a model file may hold at its top level (what :func:`load` returns).
TOP_KINDS = ("BehaviorModel", "FrameLevelModel", "CNNClassifier")

_MAX_DEPTH = 8
#: what a class's ``_from_state`` may raise on content it did not expect (turned into ModelFileError)
_CONTENT_ERRORS = (
    KeyError, TypeError, ValueError, IndexError, AttributeError, RuntimeError, OverflowError, RecursionError,
)  # fmt: skip


def register_kind(name: str, target: str) -> None:
    """Make a class loadable from model files under ``name``.

    Parameters
    ----------
    name : str
        Kind written in the file (usually the class name).
    target : str
        ``"skelbehave.<module>:<attribute>"``; only modules of the
        ``skelbehave`` package are accepted. The class implements
        ``_get_state`` / ``_from_state``.

    Examples
    --------
    >>> register_kind("VLADEncoder", "skelbehave.encoding.encoders:VLADEncoder")
    >>> register_kind("Evil", "os:system")
    Traceback (most recent call last):
    ...
    skelbehave.errors.ParameterError: kind target must be 'skelbehave.<module>:<attribute>', got 'os:system'
    """
    mod, _, attr = target.partition(":")
    if not attr or not (mod == "skelbehave" or mod.startswith("skelbehave.")):
        raise ParameterError(f"kind target must be 'skelbehave.<module>:<attribute>', got {target!r}")
    KINDS[name] = target


def _resolve(kind: str):
    if not isinstance(kind, str) or kind not in KINDS:
        raise ModelFileError(f"unknown kind {kind!r}; known kinds: {sorted(KINDS)}")
    mod, _, attr = KINDS[kind].partition(":")
    try:
        return getattr(importlib.import_module(mod), attr)
    except ImportError as exc:
        from ..errors import MissingDependencyError

        raise MissingDependencyError(
            f"loading a {kind} needs an optional dependency ({exc}); for CNN models: "
            "pip install 'skelbehave[cnn]'"
        ) from None


def _kind_of(obj) -> tuple[str, Any]:
    """Registered kind of ``obj`` and the object implementing the protocol for it."""
    name = type(obj).__name__
    if name in KINDS and hasattr(obj, "_get_state"):
        return name, obj
    if LinearHead.can_save(obj):
        return "LinearHead", LinearHead(obj)
    if name in ("HistGradientBoostingClassifier", "ExtraTreesClassifier", "RandomForestClassifier"):
        from ..models.trees import FlatTrees

        return "FlatTrees", FlatTrees.from_sklearn(obj)
    raise ParameterTypeError(
        f"cannot save {name}: saving supports skelbehave's own models ({sorted(KINDS)}), the "
        f"scikit-learn heads {sorted(SAVABLE_HEADS)} and tree ensembles (HistGradientBoosting, "
        "ExtraTrees, RandomForest); a file never holds pickled objects"
    )


def get_state(obj) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """The entry ``{"kind", "params"}`` and arrays of any savable object.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import RidgeClassifier
    >>> entry, arrays = get_state(RidgeClassifier().fit(np.eye(3), [0, 1, 2]))
    >>> entry["kind"], sorted(arrays)
    ('LinearHead', ['coef_', 'intercept_'])
    """
    kind, impl = _kind_of(obj)
    params, arrays = impl._get_state()
    return {"kind": kind, "params": params}, dict(arrays)


def nest(role: str, obj, arrays: dict[str, np.ndarray]) -> dict[str, Any] | None:
    """The entry of component ``obj``; its arrays are added to ``arrays`` as ``<role>.<name>``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import RidgeClassifier
    >>> arrays = {}
    >>> entry = nest("classifier", RidgeClassifier().fit(np.eye(3), [0, 1, 2]), arrays)
    >>> entry["kind"], sorted(arrays)
    ('LinearHead', ['classifier.coef_', 'classifier.intercept_'])
    """
    if obj is None:
        return None
    entry, sub = get_state(obj)
    for k, v in sub.items():
        arrays[f"{role}.{k}"] = np.asarray(v)
    return entry


def unnest(role: str, entry, arrays: dict[str, np.ndarray], kinds: tuple[str, ...] | None = None):
    """Rebuild the component stored by :func:`nest` under ``role`` (None stays None).

    Errors become :class:`~skelbehave.errors.ModelFileError` prefixed with the role.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import RidgeClassifier
    >>> arrays = {}
    >>> entry = nest("head", RidgeClassifier().fit(np.eye(3), [0, 1, 2]), arrays)
    >>> unnest("head", entry, arrays).predict(np.eye(3)).tolist()
    [0, 1, 2]
    """
    if entry is None:
        return None
    prefix = f"{role}."
    sub = {k[len(prefix) :]: v for k, v in arrays.items() if k.startswith(prefix)}
    return _from_entry(entry, sub, role, kinds)


def _from_entry(entry, arrays, where: str, kinds: tuple[str, ...] | None = None, depth: int = 0):
    if depth > _MAX_DEPTH:
        raise ModelFileError(f"{where}: components nested too deeply")
    if not isinstance(entry, dict) or not isinstance(entry.get("params"), dict):
        raise ModelFileError(f"{where}: a component entry must be an object with 'kind' and 'params'")
    kind = entry.get("kind")
    if kinds is not None and kind not in kinds:
        raise ModelFileError(f"{where}: kind {kind!r} is not allowed here (expected one of {list(kinds)})")
    cls = _resolve(kind)
    try:
        return cls._from_state(entry["params"], arrays)
    except ModelFileError as exc:
        raise ModelFileError(f"{where}: {exc}") from None
    except _CONTENT_ERRORS as exc:
        raise ModelFileError(f"{where}: inconsistent {kind} state ({type(exc).__name__}: {exc})") from None


def training_data_sha256(X, y) -> str:
    """SHA-256 of a model's training data: every pose array (shape, dtype, values) and every label.

    Recorded by ``fit`` as ``training_data_sha256_``, saved in the model file
    and written into model cards, so a model can be traced to the exact data
    it learnt from. ``X`` holds pose sequences, arrays, or recordings (lists
    of them); ``y`` clip labels or per-frame label arrays. The same data in
    the same order gives the same hash.

    Examples
    --------
    >>> X = [np.zeros((5, 3, 2)), np.ones((4, 3, 2))]
    >>> h = training_data_sha256(X, ["a", "b"])
    >>> len(h), h == training_data_sha256(X, ["a", "b"]), h == training_data_sha256(X, ["b", "a"])
    (64, True, False)
    """
    digest = hashlib.sha256()

    def arrays(x):
        if isinstance(x, (list, tuple)):
            for part in x:
                yield from arrays(part)
        else:
            yield np.ascontiguousarray(getattr(x, "position", x))

    for a in arrays(list(X)):
        digest.update(f"{a.shape}|{a.dtype.str}|".encode())
        digest.update(a.reshape(-1).view(np.uint8))  # the bytes, without a copy
    for label in y:
        lab = np.asarray(label)
        digest.update(f"{lab.shape}|".encode())
        digest.update("\x1f".join(map(str, lab.ravel().tolist())).encode())
    return digest.hexdigest()


_SHA256 = re.compile(r"[0-9a-f]{64}")


def _info(obj) -> dict[str, Any]:
    """Top-level copies of classes and layout, for readers that only look (model_info)."""
    out: dict[str, Any] = {}
    sha = getattr(obj, "training_data_sha256_", None)
    if isinstance(sha, str) and _SHA256.fullmatch(sha):
        out["training_data_sha256"] = sha
    classes = getattr(obj, "classes_", None)
    if classes is not None:
        out["classes"] = [c.item() if isinstance(c, np.generic) else c for c in np.asarray(classes)]
    lay = getattr(obj, "layout_", None)
    if lay is not None and hasattr(lay, "to_dict"):
        out["layout"] = lay.to_dict()
    return out


def save(obj, path) -> Path:
    """Save a fitted model (any kind of :data:`TOP_KINDS`) to a ``.skb`` file, atomically.

    Parameters
    ----------
    obj : BehaviorModel, FrameLevelModel or CNNClassifier
        Fitted.
    path : path-like
        Destination.

    Returns
    -------
    Path

    Raises
    ------
    TypeError
        A component cannot be saved without pickle (e.g. a k-NN head).

    Examples
    --------
    >>> import numpy as np, tempfile, os, skelbehave
    >>> from skelbehave.encoding import VLADEncoder
    >>> X = [np.random.default_rng(k).normal(size=(25, 20, 3)) for k in range(4)]
    >>> m = skelbehave.BehaviorModel(encoder=VLADEncoder(n_clusters=2), layout="msr20", random_state=0)
    >>> p = save(m.fit(X, [0, 1, 0, 1]), os.path.join(tempfile.mkdtemp(), "m.skb"))
    >>> type(load(p)).__name__
    'BehaviorModel'
    """
    kind, impl = _kind_of(obj)
    if kind not in TOP_KINDS:
        raise ParameterTypeError(
            f"a model file holds one of {TOP_KINDS}; got a {kind} (save the model that holds it)"
        )
    params, arrays = impl._get_state()
    doc = {"kind": kind, "params": params, **_info(obj)}
    return write_archive(path, doc, arrays)


def load(path, *, max_bytes: int = MAX_TOTAL_BYTES):
    """Load any model file written by skelbehave; no code from the file is run.

    Returns what the file holds: a clip-level
    :class:`~skelbehave.pipeline.BehaviorModel`, a frame-level
    :class:`~skelbehave.pipeline.FrameLevelModel`, or a bare
    :class:`~skelbehave.models.cnn.CNNClassifier`. Files of the first
    release (format version 1) load too. The loaded object has
    ``manifest_`` (format and package version, creation time, checksums).

    Parameters
    ----------
    path : path-like
        A ``.skb`` file.
    max_bytes : int
        Limit on the total uncompressed size (default 2 GiB); see
        :func:`skelbehave.io.archive.read_archive`.

    Raises
    ------
    ModelFileError
        The file is missing, truncated, tampered with (checksums, or any
        field outside what the model's own parameters allow), over a size
        limit, or from a newer format version. The message names the file
        and the field.

    Examples
    --------
    A clip-level model:

    >>> import numpy as np, tempfile, os, skelbehave
    >>> d = tempfile.mkdtemp()
    >>> rng = np.random.default_rng(0)
    >>> X = [np.cumsum(rng.normal(size=(30, 20, 3)), axis=0) * (1 + k % 2) for k in range(8)]
    >>> clip = skelbehave.fit(X, [k % 2 for k in range(8)], layout="msr20", n_clusters=2, random_state=0)
    >>> back = skelbehave.load(clip.save(os.path.join(d, "clip.skb")))
    >>> type(back).__name__, bool((back.predict(X) == clip.predict(X)).all())
    ('BehaviorModel', True)

    A frame-level model:

    >>> y = (np.arange(200) // 50) % 2
    >>> rec = skelbehave.PoseSequence(np.cumsum(rng.normal(size=(200, 20, 3)), 0) * (1 + y)[:, None, None],
    ...                               "msr20", fps=30)
    >>> frames = skelbehave.FrameLevelModel(window=9, classifier_params={"n_estimators": 5}, random_state=0)
    >>> frames = frames.fit([rec], [y])
    >>> back = skelbehave.load(frames.save(os.path.join(d, "frames.skb")))
    >>> type(back).__name__, bool((back.predict([rec])[0] == frames.predict([rec])[0]).all())
    ('FrameLevelModel', True)

    A CNN saved on its own (needs torch):

    >>> from skelbehave.models.cnn import CNNClassifier
    >>> cnn = CNNClassifier(layout="msr20", channels=(8,), n_frames=16, max_epochs=1, finetune_epochs=0,
    ...                     random_state=0).fit(X, [k % 2 for k in range(8)])
    >>> back = skelbehave.load(save(cnn, os.path.join(d, "cnn.skb")))
    >>> type(back).__name__, bool((back.predict(X) == cnn.predict(X)).all())
    ('CNNClassifier', True)

    Anything else is a :class:`~skelbehave.errors.ModelFileError`:

    >>> try:
    ...     skelbehave.load("no_such_model.skb")
    ... except skelbehave.SkelbehaveError as exc:
    ...     print(type(exc).__name__)
    ModelFileError
    """
    doc, arrays = read_archive(path, max_bytes=max_bytes)
    manifest = doc.pop("_manifest")
    try:
        if manifest["format_version"] == 1:
            doc, arrays = _upgrade_v1(doc, arrays)
        kind = doc.get("kind")
        if kind not in TOP_KINDS:
            raise ModelFileError(f"holds a {kind!r}; a model file holds one of {list(TOP_KINDS)}")
        obj = _from_entry(doc, arrays, kind, TOP_KINDS)
    except ModelFileError as exc:
        raise ModelFileError(f"{path}: {exc}") from None
    except _CONTENT_ERRORS as exc:  # a damaged file never escapes as another exception
        raise ModelFileError(f"{path}: inconsistent model file ({type(exc).__name__}: {exc})") from None
    sha = doc.get("training_data_sha256")
    if sha is not None:
        if not (isinstance(sha, str) and _SHA256.fullmatch(sha)):
            raise ModelFileError(f"{path}: training_data_sha256 must be 64 hex digits, got {sha!r:.80}")
        obj.training_data_sha256_ = sha
    obj.manifest_ = manifest
    return obj


# ----------------------------------------------------------------------------- version 1
_V1_REMAKE = (
    "re-create it: refit the model with this skelbehave (skelbehave.fit(...) or `skelbehave fit`) "
    "and save it again"
)


def _v1_component(role: str, comp, layout: dict | None) -> dict:
    typ = comp.get("type") if isinstance(comp, dict) else None
    if not isinstance(typ, str):
        raise ModelFileError(f"version 1 component {role} has no type")
    if typ.startswith("sklearn:"):
        return {"kind": "LinearHead", "params": comp["params"]}
    if typ == "JointFeatures":
        params = {"params": comp["params"], "n_dims": comp.get("n_dims"), "layout": layout}
        return {"kind": "JointFeatures", "params": params}
    if typ in ("VLADEncoder", "BoWEncoder", "FisherEncoder", "CNNClassifier"):
        return {"kind": typ, "params": comp["params"]}
    raise ModelFileError(f"version 1 component {role} of type {typ!r} cannot be read; {_V1_REMAKE}")


def _v1_frame_init(init) -> dict:
    """First-release FrameLevelModel parameters under today's names (they matter for refitting only)."""
    if not isinstance(init, dict):
        raise ModelFileError("version 1 frame-level params must be an object")
    init = dict(init)
    if "velocity_step" in init:
        init["step"] = init.pop("velocity_step")
    head = {}
    n_est = init.pop("n_estimators", None)
    lr = init.pop("learning_rate", None)
    cw = init.pop("class_weight", None)
    if init.get("classifier") == "hgb":
        head.update({"max_iter": n_est, "learning_rate": lr})
    elif init.get("classifier") in ("extra_trees", None):
        head["n_estimators"] = n_est
    head["class_weight"] = cw
    init["classifier_params"] = {k: v for k, v in head.items() if v is not None} or None
    return init


def _upgrade_v1(doc: dict, arrays: dict) -> tuple[dict, dict]:
    """Turn a format-1 document into the format-2 entry of the same model."""
    kind = doc.get("kind", "BehaviorModel")
    if kind == "FrameLevelModel":
        params = {k: doc.get(k) for k in ("params", "fitted", "classes", "layout", "feature_names")}
        params["classifier"] = {"kind": "FlatTrees", "params": doc.get("classifier")}
        params["context"] = (
            None if doc.get("context") is None else {"kind": "FlatTrees", "params": doc["context"]}
        )
        params["init"] = _v1_frame_init(params.pop("params"))
        return {"kind": "FrameLevelModel", "params": params}, arrays
    if kind != "BehaviorModel":
        raise ModelFileError(f"version 1 file of kind {kind!r} cannot be read; {_V1_REMAKE}")
    comps = doc.get("components")
    if not isinstance(comps, dict):
        raise ModelFileError("version 1 file has no components")
    from ..features import upgrade_v1_components

    try:
        comps = upgrade_v1_components(comps)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        if isinstance(exc, ModelFileError):
            raise
        raise ModelFileError(
            f"version 1 components cannot be mapped to this version ({exc}); {_V1_REMAKE}"
        ) from None
    params = {k: doc.get(k) for k in ("layout", "n_dims", "fps", "random_state", "n_jobs", "classes")}
    params["n_features_out"] = doc.get("n_features_out")
    for role in ("features", "encoder", "classifier"):
        comp = comps.get(role)
        params[role] = None if comp is None else _v1_component(role, comp, doc.get("layout"))
    return {"kind": "BehaviorModel", "params": params}, arrays
