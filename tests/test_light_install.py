"""A light install (issue 17 item 3): everything for pose files works without the optional extras.

Each check runs in a fresh Python process whose import system refuses
MediaPipe, OpenCV, torch, Dask, movement, sleap-io and the ONNX packages, as
if ``pip install skelbehave`` had been run without extras: reading poses,
fitting a clip model (MSR Action3D) and a frame-level model (PRECOG),
scoring, evaluating and plotting must work; video commands, the CNN, Dask and
export must say in one line which extra to install.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

#: modules of the extras (video, cnn, dask, formats, export)
BLOCKED = (
    "mediapipe", "cv2", "torch", "torch_pruning", "dask", "distributed", "movement", "sleap_io", "onnx",
    "onnxruntime", "skl2onnx",
)  # fmt: skip

BLOCKER = f"""
import importlib.abc, sys
BLOCKED = {BLOCKED!r}
class _Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {{name!r}} (light install)", name=name)
        return None
sys.meta_path.insert(0, _Block())
"""

CLI = "import sys\nfrom skelbehave.cli import main\nsys.exit(main(sys.argv[1:]))\n"


def _python(code: str, *args: str, cwd: Path, timeout: float = 240) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]))
    env["MPLBACKEND"] = "Agg"
    return subprocess.run(
        [sys.executable, "-c", BLOCKER + code, *args],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout,
    )  # fmt: skip


def test_the_blocker_blocks(tmp_path):
    r = _python("import cv2\n", cwd=tmp_path)
    assert r.returncode != 0 and "light install" in r.stderr


API = """
import json, sys
import numpy as np
import skelbehave
from skelbehave.datasets import load_msr_action3d, load_precog
from skelbehave.errors import MissingDependencyError
from skelbehave.evaluation import classification_report, frame_accuracy
from skelbehave.io import read_poses, write_poses
from skelbehave.plots import plot_confusion_matrix, plot_ethogram
from sklearn.metrics import confusion_matrix

out = {"after_import": sorted(m for m in sys.modules if m.split(".")[0] in BLOCKED)}
msr_root, = sys.argv[1:]
ds = load_msr_action3d(msr_root)
keep = np.isin(ds.labels, [1, 13, 16])  # high arm wave, bend, jogging
tr, te = ds.train_test_split()
tr, te = tr[keep[tr]], te[keep[te]]
clip = skelbehave.fit([ds.sequences[i] for i in tr], ds.labels[tr], n_clusters=4, random_state=0)
clip = skelbehave.load(clip.save("msr.skb"))
pred = clip.predict([ds.sequences[i] for i in te])
out["clip_accuracy"] = float(classification_report(ds.labels[te], pred).accuracy)
ax = plot_confusion_matrix(confusion_matrix(ds.labels[te], pred), labels=[1, 13, 16])
ax.figure.savefig("confusion.png")

pc = load_precog()
frames = skelbehave.FrameLevelModel(window=15, classifier_params={"n_estimators": 20}, random_state=0)
frames.fit(pc.sequences[:12], pc.labels[:12])
write_poses("held_out.csv", pc.sequences[70])
(seq,) = read_poses("held_out.csv")
labels = skelbehave.load(frames.save("precog.skb")).predict([seq])[0]
out["frames"] = [len(labels), seq.n_frames]
out["frame_accuracy"] = float(frame_accuracy(pc.labels[70], labels))
ax = plot_ethogram(labels, fps=seq.fps, true_labels=pc.labels[70])
ax.figure.savefig("ethogram.png")

def message(fn):
    try:
        fn()
    except MissingDependencyError as exc:
        return str(exc)
    return None

