"""Pose extraction from many videos: parallel processes or Dask, resumable, one pose CSV each."""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd

from .._util.fs import (
    atomic_write,
    file_sha256,
    folder_lock,
    output_names,
    regular_file_problem,
    remove_stale_temps,
)
from .._util.optional import require
from .._util.parallel import read_manifest, run_batch
from ..errors import BatchItemError, ModelFileError, PoseDataError, SkelbehaveError
from .landmarker import IMAGE_SUFFIXES, NOMINAL_FPS, VideoReadError, extract
from .models import resolve_model
from .quiet import SHOW_ENV, prepare_environment, wants_native_logs

__all__ = [
    "POSE_MODEL_MEMBERS",
    "VIDEO_SUFFIXES",
    "check_pose_model",
    "default_threads",
    "extract_many",
    "extraction_pool",
    "find_videos",
]

logger = logging.getLogger(__name__)

#: Members every MediaPipe Pose Landmarker bundle (``.task``, a zip file) holds.
POSE_MODEL_MEMBERS = ("pose_detector.tflite", "pose_landmarks_detector.tflite")

#: File name endings taken as videos when a folder is given.
VIDEO_SUFFIXES = (".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg", ".wmv", ".flv")
IMAGE_COORDINATES = (
    "image landmarks: x, y in image widths / heights from the top-left corner; z relative depth"
)


def find_videos(paths: str | os.PathLike | Iterable[str | os.PathLike]) -> list[Path]:
    """Expand files and folders into a sorted, de-duplicated list of video files.

    A folder contributes the files inside it (recursively) whose suffix is in
    :data:`VIDEO_SUFFIXES`, or, when it holds no video but images, is itself
    one source (an image sequence, read in file-name order); a file is taken
    as given, whatever its suffix (a bad one ends up in the manifest with its
    reason).

    Examples
    --------
    >>> [p.name for p in find_videos("../shared/videos")][:2]  # doctest: +SKIP
    ['intel_one-by-one-person-detection.mp4', 'person01_boxing_d2_uncomp.mp4']
    """
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            found = sorted(f for f in p.rglob("*") if f.is_file() and f.suffix.lower() in VIDEO_SUFFIXES)
            if not found and any(f.suffix.lower() in IMAGE_SUFFIXES and f.is_file() for f in p.iterdir()):
                found = [p]  # an image sequence
            out.extend(found)
        else:
            out.append(p)
    seen: set[Path] = set()
    uniq = []
    for p in out:
        key = p.resolve()
        if key not in seen:
            seen.add(key)
            uniq.append(p)
    return uniq


def _names_taken(manifest: Path) -> dict[str, str]:
    """``{output name: video key}`` of an earlier run's manifest (a video keeps its output name)."""
    taken = {}
    for r in read_manifest(manifest).to_dict("records"):
        name = Path(str(r.get("output", ""))).name
        if name.endswith(".pose.csv"):
            taken[name[: -len(".pose.csv")]] = str(r["key"])
    return taken


def check_pose_model(model: str | os.PathLike | bytes) -> None:
    """Check a Pose Landmarker bundle once, before a batch: a zip holding :data:`POSE_MODEL_MEMBERS`, intact.

    A truncated or damaged ``.task`` file then fails once, with one message,
    instead of once per video.

    Raises
    ------
    ModelFileError
        Not a zip file, a member missing, or a member whose checksum (CRC) is wrong.

    Examples
    --------
    >>> check_pose_model("../shared/models/pose_landmarker_full.task")  # doctest: +SKIP
    >>> try:
    ...     check_pose_model(b"not a model")
    ... except ModelFileError as e:
    ...     print(str(e).split(" (")[1])
    not a zip file; truncated or another kind of file?)
    """
    import io
    import zipfile

    where = "the pose model bytes given" if isinstance(model, (bytes, bytearray)) else f"pose model {model}"
    src = io.BytesIO(bytes(model)) if isinstance(model, (bytes, bytearray)) else model
    bad = f"{where}: not a MediaPipe Pose Landmarker bundle"
    if not isinstance(src, io.BytesIO):
        problem = regular_file_problem(src)
        if problem is not None:
            raise ModelFileError(f"{where}: {problem}")
    try:
        with zipfile.ZipFile(src) as z:
            names = set(z.namelist())
            missing = [m for m in POSE_MODEL_MEMBERS if m not in names]
            if missing:
                raise ModelFileError(f"{bad} (no {', '.join(missing)} inside; truncated or another model?)")
            for m in POSE_MODEL_MEMBERS:
                info = z.getinfo(m)
                if info.file_size > 1 << 30:
                    raise ModelFileError(f"{bad} ({m} claims {info.file_size} bytes)")
                with z.open(info) as fh:  # reading to the end checks the member's CRC
                    while fh.read(1 << 20):
                        pass
    except zipfile.BadZipFile as exc:
        detail = "not a zip file" if "not a zip file" in str(exc).lower() else str(exc)
        raise ModelFileError(f"{bad} ({detail}; truncated or another kind of file?)") from None
    except (OSError, EOFError, ValueError, NotImplementedError) as exc:
        if isinstance(exc, ModelFileError):
            raise
        raise ModelFileError(f"{bad} ({' '.join(str(exc).split()) or type(exc).__name__})") from None


