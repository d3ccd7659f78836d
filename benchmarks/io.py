"""Reading speed: pose CSV and data set loaders, measured side by side in one run.

Run from the repository root (data in ../shared/data)::

    python benchmarks/io.py

Prints, for a 15,000-frame MediaPipe pose CSV (33 joints, x y z + confidence,
10 % missing), the time of ``skelbehave.io.read_poses`` against plain pandas
parsers on the same numbers (pandas' exact ``round_trip`` parser, and its
default parser, which is faster but not exact), then the load times of the
data sets.
"""

from __future__ import annotations

import csv
import io
import tempfile
import time
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


def main() -> None:
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

    print("\ndata set loaders (../shared/data)")
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


if __name__ == "__main__":
    main()
