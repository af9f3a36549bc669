"""The ``layouts`` kind: the built-in skeletons by name and joint, and a third party's
layout, in its own installed package, listed, named by a dataset of another package,
trained on, and stored whole in the checkpoint (read back with the plugin gone)."""

from __future__ import annotations

import importlib.util
import json
import shutil
from itertools import pairwise
from pathlib import Path

import numpy as np
import pytest
import torch

import stgcn
from stgcn.errors import StgcnError
from stgcn.model.graph import STRATEGIES, Graph
from stgcn.plugins import registry as plugins
from stgcn.plugins.layouts import layouts_with_joints, resolve_layout
from stgcn.records import LAYOUTS, Layout
from stgcn.testing.helpers import make_distribution, run_stgcn

#: name -> (joints, centre, its joint names at a few indices), from the sources' orders
BUILTIN = {
    "openpose": (18, 1, {0: "nose", 1: "neck", 4: "right_wrist", 17: "left_ear"}),
    "ntu-rgb+d": (25, 20, {0: "spine_base", 3: "head", 20: "spine_shoulder", 24: "right_thumb"}),
    "ntu_edge": (24, 2, {0: "spine_base", 3: "head", 23: "right_thumb"}),
    "coco": (17, 0, {0: "nose", 5: "left_shoulder", 16: "right_ankle"}),
    "openpose-body25": (
        25,
        1,
        {8: "mid_hip", 9: "right_hip", 19: "left_big_toe", 24: "right_heel"},
    ),
    "mediapipe-pose": (33, 0, {0: "nose", 11: "left_shoulder", 32: "right_foot_index"}),
    "mediapipe-hand": (21, 0, {0: "wrist", 4: "thumb_tip", 5: "index_finger_mcp", 20: "pinky_tip"}),
    "mediapipe-holistic": (
        75,
        0,
        {
            15: "left_wrist",
            33: "left_hand_wrist",
            54: "right_hand_wrist",
            74: "right_hand_pinky_tip",
        },
    ),
    "coco-wholebody": (
        133,
        0,
        {
            16: "right_ankle",
            17: "left_big_toe",
            22: "right_heel",
            23: "face-0",
            90: "face-67",
            91: "left_hand_root",
            95: "left_thumb4",
            112: "right_hand_root",
            132: "right_pinky_finger4",
        },
    ),
}

LAYOUT_PLUGIN = """
from stgcn.hookspecs import hookimpl
from stgcn.records import Layout

STGCN_API = ">=2.1,<3"

TIPS = ("thumb_tip", "index_finger_tip", "middle_finger_tip", "ring_finger_tip", "pinky_tip")
JOINTS = tuple(f"{side}_{name}" for side in ("left", "right") for name in ("wrist", *TIPS))

SIGN_HANDS = Layout(
    name="sign-hands",
    num_node=12,
    edges=((1, 0), (2, 0), (3, 0), (4, 0), (5, 0), (7, 6), (8, 6), (9, 6), (10, 6), (11, 6),
           (0, 6)),
    center=0,
    joints=JOINTS,
    description="two hands: wrists and fingertips",
)


@hookimpl
def stgcn_register_layouts(register):
    register(SIGN_HANDS)
"""

#: a dataset of another distribution that names the layout: the class lifts one hand
DATASET_PLUGIN = """
import torch
from stgcn.hookspecs import hookimpl
from stgcn.records import Dataset

STGCN_API = ">=2,<3"


class Signs(torch.utils.data.Dataset):
    def __init__(self, split):
        generator = torch.Generator().manual_seed(0 if split == "train" else 1)
        self.clips = torch.randn(16, 3, 8, 12, 1, generator=generator) * 0.1
        self.labels = [index % 2 for index in range(16)]
        for clip, label in zip(self.clips, self.labels):
            clip[1, :, 6 * label : 6 * label + 6] += 1.0

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, index):
        return self.clips[index], self.labels[index]


@hookimpl
def stgcn_register_datasets(register):
    register(Dataset(name="signs", num_class=2, build=lambda request: Signs(request.split),
                     layout="sign-hands", num_person=1, needs_data_path=False,
                     recipe={"epochs": 2, "batch_size": 4}))
"""


