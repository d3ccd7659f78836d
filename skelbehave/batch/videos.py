"""Videos among the inputs of a scoring run: found, their poses extracted once into ``<out>/poses/``.

:func:`~skelbehave.batch.score_files` takes pose files, videos and
image-sequence folders, mixed. :func:`find_inputs` picks them out of the
paths, folders and patterns given; :func:`extract_videos` runs
:func:`skelbehave.pose.extract_many` on the videos (resumable, with its own
manifest in ``<out>/poses/manifest.csv``) and says, for each video, which
pose file to score or why there is none.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from .._util.fs import expand_inputs
from ..errors import SkelbehaveError
from ..pose.batch import VIDEO_SUFFIXES

__all__ = ["INPUT_SUFFIXES", "POSE_FILE_SUFFIXES", "extract_videos", "find_inputs", "is_video"]

#: Suffixes of pose files a folder contributes (each only when :func:`skelbehave.io.detect_format`
#: recognises the file: a stray ``labels.csv`` or ``notes.txt`` is left out).
POSE_FILE_SUFFIXES = (".csv", ".skeleton", ".txt", ".h5", ".slp", ".nwb", ".json", ".nc")


#: Everything a folder may contribute: pose files and videos.
INPUT_SUFFIXES = POSE_FILE_SUFFIXES + VIDEO_SUFFIXES


def is_video(path: str | os.PathLike) -> bool:
    """Whether an input is a video (by its suffix) or an image-sequence folder.

    Examples
    --------
    >>> is_video("a/clip.MP4"), is_video("a/poses.csv")
    (True, False)
    """
    p = Path(path)
    return p.suffix.lower() in VIDEO_SUFFIXES or p.is_dir()


def _is_image_folder(path: Path) -> bool:
    from ..pose.video import IMAGE_SUFFIXES

    with contextlib.suppress(OSError):
        return any(q.suffix.lower() in IMAGE_SUFFIXES and q.is_file() for q in path.iterdir())
    return False


def _recognised(path: Path) -> bool:
    """A video by its suffix, or a pose file whose format the detector recognises."""
    if path.suffix.lower() in VIDEO_SUFFIXES:
        return True
    from ..io import detect_format

    try:
        detect_format(path)
    except (SkelbehaveError, OSError, ValueError):
        return False
    return True


def find_inputs(inputs: str | os.PathLike | Iterable[str | os.PathLike]) -> list[Path]:
    """Pose files, videos and image-sequence folders to score, from paths, folders and patterns.

    A file named explicitly is taken as given. A folder contributes the pose
    files (:data:`POSE_FILE_SUFFIXES`, recognised by
    :func:`skelbehave.io.detect_format`) and videos directly inside it, never
    the package's manifests, image-landmark pose files, predictions or other
    stray files; a folder holding only images is one image sequence.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "a.pose.csv").write_text("# skelbehave-pose-csv v1\\n")
    >>> for n in ("clip.avi", "manifest.csv", "a.image.pose.csv", "labels.csv", "notes.txt"):
    ...     _ = (d / n).write_text("x")
    >>> [p.name for p in find_inputs(d)]
    ['a.pose.csv', 'clip.avi']
    """
    return expand_inputs(inputs, suffixes=INPUT_SUFFIXES, accept=_recognised, accept_folder=_is_image_folder)


def extract_videos(
    videos: list[Path],
    poses_dir: Path,
    *,
    pose_model: Any = None,
    num_poses: int = 1,
    pose_fps: float | None = None,
    min_track_frames: int | str | None = None,
    stitch_gap: int | str | None = None,
    jobs: int = 1,
    scheduler: Any = None,
    progress: bool = True,
    retry_failed: bool = False,
) -> dict[str, dict]:
    """Poses of videos for scoring: :func:`skelbehave.pose.extract_many` into ``poses_dir``, resumably.

    Image landmarks are written too (``<name>.image.pose.csv``), for ``skelbehave overlay``.

    Returns ``{video key (absolute path): {"status", "pose_file", "reason", "error"}}``;
    ``pose_file`` is set when the video is done. Videos that failed in an earlier run are not
    tried again unless ``retry_failed`` (their reason is kept: no person, not a video, ...).
    """
    from ..pose.batch import extract_many

    options = {
        k: v
        for k, v in {"min_track_frames": min_track_frames, "stitch_gap": stitch_gap}.items()
        if v is not None
    }
    table = extract_many(
        videos, poses_dir, model=pose_model, num_poses=num_poses, pose_fps=pose_fps, jobs=jobs,
        scheduler=scheduler, progress=progress, retry_failed=retry_failed, image_landmarks=True, **options,
    )  # fmt: skip
    out = {}
    for r in table.to_dict("records"):
        done = r.get("status") == "done"
        out[str(r["key"])] = {
            "status": r.get("status"),
            "pose_file": str(r["output"]) if done else None,
            "reason": "" if done else _text(r.get("reason")) or "extraction_failed",
            "error": "" if done else _text(r.get("error")),
        }
    return out


def _text(v: Any) -> str:
    return "" if v is None or (isinstance(v, float) and v != v) else str(v)
