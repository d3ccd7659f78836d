"""User mistakes on the command line, as a table: each must end in one clear line, never a traceback.

Shared by ``tests/test_hardening_batch.py`` (in-process, every case) and any robustness
benchmark. Each case is ``(name, argv, expect)``: ``argv`` holds placeholders filled by
:func:`materialise` (``{model}``: a saved frame-level model, ``{pose}``: a pose file,
``{d}``: a scratch folder it prepares), ``expect`` is text the one message line must hold
(the flag's name where there is one).
"""

from __future__ import annotations

from pathlib import Path

#: (name, argv with placeholders, text the message must contain)
CLI_CASES: list[tuple[str, list[str], str]] = [
    # score: numbers and lengths
    ("score --jobs 0", ["score", "{model}", "{pose}", "--out", "{d}/out", "--jobs", "0"], "--jobs"),
    ("score --jobs -1", ["score", "{model}", "{pose}", "--out", "{d}/out", "--jobs", "-1"], "--jobs"),
    ("score --jobs abc", ["score", "{model}", "{pose}", "--out", "{d}/out", "--jobs", "abc"], "--jobs"),
    ("score --threads 0", ["score", "{model}", "{pose}", "--out", "{d}/out", "--threads", "0"], "--threads"),
    ("score --window abc", ["score", "{model}", "{pose}", "--out", "{d}/out", "--window", "abc"], "--window"),
    ("score --window -5", ["score", "{model}", "{pose}", "--out", "{d}/out", "--window", "-5"], "--window"),
    ("score --window 0", ["score", "{model}", "{pose}", "--out", "{d}/out", "--window", "0"], "--window"),
    ("score --stride 0s", ["score", "{model}", "{pose}", "--out", "{d}/out", "--stride", "0s"], "--stride"),
    ("score --fps 0", ["score", "{model}", "{pose}", "--out", "{d}/out", "--fps", "0"], "--fps"),
    ("score --fps nan", ["score", "{model}", "{pose}", "--out", "{d}/out", "--fps", "nan"], "--fps"),
    (
        "score --format bogus",
        ["score", "{model}", "{pose}", "--out", "{d}/out", "--format", "bogus"],
        "format",
    ),
    (
        "score --output-format xls",
        ["score", "{model}", "{pose}", "--out", "{d}/out", "--output-format", "xls"],
        "--output-format",
    ),
    # score: files
    ("score missing model", ["score", "{d}/none.skb", "{pose}", "--out", "{d}/out"], "no such file"),
    ("score directory model", ["score", "{d}/adir.skb", "{pose}", "--out", "{d}/out"], "directory"),
    ("score text model", ["score", "{d}/text.skb", "{pose}", "--out", "{d}/out"], "text.skb"),
    ("score model is a pose file", ["score", "{pose}", "{pose}", "--out", "{d}/out"], "rat"),
    ("score --out is a file", ["score", "{model}", "{pose}", "--out", "{d}/file_out"], "--out"),
    ("score --out unwritable", ["score", "{model}", "{pose}", "--out", "/proc/skelbehave_out"], "--out"),
    ("score damaged manifest.csv", ["score", "{model}", "{pose}", "--out", "{d}/bad_manifest"], "manifest"),
    ("score missing input", ["score", "{model}", "{d}/nope.csv", "--out", "{d}/out"], "nope.csv"),
    ("score empty folder", ["score", "{model}", "{d}/empty", "--out", "{d}/out"], "empty"),
    ("score no --out", ["score", "{model}", "{pose}"], "--out"),
    (
        "score unknown flag",
        ["score", "{model}", "{pose}", "--out", "{d}/out", "--frobnicate"],
        "--frobnicate",
    ),
    (
        "score unreachable --scheduler",
        ["score", "{model}", "{pose}", "--out", "{d}/out", "--scheduler", "tcp://127.0.0.1:9"],
        "scheduler",
    ),
    # fit
    ("fit unknown data set", ["fit", "nosuchdata", "--out", "{d}/m.skb"], "nosuchdata"),
    ("fit --window abc", ["fit", "precog", "--out", "{d}/m.skb", "--window", "abc"], "--window"),
    ("fit --window -5", ["fit", "precog", "--out", "{d}/m.skb", "--window", "-5"], "--window"),
    (
        "fit --context-folds -1",
        ["fit", "precog", "--out", "{d}/m.skb", "--context-folds", "-1"],
        "--context-folds",
    ),
    ("fit --median abc", ["fit", "precog", "--out", "{d}/m.skb", "--median", "abc"], "--median"),
    ("fit --threads 0", ["fit", "precog", "--out", "{d}/m.skb", "--threads", "0"], "--threads"),
    (
        "fit --random-state abc",
        ["fit", "precog", "--out", "{d}/m.skb", "--random-state", "abc"],
        "--random-state",
    ),
    ("fit --split bogus", ["fit", "precog", "--out", "{d}/m.skb", "--split", "bogus"], "--split"),
    (
        "fit missing --labels file",
        ["fit", "{pose}", "--labels", "{d}/nolabels.csv", "--out", "{d}/m.skb"],
        "--labels",
    ),
    (
        "fit --labels count mismatch",
        ["fit", "{pose}", "{pose2}", "--labels", "{d}/labels.csv", "--out", "{d}/m.skb"],
        "--labels",
    ),
    (
        "fit --label-column missing",
        ["fit", "{pose}", "--labels", "{d}/labels.csv", "--label-column", "nope", "--out", "{d}/m.skb"],
        "--label-column",
    ),
    ("fit --out unwritable", ["fit", "precog", "--out", "/proc/x/m.skb"], "--out"),
    ("fit --out is a folder", ["fit", "precog", "--out", "{d}/empty"], "--out"),
    ("fit --root missing", ["fit", "precog", "--root", "{d}/noroot", "--out", "{d}/m.skb"], "--root"),
    # evaluate, info
    ("evaluate missing model", ["evaluate", "{d}/none.skb", "precog"], "none.skb"),
    ("evaluate unknown data set", ["evaluate", "{model}", "nosuchdata"], "nosuchdata"),
    ("evaluate --fps -30", ["evaluate", "{model}", "precog", "--fps", "-30"], "--fps"),
    ("info missing", ["info", "{d}/none.skb"], "none.skb"),
    ("info directory", ["info", "{d}/adir.skb"], "adir.skb"),
    # extract, overlay
    ("extract --jobs 0", ["extract", "{d}/video.mp4", "--out", "{d}/ex", "--jobs", "0"], "--jobs"),
    (
        "extract --num-poses 0",
        ["extract", "{d}/video.mp4", "--out", "{d}/ex", "--num-poses", "0"],
        "--num-poses",
    ),
    (
        "extract --model missing",
        ["extract", "{d}/video.mp4", "--out", "{d}/ex", "--model", "{d}/none.task"],
        "none.task",
    ),
    (
        "extract truncated --model",
        ["extract", "{d}/video.mp4", "--out", "{d}/ex", "--model", "{d}/truncated.task"],
        "truncated.task",
    ),
    ("extract --out is a file", ["extract", "{d}/video.mp4", "--out", "{d}/file_out"], "--out"),
    (
        "overlay --max-frames 0",
        ["overlay", "{d}/video.mp4", "{pose}", "--out", "{d}/o.mp4", "--max-frames", "0"],
        "--max-frames",
    ),
    ("unknown command", ["frobnicate"], "frobnicate"),
]


