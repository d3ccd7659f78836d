"""`LocalDescriptors`: ragged per-group local descriptors of many sequences.

The hand-off between :mod:`skelbehave.features` and :mod:`skelbehave.encoding`.
All sequences are stored concatenated, with row offsets, so that downstream
kernels run over the whole collection without a Python loop per sequence.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..errors import ParameterError, ParameterTypeError

__all__ = ["BlockInfo", "LocalDescriptors"]

#: Kinds of descriptor blocks made by :class:`~skelbehave.features.JointFeatures`.
KINDS = ("position", "displacement", "acceleration")


@dataclass(frozen=True)
class BlockInfo:
    """What one descriptor block describes: a kind of feature of one body part.

    Parameters
    ----------
    kind : str
        ``"position"`` (root-relative positions), ``"displacement"`` (velocity),
        ``"acceleration"``, or any other kind a feature extractor makes. Several
        kinds fused into one block are joined by ``"+"``.
    part : str
        Body part (joint group) name, e.g. ``"arm_left"``.

    Examples
    --------
    >>> b = BlockInfo("displacement", "arm_left")
    >>> b.kind, b.part, str(b)
    ('displacement', 'arm_left', 'displacement:arm_left')
    """

    kind: str
    part: str

    def __post_init__(self) -> None:
        if not isinstance(self.kind, str) or not isinstance(self.part, str):
            raise ParameterTypeError(f"BlockInfo kind and part must be str, got {self.kind!r}, {self.part!r}")

    def __str__(self) -> str:
        return f"{self.kind}:{self.part}"


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
    block_info : list of BlockInfo
        Kind and body part of each block, e.g.
        ``BlockInfo("displacement", "arm_left")``.
    fps : ndarray of float, shape (n,), optional
        Frames per second of each sequence, when known.

    Examples
    --------
    >>> import numpy as np
    >>> d = LocalDescriptors(
    ...     blocks=[np.zeros((5, 6))], offsets=np.array([0, 2, 5]),
    ...     frame_index=np.array([0, 1, 0, 1, 2]), n_frames=np.array([2, 3]),
    ...     block_info=[BlockInfo("position", "all")])
    >>> d.n_sequences, d.n_rows, d.dims, d.group_names
    (2, 5, [6], ['position:all'])
    >>> d.relative_time()
    array([0.25      , 0.75      , 0.16666667, 0.5       , 0.83333333])
    """

    blocks: list[np.ndarray]
    offsets: np.ndarray
    frame_index: np.ndarray
    n_frames: np.ndarray
    block_info: Sequence[BlockInfo]
    fps: np.ndarray | None = None

    def __post_init__(self) -> None:
        self.block_info = list(self.block_info)
        bad = [b for b in self.block_info if not isinstance(b, BlockInfo)]
        if bad:
            raise ParameterTypeError(f"block_info needs one BlockInfo(kind, part) per block, got {bad[0]!r}")
        self.offsets = np.asarray(self.offsets, dtype=np.int64)
        self.frame_index = np.asarray(self.frame_index, dtype=np.int64)
        self.n_frames = np.asarray(self.n_frames, dtype=np.int64)
        n_rows = int(self.offsets[-1]) if len(self.offsets) else 0
        if len(self.blocks) != len(self.block_info):
            raise ParameterError(f"{len(self.blocks)} blocks but {len(self.block_info)} BlockInfo entries")
        for name, b in zip(self.group_names, self.blocks, strict=True):
            if b.ndim != 2 or b.shape[0] != n_rows:
                raise ParameterError(f"group {name!r}: expected ({n_rows}, d) rows, got {b.shape}")
        if self.frame_index.shape != (n_rows,):
            raise ParameterError(f"frame_index must have {n_rows} rows, got {self.frame_index.shape}")
        if self.n_frames.shape != (len(self.offsets) - 1,):
            raise ParameterError("n_frames needs one entry per sequence")
        if self.fps is not None:
            self.fps = np.asarray(self.fps, dtype=np.float64)
            if self.fps.shape != self.n_frames.shape or not np.all(np.isfinite(self.fps) & (self.fps > 0)):
                raise ParameterError("fps needs one positive value per sequence (or None)")

    @property
    def group_names(self) -> list[str]:
        """Display names ``"<kind>:<part>"`` of the blocks."""
        return [str(b) for b in self.block_info]

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

    def replace_blocks(self, blocks: list[np.ndarray], block_info: Sequence[BlockInfo]) -> LocalDescriptors:
        """The same sequences, rows and fps with other blocks."""
        return LocalDescriptors(blocks, self.offsets, self.frame_index, self.n_frames, block_info, self.fps)

    def sequence(self, i: int) -> list[np.ndarray]:
        """The per-group blocks of sequence ``i``."""
        a, b = self.offsets[i], self.offsets[i + 1]
        return [blk[a:b] for blk in self.blocks]
