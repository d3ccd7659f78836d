"""Issue 14, batch outputs, input files and the CLI: nothing lost, nothing blocks, no traceback.

Regression tests on real rat DeepLabCut recordings and a real (small) frame-level model:
outputs of runs over folders with same-named files never overwrite each other; two
concurrent runs into one folder lose no manifest row; a FIFO or a folder given as an input
is refused at once; a file that changes while it is read is not marked done; files follow
the umask; every CLI mistake of ``tests/cli_cases.py`` ends in one line; Ctrl-C ends a run
with "interrupted: N of M done" and exit status 130.
"""

from __future__ import annotations

import os
import shutil
import signal
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pandas as pd
import pytest
from cli_cases import CLI_CASES, materialise, message_lines

from skelbehave._util.fs import LOCK_NAME, atomic_write, folder_lock, regular_file_problem
from skelbehave._util.optional import missing
from skelbehave._util.parallel import read_manifest
from skelbehave.batch import score_files
from skelbehave.cli import main
from skelbehave.errors import ManifestError, ModelFileError, OutputFolderBusyError
from skelbehave.io import read_poses
from skelbehave.pipeline.frame import FrameLevelModel

REPO = Path(__file__).resolve().parents[1]
N_FRAMES = 400


def _head(src: Path, dst: Path, n_frames: int, skip: int = 3000) -> Path:
    """Header (4 rows) and frames skip .. skip + n_frames of a DeepLabCut CSV."""
    with open(src) as fh:
        lines = fh.readlines()
    dst.parent.mkdir(parents=True, exist_ok=True)
    dst.write_text("".join(lines[:4] + lines[4 + skip : 4 + skip + n_frames]))
    return dst


@pytest.fixture(scope="module")
def rat_csvs(shared_data) -> list[Path]:
    return [next((shared_data / "rat_social_dlc" / "dlc_csv").glob(f"{n}DLC_*.csv")) for n in (1, 2, 5, 9)]


@pytest.fixture(scope="module")
def two_folders(rat_csvs, tmp_path_factory) -> tuple[Path, Path]:
    """Folders a/ and b/ that each hold rat.csv and other.csv, from different recordings."""
    d = tmp_path_factory.mktemp("folders")
    _head(rat_csvs[0], d / "a" / "rat.csv", N_FRAMES)
    _head(rat_csvs[1], d / "a" / "other.csv", N_FRAMES)
    _head(rat_csvs[2], d / "b" / "rat.csv", N_FRAMES)
    _head(rat_csvs[3], d / "b" / "other.csv", N_FRAMES)
    return d / "a", d / "b"


@pytest.fixture(scope="module")
def model_path(shared_data, two_folders, tmp_path_factory) -> Path:
    a, _ = two_folders
    recs = [read_poses(a / "rat.csv", fps=30)]
    lab = pd.read_csv(shared_data / "rat_social_dlc" / "labels_per_frame" / "1_labels.csv")
    ys = [lab["S1"].to_numpy()[3000 : 3000 + N_FRAMES]]
    model = FrameLevelModel(window=15, fit_stride=5, classifier_params={"n_estimators": 5}, random_state=0)
    model.fit(recs, ys)
    path = tmp_path_factory.mktemp("model") / "rat.skb"
    model.save(path)
    return path


@pytest.fixture(scope="module")
def reference(model_path, two_folders, tmp_path_factory) -> dict[Path, pd.DataFrame]:
    """Predictions of every input, each scored alone into a folder of its own."""
    ref = {}
    for folder in two_folders:
        for f in sorted(folder.glob("*.csv")):
            out = tmp_path_factory.mktemp("ref")
            df = score_files(model_path, [f], out, output_format="csv", fps=30, progress=False)
            ref[f.resolve()] = pd.read_csv(df["output"].iloc[0])
    return ref


def _check_outputs(manifest: pd.DataFrame, reference: dict[Path, pd.DataFrame]) -> None:
    for r in manifest.itertuples():
        assert r.status == "done", (r.key, r.error)
        pd.testing.assert_frame_equal(pd.read_csv(r.output), reference[Path(r.key)])


