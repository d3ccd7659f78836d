"""The fit / score / evaluate / info / demo commands, end to end on real data."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from skelbehave.cli import main

N = 1200


COMMANDS_WITH_LIBRARY_DEFAULTS = ("fit", "score", "evaluate", "demo", "extract", "overlay")


@pytest.mark.parametrize("cmd", COMMANDS_WITH_LIBRARY_DEFAULTS)
def test_cli_defaults_are_the_library_defaults(cmd):
    """Every option that sets a library parameter defaults to that parameter's default."""
    import importlib
    import inspect

    from skelbehave.cli import build_parser

    mod = importlib.import_module(f"skelbehave.cli.{cmd}_cmd")
    mapping = mod.library_params()
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices[cmd]
    actions = {a.dest: a for a in sub._actions}
    assert mapping, cmd
    for dest, (obj, name) in mapping.items():
        assert dest in actions, f"{cmd}: no option for {dest}"
        lib = inspect.signature(obj).parameters[name].default
        assert actions[dest].default == lib, f"{cmd} --{dest}: {actions[dest].default!r} != {lib!r}"
    # and the options named like a parameter of the library call are all in the mapping
    targets = {obj for obj, _ in mapping.values()}
    names = {n for obj in targets for n in inspect.signature(obj).parameters}
    unmapped = [d for d in actions if d in names and d not in mapping and actions[d].default is not None]
    assert not unmapped, f"{cmd}: options with their own defaults: {unmapped}"


def test_cli_flags_follow_the_glossary():
    from skelbehave.cli import build_parser

    parser = build_parser()
    subs = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices
    flags = {f for p in subs.values() for a in p._actions for f in a.option_strings}
    assert not flags & {"--n-jobs", "--n-threads", "--threads-per-job", "--ignore-label", "--class-names"}
    for cmd in ("fit", "score", "demo"):
        assert "--threads" in {f for a in subs[cmd]._actions for f in a.option_strings}, cmd


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
    args += [
        "--fps",
        "30",
        "--ignore-labels",
        "base",
        "--window",
        "0.5s",
        "--classifier-params",
        "n_estimators=10",
    ]
    assert main([*args, "--out", str(model), "--no-progress"]) == 0
    assert "FrameLevelModel" in capsys.readouterr().out and model.exists()
    # every parameter not given on the command line is the library's default
    from skelbehave.pipeline import FrameLevelModel, load

    given = {
        "window": "0.5s",
        "ignore_labels": ["base"],
        "classifier_params": {"n_estimators": 10},
        "fps": 30.0,
    }
    params = load(model).get_params()
    assert {k: params[k] for k in given} == given
    defaults = FrameLevelModel().get_params()
    assert {k: v for k, v in params.items() if k not in given} == {
        k: v for k, v in defaults.items() if k not in given
    }

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


def test_score_with_a_clip_model_per_file_and_per_segment(tmp_path, capsys):
    """`fit` a clip-level model on trimmed PRECOG actions; `score` whole streams and 1 s segments."""
    from skelbehave.datasets import load_precog
    from skelbehave.io import write_poses

    model = tmp_path / "actions.skb"
    assert (
        main(["fit", "precog_trimmed", "--subjects", "1-8", "--out", str(model), "--random-state", "0"]) == 0
    )
    assert "BehaviorModel" in capsys.readouterr().out
    # frame-level options make no sense for a clip model: one line, exit 2
    assert main(["fit", "precog_trimmed", "--window", "15", "--out", str(tmp_path / "x.skb")]) == 2
    assert "--window" in capsys.readouterr().err
    streams = load_precog()
    poses = tmp_path / "poses"
    for i in np.flatnonzero(streams.subjects == 10)[:3]:
        s = streams.sequences[i]
        write_poses(poses / f"{Path(s.meta['name']).stem}.pose.csv", [s])

    assert main(["score", str(model), str(poses), "--out", str(tmp_path / "clips"), "--output-format", "csv",
                 "--no-progress"]) == 0  # fmt: skip
    assert "3 of 3 files scored" in capsys.readouterr().out
    tables = [pd.read_csv(f) for f in sorted((tmp_path / "clips").glob("*.predictions.csv"))]
    assert [len(t) for t in tables] == [1, 1, 1]  # one row per file and individual
    assert all(t["start_frame"].iloc[0] == 0 for t in tables)
    # PRECOG's Seq2_10 holds no skeleton in any frame: the person is absent, no behaviour is given
    seen = {Path(t["input"].iloc[0]).name: t for t in tables}
    absent = seen.pop("Seq2_10.pose.csv")
    assert absent["label"].isna().all() and absent.filter(like="proba_").isna().all(axis=None)
    assert all(t["label"].notna().all() for t in seen.values())

    out = tmp_path / "segments"
    args = ["score", str(model), str(poses), "--out", str(out), "--output-format", "csv", "--no-progress"]
    code = main([*args, "--window", "1s", "--stride", "500ms", "--threads", "1"])
    assert code == 0
    for f in sorted(out.glob("*.predictions.csv")):
        seg = pd.read_csv(f)
        assert len(seg) > 5 and (seg["stop_frame"] - seg["start_frame"]).eq(30).all()
        np.testing.assert_allclose(seg["stop_time"] - seg["start_time"], 1.0, atol=1e-6)
    man = pd.read_csv(out / "manifest.csv")
    assert (man["options"] == "window=1s;stride=500ms").all()
    # a bad length is a one-line usage error
    with pytest.raises(SystemExit) as exc:
        main(["score", str(model), str(poses), "--out", str(out), "--window", "two seconds"])
    assert exc.value.code == 2 and "not a length" in capsys.readouterr().err


def test_fit_encoding_flag_reaches_the_frame_level_model(tmp_path, monkeypatch, capsys):
    """`fit --encoding vlad` trains the method's VLAD windows; a bad choice is one line, exit 2."""
    import functools

    import skelbehave.workflows as wf
    from skelbehave.cli import main

    seen = {}

    @functools.wraps(wf.fit_model)  # keeps the signature the CLI takes its defaults from
    def fake_fit_model(source, out, **kw):
        seen.update(kw)
        raise wf.PoseDataError("stop here")  # a package error: the CLI reports it and exits 1

    monkeypatch.setattr(wf, "fit_model", fake_fit_model)
    assert main(["fit", "precog", "--out", str(tmp_path / "m.skb"), "--encoding", "vlad"]) == 1
    assert seen["encoding"] == "vlad"
    with pytest.raises(SystemExit) as exc:
        main(["fit", "precog", "--out", str(tmp_path / "m.skb"), "--encoding", "fisher"])
    assert exc.value.code == 2
    assert "--encoding" in capsys.readouterr().err


def test_ctrl_c_inside_numba_code_is_an_interrupt_not_an_error(capsys):
    """Numba turns a SIGINT during a kernel into SystemError; the CLI still says 'interrupted', exit 130."""
    from skelbehave.cli import _guarded

    def kernel_interrupted(args):
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt as ki:
            raise SystemError("CPUDispatcher(<function f>) returned a result with an exception set") from ki

    args = argparse.Namespace(command="fit", func=kernel_interrupted, verbose=0)
    assert _guarded(args) == 130
    assert capsys.readouterr().err.strip() == "interrupted"
