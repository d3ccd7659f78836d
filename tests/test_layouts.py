"""Joint layouts: registry, partitions, validation, serialisation, and joint order against real data."""

from __future__ import annotations

import numpy as np
import pytest

from skelbehave.errors import LayoutError
from skelbehave.layouts import JointLayout, get_layout, list_layouts, register_layout
from skelbehave.poses import PoseSequence

BUILTIN = {"msr20": 20, "kinect_v1": 20, "ntu25": 25, "mediapipe33": 33, "coco17": 17}
HUMAN6 = ["head", "torso", "arm_left", "arm_right", "leg_left", "leg_right"]


@pytest.mark.parametrize(("name", "n"), sorted(BUILTIN.items()))
def test_builtin_layouts_are_consistent(name, n):
    lay = get_layout(name)
    assert lay.n_joints == n and get_layout(lay) is lay
    assert lay.group_names(6) == HUMAN6 and lay.max_groups == 6
    for k in range(1, lay.max_groups + 1):
        parts = lay.partition(k)
        flat = [j for p in parts for j in p]
        assert len(parts) == k and sorted(flat) == sorted(lay.joints)  # every joint exactly once
        for p in parts:  # layout order inside each group
            assert p == sorted(p, key=lay.joints.index)
    assert len(lay.root_indices) >= 1
    # no repeated bones; every joint is in a bone; the body below the head is one connected piece
    # (COCO / MediaPipe draw the face apart from the body)
    assert len(set(map(frozenset, lay.bones))) == len(lay.bones)
    assert {j for bone in lay.bones for j in bone} == set(lay.joints)
    body = set(lay.joints) - set(lay.groups["head"]) if name in ("coco17", "mediapipe33") else set(lay.joints)
    start = lay.root[0]
    seen, todo = set(), [start]
    while todo:
        j = todo.pop()
        if j not in seen:
            seen.add(j)
            todo += [b if a == j else a for a, b in lay.bones if j in (a, b)]
    assert body <= seen
    assert lay.bone_indices.shape == (len(lay.bones), 2)
    left, right = lay.facing
    assert all("left" in j for j in left) and all("right" in j for j in right)


def test_msr20_matches_the_data_readme():
    lay = get_layout("msr20")
    # README (1-based): 1/2 shoulders, 3 shoulder centre, 4 spine, 5/6 hips, 7 hip centre, ... 20 head
    assert lay.joints[2] == "shoulder_center" and lay.joints[3] == "spine"
    assert lay.joints[6] == "hip_center" and lay.joints[19] == "head"
    readme = (
        "20-3, 1-3, 2-3, 1-8, 8-10, 10-12, 2-9, 9-11, 11-13, 3-4, 4-7, 7-5, 7-6, 5-14, 14-16, 16-18, "
        "6-15, 15-17, 17-19"
    )
    expected = {frozenset(int(v) - 1 for v in b.split("-")) for b in readme.split(", ")}
    assert {frozenset(map(int, b)) for b in lay.bone_indices} == expected
    # one arm chain is 1, 8, 10, 12 and the other 2, 9, 11, 13
    for chain in ([1, 8, 10, 12], [2, 9, 11, 13]):
        names = [lay.joints[i - 1] for i in chain]
        side = names[0].split("_")[1]
        assert all(n.endswith(side) for n in names)


def _median_bone_length(position: np.ndarray, bones: np.ndarray) -> float:
    length = np.linalg.norm(position[:, bones[:, 0]] - position[:, bones[:, 1]], axis=-1)
    return float(np.median(np.nanmean(length, axis=0)))


def test_joint_order_fits_real_data(shared_data):
    """With the right joint order, bones join neighbouring joints: shorter than for any shuffled order."""
    from skelbehave import datasets as D

    msr = D.read_msr_skeleton(shared_data / "msr_action3d" / "a01_s01_e01_skeleton3D.txt")
    utd = D.read_utd_skeleton(shared_data / "utd_mhad" / "a1_s1_t1_skeleton.mat")
    pre = D.load_precog(shared_data).sequences[0]
    ntu = D.load_ntu_skeleton(shared_data / "ntu_rgbd_samples" / "S001C001P001R001A001.skeleton").sequences[0]
    rng = np.random.default_rng(0)
    for seq in (msr, utd, pre, ntu):
        lay = seq.layout
        b = lay.bone_indices
        true = _median_bone_length(seq.position, b)
        shuffled = [_median_bone_length(seq.position[:, rng.permutation(lay.n_joints)], b) for _ in range(50)]
        assert true < 0.3 and true < 0.85 * min(shuffled), (lay.name, true, min(shuffled))
        # head above the root in camera space (y up for Kinect)
        head = seq.layout.index("head")
        root = np.nanmean(seq.position[:, lay.root_indices, 1], axis=1)
        assert np.mean(seq.position[:, head, 1] > root) > 0.9


