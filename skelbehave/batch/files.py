"""Scoring many pose files: the batch driver, its workers and the run manifest."""

from __future__ import annotations

import contextlib
import logging
import math
import numbers
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._util.fs import (
    file_sha256,
    file_stamp,
    folder_lock,
    output_names,
    regular_file_problem,
    remove_stale_temps,
    settled_stamp,
    temp_path,
)
from .._util.heap import steady_malloc
from .._util.parallel import read_manifest, resolve_start_method, run_batch, write_manifest
from .._util.threads import limit_threads
from ..errors import (
    BatchItemError,
    ManifestError,
    ModelFileError,
    ParameterError,
    PoseDataError,
    SkelbehaveError,
)
from ..temporal.segments import segment_frames
from .chunks import plan_workers
from .tables import _write_ethogram, _write_table, is_frame_level, score_file
from .videos import extract_videos, find_inputs, is_video

log = logging.getLogger(__name__)

__all__ = ["score_files"]

#: Manifest status of an input whose size or modification time changed while it was read.
CHANGED = "changed_during_read"

# one model per worker process, keyed by (path, checksum)
_MODEL_CACHE: dict[tuple[str, str], Any] = {}


def _load_model(path: str | os.PathLike, n_jobs: int | None = None):
    """Any saved model (:func:`skelbehave.pipeline.load`), set to ``n_jobs`` threads when it takes them."""
    from ..pipeline import load

    model = load(path)
    is_frame_level(model)
    if n_jobs is not None and hasattr(model, "get_params") and "n_jobs" in model.get_params(deep=False):
        model.set_params(n_jobs=n_jobs)
    return model


def _cached_model(path: str, checksum: str, n_jobs: int | None = None):
    key = (path, checksum)
    if key not in _MODEL_CACHE:
        _MODEL_CACHE.clear()
        _MODEL_CACHE[key] = _load_model(path, n_jobs)
    return _MODEL_CACHE[key]


def _score_item(item: dict) -> dict:
    """Worker: score one file, write its table atomically, return manifest fields."""
    from .._version import __version__

    src = item["input"]
    result: dict[str, Any] = {"package_version": __version__}
    if item.get("extract_failed"):  # a video whose poses could not be extracted: its reason, as given
        raise BatchItemError(*item["extract_failed"])
    problem = regular_file_problem(src)  # a FIFO, device or folder is refused before anything opens it
    if problem is not None:
        reason = "missing" if problem == "no such file" else "not_a_regular_file"
        raise BatchItemError(reason, f"{src}: {problem}")
    try:
        before = file_stamp(src)
        result["input_sha256"] = file_sha256(src)
    except (OSError, SkelbehaveError) as exc:
        raise BatchItemError(
            "unreadable", f"{src}: cannot read the file ({getattr(exc, 'strerror', None) or exc})"
        ) from None
    model = _cached_model(item["model_path"], item["fields"]["model_sha256"], item.get("n_jobs"))
    try:
        table = score_file(
            model, src, format=item["format"], fps=item.get("fps"),
            window=item.get("window"), stride=item.get("stride"), individual=item.get("individual"),
            min_confidence=item.get("min_confidence"),
        )  # fmt: skip
    except SkelbehaveError as exc:
        raise BatchItemError("bad_input", str(exc)) from None
    try:  # waits until the file has been still for a moment, so a writer between two appends is seen
        after = settled_stamp(src)
    except OSError:
        after = None
    if after != before:  # e.g. a tracker still writing it: what was read is not the whole file
        return {
            **result,
            "status": CHANGED,
            "reason": CHANGED,
            "error": f"{src} changed while it was read (size or modification time); "
            "run again once it is complete",
        }
    _write_table(table, Path(item["output"]), item["output_format"])
    if item.get("ethogram"):  # a clip model's sliding segments: each frame the nearest segment's label
        frames = table if "frame" in table else segment_frames(table)
        _write_ethogram(frames, model.classes_.tolist(), Path(item["output"]), Path(src).name)
    result["n_frames"] = int(table.attrs.get("n_frames", 0))
    result["n_rows"] = len(table)
    return result


def _init_worker(n_jobs: int | None, frame_level: bool = False) -> None:
    """Start of a worker process (local or Dask): thread limits for its life, a steady C heap."""
    steady_malloc()
    limit_threads(n_jobs, numba=not frame_level)


