"""Shared batch runner: many items, local processes or a Dask cluster, resumable.

Used by :mod:`skelbehave.pose` (video -> pose CSV) and :mod:`skelbehave.batch`
(pose files -> predictions). One *item* is a picklable ``dict`` with a unique
``"key"`` and an ``"output"`` path; ``func(item)`` does the work, writes the
output (atomically, see :func:`atomic_write` / :func:`atomic_path`) and
returns a ``dict`` of extra result fields for the manifest.

The manifest is a CSV file with one row per item (``key``, ``output``,
``status``, ``reason``, ``error``, ``seconds`` and the extra fields). It is
rewritten atomically after every finished item, so killing the run at any
moment loses nothing that was done; running it again skips the items whose
status is ``"done"`` and whose output file exists with the checksum recorded
(``output_sha256``): an output overwritten since (by another run into the same
folder) is made again. One run at a time writes a folder: :func:`run_batch`
holds :func:`~skelbehave._util.fs.folder_lock` on the manifest's folder, and a
second run waits for it. Ctrl-C stops the run; the interrupt it re-raises
carries ``batch_progress = (done, total)``.
"""

from __future__ import annotations

import concurrent.futures as cf
import logging
import multiprocessing
import numbers
import os
import signal
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import BatchItemError, ManifestError, ParameterError, ParameterTypeError
from .fs import atomic_write, file_sha256, folder_lock, remove_stale_temps
from .heap import steady_malloc
from .interrupt import interrupt_behind
from .optional import require

__all__ = [
    "MANIFEST_COLUMNS", "read_manifest", "resolve_start_method", "run_batch", "thread_map", "write_manifest",
]  # fmt: skip

logger = logging.getLogger(__name__)

#: Columns every manifest has, in this order; extra result fields follow.
MANIFEST_COLUMNS = ("key", "output", "status", "reason", "error", "seconds")


