"""Joint, bone and motion streams (``--data-option modality=``), for every layout."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from stgcn.data.streams import MODALITIES, Stream, apply_modality, build_split, parents
from stgcn.data.synthetic_plugin import SYNTHETIC
from stgcn.errors import StgcnError
from stgcn.model.graph import hop_distance
from stgcn.model.layouts import LAYOUTS, Layout
from stgcn.records import BuildRequest
from stgcn.testing.helpers import TINY, run_stgcn

#: PYSKL's bone pairs for NTU RGB+D (pyskl/datasets/pipelines/pose_related.py), as
#: (joint, parent), 0-based: the rule "the neighbour toward the center" gives the same.
PYSKL_NTU_BONES = [
    (0, 1),
    (1, 20),
    (2, 20),
    (3, 2),
    (4, 20),
    (5, 4),
    (6, 5),
    (7, 6),
    (8, 20),
    (9, 8),
    (10, 9),
    (11, 10),
    (12, 0),
    (13, 12),
    (14, 13),
    (15, 14),
    (16, 0),
    (17, 16),
    (18, 17),
    (19, 18),
    (21, 22),
    (20, 20),
    (22, 7),
    (23, 24),
    (24, 11),
]


@pytest.mark.parametrize("name", sorted(LAYOUTS))
def test_every_joint_but_the_center_has_a_parent_one_hop_nearer(name: str) -> None:
    layout = LAYOUTS[name]
    parent = parents(layout)
    hops = hop_distance(layout.num_node, layout.edges, layout.num_node)
    linked = {frozenset(edge) for edge in layout.edges}
    for joint, up in enumerate(parent):
        if joint == layout.center:
            assert up == joint
            continue
        assert up != joint, f"{name}: joint {joint} has no parent"
        assert frozenset((joint, up)) in linked, f"{name}: {joint} -> {up} is not an edge"
        assert hops[up, layout.center] == hops[joint, layout.center] - 1


def test_ntu_parents_are_pyskls_bone_pairs() -> None:
    assert parents(LAYOUTS["ntu-rgb+d"]) == [up for _, up in sorted(PYSKL_NTU_BONES)]


#: 0 - 1 - 2 and 1 - 3, centered on 1; joint 4 linked to nothing
TINY_LAYOUT = Layout.custom(5, [(0, 1), (1, 2), (1, 3)], center=1, name="tiny")


def clip(score: bool) -> np.ndarray:
    """(C, T=2, V=5, M=1) with easy numbers: x = 10 v + t, y = -x, third = v / 10 + t."""
    t, v = np.meshgrid(np.arange(2), np.arange(5), indexing="ij")
    x = 10.0 * v + t
    third = v / 10 + t
    return np.stack([x, -x, third])[..., None].astype(np.float64) if score else None


def test_bones_by_hand_on_a_tiny_layout() -> None:
    data = clip(score=True)
    assert parents(TINY_LAYOUT) == [1, 1, 1, 1, 4]
    bone = apply_modality(data, "bone", parents(TINY_LAYOUT), score=True)
    # x: joint minus parent (10 v - 10), center and the unlinked joint zero
    np.testing.assert_allclose(bone[0, 0, :, 0], [-10, 0, 10, 20, 0])
    np.testing.assert_allclose(bone[1, 0, :, 0], [10, 0, -10, -20, 0])
    # the score of a bone is the mean of its two joints' scores
    np.testing.assert_allclose(bone[2, 1, :, 0], [1.05, 1.1, 1.15, 1.2, 1.4])
    three_d = apply_modality(data, "bone", parents(TINY_LAYOUT), score=False)
    np.testing.assert_allclose(three_d[2, 0, :, 0], [-0.1, 0, 0.1, 0.2, 0])


def test_motion_by_hand() -> None:
    data = clip(score=True)
    moved = apply_modality(data, "joint_motion", parents(TINY_LAYOUT), score=True)
    np.testing.assert_allclose(moved[0, 0, :, 0], [1, 1, 1, 1, 1])  # frame 1 minus frame 0
    np.testing.assert_allclose(moved[:, 1], 0)  # the last frame is zero
    np.testing.assert_allclose(moved[2, 0, :, 0], data[2, :, :, 0].mean(axis=0))
    bone_motion = apply_modality(data, "bone_motion", parents(TINY_LAYOUT), score=True)
    bone = apply_modality(data, "bone", parents(TINY_LAYOUT), score=True)
    expected = apply_modality(bone, "joint_motion", parents(TINY_LAYOUT), score=True)
    np.testing.assert_allclose(bone_motion, expected)


@pytest.mark.parametrize("name", sorted(LAYOUTS))
@pytest.mark.parametrize("modality", MODALITIES)
def test_a_batch_on_the_device_equals_its_clips_in_the_loader(name: str, modality: str) -> None:
    layout = LAYOUTS[name]
    batch = torch.randn(3, 3, 6, layout.num_node, 2, generator=torch.Generator().manual_seed(0))
    parent = parents(layout)
    whole = apply_modality(batch, modality, parent, score=True)
    for i in range(3):
        one = apply_modality(batch[i].numpy(), modality, parent, score=True)
        np.testing.assert_allclose(whole[i].numpy(), one, rtol=1e-6, atol=1e-6)
    assert whole.shape == batch.shape and whole.dtype == batch.dtype


def test_build_split_takes_the_option_from_the_dataset(tmp_path: Path) -> None:
    options = {"val_size": "4", "frames": "6", "modality": "bone"}
    split, stream = build_split(SYNTHETIC, "val", None, options)
    assert stream == Stream.of(SYNTHETIC, "bone") and len(split) == 4
    raw = SYNTHETIC.build(
        BuildRequest("val", None, {"val_size": "4", "frames": "6"}, training=False)
    )
    x, label = split[2]
    assert label == raw[2][1]
    np.testing.assert_allclose(x.numpy(), stream(raw[2][0]).numpy())
    assert split.sample_names == raw.sample_names
    unconverted, _ = build_split(SYNTHETIC, "val", None, options, on_device=True)
    np.testing.assert_allclose(unconverted[2][0].numpy(), raw[2][0].numpy())
    with pytest.raises(StgcnError, match="modality must be one of joint, bone, joint_motion"):
        build_split(SYNTHETIC, "val", None, {"modality": "limb"})


def test_joint_and_bone_streams_train_and_evaluate(tmp_path: Path) -> None:
    for modality in ("joint", "bone"):
        work = tmp_path / modality
        done = run_stgcn(
            "run",
            "--epochs",
            "1",
            "--work-dir",
            str(work),
            "--data-option",
            f"modality={modality}",
            *TINY,
        )
        assert done.returncode == 0, done.stderr
        [metrics] = [json.loads(line) for line in (work / "metrics.jsonl").open()]
        config = json.loads((work / "config.json").read_text())
        assert config["data_options"]["modality"] == modality
        evaluated = run_stgcn(
            "eval", "--checkpoint", str(work / "checkpoints" / "latest.pth.tar"), "--json"
        )
        assert evaluated.returncode == 0, evaluated.stderr
        # the checkpoint's data options bring the stream back: the same accuracy
        assert json.loads(evaluated.stdout)["top1"] == pytest.approx(metrics["val_top1"])


def test_an_unknown_modality_is_one_line_before_anything_is_written(tmp_path: Path) -> None:
    done = run_stgcn("run", "--work-dir", str(tmp_path / "run"), "--data-option", "modality=x")
    assert done.returncode == 1
    assert done.stderr.strip() == (
        "stgcn: error: data option modality must be one of joint, bone, joint_motion, "
        "bone_motion, not 'x'"
    )
    assert not (tmp_path / "run").exists()


def test_streams_train_one_model_each_and_fuse_them(tmp_path: Path) -> None:
    work = tmp_path / "run"
    done = run_stgcn(
        "run", "--streams", "joint,bone", "--epochs", "1", "--work-dir", str(work), *TINY
    )
    assert done.returncode == 0, done.stderr
    for stream in ("joint", "bone"):
        config = json.loads((work / stream / "config.json").read_text())
        assert config["data_options"]["modality"] == stream
        assert (work / stream / "checkpoints" / "best.pth.tar").is_file()
    summary = json.loads((work / "fused.json").read_text())
    again = run_stgcn(
        "fuse", str(work / "joint" / "scores.npz"), str(work / "bone" / "scores.npz"), "--json"
    )
    assert again.returncode == 0, again.stderr
    assert {**json.loads(again.stdout), "streams": ["joint", "bone"]} == summary["fused"]
    assert done.stdout.strip().splitlines()[-1].startswith("fused (1,1): top1 ")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--streams", "joint,limb"], "--streams takes modalities from joint, bone, "),
        (["--streams", "bone,bone"], "--streams names a stream twice"),
        (["--streams", "joint,bone", "--data-option", "modality=bone"], "drop --data-option"),
    ],
)
def test_stream_mistakes_are_one_line(tmp_path: Path, args: list[str], message: str) -> None:
    done = run_stgcn("run", *args, "--work-dir", str(tmp_path / "run"))
    assert done.returncode == 1
    [line] = done.stderr.strip().splitlines()
    assert message in line, line
    assert not (tmp_path / "run").exists()


def three_d() -> object:
    """The synthetic record as if its third channel were z (a 3D dataset)."""
    import dataclasses

    return dataclasses.replace(SYNTHETIC, name="synthetic-3d", score_channel=False)


def test_random_rotation_turns_each_clip_rigidly(tmp_path: Path) -> None:
    options = {"train_size": "6", "frames": "6", "random_rot": "0.3"}
    torch.manual_seed(0)
    split, _ = build_split(three_d(), "train", None, options)
    raw = SYNTHETIC.build(
        BuildRequest("train", None, {"train_size": "6", "frames": "6"}, training=False)
    )
    for i in range(3):
        turned, plain = split[i][0].double(), raw[i][0].double()
        # lengths from the origin and between joints are kept, the coordinates are not
        torch.testing.assert_close(turned.norm(dim=0), plain.norm(dim=0))
        assert not torch.allclose(turned, plain)
        assert ((plain == 0).all(dim=0) <= (turned.abs() < 1e-12).all(dim=0)).all()
    unturned, _ = build_split(three_d(), "val", None, options)  # validation is never augmented
    plain_val = SYNTHETIC.build(BuildRequest("val", None, {"frames": "6"}, training=False))
    torch.testing.assert_close(unturned[0][0], plain_val[0][0])


def test_random_scale_moves_coordinates_only_within_its_range() -> None:
    options = {"train_size": "20", "frames": "6", "random_scale": "0.2"}
    torch.manual_seed(1)
    split, _ = build_split(SYNTHETIC, "train", None, options)
    raw = SYNTHETIC.build(
        BuildRequest("train", None, {"train_size": "20", "frames": "6"}, training=False)
    )
    factors = []
    for i in range(20):
        scaled, plain = split[i][0], raw[i][0]
        torch.testing.assert_close(scaled[2], plain[2])  # the score channel is kept
        for channel in (0, 1):
            mask = plain[channel].abs() > 1e-3
            ratio = scaled[channel][mask] / plain[channel][mask]
            torch.testing.assert_close(ratio, torch.full_like(ratio, float(ratio[0])))
            factors.append(float(ratio[0]))
    assert all(0.8 - 1e-6 <= f <= 1.2 + 1e-6 for f in factors)
    assert max(factors) - min(factors) > 0.1  # drawn, not fixed


@pytest.mark.parametrize(
    ("option", "message"),
    [
        (
            "random_rot=0.3",
            "data option random_rot rotates 3D skeletons (x, y, z): "
            "this dataset's clips have 2 coordinate channels",
        ),
        ("random_scale=-1", "data option random_scale must be a non-negative number, got '-1'"),
        ("random_rot=wide", "data option random_rot must be a non-negative number, got 'wide'"),
    ],
)
def test_augmentation_mistakes_are_one_line(tmp_path: Path, option: str, message: str) -> None:
    done = run_stgcn("run", "--work-dir", str(tmp_path / "run"), "--data-option", option)
    assert done.returncode == 1
    assert done.stderr.strip() == f"stgcn: error: {message}"
    assert not (tmp_path / "run").exists()


def test_a_run_with_random_scale_trains_and_records_it(tmp_path: Path) -> None:
    work = tmp_path / "run"
    done = run_stgcn(
        "run",
        "--epochs",
        "1",
        "--work-dir",
        str(work),
        "--data-option",
        "random_scale=0.1",
        *TINY,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads((work / "config.json").read_text())["data_options"]["random_scale"] == "0.1"
