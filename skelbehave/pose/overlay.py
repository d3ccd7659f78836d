"""Draw skeletons (and behaviour labels) onto the frames of a video."""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .._util.fs import atomic_path
from ..errors import PoseDataError
from ..poses import PoseSequence
from .landmarker import _cv2, iter_frames

__all__ = ["VIDEO_OUTPUT_SUFFIXES", "render_overlay"]

logger = logging.getLogger(__name__)

VIDEO_OUTPUT_SUFFIXES = {".mp4": "mp4v", ".mov": "mp4v", ".m4v": "mp4v", ".avi": "MJPG", ".mkv": "mp4v"}
# BGR colours, one per person id (cycled)
_PALETTE = [(0, 200, 255), (255, 120, 0), (80, 220, 80), (200, 80, 255), (0, 80, 255), (255, 255, 0)]


def _image_xy(seq: PoseSequence, i: int) -> np.ndarray:
    img = seq.meta.get("image_landmarks")
    if img is None:
        if seq.meta.get("units") == "normalized":
            img = seq.position
        else:
            raise PoseDataError(
                f"sequence {i} has no image landmarks (meta['image_landmarks'], or units 'normalized'): "
                "overlays need the output of skelbehave.pose.extract, or the '.image.pose.csv' files "
                "that extract_many(..., image_landmarks=True) writes",
                path=seq.meta.get("source"),
            )
    img = np.asarray(img, dtype=float)
    if img.ndim != 3 or img.shape[:2] != seq.position.shape[:2] or img.shape[2] < 2:
        raise PoseDataError(f"sequence {i}: image landmarks must be (T, J, >=2), found {img.shape}")
    return img[:, :, :2]


#: label of frames without a pose in predictions tables (skelbehave.temporal.presence.NO_POSE,
#: a layer above this one): never drawn
_NO_POSE = "no_pose"


def _key(individual: Any) -> str | None:
    """Individuals compared as text: a table read back from CSV has ints, a pose file may have strings."""
    if individual is None or (isinstance(individual, float) and np.isnan(individual)):
        return None
    if isinstance(individual, (float, np.floating)) and float(individual).is_integer():
        individual = int(individual)
    return str(individual)


def _no_label(lab: Any) -> bool:
    return lab is None or (isinstance(lab, float) and np.isnan(lab)) or str(lab) in ("", _NO_POSE)


def _labels_per_frame(
    predictions: Any, individuals: list[Any], fps: float | None
) -> dict[int, dict[Any, str]]:
    """``{frame: {individual (as text) or None: label}}``; ``None``: a label for the whole frame.

    A table names the individual in ``individual`` (what ``skelbehave score``
    writes) or ``person`` (older tables); rows flagged ``absent``, and
    ``no_pose`` or empty labels, give no label.
    """
    import pandas as pd

    out: dict[int, dict[Any, str]] = {}
    if predictions is None:
        return out
    if isinstance(predictions, pd.DataFrame):
        df = predictions
        label_col = next((c for c in ("label", "prediction", "predicted") if c in df.columns), None)
        if label_col is None:
            raise PoseDataError(f"predictions need a 'label' column; found columns {list(df.columns)}")
        if "frame" in df.columns:
            spans = [(int(f), int(f) + 1) for f in df["frame"].to_numpy()]
        elif {"start_frame", "stop_frame"} <= set(df.columns):  # clip-level segments, [start, stop)
            spans = list(zip(df["start_frame"].astype(int), df["stop_frame"].astype(int), strict=True))
        elif "time" in df.columns and fps:
            spans = [(int(f), int(f) + 1) for f in np.round(df["time"].to_numpy(dtype=float) * fps)]
        else:
            raise PoseDataError(
                "predictions need a 'frame' column, 'start_frame' and 'stop_frame', or 'time' and a known fps"
            )
        who_col = next((c for c in ("individual", "person") if c in df.columns), None)
        who = [_key(p) for p in df[who_col]] if who_col else [None] * len(df)
        if who_col:
            known = {_key(p) for p in individuals}
            named = {w for w in who if w is not None}
            if named and not named & known:
                raise PoseDataError(
                    f"the predictions' {who_col!r} column names {sorted(named)}, none of the individuals "
                    f"of the poses ({sorted(k for k in known if k is not None)})"
                )
        absent = (
            df["absent"].fillna(False).astype(bool).tolist() if "absent" in df.columns else [False] * len(df)
        )
        for (a, b), p, lab, gone in zip(spans, who, df[label_col].tolist(), absent, strict=True):
            if gone or _no_label(lab):
                continue
            for f in range(a, b):
                out.setdefault(f, {})[p] = str(lab)
        return out
    for f, lab in enumerate(np.asarray(predictions, dtype=object).ravel()):
        if _no_label(lab):
            continue
        out.setdefault(f, {})[None] = str(lab)
    return out