def _install(site: Path) -> None:
    make_distribution(site, "stgcn-layout-sign-hands", "0.3", "fake_sign_hands", LAYOUT_PLUGIN)
    make_distribution(site, "stgcn-data-signs", "1.0", "fake_signs", DATASET_PLUGIN)


@pytest.mark.parametrize("name", sorted(BUILTIN))
def test_builtin_layouts_are_registered_with_their_joint_names(name: str) -> None:
    count, centre, some = BUILTIN[name]
    registry = plugins.get_registry()
    layout = registry.get(LAYOUTS, name)
    assert (layout.num_node, layout.center, len(layout.joints)) == (count, centre, count)
    assert {index: layout.joints[index] for index in some} == some
    assert registry.owner_of(LAYOUTS, name).distribution == "stgcn-core"
    assert resolve_layout(name) is layout


def test_the_hand_layout_is_pyskls_handmp() -> None:
    hand = plugins.get_registry().get(LAYOUTS, "mediapipe-hand")
    bones = {frozenset(edge) for edge in hand.edges}
    fingers = [range(1, 5), range(5, 9), range(9, 13), range(13, 17), range(17, 21)]
    expected = set()
    for finger in fingers:
        expected.add(frozenset((0, finger[0])))
        expected.update(frozenset((a, a + 1)) for a in finger[:-1])
    assert bones == expected and hand.center == 0


def _reached_from(layout: Layout, start: int) -> set[int]:
    """The joints a walk along the layout's bones reaches from ``start``."""
    neighbours: dict[int, set[int]] = {joint: set() for joint in range(layout.num_node)}
    for i, j in layout.edges:
        neighbours[i].add(j)
        neighbours[j].add(i)
    reached, frontier = {start}, [start]
    while frontier:
        frontier = [n for joint in frontier for n in neighbours[joint] - reached]
        reached.update(frontier)
    return reached


@pytest.mark.parametrize("name", sorted(BUILTIN))
def test_every_builtin_layout_is_one_graph_that_every_strategy_partitions(name: str) -> None:
    layout = plugins.get_registry().get(LAYOUTS, name)
    assert len(set(layout.joints)) == layout.num_node
    bones = [frozenset(edge) for edge in layout.edges]
    assert all(len(bone) == 2 for bone in bones) and len(set(bones)) == len(bones)
    assert _reached_from(layout, layout.center) == set(range(layout.num_node))
    for strategy in STRATEGIES:
        A = Graph(layout, strategy).A
        assert A.shape[1:] == (layout.num_node, layout.num_node)
        # every joint hears from some joint in every column of the partition's sum
        assert (A.sum(axis=0).sum(axis=0) > 0).all()


def _bones(layout: Layout, names: list[tuple[str, str]]) -> set[frozenset[int]]:
    index = {joint: n for n, joint in enumerate(layout.joints)}
    return {frozenset((index[a], index[b])) for a, b in names}


def test_holistic_is_the_pose_and_two_hands_joined_at_the_wrists() -> None:
    registry = plugins.get_registry()
    holistic = registry.get(LAYOUTS, "mediapipe-holistic")
    pose = registry.get(LAYOUTS, "mediapipe-pose")
    hand = registry.get(LAYOUTS, "mediapipe-hand")
    assert holistic.joints[:33] == pose.joints
    assert holistic.joints[33:54] == tuple(f"left_hand_{name}" for name in hand.joints)
    assert holistic.joints[54:] == tuple(f"right_hand_{name}" for name in hand.joints)
    expected = {frozenset(edge) for edge in pose.edges}
    for start in (33, 54):
        expected |= {frozenset((start + i, start + j)) for i, j in hand.edges}
    expected |= _bones(holistic, [("left_wrist", "left_hand_wrist")])
    expected |= _bones(holistic, [("right_wrist", "right_hand_wrist")])
    assert {frozenset(edge) for edge in holistic.edges} == expected
    assert holistic.center == pose.center == 0


