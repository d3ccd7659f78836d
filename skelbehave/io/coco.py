"""COCO-style keypoint JSON, as pose estimators and trackers write it.

Two shapes are read:

- a list of per-frame detections (a COCO *results* file, as written by
  MMPose, AlphaPose, OpenPifPaf and trackers): ``[{"image_id": 0,
  "keypoints": [x, y, v, ...], "score": 0.9, "track_id": 1}, ...]``. The frame
  is ``"frame"`` when present, else ``"image_id"`` (an integer, or a file name
  whose last number is the frame, e.g. ``"000012.jpg"``); the track is
  ``"track_id"``, else ``"id"`` (unless every detection has an ``"id"`` of its
  own: then it numbers detections, not tracks).
- a COCO annotation file, an object with ``"annotations"`` (and usually
  ``"images"`` and ``"categories"``): an annotation's frame is its image's
  ``"frame"`` / ``"frame_index"`` / ``"frame_id"`` / ``"id"`` (the first
  present), its track ``"track_id"`` (PoseTrack); the category's
  ``"keypoints"`` name the joints, and ``"info": {"fps": ...}`` gives the
  frame rate when present.

Keypoints are ``x, y, v`` triples in pixels. ``v`` (visibility or score) is
kept as the joint's ``confidence``; a keypoint ``0, 0, 0`` (COCO's "not
labelled") or with a NaN coordinate is missing (NaN). Without keypoint names,
17 keypoints are the ``coco17`` layout; other counts need ``layout=``.

One :class:`~skelbehave.PoseSequence` is returned per track, all over the same
frames (from the file's first to its last frame; frames where a track has no
detection are missing). Detections without track ids are one track, as long
as no frame has two of them.

:func:`write_coco` writes the annotation shape (keypoint names in
``categories``, fps in ``info``, one image per frame) or the detection list:
reading it back gives the same positions and confidences. A sequence without
confidence is written with ``v = 2`` ("visible") for present joints.
"""

from __future__ import annotations

import json
import math
import numbers
import os
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from .._util.fs import atomic_write
from ..errors import LayoutError, ParameterError, ParameterTypeError, PoseDataError
from ..layouts import JointLayout, get_layout, list_layouts
from ..poses import PoseSequence
from .files import check_path, open_regular

__all__ = ["read_coco", "write_coco", "looks_like_coco", "MAX_JSON_BYTES"]

#: largest JSON file read (bytes), checked before parsing
MAX_JSON_BYTES = 1 << 30
#: longest frame range a file may span
MAX_FRAMES = 10_000_000
_LAST_NUMBER = re.compile(r"(\d+)(?!.*\d)")


def looks_like_coco(path, *, chunk: int = 1 << 20) -> bool:
    """Whether a file is JSON (starts with ``[`` or ``{``) holding a ``"keypoints"`` field.

    Reads the file in chunks (up to :data:`MAX_JSON_BYTES`) without parsing it,
    so a large detection file is recognised cheaply and a JSON file of
    another kind (a model card) is not taken for poses.

    Examples
    --------
    >>> import tempfile, os
    >>> f = os.path.join(tempfile.mkdtemp(), "d.json")
    >>> _ = open(f, "w").write('[{"image_id": 0, "keypoints": [1, 2, 1]}]')
    >>> looks_like_coco(f)
    True
    """
    needle = b'"keypoints"'
    with open_regular(check_path(path)) as fh:
        head = fh.read(chunk)
        if head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] not in (b"[", b"{"):
            return False
        seen = len(head)
        while True:
            if needle in head:
                return True
            more = fh.read(chunk)
            if not more or seen > MAX_JSON_BYTES:
                return False
            seen += len(more)
            head = head[-len(needle) :] + more


def _err(msg: str, path, field: str | None = None) -> PoseDataError:
    return PoseDataError(msg, path=path, column=field)


def _int_field(value, what: str, path, field: str) -> int:
    """An integer >= 0 from a number or a file name's last number."""
    if isinstance(value, bool):
        raise _err(f"{what}: expected an integer, found {value!r}", path, field)
    if isinstance(value, numbers.Integral):
        v = int(value)
    elif isinstance(value, float) and value.is_integer():
        v = int(value)
    elif isinstance(value, str) and (m := _LAST_NUMBER.search(Path(value).stem or value)):
        v = int(m.group(1))
    else:
        raise _err(
            f"{what}: expected an integer (or a name ending in a number), found {value!r:.60}", path, field
        )
    if v < 0:
        raise _err(f"{what}: expected an integer >= 0, found {v}", path, field)
    return v