def render_overlay(
    source: Any,
    sequences: PoseSequence | Sequence[PoseSequence],
    output: str | os.PathLike,
    *,
    predictions: Any = None,
    fps: float | None = None,
    max_frames: int | None = None,
    min_confidence: float = 0.0,
    thickness: int = 2,
    bgr: bool = False,
    progress: bool = False,
) -> Path:
    """Render the video with each person's skeleton drawn, and labels when given.

    Parameters
    ----------
    source : path or iterable of arrays
        The video (or image folder, or frames) the poses came from.
    sequences : PoseSequence or list of PoseSequence
        Output of :func:`skelbehave.pose.extract` (``meta["image_landmarks"]``)
        or sequences in normalised image coordinates (``meta["units"] ==
        "normalized"``, e.g. read from an ``.image.pose.csv``). Frame ``t`` of
        the video shows frame ``t - meta.get("start_frame", 0)`` of each.
    output : path
        A video file (``.mp4``, ``.mov``, ``.m4v``, ``.mkv``: codec mp4v;
        ``.avi``: MJPG), written atomically; or a folder (created) that
        receives ``frame_000000.png``, ...
    predictions : array-like or pandas.DataFrame, optional
        Labels to print: one per frame (array-like, ``None``/NaN for none),
        or a predictions table as ``skelbehave score`` writes it: ``label``
        and ``frame`` (frame-level), ``start_frame``/``stop_frame``
        (clip-level rows and segments) or ``time``; with an ``individual``
        column (``person`` in older tables) each label is drawn next to
        that individual, matched to ``meta["person"]`` of the sequences,
        and only in frames where that individual has a pose. Rows flagged
        ``absent``, and ``no_pose`` labels, draw nothing. A table without
        an individual column labels the whole frame (top-left corner).
    fps : float, optional
        Frame rate of the written video (default: the source's).
    max_frames : int, optional
        Stop after this many frames.
    min_confidence : float
        Joints with confidence below this are not drawn.
    thickness : int
        Line width in pixels.
    bgr : bool
        Frames given as arrays are BGR.
    progress : bool
        Show a progress bar.

    Returns
    -------
    Path
        ``output``.

    Examples
    --------
    >>> from skelbehave.pose import extract, render_overlay
    >>> video = "../shared/videos/person01_boxing_d2_uncomp.mp4"
    >>> seqs = extract(video, model="../shared/models/pose_landmarker_full.task")  # doctest: +SKIP
    >>> render_overlay(video, seqs, "boxing_overlay.mp4", predictions=["boxing"] * 390)  # doctest: +SKIP
    PosixPath('boxing_overlay.mp4')
    """
    from tqdm.auto import tqdm

    cv2 = _cv2()
    if isinstance(sequences, PoseSequence):
        sequences = [sequences]
    sequences = list(sequences)
    xys = [_image_xy(s, i) for i, s in enumerate(sequences)]
    bones = [np.asarray(s.layout.bone_indices) for s in sequences]
    persons = [s.meta.get("person", i) for i, s in enumerate(sequences)]
    starts = [int(s.meta.get("start_frame", 0)) for s in sequences]
    frames, info = iter_frames(source, fps=fps, bgr=bgr)
    out_fps = fps or info.get("fps") or next((s.fps for s in sequences if s.fps), None)
    labels = _labels_per_frame(predictions, persons, out_fps)
    output = Path(output)
    as_video = output.suffix.lower() in VIDEO_OUTPUT_SUFFIXES
    if as_video and not out_fps:
        raise PoseDataError("writing a video needs a frame rate: pass fps=...", path=output)
    if not as_video:
        output.mkdir(parents=True, exist_ok=True)
    writer = None
    n = 0
    bar = tqdm(total=info.get("expected"), unit="frame", desc="overlay", disable=not progress, leave=False)

    def draw(rgb: np.ndarray, t: int) -> np.ndarray:
        img = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)
        h, w = img.shape[:2]
        scale = max(h, w) / 640
        th = max(1, round(thickness * max(scale, 0.5)))
        frame_labels = labels.get(t, {})
        for k, (seq, xy, bone, pid, st) in enumerate(
            zip(sequences, xys, bones, persons, starts, strict=True)
        ):
            i = t - st
            if not 0 <= i < len(xy):
                continue
            pts = xy[i] * (w, h)
            ok = np.isfinite(pts).all(axis=1)
            if seq.confidence is not None and min_confidence > 0:
                ok &= seq.confidence[i] >= min_confidence
            if not ok.any():
                continue
            colour = _PALETTE[k % len(_PALETTE)]
            for a, b in bone:
                if ok[a] and ok[b]:
                    pa, pb = pts[a], pts[b]
                    cv2.line(
                        img,
                        (round(pa[0]), round(pa[1])),
                        (round(pb[0]), round(pb[1])),
                        colour,
                        th,
                        cv2.LINE_AA,
                    )
            for p in pts[ok]:
                cv2.circle(img, (round(p[0]), round(p[1])), th + 1, colour, -1, cv2.LINE_AA)
            top = pts[ok][np.argmin(pts[ok][:, 1])]
            lab = frame_labels.get(_key(pid))
            text = str(pid) + (f": {lab}" if lab is not None else "")
            fs, tt = 0.45 * max(scale, 0.6), max(1, th - 1)
            (tw, _), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, fs, tt)
            x = min(round(top[0]), img.shape[1] - tw - 2)  # the whole label stays inside the frame
            cv2.putText(
                img,
                text,
                (max(0, x), max(12, round(top[1] - 6 * scale))),
                cv2.FONT_HERSHEY_SIMPLEX,
                fs,
                colour,
                tt,
                cv2.LINE_AA,
            )
        if None in frame_labels:
            fs = 0.5 * max(scale, 0.6)
            (tw, tht), _ = cv2.getTextSize(frame_labels[None], cv2.FONT_HERSHEY_SIMPLEX, fs, 1)
            cv2.rectangle(img, (0, 0), (tw + 8, tht + 10), (0, 0, 0), -1)
            cv2.putText(
                img,
                frame_labels[None],
                (4, tht + 4),
                cv2.FONT_HERSHEY_SIMPLEX,
                fs,
                (255, 255, 255),
                1,
                cv2.LINE_AA,
            )
        return img

    try:
        if as_video:
            with atomic_path(output) as tmp:
                for rgb in frames:
                    if max_frames is not None and n >= max_frames:
                        break
                    img = draw(rgb, n)
                    if writer is None:
                        fourcc = cv2.VideoWriter_fourcc(*VIDEO_OUTPUT_SUFFIXES[output.suffix.lower()])
                        writer = cv2.VideoWriter(
                            str(tmp), fourcc, float(out_fps), (img.shape[1], img.shape[0])
                        )
                        if not writer.isOpened():
                            raise PoseDataError("OpenCV cannot write this video format here", path=output)
                    writer.write(img)
                    n += 1
                    bar.update(1)
                if writer is None:
                    raise PoseDataError(
                        "the source has no frames: nothing was rendered", path=info.get("name")
                    )
                writer.release()
                writer = None
        else:
            for rgb in frames:
                if max_frames is not None and n >= max_frames:
                    break
                if not cv2.imwrite(str(output / f"frame_{n:06d}.png"), draw(rgb, n)):
                    raise PoseDataError("cannot write PNG frames here", path=output)
                n += 1
                bar.update(1)
    finally:
        if writer is not None:
            writer.release()
        bar.close()
    if n == 0:
        raise PoseDataError("the source has no frames: nothing was rendered", path=info.get("name"))
    logger.info("overlay: %d frames written to %s", n, output)
    return output
