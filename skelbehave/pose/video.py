"""Frame sources for pose extraction: a video file, an image folder or an iterable of frames.

:func:`iter_frames` opens any of them and yields RGB frames; the extraction
(:func:`skelbehave.pose.extract`) can ask a source to decode only some of its
frames (``--pose-fps`` sampling): the others are skipped without colour
conversion (videos: grabbed, not retrieved; image folders: not read).
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .._util.optional import require
from ..errors import PoseDataError, VideoReadError

__all__ = ["IMAGE_SUFFIXES", "NOMINAL_FPS", "iter_frames"]

#: Frame rate used for MediaPipe's internal timestamps when a source has no
#: known frame rate (image folders and frame iterables without ``fps=``).
#: Only MediaPipe's frame-to-frame tracking sees it; the sequences returned
#: then have ``fps=None``.
NOMINAL_FPS = 30.0
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")


def _cv2():
    return require("cv2", "video", "video decoding")


# ----------------------------------------------------------------------------- frame sources
@dataclass
class _Source:
    frames: Iterator[np.ndarray]  # RGB uint8 (H, W, 3)
    name: str
    fps: float | None  # frame rate of the output sequences (None = unknown)
    expected: int | None  # frame count declared by the container
    kind: str  # "video" | "images" | "frames"
    info: dict = field(default_factory=dict)
    # [keep(index) -> bool], set before the first frame is read: frames it refuses are skipped
    # cheaply and yielded as None (None in the cell: every frame is decoded)
    select: list = field(default_factory=lambda: [None])

    def only(self, keep: Callable[[int], bool] | None) -> None:
        """Decode only the frames for which ``keep(index)`` is true; the others come as ``None``."""
        self.select[0] = keep


def _to_rgb(frame: Any, bgr: bool, index: int, name: str) -> np.ndarray:
    cv2 = _cv2()
    a = np.asarray(frame)
    if a.dtype != np.uint8:
        if np.issubdtype(a.dtype, np.floating) and a.size and np.nanmax(a) <= 1.0:
            a = np.clip(a * 255.0, 0, 255)
        a = np.clip(a, 0, 255).astype(np.uint8)
    if a.ndim == 2:
        return cv2.cvtColor(a, cv2.COLOR_GRAY2RGB)
    if a.ndim != 3 or a.shape[2] not in (3, 4):
        raise PoseDataError(
            f"frame {index}: expected an image (H, W), (H, W, 3) or (H, W, 4), found {a.shape}", path=name
        )
    if a.shape[2] == 4:
        a = cv2.cvtColor(a, cv2.COLOR_BGRA2RGB if bgr else cv2.COLOR_RGBA2RGB)
    elif bgr:
        a = cv2.cvtColor(a, cv2.COLOR_BGR2RGB)
    return np.ascontiguousarray(a)


def _open_video(path: Path, fps: float | None) -> _Source:
    cv2 = _cv2()
    if not path.exists():
        raise VideoReadError("unreadable", "no such file", path=path)
    cap = cv2.VideoCapture(str(path))
    if not cap.isOpened():
        cap.release()
        raise VideoReadError(
            "unreadable", "cannot be opened as a video (not a video file, or a codec OpenCV lacks)", path=path
        )
    container_fps = float(cap.get(cv2.CAP_PROP_FPS) or 0.0)
    count = int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
    width = int(cap.get(cv2.CAP_PROP_FRAME_WIDTH) or 0)
    height = int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT) or 0)
    if fps is None:
        if not (math.isfinite(container_fps) and 0 < container_fps < 10_000):
            cap.release()
            raise PoseDataError(
                f"the video container reports no usable frame rate (found {container_fps}); pass fps=... "
                "(skelbehave never guesses it)",
                path=path,
            )
        fps = container_fps

    select: list = [None]

    def frames() -> Iterator[np.ndarray | None]:
        try:
            i = 0
            while True:
                keep = select[0]
                if keep is not None and not keep(i):
                    if not cap.grab():  # decoded, never converted
                        return
                    yield None
                else:
                    ok, bgr = cap.read()
                    if not ok:
                        return
                    yield cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
                i += 1
        finally:
            cap.release()

    return _Source(
        frames(),
        str(path),
        fps,
        count if count > 0 else None,
        "video",
        {"container_fps": container_fps, "width": width, "height": height},
        select,
    )


def _open_folder(path: Path, fps: float | None) -> _Source:
    cv2 = _cv2()
    files = sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
    if not files:
        raise VideoReadError(
            "zero_frames", f"no image files ({', '.join(IMAGE_SUFFIXES)}) in the folder", path=path
        )

    select: list = [None]

    def frames() -> Iterator[np.ndarray | None]:
        for i, f in enumerate(files):
            if select[0] is not None and not select[0](i):
                yield None  # never read
                continue
            bgr = cv2.imread(str(f), cv2.IMREAD_COLOR)
            if bgr is None:
                raise VideoReadError("unreadable", "cannot be read as an image", path=f)
            yield cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)

    return _Source(
        frames(), str(path), fps, len(files), "images", {"files": [f.name for f in files]}, select
    )


def iter_frames(
    source: Any, *, fps: float | None = None, bgr: bool = False
) -> tuple[Iterator[np.ndarray], dict]:
    """Open a video file, an image folder or an iterable of frames; yield RGB frames.

    Parameters
    ----------
    source : path or iterable of arrays
        A video file, a folder of images (read in sorted file-name order),
        or frames (``(H, W, 3)`` RGB uint8; ``bgr=True`` for OpenCV's order).
    fps : float, optional
        Frame rate; overrides the container's.
    bgr : bool
        Frames given as an iterable are BGR (OpenCV order).

    Returns
    -------
    frames : iterator of ndarray
        RGB uint8 frames.
    info : dict
        ``name``, ``fps`` (None when unknown), ``expected`` (declared frame
        count or None), ``kind`` and source-specific fields.

    Examples
    --------
    >>> import numpy as np
    >>> frames, info = iter_frames([np.zeros((4, 6, 3), np.uint8)] * 2, fps=10)
    >>> [f.shape for f in frames], info["fps"], info["kind"]
    ([(4, 6, 3), (4, 6, 3)], 10.0, 'frames')
    """
    src = _open(source, fps, bgr)
    return src.frames, {
        "name": src.name,
        "fps": src.fps,
        "expected": src.expected,
        "kind": src.kind,
        **src.info,
    }


def _open(source: Any, fps: float | None, bgr: bool) -> _Source:
    if fps is not None:
        fps = float(fps)
        if not (math.isfinite(fps) and fps > 0):
            raise PoseDataError(f"fps must be a positive number, got {fps}")
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if path.is_dir():
            return _open_folder(path, fps)
        return _open_video(path, fps)
    if isinstance(source, np.ndarray):  # (T, H, W[, C]): frames along the first axis
        source = list(source)
    if not isinstance(source, Iterable):
        raise TypeError(
            f"source must be a video path, an image folder or an iterable of frames, got {source!r}"
        )
    name = "<frames>"
    select: list = [None]
    frames = (
        None if select[0] is not None and not select[0](i) else _to_rgb(f, bgr, i, name)
        for i, f in enumerate(source)
    )
    size = len(source) if hasattr(source, "__len__") else None
    return _Source(frames, name, fps, size, "frames", {}, select)
