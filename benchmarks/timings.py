"""Timings that used to be test assertions: loading MSR Action3D, reading a long pose CSV, windows.

Run from the repository root::

    python benchmarks/timings.py

Prints the best of ``--repeats`` runs of each step (seconds) and the rate it
corresponds to. Tests check what these steps return; how long they take is
measured here, because the machine is shared and a time limit in a test fails
for reasons that are not the code's.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from skelbehave import PoseSequence, datasets
from skelbehave.io import read_poses, write_poses
from skelbehave.temporal import sliding_windows

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def best_of(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    rows = []
    t = best_of(lambda: datasets.load_msr_action3d(DATA), args.repeats)
    rows.append(("load MSR Action3D (557 files)", t, f"{557 / t:,.0f} files/s"))
    rng = np.random.default_rng(3)
    seq = PoseSequence(rng.normal(size=(15_000, 33, 3)), "mediapipe33", fps=30)
    with tempfile.TemporaryDirectory() as d:
        f = write_poses(Path(d) / "long.csv", seq)
        t = best_of(lambda: read_poses(f), args.repeats)
    rows.append(("read pose CSV, 15,000 frames x 33 joints", t, f"{15_000 / t:,.0f} frames/s"))
    t = best_of(lambda: sliding_windows([2_000_000, 1_500_000], length=61, stride=1), args.repeats)
    rows.append(("sliding_windows, 3.5 M frames, length 61", t, f"{3.5e6 / t:,.0f} windows/s"))
    print(f"best of {args.repeats} runs")
    for name, secs, rate in rows:
        print(f"  {name:45s} {secs:8.3f} s  {rate}")


if __name__ == "__main__":
    main()
