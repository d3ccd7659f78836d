"""Training internals of :class:`~skelbehave.models.cnn.CNNClassifier`: the sparse training loop,
in-place pruning with fine-tuning, stream fusion and knowledge distillation.

Examples
--------
>>> import numpy as np
>>> a, b = np.array([[0.9, 0.1]]), np.array([[0.2, 0.8]])
>>> fuse_probabilities([a, b], [0.5, 0.5], "arithmetic").round(2)
array([[0.55, 0.45]])
"""

from __future__ import annotations

import copy
import logging
import sys
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from ...errors import ParameterError
from .doconv import fold_doconv, unfold_to_doconv
from .network import TwoStreamNet
from .slimming import bn_l1_penalty, prune_stream, ratio_for_threshold

__all__ = ["FUSION_RULES", "TrainingMixin", "fuse_probabilities", "show_progress"]

logger = logging.getLogger(__name__)

_DISTILL_T = 2.0
FUSION_RULES = ("arithmetic", "geometric")


def fuse_probabilities(probs: Sequence[np.ndarray], weights: Sequence[float], rule: str) -> np.ndarray:
    """Weighted arithmetic or (renormalised) geometric mean of class-probability arrays.

    Examples
    --------
    >>> import numpy as np
    >>> a, b = np.array([[0.9, 0.1]]), np.array([[0.2, 0.8]])
    >>> fuse_probabilities([a, b], [0.5, 0.5], "arithmetic").round(2)
    array([[0.55, 0.45]])
    >>> fuse_probabilities([a, b], [0.5, 0.5], "geometric").round(2)
    array([[0.6, 0.4]])
    """
    if rule == "arithmetic":
        return np.sum([w * p for w, p in zip(weights, probs, strict=True)], axis=0)
    if rule == "geometric":
        logp = np.sum(
            [w * np.log(np.clip(p, 1e-12, None)) for w, p in zip(weights, probs, strict=True)], axis=0
        )
        logp -= logp.max(axis=1, keepdims=True)
        out = np.exp(logp)
        return out / out.sum(axis=1, keepdims=True)
    raise ParameterError(f"fusion rule must be one of {FUSION_RULES}, got {rule!r}")


def show_progress(progress: bool | None) -> bool:
    """Whether training shows its progress bar: ``progress`` when given, else when standard error is a
    terminal or the package logs at INFO (the CLI's ``-v``); so never in captured output.

    Examples
    --------
    >>> show_progress(True), show_progress(False)
    (True, False)
    """
    if progress is not None:
        return bool(progress)
    if logging.getLogger("skelbehave").isEnabledFor(logging.INFO):
        return True
    try:
        return bool(sys.stderr.isatty())
    except (AttributeError, ValueError):  # replaced or closed stream
        return False


def _distill_loss(student: torch.Tensor, teacher: torch.Tensor) -> torch.Tensor:
    """Knowledge-distillation loss ``T^2 KL(softmax(t/T) || softmax(s/T))`` (Hinton et al., 2015)."""
    t = _DISTILL_T
    kl = F.kl_div(
        F.log_softmax(student / t, 1), F.log_softmax(teacher / t, 1), log_target=True, reduction="batchmean"
    )
    return kl * t * t


