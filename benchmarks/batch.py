"""Batch scoring benchmark: the 12 rat DeepLabCut recordings (~170,000 frames).

Run from the repository root::

    python benchmarks/batch.py            # 1 process, 2 processes, Dask LocalCluster(2 x 1 thread)
    python benchmarks/batch.py --repeat 2 # best of 2 runs per mode

A frame-level model (two rats, stream S1) is trained once on recordings 1-2
and saved; then every mode scores all 12 recordings from scratch into its own
folder, and the benchmark prints frames per second, the speed-up over one
process, and the peak memory (resident set size of this process plus all its
child processes, sampled every 50 ms). Target: 2 processes >= 1.7x one.

Times are end to end: they include starting the worker processes (each
imports the package and loads the model, a few seconds), which weighs
heavily when the whole batch takes seconds. The Dask cluster is started
before the clock starts (a cluster is long-lived); "warm" means its workers
have already imported the package. A second part scores every recording 4
times (48 files), where start-up is amortised, and shows that peak memory
does not grow with the number of files. The machine is shared: ratios
measured side by side in one run hold better than absolute times.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np
import psutil

from skelbehave.batch import score_files
from skelbehave.datasets import load_rat_social
from skelbehave.temporal import FrameLevelModel

ROOT = Path(__file__).resolve().parents[1]
RAT = ROOT / ".." / "shared" / "data" / "rat_social_dlc" / "dlc_csv"


class PeakMemory:
    """Peak summed RSS of this process and its descendants, sampled in a thread."""

    def __init__(self, interval: float = 0.05) -> None:
        self.interval = interval
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self) -> int:
        me = psutil.Process()
        total = 0
        for p in [me, *me.children(recursive=True)]:
            try:
                total += p.memory_info().rss
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                pass
        return total

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self._sample())
            time.sleep(self.interval)

    def __enter__(self) -> PeakMemory:
        self.peak = self._sample()
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def train_model(path: Path) -> None:
    ds = load_rat_social()
    names = ds.label_names
    tr = [i for i, s in enumerate(ds.subjects) if s in (1, 2)]
    model = FrameLevelModel(
        window="1s", fit_stride=4, n_estimators=60, ignore_labels=["base"], random_state=0
    )  # one stage: the scoring cost per frame is the same as the first stage of the full model
    model.fit([ds.sequences[i] for i in tr], [names[i] for i in tr])
    model.save(path)


def run_mode(name: str, model: Path, files: list[Path], out: Path, **kw) -> tuple[float, int, int]:
    if out.exists():
        shutil.rmtree(out)
    with PeakMemory() as mem:
        t0 = time.perf_counter()
        df = score_files(model, files, out, output_format="csv", fps=30, progress=False, **kw)
        wall = time.perf_counter() - t0
    bad = df[df["status"] != "done"]
    if len(bad):
        raise RuntimeError(f"{name}: {len(bad)} files failed: {bad['error'].tolist()}")
    frames = int(df["n_rows"].sum())
    return wall, frames, mem.peak


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=1, help="runs per mode (best is reported)")
    ap.add_argument("--keep", action="store_true", help="keep the output folder")
    ap.add_argument("--copies", type=int, default=4, help="copies of each recording in part 2 (0 = skip)")
    args = ap.parse_args(argv)
    files = sorted(RAT.glob("*DLC_*.csv"), key=lambda p: int(p.name.split("DLC")[0]))
    if len(files) != 12:
        raise SystemExit(f"expected 12 rat recordings in {RAT}, found {len(files)}")
    work = Path(tempfile.mkdtemp(prefix="skelbehave-batch-"))
    try:
        _bench(args, files, work)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    return 0


def _warm(client, model: Path) -> None:
    """Import the package and load the model in every Dask worker."""

    def load(path=str(model)):
        from skelbehave.batch import _cached_model, file_sha256

        _cached_model(str(Path(path).resolve()), file_sha256(path))

    client.run(load)


def _table(title: str, results: dict, modes: list[str]) -> float:
    base = results[modes[0]][1] / results[modes[0]][0]
    print(f"\n{title}")
    print(f"{'mode':<30}{'frames':>9}{'seconds':>9}{'frames/s':>10}{'speed-up':>10}{'peak RSS MB':>13}")
    for mode in modes:
        wall, frames, peak = results[mode]
        fps = frames / wall
        print(f"{mode:<30}{frames:>9}{wall:>9.1f}{fps:>10.0f}{fps / base:>9.2f}x{peak / 2**20:>13.0f}")
    return (results[modes[1]][1] / results[modes[1]][0]) / base


def _run_all(model: Path, files: list[Path], work: Path, repeat: int, tag: str) -> dict:
    from dask.distributed import Client, LocalCluster

    results: dict[str, tuple[float, int, int]] = {}
    for rep in range(repeat):
        for mode in MODES:
            out = work / f"out_{tag}_{MODES.index(mode)}"
            if mode == MODES[0]:
                r = run_mode(mode, model, files, out, jobs=1)
            elif mode == MODES[1]:
                r = run_mode(mode, model, files, out, jobs=2)
            else:
                with (
                    LocalCluster(
                        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
                    ) as c,
                    Client(c) as client,
                ):
                    if mode == MODES[3]:
                        _warm(client, model)
                    r = run_mode(mode, model, files, out, scheduler=client)
            print(f"  {tag} run {rep + 1} {mode:<30} {r[1]} frames in {r[0]:.1f} s", flush=True)
            if mode not in results or r[0] < results[mode][0]:
                results[mode] = r
    return results


MODES = ["1 process", "2 processes", "Dask LocalCluster 2x1", "Dask LocalCluster 2x1 (warm)"]


def _bench(args, files: list[Path], work: Path) -> None:
    model = work / "rat.skb"
    t0 = time.perf_counter()
    train_model(model)
    print(f"model trained on recordings 1-2 in {time.perf_counter() - t0:.0f} s: {model}")
    mb = sum(f.stat().st_size for f in files) / 1e6
    print(f"inputs: {len(files)} files, {mb:.0f} MB; CPUs: {os.cpu_count()}")

    results = _run_all(model, files, work, args.repeat, "12 files")
    sp = _table("12 rat recordings (end to end, best of the runs):", results, MODES)
    print(
        f"target: 2 processes >= 1.7x one process: measured {sp:.2f}x -> {'MET' if sp >= 1.7 else 'NOT MET'}"
    )
    if args.copies > 1:
        many = []
        for k in range(args.copies):
            for f in files:
                dst = work / "copies" / f"c{k}_{f.name}"
                dst.parent.mkdir(exist_ok=True)
                shutil.copyfile(f, dst)
                many.append(dst)
        results = _run_all(model, many, work, 1, f"{len(many)} files")
        sp = _table(f"{len(many)} files ({args.copies} copies of each recording):", results, MODES)
        print(f"2 processes vs one on {len(many)} files: {sp:.2f}x")
    load = os.getloadavg()
    print(f"machine load average (1, 5, 15 min): {np.round(load, 1).tolist()} on {os.cpu_count()} CPUs")


if __name__ == "__main__":
    sys.exit(main())