def _track_key(value, what: str, path):
    if isinstance(value, bool) or not isinstance(value, (numbers.Integral, str)):
        raise _err(f"{what}: track ids must be integers or strings, found {value!r:.60}", path, "track_id")
    return int(value) if isinstance(value, numbers.Integral) else value


def _layout_from(names, layout, n_kp: int, path) -> JointLayout:
    if layout is not None:
        lay = get_layout(layout)
        if names is not None and list(lay.joints) != list(names):
            raise _err(
                f"layout {lay.name!r} expects joints {list(lay.joints)}, the file names {list(names)}",
                path,
                "categories",
            )
        return lay
    if names is not None:
        names = [str(n) for n in names]
        for reg in list_layouts():
            if list(get_layout(reg).joints) == names:
                return get_layout(reg)
        try:
            return JointLayout.from_names(names, name="coco")
        except LayoutError as exc:
            raise _err(f"keypoint names: {exc}", path, "categories") from None
    if n_kp == 17:
        return get_layout("coco17")
    raise _err(
        f"{n_kp} keypoints per detection and no keypoint names: pass layout=... "
        "(17 keypoints without names are read as coco17)",
        path,
        "keypoints",
    )


def _parse(path) -> Any:
    p = check_path(path)
    size = p.stat().st_size
    if size > MAX_JSON_BYTES:
        raise _err(f"JSON file of {size} bytes is larger than the {MAX_JSON_BYTES}-byte limit", p)
    with open_regular(p) as fh:
        raw = fh.read(MAX_JSON_BYTES + 1)
    if not raw.strip():
        raise PoseDataError("empty file; expected COCO-style keypoint JSON", path=p, line=1)
    try:
        return json.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise PoseDataError(f"not UTF-8 text (byte {exc.start})", path=p) from None
    except json.JSONDecodeError as exc:
        raise PoseDataError(
            f"not valid JSON: {exc.msg} (column {exc.colno})", path=p, line=exc.lineno
        ) from None
    except RecursionError:
        raise PoseDataError("JSON nested too deeply", path=p) from None


def _records(data, path):
    """(detections, frame of image id or None, keypoint names or None, fps or None, shape)."""
    if isinstance(data, list):
        return data, None, None, None, "detections"
    if not isinstance(data, dict) or "annotations" not in data:
        found = sorted(data)[:8] if isinstance(data, dict) else type(data).__name__
        raise _err(
            f"expected a list of detections or an object with 'annotations' (COCO), found {found}", path
        )
    anns = data["annotations"]
    if not isinstance(anns, list):
        raise _err(f"'annotations' must be a list, found {type(anns).__name__}", path, "annotations")
    image_frame = None
    if "images" in data:
        images = data["images"]
        if not isinstance(images, list):
            raise _err(f"'images' must be a list, found {type(images).__name__}", path, "images")
        image_frame = {}
        for k, im in enumerate(images):
            if not isinstance(im, dict) or "id" not in im:
                raise _err(f"images[{k}]: expected an object with an 'id'", path, "images")
            key = next(f for f in ("frame", "frame_index", "frame_id", "id") if f in im)
            image_frame[im["id"]] = _int_field(im[key], f"images[{k}]", path, key)
    names = None
    cats = data.get("categories")
    if cats is not None:
        if not isinstance(cats, list) or not all(isinstance(c, dict) for c in cats):
            raise _err("'categories' must be a list of objects", path, "categories")
        used = {a.get("category_id") for a in anns if isinstance(a, dict)}
        with_kp = [c for c in cats if c.get("keypoints") and (c.get("id") in used or not used - {None})]
        if len(with_kp) > 1:
            raise _err(
                f"annotations of {len(with_kp)} categories with keypoints; expected one skeleton",
                path,
                "categories",
            )
        if with_kp:
            names = with_kp[0]["keypoints"]
            if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
                raise _err("a category's 'keypoints' must be a list of names", path, "categories")
    fps = None
    info = data.get("info")
    if isinstance(info, dict) and info.get("fps") is not None:
        fps = info["fps"]
        if isinstance(fps, bool) or not isinstance(fps, numbers.Real) or not (math.isfinite(fps) and fps > 0):
            raise _err(f"info.fps must be a positive number, found {fps!r:.40}", path, "info")
        fps = float(fps)
    return anns, image_frame, names, fps, "annotations"


