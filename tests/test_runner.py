"""Tests of the shared batch runner (atomic writes, manifest, resume, processes, Dask)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pandas as pd
import pytest

from skelbehave._util.fs import LOCK_NAME, atomic_path, atomic_write, temp_path
from skelbehave._util.parallel import read_manifest, run_batch
from skelbehave.errors import BatchItemError

# ----------------------------------------------------------------------------- module-level work functions
# (module level so that spawned worker processes can import them)

_INIT_CALLS = 0


def _init(tag: str) -> None:
    global _INIT_CALLS
    _INIT_CALLS += 1


def square(item: dict) -> dict:
    n = item["n"]
    if n == 3:
        raise BatchItemError("bad_input", f"{item['key']}: three is not allowed")
    if n == 4:
        raise ZeroDivisionError("boom")
    with atomic_write(item["output"]) as fh:
        fh.write(str(n * n))
    calls = item.get("calls")
    if calls:
        Path(calls, f"{item['key']}.{os.getpid()}.{time.time_ns()}").touch()
    return {"square": n * n, "pid": os.getpid(), "inits": _INIT_CALLS}


def square_or_abort(item: dict) -> dict:
    if item["n"] == item["abort_at"]:
        raise KeyboardInterrupt("user pressed Ctrl-C")
    return square(item)


def square_or_numba_abort(item: dict) -> dict:
    if item["n"] == item["abort_at"]:  # how Ctrl-C inside a numba kernel reaches Python
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt as ki:
            raise SystemError("CPUDispatcher(<function f>) returned a result with an exception set") from ki
    return square(item)


def square_or_crash(item: dict) -> dict:
    if item["n"] == 5:
        os._exit(3)  # the worker process dies without a word
    time.sleep(0.05)
    return square(item)


def _items(d: Path, n: int, **extra) -> list[dict]:
    return [
        {"key": f"clip{i:02d}", "output": str(d / "out" / f"clip{i:02d}.txt"), "n": i, **extra}
        for i in range(n)
    ]


# ----------------------------------------------------------------------------- atomic writes
def test_atomic_write_replaces_only_on_success(tmp_path):
    p = tmp_path / "a.csv"
    with atomic_write(p) as fh:
        fh.write("old\n")
    with pytest.raises(RuntimeError), atomic_write(p) as fh:
        fh.write("half a line")
        raise RuntimeError("crash while writing")
    assert p.read_text() == "old\n"
    assert sorted(x.name for x in tmp_path.iterdir()) == ["a.csv"]  # no temp file left behind
    with atomic_write(p, "wb") as fh:
        fh.write(b"\x00\x01")
    assert p.read_bytes() == b"\x00\x01"


def test_atomic_write_follows_the_umask(tmp_path):
    old = os.umask(0o027)
    try:
        with atomic_write(tmp_path / "a.csv") as fh:
            fh.write("x")
    finally:
        os.umask(old)
    assert (tmp_path / "a.csv").stat().st_mode & 0o777 == 0o640  # not tempfile's 0600


def test_limit_threads_sets_and_restores_numba_and_blas():
    import numba
    from threadpoolctl import threadpool_info

    from skelbehave._util.threads import limit_threads, resolve_n_jobs

    top = numba.config.NUMBA_NUM_THREADS
    assert resolve_n_jobs(None) == 1 and resolve_n_jobs(-1) == top and resolve_n_jobs(10**6) == top
    assert resolve_n_jobs(-2) == max(1, top - 1)
    with pytest.raises(ValueError, match="n_jobs"):
        resolve_n_jobs(0)
    with pytest.raises(TypeError, match="n_jobs"):
        resolve_n_jobs(1.5)
    before = numba.get_num_threads()
    blas_before = [p["num_threads"] for p in threadpool_info()]
    with limit_threads(1) as n:
        assert n == 1 and numba.get_num_threads() == 1
        assert all(p["num_threads"] == 1 for p in threadpool_info())
        with limit_threads(1, numba_chunksize=8):  # nested, same limit
            assert numba.get_parallel_chunksize() == 8
        assert numba.get_parallel_chunksize() == 0
    assert numba.get_num_threads() == before
    assert [p["num_threads"] for p in threadpool_info()] == blas_before
    torch = pytest.importorskip("torch")
    t_before = torch.get_num_threads()
    with limit_threads(1, numba=False, blas=False):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == t_before


def test_atomic_path_keeps_suffix(tmp_path):
    with atomic_path(tmp_path / "sub" / "video.mp4") as tmp:
        assert tmp.suffix == ".mp4" and tmp.parent == tmp_path / "sub"
        tmp.write_bytes(b"x")
    assert (tmp_path / "sub" / "video.mp4").read_bytes() == b"x"
    with pytest.raises(ValueError):
        with atomic_write(tmp_path / "x", mode="a"):
            pass


# ----------------------------------------------------------------------------- serial run, manifest
def test_run_batch_records_each_item_and_keeps_going(tmp_path):
    items = _items(tmp_path, 6)
    man = tmp_path / "manifest.csv"
    df = run_batch(square, items, manifest=man, progress=False)
    assert df["key"].tolist() == [it["key"] for it in items]
    st = df.set_index("key")
    assert st.loc["clip03", "status"] == "failed" and st.loc["clip03", "reason"] == "bad_input"
    assert "three is not allowed" in st.loc["clip03", "error"]
    assert st.loc["clip04", "status"] == "failed" and st.loc["clip04", "reason"] == "ZeroDivisionError"
    done = st[st["status"] == "done"]
    assert sorted(done.index) == ["clip00", "clip01", "clip02", "clip05"]
    assert done["square"].tolist() == [0, 1, 4, 25]
    # the file on disk is the same table
    on_disk = read_manifest(man)
    assert on_disk["status"].tolist() == df["status"].tolist()
    assert (tmp_path / "out" / "clip05.txt").read_text() == "25"
    assert not (tmp_path / "out" / "clip03.txt").exists()


def test_bad_items_are_rejected(tmp_path):
    with pytest.raises(ValueError, match="unique"):
        run_batch(
            square, [{"key": "a", "output": "x"}, {"key": "a", "output": "y"}], manifest=tmp_path / "m.csv"
        )
    with pytest.raises(ValueError, match="output"):
        run_batch(square, [{"key": "a"}], manifest=tmp_path / "m.csv")


def test_resume_after_interrupt_skips_finished_items(tmp_path):
    calls = tmp_path / "calls"
    calls.mkdir()
    man = tmp_path / "manifest.csv"
    items = _items(tmp_path, 7, abort_at=2, calls=str(calls))
    items = [it for it in items if it["n"] not in (3, 4)]  # only good items: 0 1 2 5 6
    with pytest.raises(KeyboardInterrupt):
        run_batch(square_or_abort, items, manifest=man, progress=False)
    m = read_manifest(man).set_index("key")
    assert m.loc[["clip00", "clip01"], "status"].tolist() == ["done", "done"]
    assert (m.loc[["clip02", "clip05", "clip06"], "status"] == "pending").all()
    assert len(list(calls.iterdir())) == 2
    # a finished output that was deleted must be redone; the others are skipped
    (tmp_path / "out" / "clip01.txt").unlink()
    for it in items:
        it["abort_at"] = -1
    df = run_batch(square_or_abort, items, manifest=man, progress=False)
    assert (df["status"] == "done").all()
    ran = sorted(p.name.split(".")[0] for p in calls.iterdir())
    assert ran == ["clip00", "clip01", "clip01", "clip02", "clip05", "clip06"]
    # a third run does nothing at all
    run_batch(square_or_abort, items, manifest=man, progress=False)
    assert len(list(calls.iterdir())) == 6


def test_an_interrupt_wrapped_by_numba_stops_the_batch(tmp_path):
    """Ctrl-C during a numba call arrives as SystemError: the batch stops, it does not record a failure."""
    man = tmp_path / "manifest.csv"
    items = [it for it in _items(tmp_path, 7, abort_at=2) if it["n"] not in (3, 4)]
    with pytest.raises(KeyboardInterrupt) as info:
        run_batch(square_or_numba_abort, items, manifest=man, progress=False)
    assert info.value.batch_progress == (2, 5)
    m = read_manifest(man).set_index("key")
    assert m.loc["clip02", "status"] == "pending"


def test_rerun_removes_temporary_files_a_killed_run_left(tmp_path):
    items = _items(tmp_path, 3)
    out = tmp_path / "out"
    out.mkdir()
    # what a process killed inside atomic_write leaves behind, for a pending and for a done item
    temp_path(out / "clip01.txt").write_text("half written")
    (out / ".clip01.k3j9x2_a.tmp.txt").write_text("half written")  # tempfile's names (earlier versions)
    run_batch(square, items[:1], manifest=tmp_path / "m.csv", progress=False)
    done_tmp = temp_path(out / "clip00.txt")
    done_tmp.write_text("half written")
    keep = [out / ".notes.tmp.txt", out / ".clip01.other.0a1b2c3d.tmp.txt"]  # not temporaries of an output
    for k in keep:
        k.write_text("x")
    # and a killed run's half-written manifest
    temp_path(tmp_path / "m.csv").write_text("key,output\nhalf")
    df = run_batch(square, items, manifest=tmp_path / "m.csv", progress=False)
    assert (df["status"] == "done").all()
    # clip01's stale files are gone (it was run again); clip00 was skipped, so its file is left alone
    assert sorted(p.name for p in out.iterdir() if p.name.startswith(".")) == sorted(
        [done_tmp.name] + [k.name for k in keep]
    )
    # the manifest and the folder's lock file (kept: removing a lock file races with a waiting run)
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_file()) == [LOCK_NAME, "m.csv"]


def test_resume_after_sigkill(tmp_path):
    """A run killed with SIGKILL leaves a readable manifest; the re-run finishes only the rest."""
    calls = tmp_path / "calls"
    calls.mkdir()
    script = textwrap.dedent(
        f"""
        import sys, time
        sys.path.insert(0, {str(Path(__file__).parent)!r})
        from pathlib import Path
        from skelbehave._util.parallel import run_batch
        import test_runner as t

        def slow(item):
            time.sleep(0.15)
            return t.square(item)

        items = [{{"key": f"k{{i}}", "output": {str(tmp_path)!r} + f"/out/k{{i}}.txt", "n": 10 + i,
                  "calls": {str(calls)!r}}} for i in range(40)]
        run_batch(slow, items, manifest={str(tmp_path / "m.csv")!r}, progress=False)
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", script])
    try:
        deadline = time.time() + 60
        while time.time() < deadline:
            man = tmp_path / "m.csv"
            if man.exists() and (read_manifest(man)["status"] == "done").sum() >= 3:
                break
            time.sleep(0.05)
        else:
            pytest.fail("the batch subprocess made no progress")
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    m = read_manifest(tmp_path / "m.csv")  # never half-written
    assert len(m) == 40
    n_done = int((m["status"] == "done").sum())
    assert 3 <= n_done < 40
    before = [p.name.split(".")[0] for p in calls.iterdir()]
    items = [
        {"key": f"k{i}", "output": str(tmp_path / "out" / f"k{i}.txt"), "n": 10 + i, "calls": str(calls)}
        for i in range(40)
    ]
    df = run_batch(square, items, manifest=tmp_path / "m.csv", progress=False)
    assert (df["status"] == "done").all()
    ran_again = [p.name.split(".")[0] for p in calls.iterdir()]
    done_before = set(m.loc[m["status"] == "done", "key"])
    # nothing finished before ran again; everything else ran exactly once more
    assert len(ran_again) == len(before) + (40 - n_done)
    assert all(ran_again.count(k) == 1 for k in done_before)
    assert sorted(set(ran_again)) == sorted(f"k{i}" for i in range(40))


