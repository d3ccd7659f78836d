"""Poses from a live source as frames arrive: a video file, a camera or a stream URL.

:func:`stream` opens the source at once (a camera that does not exist, a URL
that cannot be reached or a file that is not a video raise one
:class:`~skelbehave.errors.VideoReadError` naming the source) and returns a
:class:`PoseStream`; iterating it yields one :class:`PoseRecord` per frame the
pose model ran on.

Frames are never queued. The pose model runs at most ``pose_fps`` times per
second of *source time*; the frames in between are skipped (for a file they
are only demuxed and decoded, not converted). On a live source (a camera or
a URL; or a file with ``realtime=True``) a reader thread keeps only the
newest frame: when the pose model falls behind real time the frames it had
no time for are dropped, so memory stays bounded however slow the machine.
A live stream that stops mid-way ends the iteration cleanly, or is opened
again up to ``reconnect`` times.

Identities: with ``num_poses=1`` every detection is individual 0 (MediaPipe
finds at most one person); with more, the frame-to-frame
:class:`~skelbehave.pose.tracking.PoseTracker` assigns them as poses arrive
(a person unseen for longer than ``max_track_gap`` seconds comes back with a
new identity: stitching fragments needs the whole recording, which a live
source does not have).
"""

from __future__ import annotations

import logging
import math
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._util.fs import regular_file_problem
from .._util.optional import require
from ..errors import ParameterError, VideoReadError
from .landmarker import get_landmarker
from .live_sources import LatestFrame, Sampler, open_capture, parse_source
from .models import resolve_model
from .quiet import native_logs_silenced
from .tracking import PoseTracker

__all__ = ["PoseRecord", "PoseStream", "stream"]

logger = logging.getLogger(__name__)

#: frame rate assumed for a live source whose driver reports none (only MediaPipe's
#: timestamps and the tracker's gap in frames use it; record times are wall-clock)
LIVE_FALLBACK_FPS = 30.0


def _cv2():
    return require("cv2", "video", "reading live video")


@dataclass(frozen=True)
class PoseRecord:
    """The poses found in one frame of a stream.

    Attributes
    ----------
    frame : int
        Index of the frame in the source (0-based, counting skipped and dropped frames).
    time : float
        Source time of the frame in seconds (frame / fps for a file; seconds
        since the first frame, by the wall clock, for a live source).
    individuals : tuple of int
        Identity of each person found (see the module documentation).
    world : ndarray, shape (k, 33, 3)
        MediaPipe world landmarks (metres, origin between the hips): the
        ``mediapipe33`` joints.
    confidence : ndarray, shape (k, 33)
        Visibility x presence of each joint.
    image : ndarray, shape (k, 33, 3)
        Image landmarks: x, y normalised to the image width and height, z relative depth (for drawing).
    latency : dict
        Seconds spent on this frame: ``decode`` (reading and converting it)
        and ``pose`` (the landmarker and the tracker).
    captured : float
        :func:`time.perf_counter` when reading the frame began (the start of
        its end-to-end latency).
    skipped : int
        Frames of the source since the previous record that the pose model
        did not see (skipped by ``pose_fps`` or dropped because it fell behind).
    width, height : int
        Frame size in pixels.
    rgb : ndarray or None
        The frame (H, W, 3) RGB, with ``keep_frames=True``.
    """

    frame: int
    time: float
    individuals: tuple[int, ...]
    world: np.ndarray
    confidence: np.ndarray
    image: np.ndarray
    latency: dict
    captured: float
    skipped: int
    width: int
    height: int
    rgb: np.ndarray | None = field(default=None, repr=False)


