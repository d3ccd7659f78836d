"""Degenerate inputs through the public API (fit / predict / read / write), for ``benchmarks/robustness.py``.

Every case names a target and an input; :func:`judge_api` runs it inside the attack worker
(``benchmarks/_attacks.py``) and says whether it ended in a clear package error, in a right
answer (a "no_pose" mark for a sequence without a valid frame, the same label for a rescaled
sequence), or in a foreign exception / silent wrong answer.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
from _attacks import CLEAR, FOREIGN, OK, WRONG, model_inputs

NO_POSE = "no_pose"

#: inputs for predict: name -> what a right answer is ("refuse": must raise; "no_pose": error or the
#: no-pose mark; "same": error or the label of the untouched sequence; "any": any valid answer)
PREDICT_INPUTS = {
    "all_nan": "no_pose",
    "all_zero": "no_pose",
    "zero_frames": "no_pose",
    "one_frame": "any",
    "scaled_1e300": "same",
    "scaled_1e30": "same",
    "scaled_1e-30": "any",
    "inf_frame": "any",
    "nan_joint": "any",
    "wrong_joints": "refuse",
    "two_d": "refuse",
    "four_d": "refuse",
    "str": "refuse",
    "none": "refuse",
    "dict": "refuse",
    "int": "refuse",
    "empty_list": "any",
    "flat_1d": "refuse",
    "bool_array": "any",
    "complex_array": "refuse",
    "string_array": "refuse",
}
PREDICT_TARGETS = ("clip", "frame", "cnn")
FIT_CASES = (
    "clip_nan_labels",
    "clip_empty",
    "clip_len_mismatch",
    "clip_one_class",
    "clip_none_labels",
    "clip_all_nan_seqs",
    "clip_huge_seqs",
    "clip_string_X",
    "frame_empty",
    "frame_nan_labels",
    "frame_len_mismatch",
    "frame_short_labels",
    "frame_one_class",
    "frame_all_nan",
    "frame_window_0",
    "frame_window_neg",
    "frame_context_neg",
    "clip_n_clusters_0",
    "clip_unknown_classifier",
    "frame_unknown_classifier",
    "cnn_empty",
    "cnn_nan_labels",
)
IO_CASES = (
    "read_none",
    "read_dir",
    "read_missing",
    "read_int",
    "read_bad_format",
    "write_dir",
    "write_none",
    "write_all_nan",
    "write_huge",
    "write_inf",
    "write_missing_dir",
    "seq_bad_layout",
    "seq_fps_0",
    "seq_fps_neg",
    "seq_fps_nan",
    "seq_wrong_joints",
    "seq_str_position",
    "write_zero_frames",
    "read_fifo",
    "load_dir",
    "load_missing",
    "load_text",
)


def api_cases() -> list[dict]:
    cases = [
        {"kind": "api", "area": "degenerate API", "id": f"predict/{t}/{i}", "target": t, "input": i}
        for t in PREDICT_TARGETS
        for i in PREDICT_INPUTS
    ]
    cases += [
        {"kind": "api", "area": "degenerate API", "id": f"fit/{c}", "target": "fit", "input": c}
        for c in FIT_CASES
    ]
    cases += [
        {"kind": "api", "area": "degenerate API", "id": f"io/{c}", "target": "io", "input": c}
        for c in IO_CASES
    ]
    return cases


def _base(target: str, state: dict):
    """A real sequence of the target model's layout."""
    data = state.setdefault("data", model_inputs())
    if target == "frame":
        return data["precog"]["Seq4_1.csv"][0]
    return data["msr"][0][0]


def _seq_input(name: str, base):
    from skelbehave import PoseSequence

    p = np.asarray(base.position, float)
    lay = base.layout
    mk = {
        "all_nan": lambda: np.full_like(p, np.nan),
        "all_zero": lambda: np.zeros_like(p),
        "zero_frames": lambda: p[:0],
        "one_frame": lambda: p[:1],
        "scaled_1e300": lambda: p * 1e300,
        "scaled_1e30": lambda: p * 1e30,
        "scaled_1e-30": lambda: p * 1e-30,
        "inf_frame": lambda: np.concatenate([p[:5], np.full_like(p[:1], np.inf), p[5:]]),
        "nan_joint": lambda: np.where(np.arange(p.shape[1])[None, :, None] == 3, np.nan, p),
        "wrong_joints": lambda: p[:, :5],
        "two_d": lambda: p[..., :2],
        "four_d": lambda: p[None],
        "flat_1d": lambda: p.ravel(),
        "bool_array": lambda: p > 0,
        "complex_array": lambda: p.astype(complex),
        "string_array": lambda: p.astype(str),
    }
    const = {"str": "walk", "none": None, "dict": {"a": 1}, "int": 5, "empty_list": []}
    if name in const:
        return const[name], False
    arr = mk[name]()
    if name in (
        "zero_frames",
        "one_frame",
        "scaled_1e300",
        "scaled_1e30",
        "scaled_1e-30",
        "inf_frame",
        "nan_joint",
        "all_nan",
        "all_zero",
    ):
        try:
            return [PoseSequence(arr, lay, fps=base.fps)], True
        except Exception:
            return [arr], True
    return [arr], True


