"""Where the MediaPipe Pose Landmarker model file comes from.

Order of resolution (:func:`resolve_model`):

1. an explicit ``model=`` argument: a path to a ``.task`` bundle, or its bytes;
2. the environment variable ``SKELBEHAVE_POSE_MODEL`` (a path);
3. the user cache (``<cache>/pose_landmarker_<variant>.task``; the cache folder
   is ``SKELBEHAVE_CACHE_DIR`` if set, else platformdirs' user cache folder
   for ``skelbehave``, else ``~/.cache/skelbehave``);
4. a download of the official bundle (``lite``, ``full`` or ``heavy``, float16,
   version 1) into the cache: the size and SHA-256 are checked before the file
   is renamed into place, so a cut or tampered download never lands.

Offline, step 4 fails with :class:`PoseModelNotFoundError`, whose message
gives the URL and the places a model file can be put by hand.
"""

from __future__ import annotations

import hashlib
import logging
import os
import urllib.error
import urllib.request
from pathlib import Path

from .._util.fs import atomic_path
from ..errors import (
    ModelFileError,
    ParameterError,
    PoseModelChecksumError,
    PoseModelNotFoundError,
    SkelbehaveError,
)

__all__ = [
    "MODEL_CHECKSUMS",
    "MODEL_URLS",
    "PoseModelChecksumError",
    "PoseModelNotFoundError",
    "cache_dir",
    "download_model",
    "pose_model_choice",
    "resolve_model",
]

logger = logging.getLogger(__name__)

ENV_MODEL = "SKELBEHAVE_POSE_MODEL"
ENV_CACHE = "SKELBEHAVE_CACHE_DIR"
VARIANTS = ("lite", "full", "heavy")

_BASE = "https://storage.googleapis.com/mediapipe-models/pose_landmarker"
#: Official MediaPipe Pose Landmarker bundles (float16, version 1).
MODEL_URLS: dict[str, str] = {
    v: f"{_BASE}/pose_landmarker_{v}/float16/1/pose_landmarker_{v}.task" for v in VARIANTS
}
#: Expected (size in bytes, sha256) of each official bundle. ``heavy`` has no
#: pinned checksum yet: its download is accepted with a logged warning that
#: gives the hash found.
MODEL_CHECKSUMS: dict[str, tuple[int, str] | None] = {
    "lite": (5_777_746, "59929e1d1ee95287735ddd833b19cf4ac46d29bc7afddbbf6753c459690d574a"),
    "full": (9_398_198, "5134a3aad27a58b93da0088d431f366da362b44e3ccfbe3462b3827a839011b1"),
    "heavy": None,
}


def cache_dir() -> Path:
    """The folder where downloaded models are kept.

    ``SKELBEHAVE_CACHE_DIR`` if set, else the platform's user cache folder
    (via ``platformdirs`` when installed), else ``~/.cache/skelbehave``.

    Examples
    --------
    >>> import os
    >>> os.environ["SKELBEHAVE_CACHE_DIR"] = "/tmp/skb-cache"
    >>> str(cache_dir())
    '/tmp/skb-cache'
    >>> del os.environ["SKELBEHAVE_CACHE_DIR"]
    """
    env = os.environ.get(ENV_CACHE)
    if env:
        return Path(env).expanduser()
    try:
        import platformdirs

        return Path(platformdirs.user_cache_dir("skelbehave", appauthor=False))
    except ImportError:
        return Path.home() / ".cache" / "skelbehave"


def _cached_path(variant: str) -> Path:
    return cache_dir() / f"pose_landmarker_{variant}.task"


def _check_variant(variant: str) -> str:
    if variant not in VARIANTS:
        raise ParameterError(f"model variant must be one of {VARIANTS}, got {variant!r}")
    return variant


def _where_to_put(variant: str) -> str:
    return (
        f"download {MODEL_URLS[variant]} by hand and either put it at {_cached_path(variant)}, "
        f"set the environment variable {ENV_MODEL}=/path/to/pose_landmarker_{variant}.task, "
        f"or pass model='/path/to/pose_landmarker_{variant}.task'"
    )