# --------------------------------------------------------------------------- manifest
def read_manifest(path: str | os.PathLike) -> pd.DataFrame:
    """Read a manifest CSV written by :func:`run_batch` (empty table if absent).

    Examples
    --------
    >>> read_manifest("/nonexistent/manifest.csv").columns.tolist()[:3]
    ['key', 'output', 'status']
    """
    path = Path(path)
    if not path.exists():
        return pd.DataFrame(columns=list(MANIFEST_COLUMNS))
    damaged = f"{path} is damaged or not a skelbehave manifest"
    hint = "; move it away (or run again without resuming) to start afresh"
    if not path.is_file():
        raise ManifestError(f"{path} is not a file{hint}")
    try:
        df = pd.read_csv(path, dtype={"key": str, "output": str, "status": str, "reason": str, "error": str})
    except pd.errors.EmptyDataError:
        return pd.DataFrame(columns=list(MANIFEST_COLUMNS))
    except (ValueError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ManifestError(f"{damaged} ({first}){hint}") from None
    except OSError as exc:
        raise ManifestError(f"cannot read {path} ({exc.strerror or exc})") from None
    missing = [c for c in ("key", "output", "status") if c not in df.columns]
    if missing or df["key"].isna().any():
        what = f"no column {', '.join(missing)}" if missing else "rows without a key"
        raise ManifestError(f"{damaged} ({what}){hint}")
    for col in MANIFEST_COLUMNS:
        if col not in df.columns:
            df[col] = pd.NA
    for col in ("reason", "error"):
        df[col] = df[col].fillna("")
    return df


def write_manifest(path: str | os.PathLike, rows: Mapping[str, dict]) -> None:
    """Write manifest rows (``{key: row}``) atomically, :data:`MANIFEST_COLUMNS` first.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "manifest.csv"
    >>> write_manifest(p, {"a": {"key": "a", "output": "a.txt", "status": "done", "n": 3}})
    >>> read_manifest(p)[["key", "status", "n"]].values.tolist()
    [['a', 'done', 3]]
    """
    df = pd.DataFrame(list(rows.values()))
    cols = list(MANIFEST_COLUMNS) + [c for c in df.columns if c not in MANIFEST_COLUMNS]
    df = df.reindex(columns=cols)
    with atomic_write(path) as fh:
        df.to_csv(fh, index=False)


def resolve_start_method(name: str) -> str:
    """A start method of this platform; ``"auto"``: ``"fork"`` where offered (not macOS), else ``"spawn"``.

    Examples
    --------
    >>> resolve_start_method("spawn")
    'spawn'
    """
    import sys

    methods = multiprocessing.get_all_start_methods()
    if name == "auto":
        return "fork" if "fork" in methods and sys.platform != "darwin" else "spawn"
    if name not in methods:
        raise ParameterError(f"start_method must be 'auto' or one of {methods}, got {name!r}")
    return name


# --------------------------------------------------------------------------- threads
def thread_map(func: Callable[[Any], Any], items: list, threads: int) -> list:
    """``[func(x) for x in items]`` on up to ``threads`` threads, results in input order.

    For work that releases the GIL (the package's ``nogil`` numba kernels):
    the blocks of one long recording share the cores of one process, with no
    copy of the model or of the data.

    Examples
    --------
    >>> thread_map(lambda x: x * x, [1, 2, 3], threads=2)
    [1, 4, 9]
    """
    if threads <= 1 or len(items) <= 1:
        return [func(x) for x in items]
    with cf.ThreadPoolExecutor(max_workers=min(int(threads), len(items))) as ex:
        return list(ex.map(func, items))


# --------------------------------------------------------------------------- worker side
_INITIALISED: set[tuple] = set()


def _call(func: Callable, item: dict, initializer: Callable | None, initargs: tuple) -> dict:
    """Run one item in whatever process we are in; never raises for item errors."""
    if initializer is not None:
        tag = (getattr(initializer, "__module__", ""), getattr(initializer, "__qualname__", ""), initargs)
        try:
            hash(tag)
        except TypeError:
            tag = (tag[0], tag[1], repr(initargs))
        if tag not in _INITIALISED:
            initializer(*initargs)
            _INITIALISED.add(tag)
    t0 = time.perf_counter()
    try:
        extra = func(item) or {}
        if not isinstance(extra, Mapping):
            raise ParameterTypeError(f"batch function must return a dict or None, got {type(extra).__name__}")
        out = {"status": "done", "reason": "", "error": ""}
        out.update(extra)
        if out["status"] == "done" and "output_sha256" not in out:
            # the output's checksum for the manifest, taken here in the worker (the driver, one
            # process for all workers, would hash every output serially)
            try:
                out["output_sha256"] = file_sha256(item["output"])
            except (OSError, ValueError, KeyError):
                pass  # the driver finds the output missing and says so
    except BatchItemError as exc:
        out = {"status": "failed", "reason": exc.reason, "error": exc.message}
    except Exception as exc:  # keep going past any bad item ...
        if (ki := interrupt_behind(exc)) is not None:  # ... but not past Ctrl-C inside numba code
            raise ki from None
        out = {"status": "failed", "reason": type(exc).__name__, "error": str(exc)}
    out["seconds"] = round(time.perf_counter() - t0, 4)
    return out


def _get_client(scheduler: Any):
    Client = require("dask.distributed", "dask", "a Dask scheduler").Client
    if isinstance(scheduler, Client):
        return scheduler, False
    if isinstance(scheduler, str):
        try:
            return Client(scheduler, timeout=scheduler_timeout()), True
        except (OSError, ValueError, TypeError) as exc:
            raise ParameterError(f"cannot reach the Dask scheduler {scheduler!r}: {exc}") from None
    if hasattr(scheduler, "submit") and hasattr(scheduler, "gather"):
        return scheduler, False
    raise ParameterTypeError(f"scheduler must be an address or a dask.distributed.Client, got {scheduler!r}")


def scheduler_timeout() -> float:
    """Seconds to wait for a Dask scheduler (``SKELBEHAVE_SCHEDULER_TIMEOUT``, default 10)."""
    try:
        return float(os.environ.get("SKELBEHAVE_SCHEDULER_TIMEOUT", "10"))
    except ValueError:
        return 10.0


# --------------------------------------------------------------------------- driver
def run_batch(
    func: Callable[[dict], Mapping[str, Any] | None],
    items: Iterable[Mapping[str, Any]],
    *,
    manifest: str | os.PathLike,
    jobs: int = 1,
    scheduler: Any = None,
    progress: bool = True,
    desc: str | None = None,
    initializer: Callable[..., Any] | None = None,
    initargs: tuple = (),
    retry_failed: bool = True,
    max_in_flight: int | None = None,
    start_method: str = "spawn",
    pool: cf.ProcessPoolExecutor | None = None,
) -> pd.DataFrame:
    """Run ``func`` over many items, resumably, in this process, local processes or Dask.

    Parameters
    ----------
    func : callable
        ``func(item) -> dict | None``; must be importable by module path
        (a module-level function) when ``jobs > 1`` or with Dask. It writes
        ``item["output"]`` itself, atomically. The returned dict's fields are
        added to the item's manifest row. Raise :class:`BatchItemError` for
        an expected bad input; any exception marks the item failed, and the
        run goes on.
    items : iterable of dict
        Each has a unique ``"key"`` (str) and an ``"output"`` path; other
        fields are passed through to ``func``. An optional ``"fields"`` dict
        (e.g. the checksum of the model that makes the output, options) is
        written into the item's manifest row whatever the outcome, and a row
        ``"done"`` with other field values (compared as text) is not finished:
        the item runs again.
    manifest : path
        CSV file recording every item's status; rewritten atomically after
        each finished item. Items already ``"done"`` there whose output
        exists are skipped.
    jobs : int
        Number of local worker processes (``"spawn"`` context, so libraries
        with threads such as MediaPipe are safe; a script that starts them
        needs the ``if __name__ == "__main__":`` guard). ``1`` runs in this
        process.
    scheduler : str or dask.distributed.Client, optional
        Run on a Dask cluster instead: a scheduler address (a client is
        opened and closed here) or an existing ``Client``.
    progress : bool
        Show a tqdm progress bar.
    desc : str, optional
        Progress bar label.
    initializer, initargs : callable, tuple
        Called once per worker process (or once in this process) before its
        first item, e.g. to build one heavy model per process.
    retry_failed : bool
        Run items that failed in an earlier run again (default). ``False``
        keeps their old row.
    max_in_flight : int, optional
        Most items submitted but not finished at once (default ``2 * jobs``,
        or ``2 *`` the Dask worker threads), so memory stays flat however many
        items there are.
    start_method : {"spawn", "forkserver", "fork", "auto"}
        How local worker processes start (``jobs > 1``). ``"spawn"`` (the
        default) is safe with threaded libraries; ``"fork"`` starts workers
        in milliseconds with everything this process has already imported
        and loaded, safe when ``func`` uses no library threads that were
        running here (POSIX only). ``"auto"``: see :func:`resolve_start_method`.
    pool : concurrent.futures.ProcessPoolExecutor, optional
        Worker processes started (and warmed) beforehand by :func:`start_pool`: used
        instead of starting ``jobs`` new ones (also when ``jobs == 1``), and left running.

    Returns
    -------
    pandas.DataFrame
        The manifest: one row per item of this run in input order (then any
        older rows for keys not in this run), with ``key, output, status
        ("done" / "failed" / "pending"), reason, error, seconds`` and the
        extra fields.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from skelbehave._util.parallel import run_batch
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> def work(item):
    ...     pathlib.Path(item["output"]).write_text(str(item["n"] ** 2))
    ...     return {"square": item["n"] ** 2}
    >>> items = [{"key": f"k{n}", "output": str(d / f"{n}.txt"), "n": n} for n in range(3)]
    >>> df = run_batch(work, items, manifest=d / "manifest.csv", progress=False)
    >>> df["status"].tolist(), df["square"].tolist()
    (['done', 'done', 'done'], [0, 1, 4])
    """
    manifest = Path(manifest)
    items = [dict(it) for it in items]
    keys = [str(it.get("key", "")) for it in items]
    for i, (it, k) in enumerate(zip(items, keys, strict=True)):
        if not k or "output" not in it:
            raise ParameterError(f"batch item {i} needs a non-empty 'key' and an 'output' path, got {it!r}")
        it["key"] = k
        it["output"] = str(it["output"])
    dupes = pd.Series(keys)[pd.Series(keys).duplicated()].unique().tolist()
    if dupes:
        raise ParameterError(f"batch item keys must be unique; repeated: {dupes[:5]}")
    if isinstance(jobs, bool) or not isinstance(jobs, numbers.Integral) or jobs < 1:
        raise ParameterError(f"jobs must be an integer >= 1, got {jobs!r}")
    start_method = resolve_start_method(start_method)
    # one run per output folder at a time: a second one waits here (two runs would lose rows)
    with folder_lock(manifest.parent):
        return _run_locked(
            func, items, manifest, jobs, scheduler, progress, desc, initializer, initargs,
            retry_failed, max_in_flight, start_method, pool,
        )  # fmt: skip


def _output_intact(row: Mapping[str, Any], output: str) -> bool:
    """A done row's output exists and (when the row has its checksum) is the file that run wrote."""
    if not Path(output).is_file():
        return False
    want = _text(row.get("output_sha256"))
    if not want:
        return True  # a row written before output checksums were recorded
    try:
        return file_sha256(output) == want
    except (OSError, ValueError):
        return False


def _run_locked(
    func, items, manifest, jobs, scheduler, progress, desc, initializer, initargs,
    retry_failed, max_in_flight, start_method, pool=None,
) -> pd.DataFrame:  # fmt: skip
    """:func:`run_batch` once it holds the output folder."""
    from tqdm.auto import tqdm

    # a run killed while rewriting the manifest leaves its temporary file: one run per manifest at a
    # time, so any such file is stale
    remove_stale_temps(manifest)
    # rows: current items (input order) then older rows for other keys
    old = read_manifest(manifest)
    old_rows = {str(r["key"]): {k: v for k, v in r.items() if not _isna(v)} for r in old.to_dict("records")}
    rows: dict[str, dict] = {}
    todo: list[dict] = []
    for it in items:
        prev = old_rows.get(it["key"])
        fields = it.get("fields") or {}
        finished = (
            prev is not None
            and prev.get("output") == it["output"]
            and all(_text(prev.get(k)) == _text(v) for k, v in fields.items())
            and (
                (prev.get("status") == "done" and _output_intact(prev, it["output"]))
                or (prev.get("status") == "failed" and not retry_failed)
            )
        )
        if finished:
            rows[it["key"]] = prev
        else:
            rows[it["key"]] = {"key": it["key"], "output": it["output"], "status": "pending", **fields}
            todo.append(it)
            remove_stale_temps(it["output"])  # half-written by a run that was killed
    for k, r in old_rows.items():
        rows.setdefault(k, r)
    n_skip = len(items) - len(todo)
    if n_skip:
        logger.info("%s: %d of %d items already finished, skipping them", manifest, n_skip, len(items))
    write_manifest(manifest, rows)

    # reach the cluster before anything is shown (also when all is done: an unreachable scheduler
    # is a mistake to report, whatever is left to do)
    client, own = _get_client(scheduler) if scheduler is not None else (None, False)
    bar = tqdm(total=len(items), initial=n_skip, desc=desc, disable=not progress, unit="item")

    def record(item: dict, result: Mapping[str, Any]) -> None:
        row = {"key": item["key"], "output": item["output"]}
        row.update(result)
        row.update(item.get("fields") or {})
        if row.get("status") == "done":  # what this run wrote: a later overwrite is detected
            try:
                if not Path(item["output"]).is_file():
                    raise FileNotFoundError(item["output"])
                if not _text(row.get("output_sha256")):  # the worker hashed it (see _call)
                    row["output_sha256"] = file_sha256(item["output"])
            except (OSError, ValueError):
                row.update(status="failed", reason="no_output", error=f"{item['output']} was not written")
        rows[item["key"]] = row
        write_manifest(manifest, rows)
        if row["status"] != "done":  # the caller sums failures up; details are in the manifest
            logger.info("%s failed (%s): %s", item["key"], row.get("reason"), row.get("error"))
        bar.update(1)

    try:
        if not todo:
            pass
        elif scheduler is not None:
            _run_dask(func, todo, client, initializer, initargs, max_in_flight, record)
        elif jobs == 1 and pool is None:
            for it in todo:
                record(it, _call(func, it, initializer, initargs))
        else:
            _run_processes(
                func, todo, jobs, initializer, initargs, max_in_flight, record, start_method, pool
            )
    except KeyboardInterrupt as exc:
        # every finished item goes into the manifest (the interrupt may have hit while it was being
        # rewritten): the same call again resumes
        write_manifest(manifest, rows)
        mine = {it["key"] for it in items}
        n_done = sum(r.get("status") == "done" for k, r in rows.items() if k in mine)
        exc.batch_progress = (n_done, len(items))
        raise
    finally:
        bar.close()
        if own:
            client.close()
    df = pd.DataFrame(list(rows.values()))
    cols = list(MANIFEST_COLUMNS) + [c for c in df.columns if c not in MANIFEST_COLUMNS]
    return df.reindex(columns=cols)


def _text(v: Any) -> str:
    """A manifest value as the text a CSV round trip keeps (missing: ``""``)."""
    return "" if v is None or _isna(v) else str(v)


def _isna(v: Any) -> bool:
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


_CRASHED = {
    "status": "failed",
    "reason": "worker_crashed",
    "error": "the worker process died while running this item (run alone, so this item is the cause). "
    "If every item fails so, the script that starts the batch probably lacks the guard "
    "`if __name__ == '__main__':`",
}


def _fresh_worker() -> None:
    """Start of a worker process: a forked worker forgets the initialisers run in its parent.

    Workers ignore Ctrl-C (the terminal sends SIGINT to the whole process
    group): the driver stops the run and ends them, and no worker prints a
    traceback. The C heap keeps the blocks it frees (:func:`~.heap.steady_malloc`).
    """
    _INITIALISED.clear()
    steady_malloc()
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _run_processes(
    func, todo, jobs, initializer, initargs, max_in_flight, record, start_method: str = "spawn", pool=None
) -> None:
    """Local process pool; a worker crash (segfault, os._exit) never stops the run.

    Items in flight when a pool breaks are suspects: once the queue is done
    they run again one at a time in a fresh single-worker pool, so only the
    item that really kills its worker is recorded as ``worker_crashed``.
    """
    if start_method not in multiprocessing.get_all_start_methods():
        raise ParameterError(
            f"start_method must be one of {multiprocessing.get_all_start_methods()}, got {start_method!r}"
        )
    ctx = multiprocessing.get_context(start_method)
    queue = list(reversed(todo))
    suspects: list[dict] = []
    isolating = False
    while queue or suspects:
        if not queue:
            queue, suspects, isolating = list(reversed(suspects)), [], True
            logger.info("a worker process died; running %d suspect items one at a time", len(queue))
        workers = 1 if isolating else min(jobs, len(queue))
        limit = 1 if isolating else (max_in_flight or 2 * jobs)
        given = pool is not None and not isolating  # a pool started beforehand (start_pool)
        if given:
            ex = pool
        else:
            ex = cf.ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_fresh_worker)
        try:
            queue, suspects = _pool_round(
                ex, func, queue, suspects, isolating, limit, initializer, initargs, record
            )
        except BaseException:  # Ctrl-C or an error in the driver: end the workers now, not after their items
            _stop_pool(ex)
            raise
        if given:
            if queue or suspects:  # it broke: fresh pools from here on
                pool = None
        else:
            ex.shutdown(wait=True)
        # a broken pool: the loop starts a fresh one for what is left


