"""Ablation runners on real data (MSR Action3D, UTD-MHAD) with small budgets.

The budgets (a few classes, small codebooks, a tiny CNN) keep this file near
a minute; the full studies run from ``benchmarks/ablation.py``.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest

from skelbehave import ablation
from skelbehave.cli import main as cli_main
from skelbehave.errors import ParameterError, PoseDataError, UnknownDatasetError

MSR_CLASSES = [1, 2, 5, 13, 14, 16]  # arm waves, punch, bend, kick, jogging: different body parts
UTD_CLASSES = [1, 2, 3, 24, 25]  # includes the time-reversed pair sit-to-stand / stand-to-sit
TIDY = ["study", "dataset", "config", "seed", "metric", "value"]
ENC_METRICS = {"accuracy", "macro_f1", "feature_time_s", "encode_time_s", "fit_time_s", "n_features"}
CNN_METRICS = {"accuracy", "macro_f1", "params", "macs", "latency_ms", "fit_time_s"}
# "mean" ranking: with the default group-max ranking a net this small keeps most of its wide layers,
# and this test is about the runner recording real parameter and MAC cuts
TINY_CNN = {
    "channels": (8, 8, 16, 16),
    "n_frames": 24,
    "max_epochs": 3,
    "patience": 100,
    "augment": False,
    "prune_normalizer": "mean",
}


@pytest.fixture(scope="module")
def msr(shared_data):
    return ablation.load_dataset("msr_action3d", root=shared_data, classes=MSR_CLASSES)


@pytest.fixture(scope="module")
def utd(shared_data):
    return ablation.load_dataset("utd_mhad", root=shared_data, classes=UTD_CLASSES)


def _value(df: pd.DataFrame, metric: str, **where) -> np.ndarray:
    sub = df[df["metric"] == metric]
    for k, v in where.items():
        sub = sub[sub[k] == v]
    return sub["value"].to_numpy()


def _check_tidy(df: pd.DataFrame, n_configs: int, n_seeds: int, metrics: set[str]) -> None:
    assert all(c in df.columns for c in TIDY)
    assert set(df["metric"]) == metrics
    assert len(df) == n_configs * n_seeds * len(metrics)
    # exactly one row per configuration x seed x metric
    assert not df.duplicated(["config", "seed", "metric"]).any()
    assert df["config"].nunique() == n_configs
    acc = _value(df, "accuracy")
    assert np.all((acc >= 0) & (acc <= 1))


# --------------------------------------------------------------------------- data selection
def test_load_dataset_restricts_classes(msr):
    assert set(msr.labels.tolist()) == set(MSR_CLASSES)
    tr, te = msr.train_test_split()
    assert set(msr.subjects[tr].tolist()) == {1, 3, 5, 7, 9}
    assert set(msr.subjects[te].tolist()) == {2, 4, 6, 8, 10}


def test_load_dataset_rejects_unknown_and_frame_labels():
    with pytest.raises(UnknownDatasetError, match="unknown data set 'kth'; known: msr_action3d"):
        ablation.load_dataset("kth")
    with pytest.raises(PoseDataError, match="rat_social has frame labels"):
        ablation.load_dataset("rat_social")
    from skelbehave.datasets import load_precog

    with pytest.raises(PoseDataError, match="frame labels"):
        ablation.load_dataset(load_precog())


def test_load_dataset_empty_selection_is_an_error(msr):
    with pytest.raises(PoseDataError, match="no sequence"):
        ablation.load_dataset(msr, classes=[99])


# --------------------------------------------------------------------------- (b) fusion
def test_fusion_on_msr_beats_chance_and_is_tidy(msr):
    df = ablation.fusion(msr, seeds=[0, 1], n_clusters=4, pyramid_levels=2, timing_repeats=1, progress=False)
    _check_tidy(df, 3, 2, ENC_METRICS)
    assert list(dict.fromkeys(df["config"])) == ["position", "displacement", "fusion"]
    chance = 1 / len(MSR_CLASSES)
    fused = _value(df, "accuracy", config="fusion")
    assert fused.mean() > 3 * chance
    # the fused vector is the concatenation of both kinds
    n = {c: _value(df, "n_features", config=c)[0] for c in ("position", "displacement", "fusion")}
    assert n["fusion"] == n["position"] + n["displacement"]
    # the parameter columns say what was run
    assert set(df.loc[df.config == "position", "n_displacement_groups"]) == {0}
    assert set(df.loc[df.config == "displacement", "n_position_groups"]) == {0}
    assert np.all(_value(df, "feature_time_s") > 0)


# --------------------------------------------------------------------------- (a) feature counts
def test_feature_counts_on_utd(utd):
    df = ablation.feature_counts(
        utd,
        seeds=[0],
        displacement_groups=[1, 6],
        position_groups=[2],
        overlapping=[False, True],
        n_clusters=4,
        pyramid_levels=2,
        timing_repeats=1,
        progress=False,
    )
    _check_tidy(df, 6, 1, ENC_METRICS)
    d = df[df["sweep"] == "displacement"]
    assert set(d["n_displacement_groups"]) == {1, 6} and set(d["n_position_groups"]) == {6}
    p = df[df["sweep"] == "position"]
    assert set(p["n_position_groups"]) == {2} and set(p["n_displacement_groups"]) == {4}
    # overlapping groups hold more joints, hence longer descriptors and vectors
    for n in (1, 6):
        no = _value(df, "n_features", sweep="displacement", n_groups=n, overlapping=False)[0]
        ov = _value(df, "n_features", sweep="displacement", n_groups=n, overlapping=True)[0]
        assert ov >= no
    ov6 = _value(df, "n_features", sweep="displacement", n_groups=6, overlapping=True)[0]
    no6 = _value(df, "n_features", sweep="displacement", n_groups=6, overlapping=False)[0]
    assert ov6 > no6
    assert _value(df, "accuracy").min() > 2 / len(UTD_CLASSES)


def test_feature_counts_default_sweeps_reach_the_layout_maximum(msr):
    small = ablation.load_dataset(msr, subjects=[1, 2])
    df = ablation.feature_counts(
        small,
        seeds=[0],
        overlapping=[False],
        n_clusters=2,
        pyramid_levels=1,
        timing_repeats=1,
        progress=False,
    )
    top = small.sequences[0].layout.max_groups
    assert sorted(df.loc[df.sweep == "displacement", "n_groups"].unique()) == list(range(1, top + 1))
    assert sorted(df.loc[df.sweep == "position", "n_groups"].unique()) == list(range(1, top + 1))


# --------------------------------------------------------------------------- (c) encoders
def test_encoders_vector_lengths_and_factors(msr):
    df = ablation.encoders(
        msr,
        seeds=[0],
        n_clusters=[4],
        n_components=[2],
        pyramid_levels=[1],
        base_n_clusters=4,
        base_pyramid_levels=2,
        timing_repeats=1,
        progress=False,
    )
    # 3 encoders x 3 factors (one value each)
    _check_tidy(df, 9, 1, ENC_METRICS)
    n = {
        (e, f): _value(df, "n_features", encoder=e, factor=f)[0]
        for e in ("bow", "fisher", "vlad")
        for f in ("n_clusters", "n_components", "pyramid_levels")
    }
    # Fisher vectors hold twice as many numbers as VLAD (means and deviations)
    assert n[("fisher", "n_clusters")] == 2 * n[("vlad", "n_clusters")]
    # BoW: one count per codeword, per group and pyramid cell: 10 groups x 4 words x 3 cells
    assert n[("bow", "n_clusters")] == 10 * 4 * 3
    # 2 PCA dims: VLAD = 10 groups x 4 words x 2 dims x 3 cells
    assert n[("vlad", "n_components")] == 10 * 4 * 2 * 3
    # one pyramid level has a third of the cells of two levels (1 vs 1 + 2)
    assert n[("vlad", "pyramid_levels")] * 3 == n[("vlad", "n_clusters")]
    assert set(df.loc[df.factor == "n_components", "n_components"]) == {2}
    assert set(df.loc[df.factor != "n_components", "n_components"]) == {0}


# --------------------------------------------------------------------------- (d) pruning, (e) CNN options
@pytest.mark.cnn
def test_pruning_cuts_parameters_and_macs(msr):
    df = ablation.pruning(
        msr,
        seeds=[0],
        ratios=[0.0, 0.5],
        doconv=[False, True],
        finetune_epochs=1,
        cnn_params=TINY_CNN,
        timing_repeats=1,
        progress=False,
    )
    _check_tidy(df, 4, 1, CNN_METRICS)
    for dc in (False, True):
        p0 = _value(df, "params", doconv=dc, prune_ratio=0.0)[0]
        p5 = _value(df, "params", doconv=dc, prune_ratio=0.5)[0]
        m0 = _value(df, "macs", doconv=dc, prune_ratio=0.0)[0]
        m5 = _value(df, "macs", doconv=dc, prune_ratio=0.5)[0]
        assert p5 < 0.75 * p0
        assert m5 < 0.75 * m0
    # DO-Conv folds into plain convolutions: the unpruned networks have the same size and cost
    assert (
        _value(df, "params", doconv=True, prune_ratio=0.0)[0]
        == _value(df, "params", doconv=False, prune_ratio=0.0)[0]
    )
    assert (
        _value(df, "macs", doconv=True, prune_ratio=0.0)[0]
        == _value(df, "macs", doconv=False, prune_ratio=0.0)[0]
    )
    assert np.all(_value(df, "latency_ms") > 0)


@pytest.mark.cnn
def test_cnn_options_and_mac_count(msr):
    opts = ["baseline (two-stream)", "non-local block", "position stream only"]
    df = ablation.cnn_options(
        msr, seeds=[0], options=opts, cnn_params=TINY_CNN, timing_repeats=1, progress=False
    )
    _check_tidy(df, 3, 1, CNN_METRICS)
    base = _value(df, "params", option=opts[0])[0]
    assert _value(df, "params", option="non-local block")[0] > base
    one = _value(df, "macs", option="position stream only")[0]
    two = _value(df, "macs", option=opts[0])[0]
    # two streams of the same widths cost about twice one stream (inputs differ only in the stem)
    assert 1.6 < two / one < 2.4
    with pytest.raises(ParameterError, match="unknown CNN options"):
        ablation.cnn_options(msr, options=["wings"], progress=False)


# --------------------------------------------------------------------------- summaries, files, CLI
def test_summarize_mean_std_per_config():
    df = pd.DataFrame(
        {
            "study": "x",
            "dataset": "d",
            "config": ["a", "a", "b", "b", "a", "a"],
            "k": [1, 1, 2, 2, 1, 1],
            "seed": [0, 1, 0, 1, 0, 1],
            "metric": ["accuracy"] * 4 + ["fit_time_s"] * 2,
            "value": [0.5, 0.7, 0.2, 0.2, 1.0, 3.0],
        }
    )
    s = ablation.summarize(df)
    assert len(s) == 2
    a = s[s.config == "a"].iloc[0]
    assert a["accuracy_mean"] == pytest.approx(0.6)
    assert a["accuracy_std"] == pytest.approx(np.std([0.5, 0.7], ddof=1))
    assert a["fit_time_s_mean"] == pytest.approx(2.0)
    assert a["n_seeds"] == 2
    assert np.isnan(s[s.config == "b"].iloc[0]["fit_time_s_mean"])


def test_cli_ablate_writes_table_and_figure(tmp_path, shared_data, capsys):
    out = tmp_path / "res"
    code = cli_main(
        [
            "ablate",
            "fusion",
            "--dataset",
            "utd_mhad",
            "--root",
            str(shared_data),
            "--classes",
            *map(str, UTD_CLASSES),
            "--seeds",
            "0",
            "--clusters",
            "4",
            "--out",
            str(out),
            "--no-progress",
        ]
    )
    assert code == 0
    table = pd.read_csv(out / "fusion_utd_mhad.csv")
    assert set(table["config"]) == {"position", "displacement", "fusion"}
    summary = pd.read_csv(out / "fusion_utd_mhad_summary.csv")
    assert len(summary) == 3 and "accuracy_mean" in summary
    png = out / "fusion_utd_mhad.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert str(png) in capsys.readouterr().out


def test_run_study_rejects_unknown_study(tmp_path):
    with pytest.raises(ParameterError, match="unknown study"):
        ablation.run_study("dropout", "msr_action3d", tmp_path)


def test_cli_help_lists_studies(capsys):
    with pytest.raises(SystemExit):
        cli_main(["ablate", "--help"])
    text = capsys.readouterr().out
    for name in ("feature-counts", "fusion", "encoders", "pruning", "cnn-options", "examples:"):
        assert name in text


def test_run_study_tag_and_no_plots(tmp_path, msr):
    small = ablation.load_dataset(msr, subjects=[1, 2])
    paths = ablation.run_study(
        "fusion",
        small,
        tmp_path,
        plot=False,
        tag="v2",
        seeds=[0],
        n_clusters=2,
        pyramid_levels=1,
        timing_repeats=1,
        progress=False,
    )
    assert sorted(paths) == ["summary", "table"]
    assert paths["table"].name == "fusion_msr_action3d_v2.csv"
    assert not list(tmp_path.glob("*.png"))
    df = pd.read_csv(paths["table"])
    assert set(df["seed"]) == {0} and set(df["dataset"]) == {"msr_action3d"}


def test_ablation_svm_is_the_registry_head_and_datasets_come_from_the_registry(capsys):
    from skelbehave.ablation.core import _make_classifier
    from skelbehave.datasets import dataset_names
    from skelbehave.models.heads import make_head

    assert _make_classifier(None, 3).get_params() == make_head("svm", random_state=3).get_params()
    assert _make_classifier("logreg", 1).get_params() == make_head("logreg", random_state=1).get_params()
    with pytest.raises(SystemExit):
        cli_main(["ablate", "fusion", "--dataset", "rat_social", "--out", "x"])
    err = capsys.readouterr().err
    assert "invalid choice: 'rat_social'" in err
    assert all(name in err for name in dataset_names(frame_level=False))
