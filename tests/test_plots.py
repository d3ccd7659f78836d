"""Plots: every function returns Axes with labelled axes, draws what it was given."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from skelbehave import plots
from skelbehave.layouts import get_layout


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _fc_table() -> pd.DataFrame:
    rows = []
    for sweep in ("displacement", "position"):
        for ov in (False, True):
            for n in (1, 2, 3):
                for seed in (0, 1):
                    base = {
                        "study": "feature_counts",
                        "dataset": "msr_action3d",
                        "sweep": sweep,
                        "n_groups": n,
                        "overlapping": ov,
                        "n_position_groups": 6 if sweep == "displacement" else n,
                        "n_displacement_groups": n if sweep == "displacement" else 4,
                        "seed": seed,
                    }
                    rows.append({**base, "metric": "accuracy", "value": 0.5 + 0.1 * n + 0.01 * seed})
                    rows.append({**base, "metric": "feature_time_s", "value": 0.01 * n * (2 if ov else 1)})
    return pd.DataFrame(rows)


def test_feature_counts_plot_draws_means_and_time_axis():
    ax = plots.plot_feature_counts(_fc_table(), sweep="displacement")
    assert ax.get_xlabel() == "number of displacement groups"
    assert ax.get_ylabel() == "accuracy [%]"
    assert ax.right_ax.get_ylabel() == "feature extraction time [ms]"
    ys = ax.lines[0].get_ydata()  # non-overlapping accuracy, mean of the two seeds, in %
    np.testing.assert_allclose(ys, [60.5, 70.5, 80.5])
    np.testing.assert_allclose(ax.right_ax.lines[0].get_ydata(), [10, 20, 30])  # ms
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert any("overlapping" in t and "non" not in t for t in labels) and any(
        "non-overlapping" in t for t in labels
    )
    assert "6 position groups" in ax.get_title()


def test_feature_counts_plot_without_time_and_on_given_axes():
    _fig, ax0 = plt.subplots()
    ax = plots.plot_feature_counts(_fc_table(), sweep="position", time_metric=None, ax=ax0)
    assert ax is ax0 and not hasattr(ax, "right_ax")
    assert ax.get_xlabel() == "number of position groups"
    with pytest.raises(ValueError, match="no rows"):
        plots.plot_feature_counts(_fc_table(), sweep="bones")


def test_fusion_plot_bars_per_dataset():
    df = pd.DataFrame(
        {
            "dataset": ["a"] * 3 + ["b"] * 3,
            "config": ["position", "displacement", "fusion"] * 2,
            "seed": 0,
            "metric": "accuracy",
            "value": [0.6, 0.8, 0.85, 0.7, 0.9, 0.92],
        }
    )
    ax = plots.plot_fusion(df)
    heights = sorted(round(p.get_height(), 6) for p in ax.patches)
    assert heights == sorted([60.0, 80.0, 85.0, 70.0, 90.0, 92.0])
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["a", "b"]
    assert ax.get_ylabel() == "accuracy [%]"
    with pytest.raises(ValueError, match="no rows with metric"):
        plots.plot_fusion(df, metric="macro_f1")


def test_encoders_plot_one_line_per_encoder():
    rows = []
    for enc in ("bow", "fisher", "vlad"):
        for c in (2, 4, 0):
            rows.append(
                {
                    "dataset": "d",
                    "factor": "n_components",
                    "encoder": enc,
                    "n_components": c,
                    "seed": 0,
                    "metric": "accuracy",
                    "value": 0.5,
                }
            )
    ax = plots.plot_encoders(pd.DataFrame(rows), factor="n_components")
    assert len(ax.containers) == 3  # one errorbar per encoder
    assert [t.get_text() for t in ax.get_xticklabels()] == ["2", "4", "all"]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["bag of words", "Fisher vector", "VLAD"]


def test_pruning_plot_axes_and_units():
    rows = []
    for dc in (False, True):
        for r, p in ((0.0, 1e5), (0.5, 4e4)):
            base = {"dataset": "d", "doconv": dc, "prune_ratio": r, "seed": 0}
            rows += [
                {**base, "metric": "accuracy", "value": 0.8 - r / 10},
                {**base, "metric": "params", "value": p},
            ]
    df = pd.DataFrame(rows)
    ax = plots.plot_pruning_tradeoff(df, x="params")
    assert ax.get_xlabel() == "parameters [thousands]"
    np.testing.assert_allclose(ax.lines[0].get_xdata(), [40, 100])  # joined in order of size
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["plain convolution", "DO-Conv"]
    assert {t.get_text() for t in ax.texts} == {"0%", "50%"}
    ax2 = plots.plot_pruning_tradeoff(df, x="prune_ratio")
    assert ax2.get_xlabel() == "channels pruned [%]"
    np.testing.assert_allclose(ax2.lines[0].get_xdata(), [0, 50])


def test_cnn_options_plot_marks_baseline():
    df = pd.DataFrame(
        {
            "dataset": "d",
            "option": ["baseline (two-stream)", "non-local block"],
            "seed": 0,
            "metric": "accuracy",
            "value": [0.7, 0.75],
        }
    )
    ax = plots.plot_cnn_options(df)
    assert ax.get_xlabel() == "accuracy [%]"
    assert sorted(p.get_width() for p in ax.patches) == pytest.approx([70, 75])


def test_confusion_matrix_row_normalised():
    ax = plots.plot_confusion_matrix(np.array([[3, 1], [0, 4]]), labels=["sit", "stand"])
    img = ax.images[0].get_array()
    np.testing.assert_allclose(img, [[75, 25], [0, 100]])
    assert [t.get_text() for t in ax.get_xticklabels()] == ["sit", "stand"]
    assert ax.get_xlabel() == "predicted label" and ax.get_ylabel() == "true label"
    assert {t.get_text() for t in ax.texts} == {"75", "25", "100"}
    counts = plots.plot_confusion_matrix(np.array([[3, 1], [0, 4]]), normalize=False)
    np.testing.assert_allclose(counts.images[0].get_array(), [[3, 1], [0, 4]])
    with pytest.raises(ValueError, match="square"):
        plots.plot_confusion_matrix(np.ones((2, 3)))
    with pytest.raises(ValueError, match="labels"):
        plots.plot_confusion_matrix(np.eye(3), labels=["a"])


def test_skeleton_draws_every_bone_of_a_real_sequence(shared_data):
    from skelbehave.datasets import read_msr_skeleton

    seq = read_msr_skeleton(shared_data / "msr_action3d" / "a01_s01_e01_skeleton3D.txt")
    ax = plots.plot_skeleton(seq, frame=5)
    assert len(ax.lines) == len(seq.layout.bones)
    # bone end points are the joint positions of that frame (x, y projection)
    i, j = seq.layout.bone_indices[0]
    np.testing.assert_allclose(ax.lines[0].get_xdata(), seq.position[5, [i, j], 0])
    np.testing.assert_allclose(ax.lines[0].get_ydata(), seq.position[5, [i, j], 1])
    assert "[layout units]" in ax.get_xlabel()
    ax2 = plots.plot_skeleton(seq, frame=[0, 10, 20], dims=(0, 2), labels=True)
    assert len(ax2.lines) == 3 * len(seq.layout.bones)
    assert ax2.get_ylabel().startswith("z")
    assert len(ax2.texts) == seq.n_joints


def test_skeleton_from_array_needs_matching_layout():
    lay = get_layout("msr20")
    ax = plots.plot_skeleton(np.zeros((lay.n_joints, 3)), layout="msr20")
    assert len(ax.lines) == len(lay.bones)
    with pytest.raises(ValueError, match="layout="):
        plots.plot_skeleton(np.zeros((20, 3)))
    with pytest.raises(ValueError, match="expected"):
        plots.plot_skeleton(np.zeros((7, 3)), layout="msr20")