def test_get_layout_errors_and_registry():
    with pytest.raises(LayoutError, match="unknown layout 'nope'; known layouts"):
        get_layout("nope")
    assert set(BUILTIN) <= set(list_layouts())
    lay = JointLayout.from_names(["nose", "tail"], name="test_worm")
    register_layout(lay)
    assert get_layout("test_worm") is lay and "test_worm" in list_layouts()
    with pytest.raises(LayoutError, match="expected a JointLayout"):
        register_layout("test_worm")


def test_index_and_indices():
    lay = get_layout("kinect_v1")
    assert lay.index("head") == 3 and lay.index(3) == 3
    assert lay.indices(["hip_center", "head"]).tolist() == [0, 3]
    with pytest.raises(LayoutError, match="has no joint 'tail'"):
        lay.index("tail")
    with pytest.raises(LayoutError, match=r"joints 0\.\.19, got index 20"):
        lay.index(20)
    with pytest.raises(LayoutError, match="defines group counts"):
        lay.partition(7)
    with pytest.raises(LayoutError, match="defines group counts"):
        lay.group_names(0)


def test_validation_of_custom_layouts():
    with pytest.raises(LayoutError, match=r"duplicate joint names \['a'\]"):
        JointLayout(name="x", joints=("a", "a"))
    with pytest.raises(LayoutError, match="group 'g' names joint 'c'"):
        JointLayout(name="x", joints=("a", "b"), groups={"g": ("a", "c")})
    with pytest.raises(LayoutError, match=r"cover every joint exactly once; missing \['b'\]"):
        JointLayout(name="x", joints=("a", "b"), groups={"g": ("a",)})
    with pytest.raises(LayoutError, match="bone"):
        JointLayout(name="x", joints=("a", "b"), bones=(("a", "z"),))
    with pytest.raises(LayoutError, match="root joint 'z'"):
        JointLayout(name="x", joints=("a", "b"), root=("z",))
    with pytest.raises(LayoutError, match="partition 2 must merge all"):
        JointLayout(
            name="x", joints=("a", "b"), groups={"g": ("a",), "h": ("b",)}, partitions={2: (("g",), ("g",))}
        )
    with pytest.raises(LayoutError, match="at least one joint"):
        JointLayout.from_names([])


def test_from_names_and_round_trip():
    lay = JointLayout.from_names(["nose", "body", "tail"], name="rat", root=["body"])
    assert lay.partition(1) == [["nose", "body", "tail"]] and lay.root == ("body",)
    assert lay.root_indices.tolist() == [1]
    for name in BUILTIN:
        b = get_layout(name)
        again = JointLayout.from_dict(b.to_dict())
        assert again == b and hash(again) == hash(b)
    assert JointLayout.from_dict(lay.to_dict()) == lay
    assert lay != get_layout("coco17") and lay != "rat"
    with pytest.raises(LayoutError, match="missing or has a malformed field"):
        JointLayout.from_dict({"joints": ["a"]})


# --------------------------------------------------------------------------- common skeleton and conventions
COMMON = get_layout("common15")


@pytest.mark.parametrize("name", [*sorted(BUILTIN), "common15"])
def test_every_body_layout_maps_onto_the_common_skeleton(name):
    lay = get_layout(name)
    assert set(lay.common) == set(COMMON.joints) and len(COMMON.joints) == 15
    assert lay.convention is not None and lay.convention["y"] in ("up", "down")
    for cj, members in lay.common.items():  # left joints give left common joints
        side = "left" if "left" in cj else "right" if "right" in cj else None
        if side:
            assert all(side in j for j in members), (name, cj, members)
    again = JointLayout.from_dict(lay.to_dict())
    assert again == lay and again.common == lay.common and again.convention == lay.convention


