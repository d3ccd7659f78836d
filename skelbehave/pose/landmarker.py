"""Pose extraction from a video, an image folder or frames with MediaPipe Pose Landmarker."""

from __future__ import annotations

import atexit
import hashlib
import itertools
import logging
import math
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .._util.optional import require
from ..errors import ParameterError, VideoReadError
from ..poses import PoseSequence
from .identities import track_poses
from .models import resolve_model
from .quiet import native_logs_silenced, prepare_environment
from .video import IMAGE_SUFFIXES, NOMINAL_FPS, _cv2, _open, iter_frames

__all__ = ["NOMINAL_FPS", "IMAGE_SUFFIXES", "VideoReadError", "extract", "get_landmarker", "iter_frames"]
# _cv2 and iter_frames are imported from here by overlay.py (kept importable after the split)
_REEXPORTED = (_cv2, iter_frames)

logger = logging.getLogger(__name__)
WORLD_COORDINATES = (
    "mediapipe world landmarks: x image-right, y down, z away from the camera; origin between the hips"
)
_GAP_BETWEEN_SOURCES_MS = 10_000


# ----------------------------------------------------------------------------- landmarker cache
@dataclass
class _Landmarker:
    landmarker: Any
    last_ts: int = -_GAP_BETWEEN_SOURCES_MS  # last timestamp (ms) given to MediaPipe


_LANDMARKERS: dict[tuple, _Landmarker] = {}


def _model_key(model: Path | bytes) -> str:
    if isinstance(model, bytes):
        return "sha256:" + hashlib.sha256(model).hexdigest()
    return str(Path(model).resolve())


def get_landmarker(
    model: Path | bytes,
    *,
    num_poses: int = 1,
    min_pose_detection_confidence: float = 0.5,
    min_pose_presence_confidence: float = 0.5,
    min_tracking_confidence: float = 0.5,
    fresh: bool = False,
) -> _Landmarker:
    """A VIDEO-mode PoseLandmarker: cached per process and option set, or ``fresh`` (caller closes it)."""
    key = (
        _model_key(model),
        int(num_poses),
        float(min_pose_detection_confidence),
        float(min_pose_presence_confidence),
        float(min_tracking_confidence),
    )
    handle = None if fresh else _LANDMARKERS.get(key)
    if handle is None:
        prepare_environment()  # before MediaPipe is first imported
        require("mediapipe.tasks.python", "video", "pose extraction")
        from mediapipe.tasks.python import BaseOptions, vision
        base = (
            BaseOptions(model_asset_buffer=model)
            if isinstance(model, bytes)
            else BaseOptions(model_asset_path=str(model))
        )
        opts = vision.PoseLandmarkerOptions(
            base_options=base,
            running_mode=vision.RunningMode.VIDEO,
            num_poses=int(num_poses),
            min_pose_detection_confidence=float(min_pose_detection_confidence),
            min_pose_presence_confidence=float(min_pose_presence_confidence),
            min_tracking_confidence=float(min_tracking_confidence),
        )
        try:
            with native_logs_silenced():
                lm = vision.PoseLandmarker.create_from_options(opts)
        except (RuntimeError, ValueError) as exc:
            from ..errors import ModelFileError

            where = "the model bytes given" if isinstance(model, bytes) else str(model)
            raise ModelFileError(f"{where}: not a usable MediaPipe Pose Landmarker bundle ({exc})") from None
        handle = _Landmarker(lm)
        if fresh:
            return handle
        if not _LANDMARKERS:
            _register_exit_close()
        _LANDMARKERS[key] = handle
        logger.debug("built a PoseLandmarker for %s in process %d", key, os.getpid())
    return handle


def _register_exit_close() -> None:
    # MediaPipe's landmarker closes through a thread pool that is shut down
    # before ``atexit`` handlers run; closing from threading's exit hook
    # (run before that) avoids "cannot schedule new futures after shutdown".
    register = getattr(threading, "_register_atexit", None)
    try:
        if register is None:
            raise RuntimeError
        register(_close_landmarkers)
    except RuntimeError:
        atexit.register(_close_landmarkers)


def close_landmarkers() -> None:
    """Close the landmarkers this process has cached (they are rebuilt on next use)."""
    _close_landmarkers()


