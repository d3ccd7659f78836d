"""NTU RGB+D ``.skeleton`` text files (Kinect v2, 25 joints, several bodies).

Layout of the file: the frame count; then per frame the body count and, per
body, a 10-field line (``bodyID clippedEdges handLeftConfidence handLeftState
handRightConfidence handRightState isRestricted leanX leanY trackingState``),
the joint count (25) and 25 lines of 12 fields (``x y z depthX depthY colorX
colorY orientationW orientationX orientationY orientationZ trackingState``).
Positions are camera-space metres. Recorded at 30 fps (Kinect v2).
"""

from __future__ import annotations

import re

import numpy as np

from ..errors import PoseDataError
from ..poses import PoseSequence
from .files import check_path, read_regular_bytes

__all__ = ["read_ntu_skeleton", "NTU_FPS"]

NTU_FPS = 30.0
_NAME_RE = re.compile(r"S(\d{3})C(\d{3})P(\d{3})R(\d{3})A(\d{3})")


class _Lines:
    """Line cursor with errors that name the line."""

    def __init__(self, lines: list[str], path) -> None:
        self.lines = lines
        self.i = 0
        self.path = path

    def fields(self, n: int, what: str) -> list[str]:
        if self.i >= len(self.lines):
            raise PoseDataError(
                f"file ends where {what} was expected (truncated?)", path=self.path, line=self.i + 1
            )
        f = self.lines[self.i].split()
        if len(f) != n:
            raise PoseDataError(
                f"expected {what}: {n} field{'s' if n > 1 else ''}, found {len(f)}",
                path=self.path,
                line=self.i + 1,
            )
        self.i += 1
        return f

    def int(self, what: str, lo: int = 0, hi: int | None = None) -> int:
        (v,) = self.fields(1, what)
        try:
            n = int(v)
        except ValueError:
            raise PoseDataError(
                f"expected {what} (an integer), found {v[:40]!r}", path=self.path, line=self.i
            ) from None
        if n < lo or (hi is not None and n > hi):
            rng = f">= {lo}" if hi is None else f"in {lo}..{hi}"
            raise PoseDataError(f"expected {what} {rng}, found {n}", path=self.path, line=self.i)
        return n

    def floats(self, n: int, what: str) -> np.ndarray:
        f = self.fields(n, what)
        try:
            a = np.array(f, dtype=np.float64)
        except ValueError:
            bad = next(k for k, x in enumerate(f) if not _is_float(x))
            raise PoseDataError(
                f"expected a number in {what}, found {f[bad][:40]!r}",
                path=self.path,
                line=self.i,
                column=bad + 1,
            ) from None
        if not np.isfinite(a).all():
            bad = int(np.flatnonzero(~np.isfinite(a))[0])
            raise PoseDataError(f"non-finite number in {what}", path=self.path, line=self.i, column=bad + 1)
        return a


def _is_float(x: str) -> bool:
    try:
        float(x)
    except ValueError:
        return False
    return True


def read_ntu_skeleton(path, *, fps: float | None = NTU_FPS) -> list[PoseSequence]:
    """Read an NTU RGB+D ``.skeleton`` file: one :class:`PoseSequence` per body.

    A body (Kinect tracking id) spans the frames from its first to its last
    appearance; frames in between where it was not tracked are NaN. Confidence
    is the joint tracking state / 2 (0 not tracked, 0.5 inferred, 1 tracked).

    Parameters
    ----------
    path : str or path-like
        The ``.skeleton`` file.
    fps : float or None
        Frame rate; NTU RGB+D was recorded at 30 fps.

    Returns
    -------
    list of PoseSequence
        Layout ``ntu25``; ``meta`` holds ``source``, ``person`` (0, 1, ... in
        order of appearance), ``body_id``, ``start_frame`` and, parsed from the
        file name ``SsssCcccPpppRrrrAaaa``, ``setup``, ``camera``, ``subject``,
        ``replication`` and ``action``.

    Examples
    --------
    >>> from pathlib import Path
    >>> f = Path("../shared/data/ntu_rgbd_samples/S001C003P008R002A058.skeleton")
    >>> [s.meta["action"] for s in read_ntu_skeleton(f)] if f.exists() else [58, 58]
    [58, 58]
    """
    path = check_path(path)
    raw = read_regular_bytes(path)
    try:
        text = raw.decode("ascii")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise PoseDataError(
            f"not an NTU .skeleton text file (byte {exc.start})", path=path, line=line
        ) from None
    lines = text.splitlines()
    if not lines or not text.strip():
        raise PoseDataError("empty file; expected the frame count on line 1", path=path, line=1)
    cur = _Lines(lines, path)
    n_frames = cur.int("the frame count")
    bodies: dict[str, list] = {}  # body id -> [frames, positions, confidences]
    for t in range(n_frames):
        n_bodies = cur.int(f"the body count of frame {t}", 0, 16)
        for _ in range(n_bodies):
            info = cur.fields(10, "a body line (10 fields: bodyID ... trackingState)")
            body_id = info[0]
            n_joints = cur.int("the joint count", 25, 25)
            pos = np.empty((n_joints, 3))
            state = np.empty(n_joints)
            for j in range(n_joints):
                vals = cur.floats(
                    12, f"joint {j} (12 fields: x y z depthX depthY colorX colorY ow ox oy oz state)"
                )
                pos[j] = vals[:3]
                state[j] = vals[11]
            entry = bodies.setdefault(body_id, [[], [], []])
            if entry[0] and entry[0][-1] == t:
                raise PoseDataError(f"body {body_id} appears twice in frame {t}", path=path, line=cur.i)
            entry[0].append(t)
            entry[1].append(pos)
            entry[2].append(state)
    rest = [k for k in range(cur.i, len(lines)) if lines[k].strip()]
    if rest:
        raise PoseDataError(
            f"unexpected content after the {n_frames} frames the file announces", path=path, line=rest[0] + 1
        )
    m = _NAME_RE.search(path.name)
    name_meta = {}
    if m:
        name_meta = dict(
            zip(("setup", "camera", "subject", "replication", "action"), map(int, m.groups()), strict=True)
        )
    out = []
    for k, (body_id, (frames, poss, states)) in enumerate(bodies.items()):
        f = np.asarray(frames)
        T = f[-1] - f[0] + 1
        pos = np.full((T, 25, 3), np.nan)
        conf = np.zeros((T, 25))
        pos[f - f[0]] = np.stack(poss)
        conf[f - f[0]] = np.clip(np.stack(states) / 2.0, 0.0, 1.0)
        meta = {
            "source": str(path),
            "person": k,
            "body_id": body_id,
            "start_frame": int(f[0]),
            "units": "m",
            "coordinates": "Kinect v2 camera space",
            **name_meta,
        }
        out.append(PoseSequence(pos, "ntu25", fps=fps, confidence=conf, meta=meta))
    return out