# ----------------------------------------------------------------------------- local processes
def test_processes_one_initialiser_per_process(tmp_path):
    items = [it for it in _items(tmp_path, 10) if it["n"] not in (3, 4)]
    df = run_batch(
        square, items, manifest=tmp_path / "m.csv", jobs=2, progress=False, initializer=_init, initargs=("x",)
    )
    assert (df["status"] == "done").all()
    assert df["square"].tolist() == [it["n"] ** 2 for it in items]
    assert df["pid"].nunique() <= 2 and os.getpid() not in set(df["pid"])
    assert (df["inits"] == 1).all()  # initialiser ran exactly once in each worker


def test_processes_survive_a_crashing_worker(tmp_path):
    items = [it for it in _items(tmp_path, 9) if it["n"] in (0, 5, 6, 8)]
    man = tmp_path / "m.csv"
    df = run_batch(square_or_crash, items, manifest=man, jobs=2, progress=False, max_in_flight=2)
    st = df.set_index("key")
    # only the item that kills its worker is blamed; the one in flight beside it is re-run alone
    assert st.loc["clip05", "status"] == "failed" and st.loc["clip05", "reason"] == "worker_crashed"
    assert st.drop(index="clip05")["status"].eq("done").all()
    assert st.loc["clip08", "square"] == 64
    assert read_manifest(man).set_index("key").loc["clip05", "reason"] == "worker_crashed"


