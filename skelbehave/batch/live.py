"""Live scoring: behaviour labels and bouts, as events, while the frames of a source arrive.

:class:`LiveScorer` keeps a bounded sliding window of poses per individual
(a :class:`collections.deque` trimmed to ``window`` seconds) and every ``hop``
seconds of source time labels each individual seen since the last hop:

- a clip-level model (:class:`~skelbehave.pipeline.BehaviorModel`, the CNN, any
  model with ``predict_proba`` over sequences) labels the window as a whole;
- a frame-level model (:class:`~skelbehave.pipeline.FrameLevelModel`) labels
  the window's frames; the event carries the mean probability over the frames
  of the last hop.

The window is put on a regular time grid (the model's training frame rate for a
frame-level model, the source's for a clip model) by linear interpolation
between posed frames, so ``pose_fps`` sampling and dropped frames give the
model evenly spaced frames; a loss longer than ``max(0.5 s, 3 samples)`` stays
absent. Poses are ``mediapipe33``; the models convert them to their own
layout through the common skeleton.

Each scoring emits events (dicts; :func:`event_json` makes a JSON line):
``{"time", "frame", "individual", "label", "score", "event", "latency_ms"}``
with ``event`` one of ``"label"`` (every hop), ``"bout_start"`` (the label
differs from the individual's previous one, or it is the first) and
``"bout_end"`` (the label changed, the individual has not been seen for
``leave_after`` seconds, or the stream ended; with ``start_time`` and
``duration``). ``latency_ms``: ``decode`` and ``pose`` of the frame that
triggered the scoring, ``features_model`` (features, encoding and the model
for every individual scored then) and ``total`` (from the moment the frame was
read to the event).

:func:`skelbehave.batch.live_watch.watch` runs a source (:func:`skelbehave.pose.stream`) through a scorer.
"""

from __future__ import annotations

import json
import logging
import math
import os
import time
from collections import deque

import numpy as np

from ..errors import ParameterError
from ..poses import PoseSequence
from .tables import is_frame_level

__all__ = ["EVENT_FIELDS", "LATENCY_FIELDS", "LiveScorer", "event_json", "to_seconds"]

logger = logging.getLogger(__name__)

EVENT_FIELDS = ("time", "frame", "individual", "label", "score", "event", "latency_ms")
LATENCY_FIELDS = ("decode", "pose", "features_model", "total")


def to_seconds(value: float | int | str, fps: float | None, name: str) -> float:
    """A duration in seconds from seconds (float), a duration (``"2s"``, ``"500ms"``) or frames (int).

    Examples
    --------
    >>> to_seconds("2s", None, "window"), to_seconds("500ms", None, "hop"), to_seconds(0.25, None, "hop")
    (2.0, 0.5, 0.25)
    >>> to_seconds(50, 25.0, "window")
    2.0
    """
    from ..temporal import to_frames

    if isinstance(value, bool):
        raise ParameterError(f"{name} must be seconds, a duration ('2s', '500ms') or frames, got {value!r}")
    if isinstance(value, str) and value.strip().lower().endswith("s"):
        seconds = to_frames(value, fps=1e6) / 1e6
    elif isinstance(value, (float, np.floating)):
        seconds = float(value)
    else:
        frames = to_frames(value)
        if not fps:
            raise ParameterError(
                f"{name}={value!r} is a number of frames, but the source has no frame rate: give seconds "
                "('2s', '500ms')"
            )
        seconds = frames / fps
    if not (math.isfinite(seconds) and seconds > 0):
        raise ParameterError(f"{name} must be a duration > 0, got {value!r}")
    return seconds


def event_json(event: dict) -> str:
    """One event as a JSON line (no newline); numbers rounded (times to ms, latencies to 0.1 ms).

    Examples
    --------
    >>> event_json({"time": 1.23456, "frame": 30, "individual": 0, "label": "boxing", "score": 0.912345,
    ...             "event": "label", "latency_ms": {"decode": 0.51, "pose": 30.04, "features_model": 5.0,
    ...             "total": 36.66}})
    '{"time": 1.235, "frame": 30, "individual": 0, "label": "boxing", "score": 0.9123, "event": "label", \
"latency_ms": {"decode": 0.5, "pose": 30.0, "features_model": 5.0, "total": 36.7}}'
    """

    def plain(v):
        if isinstance(v, dict):
            return {k: plain(x) for k, x in v.items()}
        if isinstance(v, np.generic):
            v = v.item()
        if isinstance(v, float):
            return None if not math.isfinite(v) else v
        return v

    out = {k: plain(v) for k, v in event.items()}
    for k in ("time", "start_time", "duration"):
        if isinstance(out.get(k), float):
            out[k] = round(out[k], 3)
    if isinstance(out.get("score"), float):
        out["score"] = round(out["score"], 4)
    if isinstance(out.get("latency_ms"), dict):
        lat = out["latency_ms"]
        out["latency_ms"] = {k: round(v, 1) if isinstance(v, float) else v for k, v in lat.items()}
    return json.dumps(out)