def materialise(
    d: Path, model: str | Path, pose: str | Path, pose2: str | Path, pose_model: Path | None = None
):
    """Prepare the scratch folder ``d`` and return the cases with their placeholders filled.

    ``pose_model``: a real ``.task`` file, cut in half for ``truncated.task`` (without
    one, a few bytes that are no zip stand in).
    """
    d.mkdir(parents=True, exist_ok=True)
    (d / "text.skb").write_text("hello")
    (d / "adir.skb").mkdir(exist_ok=True)
    (d / "file_out").write_text("x")
    (d / "empty").mkdir(exist_ok=True)
    (d / "labels.csv").write_text("frame,label\n0,a\n1,b\n")
    (d / "bad_manifest").mkdir(exist_ok=True)
    (d / "bad_manifest" / "manifest.csv").write_bytes(b'\x00\xff garbage,,,\n"unterminated\n')
    (d / "video.mp4").write_text("not a video")
    data = pose_model.read_bytes() if pose_model is not None else b"PK\x03\x04 not really"
    (d / "truncated.task").write_bytes(data[: len(data) // 2])
    fill = {"d": str(d), "model": str(model), "pose": str(pose), "pose2": str(pose2)}
    return [(name, [a.format(**fill) for a in argv], expect) for name, argv, expect in CLI_CASES]


def message_lines(stderr: str) -> list[str]:
    """The lines of ``stderr`` a person reads: argparse's usage block left out."""
    lines, usage = [], False
    for ln in stderr.splitlines():
        if ln.startswith("usage:"):
            usage = True
            continue
        if usage and ln.startswith(" "):
            continue
        usage = False
        if ln.strip():
            lines.append(ln)
    return lines