def _warm_up(model: str | None = None, threads: int | None = None, native_logs: bool = False) -> None:
    """Per-process initialiser: imports, thread count and one landmarker run, before the first video.

    Native log lines are silenced (see :mod:`skelbehave.pose.quiet`); OpenCV
    gets ``threads`` threads (:func:`default_threads`); with ``model``, a
    landmarker is built and run on a blank frame and closed, so that the first
    video does not pay the process's first model load. ``native_logs``: the
    driver runs with ``-v``; the worker then lets MediaPipe's lines through too.
    """
    if native_logs:
        os.environ[SHOW_ENV] = "1"
    prepare_environment()
    cv2 = require("cv2", "video", "pose extraction")
    require("mediapipe", "video", "pose extraction")
    if threads is not None:
        cv2.setNumThreads(int(threads))
    if model is not None:
        import numpy as np

        with contextlib.suppress(SkelbehaveError):  # a bad model is reported per video, as before
            extract([np.zeros((64, 64, 3), np.uint8)], model=model, fps=NOMINAL_FPS)


def default_threads(jobs: int) -> int:
    """Threads each of ``jobs`` extraction processes gives OpenCV: the cores this process may use / jobs.

    MediaPipe's own graph threads cannot be set through its Tasks API; they
    run one frame at a time, so a process keeps about one core busy.

    Examples
    --------
    >>> default_threads(10**6)
    1
    """
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        cores = os.cpu_count() or 1
    return max(1, cores // max(1, int(jobs)))


def extraction_pool(
    jobs: int,
    *,
    model: str | os.PathLike | bytes | None = None,
    variant: str = "full",
    threads: int | None = None,
):
    """Start ``jobs`` extraction processes now, warmed (imports, a model run), for :func:`extract_many`.

    Pass it as ``extract_many(..., pool=pool)`` (any number of calls, with the same
    ``model``); the worker start-up is paid here, once. Shut it down after use
    (``with extraction_pool(2, model=...) as pool:``).

    Examples
    --------
    >>> with extraction_pool(2, model="pose_landmarker_full.task") as pool:  # doctest: +SKIP
    ...     extract_many("videos/", "poses/", model="pose_landmarker_full.task", pool=pool)
    """
    from .._util.pools import start_pool

    model_str = _model_path(resolve_model(model, variant=variant), None)
    warm = (model_str, threads or default_threads(jobs), wants_native_logs())
    return start_pool(jobs, initializer=_warm_up, initargs=warm)


def _model_path(model_src: Path | bytes, out_dir: Path | None) -> str:
    """A model as a path string the workers can open (bytes are written once next to the outputs)."""
    if isinstance(model_src, bytes):  # ship a path, not megabytes per task
        tag = hashlib.sha256(model_src).hexdigest()[:12]
        folder = out_dir if out_dir is not None else Path(tempfile.gettempdir())
        mpath = folder / f".pose_model-{tag}.task"
        if not mpath.exists():
            with atomic_write(mpath, "wb") as fh:
                fh.write(model_src)
        model_src = mpath
    return str(Path(model_src).resolve())


def _extract_one(item: dict) -> dict:
    """Batch worker: one video -> one pose CSV (atomically). Module-level so it pickles."""
    from ..io import write_poses

    video = item["video"]
    # a FIFO named .mp4 would block the video reader for ever (a folder is an image sequence)
    problem = None if Path(video).is_dir() else regular_file_problem(video)
    if problem is not None:
        reason = "unreadable" if problem == "no such file" else "not_a_regular_file"
        raise BatchItemError(reason, f"{video}: {problem}")
    if item.get("image_output"):  # run_batch clears the main output's; this one is ours
        remove_stale_temps(item["image_output"])
    try:
        seqs = extract(video, model=item["model"], progress=False, **item["options"])
    except VideoReadError as exc:
        raise BatchItemError(exc.kind, str(exc)) from None
    except PoseDataError as exc:
        raise BatchItemError("bad_video", str(exc)) from None
    if not seqs:
        raise BatchItemError("no_person", f"{video}: no person was found in any frame")
    n = seqs[0].n_frames
    seen = sum(~s.missing.all(axis=1) for s in seqs)
    if item.get("image_output"):
        img = [
            s.copy(
                position=s.meta["image_landmarks"],
                meta={**{k: v for k, v in s.meta.items() if k != "image_landmarks"}, "units": "normalized"},
            )
            for s in seqs
        ]
        write_poses(item["image_output"], img, coordinates=IMAGE_COORDINATES)
    write_poses(item["output"], seqs)
    return {
        "frames": n,
        "persons": len(seqs),
        "frames_with_person": int((seen > 0).sum()),
        "fps": seqs[0].fps,
        "width": seqs[0].meta.get("width"),
        "height": seqs[0].meta.get("height"),
        "frames_processed": seqs[0].meta.get("frames_processed", n),
    }


def extract_many(
    videos: str | os.PathLike | Iterable[str | os.PathLike],
    out_dir: str | os.PathLike,
    *,
    model: str | os.PathLike | bytes | None = None,
    variant: str = "full",
    num_poses: int = 1,
    jobs: int = 1,
    scheduler: Any = None,
    manifest: str | os.PathLike | None = None,
    image_landmarks: bool = False,
    progress: bool = True,
    retry_failed: bool = True,
    pose_fps: float | None = None,
    threads: int | None = None,
    pool: Any = None,
    **extract_options: Any,
) -> pd.DataFrame:
    """Extract poses from many videos, one pose CSV per video, resumably.

    Each video becomes ``<out_dir>/<name>.pose.csv`` (``<name>``: the video's
    stem, or ``<stem>-<8 hex digits>`` when another video of this run or of an
    earlier one into ``out_dir`` has the same stem; the package's pose CSV,
    ``data_specs/pose_csv.md``, world landmarks in metres), written
    atomically. A manifest CSV records every video's status; a bad video
    (unreadable, truncated, no frames, nobody in it) is recorded with its
    reason and the run goes on. Running the same call again skips the videos
    already done, unless the video (size, modification time), the model or
    the extraction options changed.

    Parameters
    ----------
    videos : path or iterable of paths
        Video files, or folders searched recursively for :data:`VIDEO_SUFFIXES`.
    out_dir : path
        Output folder (created).
    model : path, bytes or {"lite", "full", "heavy"}, optional
        Pose Landmarker bundle, resolved once here (downloaded at most once);
        see :func:`skelbehave.pose.models.resolve_model`. With Dask the path
        must be readable by the workers (as must the videos).
    variant : {"lite", "full", "heavy"}
        Official model used when ``model`` is not given.
    num_poses : int
        Most people per frame (see :func:`skelbehave.pose.extract`).
    jobs : int
        Local worker processes (each runs one landmarker at a time).
    scheduler : str or dask.distributed.Client, optional
        Run on a Dask cluster: a scheduler address or a ``Client``.
    manifest : path, optional
        Manifest CSV (default ``<out_dir>/manifest.csv``).
    image_landmarks : bool
        Also write ``<name>.image.pose.csv`` with the normalised image
        landmarks (for overlays).
    progress : bool
        Progress bar over videos.
    retry_failed : bool
        Try again the videos that failed in an earlier run (default).
    pose_fps : float, optional
        Run the pose model at about this rate (see :func:`skelbehave.pose.extract`;
        the skipped frames are interpolated, or absent with ``fill_skipped="absent"``).
    threads : int, optional
        OpenCV threads in each worker process (default :func:`default_threads`:
        the cores / the processes). MediaPipe's graph threads are not settable.
    pool : ProcessPoolExecutor, optional
        Warm worker processes from :func:`extraction_pool` (started with the same
        ``model``), used instead of starting ``jobs`` new ones.
    **extract_options
        Passed to :func:`skelbehave.pose.extract` (``fps``, thresholds,
        ``max_frames``, ``reuse_landmarker``, ...).

    Returns
    -------
    pandas.DataFrame
        The manifest: ``key`` (the video path), ``output``, ``status``
        (``done`` / ``failed``), ``reason`` (``unreadable``, ``corrupt``,
        ``zero_frames``, ``no_person``, ``bad_video``, ``worker_crashed`` or an
        exception name), ``error``, ``seconds``, ``frames``, ``persons``,
        ``frames_with_person``, ``fps``, ``width``, ``height``, ``frames_processed``
        (frames the pose model ran on), ``options``, ``model_sha256``, ``video_stamp``.

    Examples
    --------
    >>> from skelbehave.pose import extract_many
    >>> table = extract_many(["a.mp4", "b.avi"], "poses/", jobs=2,
    ...                      model="pose_landmarker_full.task")  # doctest: +SKIP
    >>> table[["key", "status", "reason"]]  # doctest: +SKIP
    """
    require("mediapipe", "video", "pose extraction")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = find_videos(videos)
    if not paths:
        raise PoseDataError(f"no videos given (or none found with suffixes {', '.join(VIDEO_SUFFIXES)})")
    model_src = resolve_model(model, variant=variant)
    check_pose_model(model_src)  # once, here: not once per video
    model_str = _model_path(model_src, out_dir)
    options = dict(extract_options, num_poses=num_poses)
    if pose_fps is not None:
        options["pose_fps"] = pose_fps
    workers = getattr(pool, "_max_workers", None) or jobs
    # worker processes are warmed (and given their share of the cores); this process is left alone
    in_workers = pool is not None or jobs > 1
    warm = (model_str, threads or default_threads(workers)) if in_workers else (None, None)
    warm = (*warm, wants_native_logs())
    manifest = Path(manifest) if manifest is not None else out_dir / "manifest.csv"
    fields = {"options": _options_tag(options), "model_sha256": file_sha256(model_str)}
    # one run per output folder: names are chosen and outputs written under the lock
    with folder_lock(manifest.parent):
        return _extract_locked(
            paths, out_dir, manifest, model_str, options, image_landmarks, fields,
            jobs=jobs, scheduler=scheduler, progress=progress, retry_failed=retry_failed, pool=pool,
            warm=warm,
        )  # fmt: skip


def _options_tag(options: dict) -> str:
    """The extraction options as text for the manifest (another value: the video is extracted again).

    Options left at :func:`~skelbehave.pose.extract`'s defaults are not written, so that
    the same extraction asked for with or without them is recognised as done.

    Examples
    --------
    >>> _options_tag({"num_poses": 2, "pose_fps": 10.0, "fps": None, "fill_skipped": "interpolate"})
    'num_poses=2;pose_fps=10.0'
    """
    import inspect

    defaults = {k: p.default for k, p in inspect.signature(extract).parameters.items()}
    return ";".join(
        f"{k}={options[k]}"
        for k in sorted(options)
        if options[k] is not None and not (k in defaults and _same(options[k], defaults[k]))
    )


def _same(a: Any, b: Any) -> bool:
    try:
        return bool(a == b) and (type(a) is type(b) or {type(a), type(b)} <= {int, float})
    except Exception:  # pragma: no cover - odd option values
        return False


def _video_stamp(path: Path) -> str:
    try:
        st = path.stat()
    except OSError:
        return ""
    return f"{st.st_size}:{st.st_mtime_ns}"


def _extract_locked(
    paths, out_dir, manifest, model_str, options, image_landmarks, fields, *, jobs, scheduler, progress,
    retry_failed, pool, warm,
) -> pd.DataFrame:  # fmt: skip
    """:func:`extract_many` once it holds the output folder."""
    items = []
    resolved = [p.resolve() for p in paths]
    for p, name in zip(paths, output_names(resolved, taken=_names_taken(manifest)), strict=True):
        items.append(
            {
                "key": str(p.resolve()),
                "output": str(out_dir / f"{name}.pose.csv"),
                "image_output": str(out_dir / f"{name}.image.pose.csv") if image_landmarks else None,
                "video": str(p),
                "model": model_str,
                "options": options,
                "fields": {**fields, "video_stamp": _video_stamp(p)},
            }
        )
    return run_batch(
        _extract_one,
        items,
        manifest=manifest,
        jobs=jobs,
        scheduler=scheduler,
        progress=progress,
        desc="videos",
        initializer=_warm_up,
        initargs=warm,
        retry_failed=retry_failed,
        pool=pool,
    )