out["cnn"] = message(lambda: skelbehave.fit([ds.sequences[i] for i in tr], ds.labels[tr], classifier="cnn"))
from skelbehave.batch import score_files
out["dask"] = message(lambda: score_files("precog.skb", ["held_out.csv"], "scored", scheduler="tcp://127.0.0.1:9"))
from skelbehave.pipeline.export import export_model
out["export"] = message(lambda: export_model("msr.skb", "deploy"))
from skelbehave.pose import extract
out["extract"] = message(lambda: extract("no_video.mp4"))
out["at_end"] = sorted(m for m in sys.modules if m.split(".")[0] in BLOCKED)
print(json.dumps(out))
"""


def test_pose_files_fit_score_and_plot_without_extras(tmp_path, shared_data):
    r = _python(API, str(shared_data / "msr_action3d"), cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-3000:]
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert out["after_import"] == [] and out["at_end"] == []
    assert out["clip_accuracy"] > 0.6, out  # 3 actions: chance is 1/3
    assert out["frames"][0] == out["frames"][1]
    assert out["frame_accuracy"] > 0.5, out  # most frames of a PRECOG stream are 'no action' or one action
    for png in ("confusion.png", "ethogram.png"):
        assert (tmp_path / png).stat().st_size > 10_000
    for extra in ("cnn", "dask", "export", "video"):
        key = "extract" if extra == "video" else extra
        assert out[key] and f'pip install "skelbehave[{extra}]"' in out[key], (key, out[key])


def test_cli_for_pose_files_works_without_extras(tmp_path):
    code = CLI.replace(
        "sys.exit(main(sys.argv[1:]))",
        """
from skelbehave.datasets import load_precog
from skelbehave.io import write_poses
write_poses("s.csv", load_precog().sequences[70])
for argv in (
    ["fit", "precog", "--subjects", "1", "--out", "m.skb", "--classifier-params", "n_estimators=10",
     "--no-progress"],
    ["score", "m.skb", "s.csv", "--out", "preds", "--output-format", "csv", "--no-progress"],
    ["evaluate", "m.skb", "precog", "--subjects", "12", "--out", "report"],
    ["info", "m.skb"],
    ["demo", "--quick", "--out", "demo"],
):
    rc = main(argv)
    print("## rc", argv[0], rc, flush=True)
print("## loaded", sorted(m for m in sys.modules if m.split(".")[0] in BLOCKED))
""",
    )
    r = _python(code, cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-3000:]
    rcs = [line.split()[2:] for line in r.stdout.splitlines() if line.startswith("## rc")]
    assert rcs == [[c, "0"] for c in ("fit", "score", "evaluate", "info", "demo")], (rcs, r.stderr[-2000:])
    assert "## loaded []" in r.stdout
    assert (tmp_path / "preds" / "s.predictions.csv").is_file()
    assert (tmp_path / "report" / "confusion_matrix.png").is_file()
    assert (tmp_path / "demo" / "ethogram.png").is_file()


VIDEO_COMMANDS = """
import contextlib, io, json, sys
from skelbehave.cli import build_parser, main
video, poses, model = sys.argv[1:]
parser = build_parser()
sub = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
argvs = {
    "extract": ["extract", video, "--out", "poses"],
    "overlay": ["overlay", video, poses, "--out", "overlay.mp4"],
    "watch": ["watch", video, "--model", model],
}
out = {}
for name, argv in argvs.items():
    if name not in sub.choices:
        continue
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        try:
            rc = main(argv)
        except SystemExit as exc:  # argparse usage errors
            rc = exc.code
    out[name] = [rc, err.getvalue()]
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def video_commands(tmp_path_factory, shared_dir):
    """Exit status and stderr of extract / overlay / watch (those registered) in a light install."""
    import skelbehave
    from skelbehave.datasets import load_precog
    from skelbehave.io import write_poses

    d = tmp_path_factory.mktemp("light")
    pc = load_precog()
    write_poses(d / "s.csv", pc.sequences[70])
    frames = skelbehave.FrameLevelModel(window=9, classifier_params={"n_estimators": 3}, random_state=0)
    model = frames.fit(pc.sequences[:2], pc.labels[:2]).save(d / "m.skb")
    video = shared_dir / "videos" / "person01_boxing_d2_uncomp.mp4"
    r = _python(VIDEO_COMMANDS, str(video), str(d / "s.csv"), str(model), cwd=d)
    assert r.returncode == 0, r.stderr[-3000:]
    return json.loads(r.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("command", ["extract", "overlay", "watch"])
def test_video_commands_name_the_video_extra_in_one_line(command, video_commands):
    if command not in video_commands:
        pytest.skip(f"'skelbehave {command}' is not a command yet")
    rc, stderr = video_commands[command]
    lines = stderr.strip().splitlines()
    assert rc not in (0, 2), stderr  # 2 would be a usage error: the arguments are valid
    assert len(lines) == 1 and "Traceback" not in stderr, stderr
    assert lines[0].startswith(f"skelbehave {command}: error:")
    assert 'pip install "skelbehave[video]"' in lines[0]