def _model(target: str, state: dict):
    import skelbehave

    key = f"model_{target}"
    if key not in state:
        state[key] = skelbehave.load(state["models"][target])
    return state[key]


def _labels(pred) -> list:
    if isinstance(pred, list):
        return [x for p in pred for x in np.asarray(p).ravel().tolist()]
    return np.asarray(pred).ravel().tolist()


def _predict(case: dict, state: dict):
    m = _model(case["target"], state)
    base = _base(case["target"], state)
    X, _ = _seq_input(case["input"], base)
    pred = _labels(m.predict(X))
    want = PREDICT_INPUTS[case["input"]]
    classes = set(np.asarray(m.classes_).tolist())
    if want == "refuse":
        return WRONG, f"accepted, predicted {pred[:3]}"
    if want == "no_pose" and any(p in classes for p in pred):
        return WRONG, f"no valid frame but predicted {sorted(set(pred) & classes)[:3]}"
    if want == "same":
        ref = _labels(m.predict([base]))
        if pred != ref:
            return WRONG, f"rescaled sequence changes the label ({ref[:1]} -> {pred[:1]})"
    if not set(pred) <= classes | {NO_POSE}:
        return WRONG, f"labels outside classes_: {sorted(set(pred) - classes)[:3]}"
    return OK, ""


def _fit(case: dict, state: dict):
    from skelbehave.encoding import VLADEncoder
    from skelbehave.pipeline import BehaviorModel, FrameLevelModel

    data = state.setdefault("data", model_inputs())
    X, y = data["msr"]
    X, y = X[:16], np.asarray(y[:16])
    recs = [data["precog"][n] for n in ("Seq1_1.csv", "Seq2_1.csv")]
    R, L = [r for r, _ in recs], [np.asarray(lab) for _, lab in recs]

    def clip(**kw):
        return BehaviorModel(encoder=VLADEncoder(n_clusters=2, pyramid_levels=1), random_state=0, **kw)

    def frame(**kw):
        return FrameLevelModel(
            window=kw.pop("window", 15),
            classifier_params={"n_estimators": 3},
            random_state=0,
            context_folds=kw.pop("context_folds", 0),
            **kw,
        )

    c = case["input"]
    yf = y.astype(float)
    yf[2] = np.nan
    Lf = [lab.astype(float) for lab in L]
    Lf[0][10] = np.nan
    runs = {
        "clip_nan_labels": lambda: clip().fit(X, yf),
        "clip_empty": lambda: clip().fit([], []),
        "clip_len_mismatch": lambda: clip().fit(X, y[:-1]),
        "clip_one_class": lambda: clip().fit(X, np.zeros(len(X), int)),
        "clip_none_labels": lambda: clip().fit(X, None),
        "clip_all_nan_seqs": lambda: clip().fit(
            [np.full_like(np.asarray(s.position, float), np.nan) for s in X], y
        ),
        "clip_huge_seqs": lambda: clip(layout="msr20").fit([np.asarray(s.position) * 1e300 for s in X], y),
        "clip_string_X": lambda: clip().fit(["a"] * len(X), y),
        "frame_empty": lambda: frame().fit([], []),
        "frame_nan_labels": lambda: frame().fit(R, Lf),
        "frame_len_mismatch": lambda: frame().fit(R, L[:1]),
        "frame_short_labels": lambda: frame().fit(R, [lab[:-5] for lab in L]),
        "frame_one_class": lambda: frame().fit(R, [np.zeros_like(lab) for lab in L]),
        "frame_all_nan": lambda: frame().fit(
            [np.full_like(np.asarray(r.position, float), np.nan) for r in R], L
        ),
        "frame_window_0": lambda: frame(window=0).fit(R, L),
        "frame_window_neg": lambda: frame(window=-5).fit(R, L),
        "frame_context_neg": lambda: frame(context_folds=-1).fit(R, L),
        "clip_n_clusters_0": lambda: BehaviorModel(encoder=VLADEncoder(n_clusters=0), random_state=0).fit(
            X, y
        ),
        "clip_unknown_classifier": lambda: clip(classifier="nope").fit(X, y),
        "frame_unknown_classifier": lambda: FrameLevelModel(classifier="nope").fit(R, L),
        "cnn_empty": lambda: _cnn().fit([], []),
        "cnn_nan_labels": lambda: _cnn().fit(X, yf),
    }
    m = runs[c]()
    # accepted: only these are right to accept
    if c in ("clip_one_class", "frame_one_class"):
        return OK, "one class accepted"
    return WRONG, f"accepted ({type(m).__name__} fitted)"