# ----------------------------------------------------------------------------- outputs never collide
def test_two_runs_over_same_named_files_keep_both(model_path, two_folders, reference, tmp_path):
    a, b = two_folders
    out = tmp_path / "out"
    kw = {"output_format": "csv", "fps": 30, "progress": False}
    score_files(model_path, a, out, **kw)
    score_files(model_path, b, out, **kw)
    man = read_manifest(out / "manifest.csv")
    assert sorted(man["key"]) == sorted(str(p) for p in reference)  # keyed by absolute paths
    assert man["output"].nunique() == 4 and len(list(out.glob("*.predictions.csv"))) == 4
    _check_outputs(man, reference)
    # a second run of each folder resumes: nothing is scored again, nothing changes
    again = score_files(model_path, a, out, **kw)
    assert (again["seconds"] == man.set_index("key").loc[again["key"], "seconds"].to_numpy()).all()
    _check_outputs(read_manifest(out / "manifest.csv"), reference)


def test_a_run_without_resume_keeps_the_outputs_of_other_folders(
    model_path, two_folders, reference, tmp_path
):
    a, b = two_folders
    out = tmp_path / "out"
    kw = {"output_format": "csv", "fps": 30, "progress": False}
    score_files(model_path, a, out, **kw)
    score_files(model_path, b, out, resume=False, **kw)
    score_files(model_path, a, out, resume=False, **kw)
    man = read_manifest(out / "manifest.csv")
    assert len(man) == 4 and man["output"].nunique() == 4
    _check_outputs(man, reference)


def test_an_overwritten_output_is_detected_and_repaired(model_path, two_folders, reference, tmp_path):
    """What an older version did (b/rat.csv written over a/rat.csv's output): re-running a/ repairs it."""
    a, b = two_folders
    out = tmp_path / "out"
    kw = {"output_format": "csv", "fps": 30, "progress": False}
    df_a = score_files(model_path, a, out, **kw)
    rat_a = df_a.set_index("key").loc[str((a / "rat.csv").resolve()), "output"]
    other = tmp_path / "other"
    df_b = score_files(model_path, b / "rat.csv", other, **kw)
    shutil.copyfile(df_b["output"].iloc[0], rat_a)  # the collision: same name, the other file's predictions
    with pytest.raises(AssertionError):
        _check_outputs(read_manifest(out / "manifest.csv"), reference)
    df = score_files(model_path, a, out, **kw)
    _check_outputs(df, reference)


def _score_cmd(model: Path, inputs: list[Path], out: Path, *extra: str) -> list[str]:
    return [
        sys.executable, "-m", "skelbehave", "score", str(model), *map(str, inputs),
        "--out", str(out), "--fps", "30", "--output-format", "csv", "--no-progress", *extra,
    ]  # fmt: skip


