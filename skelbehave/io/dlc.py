"""DeepLabCut CSV files (2-D keypoints with likelihood).

Two header shapes are read:

- single-animal, 3 header rows: ``scorer``, ``bodyparts``, ``coords``
  (CalMS21 names them ``scorer``, ``keypoints``, ``coord`` and puts the animal
  name -- ``Resident``/``Intruder`` -- in the scorer row: when the scorer row
  holds more than one distinct value, each value is treated as one animal);
- multi-animal, 4 header rows: ``scorer``, ``individuals``, ``bodyparts``,
  ``coords``.

The first column is the 0-based frame number. Empty cells are missing
detections (NaN). Each animal becomes one :class:`PoseSequence` with a layout
built from its body-part names (:meth:`JointLayout.from_names`), C = 2
(x, y in pixels) and ``confidence`` = likelihood. DeepLabCut files do not store
the frame rate: ``fps`` is None unless passed.

The format stores no frame count: a file cut just after a line break reads as
the frames before the cut. A file that does not end with a line break is
refused as truncated.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import LayoutError, PoseDataError
from ..layouts import JointLayout, get_layout
from ..poses import PoseSequence
from .files import check_path, open_regular, read_regular_bytes

__all__ = ["read_dlc_csv"]

_ROW_NAMES = {
    "individuals": "individuals",
    "bodyparts": "bodyparts",
    "keypoints": "bodyparts",
    "coords": "coords",
    "coord": "coords",
}


def _numeric_block(lines: list[str], n_fields: int, first_line: int, path, colnames: list[str]) -> np.ndarray:
    """Parse comma-separated numeric rows (empty = NaN) exactly, with clear errors."""
    counts = [ln.count(",") for ln in lines]
    bad = [i for i, c in enumerate(counts) if c != n_fields - 1]
    if bad:
        r = bad[0]
        raise PoseDataError(
            f"expected {n_fields} fields, found {counts[r] + 1}" + (" (empty line)" if not lines[r] else ""),
            path=path,
            line=first_line + r,
        )
    text = "\n".join(lines) + "\n"
    try:
        import pyarrow as pa
        import pyarrow.csv as pacsv

        table = pacsv.read_csv(
            io.BytesIO(text.encode("utf-8")),
            read_options=pacsv.ReadOptions(
                column_names=[f"c{k}" for k in range(n_fields)], use_threads=False
            ),
            parse_options=pacsv.ParseOptions(quote_char=False, escape_char=False),
            convert_options=pacsv.ConvertOptions(
                column_types={f"c{k}": pa.float64() for k in range(n_fields)},
                null_values=["", "nan", "NaN"],
            ),
        )
        out = np.empty((table.num_rows, n_fields))
        for k in range(n_fields):
            out[:, k] = table.column(k).to_numpy(zero_copy_only=False)
    except ImportError:  # pragma: no cover - pyarrow is optional
        try:
            out = pd.read_csv(
                io.StringIO(text),
                header=None,
                dtype=np.float64,
                na_values=["", "nan", "NaN"],
                keep_default_na=False,
                quoting=csv.QUOTE_NONE,
                float_precision="round_trip",
            ).to_numpy()
        except ValueError:
            out = None
    except Exception:  # pyarrow.ArrowInvalid: locate the bad cell below
        out = None
    if out is None or out.shape != (len(lines), n_fields):
        df = pd.read_csv(
            io.StringIO(text), header=None, dtype=str, keep_default_na=False, quoting=csv.QUOTE_NONE
        )
        for k in range(n_fields):
            vals = df[k]
            isbad = (
                pd.to_numeric(vals, errors="coerce").isna().to_numpy()
                & ~vals.isin(["", "nan", "NaN"]).to_numpy()
            )
            if isbad.any():
                r = int(np.flatnonzero(isbad)[0])
                raise PoseDataError(
                    f"expected a number (or an empty cell for missing), found {vals.iloc[r][:40]!r}",
                    path=path,
                    line=first_line + r,
                    column=colnames[k],
                )
        raise PoseDataError("could not parse the numeric rows", path=path, line=first_line)
    if np.isinf(out).any():
        r, k = np.argwhere(np.isinf(out))[0]
        raise PoseDataError(
            "infinite value; use an empty cell for missing",
            path=path,
            line=first_line + r,
            column=colnames[k],
        )
    return out


def read_dlc_csv(
    path,
    *,
    fps: float | None = None,
    layout: str | JointLayout | None = None,
    layout_name: str = "dlc",
) -> list[PoseSequence]:
    """Read a DeepLabCut CSV: one :class:`PoseSequence` per animal.

    Parameters
    ----------
    path : str or path-like
        The ``.csv`` written by DeepLabCut (``analyze_videos(..., save_as_csv=True)``).
    fps : float, optional
        Frame rate of the video; DeepLabCut files do not record it.
    layout : str or JointLayout, optional
        Use this layout instead of one built from the body-part names; its
        joints must be the file's body parts, in the file's order.
    layout_name : str
        Name of the layout built from the body-part names (default ``"dlc"``).

    Returns
    -------
    list of PoseSequence
        One per individual, in file order; ``meta`` holds ``source``,
        ``person`` (the individual's name, or 0 for a single animal),
        ``scorer``, ``start_frame`` and ``units="px"``.

    Examples
    --------
    >>> import tempfile, os
    >>> f = os.path.join(tempfile.mkdtemp(), "v.csv")
    >>> _ = open(f, "w").write(
    ...     "scorer,net,net,net,net,net,net\\n"
    ...     "bodyparts,nose,nose,nose,tail,tail,tail\\n"
    ...     "coords,x,y,likelihood,x,y,likelihood\\n"
    ...     "0,1.5,2.5,0.9,,,\\n1,1.6,2.4,0.8,3.0,4.0,0.7\\n"
    ... )
    >>> seq = read_dlc_csv(f, fps=30)[0]
    >>> seq.layout.joints, seq.n_dims, int(seq.missing.sum())
    (('nose', 'tail'), 2, 1)
    """
    path = check_path(path)
    raw = read_regular_bytes(path)
    if not raw.strip():
        raise PoseDataError(
            "empty file; expected a DeepLabCut header starting with 'scorer'", path=path, line=1
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise PoseDataError(f"not UTF-8 text (byte {exc.start})", path=path, line=line) from None
    lines = text.replace("\r\n", "\n").split("\n")
    if lines[-1] == "":
        lines.pop()
    else:
        raise PoseDataError(
            "the last line has no line break: the file looks truncated", path=path, line=len(lines)
        )
    header = [ln.split(",") for ln in lines[:4]]
    if header[0][0].strip() != "scorer":
        raise PoseDataError(
            f"not a DeepLabCut CSV: expected the first cell 'scorer', found {header[0][0][:40]!r}",
            path=path,
            line=1,
        )
    rows: dict[str, list[str]] = {"scorer": header[0]}
    n_head = None
    for i in range(1, len(header)):
        key = _ROW_NAMES.get(header[i][0].strip())
        if key is None or key in rows or (key == "individuals" and i != 1):
            expected = "'individuals' or 'bodyparts'" if i == 1 else "'bodyparts'" if i == 2 else "'coords'"
            raise PoseDataError(
                f"DeepLabCut header row {i + 1} must start with {expected}, found {header[i][0][:40]!r}",
                path=path,
                line=i + 1,
            )
        rows[key] = header[i]
        if key == "coords":
            n_head = i + 1
            break
    if n_head is None or "bodyparts" not in rows:
        raise PoseDataError(
            "incomplete DeepLabCut header: expected rows scorer, [individuals,] bodyparts, coords "
            "(truncated file?)",
            path=path,
            line=len(header),
        )
    n_fields = len(rows["scorer"])
    for i, (k, r) in enumerate(rows.items()):
        if len(r) != n_fields:
            raise PoseDataError(
                f"header row {k!r} has {len(r)} fields, the scorer row has {n_fields}", path=path, line=i + 1
            )
    if n_fields < 3:
        raise PoseDataError("no keypoint columns after the frame column", path=path, line=1)

    scorer = rows["scorer"][1:]
    if "individuals" in rows:
        indiv = rows["individuals"][1:]
    elif len(set(scorer)) > 1:  # CalMS21 style: animal name in the scorer row
        indiv = scorer
    else:
        indiv = [""] * len(scorer)
    parts = rows["bodyparts"][1:]
    coords = [c.strip() for c in rows["coords"][1:]]

    # group columns: individual -> ordered bodyparts -> coord -> column index
    animals: dict[str, dict[str, dict[str, int]]] = {}
    for k, (a, b, c) in enumerate(zip(indiv, parts, coords, strict=True)):
        if c not in ("x", "y", "z", "likelihood"):
            raise PoseDataError(
                f"coords must be x, y, (z,) likelihood; found {c!r}", path=path, line=n_head, column=k + 2
            )
        slot = animals.setdefault(a, {}).setdefault(b, {})
        if c in slot:
            raise PoseDataError(
                f"column for individual {a!r}, body part {b!r}, coord {c!r} appears twice",
                path=path,
                line=n_head,
                column=k + 2,
            )
        slot[c] = k + 1
    colnames = ["frame"] + [
        "/".join(x for x in (a, b, c) if x) for a, b, c in zip(indiv, parts, coords, strict=True)
    ]

    body = lines[n_head:]
    if not body:
        raise PoseDataError("no data rows after the header", path=path, line=n_head)
    data = _numeric_block(body, n_fields, n_head + 1, path, colnames)
    frame = data[:, 0]
    okf = np.isfinite(frame) & (frame == np.round(frame)) & (frame >= 0)
    if not okf.all():
        r = int(np.flatnonzero(~okf)[0])
        raise PoseDataError(
            f"expected a frame number (integer >= 0), found {frame[r]}",
            path=path,
            line=n_head + 1 + r,
            column=1,
        )
    step = np.diff(frame)
    if (step != 1).any():
        r = int(np.flatnonzero(step != 1)[0]) + 1
        raise PoseDataError(
            f"frame numbers must increase by 1: frame {int(frame[r - 1])} is followed by {frame[r]:g}",
            path=path,
            line=n_head + 1 + r,
            column=1,
        )

    fixed_layout = None if layout is None else get_layout(layout)
    out = []
    for a_idx, (name, bp) in enumerate(animals.items()):
        names = list(bp)
        dims = [c for c in ("x", "y", "z") if c in bp[names[0]]]
        for b in names:
            have = [c for c in ("x", "y", "z") if c in bp[b]]
            if have != dims or len(dims) < 2:
                raise PoseDataError(
                    f"individual {name or 0!r}, body part {b!r}: coordinates {have}, expected {dims} "
                    "(x and y at least, the same for every body part)",
                    path=path,
                    line=n_head,
                )
        has_lik = ["likelihood" in bp[b] for b in names]
        if any(has_lik) and not all(has_lik):
            raise PoseDataError(
                f"individual {name or 0!r}: likelihood columns for some body parts only",
                path=path,
                line=n_head,
            )
        idx = np.array([[bp[b][c] for c in dims] for b in names])  # (J, C)
        pos = data[:, idx]  # (T, J, C)
        conf = data[:, [bp[b]["likelihood"] for b in names]] if all(has_lik) else None
        if fixed_layout is not None:
            if list(fixed_layout.joints) != names:
                raise PoseDataError(
                    f"layout {fixed_layout.name!r} expects {fixed_layout.n_joints} joints "
                    f"{list(fixed_layout.joints)}, the file has {len(names)} body parts {names}",
                    path=path,
                    line=n_head - 1,
                )
            lay = fixed_layout
        else:
            try:
                lay = JointLayout.from_names(names, name=layout_name)
            except LayoutError as exc:
                raise PoseDataError(str(exc), path=path, line=n_head - 1) from None
        person: object = name if name else a_idx
        sc = sorted({scorer[bp[b][c] - 1] for b in names for c in bp[b]})
        meta = {
            "source": str(path),
            "person": person,
            "scorer": sc[0] if len(sc) == 1 else sc,
            "start_frame": int(frame[0]),
            "units": "px",
            "coordinates": "image: x right, y down (pixels)",
        }
        out.append(PoseSequence(pos, lay, fps=fps, confidence=conf, meta=meta))
    return out


def dlc_individuals(path) -> list[str]:
    """Names of the individuals in a DeepLabCut CSV (cheap: reads the header only)."""
    p = Path(path)
    with open_regular(p) as fh:
        first = [fh.readline(1 << 20).decode("utf-8", "replace").rstrip("\r\n").split(",") for _ in range(2)]
    if first[1][0] == "individuals":
        return list(dict.fromkeys(first[1][1:]))
    return list(dict.fromkeys(first[0][1:]))
