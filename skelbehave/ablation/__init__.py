"""Ablation runners: the method's experiments on real data, as tidy tables.

Every runner loads a data set (by registry name, e.g. ``"msr_action3d"`` or ``"utd_mhad"``,
or a :class:`~skelbehave.datasets.Dataset`), trains on the standard
cross-subject training subjects, tests on the others, and returns a tidy
:class:`pandas.DataFrame` with **one row per configuration x seed x metric**:

========================  ==========================================================
column                    meaning
========================  ==========================================================
``study``                 ``"feature_counts"``, ``"fusion"``, ``"encoders"``,
                          ``"pruning"`` or ``"cnn_options"``
``dataset``               data set name
``config``                short human-readable label of the configuration
*parameter columns*       the swept parameters (e.g. ``n_displacement_groups``)
``seed``                  random seed (K-means / CNN initialisation)
``metric``                ``accuracy``, ``macro_f1``, ``feature_time_s``, ...
``value``                 the measured number
========================  ==========================================================

Metrics of the descriptor + encoding studies (a)-(c):

- ``accuracy``, ``macro_f1`` on the test subjects;
- ``feature_time_s``: wall time of :meth:`JointFeatures.transform` on the
  *whole* data set (:func:`time_features`: best of ``timing_repeats`` rounds
  interleaved over all configurations of the study, after one warm-up call, so
  numba compilation is excluded; the same value for every seed);
- ``encode_time_s``: encoder fit on the training descriptors plus transform
  of all descriptors;
- ``fit_time_s``: encoder fit + classifier fit (training cost);
- ``n_features``: length of the encoded vector.

Metrics of the CNN studies (d)-(e): ``accuracy``, ``macro_f1``, ``params``
(parameters of the inference network), ``macs`` (multiply-accumulates for
one sequence, from :func:`skelbehave.models.cnn.model_cost` (Torch-Pruning's
counter), else convolution and linear layers counted with forward hooks), ``latency_ms`` (prediction time
per test sequence, one thread, best of ``timing_repeats``), ``fit_time_s``.

The classifier on top of the encoded vectors is a head of the one head
registry, :func:`skelbehave.models.heads.make_head` (default ``"svm"``, with
the registry's defaults); any scikit-learn classifier instance is accepted
(it is cloned). Data sets are looked up in :data:`skelbehave.datasets.DATASETS`
(those with clip labels).

Examples
--------
>>> from skelbehave import ablation
>>> df = ablation.fusion("msr_action3d", seeds=[0], n_clusters=8)  # doctest: +SKIP
>>> df.pivot_table(index="config", columns="metric", values="value")  # doctest: +SKIP
"""

from __future__ import annotations

from .cnn import CNN_OPTIONS, QUICK_CNN, cnn_options, pruning
from .core import PAPER_DISPLACEMENT_GROUPS, PAPER_POSITION_GROUPS, load_dataset, time_features
from .descriptors import encoders, feature_counts, fusion
from .run import STUDIES, run_study, study_figures, summarize

__all__ = [
    "CNN_OPTIONS",
    "PAPER_DISPLACEMENT_GROUPS",
    "PAPER_POSITION_GROUPS",
    "QUICK_CNN",
    "STUDIES",
    "cnn_options",
    "encoders",
    "feature_counts",
    "fusion",
    "load_dataset",
    "pruning",
    "run_study",
    "study_figures",
    "summarize",
    "time_features",
]
