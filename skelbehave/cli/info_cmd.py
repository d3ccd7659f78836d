"""``skelbehave info``: what a saved model file holds."""

from __future__ import annotations

import argparse
import json

EPILOG = """examples:
  skelbehave info precog.skb
  skelbehave info rat.skb --json
"""


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Register the ``info`` sub-command."""
    p = subparsers.add_parser(
        "info",
        help="show a model file's metadata",
        description=(
            "Print a model's kind, classes, layout, package and format version, checksum and components "
            "(the file's checksums are verified; nothing in it is executed)."
        ),
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("model", help="model file (.skb)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace) -> int:
    """One library call: :func:`skelbehave.workflows.model_info`."""
    from ..workflows import model_info

    info = model_info(args.model)
    if args.json:
        print(json.dumps(info, indent=1, default=str))
        return 0
    for k, v in info.items():
        if k == "params":
            continue
        if isinstance(v, dict):
            print(f"{k}:")
            for kk, vv in v.items():
                print(f"  {kk}: {vv}")
        elif isinstance(v, list) and len(v) > 12:
            print(f"{k}: {v[:12]} ... ({len(v)})")
        else:
            print(f"{k}: {v}")
    return 0
