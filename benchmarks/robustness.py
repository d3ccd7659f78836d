"""Attack run: mangled pose files, tampered model files, kill -9 during batch scoring, degenerate
API inputs, CLI argument mistakes, long recordings, bad videos and pose models.

Prints one row per area::

    area | cases tried | correct result | clear package error | foreign exception | silent wrong |
    hang | crash | outputs lost

Every case runs in a worker process (or its own subprocess) under a timeout and a memory limit,
so a hang or a crash is counted, not fatal. Seeds are fixed: two runs try the same cases.
A CLI case is right when it ends with exit status != 0, no "Traceback" and one message line on
stderr (argparse's "usage:" lines aside); a batch case is right when every input's predictions
equal those of an uninterrupted run.

Usage::

    nice python benchmarks/robustness.py            # full run (about 10-15 min on 2 cores)
    nice python benchmarks/robustness.py --quick    # a small subset (about 2-3 min)
    python benchmarks/robustness.py --only cli,batch --list-failures
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import _attacks as A  # noqa: E402
from _degenerate import api_cases  # noqa: E402

COLUMNS = [A.OK, A.CLEAR, A.FOREIGN, A.WRONG, A.HANG, A.CRASH, A.LOST]
HEAD = [
    "correct result",
    "clear package error",
    "foreign exception",
    "silent wrong",
    "hang",
    "crash",
    "outputs lost",
]
SKB = [sys.executable, "-m", "skelbehave"]


# ----------------------------------------------------------------------------- worker pool of one
class Worker:
    """One ``_attacks.py worker`` process; a case that times out or kills it is counted and it restarts."""

    def __init__(self, log):
        self.log = log
        self.proc = None

    def _start(self):
        self.proc = subprocess.Popen(
            [sys.executable, str(HERE / "_attacks.py"), "worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.log,
            cwd=HERE.parent,
        )
        self.buf = b""

    def stop(self):
        if self.proc is not None:
            try:
                os.kill(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait()
            self.proc = None

    def run(self, case: dict, timeout: float) -> dict:
        if self.proc is None:
            self._start()
        try:
            self.proc.stdin.write((json.dumps(case) + "\n").encode())
            self.proc.stdin.flush()
        except BrokenPipeError:
            pass
        fd = self.proc.stdout.fileno()
        deadline = time.monotonic() + timeout
        while b"\n" not in self.buf:
            left = deadline - time.monotonic()
            r = select.select([fd], [], [], max(0.0, left))[0] if left > 0 else []
            if not r:
                self.stop()
                return {"outcome": A.HANG, "detail": f"no answer in {timeout:.0f} s"}
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                rc = self.proc.wait()
                self.proc = None
                return {"outcome": A.CRASH, "detail": f"worker died (exit {rc})"}
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)


# ----------------------------------------------------------------------------- CLI cases
def _cli_cases(w: Path, model: str, pose: str) -> list[tuple[str, list[str], dict]]:
    """(name, argv, extra) for mistakes a user makes; each must end in one clear message."""
    d = w / "cli"
    d.mkdir(parents=True, exist_ok=True)
    (d / "text.skb").write_text("hello")
    (d / "adir.skb").mkdir(exist_ok=True)
    (d / "file_out").write_text("x")
    (d / "empty").mkdir(exist_ok=True)
    (d / "labels_bad.csv").write_text("frame,label\n0,a\n1,b\n")
    bad_manifest = d / "bad_manifest_out"
    bad_manifest.mkdir(exist_ok=True)
    (bad_manifest / "manifest.csv").write_bytes(b'\x00\xff garbage,,,\n"unterminated\n')
    (d / "video.mp4").write_text("not a video")
    out = str(d / "out")
    s = ["score", model, pose, "--no-progress", "--out"]
    cases = [
        ("score --jobs 0", [*s, out, "--jobs", "0"]),
        ("score --jobs -1", [*s, out, "--jobs", "-1"]),
        ("score --jobs abc", [*s, out, "--jobs", "abc"]),
        ("score --threads 0", [*s, out, "--threads", "0"]),
        ("score --threads -2", [*s, out, "--threads", "-2"]),
        ("score missing model", ["score", str(d / "none.skb"), pose, "--out", out]),
        ("score directory model", ["score", str(d / "adir.skb"), pose, "--out", out]),
        ("score text model", ["score", str(d / "text.skb"), pose, "--out", out]),
        ("score --out is a file", [*s, str(d / "file_out")]),
        ("score --out unwritable", [*s, "/proc/skelbehave_out"]),
        ("score --window abc", [*s, out, "--window", "abc"]),
        ("score --window -5", [*s, out, "--window", "-5"]),
        ("score --window 0", [*s, out, "--window", "0"]),
        ("score --stride -1", [*s, out, "--stride", "-1"]),
        ("score --stride 0s", [*s, out, "--stride", "0s"]),
        ("score --fps 0", [*s, out, "--fps", "0"]),
        ("score --fps -30", [*s, out, "--fps", "-30"]),
        ("score --fps nan", [*s, out, "--fps", "nan"]),
        ("score --fps abc", [*s, out, "--fps", "abc"]),
        ("score --format bogus", [*s, out, "--format", "bogus"]),
        ("score --output-format xls", [*s, out, "--output-format", "xls"]),
        ("score unreachable --scheduler", [*s, out, "--scheduler", "tcp://127.0.0.1:9"]),
        ("score --scheduler garbage", [*s, out, "--scheduler", "::::"]),
        ("score damaged manifest.csv", [*s, str(bad_manifest)]),
        ("score missing input", ["score", model, str(d / "nope.csv"), "--out", out]),
        ("score empty folder", ["score", model, str(d / "empty"), "--out", out]),
        ("score no --out", ["score", model, pose]),
        ("score no inputs", ["score", model, "--out", out]),
        ("score unknown flag", [*s, out, "--frobnicate"]),
        ("score model is a pose file", ["score", pose, pose, "--out", out]),
        ("fit unknown data set", ["fit", "nosuchdata", "--out", str(d / "m.skb")]),
        ("fit --window abc", ["fit", "precog", "--out", str(d / "m.skb"), "--window", "abc"]),
        ("fit --window -5", ["fit", "precog", "--out", str(d / "m.skb"), "--window", "-5"]),
        ("fit --context-folds -1", ["fit", "precog", "--out", str(d / "m.skb"), "--context-folds", "-1"]),
        ("fit --median abc", ["fit", "precog", "--out", str(d / "m.skb"), "--median", "abc"]),
        ("fit --min-bout -1", ["fit", "precog", "--out", str(d / "m.skb"), "--min-bout", "-1"]),
        ("fit --subjects abc", ["fit", "precog", "--out", str(d / "m.skb"), "--subjects", "abc"]),
        ("fit --split bogus", ["fit", "precog", "--out", str(d / "m.skb"), "--split", "bogus"]),
        ("fit --classifier bogus", ["fit", "precog", "--out", str(d / "m.skb"), "--classifier", "bogus"]),
        (
            "fit --classifier-params bad",
            ["fit", "precog", "--out", str(d / "m.skb"), "--classifier-params", "x"],
        ),
        (
            "fit --classifier-params unknown key",
            ["fit", "precog", "--out", str(d / "m.skb"), "--classifier-params", "frob=3"],
        ),
        ("fit --random-state abc", ["fit", "precog", "--out", str(d / "m.skb"), "--random-state", "abc"]),
        (
            "fit missing --labels file",
            ["fit", pose, "--labels", str(d / "nolabels.csv"), "--out", str(d / "m.skb")],
        ),
        (
            "fit --labels count mismatch",
            ["fit", pose, pose, "--labels", str(d / "labels_bad.csv"), "--out", str(d / "m.skb")],
        ),
        (
            "fit --label-column missing",
            [
                "fit",
                pose,
                "--labels",
                str(d / "labels_bad.csv"),
                "--label-column",
                "nope",
                "--out",
                str(d / "m.skb"),
            ],
        ),
        ("fit --out unwritable", ["fit", "precog", "--out", "/proc/x/m.skb"]),
        ("fit --root missing", ["fit", "precog", "--root", str(d / "noroot"), "--out", str(d / "m.skb")]),
        ("fit --threads 0", ["fit", "precog", "--out", str(d / "m.skb"), "--threads", "0"]),
        ("evaluate missing model", ["evaluate", str(d / "none.skb"), "precog"]),
        ("evaluate text model", ["evaluate", str(d / "text.skb"), "precog"]),
        ("evaluate unknown data set", ["evaluate", model, "nosuchdata"]),
        ("evaluate --split bogus", ["evaluate", model, "precog", "--split", "bogus"]),
        ("info missing", ["info", str(d / "none.skb")]),
        ("info text file", ["info", str(d / "text.skb")]),
        ("info directory", ["info", str(d / "adir.skb")]),
        ("extract missing video", ["extract", str(d / "none.mp4"), "--out", str(d / "ex")]),
        (
            "extract --num-poses 0",
            ["extract", str(d / "video.mp4"), "--out", str(d / "ex"), "--num-poses", "0"],
        ),
        (
            "extract --model missing",
            ["extract", str(d / "video.mp4"), "--out", str(d / "ex"), "--model", str(d / "none.task")],
        ),
        ("extract --jobs 0", ["extract", str(d / "video.mp4"), "--out", str(d / "ex"), "--jobs", "0"]),
        ("overlay missing video", ["overlay", str(d / "none.mp4"), pose, "--out", str(d / "o.mp4")]),
        ("ablate --dataset bogus", ["ablate", "--dataset", "bogus"]),
        ("unknown command", ["frobnicate"]),
        ("score --ethogram on clip model with --window abc", [*s, out, "--ethogram", "--window", "1x"]),
    ]
    quick = ["--subjects", "1"]  # an accepted mistake then fits on one subject, not the whole data set
    cases = [
        (n, [f"{out}{i}" if x == out else x for x in a]) for i, (n, a) in enumerate(cases)
    ]  # fresh --out
    return [
        (n, a + quick if a[:2] == ["fit", "precog"] and "--subjects" not in a else a, {}) for n, a in cases
    ]


#: log lines of native libraries (FFmpeg, MediaPipe / LiteRT, absl), not the package's messages
_NATIVE = re.compile(r"^(INFO:|WARNING: All log|[IWEF]\d{4} |\[[\w,]+ @ |\s|E0000|W0000|I0000)")


def _message_lines(err: str) -> list[str]:
    lines, usage = [], False
    for ln in err.splitlines():
        if _NATIVE.match(ln):
            continue
        if ln.startswith("usage:"):
            usage = True
            continue
        if usage and ln.startswith(" "):
            continue
        usage = False
        if ln.strip():
            lines.append(ln)
    return lines


def _run_skb(argv, timeout, env):
    """The CLI run: ``(process, message lines, None)``, or ``(None, [], outcome)`` if it hung or crashed."""
    try:
        p = subprocess.run(
            SKB + argv, capture_output=True, text=True, timeout=timeout, env=env, errors="replace"
        )
    except subprocess.TimeoutExpired:
        return None, [], {"outcome": A.HANG, "detail": f"no exit in {timeout} s"}
    msg = _message_lines(p.stderr)
    if p.returncode < 0:
        return None, [], {"outcome": A.CRASH, "detail": f"signal {-p.returncode}"}
    if "Traceback" in p.stderr:
        return None, [], {"outcome": A.FOREIGN, "detail": "Traceback: " + (msg[-1] if msg else "")[:160]}
    return p, msg, None


def run_cli(name, argv, timeout, env) -> dict:
    p, msg, bad = _run_skb(argv, timeout, env)
    if bad is not None:
        return bad
    if p.returncode == 0:
        return {
            "outcome": A.WRONG,
            "detail": "exit 0: " + (msg[-1] if msg else p.stdout[-120:]).strip()[:160],
        }
    if len(msg) != 1:
        return {"outcome": A.FOREIGN, "detail": f"{len(msg)} message lines: " + " | ".join(msg)[:200]}
    return {"outcome": A.CLEAR, "detail": msg[0][:160]}


# ----------------------------------------------------------------------------- batch: kill -9, collisions
def _outputs(out: Path) -> dict[str, object]:
    import pandas as pd

    res = {}
    for f in sorted(out.glob("*.predictions.*")):
        if f.suffix in (".parquet", ".csv") and not f.name.startswith("."):
            res[f.name] = pd.read_parquet(f) if f.suffix == ".parquet" else pd.read_csv(f)
    return res


def _same_outputs(a: dict, b: dict) -> tuple[bool, str]:
    if set(a) != set(b):
        return False, f"missing {sorted(set(b) - set(a))[:3]}, extra {sorted(set(a) - set(b))[:3]}"
    for k in a:
        if not a[k].reset_index(drop=True).equals(b[k].reset_index(drop=True)):
            return False, f"{k} differs"
    return True, ""


def _manifest_done(out: Path) -> Counter:
    import pandas as pd

    m = pd.read_csv(out / "manifest.csv")
    return Counter(m["status"].astype(str))


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _wait_outputs(p, out: Path, n: int, timeout: float) -> None:
    """Until ``out`` holds ``n`` prediction files (or the run ends)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and p.poll() is None:
        if n == 0 or (out.exists() and len(list(out.glob("*.predictions.*"))) >= n):
            return
        time.sleep(0.05)


