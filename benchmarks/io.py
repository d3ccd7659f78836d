"""Pose CSV reading and writing: speed and memory, measured side by side in one run.

Run from the repository root (data in ../shared/data)::

    python benchmarks/io.py                      # speed, memory, early errors, data sets
    python benchmarks/io.py --part memory --frames 200000
    python benchmarks/io.py --part memory --old /tmp/pose_csv_057309b.py

``--part speed`` prints, for a 15,000-frame MediaPipe pose CSV (33 joints,
x y z + confidence, 10 % missing), the time of ``skelbehave.io.read_poses``
against plain pandas parsers on the same numbers (pandas' exact
``round_trip`` parser, and its default parser, which is faster but not exact).

``--part memory`` writes and reads a long recording, each in a fresh process,
and prints frames, the size of the returned arrays (position + confidence),
the peak memory (tracemalloc: NumPy and Python allocations; RSS: the process's
high-water mark above its level before the call, which also counts pyarrow's
buffers) and their ratio to the arrays, for this version and, when the file
exists, the pose CSV module before issue 14 (``--old``; make it with
``git show 057309b:skelbehave/io/pose_csv.py > /tmp/pose_csv_057309b.py``).

``--part early`` puts a bad cell on the first data row of that file and times
how long each version takes to report it, and the memory it needs.

``--part datasets`` prints the load times of the data sets.
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import io
import multiprocessing as mp
import os
import resource
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd

from skelbehave import datasets as D
from skelbehave.io import read_poses, write_poses
from skelbehave.poses import PoseSequence


def best_of(f, n=3):
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        out = f()
        times.append(time.perf_counter() - t0)
    return min(times), out


def speed() -> None:
    rng = np.random.default_rng(0)
    T = 15_000
    pos = rng.standard_normal((T, 33, 3))
    pos[rng.random((T, 33)) < 0.1] = np.nan
    seq = PoseSequence(pos, "mediapipe33", fps=30, confidence=rng.random((T, 33)))
    with tempfile.TemporaryDirectory() as d:
        f = Path(d) / "long.csv"
        t_write, _ = best_of(lambda: write_poses(f, seq), 1)
        size = f.stat().st_size / 1e6
        t_ours, back = best_of(lambda: read_poses(f))
        exact = np.array_equal(back[0].position, pos, equal_nan=True)
        text = f.read_text()
        body = text[text.index("frame,time") :]

        def pandas(prec):
            return pd.read_csv(
                io.StringIO(body), float_precision=prec, quoting=csv.QUOTE_NONE, keep_default_na=False,
                na_values=[""],
            )  # fmt: skip

        t_rt, df_rt = best_of(lambda: pandas("round_trip"))
        t_def, df_def = best_of(lambda: pandas(None))
        cols = [c for c in df_rt.columns if c.endswith(("_x", "_y", "_z"))]
        ex_def = np.array_equal(df_def[cols].to_numpy(), pos.reshape(T, -1), equal_nan=True)
    print(f"pose CSV, {T} frames x 33 joints (x, y, z, conf), {size:.1f} MB; write {t_write:.2f} s")
    print(f"  {'reader':<44}{'seconds':>9}{'vs ours':>9}  exact")
    print(f"  {'skelbehave.io.read_poses (validated)':<44}{t_ours:9.3f}{1:9.2f}  {exact}")
    print(f"  {'pandas.read_csv float_precision=round_trip':<44}{t_rt:9.3f}{t_rt / t_ours:9.2f}  True")
    print(f"  {'pandas.read_csv default parser':<44}{t_def:9.3f}{t_def / t_ours:9.2f}  {ex_def}")


def datasets() -> None:
    print("data set loaders (../shared/data)")
    rows = [
        ("MSR Action3D, 557 files", lambda: D.load_msr_action3d()),
        ("UTD-MHAD, 861 .mat files", lambda: D.load_utd_mhad()),
        ("PRECOG, 72 CSVs", lambda: D.load_precog(D.data_root())),
        ("PRECOG, embedded copy", lambda: D.load_precog()),
        ("PRECOG, 360 trimmed segments (embedded)", lambda: D.load_precog(trimmed=True)),
        ("rat social, 12 DLC CSVs", lambda: D.load_rat_social()),
        ("CalMS21 mouse083", lambda: D.load_calms21()),
        ("NTU samples, 6 .skeleton", lambda: D.load_ntu_skeleton()),
    ]
    for name, f in rows:
        t, ds = best_of(f, 2)
        print(f"  {name:<44}{t:7.2f} s  {len(ds):4d} sequences, {ds.n_frames:7d} frames")


# ----------------------------------------------------------------------------- memory
def _module(old: str | None):
    """This version's pose CSV module, or the file ``old`` loaded in its place."""
    if old is None:
        from skelbehave.io import pose_csv

        return pose_csv
    spec = importlib.util.spec_from_file_location("skelbehave.io._pose_csv_before", old)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod


