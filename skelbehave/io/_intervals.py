"""Helpers shared by the annotation readers: reading a file's head, intervals -> per-frame labels."""

from __future__ import annotations

import itertools
import logging
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import PoseDataError
from .files import check_path, open_regular

log = logging.getLogger("skelbehave.io.annotations")


def read_head(path) -> tuple[Path, str]:
    """The checked path and its first 4096 bytes as text."""
    p = check_path(path)
    with open_regular(p) as fh:
        head = fh.read(4096)
    return p, head.decode("utf-8-sig", errors="replace")


def intervals_to_frames(streams: dict[str, list], n_frames: int | None, fill: str, path) -> pd.DataFrame:
    """``{stream: [(start, stop, label, line), ...]}`` (0-based, stop exclusive) -> per-frame table."""
    ends = [b[1] for bouts in streams.values() for b in bouts]
    length = n_frames if n_frames is not None else max(ends, default=0)
    if length <= 0:
        raise PoseDataError("no annotated interval (and no n_frames given)", path=path)
    cut = max(ends, default=0) - length
    if cut > 0:
        log.info("%s: intervals run %d frames past the recording's %d frames; cut there", path, cut, length)
    out = {}
    for name, bouts in streams.items():
        y = np.full(length, fill, dtype=object)
        for s, e, lab, _ in bouts:
            y[s : min(e, length)] = lab
        out[name] = y
    df = pd.DataFrame(out)
    df.index.name = "frame"
    df.attrs["frames_cut"] = max(cut, 0)
    return df


def check_no_overlap(bouts: list, path, what: str) -> None:
    bouts.sort(key=lambda b: (b[0], b[1]))
    for a, b in itertools.pairwise(bouts):
        if b[0] < a[1]:
            raise PoseDataError(
                f"{what}: {b[2]!r} (frames {b[0]}-{b[1]}) overlaps {a[2]!r} of line {a[3]} (frames "
                f"{a[0]}-{a[1]}); per-frame labels need one behaviour at a time",
                path=path,
                line=b[3],
            )
