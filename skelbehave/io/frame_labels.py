"""Per-frame label CSV files (``frame,<stream>,...``) of the rat social and CalMS21 data sets."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import PoseDataError
from .files import check_path, open_regular

__all__ = ["label_codes", "read_frame_label_csv"]


def read_frame_label_csv(
    path, columns: tuple[str, ...] | None = None, optional: tuple[str, ...] = ()
) -> dict[str, np.ndarray]:
    """A per-frame label CSV: a ``frame`` column 0, 1, 2, ... then ``columns`` (and maybe ``optional``).

    This is the package's one reader of per-frame label CSVs (the data sets'
    loaders and :func:`skelbehave.io.annotations.read_annotations` use it).

    Parameters
    ----------
    path : path-like
        The file.
    columns : tuple of str, optional
        Required label columns after ``frame``, in order. None: any columns
        (at least one) after a first column ``frame``.
    optional : tuple of str
        Columns that may follow the required ones.

    Returns
    -------
    dict of str to ndarray of str
        One array per label column.

    Examples
    --------
    >>> import os, tempfile
    >>> f = os.path.join(tempfile.mkdtemp(), "1_labels.csv")
    >>> _ = open(f, "w").write("frame,S1\\n0,base\\n1,social\\n")
    >>> read_frame_label_csv(f, ("S1",))["S1"].tolist()
    ['base', 'social']
    """
    path = check_path(path)
    try:
        with open_regular(path) as fh:
            df = pd.read_csv(fh, dtype=str, keep_default_na=False)
    except PoseDataError:
        raise
    except Exception as exc:
        raise PoseDataError(f"not a readable CSV: {exc}", path=path) from None
    if columns is None:
        if list(df.columns[:1]) != ["frame"] or len(df.columns) < 2:
            raise PoseDataError(
                f"expected a first column 'frame' and at least one label column, found {list(df.columns)}",
                path=path,
                line=1,
            )
        columns = tuple(df.columns[1:])
    expected = ["frame", *columns]
    if list(df.columns) != expected and list(df.columns) != [*expected, *optional]:
        raise PoseDataError(
            f"expected columns {expected + list(optional)}, found {list(df.columns)}", path=path, line=1
        )
    frame = pd.to_numeric(df["frame"], errors="coerce").to_numpy()
    if len(frame) == 0:
        raise PoseDataError("no label rows", path=path, line=2)
    if not np.array_equal(frame, np.arange(len(frame))):
        r = int(np.flatnonzero(frame != np.arange(len(frame)))[0])
        raise PoseDataError(f"expected frame {r}, found {df['frame'].iloc[r]!r}", path=path, line=r + 2)
    return {c: df[c].to_numpy(dtype=str) for c in df.columns if c != "frame"}


def label_codes(values: np.ndarray, names: tuple[str, ...], path, column: str) -> np.ndarray:
    """Label names to codes (positions in ``names``); an unknown name raises :class:`PoseDataError`.

    Examples
    --------
    >>> import numpy as np
    >>> label_codes(np.array(["social", "base"]), ("base", "social"), "1_labels.csv", "S1").tolist()
    [1, 0]
    """
    lookup = {n: k for k, n in enumerate(names)}
    out = np.empty(len(values), dtype=np.int64)
    for i, v in enumerate(values):
        k = lookup.get(v.strip())
        if k is None:
            raise PoseDataError(
                f"unknown label {v!r}; expected one of {list(names)}", path=path, line=i + 2, column=column
            )
        out[i] = k
    return out
