"""PRECOG files: the original ``SeqK_P.csv`` streams and the package's compact embedded copy.

A ``SeqK_P.csv`` has a header naming the 20 Kinect v1 joints and one line per
frame: 20 ``x y z`` fields and a label 0..8, separated by ``;``. The embedded
copy (``skelbehave/_data/precog/precog.npz``) stores the same positions as
float32, compressed losslessly (:func:`pack_positions`), in an ``.npz`` read
without pickle.
"""

from __future__ import annotations

import io as _io
import lzma

import numpy as np

from ..errors import PoseDataError
from .files import check_path, read_regular_bytes

__all__ = ["PRECOG_JOINTS", "pack_positions", "read_precog_csv", "read_precog_npz", "unpack_positions"]

PRECOG_JOINTS = (
    "HipCenter Spine ShoulderCenter Head ShoulderLeft ElbowLeft WristLeft HandLeft ShoulderRight "
    "ElbowRight WristRight HandRight HipLeft KneeLeft AnkleLeft FootLeft HipRight KneeRight AnkleRight "
    "FootRight"
).split()


def read_precog_csv(path) -> tuple[np.ndarray, np.ndarray]:
    """One PRECOG ``SeqK_P.csv``: positions (T, 20, 3) float64 and labels (T,) int.

    Examples
    --------
    >>> import os
    >>> f = "../shared/data/precog_2016/Seq1_1.csv"
    >>> read_precog_csv(f)[0].shape[1:] if os.path.exists(f) else (20, 3)
    (20, 3)
    """
    path = check_path(path)
    raw = read_regular_bytes(path)
    try:
        text = raw.decode("ascii")
    except UnicodeDecodeError as exc:
        raise PoseDataError(f"not ASCII text (byte {exc.start})", path=path) from None
    lines = text.splitlines()
    if not lines or not text.strip():
        raise PoseDataError("empty file; expected a header naming 20 joints", path=path, line=1)
    head = [h.strip() for h in lines[0].split(";")]
    if head != PRECOG_JOINTS:
        raise PoseDataError(
            f"expected the header {'; '.join(PRECOG_JOINTS)}, found {lines[0][:120]!r}", path=path, line=1
        )
    body = lines[1:]
    while body and not body[-1].strip():
        body.pop()
    if not body:
        raise PoseDataError("no frames after the header", path=path, line=2)
    counts = [ln.count(";") for ln in body]
    if any(c != 20 for c in counts):
        r = next(i for i, c in enumerate(counts) if c != 20)
        raise PoseDataError(
            f"expected 21 ';'-separated fields (20 joints 'x y z' and a label), found {counts[r] + 1}",
            path=path,
            line=r + 2,
        )
    try:
        vals = np.array(" ".join(body).replace(";", " ").split(), dtype=np.float64)
    except ValueError:
        vals = None
    if vals is None or vals.size != 61 * len(body):
        for r, ln in enumerate(body):
            parts = ln.split(";")
            for k, p in enumerate(parts[:20]):
                toks = p.split()
                if len(toks) != 3:
                    raise PoseDataError(
                        f"joint {PRECOG_JOINTS[k]}: expected 3 numbers 'x y z', found {len(toks)}",
                        path=path,
                        line=r + 2,
                        column=k + 1,
                    )
                for t in toks:
                    try:
                        float(t)
                    except ValueError:
                        raise PoseDataError(
                            f"joint {PRECOG_JOINTS[k]}: expected a number, found {t[:40]!r}",
                            path=path,
                            line=r + 2,
                            column=k + 1,
                        ) from None
            if len(parts[20].split()) != 1:
                raise PoseDataError(
                    f"expected one label, found {parts[20][:40]!r}", path=path, line=r + 2, column=21
                )
        raise PoseDataError("could not parse the numbers", path=path)  # pragma: no cover
    arr = vals.reshape(len(body), 61)
    lab = arr[:, 60]
    ok = (lab == np.round(lab)) & (lab >= 0) & (lab <= 8)
    if not ok.all():
        r = int(np.flatnonzero(~ok)[0])
        raise PoseDataError(
            f"label must be an integer 0..8, found {lab[r]:g}", path=path, line=r + 2, column=21
        )
    if not np.isfinite(arr).all():
        r = int(np.flatnonzero(~np.isfinite(arr).all(axis=1))[0])
        raise PoseDataError("non-finite coordinate", path=path, line=r + 2)
    return arr[:, :60].reshape(-1, 20, 3), lab.astype(np.int64)