def download_model(
    variant: str = "full", *, dest: str | os.PathLike | None = None, timeout: float = 60.0
) -> Path:
    """Download an official Pose Landmarker bundle, check it, and write it atomically.

    Parameters
    ----------
    variant : {"lite", "full", "heavy"}
        Which model.
    dest : path, optional
        Where to write it (default: the user cache, see :func:`cache_dir`).
    timeout : float
        Network timeout in seconds.

    Returns
    -------
    Path
        The model file.

    Raises
    ------
    PoseModelNotFoundError
        The download failed (offline, blocked, HTTP error); the message gives
        the URL and where to put a file obtained by hand.
    PoseModelChecksumError
        The bytes received are not the published file (size or SHA-256);
        nothing is written.

    Examples
    --------
    >>> path = download_model("lite")  # doctest: +SKIP
    """
    variant = _check_variant(variant)
    url = MODEL_URLS[variant]
    dest = Path(dest) if dest is not None else _cached_path(variant)
    logger.info("downloading the MediaPipe pose model %r from %s to %s", variant, url, dest)
    h = hashlib.sha256()
    size = 0
    try:
        with atomic_path(dest) as tmp:
            try:
                with urllib.request.urlopen(url, timeout=timeout) as resp, open(tmp, "wb") as fh:
                    for block in iter(lambda: resp.read(1 << 20), b""):
                        fh.write(block)
                        h.update(block)
                        size += len(block)
            except (urllib.error.URLError, OSError, ValueError) as exc:
                reason = getattr(exc, "reason", exc)
                raise PoseModelNotFoundError(
                    f"no MediaPipe pose model file, and downloading {url} failed ({reason}). "
                    f"To work offline, {_where_to_put(variant)}."
                ) from None
            expected = MODEL_CHECKSUMS.get(variant)
            digest = h.hexdigest()
            if expected is None:
                logger.warning(
                    "no pinned checksum for the %r model; accepted %d bytes with sha256 %s",
                    variant,
                    size,
                    digest,
                )
            elif (size, digest) != expected:
                raise PoseModelChecksumError(
                    f"the pose model downloaded from {url} is not the published file: expected "
                    f"{expected[0]:,} bytes with sha256 {expected[1]}, found {size:,} bytes with sha256 "
                    f"{digest}. Nothing was written; try again, or {_where_to_put(variant)}."
                )
    except OSError as exc:
        if isinstance(exc, SkelbehaveError):
            raise
        raise PoseModelNotFoundError(
            f"cannot write the pose model to {dest}: {exc}. {_where_to_put(variant)}."
        ) from None
    return dest


def resolve_model(
    model: str | os.PathLike | bytes | None = None, *, variant: str = "full", download: bool = True
) -> Path | bytes:
    """Find the Pose Landmarker model: explicit, environment, cache, or download.

    Parameters
    ----------
    model : path, bytes or None
        A ``.task`` file path, the bundle's bytes, or one of the variant
        names ``"lite"``, ``"full"``, ``"heavy"`` (the cached or downloaded
        official file; ``SKELBEHAVE_POSE_MODEL`` is then not used). ``None``:
        use ``SKELBEHAVE_POSE_MODEL``, else the cached or downloaded ``variant``.
    variant : {"lite", "full", "heavy"}
        Which official model to use from the cache or download.
    download : bool
        Download when the model is not cached (default). ``False`` raises
        :class:`PoseModelNotFoundError` instead.

    Returns
    -------
    Path or bytes
        A path to an existing file, or the bytes given.

    Examples
    --------
    >>> resolve_model("../shared/models/pose_landmarker_full.task").name  # doctest: +SKIP
    'pose_landmarker_full.task'
    """
    if isinstance(model, (bytes, bytearray, memoryview)):
        data = bytes(model)
        if not data:
            raise ModelFileError("the pose model bytes given are empty")
        return data
    named = isinstance(model, str) and model in VARIANTS
    if named:  # a variant asked for by name: that variant, whatever SKELBEHAVE_POSE_MODEL says
        variant, model = model, None
    if model is not None:
        path = Path(model).expanduser()
        if not path.is_file():
            raise PoseModelNotFoundError(f"pose model file {path} does not exist (model= argument)")
        return path
    env = None if named else os.environ.get(ENV_MODEL)
    if env:
        path = Path(env).expanduser()
        if not path.is_file():
            raise PoseModelNotFoundError(
                f"{ENV_MODEL} is set to {env!r}, but there is no such file; fix or unset the variable"
            )
        return path
    variant = _check_variant(variant)
    cached = _cached_path(variant)
    if cached.is_file():
        expected = MODEL_CHECKSUMS.get(variant)
        if expected is not None and cached.stat().st_size != expected[0]:
            logger.warning("cached pose model %s has the wrong size; downloading it again", cached)
        else:
            return cached
    if not download:
        raise PoseModelNotFoundError(f"no MediaPipe pose model file was found; {_where_to_put(variant)}.")
    return download_model(variant, dest=cached)


def pose_model_choice(text: str) -> str:
    """A ``--pose-model`` value: ``lite``, ``full``, ``heavy`` or the path of an existing ``.task`` file.

    The variants are found or downloaded later (:func:`resolve_model`); a path
    is checked here, so that a typo is reported before anything runs.

    Raises
    ------
    PoseModelNotFoundError
        Neither a variant name nor an existing file.

    Examples
    --------
    >>> pose_model_choice("lite")
    'lite'
    >>> try:
    ...     pose_model_choice("hevy")
    ... except PoseModelNotFoundError as e:
    ...     print(str(e))
    pose model 'hevy': expected lite, full, heavy or the path of a .task file (no such file)
    """
    v = str(text).strip()
    if v in VARIANTS:
        return v
    if Path(v).expanduser().is_file():
        return str(Path(v).expanduser())
    raise PoseModelNotFoundError(
        f"pose model {text!r}: expected {', '.join(VARIANTS)} or the path of a .task file (no such file)"
    )
