"""Pose CSV data rows, read in chunks into preallocated arrays.

Private to :mod:`skelbehave.io`. The data rows are read a few megabytes at a
time; each chunk is checked (UTF-8, field counts, numbers, frame numbers,
person ids) before the next one is read, so the first bad line of a large
file is reported without reading the rest. Values go straight into one
float64 array per file when ``# rows:`` gives the row count (the writer
always does), so the returned sequences hold views of it and reading needs
about 1x the returned arrays; without ``# rows:`` the chunks are gathered per
person at the end (about 2x).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from typing import Any, BinaryIO

import numpy as np
import pandas as pd

from ..errors import PoseDataError
from ..poses import MAX_COORDINATE, PoseSequence
from ._pose_csv_header import NA, Header

#: bytes of data rows parsed at a time
CHUNK_BYTES = 2 << 20

try:  # pyarrow parses exact floats (fast_float) several times faster than pandas' round-trip parser
    import pyarrow as _pa
    import pyarrow.compute as _pc
    import pyarrow.csv as _pacsv

    _ArrowInvalid: type[Exception] = _pa.ArrowInvalid
except ImportError:  # pragma: no cover - pyarrow is optional
    _pacsv = None

    class _ArrowInvalid(Exception):  # type: ignore[no-redef]
        pass


def iter_chunks(fh: BinaryIO, path, first_line: int, max_line: int) -> Iterator[tuple[bytes, int, bool]]:
    """Blocks of whole lines: (bytes, number of their first line, is the last block)."""
    line = first_line
    rest = b""
    while True:
        block = fh.read(CHUNK_BYTES)
        buf = rest + block if rest else block
        if not block:
            if buf:
                yield buf, line, True
            return
        cut = buf.rfind(b"\n")
        if cut < 0:
            if len(buf) > max_line:
                raise PoseDataError(f"line longer than {max_line} bytes", path=path, line=line)
            rest = buf
            continue
        chunk, rest = buf[: cut + 1], buf[cut + 1 :]
        if len(rest) > max_line:
            raise PoseDataError(
                f"line longer than {max_line} bytes", path=path, line=line + chunk.count(b"\n")
            )
        yield chunk, line, False
        line += chunk.count(b"\n")


def _line_bounds(chunk: bytes) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Start, end (exclusive, without the line break) and comma count of every line."""
    buf = np.frombuffer(chunk, dtype=np.uint8)
    ends = np.flatnonzero(buf == 10)
    if not chunk.endswith(b"\n"):
        ends = np.append(ends, len(chunk))
    starts = np.empty_like(ends)
    starts[:1] = 0
    starts[1:] = ends[:-1] + 1
    commas = np.flatnonzero(buf == 44)
    counts = np.searchsorted(commas, ends) - np.searchsorted(commas, starts)
    return starts, ends, counts