# ----------------------------------------------------------------------------- Dask
def test_dask_client_and_address(tmp_path):
    distributed = pytest.importorskip("dask.distributed")
    items = _items(tmp_path, 6)
    with (
        distributed.LocalCluster(
            n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        df = run_batch(
            square, items, manifest=tmp_path / "m.csv", scheduler=client, progress=False, max_in_flight=2
        )
        st = df.set_index("key")
        assert st.loc["clip03", "reason"] == "bad_input" and st.loc["clip04", "reason"] == "ZeroDivisionError"
        assert st.loc[["clip00", "clip01", "clip02", "clip05"], "square"].tolist() == [0, 1, 4, 25]
        # by address: a second client is opened and closed by run_batch; finished items are skipped
        more = items + _items(tmp_path / "more", 3)
        for it in more[6:]:
            it["key"] = "more-" + it["key"]
        df2 = run_batch(
            square, more, manifest=tmp_path / "m.csv", scheduler=cluster.scheduler_address, progress=False
        )
        assert len(df2) == 9
        assert df2.set_index("key").loc[["more-clip00", "more-clip02"], "status"].eq("done").all()
        assert not client.status == "closed"


def test_manifest_round_trip_types(tmp_path):
    items = _items(tmp_path, 3)
    run_batch(square, items, manifest=tmp_path / "m.csv", progress=False)
    m = pd.read_csv(tmp_path / "m.csv")
    assert list(m.columns[:6]) == ["key", "output", "status", "reason", "error", "seconds"]
    assert (m["seconds"] >= 0).all()


def test_forked_workers_run_their_own_initialiser(tmp_path):
    import multiprocessing

    if "fork" not in multiprocessing.get_all_start_methods():
        pytest.skip("no fork start method on this platform")
    # run the initialiser here first: forked workers must not inherit "already initialised"
    run_batch(square, _items(tmp_path, 1), manifest=tmp_path / "a.csv", progress=False, initializer=_init,
              initargs=("y",))  # fmt: skip
    items = [it for it in _items(tmp_path / "f", 8) if it["n"] not in (3, 4)]
    df = run_batch(
        square, items, manifest=tmp_path / "m.csv", jobs=2, progress=False, initializer=_init,
        initargs=("y",), start_method="fork",
    )  # fmt: skip
    assert (df["status"] == "done").all() and os.getpid() not in set(df["pid"])
    # each forked worker inherited this process's count (1) and ran the initialiser once more
    assert (df["inits"] == _INIT_CALLS + 1).all()


def test_unknown_start_method_is_rejected(tmp_path):
    with pytest.raises(ValueError, match="start_method"):
        run_batch(square, _items(tmp_path, 2), manifest=tmp_path / "m.csv", jobs=2, start_method="thread")


def test_item_fields_are_recorded_and_decide_what_is_finished(tmp_path):
    items = _items(tmp_path, 3, fields={"model": "m1"})
    man = tmp_path / "manifest.csv"
    df = run_batch(square_or_crash, items, manifest=man, progress=False)
    assert (df["model"] == "m1").all() and (read_manifest(man)["model"] == "m1").all()
    stamps = {p: os.stat(p).st_mtime_ns for p in df["output"]}
    time.sleep(0.01)
    run_batch(square_or_crash, items, manifest=man, progress=False)  # same fields: nothing to do
    assert {p: os.stat(p).st_mtime_ns for p in df["output"]} == stamps
    items[1]["fields"] = {"model": "m2"}  # another model made item 1's output: redo it only
    df = run_batch(square_or_crash, items, manifest=man, progress=False)
    assert df["model"].tolist() == ["m1", "m2", "m1"]
    changed = [p for p in df["output"] if os.stat(p).st_mtime_ns != stamps[p]]
    assert changed == [items[1]["output"]]
    # a failed item carries its fields too
    bad = _items(tmp_path, 5, fields={"model": "m3"})[3:4]
    out = run_batch(square_or_crash, bad, manifest=tmp_path / "m2.csv", progress=False)
    assert out["status"].tolist() == ["failed"] and out["model"].tolist() == ["m3"]


def test_output_names_never_collide(tmp_path):
    from skelbehave._util.fs import output_names

    a, b = tmp_path / "a" / "x.csv", tmp_path / "b" / "x.csv"
    assert output_names([tmp_path / "y.csv", a]) == ["y", "x"]
    both = output_names([a, b])
    assert len(set(both)) == 2 and all(n.startswith("x-") for n in both)
    # a later run: b/x.csv alone must not take the name a/x.csv had; a/x.csv keeps its name
    assert output_names([b], taken={"x": str(a)}) != ["x"]
    assert output_names([a, b], taken={"x": str(a)})[0] == "x"
    # one folder, one stem, several formats (r1.h5 next to r1.slp): each its own name
    same = [tmp_path / "r1.h5", tmp_path / "r1.slp", tmp_path / "r1.json"]
    assert len(set(output_names(same))) == 3


def test_rerun_removes_the_pose_csv_a_killed_writer_left(tmp_path):
    """The pose CSV writer uses the one atomic write, so run_batch's clean-up knows its temporary file."""
    out = tmp_path / "poses" / "clip.pose.csv"
    script = textwrap.dedent(
        f"""
        import os
        import numpy as np
        import skelbehave._util.fs as fs
        from skelbehave import PoseSequence
        from skelbehave.io import write_poses
        fs.os.fsync = lambda fd: os._exit(9)  # killed after writing, before the rename
        write_poses({str(out)!r}, [PoseSequence(np.zeros((50, 20, 3)), "msr20", fps=15)])
        """
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 9, proc.stderr
    left = [p.name for p in out.parent.iterdir()]
    assert len(left) == 1 and left[0].startswith(".clip.pose.") and left[0].endswith(".tmp.csv")
    item = {"key": "clip", "output": str(out), "n": 2}
    df = run_batch(square, [item], manifest=tmp_path / "m.csv", progress=False)
    assert df["status"].tolist() == ["done"]
    assert [p.name for p in out.parent.iterdir()] == ["clip.pose.csv"]