def _cnn():
    from skelbehave.models.cnn import CNNClassifier

    return CNNClassifier(
        layout="msr20", channels=(8,), n_frames=16, max_epochs=1, finetune_epochs=0, random_state=0
    )


def _io(case: dict, state: dict):
    import os

    import skelbehave
    from skelbehave import PoseSequence
    from skelbehave.io import read_poses, write_poses

    tmp = Path(tempfile.mkdtemp())
    base = _base("clip", state)
    p = np.asarray(base.position, float)
    c = case["input"]
    fifo = tmp / "f.csv"
    if c == "read_fifo":
        os.mkfifo(fifo)
    (tmp / "t.skb").write_text("not a model")

    def roundtrip(arr):
        f = write_poses(tmp / "x.csv", PoseSequence(arr, "msr20", fps=15))
        (back,) = read_poses(f)
        a, b = np.asarray(back.position, float), arr
        return OK if a.shape == b.shape and np.all((a == b) | (np.isnan(a) & np.isnan(b))) else WRONG

    runs = {
        "read_none": lambda: read_poses(None),
        "read_dir": lambda: read_poses(tmp),
        "read_missing": lambda: read_poses(tmp / "nope.csv"),
        "read_int": lambda: read_poses(123),
        "read_bad_format": lambda: read_poses(base.meta.get("source", tmp), format="bogus"),
        "write_dir": lambda: write_poses(tmp, base),
        "write_none": lambda: write_poses(tmp / "n.csv", None),
        "write_all_nan": lambda: roundtrip(np.full_like(p, np.nan)),
        "write_huge": lambda: roundtrip(p * 1e300),
        "write_inf": lambda: roundtrip(np.where(p > 0, np.inf, p)),
        "write_missing_dir": lambda: write_poses(tmp / "no" / "such" / "x.csv", base),
        "seq_bad_layout": lambda: PoseSequence(p, "nope"),
        "seq_fps_0": lambda: PoseSequence(p, "msr20", fps=0),
        "seq_fps_neg": lambda: PoseSequence(p, "msr20", fps=-1),
        "seq_fps_nan": lambda: PoseSequence(p, "msr20", fps=float("nan")),
        "seq_wrong_joints": lambda: PoseSequence(p[:, :5], "msr20"),
        "seq_str_position": lambda: PoseSequence("abc", "msr20"),
        "write_zero_frames": lambda: roundtrip(p[:0]),
        "read_fifo": lambda: read_poses(fifo),
        "load_dir": lambda: skelbehave.load(tmp),
        "load_missing": lambda: skelbehave.load(tmp / "none.skb"),
        "load_text": lambda: skelbehave.load(tmp / "t.skb"),
    }
    res = runs[c]()
    if c.startswith("write_") and c not in ("write_dir", "write_none", "write_missing_dir"):
        if c in ("write_inf", "write_huge") and res == OK and c == "write_inf":
            return WRONG, "infinite coordinates written and read back"
        return res, "round trip" if res == OK else "round trip differs"
    if c == "write_missing_dir":
        return OK, "parent folders made"
    return WRONG, f"accepted ({type(res).__name__})"


def judge_api(case: dict, state: dict) -> dict:
    from skelbehave.errors import SkelbehaveError

    state.setdefault("models", case.get("models", {}))
    fn = {"fit": _fit, "io": _io}.get(case["target"], _predict)
    if fn is _predict and case["target"] not in state["models"]:
        return {"outcome": OK, "detail": "model kind not available"}
    try:
        outcome, detail = fn(case, state)
    except SkelbehaveError as exc:
        return {"outcome": CLEAR, "detail": f"{type(exc).__name__}: {str(exc)[:160]}"}
    except BaseException as exc:
        return {"outcome": FOREIGN, "detail": f"{type(exc).__name__}: {str(exc)[:160]}"}
    return {"outcome": outcome, "detail": detail}