def read_coco(
    path, *, fps: float | None = None, layout: str | JointLayout | None = None
) -> list[PoseSequence]:
    """Read COCO-style keypoint JSON: one :class:`PoseSequence` per track.

    Parameters
    ----------
    path : str or path-like
        The ``.json`` file (a list of detections or a COCO annotation file).
    fps : float, optional
        Frames per second (a file's ``info.fps`` is used when not given; a
        different value raises).
    layout : str or JointLayout, optional
        The keypoints' layout, needed when the file does not name its
        keypoints and has other than 17.

    Returns
    -------
    list of PoseSequence
        One per track (sorted by track id), C = 2 (pixels), ``confidence`` = v;
        ``meta``: ``source``, ``person`` (the track id, or 0), ``start_frame``,
        ``units="px"``.

    Raises
    ------
    PoseDataError
        Naming the file and the field: not JSON, no detections, keypoints of
        the wrong length or not numbers, a frame or track id that is not an
        integer, two detections of one track in one frame.

    Examples
    --------
    >>> import tempfile, os, json
    >>> f = os.path.join(tempfile.mkdtemp(), "det.json")
    >>> kp = lambda x: [v for j in range(17) for v in (x + j, 2.0 * j, 0.9)]
    >>> dets = [{"image_id": t, "track_id": k, "keypoints": kp(10.0 * k + t), "score": 0.8}
    ...         for t in range(3) for k in (1, 2)]
    >>> _ = open(f, "w").write(json.dumps(dets))
    >>> seqs = read_coco(f, fps=25)
    >>> [(s.meta["person"], s.n_frames, s.layout.name) for s in seqs]
    [(1, 3, 'coco17'), (2, 3, 'coco17')]
    >>> float(seqs[1].position[2, 0, 0])
    22.0
    """
    p = check_path(path)
    data = _parse(p)
    anns, image_frame, names, file_fps, shape = _records(data, p)
    if fps is not None:
        if isinstance(fps, bool) or not isinstance(fps, numbers.Real) or not (math.isfinite(fps) and fps > 0):
            raise ParameterError(f"fps must be a positive number, got {fps!r}")
        if file_fps is not None and not math.isclose(float(fps), file_fps, rel_tol=1e-6):
            raise _err(f"fps={fps:g} was given but the file records {file_fps:g}", p, "info")
    fps_out = float(fps) if fps is not None else file_fps
    if not anns:
        raise _err("no detections in the file", p, "annotations" if shape == "annotations" else None)
    where = "annotations" if shape == "annotations" else "detection"
    frames, tracks, kps = [], [], []
    has_track: bool | None = None
    from_id = False
    n_kp = None
    for k, d in enumerate(anns):
        what = f"{where}[{k}]" if shape == "annotations" else f"detection {k}"
        if not isinstance(d, dict):
            raise _err(f"{what}: expected an object, found {type(d).__name__}", p)
        if "keypoints" not in d:
            raise _err(f"{what}: no 'keypoints'", p, "keypoints")
        kp = d["keypoints"]
        if not isinstance(kp, list):
            raise _err(f"{what}: 'keypoints' must be a list [x, y, v, ...]", p, "keypoints")
        if n_kp is None:
            if len(kp) % 3 or not kp:
                raise _err(
                    f"{what}: 'keypoints' has {len(kp)} numbers, expected x, y, v per keypoint "
                    "(a multiple of 3)",
                    p,
                    "keypoints",
                )
            n_kp = len(kp) // 3
            expect = len(names) if names is not None else (get_layout(layout).n_joints if layout else None)
            if expect is not None and n_kp != expect:
                raise _err(
                    f"{what}: 'keypoints' has {len(kp)} numbers, expected {3 * expect} "
                    f"(x, y, v for {expect} keypoints)",
                    p,
                    "keypoints",
                )
        elif len(kp) != 3 * n_kp:
            raise _err(
                f"{what}: 'keypoints' has {len(kp)} numbers, expected {3 * n_kp} "
                f"(x, y, v for {n_kp} keypoints)",
                p,
                "keypoints",
            )
        kps.append(kp)
        # frame
        if shape == "annotations":
            if "image_id" not in d:
                raise _err(f"{what}: no 'image_id'", p, "image_id")
            if image_frame is not None:
                if d["image_id"] not in image_frame:
                    raise _err(f"{what}: image_id {d['image_id']!r:.40} is not in 'images'", p, "image_id")
                frames.append(image_frame[d["image_id"]])
            else:
                frames.append(_int_field(d["image_id"], what, p, "image_id"))
            tid_field = "track_id" if "track_id" in d else None
        else:
            fkey = "frame" if "frame" in d else "image_id" if "image_id" in d else None
            if fkey is None:
                raise _err(f"{what}: no 'frame' or 'image_id'", p, "image_id")
            frames.append(_int_field(d[fkey], what, p, fkey))
            tid_field = "track_id" if "track_id" in d else "id" if "id" in d else None
        if has_track is None:
            has_track = tid_field is not None
        elif has_track != (tid_field is not None):
            raise _err(f"{what}: some detections have a track id and some do not", p, "track_id")
        tracks.append(_track_key(d[tid_field], what, p) if tid_field else 0)
        from_id = tid_field == "id"
    assert n_kp is not None
    if has_track and from_id and len(set(tracks)) == len(tracks) > 1 and len(set(frames)) > 1:
        # 'id' numbers each detection (COCO results), not a track: no track ids
        has_track, tracks = False, [0] * len(tracks)
    try:
        arr = np.asarray(kps, dtype=np.float64).reshape(len(kps), n_kp, 3)
    except (TypeError, ValueError):
        k = next(i for i, kp in enumerate(kps) if not all(isinstance(v, numbers.Real) for v in kp))
        bad = next(v for v in kps[k] if not isinstance(v, numbers.Real))
        raise _err(f"{where} {k}: keypoints must be numbers, found {bad!r:.40}", p, "keypoints") from None
    if np.isinf(arr).any():
        k = int(np.argwhere(np.isinf(arr))[0][0])
        raise _err(f"{where} {k}: infinite keypoint value", p, "keypoints")
    lay = _layout_from(names, layout, n_kp, p)
    frame_arr = np.asarray(frames, dtype=np.int64)
    span_src = np.asarray(list(image_frame.values()), dtype=np.int64) if image_frame else frame_arr
    first, last = int(span_src.min()), int(span_src.max())
    if last - first + 1 > MAX_FRAMES:
        raise _err(f"frames {first} to {last} span more than {MAX_FRAMES} frames", p, "image_id")
    keys = list(dict.fromkeys(tracks))
    try:
        keys = sorted(keys)
    except TypeError:  # integers and strings mixed: file order
        pass
    T = last - first + 1
    out = []
    missing = (arr[..., 2] == 0) & (arr[..., 0] == 0) & (arr[..., 1] == 0)
    missing |= np.isnan(arr[..., :2]).any(axis=-1)
    track_arr = np.asarray([keys.index(t) for t in tracks]) if len(keys) > 1 else np.zeros(len(tracks), int)
    for ti, key in enumerate(keys):
        sel = np.flatnonzero(track_arr == ti)
        rows = frame_arr[sel] - first
        if len(np.unique(rows)) != len(rows):
            dup = _first_dup(rows) + first
            who = f"track {key!r}" if has_track else "detections without track ids ('track_id')"
            raise _err(f"two detections of {who} in frame {dup}", p, "track_id" if has_track else "image_id")
        pos = np.full((T, n_kp, 2), np.nan)
        conf = np.full((T, n_kp), np.nan)
        a = arr[sel]
        m = missing[sel]
        xy = np.where(m[..., None], np.nan, a[..., :2])
        pos[rows] = xy
        conf[rows] = np.where(m, np.nan, a[..., 2])
        meta = {
            "source": str(p),
            "person": key,
            "start_frame": first,
            "units": "px",
            "coordinates": "image: x right, y down (pixels)",
        }
        out.append(PoseSequence(pos, lay, fps=fps_out, confidence=conf, meta=meta))
    return out