def test_to_layout_on_real_kinect_data(shared_data):
    """MSR (msr20) -> kinect_v1 -> msr20 is lossless; NTU's neck is spine_shoulder; UTD keeps its joints."""
    from skelbehave import datasets as D

    msr = D.read_msr_skeleton(shared_data / "msr_action3d" / "a01_s01_e01_skeleton3D.txt")
    k = msr.to_layout("kinect_v1")
    assert k.layout.name == "kinect_v1" and k.meta["source_layout"] == "msr20"
    np.testing.assert_array_equal(k.position[:, k.layout.index("head")], msr.position[:, 19])
    np.testing.assert_array_equal(k.to_layout("msr20").position, msr.position)
    ntu = D.load_ntu_skeleton(shared_data / "ntu_rgbd_samples" / "S001C001P001R001A001.skeleton").sequences[0]
    c = ntu.to_layout("common15")
    np.testing.assert_array_equal(c.position[:, c.layout.index("neck")], ntu.position[:, 20])
    np.testing.assert_array_equal(c.position[:, 0], ntu.position[:, 0])  # hip centre = spine base
    utd = D.read_utd_skeleton(shared_data / "utd_mhad" / "a1_s1_t1_skeleton.mat").to_layout("common15")
    assert "convention" not in utd.meta and utd.convention == COMMON.convention  # Kinect space already
    # bones of the common skeleton join neighbouring joints on real data, as for the source layouts
    length = np.linalg.norm(
        utd.position[:, COMMON.bone_indices[:, 0]] - utd.position[:, COMMON.bone_indices[:, 1]], axis=-1
    )
    assert 0.05 < np.nanmedian(length) < 0.5


def test_to_layout_derived_joints_missing_and_confidence():
    lay = get_layout("mediapipe33")
    rng = np.random.default_rng(0)
    p = rng.normal(size=(5, 33, 3))
    conf = rng.uniform(size=(5, 33))
    p[2, lay.index("left_hip")] = np.nan
    s = PoseSequence(p, lay, fps=25, confidence=conf, meta={"source": "x"}).to_layout("common15")
    hc, neck = s.layout.index("hip_center"), s.layout.index("neck")
    mean_hips = (p[:, lay.index("left_hip")] + p[:, lay.index("right_hip")]) / 2
    flip = np.array([-1.0, -1.0, 1.0])  # MediaPipe (x right, y down) -> Kinect space (x left, y up)
    np.testing.assert_allclose(s.position[[0, 1, 3, 4], hc], mean_hips[[0, 1, 3, 4]] * flip)
    assert np.isnan(s.position[2, hc]).all() and not np.isnan(s.position[2, neck]).any()
    np.testing.assert_allclose(
        s.confidence[:, neck],
        np.minimum(conf[:, lay.index("left_shoulder")], conf[:, lay.index("right_shoulder")]),
    )
    assert s.meta == {"source": "x", "source_layout": "mediapipe33"} and s.fps == 25
    # 2-D COCO pixels: axes turned (x right -> left, y down -> up), unit kept
    c = PoseSequence(rng.normal(size=(3, 17, 2)), "coco17").to_layout("common15")
    assert c.n_dims == 2 and c.convention == {"x": "left", "y": "up", "unit": "px"}


def test_conventions_and_their_errors():
    from skelbehave.layouts import CANONICAL_CONVENTION, convention_transform, layout_mapping

    m, scale, unit = convention_transform({"x": "right", "y": "away", "z": "down", "unit": "mm"})
    assert scale == 0.001 and unit == "m"
    np.testing.assert_array_equal(m @ [1.0, 2.0, 3.0], [-1.0, -3.0, 2.0])  # y <- -z (down), z <- y
    assert round(np.linalg.det(m)) == -1  # that convention is left-handed: a mirror image
    m = convention_transform(get_layout("mediapipe33").convention)[0]
    assert round(np.linalg.det(m)) == 1  # a rotation: MediaPipe and Kinect space are both right-handed
    s = PoseSequence(
        np.ones((2, 20, 3)), "kinect_v1", meta={"convention": dict(CANONICAL_CONVENTION, unit="cm")}
    )
    assert s.to_convention().position.max() == pytest.approx(0.01)
    with pytest.raises(LayoutError, match="names one direction twice"):
        convention_transform({"x": "left", "y": "right", "z": "up"})
    with pytest.raises(LayoutError, match="convention needs x, y"):
        JointLayout(name="x", joints=("a",), convention={"x": "sideways", "y": "up"})
    with pytest.raises(LayoutError, match="common joint 'head' must be the mean of joints"):
        JointLayout(name="x", joints=("a",), common={"head": ("b",)})
    rat = JointLayout.from_names(["nose", "tail"], name="rat2")
    with pytest.raises(LayoutError, match=r"no counterpart for .*'rat2' declares no mapping"):
        layout_mapping(rat, "common15")
    with pytest.raises(LayoutError, match=r"no counterpart for \['spine', 'hand_left'"):
        PoseSequence(np.zeros((2, 17, 2)), "coco17").to_layout("kinect_v1")
