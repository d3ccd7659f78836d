"""``skelbehave export``: a saved model as an ONNX graph plus a model card, for deployment."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from . import check_input_file, check_output_folder, library_default

EPILOG = """examples:
  skelbehave export msr_cnn.skb --format onnx --out deploy
  skelbehave export msr.skb --out deploy --check poses/a.csv poses/b.csv

Writes DIR/<name>.onnx and DIR/<name>.card.json. For a CNN model the graph holds the whole
network (input standardisation, the folded and pruned streams, late fusion); for a
scikit-learn linear head (ridge, svm, logreg) it holds the head only: reading poses,
joint features and the VLAD encoding stay in Python (skelbehave). The card says which
stage the graph covers. onnxruntime's outputs are checked against torch / scikit-learn
(within 1e-5) on the --check pose files, or on synthetic inputs without them.
Needs the export extra: pip install "skelbehave[export]" (and [cnn] for CNN models).
"""


def library_params() -> dict[str, tuple[Any, str]]:
    """CLI option (argparse dest) -> (library callable, parameter) whose default it takes."""
    from ..pipeline.export import export_model

    return {"format": (export_model, "format")}


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Register the ``export`` sub-command."""
    from ..pipeline.export import FORMATS

    d = {dest: library_default(obj, name) for dest, (obj, name) in library_params().items()}
    p = subparsers.add_parser(
        "export",
        help="export a saved model to ONNX, with a model card",
        description=(
            "Export a saved model for deployment: an ONNX graph, checked against onnxruntime, and a "
            "model card (JSON) next to it."
        ),
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("model", help="model file (.skb)")
    p.add_argument(
        "--format", choices=FORMATS, default=d["format"], help="export format (default: %(default)s)"
    )
    p.add_argument("--out", "-o", default=".", help="output folder (default: the current folder)")
    p.add_argument("--name", default=None, help="file stem of the outputs (default: the model file's stem)")
    p.add_argument(
        "--check",
        nargs="+",
        default=None,
        metavar="POSES",
        help="pose files the onnxruntime parity check runs on (default: synthetic inputs)",
    )
    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace) -> int:
    """One library call: :func:`skelbehave.pipeline.export.export_model`."""
    from ..pipeline.export import export_model

    check_input_file(args.model, "MODEL")
    for f in args.check or []:
        check_input_file(f, "--check")
    out = check_output_folder(args.out, "--out")
    res = export_model(Path(args.model), out, format=args.format, name=args.name, check_files=args.check)
    graph, parity = res.card["graph"], res.card["parity"]
    print(f"wrote {res.onnx} and {res.card_path}")
    print(f"  the graph covers: {graph['covers']}")
    print("  stays in Python (skelbehave): " + "; ".join(graph["python_steps"]))
    ins = ", ".join(f"{i['name']} {i['dtype']} {i['shape']}" for i in graph["inputs"])
    outs = ", ".join(f"{o['name']} {o['dtype']} {o['shape']}" for o in graph["outputs"])
    print(f"  inputs: {ins}; outputs: {outs}")
    print(
        f"  onnxruntime vs {parity['compared_with']}: max abs diff {parity['max_abs_diff']:.2g} "
        f"(<= {parity['atol']:g}) on {parity['checked_on']}"
    )
    return 0
