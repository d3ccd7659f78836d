"""Pose extraction from video with MediaPipe: one clip or thousands.

- :func:`extract`: one video, image folder or frame iterable -> one
  :class:`~skelbehave.poses.PoseSequence` per tracked person.
- :func:`extract_many`: many videos -> one pose CSV each, in parallel
  processes or on a Dask cluster, with a resumable manifest.
- :func:`track_poses`: identities over a whole recording (tracking, stitching
  of fragments across losses, minimum track length); :func:`select_individuals`
  picks tracks.
- :func:`render_overlay`: skeletons (and each individual's label) drawn onto the video.
- :func:`resolve_model` / :func:`download_model`: where the model file comes from.

MediaPipe and OpenCV are imported on first use.
"""

from __future__ import annotations

from importlib import import_module

__all__ = [
    "PoseModelChecksumError",
    "PoseModelNotFoundError",
    "PoseTracker",
    "TrackingReport",
    "VideoReadError",
    "download_model",
    "extract",
    "extract_many",
    "render_overlay",
    "resolve_model",
    "select_individuals",
    "stream",
    "track_poses",
]

_WHERE = {
    "extract": "landmarker",
    "VideoReadError": "landmarker",
    "extract_many": "batch",
    "stream": "live",
    "render_overlay": "overlay",
    "PoseTracker": "tracking",
    "select_individuals": "tracking",
    "track_poses": "identities",
    "TrackingReport": "identities",
    "resolve_model": "models",
    "download_model": "models",
    "PoseModelNotFoundError": "models",
    "PoseModelChecksumError": "models",
}


def __getattr__(name: str):
    if name in _WHERE:
        return getattr(import_module(f".{_WHERE[name]}", __name__), name)
    raise AttributeError(f"module 'skelbehave.pose' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_WHERE))
