"""Readers that stream and never hang (issue 14): special files, bounded headers, early errors,
memory, chunk boundaries, coordinate range."""

from __future__ import annotations

import os
import signal
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from skelbehave.errors import PoseDataError, PoseFileNotFoundError
from skelbehave.io import _pose_csv_body as body
from skelbehave.io import _pose_csv_header as header
from skelbehave.io import detect_format, read_poses, write_poses
from skelbehave.io import pose_csv as pose_csv_mod
from skelbehave.io.dlc import dlc_individuals, read_dlc_csv
from skelbehave.io.files import check_path, open_regular, read_regular_bytes
from skelbehave.io.frame_labels import read_frame_label_csv
from skelbehave.io.msr import read_msr_skeleton
from skelbehave.io.ntu import read_ntu_skeleton
from skelbehave.io.pose_csv import read_pose_csv
from skelbehave.io.precog import read_precog_csv
from skelbehave.io.utd import read_utd_skeleton
from skelbehave.poses import MAX_COORDINATE, PoseSequence

READERS = {
    "read_poses": read_poses,
    "detect_format": detect_format,
    "read_pose_csv": read_pose_csv,
    "read_dlc_csv": read_dlc_csv,
    "dlc_individuals": dlc_individuals,
    "read_ntu_skeleton": read_ntu_skeleton,
    "read_msr_skeleton": read_msr_skeleton,
    "read_utd_skeleton": read_utd_skeleton,
    "read_precog_csv": read_precog_csv,
    "read_frame_label_csv": lambda p: read_frame_label_csv(p, ["S1"]),
    "open_regular": lambda p: open_regular(p).close(),
    "read_regular_bytes": read_regular_bytes,
}


@pytest.fixture
def alarm():
    """Fail (instead of hanging the suite) if a reader blocks for more than 10 s."""

    def _timeout(signum, frame):
        raise TimeoutError("the reader blocked")

    old = signal.signal(signal.SIGALRM, _timeout)
    signal.alarm(10)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, old)


def _seq(T, layout="mediapipe33", conf=True, seed=0, **meta):
    rng = np.random.default_rng(seed)
    J = 33 if layout == "mediapipe33" else 17
    pos = rng.standard_normal((T, J, 3))
    pos[rng.random((T, J)) < 0.1] = np.nan
    return PoseSequence(pos, layout, fps=30, confidence=rng.random((T, J)) if conf else None, meta=meta)


# ----------------------------------------------------------------------------- special files
@pytest.mark.parametrize("name", ["poses.csv", "video.mp4", "x.skeleton", "a.mat"])
@pytest.mark.parametrize("reader", sorted(READERS))
def test_fifo_is_refused_at_once(tmp_path, alarm, reader, name):
    fifo = tmp_path / name
    os.mkfifo(fifo)
    with pytest.raises(PoseDataError, match="expected a regular file, found a FIFO") as e:
        READERS[reader](fifo)
    assert e.value.path == str(fifo) or Path(e.value.path) == fifo


@pytest.mark.parametrize("reader", sorted(READERS))
def test_directory_and_device_are_refused(tmp_path, alarm, reader):
    with pytest.raises(PoseDataError, match="found a directory"):
        READERS[reader](tmp_path)
    with pytest.raises(PoseDataError, match="found a device"):
        READERS[reader]("/dev/zero")  # would never end if read
    with pytest.raises(PoseFileNotFoundError):
        READERS[reader](tmp_path / "missing.csv")


def test_open_regular_checks_the_open_descriptor(tmp_path, alarm, monkeypatch):
    # a path swapped for a FIFO after the stat check is still refused, without blocking
    from skelbehave.io import files

    fifo = tmp_path / "swap.csv"
    os.mkfifo(fifo)
    monkeypatch.setattr(files, "check_path", lambda p: Path(p))
    with pytest.raises(PoseDataError, match="FIFO"):
        files.open_regular(fifo)
    assert check_path(__file__) == Path(__file__)


