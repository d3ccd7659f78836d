"""``skelbehave fit``: train a model on a data set or on labelled pose files, and save it."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from ..errors import ParameterError, SkelbehaveError
from . import (
    check_input_file,
    check_output_file,
    length,
    library_default,
    non_negative_int,
    positive_float,
    positive_length,
    threads,
)

EPILOG = """examples:
  skelbehave fit precog --subjects 1-8 --out precog.skb            # frame-level, embedded PRECOG
  skelbehave fit precog --subjects 1-8 --context-folds 4 --out precog.skb
  skelbehave fit rat_social --root ../shared/data --out rat.skb     # train recordings 1-8, S1
  skelbehave fit poses/*.csv --labels labels/*.csv --label-column S1 --fps 30 --out mine.skb
  skelbehave fit poses/*.csv --labels annot/*_annot.txt --label-column S1 --fps 30 --out mine.skb  # Caltech
  skelbehave fit poses/*.csv --labels boris/*.tsv --fps 30 --out mine.skb     # BORIS events exports
  skelbehave fit msr_action3d --root ../shared/data --out msr.skb  # clip-level BehaviorModel
  skelbehave fit precog --window 1s --classifier hgb --classifier-params max_iter=100 --out p.skb

Options without a value given take the library's defaults (FrameLevelModel,
BehaviorModel), so `skelbehave fit` and Python train the same model.
"""

#: options that only frame-level models (FrameLevelModel) take
FRAME_ONLY = (
    "window", "stride", "fit_stride", "context_folds", "median", "min_bout", "classifier_params", "encoding",
)  # fmt: skip


def library_params() -> dict[str, tuple[Any, str]]:
    """CLI option (argparse dest) -> (library callable, parameter) whose default it takes."""
    from ..pipeline import FrameLevelModel
    from ..workflows import fit_model

    return {
        "split": (fit_model, "split"),
        "ignore_labels": (fit_model, "ignore_labels"),
        "individual": (fit_model, "individual"),
        "window": (FrameLevelModel, "window"),
        "stride": (FrameLevelModel, "stride"),
        "fit_stride": (FrameLevelModel, "fit_stride"),
        "context_folds": (FrameLevelModel, "context_folds"),
        "median": (FrameLevelModel, "median"),
        "min_bout": (FrameLevelModel, "min_bout"),
        "classifier_params": (FrameLevelModel, "classifier_params"),
        "encoding": (FrameLevelModel, "encoding"),
        "threads": (FrameLevelModel, "n_jobs"),
        "random_state": (FrameLevelModel, "random_state"),
    }


def _param(text: str) -> tuple[str, Any]:
    """``KEY=VALUE`` with VALUE read as JSON when it is JSON (``100``, ``0.1``, ``"balanced"``, ``null``)."""
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise argparse.ArgumentTypeError(f"{text!r}: expected KEY=VALUE, e.g. n_estimators=100")
    try:
        return key.strip(), json.loads(value)
    except json.JSONDecodeError:
        return key.strip(), value


def _check_labels(source: list[str], labels: list[str], label_column: str | None) -> None:
    """``--labels`` files exist, one per pose file, each with the ``--label-column`` asked for.

    Label files may be per-frame label CSVs, Caltech Behavior Annotator ``.txt``
    files or BORIS events exports (:mod:`skelbehave.io.annotations`).
    """
    from .._util.fs import expand_inputs
    from ..io.annotations import annotation_streams

    for lab in labels:
        check_input_file(lab, "--labels")
    try:
        n_poses = len(expand_inputs(source))
    except SkelbehaveError as exc:
        raise ParameterError(f"pose files: {exc}") from None
    if n_poses != len(labels):
        raise ParameterError(f"--labels: got {len(labels)} label files for {n_poses} pose files (one each)")
    for lab in labels:
        try:
            cols = annotation_streams(lab)
        except SkelbehaveError as exc:
            raise ParameterError(f"--labels {exc}") from None
        except (ValueError, UnicodeDecodeError) as exc:
            raise ParameterError(
                f"--labels {lab}: not a label table ({' '.join(str(exc).split())})"
            ) from None
        if label_column is not None and label_column not in cols:
            raise ParameterError(f"--label-column {label_column!r}: {lab} has no such column (it has {cols})")


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Register the ``fit`` sub-command."""
    from ..pipeline import BehaviorModel, FrameLevelModel

    d = {dest: library_default(obj, name) for dest, (obj, name) in library_params().items()}
    p = subparsers.add_parser(
        "fit",
        help="train a behaviour model and save it",
        description=(
            "Train a frame-level model (sliding windows over long recordings) on a data set with frame "
            "labels (precog, rat_social) or on pose files with per-frame label CSVs; or a clip-level model "
            "on a clip data set (msr_action3d, utd_mhad, precog_trimmed). The model is saved as a .skb file "
            "(JSON + arrays, checksummed, no pickle)."
        ),
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("source", nargs="+", help="a data set name, or pose files")
    p.add_argument("--out", "-o", required=True, help="model file to write (.skb)")
    p.add_argument(
        "--labels",
        nargs="+",
        help="label files, one per pose file: per-frame label CSVs (frame,label), Caltech Behavior Annotator "
        ".txt or BORIS events exports (CSV/TSV)",
    )
    p.add_argument(
        "--label-column",
        help="label column, stream (S1) or BORIS subject of the label files (default: 'label' or the only "
        "one)",
    )
    p.add_argument("--root", help="data folder (default $SKELBEHAVE_DATA or ../shared/data)")
    p.add_argument(
        "--split", default=d["split"], choices=["train", "all"], help="data set part (default: %(default)s)"
    )
    p.add_argument("--subjects", help="train on these subjects / recordings, e.g. 1-8")
    p.add_argument("--fps", type=positive_float, help="frame rate of pose files that do not state one")
    p.add_argument(
        "--individual",
        default=d["individual"],
        help="pose files: train on these individuals (tracks) only, e.g. 0 or 0,2 (default: all)",
    )
    lib = [  # (flag, type, help): the default is the library's
        ("--window", positive_length, "window length: frames or a duration (1s, 500ms)"),
        ("--stride", positive_length, "step between window centres when predicting"),
        ("--fit-stride", positive_length, "step between training windows (None: the stride)"),
        ("--context-folds", non_negative_int, "second (context) stage with k folds; 0 = off"),
        ("--median", length, "median filter over frame probabilities (frames or a duration; 0 = off)"),
        ("--min-bout", length, "minimum bout length (frames or a duration; 0 = off)"),
        ("--threads", threads, "threads in this process (n_jobs)"),
        ("--random-state", int, "random seed"),
    ]
    for flag, kind, text in lib:
        dest = flag[2:].replace("-", "_")
        p.add_argument(flag, type=kind, default=d[dest], help=f"{text} (default: %(default)s)")
    p.add_argument(
        "--ignore-labels",
        nargs="+",
        default=d["ignore_labels"],
        metavar="LABEL",
        help="labels that are not behaviours (default: the data set's, e.g. 'base' for rat_social)",
    )
    p.add_argument(
        "--layout",
        default=None,
        help="clip-level models: train on this body layout, e.g. common15, so that the model also labels "
        "poses of other skeletons (MediaPipe poses of videos); default: the data set's own",
    )
    p.add_argument(
        "--classes",
        default=None,
        help="clip-level data sets: train on these classes only, separated by commas "
        "(e.g. 'front boxing,two hand front clap,jogging in place')",
    )
    p.add_argument(
        "--classifier",
        default=None,
        help=f"head from the head registry (default: {library_default(FrameLevelModel, 'classifier')} for "
        f"frame-level, {library_default(BehaviorModel, 'classifier')} for clip-level models)",
    )
    from ..pipeline.frame import ENCODINGS

    p.add_argument(
        "--encoding",
        choices=ENCODINGS,
        default=d["encoding"],
        help="window descriptors of frame-level models: window statistics, the per-group VLAD of the "
        "window (the method), or both (default: %(default)s, chosen by grouped CV on training subjects)",
    )
    p.add_argument(
        "--classifier-params",
        nargs="+",
        type=_param,
        default=d["classifier_params"],
        metavar="KEY=VALUE",
        help="head parameters over the registry's defaults, e.g. n_estimators=100 class_weight=balanced",
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace) -> int:
    """One library call: :func:`skelbehave.workflows.fit_model`."""
    from ..datasets import get_dataset_spec
    from ..workflows import fit_model, is_dataset

    check_output_file(args.out, "--out")
    if args.root is not None and not Path(args.root).is_dir():
        raise ParameterError(f"--root {args.root}: no such folder")
    if args.labels:
        _check_labels(args.source, args.labels, args.label_column)
    one = args.source[0] if len(args.source) == 1 and not args.labels else None
    # a single name that is no file is a data set (an unknown name says which names are known)
    src = one if one is not None and (is_dataset(one) or not Path(one).exists()) else args.source
    frame_level = not isinstance(src, str) or get_dataset_spec(src).frame_level
    params: dict[str, Any] = {"random_state": args.random_state, "n_jobs": args.threads}
    if args.classifier is not None:
        params["classifier"] = args.classifier
    if frame_level and (args.layout is not None or args.classes is not None):
        flags = ", ".join(f for f, v in (("--layout", args.layout), ("--classes", args.classes)) if v)
        print(f"skelbehave fit: error: {flags}: only for clip-level data sets (msr_action3d, utd_mhad, ...)",
              file=sys.stderr)  # fmt: skip
        return 2
    if args.layout is not None:
        from ..layouts import get_layout

        get_layout(args.layout)  # an unknown name says which names are known
        params["layout"] = args.layout
    if args.classes is not None:
        params["classes"] = [c.strip() for c in args.classes.split(",") if c.strip()]
    if frame_level:
        params.update({k: getattr(args, k) for k in FRAME_ONLY})
        if params["classifier_params"] is not None:
            params["classifier_params"] = dict(params["classifier_params"])
        # bars where someone watches: a terminal, or -v (stage timings are logged with -v too)
        params["progress"] = not args.no_progress and (sys.stderr.isatty() or getattr(args, "verbose", 0) > 0)
    else:
        defaults = {dest: library_default(obj, name) for dest, (obj, name) in library_params().items()}
        given = [k for k in FRAME_ONLY if getattr(args, k) != defaults[k]]
        if given:
            flags = ", ".join("--" + k.replace("_", "-") for k in given)
            print(f"skelbehave fit: error: {flags}: only for frame-level models; {src} has clip labels",
                  file=sys.stderr)  # fmt: skip
            return 2
    model = fit_model(
        src,
        args.out,
        labels=args.labels,
        label_column=args.label_column,
        split=args.split,
        subjects=args.subjects,
        root=args.root,
        fps=args.fps,
        ignore_labels=args.ignore_labels,
        individual=args.individual,
        **params,
    )
    print(f"saved {type(model).__name__} with classes {model.classes_.tolist()} to {args.out}")
    return 0