def _stop_pool(ex: cf.ProcessPoolExecutor) -> None:
    """End a pool's worker processes at once (their items stay pending in the manifest)."""
    procs = list((getattr(ex, "_processes", None) or {}).values())
    ex.shutdown(wait=False, cancel_futures=True)
    for proc in procs:
        if proc.is_alive():
            proc.terminate()
    for proc in procs:
        proc.join(timeout=5)


def _pool_round(ex, func, queue, suspects, isolating, limit, initializer, initargs, record):
    """Run queued items on one pool until it is done or broken; returns (queue, suspects)."""
    from concurrent.futures.process import BrokenProcessPool

    pending: dict[cf.Future, dict] = {}
    broken = False
    while (queue and not broken) or pending:
        while queue and len(pending) < limit and not broken:
            it = queue.pop()
            try:
                pending[ex.submit(_call, func, it, initializer, initargs)] = it
            except BrokenProcessPool:  # broke since the last wait: not this item's fault
                queue.append(it)
                broken = True
        if not pending:
            break
        done, _ = cf.wait(pending, return_when=cf.FIRST_COMPLETED)
        for fut in done:
            it = pending.pop(fut)
            try:
                res = fut.result()
            except BrokenProcessPool:
                broken = True
                if isolating:
                    record(it, dict(_CRASHED))
                else:
                    suspects.append(it)
                continue
            except Exception as exc:  # e.g. an unpicklable result
                res = {"status": "failed", "reason": type(exc).__name__, "error": str(exc)}
            record(it, res)
    return queue, suspects


