"""Exception types of skelbehave.

Every error a user can cause with bad input derives from :class:`SkelbehaveError`,
so ``except skelbehave.SkelbehaveError`` catches all of them.
"""

from __future__ import annotations

__all__ = [
    "SkelbehaveError",
    "PoseDataError",
    "PoseFileNotFoundError",
    "LayoutError",
    "ModelFileError",
    "MissingDependencyError",
    "BatchItemError",
    "ParameterError",
    "ParameterTypeError",
    "NoPoseError",
    "NoPoseWarning",
    "UnknownDatasetError",
    "VideoReadError",
    "PoseModelNotFoundError",
    "PoseModelChecksumError",
    "OutputFolderBusyError",
    "ManifestError",
]


class SkelbehaveError(Exception):
    """Base class of every exception raised by skelbehave on purpose."""


class PoseDataError(SkelbehaveError, ValueError):
    """Pose data that cannot be read or does not fit what was expected.

    The message names the file (when there is one), the line, column or joint,
    what was expected and what was found.

    Parameters
    ----------
    message : str
        What was expected and what was found.
    path : str or path-like, optional
        The file being read.
    line : int, optional
        1-based line number in the file.
    column : str or int, optional
        Column name or 1-based column number.

    Examples
    --------
    >>> err = PoseDataError("expected 60 numbers, found 59", path="a.csv", line=3)
    >>> str(err)
    'a.csv, line 3: expected 60 numbers, found 59'
    """

    def __init__(
        self,
        message: str,
        *,
        path: object | None = None,
        line: int | None = None,
        column: object | None = None,
    ) -> None:
        self.path = None if path is None else str(path)
        self.line = line
        self.column = column
        self.reason = message
        where = []
        if self.path is not None:
            where.append(self.path)
        if line is not None:
            where.append(f"line {line}")
        if column is not None:
            where.append(f"column {column!r}" if isinstance(column, str) else f"column {column}")
        prefix = ", ".join(where)
        super().__init__(f"{prefix}: {message}" if prefix else message)

    def __reduce__(self):  # keep keyword arguments when pickled across processes
        return (_rebuild_pose_error, (self.reason, self.path, self.line, self.column))


def _rebuild_pose_error(reason, path, line, column, cls=None):
    return (cls or PoseDataError)(reason, path=path, line=line, column=column)


class PoseFileNotFoundError(PoseDataError, FileNotFoundError):
    """A pose file or dataset folder that does not exist.

    Caught by ``except PoseDataError`` and by ``except FileNotFoundError``.

    Examples
    --------
    >>> str(PoseFileNotFoundError("no such file", path="a.csv"))
    'a.csv: no such file'
    """

    def __reduce__(self):
        return (_rebuild_pose_error, (self.reason, self.path, self.line, self.column, PoseFileNotFoundError))


class LayoutError(SkelbehaveError, ValueError):
    """An unknown layout name, or joints/groups that do not fit a layout."""


class ModelFileError(SkelbehaveError, ValueError):
    """A saved model file that is truncated, tampered with, or of a newer format."""


class MissingDependencyError(SkelbehaveError, ImportError):
    """An optional dependency is needed; the message says how to install it."""


class BatchItemError(SkelbehaveError):
    """An expected, per-item failure with a short machine-readable ``reason``.

    ``func`` raises it for a bad input it recognises (an unreadable video,
    no frames, ...); :func:`run_batch` records ``status="failed"``, the
    ``reason`` and the message, and goes on with the next item. Any other
    exception is recorded the same way with its class name as the reason.

    Parameters
    ----------
    reason : str
        Short code, e.g. ``"unreadable"``, ``"zero_frames"``, ``"no_person"``.
    message : str
        Human-readable explanation (names the file).

    Examples
    --------
    >>> err = BatchItemError("zero_frames", "a.mp4: the video has no frames")
    >>> err.reason, str(err)
    ('zero_frames', 'a.mp4: the video has no frames')
    """

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message

    def __reduce__(self):  # keep both arguments across processes
        return (BatchItemError, (self.reason, self.message))


class OutputFolderBusyError(SkelbehaveError):
    """Another process is writing the same output folder (see ``_util.fs.folder_lock``)."""


class ManifestError(SkelbehaveError, ValueError):
    """A batch manifest (``manifest.csv``) that cannot be read: damaged, or not a manifest."""


class ParameterError(SkelbehaveError, ValueError):
    """A parameter value the function does not accept: an unknown name, a value out of range.

    Examples
    --------
    >>> issubclass(ParameterError, ValueError)
    True
    """


class ParameterTypeError(SkelbehaveError, TypeError):
    """A parameter of the wrong type (a string where a mapping is expected, an unknown keyword).

    Examples
    --------
    >>> issubclass(ParameterTypeError, TypeError)
    True
    """


class NoPoseError(PoseDataError):
    """A sequence with no valid frame (every frame missing or all-zero) where a pose is required.

    Raised when no training sequence holds a pose, and when predicting with
    ``no_pose="error"``; by default predictions mark these sequences
    (label :data:`skelbehave.temporal.NO_POSE`, probabilities NaN) instead.

    Examples
    --------
    >>> str(NoPoseError("item 3: no valid frame"))
    'item 3: no valid frame'
    """

    def __reduce__(self):
        return (_rebuild_pose_error, (self.reason, self.path, self.line, self.column, NoPoseError))


class NoPoseWarning(UserWarning):
    """Training sequences without a pose were left out (the message names them).

    Examples
    --------
    >>> issubclass(NoPoseWarning, UserWarning)
    True
    """


class UnknownDatasetError(ParameterError):
    """A data set name that is not in the registry (:data:`skelbehave.datasets.DATASETS`).

    Examples
    --------
    >>> str(UnknownDatasetError("unknown data set 'kth'"))
    "unknown data set 'kth'"
    """


class VideoReadError(PoseDataError):
    """A video or image source that cannot be read.

    ``kind`` is ``"unreadable"`` (missing file, not a video, unknown codec),
    ``"zero_frames"`` (opens but yields no frame) or ``"corrupt"`` (decoding
    stops well before the frame count the container declares).

    Examples
    --------
    >>> err = VideoReadError("zero_frames", "the video has no frames", path="a.mp4")
    >>> err.kind, str(err)
    ('zero_frames', 'a.mp4: the video has no frames')
    """

    def __init__(self, kind: str, message: str, *, path: object | None = None) -> None:
        super().__init__(message, path=path)
        self.kind = kind

    def __reduce__(self):
        return (_rebuild_video_error, (self.kind, self.reason, self.path))


def _rebuild_video_error(kind, message, path):
    return VideoReadError(kind, message, path=path)


class PoseModelNotFoundError(SkelbehaveError, FileNotFoundError):
    """No pose model file could be found or downloaded; the message says where to put one."""


class PoseModelChecksumError(ModelFileError):
    """A downloaded (or cached) model file whose size or SHA-256 is not the published one."""