class TrainingMixin:
    """Training loop, in-place pruning and fusion fitting (mixed into CNNClassifier)."""

    def _train_loop(
        self,
        net: TwoStreamNet,
        pos_tr,
        y_tr,
        pos_va,
        y_va,
        root,
        epochs: int,
        lr: float,
        sparsity: float,
        rng: np.random.Generator,
        desc: str,
        teacher: TwoStreamNet | None = None,
    ) -> list[dict]:
        device = self._device()
        net.to(device)
        opt = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=self.weight_decay)
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max(1, epochs))
        y_tr_t = torch.as_tensor(y_tr, dtype=torch.long, device=device)
        fixed_tr = None if self.augment else self._standardise(self._inputs(pos_tr, root), device)
        early = desc == "train" or self.finetune_early_stopping
        va = self._standardise(self._inputs(pos_va, root), device) if (len(pos_va) and early) else None
        best, best_key, since = None, None, 0
        history: list[dict] = []
        bar = None
        if show_progress(self.progress):
            from tqdm.auto import tqdm

            bar = tqdm(total=epochs, desc=f"CNN {desc}", unit="epoch", leave=False)
        n = len(pos_tr)
        try:
            for epoch in range(epochs):
                net.train()
                xin = (
                    fixed_tr
                    if fixed_tr is not None
                    else self._standardise(self._inputs(pos_tr, root, rng), device)
                )
                order = torch.as_tensor(rng.permutation(n), device=device)
                tot = 0.0
                for b0 in range(0, n, self.batch_size):
                    idx = order[b0 : b0 + self.batch_size]
                    if len(idx) < 2:  # BatchNorm needs two samples
                        continue
                    batch = {k: v[idx] for k, v in xin.items()}
                    logits = net(batch)
                    loss = sum(
                        F.cross_entropy(lg, y_tr_t[idx], label_smoothing=self.label_smoothing)
                        for lg in logits.values()
                    )
                    if teacher is not None and self.distillation > 0:
                        with torch.no_grad():
                            t_logits = teacher(batch)
                        loss = loss + self.distillation * sum(
                            _distill_loss(logits[k], t_logits[k]) for k in logits
                        )
                    if sparsity > 0:
                        loss = loss + sparsity * bn_l1_penalty(net)
                    opt.zero_grad(set_to_none=True)
                    loss.backward()
                    opt.step()
                    tot += float(loss.detach()) * len(idx)
                sched.step()
                rec = {"stage": desc, "epoch": epoch, "train_loss": tot / n}
                if va is not None:
                    net.eval()
                    with torch.no_grad():
                        proba = net.predict_proba(va)
                        yv = torch.as_tensor(y_va, device=device)
                        acc = float((proba.argmax(1) == yv).float().mean())
                        vloss = float(F.nll_loss(torch.log(proba + 1e-9), yv))
                    rec.update(val_accuracy=acc, val_loss=vloss)
                    key = (acc, -vloss)
                    if best_key is None or key > best_key:
                        best_key, since = key, 0
                        best = copy.deepcopy(net.state_dict())
                    else:
                        since += 1
                history.append(rec)
                if bar is not None:
                    bar.update(1)
                    shown = {"loss": f"{rec['train_loss']:.3f}"}
                    if "val_accuracy" in rec:
                        shown["val_acc"] = f"{rec['val_accuracy']:.3f}"
                    bar.set_postfix(shown)
                if va is not None and since >= self.patience:
                    break
        finally:
            if bar is not None:
                bar.close()
        if best is not None:
            net.load_state_dict(best)
        net.eval()
        return history

    def _prune_inplace(
        self, pos_tr, y_tr, pos_va, y_va, *, ratio, threshold, importance, finetune_epochs, rng
    ):
        net = self.network_
        if threshold is not None:
            ratio = ratio_for_threshold(net, float(threshold))
        ratio = float(ratio)
        steps = max(1, int(self.prune_steps))
        device = self._device()
        teacher = copy.deepcopy(net).to(device).eval() if self.distillation > 0 else None
        info: dict[str, Any] = {"ratio": ratio, "importance": importance, "steps": steps, "streams": {}}
        data = None
        if importance == "correlation":
            data = self._standardise(self._inputs(pos_tr, self.root_), "cpu")
        kept = 1.0
        for step in range(1, steps + 1):
            # remove an equal share of the ORIGINAL channels at every step
            target = 1.0 - ratio * step / steps
            step_ratio = 1.0 - target / kept
            kept = target
            net.to("cpu")
            for name, stream in net.streams.items():
                example = torch.zeros(1, self.config_["stream_inputs"][name], self.n_frames)
                res = prune_stream(
                    stream,
                    example,
                    step_ratio,
                    importance=importance,
                    data=None if data is None else data[name],
                    max_layer_ratio=self.prune_max_layer_ratio,
                    normalizer=self.prune_normalizer,
                    scope=self.prune_scope,
                )
                prev = info["streams"].get(name)
                if prev is not None:
                    res["params_before"] = prev["params_before"]
                res["ratio"] = ratio
                info["streams"][name] = res
            if self.doconv:
                unfold_to_doconv(net, self.depth_multiplier)
            # intermediate steps get a short recovery, the last one the full fine-tuning
            epochs = finetune_epochs if step == steps else max(1, finetune_epochs // (2 * steps))
            if finetune_epochs > 0:
                hist = self._train_loop(
                    net,
                    pos_tr,
                    y_tr,
                    pos_va,
                    y_va,
                    self.root_,
                    epochs,
                    self.lr / 3,
                    self.sparsity if step < steps else 0.0,
                    rng,
                    f"finetune {step}/{steps}" if steps > 1 else "finetune",
                    teacher=teacher,
                )
                self.history_ = [*self.history_, *hist]
            fold_doconv(net)
        net.to(device)
        self.network_ = net
        self.pruning_ = info
        self._fit_fusion(pos_va, y_va)
        return self

    def _fit_fusion(self, pos_va, y_va) -> None:
        """Set ``fusion_weights_``: equal, or the grid weights with the lowest validation log-loss."""
        names = list(self.streams_)
        self.fusion_weights_ = {s: 1.0 / len(names) for s in names}
        if not isinstance(self.fusion, str) and len(names) == 2:
            self.fusion_weights_ = {names[0]: float(self.fusion), names[1]: 1.0 - float(self.fusion)}
            return
        if self.fusion != "weighted" or len(names) != 2 or not len(pos_va):
            return
        net = self.network_.eval()
        device = self._device()
        with torch.no_grad():
            xin = self._standardise(self._inputs(pos_va, self.root_), device)
            probs = [torch.softmax(net.streams[s](xin[s]), 1).cpu().numpy() for s in names]
        y_va = np.asarray(y_va)
        best = None
        for w in np.round(np.linspace(0.0, 1.0, 11), 2):
            p = fuse_probabilities(probs, [w, 1 - w], self.fusion_rule)
            loss = -float(np.mean(np.log(p[np.arange(len(y_va)), y_va] + 1e-9)))
            if best is None or loss < best[0] - 1e-12:
                best = (loss, w)
        self.fusion_weights_ = {names[0]: float(best[1]), names[1]: float(1 - best[1])}
