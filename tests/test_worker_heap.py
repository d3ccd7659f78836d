"""Worker processes: a steady C heap under Dask's malloc settings; fork still safe after a one-process run."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc malloc / fork: Linux")


def _run(code: str, env_extra: dict | None = None) -> str:
    import os

    env = {**os.environ, **(env_extra or {})}
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, cwd=REPO, env=env
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout.strip().splitlines()[-1]


@linux_only
def test_steady_malloc_stops_page_faults_under_dask_trim_threshold():
    # Dask's nanny starts workers with MALLOC_TRIM_THRESHOLD_=65536: every 2 MB array is then a fresh
    # mmap whose pages fault in again; after steady_malloc() the freed block is reused
    code = """
        import resource, numpy as np
        from skelbehave._util.heap import steady_malloc

        def faults():
            r0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
            for _ in range(100):
                a = np.ones(2**18)  # 2 MB
                del a
            return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - r0

        faults()
        before = faults()
        ok = steady_malloc()
        faults()
        print(ok, before, faults())
    """
    ok, before, after = _run(code, {"MALLOC_TRIM_THRESHOLD_": "65536"}).split()
    assert ok == "True"
    assert int(before) > 100 * 200  # about 512 pages a 2 MB array
    assert int(after) < int(before) / 20


@linux_only
def test_one_process_frame_level_run_keeps_fork_and_same_labels(shared_data, tmp_path):
    # scoring in this process with a frame-level model no longer starts numba's OpenMP layer, so a
    # later jobs=2 run in the same process still forks its workers; the labels are the same
    src = next((shared_data / "rat_social_dlc" / "dlc_csv").glob("1DLC_*.csv"))
    lines = src.read_text().splitlines(keepends=True)
    for k in range(3):
        start = 4 + 3000 + 500 * k
        (tmp_path / f"r{k}.csv").write_text("".join(lines[:4] + lines[start : start + 800]))
    code = f"""
        import numba, numpy as np, pandas as pd
        from pathlib import Path
        from skelbehave.batch import score_files
        from skelbehave.batch.files import _start_method
        from skelbehave.io import read_poses
        from skelbehave.pipeline.frame import FrameLevelModel

        d = Path({str(tmp_path)!r})
        files = sorted(d.glob("r*.csv"))
        recs = [read_poses(f, fps=30) for f in files[:2]]
        ys = [np.where(np.arange(800) % 200 < 100, "a", "b") for r in recs]
        model = FrameLevelModel(window=15, classifier_params={{"n_estimators": 5}}, random_state=0)
        model.fit(recs, ys).save(d / "m.skb")
        one = score_files(d / "m.skb", files, d / "one", jobs=1, n_jobs=2, progress=False)
        try:
            layer = numba.threading_layer()
        except ValueError:
            layer = "none"
        method = _start_method("auto", True)
        two = score_files(d / "m.skb", files, d / "two", jobs=2, progress=False)
        same = all(
            pd.read_parquet(a).equals(pd.read_parquet(b)) if a.endswith("parquet")
            else pd.read_csv(a).equals(pd.read_csv(b))
            for a, b in zip(one["output"], two["output"])
        )
        print(layer, method, (one["status"] == "done").all() and (two["status"] == "done").all(), same)
    """
    layer, method, done, same = _run(code).split()
    assert layer == "none"
    assert method == "fork"
    assert done == "True" and same == "True"
