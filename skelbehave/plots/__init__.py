"""Plots: ablation curves, confusion matrices, ethograms, skeletons; report folders (:mod:`.reports`).

Every function draws on ``ax`` (a new figure's axes when ``ax=None``) and
returns the :class:`matplotlib.axes.Axes`, with axis labels (units in
brackets) and a legend where there is more than one series. matplotlib is
imported on first use; use the Agg backend on machines without a display.

The ablation plots take the tidy tables of :mod:`skelbehave.ablation` (one
row per configuration x seed x metric) and draw the mean over seeds with the
standard deviation as error bars.

Examples
--------
>>> import matplotlib
>>> matplotlib.use("Agg")
>>> import numpy as np
>>> ax = plot_confusion_matrix(np.array([[5, 1], [0, 4]]), labels=["sit", "stand"])
>>> ax.get_xlabel()
'predicted label'
"""

from .ablation import (
    plot_cnn_options,
    plot_encoders,
    plot_feature_counts,
    plot_fusion,
    plot_pruning_tradeoff,
)
from .reports import write_clip_report, write_evaluation_report, write_prediction_reports
from .results import plot_confusion_matrix, plot_ethogram, plot_skeleton

__all__ = [
    "plot_cnn_options",
    "plot_confusion_matrix",
    "plot_encoders",
    "plot_ethogram",
    "plot_feature_counts",
    "plot_fusion",
    "plot_pruning_tradeoff",
    "plot_skeleton",
    "write_clip_report",
    "write_evaluation_report",
    "write_prediction_reports",
]