def _close_landmarkers() -> None:
    while _LANDMARKERS:
        _, h = _LANDMARKERS.popitem()
        try:
            with native_logs_silenced():
                h.landmarker.close()
        except Exception:  # pragma: no cover - interpreter shutting down
            pass


def _landmarks(poses) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(k, 33, 3) coordinates, (k, 33) visibility, (k, 33) presence."""
    xyz = np.array([[(lm.x, lm.y, lm.z) for lm in p] for p in poses], dtype=np.float64)
    vis = np.array(
        [[np.nan if lm.visibility is None else lm.visibility for lm in p] for p in poses], dtype=np.float64
    )
    pres = np.array(
        [[np.nan if lm.presence is None else lm.presence for lm in p] for p in poses], dtype=np.float64
    )
    return xyz, vis, pres


# ----------------------------------------------------------------------------- extract
def _frames(value: int | float | str | None, fps: float, name: str, *, default: float) -> int:
    """A length in frames from frames (int, ``"12f"``), seconds (float) or a duration (``"2s"``, ``"500ms"``).

    The same conventions as :func:`skelbehave.temporal.windows.to_frames` (a layer above this one).
    """
    from ..errors import ParameterError

    if value is None:
        return max(1, round(default * fps))
    if isinstance(value, (bool, np.bool_)):
        raise ParameterError(f"{name} must be frames (int) or a duration ('2s', '500ms'), got {value!r}")
    if isinstance(value, (int, np.integer)):
        if value < 0:
            raise ParameterError(f"{name} must be >= 0 frames, got {value}")
        return int(value)
    try:
        if isinstance(value, str):
            v = value.strip().lower().replace(" ", "")
            if v.endswith("ms"):
                seconds = float(v[:-2]) / 1000.0
            elif v.endswith("s"):
                seconds = float(v[:-1])
            else:
                return _frames(int(v.removesuffix("f")), fps, name, default=default)
        else:
            seconds = float(value)
    except ValueError:
        raise ParameterError(
            f"{name} must be frames (int) or a duration ('2s', '500ms'), got {value!r}"
        ) from None
    if not (math.isfinite(seconds) and seconds >= 0):
        raise ParameterError(f"{name} must be a duration >= 0, got {value!r}")
    return round(seconds * fps)



#: What becomes of the frames ``pose_fps`` sampling skips (see :func:`extract`).
FILL_SKIPPED = ("interpolate", "absent")


def _check_pose_fps(pose_fps: float | None) -> float | None:
    if pose_fps is None:
        return None
    try:
        v = float(pose_fps)
    except (TypeError, ValueError):
        v = math.nan
    if isinstance(pose_fps, bool) or not (math.isfinite(v) and v > 0):
        raise ParameterError(f"pose_fps must be a positive number of frames per second, got {pose_fps!r}")
    return v


def _detect_all(handle, src, max_frames, reuse_landmarker, progress, tqdm):
    """Run the landmarker over a source's frames (the sampled ones); close what :func:`extract` opened.

    Returns ``(frames read, indices of the frames the model ran on, detections of those frames,
    (width, height))``; a detection is (image landmarks (k, 33, 3), world landmarks
    (k, 33, 3), confidence (k, 33)).
    """
    mp = require("mediapipe", "video", "pose extraction")
    lm = handle.landmarker
    step_ms = 1000.0 / (src.fps or NOMINAL_FPS)
    base = handle.last_ts + _GAP_BETWEEN_SOURCES_MS
    last = handle.last_ts
    empty = np.empty((0, 33, 3))
    detections: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    sampled: list[int] = []
    width = height = None
    n = 0
    bar = tqdm(total=src.expected, desc=Path(src.name).name, unit="frame", disable=not progress, leave=False)
    try:
        for rgb in src.frames:
            if max_frames is not None and n >= max_frames:
                break
            if rgb is not None:  # None: a frame pose_fps skips
                if width is None:
                    height, width = rgb.shape[:2]
                ts = max(base + round(n * step_ms), last + 1)
                last = ts
                res = lm.detect_for_video(mp.Image(image_format=mp.ImageFormat.SRGB, data=rgb), ts)
                if res.pose_landmarks:
                    img, vis, pres = _landmarks(res.pose_landmarks)
                    world, _, _ = _landmarks(res.pose_world_landmarks)
                    conf = np.nan_to_num(vis, nan=1.0) * np.nan_to_num(pres, nan=1.0)
                    detections.append((img, world, conf))
                else:
                    detections.append((empty, empty, np.empty((0, 33))))
                sampled.append(n)
            n += 1
            bar.update(1)
    finally:
        handle.last_ts = last
        if not reuse_landmarker:
            handle.landmarker.close()
        bar.close()
        close = getattr(src.frames, "close", None)
        if close is not None:
            close()
    return n, sampled, detections, (width, height)


def _interpolate_skipped(rows, sampled, arrays) -> int:
    """Fill the frames sampling skipped between two sampled frames where this person was seen.

    Linear in time, for every array (positions, image landmarks, confidence); never across a
    sampled frame where the person was not found. Returns how many frames were filled.
    """
    filled = 0
    for (j0, _), (j1, _) in itertools.pairwise(rows):
        if j1 != j0 + 1:
            continue
        t0, t1 = sampled[j0], sampled[j1]
        if t1 - t0 < 2:
            continue
        w = (np.arange(t0 + 1, t1) - t0) / (t1 - t0)
        for a in arrays:
            shape = (-1,) + (1,) * (a.ndim - 1)
            a[t0 + 1 : t1] = a[t0] + (a[t1] - a[t0]) * w.reshape(shape)
        filled += t1 - t0 - 1
    return filled


def extract(
    source: Any,
    model: str | os.PathLike | bytes | None = None,
    *,
    num_poses: int = 1,
    fps: float | None = None,
    pose_fps: float | None = None,
    fill_skipped: str = "interpolate",
    variant: str = "full",
    min_pose_detection_confidence: float = 0.5,
    min_pose_presence_confidence: float = 0.5,
    min_tracking_confidence: float = 0.5,
    max_track_distance: float = 0.5,
    max_track_gap: int | str | None = None,
    stitch_gap: int | str | None = None,
    min_track_frames: int | str | None = None,
    max_frames: int | None = None,
    allow_truncated: bool = False,
    bgr: bool = False,
    reuse_landmarker: bool = False,
    progress: bool = False,
) -> list[PoseSequence]:
    """Extract 3-D poses of the people in a video with MediaPipe Pose Landmarker.

    Runs the Tasks ``PoseLandmarker`` in VIDEO mode (timestamps from frame
    index and fps, strictly increasing). The 33 world landmarks (metres,
    origin between the hips) become the ``mediapipe33`` joints; every frame
    of the source is a frame of every returned sequence; where that person
    was not found the frame is absent: NaN position and image landmarks,
    confidence 0 (:func:`skelbehave.temporal.presence.present_frames` is
    False there, so models label it ``no_pose``, never a behaviour).

    Parameters
    ----------
    source : path or iterable of arrays
        A video file, a folder of images (sorted by file name), or an
        iterable of frames (``(H, W, 3)`` RGB uint8, or BGR with ``bgr=True``).
    model : path, bytes or {"lite", "full", "heavy"}, optional
        The Pose Landmarker ``.task`` bundle; see
        :func:`skelbehave.pose.models.resolve_model` for the search order
        (``SKELBEHAVE_POSE_MODEL``, the user cache, a checked download).
    num_poses : int
        Most people to find per frame. With 1 (default) every detection
        belongs to the single subject, id 0; with more, identities come from
        :func:`~skelbehave.pose.identities.track_poses`: frame-to-frame
        tracking, then stitching of the fragments of one person across
        losses (position and velocity continuity, image size and body
        proportions), then short tracks dropped.
    fps : float, optional
        Frame rate. Videos: overrides the container's, and is required
        when the container reports none. Image folders and frame iterables:
        without it the sequences get ``fps=None`` and MediaPipe is fed
        timestamps at ``NOMINAL_FPS`` (30).
    pose_fps : float, optional
        Run the pose model at about this rate instead of on every frame
        (frames are picked evenly: with a 25 fps video and ``pose_fps=12.5``
        every second frame). The frames skipped are still frames of the
        returned sequences; ``fill_skipped`` says what they hold. Identities
        are tracked over the frames the model ran on, so ``max_track_gap``,
        ``stitch_gap`` and ``min_track_frames`` given in frames count those
        frames (durations are converted at ``pose_fps``). Default: every frame.
    fill_skipped : {"interpolate", "absent"}
        Frames skipped by ``pose_fps``: ``"interpolate"`` (default) fills a
        person's skipped frames linearly (positions, image landmarks and
        confidence) between two consecutive sampled frames where that person
        was found, so the gaps filled are never longer than one sampling
        step; frames after the last sampled one, and skipped frames next to a
        sampled frame where the person was not found, stay absent.
        ``"absent"`` leaves every skipped frame absent.
    variant : {"lite", "full", "heavy"}
        Official model used when ``model`` is not given.
    min_pose_detection_confidence, min_pose_presence_confidence, min_tracking_confidence : float
        MediaPipe's thresholds.
    max_track_distance : float
        Identity gate: the largest distance between the centres of a
        person's bounding boxes (of the image landmarks) in consecutive
        frames, in person sizes (see :class:`~skelbehave.pose.tracking.PoseTracker`).
    max_track_gap : int, float or str, optional
        How long a person may go unseen and keep the identity frame to frame
        (frames as an int, seconds as a float, or ``"1s"``/``"500ms"``;
        default one second).
    stitch_gap : int, float or str, optional
        Longest loss across which two track fragments may still be joined
        into one identity when they are compatible (default 10 seconds).
    min_track_frames : int, float or str, optional
        Identities seen in fewer frames than this are dropped as spurious
        detections (default one second of frames, at most the clip's length;
        with ``num_poses=1`` there is no minimum). What was dropped is in
        ``meta["tracking"]`` and logged.
    max_frames : int, optional
        Stop after this many frames.
    allow_truncated : bool
        Return what could be decoded when a video stops well before the
        frame count its container declares, instead of raising
        :class:`VideoReadError` (``kind="corrupt"``).
    bgr : bool
        Frames given as arrays are in OpenCV's BGR order.
    reuse_landmarker : bool
        Keep one landmarker per process and option set across calls instead
        of building one per source (about 0.2 s each). MediaPipe's VIDEO mode
        carries tracking and smoothing state from one clip into the next (a
        few centimetres in the first frames), so the default, ``False``,
        gives the same poses for a video whatever ran before it.
    progress : bool
        Show a progress bar over the frames.

    Returns
    -------
    list of PoseSequence
        One per person (ordered by identity; empty when nobody was found):
        ``position`` (T, 33, 3) world landmarks in metres; ``confidence``
        (T, 33) = visibility x presence (the chance the joint is in view and
        not occluded; 0 in frames where the person was not found); ``fps``;
        ``meta`` with ``source``, ``person`` (the individual: 0, 1, ... in
        order of first appearance), ``frames_seen`` (sampled frames where the
        person was found), ``frames_processed`` (frames the pose model ran on),
        ``pose_fps`` (None: every frame), ``frames_interpolated``, ``tracking`` (with
        ``num_poses > 1``: fragments, stitched pairs, dropped and kept track
        lengths), ``image_landmarks`` (T, 33, 3: x, y normalised to the image width and
        height, z relative depth), ``width``, ``height``, ``n_frames``,
        ``units`` and ``coordinates``.

    Raises
    ------
    VideoReadError
        Unreadable source, no frames, or a truncated video.
    PoseDataError
        A video without frame rate and no ``fps=``; bad frames.

    Examples
    --------
    >>> from skelbehave.pose import extract
    >>> seqs = extract("../shared/videos/person01_boxing_d2_uncomp.mp4",
    ...                model="../shared/models/pose_landmarker_full.task")  # doctest: +SKIP
    >>> seqs[0].position.shape, seqs[0].fps  # doctest: +SKIP
    ((390, 33, 3), 25.0)
    """
    from tqdm.auto import tqdm

    if num_poses < 1:
        raise ValueError(f"num_poses must be >= 1, got {num_poses}")
    if fill_skipped not in FILL_SKIPPED:
        raise ParameterError(f"fill_skipped must be one of {FILL_SKIPPED}, got {fill_skipped!r}")
    pose_fps = _check_pose_fps(pose_fps)
    require("mediapipe", "video", "pose extraction")
    model_src = resolve_model(model, variant=variant)
    with native_logs_silenced():  # FFmpeg's complaints about a bad file: the exception says it
        src = _open(source, fps, bgr)
    rate = src.fps or NOMINAL_FPS
    ratio = 1.0 if pose_fps is None else min(1.0, pose_fps / rate)
    if ratio < 1.0:
        src.only(lambda i: i == 0 or math.floor(i * ratio + 1e-9) > math.floor((i - 1) * ratio + 1e-9))
    with native_logs_silenced():
        try:
            handle = get_landmarker(
                model_src,
                num_poses=num_poses,
                min_pose_detection_confidence=min_pose_detection_confidence,
                min_pose_presence_confidence=min_pose_presence_confidence,
                min_tracking_confidence=min_tracking_confidence,
                fresh=not reuse_landmarker,
            )
        except BaseException:
            getattr(src.frames, "close", lambda: None)()
            raise
        n, sampled, detections, (width, height) = _detect_all(
            handle, src, max_frames, reuse_landmarker, progress, tqdm
        )
    if n == 0:
        raise VideoReadError("zero_frames", "no frame could be read", path=src.name)
    if (
        src.kind == "video"
        and src.expected
        and max_frames is None
        and n < src.expected - max(2, 0.05 * src.expected)
        and not allow_truncated
    ):
        raise VideoReadError(
            "corrupt",
            f"the container declares {src.expected} frames but only {n} could be decoded: "
            "the file is truncated or corrupt (allow_truncated=True keeps what was read)",
            path=src.name,
        )
    # identities are found on the frames the pose model ran on, at the rate it ran
    seconds = rate * ratio
    m = len(sampled)
    if num_poses == 1:  # MediaPipe gives at most one person a frame: all of them are id 0
        ids = [[0] * len(d[0]) for d in detections]
        report = None
        if min_track_frames is not None:  # no minimum unless asked for
            least = _frames(min_track_frames, seconds, "min_track_frames", default=1.0)
            if sum(len(d) for d in ids) < least:
                logger.info("%s: the person seen in fewer than %d frames is dropped", src.name, least)
                ids = [[] for _ in ids]
    else:
        min_track_frames = _frames(min_track_frames, seconds, "min_track_frames", default=1.0)
        ids, report = track_poses(
            [d[0][:, :, :2] * np.array([width / height, 1.0]) for d in detections],
            scores=[np.nanmean(d[2], axis=1) if len(d[2]) else None for d in detections],
            world=[d[1] for d in detections],
            max_distance=max_track_distance,
            max_gap=_frames(max_track_gap, seconds, "max_track_gap", default=1.0),
            stitch_gap=_frames(stitch_gap, seconds, "stitch_gap", default=10.0),
            min_track_frames=min(min_track_frames, m),
        )
        logger.info(
            "%s: %d track fragment(s) -> %d identit%s (%d stitch(es), %d short track(s) dropped)",
            src.name,
            report.fragments,
            len(report.lengths),
            "y" if len(report.lengths) == 1 else "ies",
            len(report.stitched),
            len(report.dropped),
        )
    tracks: dict[int, list[tuple[int, int]]] = {}  # identity -> [(index among sampled frames, detection)]
    for j, frame_ids in enumerate(ids):
        for k, tid in enumerate(frame_ids):
            if tid is not None:
                tracks.setdefault(tid, []).append((j, k))
    out = []
    for tid in sorted(tracks):
        rows = tracks[tid]
        # frames where the person is not seen stay NaN (confidence 0): absent, never a pose
        pos = np.full((n, 33, 3), np.nan)
        img = np.full((n, 33, 3), np.nan)
        conf = np.zeros((n, 33))
        for j, k in rows:
            t = sampled[j]
            img[t], pos[t], conf[t] = (d[k] for d in detections[j])
        filled = 0
        if fill_skipped == "interpolate" and ratio < 1.0:
            filled = _interpolate_skipped(rows, sampled, (pos, img, conf))
        meta = {
            "source": src.name,
            "person": len(out),
            "image_landmarks": img,
            "width": int(width),
            "height": int(height),
            "n_frames": int(n),
            "frames_seen": len(rows),
            "frames_processed": m,
            "pose_fps": None if ratio >= 1.0 else rate * ratio,
            "frames_interpolated": filled,
            "units": "m",
            "coordinates": WORLD_COORDINATES,
        }
        if report is not None:
            meta["tracking"] = report.as_dict()
        out.append(PoseSequence(pos, "mediapipe33", fps=src.fps, confidence=conf, meta=meta))
    if not out:
        logger.info("%s: no person found in %d frames", src.name, n)
    return out