def _thread_limits(n_jobs: int | None, frame_level: bool) -> limit_threads:
    """The thread limits of a scoring process.

    A frame-level model's scoring runs no numba parallel kernel (its threads
    are the package's own, over time blocks), so numba's threading layer is
    left unstarted: setting its thread count would start it, and a process
    that has run GNU OpenMP can no longer fork workers safely.
    """
    return limit_threads(n_jobs, numba=not frame_level)


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
    window: int | str | None = None,
    stride: int | str | None = None,
    individual: int | str | list | None = None,
    min_confidence: float | None = None,
    resume: bool = True,
    n_jobs: int | None = 1,
    ethogram: bool = False,
    progress: bool = True,
    start_method: str = "auto",
    pose_model: str | os.PathLike | bytes | None = None,
    num_poses: int = 1,
    pose_fps: float | None = None,
    min_track_frames: int | str | None = None,
    stitch_gap: int | str | None = None,
) -> pd.DataFrame:
    """Score many pose files or videos with any model; returns the run manifest.

    Parameters
    ----------
    model : path, FrameLevelModel or BehaviorModel
        A saved model file (``.skb``, any kind :func:`skelbehave.load`
        reads), or a fitted model, which is first saved as
        ``out_dir/model.skb`` so that workers can load it. Frame-level
        models label every frame; clip-level models label each file and
        individual, or each sliding segment (``window``).
    inputs : path, pattern, folder or a list of them
        Pose files, videos and image-sequence folders, mixed (see
        :func:`skelbehave.batch.videos.find_inputs`: a folder gives its pose
        files and videos, never manifests, image-landmark files or other
        stray files). Videos are extracted first
        (:func:`skelbehave.pose.extract_many`, with ``jobs``/``scheduler``)
        into ``out_dir/poses/`` (``<name>.pose.csv`` and its own
        ``manifest.csv``, resumable), then their pose files are scored like
        the others, each individual on its own; a video that cannot be used
        (not a video, no person in it, ...) gets a failed row with the
        extraction's reason and error, and the run goes on. A video that
        failed is tried again only with ``resume=False``.
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
        Frame rate for files that do not state one (time columns, durations).
    window, stride : int or str, optional
        Clip-level models: one row per sliding segment ``window`` long (frames,
        or ``"2s"``, ``"500ms"``), one every ``stride`` (default: ``window``).
        See :func:`score_sequences`.
    individual : int, str or list, optional
        Score only these individuals of each file (``meta["person"]``; see
        :func:`skelbehave.pose.tracking.select_individuals`); default all,
        each scored on its own.
    min_confidence : float in [0, 1], optional
        Rows whose top probability is below it are labelled ``"unknown"``
        (probabilities kept; see :func:`score_sequences`).
    resume : bool
        Skip files already scored by this model (same input bytes) whose
        output exists. ``False`` scores these inputs again (the rows and
        outputs of other inputs in the manifest are kept, and keep their names).
    n_jobs : int or None
        Threads inside each worker process (numba, BLAS, torch; see
        :func:`skelbehave._util.threads.limit_threads`); also the model's
        own ``n_jobs`` while it scores.
    ethogram : bool
        Also write ``<name>.ethogram.png`` (behaviours over time, one panel per animal when animals
        are scored separately; for a clip-level model, which needs a ``window``, each frame takes the
        label of the nearest segment covering it: :func:`skelbehave.temporal.segment_frames`) and
        ``<name>.bouts.csv`` (time spent and bout counts per behaviour).
    progress : bool
        Show a progress bar.
    pose_model : path or {"lite", "full", "heavy"}, optional
        Videos: the MediaPipe Pose Landmarker bundle (see
        :func:`skelbehave.pose.models.resolve_model`).
    num_poses, pose_fps, min_track_frames, stitch_gap
        Videos: passed to :func:`skelbehave.pose.extract` (most people a
        frame; run the pose model at this rate, skipped frames interpolated;
        identities seen in fewer frames dropped; longest loss across which a
        person's track is joined). Defaults: the library's.
    start_method : {"auto", "fork", "forkserver", "spawn"}
        How local worker processes start (``jobs > 1``). ``"auto"``: for a
        frame-level model ``"fork"`` where available (Linux, macOS excepted),
        so workers start at once with the package imported and the model
        loaded here (its scoring runs no library threads, so forking is
        safe, unless this process already ran numba's OpenMP layer, which
        frame-level scoring, with any ``n_jobs``, never starts). Else,
        and for clip-level models (numba's parallel kernels), ``"spawn"``:
        each worker imports the package and loads the model (seconds).

    Returns
    -------
    pandas.DataFrame
        The manifest: ``key, output, status, reason, error, seconds, input,
        input_sha256, model_sha256, package_version, n_frames, n_rows``; for a
        video, ``key`` and ``input`` are the video and ``pose_file`` the poses
        scored (``input_sha256`` is theirs).

    Examples
    --------
    >>> # manifest = score_files("rat.skb", "poses/*.csv", "predictions", jobs=2)
    >>> # manifest["status"].value_counts()
    """
    _check_arguments(jobs=jobs, n_jobs=n_jobs, fps=fps, format=format, output_format=output_format)
    if min_confidence is not None and not (
        isinstance(min_confidence, (int, float)) and 0.0 <= float(min_confidence) <= 1.0
    ):
        raise ParameterError(f"min_confidence must be a number in [0, 1], got {min_confidence!r}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    # one run per output folder: names, the manifest and the outputs are decided and written under it
    with folder_lock(out_dir):
        return _score_files_locked(
            model, inputs, out_dir, jobs=jobs, scheduler=scheduler, format=format,
            output_format=output_format, fps=fps, window=window, stride=stride, individual=individual,
            min_confidence=min_confidence, resume=resume, n_jobs=n_jobs, ethogram=ethogram, progress=progress,
            start_method=start_method,
            video_options={
                "pose_model": pose_model, "num_poses": num_poses, "pose_fps": pose_fps,
                "min_track_frames": min_track_frames, "stitch_gap": stitch_gap,
            },
        )  # fmt: skip


def _check_arguments(*, jobs, n_jobs, fps, format, output_format) -> None:
    """Refuse argument values :func:`score_files` cannot use, before anything runs."""
    from ..io import FORMATS

    if isinstance(jobs, bool) or not isinstance(jobs, numbers.Integral) or jobs < 1:
        raise ParameterError(f"jobs must be an integer >= 1, got {jobs!r}")
    if n_jobs is not None and (
        isinstance(n_jobs, bool) or not isinstance(n_jobs, numbers.Integral) or n_jobs == 0 or n_jobs < -1
    ):
        raise ParameterError(f"n_jobs must be None, -1 (all cores) or an integer >= 1, got {n_jobs!r}")
    if fps is not None:
        try:
            ok = math.isfinite(float(fps)) and float(fps) > 0
        except (TypeError, ValueError):
            ok = False
        if not ok:
            raise ParameterError(f"fps must be a positive number of frames per second, got {fps!r}")
    if format != "auto" and format not in FORMATS:
        raise ParameterError(f"format must be 'auto' or one of {', '.join(FORMATS)}, got {format!r}")
    if output_format not in ("auto", "csv", "parquet"):
        raise ParameterError(f"output_format must be 'auto', 'csv' or 'parquet', got {output_format!r}")


def _score_files_locked(
    model, inputs, out_dir: Path, *, jobs, scheduler, format, output_format, fps, window, stride,
    individual, min_confidence, resume, n_jobs, ethogram, progress, start_method, video_options,
) -> pd.DataFrame:  # fmt: skip
    """:func:`score_files` once it holds the output folder."""
    from .._version import __version__

    if not isinstance(model, (str, os.PathLike)):
        is_frame_level(model)
        if not hasattr(model, "save"):
            raise ModelFileError(f"a {type(model).__name__} cannot be saved for the workers; pass a file")
        model_path = out_dir / "model.skb"
        remove_stale_temps(model_path)  # left by a killed run
        tmp = temp_path(model_path)
        try:
            model.save(tmp)
            # an unchanged model keeps its saved copy (and checksum), so that a re-run resumes
            if not (model_path.exists() and _same_content(tmp, model_path)):
                os.replace(tmp, model_path)
        finally:
            tmp.unlink(missing_ok=True)
    else:
        model_path = Path(model)
        problem = regular_file_problem(model_path)
        if problem is not None:
            raise ModelFileError(f"model file {model_path}: {problem}")
    model_sha = file_sha256(model_path)
    loaded = _load_model(model_path, n_jobs)  # fail early, in the driver, on a bad model file
    frame_level = is_frame_level(loaded)
    if frame_level and (window is not None or stride is not None):
        raise PoseDataError(
            f"a frame-level model's window is fixed when it is trained ({loaded.window_frames_} frames); "
            "window and stride choose segments for clip-level models only"
        )
    if stride is not None and window is None:
        raise PoseDataError("stride needs a window (the length of the segments to score)")
    if ethogram and not frame_level and window is None:
        raise PoseDataError(
            "an ethogram needs labels along time: score with a frame-level model, or give a clip-level "
            "model a window (and stride) to slide"
        )
    start_method = _start_method(start_method, frame_level)
    if scheduler is None:  # used here (jobs=1), or inherited by forked workers
        _MODEL_CACHE.clear()
        _MODEL_CACHE[(str(model_path.resolve()), model_sha)] = loaded
        if jobs > 1 and start_method == "fork" and frame_level:
            _warm_kernels(loaded)  # workers inherit the compiled tree kernel too
    if output_format == "auto":
        try:
            import pyarrow  # noqa: F401

            output_format = "parquet"
        except ImportError:
            output_format = "csv"
    if output_format not in ("csv", "parquet"):
        raise ParameterError(f"output_format must be 'auto', 'csv' or 'parquet', got {output_format!r}")
    paths = find_inputs(inputs)
    manifest = out_dir / "manifest.csv"
    if not resume:
        _forget(manifest, {str(q.resolve()) for q in paths})
    # videos (and image-sequence folders) to extract; a FIFO named .mp4 is refused by the worker instead
    videos = [p for p in paths if is_video(p) and (p.is_dir() or regular_file_problem(p) is None)]
    extracted: dict[str, dict] = {}
    if videos:  # poses first, cached in out_dir/poses with their own manifest
        extracted = extract_videos(
            videos, out_dir / "poses", jobs=jobs, scheduler=scheduler, progress=progress,
            retry_failed=not resume, **video_options,
        )  # fmt: skip
    suffix = ".predictions.parquet" if output_format == "parquet" else ".predictions.csv"
    names = output_names([p.resolve() for p in paths], taken=_names_taken(manifest))
    options = _options_tag(
        window=window, stride=stride, fps=fps, individual=individual, min_confidence=min_confidence
    )
    items = [
        {
            "key": str(p.resolve()),  # the manifest is keyed by the input's absolute path
            "output": str(out_dir / f"{n}{suffix}"),
            "input": str(p),
            "model_path": str(model_path.resolve()),
            "format": format,
            "output_format": output_format,
            "fps": fps,
            "window": window,
            "stride": stride,
            "individual": individual,
            "min_confidence": min_confidence,
            "n_jobs": n_jobs,
            "ethogram": ethogram,
            # recorded in the manifest; another model or other options: the file is scored again
            "fields": {"input": str(p.resolve()), "model_sha256": model_sha, "options": options},
        }
        for p, n in zip(paths, names, strict=True)
    ]
    for it in items:  # a video: score its poses, or record why there are none
        got = extracted.get(it["key"])
        if got is not None:
            it["fields"]["pose_file"] = got["pose_file"] or ""
            if got["pose_file"]:
                it["input"] = got["pose_file"]
            else:
                it["extract_failed"] = (got["reason"], f"{it['key']}: {got['error'] or got['reason']}")
    if manifest.exists():
        _invalidate_changed_inputs(manifest, items)
    if scheduler is None and frame_level:  # fewer files than processes: spare cores go to threads
        jobs, n_jobs = plan_workers(len(items), jobs, n_jobs)
        for it in items:
            it["n_jobs"] = n_jobs
        loaded.set_params(n_jobs=n_jobs)  # the model of this process (jobs=1) and of forked workers
    # largest files first: the last file to finish is a small one, so workers end together
    by_size = (
        sorted(items, key=lambda it: -_size(it["input"])) if jobs > 1 or scheduler is not None else items
    )
    local = scheduler is None and jobs == 1
    try:
        # one process: limit this one for the run only; workers: each limits itself once
        with _thread_limits(n_jobs, frame_level) if local else contextlib.nullcontext():
            df = run_batch(
                _score_item,
                by_size,
                manifest=manifest,
                jobs=jobs,
                scheduler=scheduler,
                progress=progress,
                desc="scoring",
                initializer=None if local else _init_worker,
                initargs=() if local else (n_jobs, frame_level),
                start_method=start_method,
            )
    finally:
        _MODEL_CACHE.clear()
    order = {it["key"]: i for i, it in enumerate(items)}  # manifest rows back in input order
    df = df.iloc[np.argsort([order.get(k, len(order)) for k in df["key"]], kind="stable")]
    df = df.reset_index(drop=True)
    df = _complete_manifest(df, manifest, __version__)
    n_fail = int((df["status"] == "failed").sum())
    if n_fail:
        log.warning("%d of %d files failed; see %s", n_fail, len(df), manifest)
    return df


def _start_method(name: str, frame_level: bool) -> str:
    """Resolve ``"auto"``: fork only where it is safe, else spawn.

    Forking is safe for a frame-level model (its scoring starts no library
    threads) in a process that has not started numba's OpenMP threading
    layer; GNU OpenMP aborts a child forked after it ran. A clip-level model
    runs numba's parallel kernels, so its workers are spawned.
    """
    if name != "auto":
        return resolve_start_method(name)
    if not frame_level or _numba_openmp_started():
        return "spawn"
    return resolve_start_method("auto")


def _numba_openmp_started() -> bool:
    try:
        import numba

        return numba.threading_layer() == "omp"
    except (ImportError, ValueError):  # ValueError: no parallel kernel has run yet
        return False


def _size(path: str) -> int:
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


def _warm_kernels(model) -> None:
    """Compile (or load from cache) the tree kernel here, so that forked workers inherit it."""
    for clf in (model.classifier_, getattr(model, "context_", None)):
        if clf is not None and hasattr(clf, "predict_proba"):
            clf.predict_proba(np.zeros((1, clf.n_features_in_)))


def _same_content(a: Path, b: Path) -> bool:
    """Whether two model files hold the same model (member checksums; creation time ignored)."""
    from ..io.archive import read_archive

    try:
        sa = read_archive(a)[0]["_manifest"].get("sha256")
        sb = read_archive(b)[0]["_manifest"].get("sha256")
    except (SkelbehaveError, KeyError):
        return False
    return sa == sb


def _options_tag(**options: Any) -> str:
    """The scoring options that change an output, as text for the manifest (``""``: none given).

    Examples
    --------
    >>> _options_tag(window="2s", stride=None, fps=30.0)
    'window=2s;fps=30.0'
    """
    return ";".join(f"{k}={v}" for k, v in options.items() if v is not None)


def _forget(manifest: Path, keys: set[str]) -> None:
    """Drop the rows of ``keys`` (scored again) and keep the others, whose outputs keep their names.

    Deleting the whole manifest would let this run take an earlier run's output names (and
    overwrite its files); a damaged manifest is removed (the caller asked to start afresh).
    """
    try:
        old = read_manifest(manifest)
    except ManifestError:
        manifest.unlink(missing_ok=True)
        return
    if old.empty:
        return
    rows = {
        str(r["key"]): {k: v for k, v in r.items() if not _isna(v)}
        for r in old.to_dict("records")
        if str(r["key"]) not in keys
    }
    write_manifest(manifest, rows)


def _names_taken(manifest: Path) -> dict[str, str]:
    """``{output name: input key}`` of an earlier run's manifest (outputs keep their names)."""
    taken = {}
    for r in read_manifest(manifest).to_dict("records"):
        name = Path(str(r.get("output", ""))).name
        for suffix in (".predictions.parquet", ".predictions.csv"):
            if name.endswith(suffix):
                taken[name[: -len(suffix)]] = str(r["key"])
    return taken


def _invalidate_changed_inputs(manifest: Path, items: list[dict]) -> None:
    """Mark rows done on an input whose bytes changed since as pending, so they are scored again."""
    old = read_manifest(manifest)
    if old.empty or "input_sha256" not in old.columns:
        return
    by_key = {it["key"]: it for it in items}
    changed = False
    rows = {}
    for r in old.to_dict("records"):
        it = by_key.get(str(r["key"]))
        if it is not None and r.get("status") == "done" and isinstance(r.get("input_sha256"), str):
            try:
                stale = file_sha256(it["input"]) != r["input_sha256"]
            except (OSError, SkelbehaveError):
                stale = True
            if stale:
                r["status"] = "pending"
                changed = True
        rows[str(r["key"])] = {k: v for k, v in r.items() if not _isna(v)}
    if changed:
        write_manifest(manifest, rows)


def _complete_manifest(df: pd.DataFrame, manifest: Path, version: str) -> pd.DataFrame:
    """Give failed rows (whose worker returned nothing) the input's hash and the version too."""
    df = df.copy()
    for col in ("input_sha256", "package_version"):
        if col not in df.columns:
            df[col] = pd.NA
    df.loc[df["package_version"].isna(), "package_version"] = version
    for i in df.index[df["input_sha256"].isna()]:
        if regular_file_problem(df.loc[i, "input"]) is None:  # never open a FIFO
            with contextlib.suppress(OSError, SkelbehaveError):
                df.loc[i, "input_sha256"] = file_sha256(df.loc[i, "input"])
    rows = {str(r["key"]): {k: v for k, v in r.items() if not _isna(v)} for r in df.to_dict("records")}
    write_manifest(manifest, rows)
    return df


def _isna(v: Any) -> bool:
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False