def test_two_concurrent_runs_lose_no_manifest_row(model_path, two_folders, reference, tmp_path):
    a, b = two_folders
    out = tmp_path / "out"
    procs = [
        subprocess.Popen(
            _score_cmd(model_path, [f], out), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for f in (a, b)
    ]
    results = [p.communicate(timeout=600) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], results
    assert not any("Traceback" in err for _, err in results)
    man = read_manifest(out / "manifest.csv")
    assert len(man) == 4
    _check_outputs(man, reference)


def test_folder_lock_waits_takes_over_a_dead_owner_and_can_refuse(tmp_path):
    # a lock file left by a killed process (its pid is dead): taken at once
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    (tmp_path / LOCK_NAME).write_text(dead.stdout)
    with folder_lock(tmp_path) as lock:
        assert lock.read_text().split() == [str(os.getpid())]
        with folder_lock(tmp_path):  # re-entrant in one process
            pass
    # held by a live process: wait=False refuses with the owner's pid, the default waits until it ends
    holder = subprocess.Popen(
        [sys.executable, "-c", "import pathlib, time; from skelbehave._util.fs import folder_lock\n"
         f"with folder_lock({str(tmp_path)!r}):\n    print('held', flush=True); time.sleep(3)\n"
         f"    pathlib.Path({str(tmp_path / 'finished')!r}).write_text('x')"],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert holder.stdout.readline().strip() == "held"
    with pytest.raises(OutputFolderBusyError, match=str(holder.pid)):
        with folder_lock(tmp_path, wait=False):
            pass
    with folder_lock(tmp_path):
        assert (tmp_path / "finished").exists()  # got it only once the holder was done
    holder.wait()


# ----------------------------------------------------------------------------- inputs: regular files only
def _run_with_deadline(fn, seconds: float):
    """Run ``fn`` in a thread; fail (instead of hanging the suite) if it blocks."""
    box = {}
    t = threading.Thread(target=lambda: box.update(value=fn()), daemon=True)
    t.start()
    t.join(seconds)
    assert not t.is_alive(), f"blocked for more than {seconds} s"
    return box["value"]


def test_a_fifo_or_folder_input_is_refused_at_once_and_the_batch_goes_on(model_path, two_folders, tmp_path):
    a, _ = two_folders
    fifo_csv, fifo_mp4 = tmp_path / "live.csv", tmp_path / "camera.mp4"
    os.mkfifo(fifo_csv)
    os.mkfifo(fifo_mp4)
    folder_csv = tmp_path / "folder.csv"
    folder_csv.mkdir()
    (folder_csv / "inner.csv").write_text("x")
    assert regular_file_problem(fifo_mp4) == "expected a regular file, found a FIFO (named pipe)"
    inputs = [fifo_csv, a / "rat.csv", fifo_mp4]
    df = _run_with_deadline(
        lambda: score_files(
            model_path, inputs, tmp_path / "out", output_format="csv", fps=30, progress=False
        ),
        120,
    )
    by = df.set_index("key")
    assert by.loc[str((a / "rat.csv").resolve()), "status"] == "done"
    for f in (fifo_csv, fifo_mp4):
        row = by.loc[str(f.resolve())]
        assert (row["status"], row["reason"]) == ("failed", "not_a_regular_file")
        assert "FIFO" in row["error"]
    man = read_manifest(tmp_path / "out" / "manifest.csv")
    assert len(man) == 3  # recorded, with the reason


def test_a_file_that_changes_while_it_is_read_is_not_done(
    model_path, two_folders, rat_csvs, tmp_path, monkeypatch
):
    """A DeepLabCut file still being written: rows appended while it is scored."""
    import skelbehave.batch.files as files

    growing = _head(rat_csvs[0], tmp_path / "in" / "growing.csv", N_FRAMES)
    more = open(rat_csvs[0]).readlines()[4 + 3000 + N_FRAMES : 4 + 3000 + 2 * N_FRAMES]
    real = files.score_file

    def score_while_the_tracker_writes(*args, **kw):
        table = real(*args, **kw)
        with open(growing, "a") as fh:  # the tracker writes more frames meanwhile
            fh.writelines(more)
        return table

    monkeypatch.setattr(files, "score_file", score_while_the_tracker_writes)
    out = tmp_path / "out"
    df = score_files(model_path, growing, out, output_format="csv", fps=30, progress=False)
    assert df["status"].tolist() == ["changed_during_read"]
    assert "changed while it was read" in df["error"].iloc[0]
    assert not Path(df["output"].iloc[0]).exists()
    monkeypatch.setattr(files, "score_file", real)
    df = score_files(model_path, growing, out, output_format="csv", fps=30, progress=False)
    assert df["status"].tolist() == ["done"]
    assert len(pd.read_csv(df["output"].iloc[0])) == 2 * N_FRAMES  # the whole file, once complete


def test_a_damaged_manifest_is_a_package_error(model_path, two_folders, tmp_path):
    a, _ = two_folders
    out = tmp_path / "out"
    out.mkdir()
    (out / "manifest.csv").write_bytes(b'\x00\xff garbage,,,\n"unterminated\n')
    with pytest.raises(ManifestError, match=r"manifest\.csv"):
        score_files(model_path, a / "rat.csv", out, fps=30, progress=False)
    (out / "manifest.csv").write_text("a,b\n1,2\n")
    with pytest.raises(ManifestError, match="no column key"):
        read_manifest(out / "manifest.csv")
    df = score_files(model_path, a / "rat.csv", out, fps=30, progress=False, resume=False)
    assert df["status"].tolist() == ["done"]


@pytest.mark.video
def test_a_truncated_pose_model_fails_once_before_any_video(shared_dir, tmp_path):
    from skelbehave.pose.batch import extract_many

    data = (shared_dir / "models" / "pose_landmarker_full.task").read_bytes()
    bad = tmp_path / "cut.task"
    bad.write_bytes(data[: len(data) // 2])
    videos = sorted((shared_dir / "videos").glob("*.mp4"))[:2]
    with pytest.raises(ModelFileError, match=r"cut\.task"):
        extract_many(videos, tmp_path / "poses", model=bad, progress=False)
    assert not (tmp_path / "poses" / "manifest.csv").exists()  # no video was tried


@pytest.mark.video
def test_a_fifo_named_like_a_video_is_refused_by_extract(shared_dir, tmp_path):
    from skelbehave.pose.batch import extract_many

    fifo = tmp_path / "camera.mp4"
    os.mkfifo(fifo)
    model = shared_dir / "models" / "pose_landmarker_full.task"
    df = _run_with_deadline(
        lambda: extract_many([fifo], tmp_path / "poses", model=model, progress=False), 120
    )
    assert (df["status"].iloc[0], df["reason"].iloc[0]) == ("failed", "not_a_regular_file")


# ----------------------------------------------------------------------------- umask
@pytest.mark.parametrize("mask", [0o022, 0o027])
def test_written_files_follow_the_umask(mask, model_path, two_folders, tmp_path):
    a, _ = two_folders
    old = os.umask(mask)
    try:
        with atomic_write(tmp_path / "plain.txt") as fh:
            fh.write("x")
        df = score_files(model_path, a / "rat.csv", tmp_path / "out", fps=30, progress=False)
        model = FrameLevelModel(window=15, fit_stride=5, classifier_params={"n_estimators": 3})
        model.fit([read_poses(a / "rat.csv", fps=30)], [["x", "y"] * (N_FRAMES // 2)])
        model.save(tmp_path / "m.skb")
    finally:
        os.umask(old)
    want = 0o666 & ~mask
    for f in (
        tmp_path / "plain.txt",
        Path(df["output"].iloc[0]),
        tmp_path / "out" / "manifest.csv",
        tmp_path / "m.skb",
    ):
        assert stat.S_IMODE(f.stat().st_mode) == want, f


# ----------------------------------------------------------------------------- CLI mistakes
@pytest.fixture(scope="module")
def cli_cases(model_path, two_folders, shared_dir, tmp_path_factory):
    a, b = two_folders
    d = tmp_path_factory.mktemp("cli")
    cases = materialise(
        d, model_path, a / "rat.csv", b / "rat.csv", shared_dir / "models" / "pose_landmarker_full.task"
    )
    return {name: (argv, expect) for name, argv, expect in cases}


@pytest.mark.parametrize("name", [c[0] for c in CLI_CASES])
def test_a_cli_mistake_ends_in_one_line(name, cli_cases, capsys, monkeypatch):
    monkeypatch.setenv("SKELBEHAVE_SCHEDULER_TIMEOUT", "2")
    argv, expect = cli_cases[name]
    try:
        rc = main(argv)
    except SystemExit as exc:  # argparse
        rc = exc.code
    err = capsys.readouterr().err
    assert rc not in (0, None), err
    assert "Traceback" not in err
    lines = message_lines(err)
    assert len(lines) == 1, lines
    if name == "extract truncated --model" and missing(("mediapipe",)):
        expect = 'pip install "skelbehave[video]"'  # a light install: the missing extra is said first
    assert expect in lines[0], lines[0]


def test_cli_case_table_covers_the_issue():
    """The 18 kinds of mistake issue 14 lists (and more)."""
    names = {c[0] for c in CLI_CASES}
    kinds = (
        "--jobs 0", "missing model", "directory model", "--out unwritable", "--window abc", "--window -5",
        "--context-folds -1", "missing --labels file", "unreachable --scheduler", "damaged manifest.csv",
        "--label-column missing", "--fps nan", "--threads 0", "--out is a file", "missing input",
        "truncated --model", "--num-poses 0", "unknown flag",
    )  # fmt: skip
    for kind in kinds:
        assert any(kind in n for n in names), kind
    assert len(CLI_CASES) >= 18


def test_an_unexpected_error_is_one_line_that_asks_for_v(monkeypatch, capsys, tmp_path):
    import skelbehave.cli.info_cmd as info

    def boom(args):
        raise RuntimeError("something nobody expected\nsecond line")

    monkeypatch.setattr(info, "run", boom)
    assert main(["info", str(tmp_path / "x.skb")]) == 1
    lines = message_lines(capsys.readouterr().err)
    assert len(lines) == 1 and "RuntimeError: something nobody expected second line" in lines[0]
    assert "run with -v for the traceback" in lines[0]
    assert main(["-v", "info", str(tmp_path / "x.skb")]) == 1
    assert "Traceback" in capsys.readouterr().err


# ----------------------------------------------------------------------------- Ctrl-C
@pytest.mark.parametrize("jobs", [1, 2])
def test_ctrl_c_says_how_far_it_got_and_exits_130(jobs, model_path, rat_csvs, tmp_path):
    # enough files that scoring (tens of thousands of frames a second) is still running at the signal,
    # also when a loaded machine delays this process's polling
    n = 150
    inputs = [
        _head(rat_csvs[i % 4], tmp_path / "in" / f"r{i}.csv", 1500, skip=3000 + 50 * i) for i in range(n)
    ]
    out = tmp_path / "out"
    cmd = _score_cmd(model_path, inputs, out, "--jobs", str(jobs))
    p = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    deadline = time.monotonic() + 300
    while not list(out.glob("*.predictions.csv")) and time.monotonic() < deadline and p.poll() is None:
        time.sleep(0.05)
    assert p.poll() is None, p.communicate()
    os.killpg(p.pid, signal.SIGINT)  # as the terminal does: the whole process group
    _, err = p.communicate(timeout=120)
    assert p.returncode == 130, err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err
    lines = message_lines(err)
    assert len(lines) == 1 and lines[0].startswith("interrupted: "), lines
    n_done = int(lines[0].split()[1])
    assert lines[0] == f"interrupted: {n_done} of {n} done; run the same command again to resume"
    man = read_manifest(out / "manifest.csv")
    assert (man["status"] == "done").sum() == n_done < n
    # the same command again finishes the rest
    again = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stderr
    man = read_manifest(out / "manifest.csv")
    assert len(man) == n and (man["status"] == "done").all()


def test_an_unreachable_scheduler_is_reported_even_when_all_is_done(
    model_path, two_folders, tmp_path, monkeypatch, capsys
):
    pytest.importorskip("dask.distributed", reason="needs the dask extra")
    a, _ = two_folders
    out = tmp_path / "out"
    argv = ["score", str(model_path), str(a / "rat.csv"), "--out", str(out), "--fps", "30", "--no-progress"]
    assert main(argv) == 0
    capsys.readouterr()
    monkeypatch.setenv("SKELBEHAVE_SCHEDULER_TIMEOUT", "1")
    assert main([*argv, "--scheduler", "tcp://127.0.0.1:9"]) == 1
    lines = message_lines(capsys.readouterr().err)
    assert len(lines) == 1 and "cannot reach the Dask scheduler" in lines[0]


def test_settled_stamp_sees_a_writer_between_two_appends(tmp_path):
    """A file read between two appends of its writer is not trusted (benchmark: a DLC file being written)."""
    import threading
    import time

    from skelbehave._util.fs import file_stamp, settled_stamp

    f = tmp_path / "growing.csv"
    f.write_text("a,b\n1,2\n")
    before = file_stamp(f)  # what a reader saw just after the last append

    def append_later():
        time.sleep(0.3)  # the writer's next append comes after the read has finished
        with open(f, "a") as fh:
            fh.write("3,4\n")

    t = threading.Thread(target=append_later)
    t.start()
    after = settled_stamp(f, settle=1.0)
    t.join()
    assert after != before and after == file_stamp(f)
    # a file left alone is stamped at once and unchanged
    old = tmp_path / "old.csv"
    old.write_text("x\n")
    os.utime(old, (time.time() - 10, time.time() - 10))
    assert settled_stamp(old) == file_stamp(old)