def _landmark_arrays(poses) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(k, 33, 3) coordinates, (k, 33) visibility, (k, 33) presence of MediaPipe landmark lists."""
    xyz = np.array([[(lm.x, lm.y, lm.z) for lm in p] for p in poses], dtype=np.float64).reshape(-1, 33, 3)
    vis = np.array(
        [[np.nan if lm.visibility is None else lm.visibility for lm in p] for p in poses], dtype=np.float64
    ).reshape(-1, 33)
    pres = np.array(
        [[np.nan if lm.presence is None else lm.presence for lm in p] for p in poses], dtype=np.float64
    ).reshape(-1, 33)
    return xyz, vis, pres


class PoseStream:
    """An opened live source; iterate it for :class:`PoseRecord` objects (see :func:`stream`).

    Attributes
    ----------
    info : dict
        ``name``, ``kind`` (``"camera"``, ``"url"``, ``"file"``), ``fps`` (the
        source's frame rate; None when a live source reports none),
        ``width``, ``height``, ``realtime`` and ``pose_fps``.
    stats : dict
        Running totals: ``frames_read`` (frames taken from the source),
        ``frames_posed`` (frames the pose model ran on), ``frames_skipped``
        (left out by ``pose_fps``), ``frames_dropped`` (newer frames arrived
        before the pose model was free), ``decode_s``, ``pose_s``,
        ``reconnects`` and ``ended`` (``"end"``, ``"dropped"``, ``"max_frames"``, ``"closed"``).
    """

    def __init__(
        self,
        source: Any,
        *,
        model: str | os.PathLike | bytes | None = None,
        variant: str = "full",
        pose_fps: float | None = None,
        num_poses: int = 1,
        min_pose_detection_confidence: float = 0.5,
        min_pose_presence_confidence: float = 0.5,
        min_tracking_confidence: float = 0.5,
        max_track_distance: float = 0.5,
        max_track_gap: float = 1.0,
        fps: float | None = None,
        realtime: bool | None = None,
        reconnect: int = 0,
        reconnect_delay: float = 1.0,
        open_timeout: float = 10.0,
        max_frames: int | None = None,
        keep_frames: bool = False,
    ) -> None:
        self._check(pose_fps, num_poses, fps, reconnect, reconnect_delay, open_timeout, max_frames)
        self.kind, self._target, self.name = parse_source(source)
        if self.kind == "file":
            problem = regular_file_problem(self._target)
            if problem is not None:
                raise VideoReadError("unreadable", problem, path=self.name)
        require("mediapipe", "video", "live pose estimation")  # before the pose model is looked for
        self._model = resolve_model(model, variant=variant)
        self.pose_fps = None if pose_fps is None else float(pose_fps)
        self.num_poses = int(num_poses)
        self._thresholds = dict(
            min_pose_detection_confidence=min_pose_detection_confidence,
            min_pose_presence_confidence=min_pose_presence_confidence,
            min_tracking_confidence=min_tracking_confidence,
        )
        self.realtime = self.kind != "file" if realtime is None else bool(realtime)
        self.reconnect = int(reconnect)
        self.reconnect_delay = float(reconnect_delay)
        self.open_timeout = float(open_timeout)
        self.max_frames = max_frames
        self.keep_frames = keep_frames
        self._cap = open_capture(self.kind, self._target, self.name, self.open_timeout)
        cv2 = _cv2()
        container_fps = float(self._cap.get(cv2.CAP_PROP_FPS) or 0.0)
        if fps is None and math.isfinite(container_fps) and 0 < container_fps < 1000:
            fps = container_fps
        if fps is None and self.kind == "file":
            self._cap.release()
            raise VideoReadError(
                "unreadable",
                "the video reports no usable frame rate; pass fps=... (never guessed)",
                path=self.name,
            )
        self.fps = fps
        # the first frame proves the source delivers (a file that opens but holds no frame, a dead stream)
        c0 = time.perf_counter()
        ok, bgr = self._cap.read()
        dt = time.perf_counter() - c0
        if not ok or bgr is None:
            self._cap.release()
            raise VideoReadError("zero_frames", "opened, but no frame could be read", path=self.name)
        self._first = (bgr, c0, dt)
        pos = float(self._cap.get(cv2.CAP_PROP_POS_MSEC) or 0.0) / 1000.0
        self._pos0 = pos if math.isfinite(pos) and pos >= 0 else None  # stream time of frame 0
        height, width = bgr.shape[:2]
        self.info = {
            "name": self.name,
            "kind": self.kind,
            "fps": self.fps,
            "width": int(width),
            "height": int(height),
            "realtime": self.realtime,
            "pose_fps": self.pose_fps,
        }
        self.stats = {
            "frames_read": 0,
            "frames_posed": 0,
            "frames_skipped": 0,
            "frames_dropped": 0,
            "decode_s": 0.0,
            "pose_s": 0.0,
            "reconnects": 0,
            "ended": None,
        }
        rate = self.pose_fps or self.fps or LIVE_FALLBACK_FPS
        if self.fps:
            rate = min(rate, self.fps)
        self._tracker = (
            None
            if self.num_poses == 1
            else PoseTracker(max_distance=max_track_distance, max_gap=max(1, round(max_track_gap * rate)))
        )
        self._iterating = False
        self._closed = False
        self._handle = None

    @staticmethod
    def _check(pose_fps, num_poses, fps, reconnect, reconnect_delay, open_timeout, max_frames) -> None:
        def positive(name, v, allow_none=True):
            if v is None and allow_none:
                return
            if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)):
                raise ParameterError(f"{name} must be a number > 0, got {v!r}")
            if not (math.isfinite(v) and v > 0):
                raise ParameterError(f"{name} must be a number > 0, got {v!r}")

        positive("pose_fps", pose_fps)
        positive("fps", fps)
        positive("open_timeout", open_timeout, allow_none=False)
        for name, v, least in (("num_poses", num_poses, 1), ("reconnect", reconnect, 0)):
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < least:
                raise ParameterError(f"{name} must be a whole number >= {least}, got {v!r}")
        if max_frames is not None and (
            isinstance(max_frames, bool) or not isinstance(max_frames, (int, np.integer)) or max_frames < 1
        ):
            raise ParameterError(f"max_frames must be a whole number >= 1, got {max_frames!r}")
        if not (isinstance(reconnect_delay, (int, float)) and reconnect_delay >= 0):
            raise ParameterError(f"reconnect_delay must be a number of seconds >= 0, got {reconnect_delay!r}")

    # ------------------------------------------------------------------ iteration
    def __iter__(self) -> Iterator[PoseRecord]:
        if self._iterating or self._closed:
            raise ParameterError(f"{self.name}: a stream can be iterated once")
        self._iterating = True
        return self._records()

    def __enter__(self) -> PoseStream:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Release the source and the pose model (also done when iteration ends)."""
        if self._closed:
            return
        self._closed = True
        if self.stats["ended"] is None:
            self.stats["ended"] = "closed"
        if self._handle is not None:
            with native_logs_silenced():
                self._handle.landmarker.close()
            self._handle = None
        if self._cap is not None:
            self._cap.release()
            self._cap = None

    def _records(self) -> Iterator[PoseRecord]:
        try:
            with native_logs_silenced():  # MediaPipe's own log lines, unless asked for (-v)
                self._handle = get_landmarker(
                    self._model, num_poses=self.num_poses, fresh=True, **self._thresholds
                )
                if self.realtime:
                    yield from self._live()
                else:
                    yield from self._file()
        finally:
            self.close()

    def _file(self) -> Iterator[PoseRecord]:
        """Every frame in order, as fast as the machine goes; the pose model on the sampled ones."""
        cv2 = _cv2()
        sampler = Sampler(self.pose_fps)
        first, skipped, index = self._first, 0, 0
        self._first = None
        while self.max_frames is None or index < self.max_frames:
            t = index / self.fps
            due = sampler.due(t)
            if first is not None:
                bgr, c0, dt = first
                first, ok = None, True
            else:
                c0 = time.perf_counter()
                if due:
                    ok, bgr = self._cap.read()
                else:
                    ok, bgr = self._cap.grab(), None
                dt = time.perf_counter() - c0
            if not ok:
                self.stats["ended"] = "end"
                return
            self.stats["frames_read"] += 1
            self.stats["decode_s"] += dt
            if not due:
                skipped += 1
                self.stats["frames_skipped"] += 1
                index += 1
                continue
            c1 = time.perf_counter()
            rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
            dt += time.perf_counter() - c1
            self.stats["decode_s"] += time.perf_counter() - c1
            yield self._pose(index, t, rgb, c0, dt, skipped)
            skipped = 0
            index += 1
        self.stats["ended"] = "max_frames"

    def _live(self) -> Iterator[PoseRecord]:
        """The newest frame whenever the pose model is free; older ones dropped, never queued."""
        cv2 = _cv2()
        st = self.stats
        sampler = Sampler(self.pose_fps)
        t0 = time.monotonic()
        paced = self.kind == "file"
        bgr, c0, dt = self._first
        self._first = None
        pending: tuple | None = (0, 0.0, bgr, c0, dt)
        base_read, base_dropped, base_decode = 1, 0, dt  # totals of the readers before this one
        st["frames_read"], st["decode_s"] = base_read, base_decode
        skipped = 0
        first_reader = True
        while True:
            reader = LatestFrame(
                self._cap,
                first_index=base_read,
                t0=t0,
                clock="fps" if paced else "stream" if self.kind == "url" else "wall",
                fps=self.fps,
                pos0=self._pos0 if first_reader else None,
                tbase=0.0 if first_reader else None,
            )
            first_reader = False
            seen_drops = 0
            try:
                while True:
                    if pending is None:
                        pending = reader.take(timeout=0.5)
                        if pending is None:
                            break
                    index, t, bgr, c0, dt = pending
                    pending = None
                    if self.max_frames is not None and index >= self.max_frames:
                        st["ended"] = "max_frames"
                        return
                    st["frames_read"] = base_read + reader.read
                    st["frames_dropped"] = base_dropped + reader.dropped
                    st["decode_s"] = base_decode + reader.decode_s
                    skipped += reader.dropped - seen_drops
                    seen_drops = reader.dropped
                    if not sampler.due(t):
                        skipped += 1
                        st["frames_skipped"] += 1
                        continue
                    c1 = time.perf_counter()
                    rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
                    dt += time.perf_counter() - c1
                    st["decode_s"] += time.perf_counter() - c1
                    base_decode += time.perf_counter() - c1
                    yield self._pose(index, t, rgb, c0, dt, skipped)
                    skipped = 0
            finally:
                if not reader.close():  # a driver stuck in read(): leave the capture to the thread
                    self._cap = None
                base_read += reader.read
                base_dropped += reader.dropped
                base_decode += reader.decode_s
                st["frames_read"], st["frames_dropped"], st["decode_s"] = base_read, base_dropped, base_decode
            if paced:
                st["ended"] = "end"
                return
            if not self._reopen():
                st["ended"] = "dropped"
                logger.warning("%s: the stream stopped after %d frames", self.name, base_read)
                return

    def _reopen(self) -> bool:
        """Open the source again (after a drop); False when ``reconnect`` attempts are used up."""
        if self._cap is not None:
            self._cap.release()
            self._cap = None
        while self.stats["reconnects"] < self.reconnect:
            self.stats["reconnects"] += 1
            logger.warning(
                "%s: the stream stopped; reconnecting (%d of %d)",
                self.name,
                self.stats["reconnects"],
                self.reconnect,
            )
            time.sleep(self.reconnect_delay)
            try:
                self._cap = open_capture(self.kind, self._target, self.name, self.open_timeout)
                return True
            except VideoReadError as exc:
                logger.warning("%s", exc)
        return False

    def _pose(
        self, index: int, t: float, rgb: np.ndarray, c0: float, decode: float, skipped: int
    ) -> PoseRecord:
        import mediapipe as mp

        p0 = time.perf_counter()
        handle = self._handle
        ts = max(round(t * 1000.0), handle.last_ts + 1)
        handle.last_ts = ts
        res = handle.landmarker.detect_for_video(mp.Image(image_format=mp.ImageFormat.SRGB, data=rgb), ts)
        if res.pose_landmarks:
            img, vis, pres = _landmark_arrays(res.pose_landmarks)
            world, _, _ = _landmark_arrays(res.pose_world_landmarks)
            conf = np.nan_to_num(vis, nan=1.0) * np.nan_to_num(pres, nan=1.0)
        else:
            img = world = np.empty((0, 33, 3))
            conf = np.empty((0, 33))
        h, w = rgb.shape[:2]
        if self._tracker is None:
            ids: list = [0] * len(img)
        else:
            ids = self._tracker.update(
                self.stats["frames_posed"],
                img[:, :, :2] * np.array([w / h, 1.0]),
                scores=np.nanmean(conf, axis=1) if len(conf) else None,
            )
        keep = [k for k, i in enumerate(ids) if i is not None]
        pose_s = time.perf_counter() - p0
        self.stats["frames_posed"] += 1
        self.stats["pose_s"] += pose_s
        return PoseRecord(
            frame=int(index),
            time=float(t),
            individuals=tuple(int(ids[k]) for k in keep),
            world=world[keep],
            confidence=conf[keep],
            image=img[keep],
            latency={"decode": float(decode), "pose": float(pose_s)},
            captured=float(c0),
            skipped=int(skipped),
            width=int(w),
            height=int(h),
            rgb=rgb if self.keep_frames else None,
        )


def stream(
    source: Any,
    *,
    model: str | os.PathLike | bytes | None = None,
    variant: str = "full",
    pose_fps: float | None = None,
    num_poses: int = 1,
    min_pose_detection_confidence: float = 0.5,
    min_pose_presence_confidence: float = 0.5,
    min_tracking_confidence: float = 0.5,
    max_track_distance: float = 0.5,
    max_track_gap: float = 1.0,
    fps: float | None = None,
    realtime: bool | None = None,
    reconnect: int = 0,
    reconnect_delay: float = 1.0,
    open_timeout: float = 10.0,
    max_frames: int | None = None,
    keep_frames: bool = False,
) -> PoseStream:
    """Open a live source and iterate the poses of its frames as they arrive.

    Parameters
    ----------
    source : int, str or path
        A camera index (``0`` or ``"0"``; also ``/dev/videoN``), a stream URL
        that OpenCV opens (``rtsp://``, ``http://``, ...) or a video file.
    model : path, bytes or {"lite", "full", "heavy"}, optional
        The MediaPipe Pose Landmarker bundle (see :func:`skelbehave.pose.resolve_model`).
    variant : {"lite", "full", "heavy"}
        Official model used when ``model`` is not given.
    pose_fps : float, optional
        Run the pose model at most this many times per second of source time
        (frames in between are skipped). Default: every frame.
    num_poses : int
        Most people to find per frame (as in :func:`skelbehave.pose.extract`).
    min_pose_detection_confidence, min_pose_presence_confidence, min_tracking_confidence : float
        MediaPipe's thresholds.
    max_track_distance : float
        Identity gate of the tracker, in person sizes (``num_poses > 1``).
    max_track_gap : float
        Seconds a person may go unseen and keep the identity (``num_poses > 1``).
    fps : float, optional
        Frame rate; overrides the source's (a file needs one; a live source's
        record times come from the wall clock whatever it reports).
    realtime : bool, optional
        Keep only the newest frame and drop those the pose model has no time
        for. Default: True for cameras and URLs; False for files, which are
        read frame by frame as fast as the machine goes (``True`` plays a
        file at its frame rate, as a camera would deliver it).
    reconnect : int
        Times a live source that stops is opened again (after
        ``reconnect_delay`` seconds) before the stream ends.
    reconnect_delay : float
        Seconds to wait before opening again.
    open_timeout : float
        Seconds OpenCV may take to open a URL or camera, and to read a frame from it.
    max_frames : int, optional
        Stop after this many frames of the source.
    keep_frames : bool
        Attach each posed frame (RGB) to its record (``PoseRecord.rgb``), for drawing.

    Returns
    -------
    PoseStream
        Iterable once; :class:`PoseRecord` per posed frame. ``info`` holds
        the source's frame rate and size, ``stats`` running totals. The
        source and the pose model are released when the iteration ends or
        :meth:`PoseStream.close` is called (also as a context manager).

    Raises
    ------
    VideoReadError
        The camera, URL or file cannot be opened, or yields no frame (the
        message names the source).
    ParameterError
        A bad option.

    Examples
    --------
    >>> from skelbehave.pose import stream
    >>> with stream("../shared/videos/person01_boxing_d2_uncomp.mp4", pose_fps=5, max_frames=50,
    ...             model="../shared/models/pose_landmarker_full.task") as s:
    ...     records = list(s)
    >>> [r.frame for r in records]
    [0, 5, 10, 15, 20, 25, 30, 35, 40, 45]
    >>> records[-1].world.shape, records[-1].individuals, s.info["fps"], s.stats["frames_skipped"]
    ((1, 33, 3), (0,), 25.0, 40)
    """
    return PoseStream(
        source,
        model=model,
        variant=variant,
        pose_fps=pose_fps,
        num_poses=num_poses,
        min_pose_detection_confidence=min_pose_detection_confidence,
        min_pose_presence_confidence=min_pose_presence_confidence,
        min_tracking_confidence=min_tracking_confidence,
        max_track_distance=max_track_distance,
        max_track_gap=max_track_gap,
        fps=fps,
        realtime=realtime,
        reconnect=reconnect,
        reconnect_delay=reconnect_delay,
        open_timeout=open_timeout,
        max_frames=max_frames,
        keep_frames=keep_frames,
    )
