"""Cost of a (pruned) CNN: parameters, MACs, saved size and measured CPU latency."""

from __future__ import annotations

import copy
import io
import time
from typing import Any

import numpy as np
import torch

from .doconv import fold_doconv
from .network import TwoStreamNet

__all__ = ["cost_table", "model_cost"]


def _saved_size(clf) -> int:
    params, arrays = clf._get_state()
    import json

    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    return len(buf.getvalue()) + len(json.dumps(params).encode())


def _latency(net: TwoStreamNet, inputs: dict[str, torch.Tensor], repeats: int, threads: int) -> float:
    old = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        with torch.inference_mode():
            for _ in range(3):
                net.predict_proba(inputs)
            times = []
            for _ in range(repeats):
                t0 = time.perf_counter()
                net.predict_proba(inputs)
                times.append(time.perf_counter() - t0)
    finally:
        torch.set_num_threads(old)
    return float(np.median(times))


def model_cost(clf, *, repeats: int = 20, threads: int = 1, batch_sizes=(1, 64)) -> dict[str, Any]:
    """Parameters, MACs, saved file size and median CPU latency of a fitted CNNClassifier.

    MACs are counted with Torch-Pruning's ``count_ops_and_params`` on the
    inference form (DO-Conv folded), summed over streams, for one sequence.
    Latency is the median wall time of a forward pass of all streams with
    ``threads`` CPU threads, per batch size.

    Examples
    --------
    >>> import numpy as np
    >>> from skelbehave.models.cnn import CNNClassifier
    >>> X = [np.random.default_rng(i).normal(size=(12, 20, 3)) for i in range(4)]
    >>> clf = CNNClassifier(layout="msr20", channels=(8,), max_epochs=1).fit(X, [0, 1] * 2)
    >>> sorted(model_cost(clf, repeats=2))[:3]
    ['latency_ms_b1', 'latency_ms_b64', 'macs']
    """
    import torch_pruning as tp

    net = fold_doconv(copy.deepcopy(clf.network_)).cpu().eval()
    cfg = clf.config_
    macs = 0
    params = 0
    for name, stream in net.streams.items():
        ex = torch.randn(1, cfg["stream_inputs"][name], clf.n_frames)
        m, p = tp.utils.count_ops_and_params(stream, ex)
        macs += int(m)
        params += int(p)
    out: dict[str, Any] = {
        "params": int(sum(q.numel() for q in net.parameters())),
        "macs": macs,
        "size_bytes": _saved_size(clf),
    }
    for b in batch_sizes:
        inputs = {name: torch.randn(b, cfg["stream_inputs"][name], clf.n_frames) for name in net.streams}
        out[f"latency_ms_b{b}"] = 1e3 * _latency(net, inputs, repeats, threads)
    return out


def cost_table(models: dict[str, Any], **kwargs):
    """One row per named fitted classifier with :func:`model_cost` columns and ratios to the first.

    Returns a :class:`pandas.DataFrame` (``params_ratio`` etc. relative to the first row).

    Examples
    --------
    >>> # cost_table({"unpruned": clf, "pruned 50%": clf.prune(X, y, ratio=0.5)})
    """
    import pandas as pd

    rows = []
    for name, clf in models.items():
        row = {"model": name, **model_cost(clf, **kwargs)}
        rows.append(row)
    df = pd.DataFrame(rows).set_index("model")
    base = df.iloc[0]
    for col in ["params", "macs", "size_bytes"]:
        df[f"{col}_ratio"] = df[col] / base[col]
    for col in [c for c in df.columns if c.startswith("latency_ms_b")]:
        df[f"speedup_{col[len('latency_ms_') :]}"] = base[col] / df[col]
    return df