# ----------------------------------------------------------------------------- bounded header
def _valid_text(seq=None) -> str:
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        f = write_poses(Path(d) / "v.csv", seq or _seq(3, "coco17", subject=1))
        return f.read_text()


def _with_line(text: str, key: str, value: str) -> str:
    lines = text.split("\n")
    k = next(i for i, ln in enumerate(lines) if ln.startswith(f"# {key}:"))
    lines[k] = f"# {key}: {value}"
    return "\n".join(lines)


@pytest.mark.parametrize("key", ["meta", "persons", "rows", "layout-def"])
def test_deeply_nested_header_json_is_a_pose_data_error(tmp_path, key):
    text = _valid_text()
    if key == "layout-def":
        lines = text.split("\n")
        lines.insert(2, "# layout-def: ")
        text = "\n".join(lines)
    deep = "[" * 200_000 + "]" * 200_000  # RecursionError in json before issue 14
    f = tmp_path / "deep.csv"
    f.write_text(_with_line(text, key, deep))
    with pytest.raises(PoseDataError, match="nested deeper than 32") as e:
        read_poses(f)
    lines = f.read_text().split("\n")
    assert lines[e.value.line - 1].startswith(f"# {key}:")
    assert e.value.path == str(f)


def test_header_json_nesting_limit_is_exact(tmp_path):
    text = _valid_text()
    ok = "[{" + '"a":' + "[" * 29 + "1" + "]" * 29 + "}]"  # 31 levels
    f = tmp_path / "ok.csv"
    f.write_text(_with_line(text, "meta", ok))
    assert read_poses(f)[0].meta["a"] == [[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]
    bad = "[{" + '"a":' + "[" * 31 + "1" + "]" * 31 + "}]"  # 33 levels
    f.write_text(_with_line(text, "meta", bad))
    with pytest.raises(PoseDataError, match="nested deeper"):
        read_poses(f)


def test_header_line_length_and_count_are_bounded(tmp_path, monkeypatch):
    monkeypatch.setattr(header, "MAX_HEADER_LINE", 1000)
    text = _valid_text()
    f = tmp_path / "long.csv"
    f.write_text(_with_line(text, "units", "m" * 5000))
    with pytest.raises(PoseDataError, match="header line longer than 1000 bytes") as e:
        read_poses(f)
    assert f.read_text().split("\n")[e.value.line - 1].startswith("# units: mmm")
    lines = text.split("\n")
    f.write_text("\n".join(lines[:2] + ["#"] * 2000 + lines[2:]))
    with pytest.raises(PoseDataError, match="more than 1000 '#' header lines"):
        read_poses(f)


def test_data_line_without_line_break_is_bounded(tmp_path):
    text = _valid_text()
    f = tmp_path / "noline.csv"
    with open(f, "w") as fh:
        fh.write(text)
        fh.write("0," + "1" * (3 << 20))  # 3 MB without a line break (limit: 1 MiB + 64 per column)
    with pytest.raises(PoseDataError, match="line longer than"):
        read_poses(f)


# ----------------------------------------------------------------------------- early errors
class _Counting:
    def __init__(self, fh):
        self.fh, self.n = fh, 0

    def read(self, n=-1):
        out = self.fh.read(n)
        self.n += len(out)
        return out

    def readline(self, n=-1):
        out = self.fh.readline(n)
        self.n += len(out)
        return out

    def __getattr__(self, name):
        return getattr(self.fh, name)

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.fh.close()


def test_bad_cell_near_the_top_is_reported_without_reading_the_rest(tmp_path, monkeypatch):
    seq = _seq(20_000, seed=3)  # 20,000 frames, about 50 MB of text
    f = write_poses(tmp_path / "big.csv", seq)
    size = f.stat().st_size
    with open(f, "r+b") as fh:  # line 9 is the first data row; overwrite its time cell
        lines = [fh.readline() for _ in range(9)]
        assert lines[7].startswith(b"frame,time,person,")
        a = lines[8].index(b",")
        fh.seek(sum(map(len, lines[:8])) + a + 1)
        fh.write(b"x" * (lines[8].index(b",", a + 1) - a - 1))
    seen = []

    def counting_open(p):
        seen.append(_Counting(open_regular(p)))
        return seen[-1]

    monkeypatch.setattr(pose_csv_mod, "open_regular", counting_open)
    with pytest.raises(PoseDataError, match="expected a number") as e:
        read_poses(f)
    assert (e.value.line, e.value.column) == (9, "time")
    assert size > 40e6 and seen[0].n <= body.CHUNK_BYTES + 4096  # one chunk, not the whole file


def test_rows_larger_than_the_file_fails_before_reading_data(tmp_path):
    text = _valid_text()
    f = tmp_path / "rows.csv"
    f.write_text(_with_line(text, "rows", "[1000000000000]"))
    with pytest.raises(PoseDataError, match="room for at most"):
        read_poses(f)


def test_too_many_rows_fails_at_the_first_extra_row(tmp_path):
    text = _valid_text()
    lines = text.rstrip("\n").split("\n")
    f = tmp_path / "extra.csv"
    f.write_text(_with_line("\n".join([*lines, lines[-1]]) + "\n", "rows", "3"))
    with pytest.raises(PoseDataError, match="says 3 data rows, found more") as e:
        read_poses(f)
    assert e.value.line == len(lines) + 1


# ----------------------------------------------------------------------------- chunk boundaries
@pytest.mark.parametrize("chunk", [97, 1000, 4096])
def test_small_chunks_give_the_same_sequences(tmp_path, monkeypatch, chunk):
    a, b = _seq(40, "coco17", seed=1, person=0), _seq(25, "coco17", seed=2, person="b", start_frame=7)
    f = write_poses(tmp_path / "two.csv", [a, b])
    ref = read_poses(f)
    monkeypatch.setattr(body, "CHUNK_BYTES", chunk)
    # the same rows, interleaved by frame and without '# rows:' (the gather path)
    lines = f.read_text().split("\n")
    head = [ln for ln in lines if ln.startswith("#") and not ln.startswith("# rows:")]
    cols = next(ln for ln in lines if ln.startswith("frame,"))
    rows = [ln for ln in lines[len(head) + 2 :] if ln]
    ra, rb = rows[:40], rows[40:]
    mixed = [r for pair in zip(ra, rb + [""] * 15, strict=True) for r in pair if r]
    g = tmp_path / "mixed.csv"
    g.write_text("\n".join([*head, cols, *mixed]) + "\n")
    for path in (f, g):
        back = read_poses(path)
        assert [s.meta["person"] for s in back] == [0, "b"]
        for x, y in zip(ref, back, strict=True):
            np.testing.assert_array_equal(x.position, y.position)
            np.testing.assert_array_equal(x.confidence, y.confidence)
            assert x.meta == {**y.meta, "source": x.meta["source"]}


def test_errors_after_the_first_chunk_name_the_right_line(tmp_path, monkeypatch):
    monkeypatch.setattr(body, "CHUNK_BYTES", 500)
    f = write_poses(tmp_path / "p.csv", _seq(60, "coco17", seed=4))
    lines = f.read_text().split("\n")
    first = next(i for i, ln in enumerate(lines) if ln.startswith("frame,")) + 2
    bad = lines.copy()
    cells = bad[first - 1 + 50].split(",")
    cells[4] = "abc"
    bad[first - 1 + 50] = ",".join(cells)
    f.write_text("\n".join(bad))
    with pytest.raises(PoseDataError, match="found 'abc'") as e:
        read_poses(f)
    assert e.value.line == first + 50
    gap = lines.copy()
    cells = gap[first - 1 + 41].split(",")
    cells[0] = "45"
    gap[first - 1 + 41] = ",".join(cells)
    f.write_text("\n".join(gap))
    with pytest.raises(PoseDataError, match="frame 40 is followed by 45") as e:
        read_poses(f)
    assert e.value.line == first + 41


# ----------------------------------------------------------------------------- memory
def _peak(fn) -> tuple[int, object]:
    tracemalloc.start()
    try:
        out = fn()
        return tracemalloc.get_traced_memory()[1], out
    finally:
        tracemalloc.stop()


def test_read_and_write_peak_memory_is_bounded(tmp_path, monkeypatch):
    # small chunks, so that a short recording shows what a long one does with the default sizes
    monkeypatch.setattr(body, "CHUNK_BYTES", 128 << 10)
    monkeypatch.setattr(pose_csv_mod, "WRITE_CHUNK_ROWS", 128)
    T = 5000
    seq = _seq(T, seed=5)
    arrays = seq.position.nbytes + seq.confidence.nbytes  # 5.3 MB
    f = tmp_path / "m.csv"
    w_peak, _ = _peak(lambda: write_poses(f, seq))
    r_peak, back = _peak(lambda: read_poses(f))
    np.testing.assert_array_equal(back[0].position, seq.position)
    # before issue 14: writer 9x, reader 7.5x the arrays
    print(f"peak / arrays: write {w_peak / arrays:.2f}, read {r_peak / arrays:.2f}")
    assert w_peak < 0.5 * arrays, w_peak / arrays
    assert r_peak < 1.5 * arrays, r_peak / arrays


# ----------------------------------------------------------------------------- coordinate range
def test_pose_csv_cell_beyond_float32_range_names_line_and_column(tmp_path):
    f = write_poses(tmp_path / "p.csv", _seq(5, "coco17", seed=6))
    lines = f.read_text().split("\n")
    k = next(i for i, ln in enumerate(lines) if ln.startswith("frame,")) + 3
    cells = lines[k].split(",")
    cells[3] = "1e300"
    lines[k] = ",".join(cells)
    f.write_text("\n".join(lines))
    with pytest.raises(PoseDataError, match=r"1e\+300 is beyond \+-1e\+30") as e:
        read_poses(f)
    assert (e.value.line, e.value.column) == (k + 1, "nose_x")


def test_dlc_and_ntu_values_beyond_float32_range_are_refused(tmp_path, shared_data):
    src = sorted((shared_data / "rat_social_dlc" / "dlc_csv").glob("*.csv"))[0]
    lines = src.read_text().split("\n")
    cells = lines[10].split(",")
    cells[1] = "1e300"
    lines[10] = ",".join(cells)
    f = tmp_path / "rat.csv"
    f.write_text("\n".join(lines))
    with pytest.raises(PoseDataError, match="beyond"):
        read_dlc_csv(f, fps=30)
    ntu = sorted((shared_data / "ntu_rgbd_samples").glob("*.skeleton"))[0]
    lines = ntu.read_text().split("\n")
    cells = lines[4].split(" ")
    cells[0] = "-1e300"
    lines[4] = " ".join(cells)
    g = tmp_path / ntu.name
    g.write_text("\n".join(lines))
    with pytest.raises(PoseDataError, match="beyond"):
        read_ntu_skeleton(g)
    assert MAX_COORDINATE == 1e30


def test_wrong_argument_types_are_package_errors(tmp_path):
    """read_poses / write_poses given no file name, a folder or no sequences (robustness benchmark cases)."""
    from skelbehave.errors import ParameterTypeError, PoseDataError
    from skelbehave.io import read_poses, write_poses

    seq = PoseSequence(np.zeros((2, 20, 3)), "msr20", fps=15)
    for bad in (None, 123):
        with pytest.raises(ParameterTypeError, match="file name"):
            read_poses(bad)
        with pytest.raises(ParameterTypeError, match="file name"):
            write_poses(bad, seq)
    with pytest.raises(PoseDataError, match="is a folder"):
        write_poses(tmp_path, seq)
    with pytest.raises(ParameterTypeError, match="PoseSequence"):
        write_poses(tmp_path / "a.csv", None)
    assert not (tmp_path / "a.csv").exists()