def _dask_call(func: Callable, item: dict, initializer: Callable | None, initargs: tuple) -> dict:
    """A Dask task: :func:`_call`, in a worker whose C heap keeps the blocks it frees.

    Dask's nanny starts workers with ``MALLOC_TRIM_THRESHOLD_=65536``, which
    turns glibc's adaptive mmap threshold off (every array over 128 kB an
    ``mmap`` and its pages zeroed again); :func:`~.heap.steady_malloc` undoes it
    once per worker process.
    """
    steady_malloc()
    return _call(func, item, initializer, initargs)


def _run_dask(func, todo, client, initializer, initargs, max_in_flight, record) -> None:
    from dask.distributed import as_completed

    if max_in_flight is None:
        try:
            nthreads = sum(client.nthreads().values())
        except Exception:
            nthreads = 1
        max_in_flight = max(2, 2 * nthreads)
    queue = list(reversed(todo))
    pending: dict[Any, dict] = {}

    def submit():
        it = queue.pop()
        fut = client.submit(_dask_call, func, it, initializer, initargs, pure=False)
        pending[fut] = it
        return fut

    while queue and len(pending) < max_in_flight:
        submit()
    ac = as_completed(list(pending))
    for fut in ac:
        it = pending.pop(fut)
        try:
            res = fut.result()
        except Exception as exc:  # worker died, task lost
            res = {"status": "failed", "reason": type(exc).__name__, "error": str(exc)}
        record(it, res)
        if queue:
            ac.add(submit())
