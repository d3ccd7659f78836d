"""``watch``: a live source (camera, stream URL, video file) scored as frames arrive.

:func:`watch` opens the source with :func:`skelbehave.pose.stream` and passes
every pose record to a :class:`~skelbehave.batch.live.LiveScorer`; iterating the
returned :class:`Watch` gives the scorer's events (see :mod:`skelbehave.batch.live`).
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Iterator
from typing import Any

from .live import LiveScorer, event_json, load_model
from .tables import is_frame_level

__all__ = ["Watch", "event_json", "watch"]


class Watch:
    """A source scored live; iterate it for events (see :func:`watch`).

    Attributes
    ----------
    stream : skelbehave.pose.live.PoseStream
        The opened source (``info``, ``stats``).
    scorer : LiveScorer
    """

    def __init__(
        self,
        source: Any,
        model,
        *,
        window: float | int | str = "2s",
        hop: float | int | str = "0.5s",
        pose_fps: float | None = None,
        pose_model: str | os.PathLike | bytes | None = None,
        leave_after: float | int | str = "1s",
        min_coverage: float = 0.5,
        on_record: Callable | None = None,
        n_jobs: int | None = 1,
        **stream_options: Any,
    ) -> None:
        from .._util.threads import resolve_n_jobs
        from ..pose.live import stream

        model = load_model(model)  # a bad model file fails before a camera is opened
        is_frame_level(model)
        self.n_jobs = resolve_n_jobs(n_jobs)
        self.stream = stream(
            source, model=pose_model, pose_fps=pose_fps, keep_frames=on_record is not None, **stream_options
        )
        try:
            self.scorer = LiveScorer(
                model,
                window=window,
                hop=hop,
                fps=self.stream.info["fps"],
                leave_after=leave_after,
                min_coverage=min_coverage,
                source=self.stream.info["name"],
            )
        except BaseException:
            self.stream.close()
            raise
        self.on_record = on_record
        self._last = None
        self._finished = False
        self._started: float | None = None
        self._stopped: float | None = None
        self._gen: Iterator[dict] | None = None

    def __iter__(self) -> Iterator[dict]:
        if self._gen is None:
            self._gen = self._events()
        return self._gen

    def _events(self) -> Iterator[dict]:
        from .._util.threads import limit_threads

        self._started = time.perf_counter()
        try:
            with limit_threads(self.n_jobs):
                for rec in self.stream:
                    self._last = rec
                    events = self.scorer.update(rec)
                    if self.on_record is not None and self.on_record(rec, self.scorer.labels()) is False:
                        yield from events
                        break
                    yield from events
        finally:
            self.stream.close()
            self._stopped = time.perf_counter()
        yield from self._finish()

    def _finish(self) -> list[dict]:
        if self._finished:
            return []
        self._finished = True
        return self.scorer.finish(self._last)

    def close(self) -> list[dict]:
        """Stop (e.g. after Ctrl-C): release the source; return the events ending the open bouts."""
        if self._gen is not None:
            self._gen.close()
        self.stream.close()
        if self._stopped is None:
            self._stopped = time.perf_counter()
        return self._finish()

    def __enter__(self) -> Watch:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def summary(self) -> dict:
        """Totals so far: frames read / posed / dropped, events, source and wall seconds, real-time factor."""
        st = self.stream.stats
        fps = self.stream.info["fps"]
        wall = (self._stopped or time.perf_counter()) - (self._started or time.perf_counter())
        if self._last is None:
            source_s = 0.0
        elif self.stream.realtime and self.stream.kind != "file":
            source_s = float(self._last.time)
        else:
            source_s = st["frames_read"] / fps if fps else float(self._last.time)
        return {
            "source": self.stream.info["name"],
            "frames_read": st["frames_read"],
            "frames_posed": st["frames_posed"],
            "frames_dropped": st["frames_dropped"],
            "events": self.scorer.n_events,
            "source_s": source_s,
            "wall_s": wall,
            "realtime_factor": source_s / wall if wall > 0 else math.nan,
            "ended": st["ended"],
        }


def watch(
    source: Any,
    model,
    *,
    window: float | int | str = "2s",
    hop: float | int | str = "0.5s",
    pose_fps: float | None = None,
    pose_model: str | os.PathLike | bytes | None = None,
    leave_after: float | int | str = "1s",
    min_coverage: float = 0.5,
    reconnect: int = 0,
    max_frames: int | None = None,
    on_record: Callable | None = None,
    n_jobs: int | None = 1,
    **stream_options: Any,
) -> Watch:
    """Score a video file, a camera or a stream URL live: pose -> window -> model -> events.

    Parameters
    ----------
    source : int, str or path
        Camera index, stream URL or video file (see :func:`skelbehave.pose.stream`).
    model : path or fitted model
        Any model :func:`skelbehave.load` reads (clip-level or frame-level), or a fitted one.
    window, hop : float, int or str
        Sliding window and time between scorings: seconds, ``"2s"``/``"500ms"``, or frames.
    pose_fps : float, optional
        Most pose-model runs per second of source time (default: every frame).
    pose_model : path, bytes or {"lite", "full", "heavy"}, optional
        The MediaPipe Pose Landmarker bundle.
    leave_after : float, int or str
        An individual unseen this long has left (its bout ends).
    min_coverage : float
        Share of the window an individual's poses must span before it is scored.
    reconnect : int
        Times a live source that stops is opened again.
    max_frames : int, optional
        Stop after this many source frames.
    on_record : callable, optional
        Called as ``on_record(record, labels)`` after each posed frame
        (``record.rgb`` holds the frame; ``labels`` maps individual -> current
        label); returning ``False`` stops (e.g. a display window closed).
    n_jobs : int
        Threads for the features and the model.
    **stream_options
        Further options of :func:`skelbehave.pose.stream` (``num_poses``, ``realtime``,
        ``open_timeout``, ...).

    Returns
    -------
    Watch
        Iterate it for events (dicts; :func:`event_json`); ``close()`` stops
        and returns the events ending open bouts; ``summary()`` the totals.

    Examples
    --------
    >>> from skelbehave.batch.live_watch import event_json, watch
    >>> w = watch("../shared/videos/person01_boxing_d2_uncomp.mp4", "boxing.skb", pose_fps=10,
    ...           pose_model="../shared/models/pose_landmarker_full.task")  # doctest: +SKIP
    >>> for event in w:  # doctest: +SKIP
    ...     print(event_json(event))
    """
    return Watch(
        source,
        model,
        window=window,
        hop=hop,
        pose_fps=pose_fps,
        pose_model=pose_model,
        leave_after=leave_after,
        min_coverage=min_coverage,
        reconnect=reconnect,
        max_frames=max_frames,
        on_record=on_record,
        n_jobs=n_jobs,
        **stream_options,
    )