def _rss() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _reset_peak_rss() -> None:
    """Start the RSS high-water mark (VmHWM) afresh, so imports before the call do not count."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
    except OSError:  # not Linux, or not allowed: the mark then covers the whole process
        pass


def _peak_rss() -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _long_sequence(T: int) -> PoseSequence:
    rng = np.random.default_rng(0)
    pos = rng.standard_normal((T, 33, 3))
    pos[rng.random((T, 33)) < 0.1] = np.nan
    return PoseSequence(pos, "mediapipe33", fps=30, confidence=rng.random((T, 33)))


def _child(kind: str, old: str | None, path: str, T: int, trace: bool, q) -> None:
    """One call in a fresh process: (seconds, peak bytes, error message).

    With ``trace`` the peak is tracemalloc's (NumPy and Python allocations;
    the timing is then meaningless), else the RSS high-water mark above the
    process's level before the call.
    """
    mod = _module(old)
    seq = _long_sequence(T) if kind == "write" else None
    base = _rss()
    _reset_peak_rss()
    if trace:
        tracemalloc.start()
    t0 = time.perf_counter()
    err = ""
    try:
        if kind == "write":
            mod.write_pose_csv(path, seq)
        else:
            out = mod.read_pose_csv(path)
            del out
    except Exception as exc:  # the early-error case
        err = str(exc).split(": ", 1)[-1][:60]
    dt = time.perf_counter() - t0
    if trace:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    else:
        peak = max(_peak_rss() - base, 0)
    q.put((dt, peak, err))


def _run(kind: str, old: str | None, path: str, T: int, trace: bool):
    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    p = ctx.Process(target=_child, args=(kind, old, path, T, trace, q))
    p.start()
    out = q.get()
    p.join()
    return out


def memory(T: int, old: str | None) -> None:
    versions = [("issue 14", None)] + ([("before (057309b)", old)] if old and Path(old).exists() else [])
    seq = _long_sequence(T)
    arrays = seq.position.nbytes + seq.confidence.nbytes
    del seq
    mb = 1e6
    print(f"pose CSV memory: {T} frames x 33 joints (x, y, z, conf); returned arrays {arrays / mb:.0f} MB")
    print(f"  {'step':<7}{'version':<18}{'frames':>9}{'arrays MB':>11}{'peak MB':>9}{'ratio':>7}"
          f"{'RSS MB':>8}{'ratio':>7}{'seconds':>9}")  # fmt: skip
    with tempfile.TemporaryDirectory() as d:
        f = str(Path(d) / "long.csv")
        for kind in ("write", "read"):
            for name, src in versions:
                dt, rss, _ = _run(kind, src, f, T, False)
                _, peak, _ = _run(kind, src, f, T, True)
                print(f"  {kind:<7}{name:<18}{T:>9}{arrays / mb:>11.0f}{peak / mb:>9.0f}{peak / arrays:>7.2f}"
                      f"{rss / mb:>8.0f}{rss / arrays:>7.2f}{dt:>9.2f}")  # fmt: skip


def early(T: int, old: str | None) -> None:
    versions = [("issue 14", None)] + ([("before (057309b)", old)] if old and Path(old).exists() else [])
    with tempfile.TemporaryDirectory() as d:
        f = Path(d) / "bad.csv"
        write_poses(f, _long_sequence(T))
        with open(f, "r+b") as fh:  # overwrite the time cell of the first data row with letters
            lines = [fh.readline() for _ in range(9)]
            a = lines[8].index(b",")
            fh.seek(sum(map(len, lines[:8])) + a + 1)
            fh.write(b"x" * (lines[8].index(b",", a + 1) - a - 1))
        size = f.stat().st_size / 1e6
        print(f"bad cell on line 9 of a {size:.0f} MB pose CSV ({T} frames)")
        print(f"  {'version':<18}{'seconds':>9}{'peak MB':>9}{'RSS MB':>8}  message")
        for name, src in versions:
            dt, rss, err = _run("read", src, str(f), T, False)
            _, peak, _ = _run("read", src, str(f), T, True)
            print(f"  {name:<18}{dt:>9.2f}{peak / 1e6:>9.0f}{rss / 1e6:>8.0f}  {err}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--part", choices=["all", "speed", "memory", "early", "datasets"], default="all")
    ap.add_argument("--frames", type=int, default=50_000, help="frames of the memory / early-error file")
    ap.add_argument("--old", default="/tmp/pose_csv_057309b.py", help="pose_csv.py before issue 14")
    args = ap.parse_args()
    if args.part in ("all", "speed"):
        speed()
        print()
    if args.part in ("all", "memory"):
        memory(args.frames, args.old)
        print()
    if args.part in ("all", "early"):
        early(args.frames, args.old)
        print()
    if args.part in ("all", "datasets"):
        datasets()


if __name__ == "__main__":
    main()