def _first_dup(rows: np.ndarray) -> int:
    s = np.sort(rows)
    return int(s[np.flatnonzero(np.diff(s) == 0)[0]])


def _json_id(value):
    if isinstance(value, (bool, np.bool_)):
        return str(value)
    if isinstance(value, numbers.Integral):
        return int(value)
    return value if isinstance(value, str) else str(value)


def write_coco(path, sequences: PoseSequence | Iterable[PoseSequence], *, style: str = "annotations") -> Path:
    """Write 2-D pose sequences as COCO-style keypoint JSON (the inverse of :func:`read_coco`).

    Parameters
    ----------
    path : str or path-like
        The ``.json`` file, written to a temporary name and renamed.
    sequences : PoseSequence or list of PoseSequence
        One per track, all with the same joints and C = 2; the track id is
        ``meta["person"]`` (default: the position in the list), the first
        frame ``meta["start_frame"]`` (default 0).
    style : {"annotations", "detections"}
        ``"annotations"``: a COCO annotation file with ``images`` (one per
        frame), ``annotations`` (``track_id``, ``keypoints``,
        ``num_keypoints``, ``score``), ``categories`` (keypoint names and
        skeleton) and ``info.fps``. ``"detections"``: a list of per-frame
        detections (``image_id``, ``track_id``, ``keypoints``, ``score``), as
        pose estimators write them; it names no keypoints and no fps.

    Returns
    -------
    Path

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> pos = np.arange(3 * 17 * 2, dtype=float).reshape(3, 17, 2)
    >>> seq = PoseSequence(pos, "coco17", fps=30, confidence=np.full((3, 17), 0.5), meta={"person": 7})
    >>> f = write_coco(os.path.join(tempfile.mkdtemp(), "p.json"), seq)
    >>> back = read_coco(f)[0]
    >>> bool(np.array_equal(back.position, pos)), back.fps, back.meta["person"]
    (True, 30.0, 7)
    """
    if style not in ("annotations", "detections"):
        raise ParameterError(f"style must be 'annotations' or 'detections', got {style!r}")
    if isinstance(sequences, PoseSequence):
        seqs = [sequences]
    elif isinstance(sequences, (str, bytes, os.PathLike)) or not isinstance(sequences, Iterable):
        raise ParameterTypeError(f"expected a PoseSequence or a list of them, got {type(sequences).__name__}")
    else:
        seqs = list(sequences)
    if not seqs:
        raise ParameterError("no pose sequences given")
    path = Path(os.fspath(path))
    if path.is_dir():
        raise PoseDataError("is a folder; expected a file name to write", path=path)
    first = seqs[0]
    for i, s in enumerate(seqs):
        if not isinstance(s, PoseSequence):
            raise ParameterTypeError(f"item {i}: expected a PoseSequence, got {type(s).__name__}")
        if s.n_dims != 2:
            raise PoseDataError(f"sequence {i}: COCO keypoints are 2-D (x, y), the sequence has {s.n_dims}")
        if s.layout.joints != first.layout.joints:
            raise PoseDataError(
                f"sequence {i}: joints differ from the first sequence's; one file holds one skeleton"
            )
    ids = [_json_id(s.meta.get("person", i)) for i, s in enumerate(seqs)]
    if len(set(map(repr, ids))) != len(ids):
        raise PoseDataError(f"track ids (meta['person']) must be unique, found {ids}")
    starts = [int(s.meta.get("start_frame", 0) or 0) for s in seqs]
    J = first.n_joints
    dets: list[dict[str, Any]] = []
    frames_all: set[int] = set()
    for s, tid, start in zip(seqs, ids, starts, strict=True):
        pos = s.position
        miss = np.isnan(pos).any(axis=2)
        conf = np.full((s.n_frames, J), np.nan) if s.confidence is None else s.confidence
        v = np.where(np.isnan(conf), 2.0, conf)
        trip = np.concatenate(
            [np.where(miss[..., None], 0.0, pos), np.where(miss, 0.0, v)[..., None]], axis=2
        )
        frames_all.update(range(start, start + s.n_frames))
        for t in np.flatnonzero(~miss.all(axis=1)):
            frame = start + int(t)
            present = ~miss[t]
            score = float(np.nanmean(conf[t][present])) if np.isfinite(conf[t][present]).any() else 1.0
            d: dict[str, Any] = {"image_id": frame, "track_id": tid, "category_id": 1}
            d["keypoints"] = trip[t].reshape(-1).tolist()
            if style == "annotations":
                d["num_keypoints"] = int(present.sum())
            d["score"] = score
            dets.append(d)
    dets.sort(key=lambda d: d["image_id"])
    if style == "annotations":
        for k, d in enumerate(dets, 1):
            d["id"] = k
        fps = first.fps if all(s.fps == first.fps for s in seqs) else None
        idx = {j: i + 1 for i, j in enumerate(first.layout.joints)}
        doc: dict[str, Any] = {
            "info": {"description": "pose tracks written by skelbehave", **({"fps": fps} if fps else {})},
            "images": [{"id": f, "frame": f} for f in sorted(frames_all)],
            "annotations": dets,
            "categories": [
                {
                    "id": 1,
                    "name": "person" if first.layout.name == "coco17" else first.layout.name,
                    "keypoints": list(first.layout.joints),
                    "skeleton": [[idx[a], idx[b]] for a, b in first.layout.bones],
                }
            ],
        }
    else:
        doc = dets  # type: ignore[assignment]
    with atomic_write(path) as fh:
        json.dump(doc, fh, allow_nan=False)
    return path
