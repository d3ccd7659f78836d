"""``skelbehave fit`` on a clip data set: --layout (a model for other skeletons) and --classes."""

from __future__ import annotations

import pytest

import skelbehave
from skelbehave.cli import main

CLASSES = "front boxing,two hand front clap,jogging in place"


def test_fit_on_the_common_skeleton_with_some_classes(tmp_path):
    out = tmp_path / "people.skb"
    argv = ["fit", "utd_mhad", "--layout", "common15", "--classes", CLASSES, "--random-state", "0"]
    assert main([*argv, "--out", str(out)]) == 0
    model = skelbehave.load(out)
    assert sorted(model.classes_.tolist()) == sorted(CLASSES.split(","))
    assert model.layout_.name == "common15"
    # it labels poses of another skeleton: UTD-MHAD's own Kinect poses, converted on the way in
    from skelbehave.datasets import load_utd_mhad

    ds = load_utd_mhad()
    some = [s for s, y in zip(ds.sequences, ds.label_names, strict=True) if y in CLASSES.split(",")][:6]
    assert set(model.predict(some)) <= set(CLASSES.split(","))


@pytest.mark.parametrize(
    ("extra", "expect"),
    [
        (["utd_mhad", "--classes", "front boxing,no such class"], "the classes are"),
        (["utd_mhad", "--layout", "no_layout"], "unknown layout 'no_layout'"),
        (["precog", "--layout", "common15"], "only for clip-level data sets"),
    ],
)
def test_bad_layout_or_classes_is_one_line(extra, expect, tmp_path, capsys):
    rc = main(["fit", *extra, "--out", str(tmp_path / "m.skb")])
    err = capsys.readouterr().err
    assert rc != 0 and expect in err and "Traceback" not in err
    assert len([line for line in err.splitlines() if line.strip()]) == 1