def load_model(model):
    if isinstance(model, (str, os.PathLike)):
        from ..pipeline.persist import load

        return load(model)
    return model


def _grid_window(
    times: np.ndarray, world: np.ndarray, conf: np.ndarray, t_end: float, window: float, fps: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Poses on a regular grid ending at ``t_end``: (n, 33, 3), (n, 33) and the grid times.

    Linear interpolation between the posed frames; grid frames inside a loss
    longer than ``max(0.5 s, 3 samples)`` are NaN (confidence 0).

    Examples
    --------
    >>> t = np.array([0.0, 0.1, 0.2]); w = t[:, None, None] * np.ones((3, 33, 3))
    >>> pos, conf, grid = _grid_window(t, w, np.ones((3, 33)), 0.2, 1.0, 20.0)
    >>> grid.round(2).tolist(), pos[:, 0, 0].round(3).tolist()
    ([0.0, 0.05, 0.1, 0.15, 0.2], [0.0, 0.05, 0.1, 0.15, 0.2])
    """
    start = max(t_end - window, float(times[0]))
    n = math.floor((t_end - start) * fps + 1e-6) + 1
    grid = t_end - (n - 1 - np.arange(n)) / fps
    k = len(times)
    if k == 1:
        return np.repeat(world, n, axis=0), np.repeat(conf, n, axis=0), grid
    hi = np.clip(np.searchsorted(times, grid, side="left"), 1, k - 1)
    lo = hi - 1
    span = times[hi] - times[lo]
    with np.errstate(invalid="ignore", divide="ignore"):
        w = np.clip(np.where(span > 0, (grid - times[lo]) / span, 0.0), 0.0, 1.0)
    pos = (1 - w)[:, None, None] * world[lo] + w[:, None, None] * world[hi]
    c = (1 - w)[:, None] * conf[lo] + w[:, None] * conf[hi]
    longest = max(0.5, 3 * float(np.median(np.diff(times))))
    lost = span > longest
    pos[lost] = np.nan
    c[lost] = 0.0
    return pos, c, grid


class LiveScorer:
    """Behaviour events from pose records as they arrive (see the module documentation).

    Parameters
    ----------
    model : path or fitted model
        A model file (any kind :func:`skelbehave.load` reads) or a fitted
        model: a frame-level model of one individual, or a clip-level model.
    window : float, int or str
        Sliding window: seconds (float), a duration (``"2s"``) or frames of the source (int).
    hop : float, int or str
        Time between two scorings, in the same units.
    fps : float, optional
        The source's frame rate (frames given as ``window``/``hop``, and the
        grid of a clip model's window; default 30 when unknown).
    leave_after : float, int or str
        An individual unseen this long has left: its bout ends.
    min_coverage : float
        Score an individual once its poses span at least this share of the window.
    source : str, optional
        Named in the sequences' ``meta["source"]``.
    warm_up : bool
        Run the model once on a made-up ``mediapipe33`` window at once: compiles
        the numba kernels (so the first event is not late) and fails early, with
        the model's own message, when it cannot take MediaPipe poses.

    Examples
    --------
    >>> import numpy as np
    >>> from skelbehave.pipeline import BehaviorModel
    >>> from skelbehave.encoding import VLADEncoder
    >>> rng = np.random.default_rng(0)
    >>> X = [np.cumsum(rng.normal(size=(40, 33, 3)), 0) * 0.01 * (1 + 9 * (k % 2)) for k in range(10)]
    >>> model = BehaviorModel(encoder=VLADEncoder(n_clusters=2), layout="mediapipe33", random_state=0)
    >>> model = model.fit([PoseSequence(x, "mediapipe33", fps=10) for x in X],
    ...                   ["still" if k % 2 == 0 else "moving" for k in range(10)])
    >>> from skelbehave.pose.live import PoseRecord
    >>> scorer = LiveScorer(model, window="2s", hop="1s", fps=10)
    >>> events = []
    >>> for t in range(40):
    ...     rec = PoseRecord(t, t / 10, (0,), X[1][t:t + 1], np.ones((1, 33)), np.zeros((1, 33, 3)),
    ...                      {"decode": 0.001, "pose": 0.02}, 0.0, 0, 160, 120)
    ...     events += scorer.update(rec)
    >>> events += scorer.finish()
    >>> [(e["event"], e["label"]) for e in events][:3], events[-1]["event"]
    ([('bout_start', 'moving'), ('label', 'moving'), ('label', 'moving')], 'bout_end')
    """

    def __init__(
        self,
        model,
        *,
        window: float | int | str = "2s",
        hop: float | int | str = "0.5s",
        fps: float | None = None,
        leave_after: float | int | str = "1s",
        min_coverage: float = 0.5,
        source: str | None = None,
        warm_up: bool = True,
    ) -> None:
        self.model = load_model(model)
        self.frame_level = is_frame_level(self.model)
        from ..pipeline import BehaviorModel, FrameLevelModel

        # the package's pipelines convert a skeleton to their own layout; another model (the CNN on its
        # own) gets the poses converted here, through the common skeleton
        self._layout = None
        if not isinstance(self.model, (BehaviorModel, FrameLevelModel)):
            self._layout = getattr(self.model, "layout_", None) or getattr(self.model, "layout", None)
        if self.frame_level and getattr(self.model, "n_individuals_", 1) != 1:
            raise ParameterError(
                f"the model labels {self.model.n_individuals_} individuals together; live scoring labels "
                "one individual at a time (use a model of one individual)"
            )
        self.window = to_seconds(window, fps, "window")
        self.hop = to_seconds(hop, fps, "hop")
        self.leave_after = to_seconds(leave_after, fps, "leave_after")
        if not 0.0 < min_coverage <= 1.0:
            raise ParameterError(f"min_coverage must be in (0, 1], got {min_coverage!r}")
        self.min_coverage = float(min_coverage)
        self.fps = fps
        self.grid_fps = float(self.model.fps_) if self.frame_level and self.model.fps_ else (fps or 30.0)
        if self.frame_level and self.window < self.model.window_frames_ / self.grid_fps - 1e-9:
            raise ParameterError(
                f"window={window!r} ({self.window:g} s) is shorter than the frame-level model's own window "
                f"({self.model.window_frames_} frames at {self.grid_fps:g} fps); give at least "
                f"{self.model.window_frames_ / self.grid_fps:.2f} s"
            )
        self.classes = list(self.model.classes_)
        self.source = source
        # bounded: entries older than the window are dropped at every record, and the length is capped
        self._cap = math.ceil(self.window * max(fps or 60.0, 60.0)) + 8
        self._buffers: dict[int, deque] = {}
        self._last_seen: dict[int, tuple[float, int]] = {}
        self._bouts: dict[int, dict] = {}  # individual -> {"label", "start_time", "frame", "score"}
        self._next: float | None = None
        self.n_events = 0
        self.n_scorings = 0
        self.model_s = 0.0  # seconds in features + model, all scorings
        if warm_up:
            self._warm_up()

    # ------------------------------------------------------------------ public
    def labels(self) -> dict[int, str]:
        """The current label of each individual in a bout."""
        return {i: b["label"] for i, b in self._bouts.items()}

    def update(self, record) -> list[dict]:
        """Take one :class:`~skelbehave.pose.live.PoseRecord`; return the events it triggers."""
        t = float(record.time)
        for k, ind in enumerate(record.individuals):
            buf = self._buffers.setdefault(ind, deque(maxlen=self._cap))
            buf.append((t, int(record.frame), record.world[k], record.confidence[k]))
            self._last_seen[ind] = (t, int(record.frame))
        horizon = t - self.window - 1.0 / self.grid_fps
        for buf in self._buffers.values():
            while buf and buf[0][0] < horizon:
                buf.popleft()
        events: list[dict] = []
        gone = [i for i, (seen, _) in self._last_seen.items() if t - seen > self.leave_after]
        for ind in gone:
            events += self._end(ind, record)
            del self._last_seen[ind]
            self._buffers.pop(ind, None)
        if self._next is None:
            self._next = t + self.hop
        elif t + 1e-9 >= self._next:
            self._next = self._next + self.hop if t - self._next < self.hop else t + self.hop
            events += self._score(record)
        self.n_events += len(events)
        return events

    def finish(self, record=None) -> list[dict]:
        """Events ending every open bout (the stream ended); ``record``: the last one, for latencies."""
        events: list[dict] = []
        for ind in list(self._bouts):
            events += self._end(ind, record)
        self.n_events += len(events)
        return events

    def buffered(self) -> dict[int, int]:
        """Poses held per individual (bounded by the window)."""
        return {i: len(b) for i, b in self._buffers.items()}

    # ------------------------------------------------------------------ internals
    def _warm_up(self) -> None:
        n = max(4, round(self.window * self.grid_fps))
        rng = np.random.default_rng(0)
        pos = rng.normal(scale=0.3, size=(1, 33, 3)) + np.cumsum(rng.normal(scale=0.01, size=(n, 33, 3)), 0)
        seq = PoseSequence(pos, "mediapipe33", fps=self.grid_fps, confidence=np.ones((n, 33)))
        self.model.predict_proba([self._as_model_layout(seq)])

    def _as_model_layout(self, seq: PoseSequence) -> PoseSequence:
        if self._layout is None:
            return seq
        return seq.to_layout(self._layout)

    def _latency(self, record, model_s: float) -> dict:
        lat = getattr(record, "latency", None) or {}
        captured = getattr(record, "captured", None)
        return {
            "decode": 1000.0 * float(lat.get("decode", math.nan)),
            "pose": 1000.0 * float(lat.get("pose", math.nan)),
            "features_model": 1000.0 * model_s,
            "total": 1000.0 * (time.perf_counter() - captured) if captured else math.nan,
        }

    def _end(self, ind: int, record) -> list[dict]:
        bout = self._bouts.pop(ind, None)
        if bout is None:
            return []
        t, frame = self._last_seen.get(ind, (bout["time"], bout["frame"]))
        return [
            {
                "time": t,
                "frame": frame,
                "individual": ind,
                "label": bout["label"],
                "score": bout["score"],
                "event": "bout_end",
                "latency_ms": self._latency(record, 0.0),
                "start_time": bout["start_time"],
                "duration": t - bout["start_time"],
            }
        ]

    def _sequences(self, t: float, since: float) -> tuple[list[int], list[PoseSequence], list[np.ndarray]]:
        """Individuals to score now, their window as a sequence, and the grid times of each."""
        inds, seqs, grids = [], [], []
        for ind, buf in self._buffers.items():
            if len(buf) < 2 or self._last_seen[ind][0] < since:
                continue
            times = np.array([e[0] for e in buf])
            keep = times >= t - self.window - 1e-9
            if keep.sum() < 2 or times[keep][-1] - times[keep][0] < self.min_coverage * self.window - 1e-9:
                continue
            entries = [e for e, k in zip(buf, keep, strict=True) if k]
            pos, conf, grid = _grid_window(
                times[keep],
                np.stack([e[2] for e in entries]),
                np.stack([e[3] for e in entries]),
                times[keep][-1],
                self.window,
                self.grid_fps,
            )
            if not self.frame_level:  # a clip model sees the frames where the individual was posed
                seen = np.isfinite(pos).all(axis=(1, 2))
                pos, conf, grid = pos[seen], conf[seen], grid[seen]
            meta = {"person": ind, "start_frame": entries[0][1]}
            if self.source is not None:
                meta["source"] = self.source
            seqs.append(
                self._as_model_layout(
                    PoseSequence(pos, "mediapipe33", fps=self.grid_fps, confidence=conf, meta=meta)
                )
            )
            inds.append(ind)
            grids.append(grid)
        return inds, seqs, grids

    def _score(self, record) -> list[dict]:
        t = float(record.time)
        inds, seqs, grids = self._sequences(t, since=t - self.hop - 1e-9)
        if not seqs:
            return []
        m0 = time.perf_counter()
        if self.frame_level:
            rows = []
            for P, grid in zip(self.model.predict_proba(seqs), grids, strict=True):
                last = np.asarray(P)[grid > t - self.hop - 1e-9]
                ok = np.isfinite(last).all(axis=1)
                rows.append(last[ok].mean(axis=0) if ok.any() else np.full(len(self.classes), np.nan))
            proba = np.array(rows)
        else:
            proba = np.asarray(self.model.predict_proba(seqs), dtype=float)
        model_s = time.perf_counter() - m0
        self.n_scorings += 1
        self.model_s += model_s
        events: list[dict] = []
        for ind, p in zip(inds, proba, strict=True):
            if not np.isfinite(p).all():  # no pose in the window: no behaviour
                continue
            j = int(np.argmax(p))
            label = self.classes[j]
            label = label.item() if isinstance(label, np.generic) else label
            base = {
                "time": t,
                "frame": int(record.frame),
                "individual": ind,
                "label": label,
                "score": float(p[j]),
            }
            bout = self._bouts.get(ind)
            if bout is not None and bout["label"] != label:
                events += self._end(ind, record)
                bout = None
            if bout is None:
                self._bouts[ind] = {"label": label, "start_time": t, "time": t}
                self._bouts[ind].update(frame=int(record.frame), score=float(p[j]))
                events.append({**base, "event": "bout_start", "latency_ms": self._latency(record, model_s)})
            else:
                bout["score"] = float(p[j])
            events.append({**base, "event": "label", "latency_ms": self._latency(record, model_s)})
        return events
