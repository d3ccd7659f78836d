"""The fit / score / evaluate / info / demo commands, end to end on real data."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from skelbehave.cli import main

N = 1200


@pytest.mark.parametrize("cmd", ["fit", "score", "evaluate", "info", "demo"])
def test_help_shows_examples(cmd, capsys):
    with pytest.raises(SystemExit) as exc:
        main([cmd, "--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert "examples:" in out and f"skelbehave {cmd}" in out


@pytest.fixture(scope="module")
def rat_pairs(shared_data, tmp_path_factory) -> tuple[list[Path], list[Path]]:
    """The first frames 3000..3000+N of three rat recordings, and their S1 labels."""
    d = tmp_path_factory.mktemp("ratcli")
    poses, labels = [], []
    for n in (1, 5, 8):
        src = next((shared_data / "rat_social_dlc" / "dlc_csv").glob(f"{n}DLC_*.csv"))
        lines = src.read_text().splitlines(keepends=True)
        p = d / f"rat{n}.csv"
        p.write_text("".join(lines[:4] + lines[4 + 3000 : 4 + 3000 + N]))
        lab = pd.read_csv(shared_data / "rat_social_dlc" / "labels_per_frame" / f"{n}_labels.csv")
        lab = lab.iloc[3000 : 3000 + N].copy()
        lab["frame"] = range(N)
        q = d / f"rat{n}_labels.csv"
        lab.to_csv(q, index=False)
        poses.append(p)
        labels.append(q)
    return poses, labels


def test_fit_info_evaluate_score_on_pose_files(rat_pairs, tmp_path, capsys):
    poses, labels = rat_pairs
    model = tmp_path / "rat.skb"
    args = ["fit", *map(str, poses[:2]), "--labels", *map(str, labels[:2]), "--label-column", "S1"]
    args += ["--fps", "30", "--ignore-label", "base", "--window", "0.5s", "--n-estimators", "10"]
    assert main([*args, "--out", str(model)]) == 0
    assert "FrameLevelModel" in capsys.readouterr().out and model.exists()

    assert main(["info", str(model), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["kind"] == "FrameLevelModel" and info["individuals"] == 2
    assert set(info["classes"]) <= {"social", "nonsocial", "aggression"} and "base" not in info["classes"]
    assert info["window_frames"] == 15 and len(info["sha256"]) == 64 and info["package_version"]
    assert main(["info", str(model)]) == 0
    assert "components:" in capsys.readouterr().out

    eval_args = ["evaluate", str(model), str(poses[2]), "--labels", str(labels[2]), "--label-column", "S1"]
    assert main([*eval_args, "--fps", "30", "--out", str(tmp_path / "rep.csv")]) == 0
    out = capsys.readouterr().out
    assert "macro" in out and "accuracy" in out
    rep = pd.read_csv(tmp_path / "rep.csv", index_col=0)
    assert 0.0 <= rep.loc["macro", "frame_f1"] <= 1.0

    bad = tmp_path / "bad.csv"
    bad.write_text("scorer,a,b\nnot,a,dlc\n")
    code = main(
        ["score", str(model), str(poses[2]), str(bad), "--out", str(tmp_path / "pred"), "--no-progress"]
    )
    assert code == 1
    out = capsys.readouterr().out
    assert "1 of 2 files scored" in out and "bad.csv" in out
    man = pd.read_csv(tmp_path / "pred" / "manifest.csv")
    assert sorted(man["status"]) == ["done", "failed"]


def test_errors_are_reported_not_raised(tmp_path, capsys):
    assert main(["info", str(tmp_path / "missing.skb")]) == 1
    assert "no such model file" in capsys.readouterr().err
    assert main(["fit", "no_such_dataset", "--out", str(tmp_path / "m.skb")]) == 1


def test_demo_quick_trains_evaluates_and_draws(tmp_path, capsys):
    assert main(["demo", "--quick", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "macro F1 over the 8 actions" in out
    for name in ("precog_frame_model.skb", "report.csv", "bouts.csv", "ethogram.png", "summary.txt"):
        assert (tmp_path / name).stat().st_size > 0, name
    rep = pd.read_csv(tmp_path / "report.csv", index_col=0)
    assert len(rep) == 9 and "no action" not in rep.index
    assert rep.loc["macro", "frame_f1"] > 0.6  # measured 0.78 with the quick settings
