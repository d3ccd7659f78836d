"""movement datasets saved as netCDF (``.nc``), movement's own way of keeping a poses dataset.

movement saves a poses dataset with :meth:`xarray.Dataset.to_netcdf` and loads it
with :func:`xarray.open_dataset`; :func:`read_movement_netcdf` and
:func:`write_movement_netcdf` do the same with pose sequences (through
:func:`~skelbehave.io.movement_convert.from_movement` and
:func:`~skelbehave.io.movement_convert.to_movement`). The file keeps positions,
confidences, keypoint and individual names, fps and the first frame exactly. It
needs the ``formats`` extra (xarray and netCDF4 come with movement).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from .._util.fs import atomic_path
from .._util.optional import require
from ..errors import PoseDataError
from ..layouts import JointLayout
from ..poses import PoseSequence
from .files import check_path
from .movement_convert import check_sequences, from_movement, to_movement

__all__ = ["read_movement_netcdf", "write_movement_netcdf"]

_ERRORS = (ValueError, KeyError, OSError, TypeError, RuntimeError, IndexError)


def read_movement_netcdf(
    path, *, fps: float | None = None, layout: str | JointLayout | None = None, layout_name: str = "movement"
) -> list[PoseSequence]:
    """Read a movement poses dataset saved as netCDF: one :class:`PoseSequence` per individual.

    Parameters
    ----------
    path : str or path-like
        The ``.nc`` file (``ds.to_netcdf(path)`` of a movement poses dataset).
    fps, layout, layout_name
        See :func:`~skelbehave.io.movement_convert.from_movement`.

    Returns
    -------
    list of PoseSequence

    Raises
    ------
    PoseDataError
        A file xarray cannot open, or one that holds no poses dataset.

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> seq = PoseSequence(np.ones((4, 17, 2)), "coco17", fps=25, meta={"person": "a", "start_frame": 10})
    >>> f = write_movement_netcdf(os.path.join(tempfile.mkdtemp(), "a.nc"), seq)
    >>> back = read_movement_netcdf(f)[0]
    >>> back.layout.name, back.fps, back.meta["person"], back.meta["start_frame"]
    ('coco17', 25.0, 'a', 10)
    """
    xr = require("xarray", "formats", "reading movement netCDF files")
    require("netCDF4", "formats", "reading movement netCDF files")
    p = check_path(path)
    try:
        with xr.open_dataset(p) as ds:
            ds = ds.load()
    except _ERRORS as exc:
        msg = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise PoseDataError(f"cannot read as a movement netCDF file: {msg}", path=p) from None
    return from_movement(ds, fps=fps, layout=layout, layout_name=layout_name, source=p)


def write_movement_netcdf(path, sequences: PoseSequence | Iterable[PoseSequence]) -> Path:
    """Save pose sequences of one recording as a movement poses dataset in netCDF (``.nc``).

    Parameters
    ----------
    path : str or path-like
        The file, written to a temporary name and renamed.
    sequences : PoseSequence or list of PoseSequence
        One per individual (see :func:`~skelbehave.io.movement_convert.to_movement`).

    Returns
    -------
    Path
    """
    require("netCDF4", "formats", "writing movement netCDF files")
    seqs = check_sequences(sequences)
    path = Path(os.fspath(path))
    if path.suffix.lower() != ".nc":
        raise PoseDataError(f"a movement netCDF file must end with .nc, got {path.name!r}", path=path)
    if path.is_dir():
        raise PoseDataError("is a folder; expected a file name to write", path=path)
    ds = to_movement(seqs)
    ds.attrs = {k: v for k, v in ds.attrs.items() if v is not None}  # netCDF stores no None attributes
    ds.attrs["source_software"] = str(seqs[0].meta.get("source_software") or "skelbehave")
    with atomic_path(path) as tmp:
        ds.to_netcdf(tmp)
    return path