#: MMPose's coco_wholebody skeleton_info links, by joint name (its 65, in its order)
MMPOSE_LINKS = [
    ("left_ankle", "left_knee"), ("left_knee", "left_hip"), ("right_ankle", "right_knee"),
    ("right_knee", "right_hip"), ("left_hip", "right_hip"), ("left_shoulder", "left_hip"),
    ("right_shoulder", "right_hip"), ("left_shoulder", "right_shoulder"),
    ("left_shoulder", "left_elbow"), ("right_shoulder", "right_elbow"),
    ("left_elbow", "left_wrist"), ("right_elbow", "right_wrist"), ("left_eye", "right_eye"),
    ("nose", "left_eye"), ("nose", "right_eye"), ("left_eye", "left_ear"),
    ("right_eye", "right_ear"), ("left_ear", "left_shoulder"), ("right_ear", "right_shoulder"),
    ("left_ankle", "left_big_toe"), ("left_ankle", "left_small_toe"), ("left_ankle", "left_heel"),
    ("right_ankle", "right_big_toe"), ("right_ankle", "right_small_toe"),
    ("right_ankle", "right_heel"),
] + [
    pair
    for side in ("left", "right")
    for finger in ("thumb", "forefinger", "middle_finger", "ring_finger", "pinky_finger")
    for pair in [
        (f"{side}_wrist", f"{side}_{finger}1"),
        (f"{side}_{finger}1", f"{side}_{finger}2"),
        (f"{side}_{finger}2", f"{side}_{finger}3"),
        (f"{side}_{finger}3", f"{side}_{finger}4"),
    ]
]  # fmt: skip


def test_coco_wholebody_keeps_mmposes_links_and_joins_the_face_and_hand_roots() -> None:
    wholebody = plugins.get_registry().get(LAYOUTS, "coco-wholebody")
    assert len(MMPOSE_LINKS) == 65
    coco = plugins.get_registry().get(LAYOUTS, "coco")
    assert wholebody.joints[:17] == coco.joints and wholebody.center == coco.center
    bones = {frozenset(edge) for edge in wholebody.edges}
    mmpose = _bones(wholebody, MMPOSE_LINKS)
    assert mmpose <= bones
    added = bones - mmpose
    # the hand roots join their wrists; the face's nose tip the body's nose
    assert (
        _bones(
            wholebody,
            [
                ("left_hand_root", "left_wrist"),
                ("right_hand_root", "right_wrist"),
                ("face-30", "nose"),
            ],
        )
        <= added
    )
    # everything else added is inside the face (23-90): a chain of its own landmarks
    face = set(range(23, 91))
    rest = added - _bones(
        wholebody,
        [("left_hand_root", "left_wrist"), ("right_hand_root", "right_wrist"), ("face-30", "nose")],
    )
    assert all(bone <= face for bone in rest)
    # the jaw line is a chain, the eyes and lips rings
    assert _bones(wholebody, [(f"face-{n}", f"face-{n + 1}") for n in range(16)]) <= rest
    for ring in (range(36, 42), range(42, 48), range(48, 60), range(60, 68)):
        pairs = [(f"face-{a}", f"face-{b}") for a, b in pairwise([*ring, ring[0]])]
        assert _bones(wholebody, pairs) <= rest


def test_plugins_json_lists_every_layout_with_its_joints() -> None:
    done = run_stgcn("plugins", "--json")
    assert done.returncode == 0, done.stderr
    core = {row["name"]: row for row in json.loads(done.stdout)}["stgcn-core"]
    rows = {row["name"]: row for row in core["layouts"]}
    assert set(rows) == set(BUILTIN)
    assert rows["coco"]["num_node"] == 17 and rows["coco"]["joints"][5] == "left_shoulder"
    assert all(len(row["joints"]) == row["num_node"] for row in rows.values())
    text = run_stgcn("plugins").stdout.splitlines()
    assert "  layout   mediapipe-hand 21 joints" in text
    assert "  layout   coco         17 joints" in text
    assert (
        rows["coco-wholebody"]["num_node"] == 133 and len(rows["coco-wholebody"]["joints"]) == 133
    )
    assert rows["mediapipe-holistic"]["joints"][33] == "left_hand_wrist"


def test_a_layout_record_refuses_a_wrong_joint_list() -> None:
    with pytest.raises(ValueError, match="2 joint names for 3 joints"):
        Layout("bad", 3, ((0, 1), (1, 2)), 1, ("a", "b"))
    with pytest.raises(ValueError, match="joint names repeated: a"):
        Layout("bad", 3, ((0, 1), (1, 2)), 1, ("a", "b", "a"))


