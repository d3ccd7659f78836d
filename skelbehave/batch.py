"""Scoring many pose files with a frame-level model: local processes or a Dask cluster.

:func:`score_files` writes one predictions table per input file (``frame``,
``time``, ``label``, ``proba_<class>`` per class; an ``individual`` column
when a one-animal model scores every animal of a multi-animal file) and a
run manifest ``manifest.csv`` in the output folder: input path and SHA-256,
model checksum, package version, per-file status, error, frame count and
output path. Outputs are written atomically (temporary name, then rename);
a second run skips files already done with the same model and input, so a
killed run resumes where it stopped. Work runs through
:func:`skelbehave._util.parallel.run_batch`: in this process, ``jobs`` local
processes, or a Dask cluster (``scheduler`` = address or
``dask.distributed.Client``), with a bounded number of files in flight so
memory stays flat however many files there are. Each worker process loads
the model once (cached by path and checksum).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ._util.fs import atomic_path, expand_inputs, file_sha256
from ._util.parallel import read_manifest, run_batch
from .errors import BatchItemError, ModelFileError, PoseDataError, SkelbehaveError

log = logging.getLogger(__name__)

__all__ = ["expand_inputs", "file_sha256", "load_scoring_model", "score_file", "score_files"]

POSE_SUFFIXES = (".csv", ".skeleton")


def load_scoring_model(path: str | os.PathLike):
    """Load a saved frame-level model for scoring.

    Raises :class:`~skelbehave.errors.ModelFileError` when the file is not a
    frame-level model (a clip-level ``BehaviorModel`` labels whole clips, not
    frames).
    """
    from .io.archive import read_archive
    from .pipeline import FrameLevelModel

    doc, arrays = read_archive(path)
    if doc.get("kind") != "FrameLevelModel":
        raise ModelFileError(
            f"{path}: holds a {doc.get('kind')!r}; scoring needs a frame-level model "
            "(train one with `skelbehave fit --frame-level` or skelbehave.pipeline.FrameLevelModel)"
        )
    return FrameLevelModel._from_doc(doc, arrays, path)


# one model per worker process, keyed by (path, checksum)
_MODEL_CACHE: dict[tuple[str, str], Any] = {}


def _cached_model(path: str, checksum: str):
    key = (path, checksum)
    if key not in _MODEL_CACHE:
        _MODEL_CACHE.clear()
        _MODEL_CACHE[key] = load_scoring_model(path)
    return _MODEL_CACHE[key]


def _limit_threads(n: int) -> None:
    """Keep numeric libraries in a worker to ``n`` threads (no oversubscription)."""
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(limits=n)
    except Exception:  # pragma: no cover - threadpoolctl missing
        pass
    try:
        import numba

        numba.set_num_threads(max(1, min(n, numba.config.NUMBA_NUM_THREADS)))
    except Exception:  # pragma: no cover
        pass


def _write_table(df: pd.DataFrame, out: Path, fmt: str) -> None:
    with atomic_path(out) as tmp:
        if fmt == "parquet":
            df.to_parquet(tmp, index=False)
        else:
            probs = [c for c in df.columns if str(c).startswith("proba_")]
            df = df.copy()
            df[probs] = df[probs].round(6)
            df["time"] = df["time"].round(6)
            df.to_csv(tmp, index=False)


def score_file(model, path, *, format: str = "auto", fps: float | None = None) -> pd.DataFrame:
    """Per-frame predictions for one pose file.

    Parameters
    ----------
    model : FrameLevelModel
    path : path
        Pose file (the package's pose CSV, DeepLabCut single- or multi-animal CSV, ...).
    format : str
        Reader format (``"auto"`` detects it).
    fps : float, optional
        Frame rate when the file does not state one (DeepLabCut); used for
        the ``time`` column only. Without it ``time`` is NaN.

    Returns
    -------
    DataFrame with ``frame, time, label, proba_<class>...`` (plus
    ``individual`` when each animal of the file is scored separately).
    """
    from .io import read_poses

    kw = {"fps": fps} if fps is not None else {}
    seqs = read_poses(path, format=format, **kw)
    if not seqs:
        raise PoseDataError("the file holds no pose sequence", path=path)
    if fps is not None:
        seqs = [s if s.fps is not None else s.copy(fps=fps) for s in seqs]
    n_ind = model.n_individuals_
    if len(seqs) == n_ind:
        return model.predict_table(seqs)
    if n_ind == 1:
        tables = []
        for i, s in enumerate(seqs):
            t = model.predict_table([s])
            t.insert(0, "individual", s.meta.get("person", i))
            tables.append(t)
        return pd.concat(tables, ignore_index=True)
    raise PoseDataError(
        f"the model scores recordings of {n_ind} individuals together, but the file holds {len(seqs)}",
        path=path,
    )


def _write_ethogram(table: pd.DataFrame, classes: list, output: Path, title: str) -> None:
    """Ethogram PNG and bout table CSV next to a predictions file."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .plots import plot_ethogram
    from .temporal import bout_table

    stem = output.name.split(".predictions")[0]
    groups = list(table.groupby("individual", sort=False)) if "individual" in table else [(None, table)]
    # time = frame / fps: recover fps (None when the time column is empty)
    f, t = table["frame"].to_numpy()[:2], table["time"].to_numpy()[:2]
    fps = (
        float((f[1] - f[0]) / (t[1] - t[0])) if len(t) == 2 and np.isfinite(t).all() and t[1] > t[0] else None
    )
    height = 1.2 + 0.45 * len(classes) * len(groups)
    fig, axes = plt.subplots(len(groups), 1, figsize=(11, height), squeeze=False)
    bouts = []
    for ax, (who, part) in zip(axes[:, 0], groups, strict=True):
        name = title if who is None else f"{title}: {who}"
        plot_ethogram(part["label"].to_numpy(), fps=fps, classes=classes, title=name, ax=ax)
        b = bout_table(part["label"].to_numpy(), fps=fps, classes=classes)
        if who is not None:
            b.insert(0, "individual", who)
        bouts.append(b)
    fig.tight_layout()
    with atomic_path(output.with_name(f"{stem}.ethogram.png")) as tmp:
        fig.savefig(tmp, dpi=100, format="png")
    plt.close(fig)
    with atomic_path(output.with_name(f"{stem}.bouts.csv")) as tmp:
        pd.concat(bouts).to_csv(tmp)


def _score_item(item: dict) -> dict:
    """Worker: score one file, write its table atomically, return manifest fields."""
    from . import __version__

    src = item["input"]
    result: dict[str, Any] = {
        "input": src,
        "model_sha256": item["model_sha256"],
        "package_version": __version__,
    }
    try:
        result["input_sha256"] = file_sha256(src)
    except OSError as exc:
        raise BatchItemError("unreadable", f"{src}: cannot read the file ({exc.strerror or exc})") from None
    model = _cached_model(item["model_path"], item["model_sha256"])
    try:
        table = score_file(model, src, format=item["format"], fps=item.get("fps"))
    except SkelbehaveError as exc:
        raise BatchItemError("bad_input", str(exc)) from None
    _write_table(table, Path(item["output"]), item["output_format"])
    if item.get("ethogram"):
        _write_ethogram(table, model.classes_.tolist(), Path(item["output"]), Path(src).name)
    result["n_frames"] = int(table["frame"].nunique())
    result["n_rows"] = len(table)
    return result


def _init_worker(threads: int) -> None:
    _limit_threads(threads)


def _output_names(paths: list[Path]) -> list[str]:
    """Unique output stems: the file stem, or parent_stem when stems repeat."""
    stems = [p.stem for p in paths]
    out = []
    for p, s in zip(paths, stems, strict=True):
        if stems.count(s) > 1:
            s = f"{p.parent.name}_{s}"
        out.append(s)
    if len(set(out)) != len(out):
        out = [f"{i:05d}_{s}" for i, s in enumerate(out)]
    return out


def score_files(
    model,
    inputs,
    out_dir: str | os.PathLike,
    *,
    jobs: int = 1,
    scheduler: Any = None,
    format: str = "auto",
    output_format: str = "auto",
    fps: float | None = None,
    resume: bool = True,
    threads_per_job: int = 1,
    ethogram: bool = False,
    progress: bool = True,
    start_method: str = "auto",
) -> pd.DataFrame:
    """Score many pose files with a frame-level model; returns the run manifest.

    Parameters
    ----------
    model : path or FrameLevelModel
        A saved model file (``.skb``), or a fitted model, which is first
        saved as ``out_dir/model.skb`` so that workers can load it.
    inputs : path, pattern, folder or a list of them
        Pose files (see :func:`expand_inputs`).
    out_dir : path
        Receives ``<name>.predictions.csv`` (or ``.parquet``) per file and
        ``manifest.csv``.
    jobs : int
        Local worker processes (1 = this process).
    scheduler : str or dask.distributed.Client, optional
        Run on a Dask cluster instead (address, or a client).
    format : str
        Pose file format for every input (``"auto"`` detects per file).
    output_format : {"auto", "csv", "parquet"}
        ``"auto"``: Parquet when pyarrow is installed, else CSV.
    fps : float, optional
        Frame rate for files that do not state one (time column).
    resume : bool
        Skip files already scored by this model (same input bytes) whose
        output exists. ``False`` scores everything again.
    threads_per_job : int
        Numeric-library threads inside each worker.
    ethogram : bool
        Also write ``<name>.ethogram.png`` (behaviours over time, one panel
        per animal when animals are scored separately) and
        ``<name>.bouts.csv`` (time spent and bout counts per behaviour).
    progress : bool
        Show a progress bar.
    start_method : {"auto", "fork", "forkserver", "spawn"}
        How local worker processes start (``jobs > 1``). ``"auto"``: ``"fork"``
        where available (Linux, macOS excepted), so workers start at once
        with the package imported and the model loaded here; scoring runs
        no library threads, so forking is safe. Else ``"spawn"``: each
        worker imports the package and loads the model (seconds).

    Returns
    -------
    pandas.DataFrame
        The manifest: ``key, output, status, reason, error, seconds, input,
        input_sha256, model_sha256, package_version, n_frames, n_rows``.

    Examples
    --------
    >>> # manifest = score_files("rat.skb", "poses/*.csv", "predictions", jobs=2)
    >>> # manifest["status"].value_counts()
    """
    from . import __version__

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    if not isinstance(model, (str, os.PathLike)):
        if not hasattr(model, "save"):
            raise TypeError(f"model must be a model file path or a fitted FrameLevelModel, got {type(model)}")
        model_path = out_dir / "model.skb"
        tmp = out_dir / f".model.{os.getpid()}.tmp.skb"
        try:
            model.save(tmp)
            # an unchanged model keeps its saved copy (and checksum), so that a re-run resumes
            if not (model_path.exists() and _same_content(tmp, model_path)):
                os.replace(tmp, model_path)
        finally:
            tmp.unlink(missing_ok=True)
    else:
        model_path = Path(model)
    model_sha = file_sha256(model_path)
    loaded = load_scoring_model(model_path)  # fail early, in the driver, on a bad model file
    start_method = _start_method(start_method)
    if scheduler is None:  # used here (jobs=1), or inherited by forked workers
        _MODEL_CACHE.clear()
        _MODEL_CACHE[(str(model_path.resolve()), model_sha)] = loaded
        if jobs > 1 and start_method == "fork":
            _warm_kernels(loaded)  # workers inherit the compiled tree kernel too
    if output_format == "auto":
        try:
            import pyarrow  # noqa: F401

            output_format = "parquet"
        except ImportError:
            output_format = "csv"
    if output_format not in ("csv", "parquet"):
        raise ValueError(f"output_format must be 'auto', 'csv' or 'parquet', got {output_format!r}")
    paths = expand_inputs(inputs)
    names = _output_names(paths)
    suffix = ".predictions.parquet" if output_format == "parquet" else ".predictions.csv"
    items = [
        {
            "key": str(p),
            "output": str(out_dir / f"{n}{suffix}"),
            "input": str(p),
            "model_path": str(model_path.resolve()),
            "model_sha256": model_sha,
            "format": format,
            "output_format": output_format,
            "fps": fps,
            "ethogram": ethogram,
        }
        for p, n in zip(paths, names, strict=True)
    ]
    manifest = out_dir / "manifest.csv"
    if not resume and manifest.exists():
        manifest.unlink()
    elif manifest.exists():
        _invalidate_stale(manifest, items, model_sha, __version__)
    # largest files first: the last file to finish is a small one, so workers end together
    by_size = (
        sorted(items, key=lambda it: -_size(it["input"])) if jobs > 1 or scheduler is not None else items
    )
    try:
        df = run_batch(
            _score_item,
            by_size,
            manifest=manifest,
            jobs=jobs,
            scheduler=scheduler,
            progress=progress,
            desc="scoring",
            initializer=_init_worker,
            initargs=(threads_per_job,),
            start_method=start_method,
        )
    finally:
        _MODEL_CACHE.clear()
    order = {it["key"]: i for i, it in enumerate(items)}  # manifest rows back in input order
    df = df.iloc[np.argsort([order.get(k, len(order)) for k in df["key"]], kind="stable")]
    df = df.reset_index(drop=True)
    df = _complete_manifest(df, manifest, model_sha, __version__)
    n_fail = int((df["status"] == "failed").sum())
    if n_fail:
        log.warning("%d of %d files failed; see %s", n_fail, len(df), manifest)
    return df


def _size(path: str) -> int:
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


def _start_method(name: str) -> str:
    """Resolve ``"auto"``: fork on Linux and other POSIX systems that offer it (not macOS)."""
    import multiprocessing
    import sys

    methods = multiprocessing.get_all_start_methods()
    if name == "auto":
        return "fork" if "fork" in methods and sys.platform != "darwin" else "spawn"
    if name not in methods:
        raise ValueError(f"start_method must be 'auto' or one of {methods}, got {name!r}")
    return name


def _warm_kernels(model) -> None:
    """Compile (or load from cache) the tree kernel here, so that forked workers inherit it."""
    for clf in (model.classifier_, getattr(model, "context_", None)):
        if clf is not None and hasattr(clf, "predict_proba"):
            clf.predict_proba(np.zeros((1, clf.n_features_in_)))


def _same_content(a: Path, b: Path) -> bool:
    """Whether two model files hold the same model (member checksums; creation time ignored)."""
    from .io.archive import read_archive

    try:
        sa = read_archive(a)[0]["_manifest"].get("sha256")
        sb = read_archive(b)[0]["_manifest"].get("sha256")
    except (SkelbehaveError, KeyError):
        return False
    return sa == sb


def _invalidate_stale(manifest: Path, items: list[dict], model_sha: str, version: str) -> None:
    """Mark rows done with another model or on changed input as pending, so they are redone."""
    from ._util.parallel import _write_manifest

    old = read_manifest(manifest)
    if old.empty or "model_sha256" not in old.columns:
        return
    by_key = {it["key"]: it for it in items}
    changed = False
    rows = {}
    for r in old.to_dict("records"):
        it = by_key.get(str(r["key"]))
        if it is not None and r.get("status") == "done":
            stale = r.get("model_sha256") != model_sha
            if not stale and isinstance(r.get("input_sha256"), str):
                try:
                    stale = file_sha256(it["input"]) != r["input_sha256"]
                except OSError:
                    stale = True
            if stale:
                r["status"] = "pending"
                changed = True
        rows[str(r["key"])] = {k: v for k, v in r.items() if not (isinstance(v, float) and v != v)}
    if changed:
        _write_manifest(manifest, rows)


def _complete_manifest(df: pd.DataFrame, manifest: Path, model_sha: str, version: str) -> pd.DataFrame:
    """Give failed rows (whose worker returned nothing) their input, hashes and version too."""
    from ._util.parallel import _write_manifest

    df = df.copy()
    for col in ("input", "input_sha256", "model_sha256", "package_version"):
        if col not in df.columns:
            df[col] = pd.NA
    df["input"] = df["input"].where(df["input"].notna(), df["key"])
    miss = df["model_sha256"].isna()
    df.loc[miss, "model_sha256"] = model_sha
    df.loc[df["package_version"].isna(), "package_version"] = version
    for i in df.index[df["input_sha256"].isna()]:
        try:
            df.loc[i, "input_sha256"] = file_sha256(df.loc[i, "input"])
        except OSError:
            pass
    rows = {str(r["key"]): {k: v for k, v in r.items() if not _isna(v)} for r in df.to_dict("records")}
    _write_manifest(manifest, rows)
    return df


def _isna(v: Any) -> bool:
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False
