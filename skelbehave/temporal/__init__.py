"""Time: windows over frames and segments of labelled frames.

Examples
--------
>>> from skelbehave.temporal import sliding_windows
>>> len(sliding_windows([10], length=5, stride=5))
3
"""

from .context import CONTEXT_STATS, context_statistics, moving_mean
from .presence import ABSENT, NO_POSE, has_pose, present_frames, stretches
from .segments import (
    absent_labels,
    bout_table,
    median_smooth,
    min_bout_length,
    runs,
    segment_frames,
    segments,
)
from .windows import Windows, aggregate_windows, sliding_windows, to_frames, window_labels

__all__ = [
    "ABSENT",
    "CONTEXT_STATS",
    "context_statistics",
    "moving_mean",
    "NO_POSE",
    "has_pose",
    "present_frames",
    "stretches",
    "Windows",
    "absent_labels",
    "aggregate_windows",
    "bout_table",
    "median_smooth",
    "min_bout_length",
    "runs",
    "segment_frames",
    "segments",
    "sliding_windows",
    "to_frames",
    "window_labels",
]
