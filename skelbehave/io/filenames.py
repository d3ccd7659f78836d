"""Ids encoded in dataset file names (``a01_s02_e03_skeleton3D.txt``, ``Seq3_7.csv``)."""

from __future__ import annotations

import re

from ..errors import PoseDataError

__all__ = ["ids_from_name"]


def ids_from_name(pattern: str, name: str, path=None) -> tuple[int, ...]:
    """The integer groups of ``pattern`` matched against a file name.

    Parameters
    ----------
    pattern : str
        Regular expression matched against the whole ``name``; every group is an integer.
    name : str
        The file name.
    path : path-like, optional
        The file, named in the error message.

    Returns
    -------
    tuple of int

    Raises
    ------
    PoseDataError
        When the name does not match.

    Examples
    --------
    >>> ids_from_name(r"a(\\d+)_s(\\d+)_e(\\d+)_skeleton3D\\.txt", "a01_s02_e03_skeleton3D.txt")
    (1, 2, 3)
    """
    m = re.fullmatch(pattern, name)
    if m is None:
        raise PoseDataError(f"file name does not match {pattern!r}", path=path if path is not None else name)
    return tuple(int(g) for g in m.groups())