def _parse_chunk(
    chunk: bytes, cols: list[str], num_cols: list[str], out: np.ndarray
) -> tuple[list[str], np.ndarray]:
    """Numeric columns into ``out`` (n_rows, n_num); the person column as (distinct ids, index per row)."""
    if _pacsv is not None:
        table = _pacsv.read_csv(
            io.BytesIO(chunk),
            read_options=_pacsv.ReadOptions(
                column_names=cols, use_threads=False, block_size=max(1 << 20, len(chunk) + 1)
            ),
            parse_options=_pacsv.ParseOptions(quote_char=False, escape_char=False, newlines_in_values=False),
            convert_options=_pacsv.ConvertOptions(
                column_types={**dict.fromkeys(num_cols, _pa.float64()), "person": _pa.string()},
                null_values=list(NA),
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
        if table.num_rows != len(out):
            raise ValueError("row count")
        for k, c in enumerate(num_cols):
            out[:, k] = table.column(c).to_numpy(zero_copy_only=False)
        enc = _pc.dictionary_encode(table.column("person").combine_chunks())
        return enc.dictionary.to_pylist(), enc.indices.to_numpy(zero_copy_only=False)
    df = pd.read_csv(
        io.BytesIO(chunk),
        header=None,
        names=cols,
        dtype={**dict.fromkeys(num_cols, np.float64), "person": str},
        na_values=list(NA),
        keep_default_na=False,
        quoting=csv.QUOTE_NONE,
        float_precision="round_trip",
        engine="c",
    )
    if len(df) != len(out):
        raise ValueError("row count")
    out[:] = df[num_cols].to_numpy(dtype=np.float64)
    idx, words = pd.factorize(df["person"].fillna(""), sort=False)
    return list(words), idx


def _bad_cell(chunk: bytes, cols: list[str], first_line: int, path) -> PoseDataError:
    """Locate the first non-numeric cell of a chunk the fast parser refused."""
    df = pd.read_csv(
        io.BytesIO(chunk),
        header=None,
        names=cols,
        dtype=str,
        keep_default_na=False,
        quoting=csv.QUOTE_NONE,
        engine="c",
    )
    hits = []
    for c in cols:
        if c == "person":
            continue
        vals = df[c]
        bad = pd.to_numeric(vals, errors="coerce").isna().to_numpy() & ~vals.isin(NA).to_numpy()
        if bad.any():
            hits.append((int(np.flatnonzero(bad)[0]), cols.index(c), c))
    if hits:
        r, _, c = min(hits)
        return PoseDataError(
            f"expected a number (or an empty cell for missing), found {df[c].iloc[r][:40]!r}",
            path=path,
            line=first_line + r,
            column=c,
        )
    return PoseDataError("could not parse the numeric columns", path=path, line=first_line)


class RowReader:
    """Checks the data rows chunk by chunk and keeps their values."""

    def __init__(self, head: Header, path, size_left: int) -> None:
        self.head, self.path = head, path
        self.cols = head.cols
        self.num_cols = [c for c in head.cols if c != "person"]
        self.n_sep = len(head.cols) - 1
        self.first_data_line = head.col_line + 1
        self.n = 0  # rows so far
        self.uniques: list[str] = []
        self.code_of: dict[str, int] = {}
        self.last_frame: list[float] = []
        self.counts: list[int] = []
        self.decl_txt = None if head.persons is None else [str(p) for p in head.persons]
        self.values: np.ndarray | None = None
        self.chunks: list[tuple[np.ndarray, np.ndarray]] = []
        self.codes: np.ndarray | None = None
        if head.n_rows is not None:
            # every row needs at least its commas and a line break
            room = size_left // (self.n_sep + 1)
            if head.n_rows > room:
                raise PoseDataError(
                    f"'# rows:' says {head.n_rows} data rows, the rest of the file has room for at most "
                    f"{room} (truncated or edited file?)",
                    path=path,
                    line=head.lines.get("rows"),
                )
            # the array for all rows is made once the first chunk has passed its checks

    def fail(self, msg: str, line: int, column: str | None = None):
        raise PoseDataError(msg, path=self.path, line=line, column=column)

    def add(self, chunk: bytes, line: int, last: bool) -> None:
        """Check and keep one block of whole lines starting at file line ``line``."""
        head = self.head
        if last and not chunk.endswith(b"\n") and head.n_rows is not None:
            self.fail("the last line has no line break: the file looks truncated", line + chunk.count(b"\n"))
        if not chunk.isascii():
            try:
                chunk.decode("utf-8")
            except UnicodeDecodeError as exc:
                self.fail("not UTF-8 text", line + chunk.count(b"\n", 0, exc.start))
        starts, ends, counts = _line_bounds(chunk)
        bad = np.flatnonzero(counts != self.n_sep)
        if bad.size:
            r = int(bad[0])
            empty = " (empty line)" if ends[r] == starts[r] else ""
            self.fail(f"expected {len(self.cols)} fields, found {int(counts[r]) + 1}{empty}", line + r)
        n = len(ends)
        if head.n_rows is not None and self.n + n > head.n_rows:
            self.fail(
                f"'# rows:' says {head.n_rows} data rows, found more (truncated or edited file?)",
                line + head.n_rows - self.n,
            )
        if self.values is not None:
            vals = self.values[self.n : self.n + n]
        else:
            vals = np.empty((n, len(self.num_cols)))
        try:
            person = _parse_chunk(chunk, self.cols, self.num_cols, vals)
        except (ValueError, pd.errors.ParserError, _ArrowInvalid):
            raise _bad_cell(chunk, self.cols, line, self.path) from None
        codes = self._check(vals, person, line)
        if head.n_rows is None:
            self.chunks.append((vals, codes))
        else:
            if self.values is None:
                self.values = np.empty((head.n_rows, len(self.num_cols)))
                self.codes = np.empty(head.n_rows, dtype=np.int32)
                self.values[:n] = vals
            self.codes[self.n : self.n + n] = codes
        self.n += n

    def _check(self, vals: np.ndarray, person: tuple[list[str], np.ndarray], line: int) -> np.ndarray:
        frame = vals[:, 0]
        bad = ~(np.isfinite(frame) & (frame == np.round(frame)) & (frame >= 0))
        if bad.any():
            r = int(np.flatnonzero(bad)[0])
            self.fail(f"frame numbers must be integers >= 0, found {frame[r]!r}", line + r, "frame")
        time_ = vals[:, 1]
        if np.isinf(time_).any():
            self.fail("time must be finite or empty", line + int(np.flatnonzero(np.isinf(time_))[0]), "time")
        coords = vals[:, 2:]
        big = np.abs(coords) > MAX_COORDINATE
        if big.any():
            r, k = np.argwhere(big)[0]
            v = coords[r, k]
            msg = (
                "infinite value; use an empty cell for missing"
                if np.isinf(v)
                else f"{float(v)!r} is beyond +-{MAX_COORDINATE:g}, more than the float32 pipeline holds"
            )
            self.fail(msg, line + int(r), self.num_cols[2 + k])
        words, idx = person
        first = np.unique(idx, return_index=True)[1].tolist()
        glob = np.empty(len(words), dtype=np.int32)
        for i in sorted(range(len(words)), key=first.__getitem__):
            p, r = words[i], first[i]
            k = self.code_of.get(p)
            if k is None:
                if p == "":
                    self.fail("person id is empty", line + r, "person")
                if self.decl_txt is not None and p not in self.decl_txt:
                    self.fail(
                        f"person {p!r} is not listed in '# persons: {self.head.fields['persons']}'",
                        line + r,
                        "person",
                    )
                k = self.code_of[p] = len(self.uniques)
                self.uniques.append(p)
                self.last_frame.append(np.nan)
                self.counts.append(0)
            glob[i] = k
        codes = glob[idx]
        for k in np.unique(codes):
            rows = np.flatnonzero(codes == k)
            fr = frame[rows]
            prev = self.last_frame[k]
            seq = fr if np.isnan(prev) else np.concatenate(([prev], fr))
            step = np.diff(seq)
            if (step != 1).any():
                b = int(np.flatnonzero(step != 1)[0]) + 1
                r = rows[b - (0 if np.isnan(prev) else 1)]
                self.fail(
                    f"person {self.uniques[k]!r}: frames must increase by 1 (one row per frame, empty cells "
                    f"when missing); frame {int(seq[b - 1])} is followed by {seq[b]:g}",
                    line + int(r),
                    "frame",
                )
            self.last_frame[k] = float(fr[-1])
            self.counts[k] += len(rows)
        return codes

    def _gather(self) -> None:
        """Chunks kept without ``# rows:`` go into one array (freed chunk by chunk)."""
        if self.values is not None:
            return
        if len(self.chunks) == 1:
            self.values, self.codes = self.chunks.pop()
            return
        self.values = np.empty((self.n, len(self.num_cols)))
        self.codes = np.empty(self.n, dtype=np.int32)
        at = 0
        self.chunks.reverse()
        while self.chunks:
            vals, codes = self.chunks.pop()
            self.values[at : at + len(vals)] = vals
            self.codes[at : at + len(vals)] = codes
            at += len(vals)

    def _rows_by_person(self) -> list[np.ndarray | slice]:
        """Rows of each person: a slice when they are contiguous (a view, no copy), else indices."""
        if len(self.uniques) == 1:
            return [slice(0, self.n)]
        perm = np.argsort(self.codes, kind="stable")
        bounds = np.concatenate(([0], np.cumsum(self.counts)))
        out: list[np.ndarray | slice] = []
        for k in range(len(self.uniques)):
            rows = perm[bounds[k] : bounds[k + 1]]
            contiguous = rows[-1] - rows[0] + 1 == len(rows)
            out.append(slice(int(rows[0]), int(rows[-1]) + 1) if contiguous else rows)
        return out

    def sequences(self) -> list[PoseSequence]:
        """The sequences, one per person, in the order of ``# persons:`` (else of first appearance)."""
        head, path = self.head, self.path
        if head.n_rows is not None and head.n_rows != self.n:
            self.fail(
                f"'# rows:' says {head.n_rows} data rows, found {self.n} (truncated or edited file?)",
                head.lines.get("rows"),
            )
        if self.n == 0:
            if head.n_rows == 0:
                return []
            self.fail("no data rows after the column header", head.col_line)
        if self.decl_txt is not None:
            order = [self.decl_txt.index(u) for u in self.uniques]
            missing = sorted(set(range(len(self.decl_txt))) - set(order))
            if missing:
                self.fail(
                    f"'# persons:' lists {[head.persons[i] for i in missing]} but they have no rows",
                    head.lines.get("persons"),
                )
        else:
            order = list(range(len(self.uniques)))
        for k, u in enumerate(self.uniques):
            if head.rows_per_person is not None and self.counts[k] != head.rows_per_person[order[k]]:
                self.fail(
                    f"'# rows:' says person {u!r} has {head.rows_per_person[order[k]]} rows, "
                    f"found {self.counts[k]}",
                    head.lines.get("rows"),
                )
        C, J = head.n_dims, len(head.joints)
        width = C + int(head.has_conf)
        out: list[tuple[int, PoseSequence]] = []
        self._gather()
        assert self.values is not None
        for k, (u, rows) in enumerate(zip(self.uniques, self._rows_by_person(), strict=True)):
            vals = self.values[rows]
            block = vals[:, 2:].reshape(len(vals), J, width)
            conf = None
            if head.has_conf:
                conf = block[:, :, C]
                if np.isnan(conf).all():
                    conf = None
            if head.persons is not None:
                pid = head.persons[order[k]]
            else:
                pid = int(u) if re.fullmatch(r"-?[1-9]\d*|0", u) else u
            meta: dict[str, Any] = {}
            if head.metas is not None:
                meta.update(head.metas[order[k]])
            meta.update(
                source=str(path),
                person=pid,
                start_frame=int(vals[0, 0]),
                units=head.fields.get("units", "unknown"),
                coordinates=head.fields.get("coordinates", "unknown"),
            )
            out.append(
                (
                    order[k],
                    PoseSequence(block[:, :, :C], head.layout, fps=head.fps, confidence=conf, meta=meta),
                )
            )
        out.sort(key=lambda t: t[0])
        return [s for _, s in out]
