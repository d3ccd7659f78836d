"""`LocalDescriptors`: ragged per-group local descriptors of many sequences.

The hand-off between :mod:`skelbehave.features` and :mod:`skelbehave.encoding`.
All sequences are stored concatenated, with row offsets, so that downstream
kernels run over the whole collection without a Python loop per sequence.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["LocalDescriptors"]


@dataclass
class LocalDescriptors:
    """Local descriptors of ``n`` sequences for ``m`` joint groups.

    Parameters
    ----------
    blocks : list of ndarray
        One array per group, shape ``(N, d_g)`` (float64 or float32), rows of
        all sequences concatenated in order. Every group has the same rows.
    offsets : ndarray of int64, shape (n + 1,)
        Rows of sequence ``i`` are ``offsets[i]:offsets[i + 1]``.
    frame_index : ndarray of int64, shape (N,)
        Frame (within its own sequence) each row describes: used to place a
        row in a temporal pyramid.
    n_frames : ndarray of int64, shape (n,)
        Original length of each sequence in frames.
    group_names : list of str
        Name of each group, e.g. ``"disp:arm_left"`` or ``"pos:head+torso"``.

    Examples
    --------
    >>> import numpy as np
    >>> d = LocalDescriptors(
    ...     blocks=[np.zeros((5, 6))], offsets=np.array([0, 2, 5]),
    ...     frame_index=np.array([0, 1, 0, 1, 2]), n_frames=np.array([2, 3]),
    ...     group_names=["pos:all"])
    >>> d.n_sequences, d.n_rows, d.dims
    (2, 5, [6])
    >>> d.relative_time()
    array([0.25      , 0.75      , 0.16666667, 0.5       , 0.83333333])
    """

    blocks: list[np.ndarray]
    offsets: np.ndarray
    frame_index: np.ndarray
    n_frames: np.ndarray
    group_names: list[str]

    def __post_init__(self) -> None:
        self.offsets = np.asarray(self.offsets, dtype=np.int64)
        self.frame_index = np.asarray(self.frame_index, dtype=np.int64)
        self.n_frames = np.asarray(self.n_frames, dtype=np.int64)
        n_rows = int(self.offsets[-1]) if len(self.offsets) else 0
        if len(self.blocks) != len(self.group_names):
            raise ValueError(f"{len(self.blocks)} blocks but {len(self.group_names)} group names")
        for name, b in zip(self.group_names, self.blocks, strict=True):
            if b.ndim != 2 or b.shape[0] != n_rows:
                raise ValueError(f"group {name!r}: expected ({n_rows}, d) rows, got {b.shape}")
        if self.frame_index.shape != (n_rows,):
            raise ValueError(f"frame_index must have {n_rows} rows, got {self.frame_index.shape}")
        if self.n_frames.shape != (len(self.offsets) - 1,):
            raise ValueError("n_frames needs one entry per sequence")

    @property
    def n_sequences(self) -> int:
        """Number of sequences n."""
        return len(self.offsets) - 1

    @property
    def n_rows(self) -> int:
        """Total number of descriptor rows N."""
        return int(self.offsets[-1])

    @property
    def dims(self) -> list[int]:
        """Descriptor dimension of each group."""
        return [b.shape[1] for b in self.blocks]

    def lengths(self) -> np.ndarray:
        """Rows per sequence."""
        return np.diff(self.offsets)

    def relative_time(self) -> np.ndarray:
        """Position in (0, 1) of each row within its sequence (frame centre / length)."""
        seq_len = np.repeat(self.n_frames, self.lengths()).astype(np.float64)
        return (self.frame_index + 0.5) / np.maximum(seq_len, 1.0)

    def concat(self) -> np.ndarray:
        """All groups side by side: one ``(N, sum(dims))`` array (per-frame feature rows)."""
        return np.hstack(self.blocks) if self.blocks else np.zeros((self.n_rows, 0))

    def split(self, rows: np.ndarray) -> list[np.ndarray]:
        """Cut an ``(N, ...)`` array into one piece per sequence by :attr:`offsets`."""
        return np.split(rows, self.offsets[1:-1])

    def sequence(self, i: int) -> list[np.ndarray]:
        """The per-group blocks of sequence ``i``."""
        a, b = self.offsets[i], self.offsets[i + 1]
        return [blk[a:b] for blk in self.blocks]