def test_an_unknown_layout_name_is_one_line_naming_the_known_ones() -> None:
    with pytest.raises(StgcnError, match="unknown layout 'hand'; known layouts: coco, "):
        resolve_layout("hand")


def test_a_third_party_layout_is_listed_and_named_by_a_dataset_and_trained_on(
    site, tmp_path
) -> None:
    _install(site)
    listed = run_stgcn("plugins", "--json", site=site)
    assert listed.returncode == 0, listed.stderr
    rows = {row["name"]: row for row in json.loads(listed.stdout)}
    (layout,) = rows["stgcn-layout-sign-hands"]["layouts"]
    assert layout["name"] == "sign-hands" and layout["num_node"] == 12
    assert layout["joints"][:2] == ["left_wrist", "left_thumb_tip"]
    assert rows["stgcn-data-signs"]["datasets"][0]["layout"] == "sign-hands"
    assert [found.name for found in layouts_with_joints(12)] == ["sign-hands"]

    work = tmp_path / "run"
    trained = run_stgcn("run", "--dataset", "signs", "--work-dir", str(work), site=site)
    assert trained.returncode == 0, trained.stderr
    best = work / "checkpoints" / "best.pth.tar"
    stored = torch.load(best, weights_only=True)
    # the whole layout, in the facts and in the model's configuration
    facts = stored["data_facts"]["layout"]
    assert facts["name"] == "sign-hands" and facts["num_node"] == 12
    assert facts["joints"][6] == "right_wrist"
    assert stored["model_config"]["layout"]["joints"] == facts["joints"]
    assert stored["model"]["A"].shape == (3, 12, 12)
    evaluated = run_stgcn("eval", "--checkpoint", str(best), site=site)
    assert evaluated.returncode == 0, evaluated.stderr
    if importlib.util.find_spec("onnxruntime") is not None:  # stgcn-export's own session
        exported = run_stgcn(
            "export", "onnx", "--checkpoint", str(best), "--output", str(tmp_path / "s.onnx"),
            site=site,
        )  # fmt: skip
        assert exported.returncode == 0, exported.stderr
        import onnx

        dims = onnx.load(tmp_path / "s.onnx").graph.input[0].type.tensor_type.shape.dim
        assert [dim.dim_value for dim in dims][1::2] == [3, 12]  # channels, joints

    # a bare state_dict of it: its adjacency is matched against every registered layout,
    # and --layout names the plugin's layout
    bare = tmp_path / "bare.pt"
    torch.save(stored["model"], bare)
    matched = run_stgcn("info", str(bare), "--json", site=site)
    assert matched.returncode == 0, matched.stderr
    assert json.loads(matched.stdout)["layout"] == "sign-hands"
    clip = tmp_path / "clip.npy"
    np.save(clip, np.zeros((3, 8, 12, 1), dtype=np.float32))
    predicted = run_stgcn(
        "predict", "--checkpoint", str(bare), "--layout", "sign-hands", "--input", str(clip),
        "--json", site=site,
    )  # fmt: skip
    assert predicted.returncode == 0, predicted.stderr
    wrong = run_stgcn(
        "predict", "--checkpoint", str(bare), "--layout", "coco", "--input", str(clip), site=site
    )
    assert wrong.returncode != 0 and "has 17 joints; the state_dict has 12" in wrong.stderr

    # read back with the layout's plugin gone: the checkpoint needs nothing of it
    (site / "fake_sign_hands.py").unlink()
    shutil.rmtree(site / "stgcn_layout_sign_hands-0.3.dist-info")
    plugins.reset()
    model = stgcn.load_model(best)
    assert model.graph.layout.name == "sign-hands" and model.graph.layout.joints[0] == "left_wrist"
    info = run_stgcn("info", str(best), "--json", site=site)
    assert info.returncode == 0, info.stderr
    assert json.loads(info.stdout)["layout"] == "sign-hands"


def test_a_dataset_naming_an_unregistered_layout_is_refused_in_one_line(site, tmp_path) -> None:
    make_distribution(site, "stgcn-data-signs", "1.0", "fake_signs", DATASET_PLUGIN)
    done = run_stgcn("run", "--dataset", "signs", "--work-dir", str(tmp_path / "r"), site=site)
    assert done.returncode != 0 and "Traceback" not in done.stderr
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("stgcn: error: ") and "sign-hands" in last