def _rat_model(w: Path, env) -> Path:
    """A tiny frame-level model fitted on rat recording 1 (for DeepLabCut inputs)."""
    model = w / "rat_tiny.skb"
    if not model.exists():
        subprocess.run(
            [
                *SKB,
                "fit",
                "rat_social",
                "--root",
                str(A.DATA),
                "--subjects",
                "1",
                "--window",
                "15",
                "--fit-stride",
                "4",
                "--classifier-params",
                "n_estimators=3",
                "--context-folds",
                "0",
                "--no-progress",
                "--out",
                str(model),
            ],
            capture_output=True,
            env=env,
            timeout=600,
            check=True,
        )
    return model


def batch_cases(w: Path, model: str, n_kill: int, seed: int, env, n_rat: int = 6) -> list[dict]:
    """kill -9 during ``skelbehave score`` and re-run; same stem in two folders; two runs at once; FIFO input;
    Ctrl-C."""
    from skelbehave.datasets import load_precog
    from skelbehave.io import write_poses

    rng = random.Random(seed)
    src = w / "batch_in"
    src.mkdir(parents=True, exist_ok=True)
    pre = load_precog(A.DATA / "precog_2016")
    seqs = [s for s in pre.sequences if Path(s.meta["source"]).name.endswith(("_2.csv", "_3.csv"))][:10]
    for s in seqs:
        write_poses(src / Path(s.meta["source"]).name, s)
    # kill -9 and Ctrl-C on long real recordings (rat DLC files, 13-16k frames each) so they land mid-run
    rat_model = _rat_model(w, env)
    rat = w / "batch_rat"
    rat.mkdir(exist_ok=True)
    for f in sorted((A.DATA / "rat_social_dlc" / "dlc_csv").glob("*.csv"))[:n_rat]:
        if not (rat / f.name).exists():
            shutil.copy(f, rat / f.name)
    kbase = [
        "score",
        str(rat_model),
        str(rat),
        "--fps",
        "30",
        "--no-progress",
        "--output-format",
        "csv",
        "--out",
    ]
    subprocess.run(
        [*SKB, *kbase, str(w / "batch_rat_ref")], capture_output=True, env=env, timeout=900, check=True
    )
    kref = _outputs(w / "batch_rat_ref")
    base = [
        "score",
        model,
        str(src),
        "--no-progress",
        "--output-format",
        "csv",
        "--out",
    ]  # short PRECOG inputs
    subprocess.run([*SKB, *base, str(w / "batch_ref")], capture_output=True, env=env, timeout=600, check=True)
    ref = _outputs(w / "batch_ref")
    res = []
    for k in range(n_kill):
        out = w / f"batch_kill{k}"
        p = subprocess.Popen(
            [*SKB, *kbase, str(out)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env
        )
        target, extra = rng.randrange(0, len(kref)), rng.uniform(0.0, 1.0)
        _wait_outputs(p, out, target, 600)
        time.sleep(extra)
        n_before = len(list(out.glob("*.predictions.*"))) if out.exists() else 0
        finished = p.poll() is not None
        p.send_signal(signal.SIGKILL)
        p.wait()
        r = subprocess.run([*SKB, *kbase, str(out)], capture_output=True, text=True, env=env, timeout=900)
        same, why = _same_outputs(_outputs(out), kref)
        ok = r.returncode == 0 and same
        when = f"after {n_before} of {len(kref)} outputs + {extra:.1f} s" + (
            " (run had ended)" if finished else ""
        )
        res.append(
            {
                "id": f"kill -9 {when}",
                "outcome": A.OK if ok else A.LOST,
                "detail": why or (r.stderr.strip().splitlines() or [""])[-1][:160],
            }
        )
    # the same file name in two folders, two runs into one --out
    a, b = w / "stem_a", w / "stem_b"
    for folder, s in ((a, seqs[0]), (b, seqs[1])):
        folder.mkdir(exist_ok=True)
        write_poses(folder / "rat.csv", s)
    out = w / "stem_out"
    for folder in (a, b, a):
        subprocess.run(
            [*SKB, "score", model, str(folder), "--no-progress", "--output-format", "csv", "--out", str(out)],
            capture_output=True,
            env=env,
            timeout=600,
        )
    got = _outputs(out)
    ra, rb = (
        ref[f"{Path(seqs[0].meta['source']).name.rsplit('.', 1)[0]}.predictions.csv"],
        ref[f"{Path(seqs[1].meta['source']).name.rsplit('.', 1)[0]}.predictions.csv"],
    )
    found = [
        any(v.reset_index(drop=True).equals(r.reset_index(drop=True)) for v in got.values()) for r in (ra, rb)
    ]
    res.append(
        {
            "id": "same stem, two folders, one --out",
            "outcome": A.OK if all(found) else A.LOST,
            "detail": f"{len(got)} outputs; found a={found[0]} b={found[1]}",
        }
    )
    # two concurrent runs into one folder (a lock may refuse the second: then it is run again after)
    c1, c2 = w / "conc_1", w / "conc_2"
    for i, folder in enumerate((c1, c2)):
        folder.mkdir(exist_ok=True)
        for s in seqs[i * 5 : i * 5 + 5]:
            write_poses(folder / Path(s.meta["source"]).name, s)
    out = w / "conc_out"

    def cmd(f):
        return [*SKB, "score", model, str(f), "--no-progress", "--output-format", "csv", "--out", str(out)]

    ps = [
        subprocess.Popen(cmd(f), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env) for f in (c1, c2)
    ]
    errs = [p.communicate(timeout=600)[1].decode(errors="replace") for p in ps]
    refused = [p.returncode != 0 for p in ps]
    tb = any("Traceback" in e for e in errs)
    rerun = []
    for f, r in zip((c1, c2), refused, strict=True):
        if r:
            q = subprocess.run(cmd(f), capture_output=True, text=True, env=env, timeout=600)
            rerun.append(f"rerun exit {q.returncode} {' | '.join(_message_lines(q.stderr))[:120]}")
    same, why = _same_outputs(_outputs(out), ref)
    st = _manifest_done(out) if (out / "manifest.csv").exists() else Counter()
    ok = same and st.get("done", 0) == len(seqs)
    res.append(
        {
            "id": "two runs at once into one --out",
            "outcome": (A.FOREIGN if tb else A.OK) if ok else A.LOST,
            "detail": f"refused={refused} manifest={dict(st)} {why} {rerun} "
            f"{[_message_lines(e)[-1:] for e in errs]}",
        }
    )
    res.append(_growing_file(w, env))
    # a FIFO as input must not block
    ff = w / "fifo_in"
    ff.mkdir(exist_ok=True)
    if not (ff / "pipe.csv").exists():
        os.mkfifo(ff / "pipe.csv")
    r = run_cli(
        "fifo", ["score", model, str(ff / "pipe.csv"), "--no-progress", "--out", str(w / "fifo_out")], 60, env
    )
    if r["outcome"] == A.WRONG:  # exit 0: fine if the manifest says it failed
        st = _manifest_done(w / "fifo_out") if (w / "fifo_out" / "manifest.csv").exists() else Counter()
        r = {
            "outcome": A.CLEAR if st.get("done", 0) == 0 else A.WRONG,
            "detail": f"exit 0, manifest {dict(st)}",
        }
    res.append({"id": "FIFO as input", **r})
    # Ctrl-C: message, exit 130, then resume to the reference
    out = w / "sigint_out"
    p = subprocess.Popen(
        [*SKB, *kbase, str(out)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=env,
        preexec_fn=_default_sigint,  # a background shell leaves SIGINT ignored, and children inherit that
    )
    _wait_outputs(p, out, 1, 600)  # interrupt once the first output is written (mid-run)
    p.send_signal(signal.SIGINT)
    err = p.communicate(timeout=120)[1].decode(errors="replace")
    subprocess.run([*SKB, *kbase, str(out)], capture_output=True, env=env, timeout=900)
    same, why = _same_outputs(_outputs(out), kref)
    good = p.returncode == 130 and "interrupted" in err and "Traceback" not in err
    res.append(
        {
            "id": "Ctrl-C then resume",
            "outcome": A.LOST if not same else (A.CLEAR if good else A.FOREIGN),
            "detail": f"exit {p.returncode}: {' | '.join(_message_lines(err))[:160]} {why}",
        }
    )
    return res


def _growing_file(w: Path, env) -> dict:
    """A DeepLabCut file still being written while it is scored: not marked done from part of it;
    scoring again once it is complete gives every frame."""
    import threading

    import pandas as pd

    model = _rat_model(w, env)
    src = sorted((A.DATA / "rat_social_dlc" / "dlc_csv").glob("2DLC*.csv"))[0]
    lines = src.read_bytes().splitlines(keepends=True)
    d = w / "grow"
    d.mkdir(exist_ok=True)
    f = d / src.name
    cut = len(lines) // 5
    f.write_bytes(b"".join(lines[:cut]))

    def writer():
        step = (len(lines) - cut) // 30 + 1  # written over about 12 s; score reads it after its start-up
        for i in range(cut, len(lines), step):
            time.sleep(0.4)
            with open(f, "ab") as fh:
                fh.write(b"".join(lines[i : i + step]))

    t = threading.Thread(target=writer)
    out = w / "grow_out"
    cmd = [
        *SKB,
        "score",
        str(model),
        str(f),
        "--fps",
        "30",
        "--no-progress",
        "--output-format",
        "csv",
        "--out",
        str(out),
    ]
    t.start()
    first = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)
    t.join()
    n_frames = len(lines) - 4
    st1 = dict(_manifest_done(out)) if (out / "manifest.csv").exists() else {}
    outs = sorted(out.glob("*.predictions.csv"))
    rows1 = len(pd.read_csv(outs[0])) if outs else 0
    subprocess.run(cmd, capture_output=True, env=env, timeout=600)
    outs = sorted(out.glob("*.predictions.csv"))
    rows2 = len(pd.read_csv(outs[0])) if outs else 0
    detail = (
        f"first run exit {first.returncode} {st1} {rows1} rows; after re-run {rows2} of {n_frames} frames"
    )
    if "Traceback" in first.stderr:
        return {"id": "a DLC file still being written", "outcome": A.FOREIGN, "detail": detail}
    if st1.get("done") and rows1 != n_frames:
        return {
            "id": "a DLC file still being written",
            "outcome": A.WRONG,
            "detail": "marked done: " + detail,
        }
    if rows2 != n_frames:
        return {"id": "a DLC file still being written", "outcome": A.LOST, "detail": detail}
    return {
        "id": "a DLC file still being written",
        "outcome": A.CLEAR if rows1 != n_frames else A.OK,
        "detail": detail,
    }


# ----------------------------------------------------------------------------- videos and pose models
def video_cases(w: Path, env) -> list[dict]:
    d = w / "videos"
    d.mkdir(parents=True, exist_ok=True)
    real = SHARED_VIDEOS / "person01_boxing_d2_uncomp.mp4"
    task = A.SHARED / "models" / "pose_landmarker_full.task"
    (d / "text.mp4").write_text("this is not a video\n")
    (d / "empty.mp4").write_bytes(b"")
    (d / "garbage.avi").write_bytes(bytes(random.Random(1).randrange(256) for _ in range(20000)))
    raw = real.read_bytes()
    (d / "truncated.mp4").write_bytes(raw[: len(raw) // 3])
    if not (d / "fifo.mp4").exists():
        os.mkfifo(d / "fifo.mp4")
    (d / "dir.mp4").mkdir(exist_ok=True)
    traw = task.read_bytes()
    (d / "trunc.task").write_bytes(traw[: len(traw) // 2])
    (d / "text.task").write_text("no model")
    (d / "empty.task").write_bytes(b"")
    vids = [
        ("a .mp4 that is text", "text.mp4"),
        ("an empty .mp4", "empty.mp4"),
        ("random bytes .avi", "garbage.avi"),
        ("a truncated video", "truncated.mp4"),
        ("a FIFO named .mp4", "fifo.mp4"),
        ("a folder named .mp4", "dir.mp4"),
    ]
    res = []
    for i, (name, f) in enumerate(vids):
        out = d / f"out{i}"
        res.append(
            {
                "id": name,
                **_extract_case(
                    ["extract", str(d / f), "--out", str(out), "--model", str(task), "--no-progress"],
                    out,
                    60 if "fifo" in f else 240,
                    env,
                    truncated=f == "truncated.mp4",
                ),
            }
        )
    two = [str(real), str(A.SHARED / "videos" / "person01_jogging_d1_uncomp.avi")]
    for name, f in (
        ("a truncated .task", "trunc.task"),
        ("a text .task", "text.task"),
        ("an empty .task", "empty.task"),
    ):
        out = d / f"out_{f}"
        r = _extract_case(
            ["extract", *two, "--out", str(out), "--model", str(d / f), "--no-progress"],
            out,
            240,
            env,
            model_check=True,
        )
        res.append({"id": name, **r})
    return res


def _extract_case(argv, out: Path, timeout, env, truncated=False, model_check=False) -> dict:
    """A bad video: failed in the manifest (or refused) without a traceback; a bad pose model: one message,
    before the batch starts (not once per video)."""
    p, msg, bad = _run_skb(argv, timeout, env)
    if bad is not None:
        return bad
    st = _manifest_done(out) if (out / "manifest.csv").exists() else Counter()
    if model_check:
        if p.returncode != 0 and len(msg) == 1:
            return {"outcome": A.CLEAR, "detail": msg[0][:160]}
        return {
            "outcome": A.FOREIGN if p.returncode else A.WRONG,
            "detail": f"exit {p.returncode}, manifest {dict(st)}, {len(msg)} message lines (not checked once "
            f"before the batch): {' | '.join(msg)[:160]}",
        }
    if st.get("done", 0) and not truncated:
        return {"outcome": A.WRONG, "detail": f"exit {p.returncode}, marked done: {dict(st)}"}
    if st.get("failed", 0) or p.returncode != 0 or (truncated and st.get("done", 0)):
        return {
            "outcome": A.CLEAR,
            "detail": f"exit {p.returncode}, manifest {dict(st)}: {(msg or [''])[0][:120]}",
        }
    return {"outcome": A.WRONG, "detail": f"exit 0, manifest {dict(st)}"}


SHARED_VIDEOS = A.SHARED / "videos"


# ----------------------------------------------------------------------------- long recordings
LONG_SCRIPT = r"""
import json, resource, sys, time, numpy as np
from skelbehave import PoseSequence
from skelbehave.io import read_poses, write_poses
from skelbehave.errors import SkelbehaveError
n, mode, path = int(sys.argv[1]), sys.argv[2], sys.argv[3]
def make(n):
    rng = np.random.default_rng(0)
    pos = np.empty((n, 33, 3))
    for i in range(0, n, 5000):
        pos[i : i + 5000] = rng.normal(size=(min(5000, n - i), 33, 3)).astype(np.float32)
    return pos
nbytes = n * 33 * 3 * 8 + n * 33 * 8
pos = make(n) if mode == "write" else None
def status(key):
    for ln in open("/proc/self/status"):
        if ln.startswith(key):
            return int(ln.split()[1]) * 1024
import gc; gc.collect()
try:  # reset the peak RSS (Linux), so the peak is the operation's, not the imports'
    open("/proc/self/clear_refs", "w").write("5")
    hwm = lambda: status("VmHWM")
except OSError:
    hwm = lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
base = status("VmRSS") or hwm()
t = time.monotonic()
try:
    if mode == "write":
        write_poses(path, PoseSequence(pos, "mediapipe33", fps=30))
        out = {"ok": True}
    elif mode == "read":
        (s,) = read_poses(path)
        peak0 = hwm()
        out = {"ok": bool(np.array_equal(np.asarray(s.position, float), make(n)))}
    else:
        read_poses(path)
        out = {"ok": False, "error": "read a bad cell without error"}
except SkelbehaveError as e:
    out = {"ok": mode == "badcell", "error": type(e).__name__ + ": " + str(e)[:120]}
except BaseException as e:
    out = {"ok": False, "foreign": type(e).__name__ + ": " + str(e)[:120]}
peak = hwm()
peak = peak0 if mode == "read" and "peak0" in globals() else peak
out.update(seconds=round(time.monotonic() - t, 1), extra_mb=round((peak - base) / 2**20),
           ratio=round(max(peak - base, 0) / nbytes, 2), array_mb=round(nbytes / 2**20))
print(json.dumps(out))
"""


def long_cases(w: Path, n_frames: int, env) -> list[dict]:
    d = w / "long"
    d.mkdir(parents=True, exist_ok=True)
    f = d / "long.pose.csv"
    res = []
    for mode in ("write", "read", "badcell"):
        if mode == "badcell":  # a bad cell on line 8 of the long file
            bad = d / "bad.pose.csv"
            with open(f, "rb") as src, open(bad, "wb") as dst:
                for i, line in enumerate(src):
                    dst.write(line.replace(b",", b",abc,", 1) if i == 7 else line)
            path = bad
        else:
            path = f
        try:
            p = subprocess.run(
                [sys.executable, "-c", LONG_SCRIPT, str(n_frames), mode, str(path)],
                capture_output=True,
                text=True,
                timeout=600,
                env=env,
            )
        except subprocess.TimeoutExpired:
            res.append({"id": f"long {mode}", "outcome": A.HANG, "detail": "600 s"})
            continue
        if p.returncode != 0 or not p.stdout.strip():
            res.append(
                {"id": f"long {mode}", "outcome": A.CRASH, "detail": f"exit {p.returncode} {p.stderr[-160:]}"}
            )
            continue
        o = json.loads(p.stdout.strip().splitlines()[-1])
        mem = f"{o['seconds']} s, peak +{o['extra_mb']} MB = {o['ratio']}x the {o['array_mb']} MB arrays"
        if "foreign" in o:
            res.append({"id": f"long {mode}", "outcome": A.FOREIGN, "detail": o["foreign"] + "; " + mem})
        elif mode == "badcell":
            res.append({"id": f"long {mode}", "outcome": A.CLEAR if o["ok"] else A.WRONG, "detail": mem})
        else:
            res.append({"id": f"long {mode}", "outcome": A.OK if o["ok"] else A.WRONG, "detail": mem})
    return res


def _precog_seq(pos):
    from skelbehave import PoseSequence

    return PoseSequence(pos, "kinect_v1", fps=30)


# ----------------------------------------------------------------------------- main
def _table(rows: dict[str, list[dict]]) -> str:
    head = ["area", "cases tried", *HEAD]
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    tot = Counter()
    n_all = 0
    for area, res in rows.items():
        c = Counter(r["outcome"] for r in res)
        tot.update(c)
        n_all += len(res)
        lines.append("| " + " | ".join([area, str(len(res))] + [str(c.get(k, 0)) for k in COLUMNS]) + " |")
    lines.append("| " + " | ".join(["**all**", str(n_all)] + [str(tot.get(k, 0)) for k in COLUMNS]) + " |")
    return "\n".join(lines)


def _progress(area: str, n: int, t0: float) -> None:
    print(f"[{time.monotonic() - t0:5.0f} s] {area}: {n} cases", file=sys.stderr, flush=True)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="a small subset of every area")
    ap.add_argument("--only", default="pose,model,api,cli,batch,video,long", help="areas, comma-separated")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--work", default=None, help="work folder (default: a temporary one, removed)")
    ap.add_argument("--list-failures", action="store_true", help="print every case that is not right")
    ap.add_argument("--json", default=None, help="write every case's outcome to this file")
    args = ap.parse_args(argv)
    only = set(args.only.split(","))
    unknown = only - {"pose", "model", "api", "cli", "batch", "video", "long"}
    if unknown:
        ap.error(f"--only: unknown areas {sorted(unknown)}; known: pose, model, api, cli, batch, video, long")
    q = args.quick
    work = Path(args.work) if args.work else Path(tempfile.mkdtemp(prefix="skb_attack_"))
    work.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PYTHONWARNINGS": "ignore", "OMP_NUM_THREADS": "1"}
    log = open(work / "worker.log", "ab")
    wk = Worker(log)
    rows: dict[str, list[dict]] = defaultdict(list)
    t0 = time.monotonic()

    def run_all(area, cases, timeout):
        _progress(area, len(cases), t0)
        for c in cases:
            r = wk.run(c, timeout)
            r.setdefault("id", c["id"])
            r["id"] = c["id"]
            rows[area].append(r)

    wk.run({"kind": "ping", "id": "ping"}, 300)
    models = {}
    if only & {"model", "api", "cli", "batch"}:
        r = wk.run({"kind": "prepare", "work": str(work / "models"), "id": "prepare"}, 900)
        models = r.get("models", {})
        if not models:
            print("could not prepare models:", r, file=sys.stderr)
            return 1
    if "pose" in only:
        run_all("pose files", A.pose_cases(work / "pose", 120 if q else 1218, args.seed), 60)
    if "model" in only:
        cases = A.model_cases(work / "tampered", models, 45 if q else 325, args.seed)
        for c in cases:
            c["models"] = models
        run_all("model files", cases, 120)
    if "api" in only:
        cases = api_cases()
        if q:
            cases = cases[::4]
        for c in cases:
            c["models"] = models
        run_all("degenerate API", cases, 120)
    wk.stop()
    if "cli" in only:
        from skelbehave.io import write_poses
        from skelbehave.io.precog import read_precog_csv

        pose = str(work / "cli_pose.csv")  # a PRECOG recording as a pose CSV: what the frame model takes
        pos, _ = read_precog_csv(A.DATA / "precog_2016" / "Seq5_3.csv")
        write_poses(pose, _precog_seq(pos))
        cases = _cli_cases(work, models["frame"], pose)
        _progress("CLI arguments", len(cases[:: 4 if q else 1]), t0)
        for n, a, _ in cases[:: 4 if q else 1]:
            rows["CLI arguments"].append({"id": n, **run_cli(n, a, 180, env)})
    if "batch" in only:
        _progress("batch: kill -9, collisions", (2 if q else 5) + 5, t0)
        rows["batch: kill -9, collisions"] = batch_cases(
            work, models["frame"], 2 if q else 5, args.seed, env, n_rat=3 if q else 6
        )
    if "video" in only:
        _progress("bad videos, pose models", 9, t0)
        rows["bad videos, pose models"] = video_cases(work, env)
    if "long" in only:
        _progress("long recordings", 3, t0)
        rows["long recordings"] = long_cases(work, 20_000 if q else 200_000, env)
    log.close()
    took = time.monotonic() - t0
    print(f"\nskelbehave robustness ({'quick' if q else 'full'}, seed {args.seed}, {took:.0f} s)\n")
    print(_table(rows))
    bad = [(a, r) for a, rs in rows.items() for r in rs if r["outcome"] not in (A.OK, A.CLEAR)]
    for r in rows.get("long recordings", []):
        print(f"  {r['id']}: {r['detail']}")
    if args.list_failures or bad:
        print(f"\n{len(bad)} cases not right:")
        for a, r in bad:
            print(f"  [{a}] {r['outcome']}: {r['id']}: {r.get('detail', '')}")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1, default=str))
    if not args.work:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