def pack_positions(pos32: np.ndarray) -> bytes:
    """Lossless float32 compression of positions (T, J, 3): time delta of the bit patterns, byte planes, xz.

    Examples
    --------
    >>> import numpy as np
    >>> pos = np.random.default_rng(0).normal(size=(5, 2, 3)).astype(np.float32)
    >>> np.array_equal(unpack_positions(pack_positions(pos), 5, 6), pos)
    True
    """
    bits = pos32.reshape(len(pos32), -1).view(np.int32)
    delta = np.diff(bits, axis=0, prepend=np.zeros((1, bits.shape[1]), np.int32))
    planes = np.ascontiguousarray(delta.T).view(np.uint8).reshape(-1, 4).T
    return lzma.compress(np.ascontiguousarray(planes).tobytes(), preset=9 | lzma.PRESET_EXTREME)


def unpack_positions(blob: bytes, n_frames: int, n_values: int) -> np.ndarray:
    """Inverse of :func:`pack_positions`: float32 positions (n_frames, n_values // 3, 3).

    Examples
    --------
    >>> import numpy as np
    >>> unpack_positions(pack_positions(np.zeros((4, 1, 3), np.float32)), 4, 3).shape
    (4, 1, 3)
    """
    planes = np.frombuffer(lzma.decompress(blob), dtype=np.uint8).reshape(4, -1)
    delta = np.ascontiguousarray(planes.T).view(np.int32).reshape(n_values, n_frames).T
    bits = np.cumsum(delta, axis=0, dtype=np.int32)
    return bits.view(np.float32).reshape(n_frames, -1, 3)


def read_precog_npz(
    data: bytes, source: str = "precog.npz"
) -> list[tuple[str, int, int, np.ndarray, np.ndarray]]:
    """The streams of a compact PRECOG ``.npz`` (as written by ``build_embedded_precog``).

    Parameters
    ----------
    data : bytes
        The file's content.
    source : str
        Name used in error messages.

    Returns
    -------
    list of (name, script, subject, positions (T, 20, 3) float64, labels (T,) int64)

    Examples
    --------
    >>> from importlib import resources
    >>> blob = resources.files("skelbehave._data").joinpath("precog/precog.npz").read_bytes()
    >>> name, script, subject, pos, lab = read_precog_npz(blob)[0]
    >>> pos.shape[1:], lab.shape == pos.shape[:1]
    ((20, 3), True)
    """
    try:
        z = np.load(_io.BytesIO(data), allow_pickle=False)
    except Exception as exc:  # numpy raises several types for a corrupt archive
        raise PoseDataError(f"not a readable .npz file: {exc}", path=source) from None
    with z:
        need = {
            "format_version",
            "n_frames",
            "position_xz",
            "labels",
            "offsets",
            "script",
            "subject",
            "names",
        }
        if missing := sorted(need - set(z.files)):
            raise PoseDataError(f"missing arrays {missing}", path=source)
        if int(z["format_version"]) != 1:
            raise PoseDataError("compact PRECOG copy has an unknown format version", path=source)
        n = int(z["n_frames"])
        pos = unpack_positions(z["position_xz"].tobytes(), n, 60)
        lab, off = z["labels"].astype(np.int64), z["offsets"]
        script, subject, names = z["script"], z["subject"], z["names"]
    if (
        len(off) != len(script) + 1
        or off[0] != 0
        or off[-1] != n
        or (np.diff(off) < 0).any()
        or len(lab) != n
    ):
        raise PoseDataError("stream offsets do not fit the frame count", path=source)
    out = []
    for i in range(len(script)):
        a, b = int(off[i]), int(off[i + 1])
        out.append((str(names[i]), int(script[i]), int(subject[i]), pos[a:b].astype(np.float64), lab[a:b]))
    return out
