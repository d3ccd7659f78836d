"""Live frame sources for :func:`skelbehave.pose.stream`: open, sample, read the newest frame, draw.

- :func:`parse_source`: what a source names (camera index, URL, file).
- :func:`open_capture`: an opened ``cv2.VideoCapture`` with open / read timeouts, or one clear
  :class:`~skelbehave.errors.VideoReadError` naming the source.
- :class:`Sampler`: which frames the pose model sees at ``pose_fps``.
- :class:`LatestFrame`: a reader thread that keeps only the newest frame (bounded memory).
- :func:`draw_record`: a record's skeletons and labels drawn on its frame.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

from .._util.optional import require
from ..errors import ParameterError, VideoReadError

__all__ = [
    "LatestFrame",
    "LiveWindow",
    "PALETTE",
    "Sampler",
    "draw_record",
    "open_capture",
    "open_window",
    "parse_source",
]

logger = logging.getLogger(__name__)


def _cv2():
    return require("cv2", "video", "reading live video")


def parse_source(source: Any) -> tuple[str, Any, str]:
    """What a source names: ``(kind, target, name)``, kind ``"camera"``, ``"url"`` or ``"file"``.

    Examples
    --------
    >>> parse_source(0), parse_source("1")[:2], parse_source("rtsp://cam.local/live")[0]
    (('camera', 0, 'camera 0'), ('camera', 1), 'url')
    >>> parse_source("clip.mp4")
    ('file', PosixPath('clip.mp4'), 'clip.mp4')
    """
    if isinstance(source, bool):
        raise ParameterError(f"source must be a camera index, a stream URL or a video file, got {source!r}")
    if isinstance(source, (int, np.integer)):
        if source < 0:
            raise ParameterError(f"a camera index must be >= 0, got {source}")
        return "camera", int(source), f"camera {int(source)}"
    if isinstance(source, str) and source.strip().isdigit():
        return "camera", int(source.strip()), f"camera {int(source.strip())}"
    if isinstance(source, str) and "://" in source:
        return "url", source, source
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if str(path).startswith("/dev/video"):
            return "camera", str(path), str(path)
        return "file", path, str(path)
    raise ParameterError(
        f"source must be a camera index, a stream URL or a video file, got {type(source).__name__}"
    )


def open_capture(kind: str, target: Any, name: str, open_timeout: float):
    """An opened ``cv2.VideoCapture`` (OpenCV's own warnings silenced), or VideoReadError."""
    from .quiet import wants_native_logs

    if not wants_native_logs():  # FFmpeg's own lines ("[tcp @ 0x...] Connection refused"), read once
        os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")
    cv2 = _cv2()
    ms = int(max(1.0, open_timeout * 1000))
    params = [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, ms, cv2.CAP_PROP_READ_TIMEOUT_MSEC, ms]
    log = getattr(getattr(cv2, "utils", None), "logging", None)
    level = log.getLogLevel() if log is not None else None
    if log is not None:
        log.setLogLevel(log.LOG_LEVEL_SILENT)
    try:
        if kind == "url":
            cap = cv2.VideoCapture(target, cv2.CAP_FFMPEG, params)
        elif kind == "camera":
            cap = cv2.VideoCapture(target, cv2.CAP_ANY, params)
        else:
            cap = cv2.VideoCapture(str(target), cv2.CAP_ANY)
        opened = cap.isOpened()
    finally:
        if log is not None:
            log.setLogLevel(level)
    if not opened:
        cap.release()
        why = {
            "camera": "cannot be opened: no such camera, or it is in use",
            "url": f"cannot be opened (unreachable, refused, or not a stream OpenCV reads; waited at most "
            f"{open_timeout:g} s)",
            "file": "cannot be opened as a video (not a video file, or a codec OpenCV lacks)",
        }[kind]
        raise VideoReadError("unreadable", why, path=name)
    return cap


class Sampler:
    """Which frames the pose model sees: at most ``pose_fps`` per second of source time.

    Examples
    --------
    >>> s = Sampler(10)
    >>> [k for k in range(25) if s.due(k / 25)]  # 25 fps source, 10 poses a second
    [0, 3, 5, 8, 10, 13, 15, 18, 20, 23]
    """

    def __init__(self, pose_fps: float | None) -> None:
        self.period = 0.0 if pose_fps is None else 1.0 / pose_fps
        self.next: float | None = None

    def due(self, t: float) -> bool:
        if self.period == 0.0:
            return True
        if self.next is None or t + 1e-6 >= self.next:
            behind = self.next is None or t - self.next >= self.period
            self.next = t + self.period if behind else self.next + self.period
            return True
        return False


class LatestFrame:
    """A reader thread that keeps only the newest frame of a capture (older ones are dropped).

    ``clock`` says where a frame's source time comes from: ``"wall"`` (a
    camera: seconds since ``t0``), ``"stream"`` (a URL: the stream's own
    timestamps, and frames that arrive ahead of them, as a file served over
    HTTP does, are held back until their time, so the source plays in real
    time; the wall clock where the stream has no usable timestamps) or
    ``"fps"`` (a file played as if live: frame k at ``k / fps``).
    """

    def __init__(
        self,
        cap,
        *,
        first_index: int,
        t0: float,
        clock: str,
        fps: float | None = None,
        pos0: float | None = None,
        tbase: float | None = None,
    ) -> None:
        self.cap = cap
        self.cond = threading.Condition()
        self.slot: tuple | None = None  # (index, time, bgr, captured, decode seconds)
        self.ended = False
        self.stop = False
        self.dropped = 0
        self.decode_s = 0.0
        self.read = 0
        self._index = first_index
        self._t0 = t0
        self._clock = clock
        self._fps = fps
        self._pos0 = pos0  # stream timestamp (s) of the frame at source time tbase
        self._tbase = tbase
        self._last_t = -1.0
        self.thread = threading.Thread(target=self._run, name="skelbehave-stream-reader", daemon=True)
        self.thread.start()

    def _wait_until(self, t: float) -> None:
        wait = min(1.0, self._t0 + t - time.monotonic())
        if wait > 0:
            time.sleep(wait)

    def _time(self) -> float:
        """Source time of the frame just read (after holding it back to its time, for ``"stream"``)."""
        now = time.monotonic() - self._t0
        t = now
        if self._clock == "stream":
            cv2 = _cv2()
            pos = self.cap.get(cv2.CAP_PROP_POS_MSEC) / 1000.0
            if pos == pos and pos >= 0:  # a usable timestamp (NaN fails)
                if self._pos0 is None or self._tbase is None:  # the first timestamp of a (re)opened stream
                    self._pos0, self._tbase = pos, now
                if pos >= self._pos0:
                    t = self._tbase + (pos - self._pos0)
                    self._wait_until(t)
        return max(t, self._last_t + 1e-3)

    def _run(self) -> None:
        try:
            while not self.stop:
                if self._clock == "fps":  # frame k is available at t0 + k / fps
                    self._wait_until(self._index / self._fps)
                c0 = time.perf_counter()
                ok, bgr = self.cap.read()
                dt = time.perf_counter() - c0
                if not ok or bgr is None:
                    break
                t = self._index / self._fps if self._clock == "fps" else self._time()
                self._last_t = t
                with self.cond:
                    self.read += 1
                    self.decode_s += dt
                    if self.slot is not None:
                        self.dropped += 1
                    self.slot = (self._index, t, bgr, c0, dt)
                    self.cond.notify()
                self._index += 1
        except Exception as exc:  # pragma: no cover - a driver error ends the stream like a drop
            logger.warning("reading the live source failed: %s", exc)
        finally:
            with self.cond:
                self.ended = True
                self.cond.notify()

    def take(self, timeout: float) -> tuple | None:
        """The newest frame, waiting for one; None when the source has ended."""
        with self.cond:
            while self.slot is None and not self.ended:
                self.cond.wait(timeout)
            item, self.slot = self.slot, None
            return item

    def close(self) -> bool:
        """Stop the thread; False when it is still blocked in a read after 5 s."""
        self.stop = True
        self.thread.join(timeout=5.0)
        return not self.thread.is_alive()


#: BGR colours, one per individual (cycled)
PALETTE = [(0, 200, 255), (255, 120, 0), (80, 220, 80), (200, 80, 255), (0, 80, 255), (255, 255, 0)]


def draw_record(
    record, labels: dict | None = None, *, min_confidence: float = 0.3, thickness: int = 2
) -> np.ndarray:
    """The record's frame (BGR, for OpenCV) with each individual's skeleton, id and current label.

    Parameters
    ----------
    record : PoseRecord
        A record of a stream opened with ``keep_frames=True``.
    labels : dict, optional
        Individual -> label to print next to it.
    min_confidence : float
        Joints below this confidence are not drawn.
    thickness : int
        Line width in pixels.

    Examples
    --------
    >>> from skelbehave.pose.live import PoseRecord
    >>> rec = PoseRecord(0, 0.0, (0,), np.zeros((1, 33, 3)), np.ones((1, 33)), np.full((1, 33, 3), 0.5),
    ...                  {}, 0.0, 0, 8, 6, rgb=np.zeros((6, 8, 3), np.uint8))
    >>> draw_record(rec, {0: "boxing"}).shape
    (6, 8, 3)
    """
    from ..layouts import get_layout

    cv2 = _cv2()
    if record.rgb is None:
        raise ParameterError("the record holds no frame: open the stream with keep_frames=True")
    img = cv2.cvtColor(record.rgb, cv2.COLOR_RGB2BGR)
    h, w = img.shape[:2]
    scale = max(h, w) / 640
    th = max(1, round(thickness * max(scale, 0.5)))
    bones = get_layout("mediapipe33").bone_indices
    labels = labels or {}
    for k, ind in enumerate(record.individuals):
        pts = record.image[k, :, :2] * (w, h)
        ok = np.isfinite(pts).all(axis=1) & (record.confidence[k] >= min_confidence)
        if not ok.any():
            continue
        colour = PALETTE[ind % len(PALETTE)]
        for a, b in bones:
            if ok[a] and ok[b]:
                pa, pb = np.round(pts[a]).astype(int), np.round(pts[b]).astype(int)
                cv2.line(img, (int(pa[0]), int(pa[1])), (int(pb[0]), int(pb[1])), colour, th, cv2.LINE_AA)
        top = pts[ok][np.argmin(pts[ok][:, 1])]
        lab = labels.get(ind)
        text = str(ind) + (f": {lab}" if lab is not None else "")
        org = (round(float(top[0])), max(12, round(float(top[1]) - 6 * scale)))
        cv2.putText(img, text, org, cv2.FONT_HERSHEY_SIMPLEX, 0.45 * max(scale, 0.6), colour, max(1, th - 1))
    return img


class LiveWindow:
    """An OpenCV window showing records as they come (see :func:`open_window`)."""

    def __init__(self, title: str) -> None:
        self.title = title

    def show(self, record, labels: dict | None = None) -> bool:
        """Draw ``record``; False once the user pressed q / Esc or closed the window."""
        cv2 = _cv2()
        cv2.imshow(self.title, draw_record(record, labels))
        key = cv2.waitKey(1) & 0xFF
        if key in (27, ord("q")):
            return False
        try:
            return cv2.getWindowProperty(self.title, cv2.WND_PROP_VISIBLE) >= 1
        except cv2.error:  # pragma: no cover - backends without the property
            return True

    def close(self) -> None:
        cv2 = _cv2()
        try:
            cv2.destroyWindow(self.title)
            cv2.waitKey(1)
        except cv2.error:  # pragma: no cover - already gone
            pass


def open_window(title: str = "skelbehave watch") -> tuple[LiveWindow | None, str | None]:
    """A window to show records in, or ``(None, why not)`` when there is no display or no GUI.

    Examples
    --------
    >>> import os
    >>> if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
    ...     print(open_window()[1])
    ... else:
    ...     print("no display (DISPLAY is not set)")
    no display (DISPLAY is not set)
    """
    if sys.platform.startswith("linux") and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    ):
        return None, "no display (DISPLAY is not set)"
    cv2 = _cv2()
    try:
        cv2.namedWindow(title, cv2.WINDOW_NORMAL)
    except cv2.error:
        return None, "this OpenCV build has no GUI support (a headless build)"
    return LiveWindow(title), None
