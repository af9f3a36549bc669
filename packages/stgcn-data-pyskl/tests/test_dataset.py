"""Samples of the pyskl dataset: channels, normalisation, persons, what the file describes."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import numpy as np
import pytest
from stgcn_data_pyskl import dataset
from stgcn_data_pyskl.annotations import load
from stgcn_data_pyskl.sample_files import make_annotations

from stgcn.errors import StgcnError
from stgcn.model.layouts import get_layout
from stgcn.records import BuildRequest, DescribeRequest, Layout, NamedClipRequest, SampleRequest


def build(split: str, path: Path, options: dict, training: bool | None = None):
    """The dataset's ``build``, asked as the trainer asks (training: the train split)."""
    training = split == "train" if training is None else training
    return dataset.build(BuildRequest(split, path, options, training=training))


def read_sample(path: Path, options: dict):
    return dataset.read_sample(SampleRequest(path, options))


def read_named_clip(path: Path, clip: str, options: dict):
    return dataset.read_named_clip(NamedClipRequest(path, clip, options))


def describe(path: Path, options: dict):
    return dataset.describe(DescribeRequest(path, options))


WHOLE = {"split": "xsub", "sampling": "window", "window": "80"}  # every frame, in order


def _write(path: Path, data: dict) -> Path:
    path.write_bytes(pickle.dumps(data, protocol=4))
    return path


def _first_val(data: dict) -> tuple[dict, int]:
    name = data["split"]["xsub_val"][0]
    index = next(i for i, a in enumerate(data["annotations"]) if a["frame_dir"] == name)
    return data["annotations"][index], index


def test_2d_keypoints_are_normalised_by_the_image_and_carry_the_score(tmp_path: Path) -> None:
    data = make_annotations(12, dims=2, joints=17, frames=(10, 20), seed=4)
    path = _write(tmp_path / "a.pkl", data)
    ann, _ = _first_val(data)
    x, label = build("val", path, WHOLE)[0]
    assert tuple(x.shape) == (3, 80, 17, 2) and label == ann["label"]
    height, width = ann["img_shape"]
    kp, score = ann["keypoint"], ann["keypoint_score"]
    length = kp.shape[1]
    for person in range(min(2, kp.shape[0])):
        expected_x = (kp[person, :, :, 0] - width / 2) / (width / 2)
        expected_y = (kp[person, :, :, 1] - height / 2) / (height / 2)
        np.testing.assert_allclose(x[0, :length, :, person].numpy(), expected_x, rtol=1e-6)
        np.testing.assert_allclose(x[1, :length, :, person].numpy(), expected_y, rtol=1e-6)
        np.testing.assert_allclose(x[2, :length, :, person].numpy(), score[person], rtol=1e-3)
    assert (x[:, length:] == 0).all()  # padded frames


def test_3d_keypoints_stay_as_they_are(tmp_path: Path) -> None:
    data = make_annotations(12, dims=3, joints=25, frames=(10, 20), seed=5)
    path = _write(tmp_path / "a.pkl", data)
    ann, _ = _first_val(data)
    x, _ = build("val", path, WHOLE)[0]
    kp = ann["keypoint"]
    np.testing.assert_array_equal(
        x[:, : kp.shape[1], :, 0].numpy(), kp[0].transpose(2, 0, 1).astype(np.float32)
    )


def test_the_first_two_persons_are_kept_and_fewer_padded_with_zeros(tmp_path: Path) -> None:
    data = make_annotations(4, dims=3, joints=25, frames=(10, 10), seed=6)
    data["annotations"][0]["keypoint"] = np.stack(
        [np.full((10, 25, 3), float(p + 1), np.float32) for p in range(4)]
    )
    data["annotations"][1]["keypoint"] = np.full((1, 10, 25, 3), 9.0, np.float32)
    data["split"] = {
        "all_train": ["clip000000", "clip000001"],
        "all_val": ["clip000000", "clip000001"],
    }
    path = _write(tmp_path / "a.pkl", data)
    split = build("val", path, {"split": "all", "sampling": "window", "window": "10"})
    four, _ = split[0]
    assert four[:, :, :, 0].unique().tolist() == [1.0]
    assert four[:, :, :, 1].unique().tolist() == [2.0]
    one, _ = split[1]
    assert one[:, :, :, 0].unique().tolist() == [9.0] and (one[:, :, :, 1] == 0).all()


def test_num_clips_gives_validation_a_clip_axis_and_training_none(tmp_path: Path) -> None:
    path = _write(tmp_path / "a.pkl", make_annotations(12, dims=2, joints=17, seed=7))
    options = {"split": "xsub", "clip_len": "16", "num_clips": "10"}
    x, _ = build("val", path, options)[0]
    assert tuple(x.shape) == (10, 3, 16, 17, 2)
    assert not all(np.array_equal(x[0], x[k]) for k in range(1, 10))
    train, _ = build("train", path, options)[0]
    assert tuple(train.shape) == (3, 16, 17, 2)


def test_the_training_split_built_for_evaluation_is_sampled_as_validation(tmp_path: Path) -> None:
    path = _write(tmp_path / "a.pkl", make_annotations(12, dims=2, joints=17, seed=7))
    options = {"split": "xsub", "clip_len": "16", "num_clips": "2"}
    trained = build("train", path, options, training=True)
    draws = [trained[0][0] for _ in range(4)]
    assert not all(np.array_equal(draws[0], draw) for draw in draws[1:])  # random frames
    evaluated = build("train", path, options, training=False)
    first, second = evaluated[0][0], evaluated[0][0]
    assert tuple(first.shape) == (2, 3, 16, 17, 2) and np.array_equal(first, second)
    assert evaluated.sample_names == trained.sample_names


def test_read_named_clip_finds_a_clip_by_its_frame_dir(tmp_path: Path) -> None:

    data = make_annotations(12, dims=2, joints=17, seed=7)
    path = _write(tmp_path / "a.pkl", data)
    annotation, _ = _first_val(data)
    alone = _write(tmp_path / "one.pkl", annotation)
    options = {"clip_len": "16"}
    named = read_named_clip(path, annotation["frame_dir"], options)
    assert np.array_equal(named, read_sample(alone, options))
    with pytest.raises(StgcnError, match=r"has no clip with frame_dir 'nosuch' \(it has "):
        read_named_clip(path, "nosuch", options)


def test_classes_come_from_the_labels_or_a_names_file(tmp_path: Path) -> None:
    path = _write(tmp_path / "a.pkl", make_annotations(12, num_class=3, seed=8))
    facts = describe(path, {"split": "xsub"})
    assert facts.num_class == 3 and facts.class_names == ["class 0", "class 1", "class 2"]
    assert facts.layout == "coco" and facts.score_channel is True
    names = tmp_path / "names.txt"
    names.write_text("wave\njump\nsit\nrun\n")
    named = describe(path, {"split": "xsub", "classes": str(names)})
    assert named.num_class == 4 and named.class_names == ["wave", "jump", "sit", "run"]
    names.write_text("wave\njump\n")
    with pytest.raises(StgcnError, match=r"names 2 classes but .* has labels up to 2"):
        describe(path, {"classes": str(names)})


@pytest.mark.parametrize(
    ("joints", "layout"),
    [
        (17, "coco"),
        (18, "openpose"),
        (25, "ntu-rgb+d"),
        (21, "mediapipe-hand"),
        (33, "mediapipe-pose"),
        (75, "mediapipe-holistic"),
        (133, "coco-wholebody"),
    ],
)
def test_the_layout_follows_the_joint_count(tmp_path: Path, joints: int, layout: str) -> None:
    # 25 joints fit ntu-rgb+d and openpose-body25: PYSKL's NTU RGB+D is the default
    path = _write(tmp_path / "a.pkl", make_annotations(6, dims=3, joints=joints, seed=9))
    facts = describe(path, {})
    assert facts.layout == layout and facts.score_channel is False


def test_a_joint_count_two_layouts_fit_without_a_default_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # as if a plugin brought a second 21-joint layout: the reader does not guess
    hand = Layout.custom(21, [(j, 0) for j in range(1, 21)], 0, name="other-hand")
    real = dataset.layouts_with_joints
    monkeypatch.setattr(dataset, "layouts_with_joints", lambda count: [*real(count), hand])
    path = _write(tmp_path / "a.pkl", make_annotations(6, dims=3, joints=21, seed=9))
    with pytest.raises(StgcnError, match="21 joints fits the layouts mediapipe-hand, other-hand"):
        describe(path, {})
    assert describe(path, {"layout": "mediapipe-hand"}).layout == "mediapipe-hand"


def test_a_named_or_custom_layout_must_fit_the_joints(tmp_path: Path) -> None:
    path = _write(tmp_path / "a.pkl", make_annotations(6, dims=3, joints=5, seed=10))
    with pytest.raises(StgcnError, match="5 joints has no default layout"):
        describe(path, {})
    with pytest.raises(StgcnError, match=r"layout 'coco' has 17 joints; .* has 5"):
        describe(path, {"layout": "coco"})
    custom = tmp_path / "hand.json"
    custom.write_text(
        json.dumps({"num_node": 5, "edges": [[0, 1], [1, 2], [2, 3], [3, 4]], "center": 0})
    )
    layout = describe(path, {"layout": str(custom)}).layout
    assert get_layout(layout).num_node == 5


def test_any_registered_layout_can_be_named(tmp_path: Path) -> None:
    # 25 joints are NTU RGB+D's unless the file says otherwise: OpenPose's BODY_25 by name
    path = _write(tmp_path / "a.pkl", make_annotations(6, dims=2, joints=25, seed=11))
    assert describe(path, {"layout": "openpose-body25"}).layout == "openpose-body25"
    with pytest.raises(
        StgcnError, match=r"neither one of coco, coco-wholebody, mediapipe-hand, .*openpose-body25"
    ):
        describe(path, {"layout": "body25"})


def test_a_split_pickles_as_its_file_and_the_file_loads_once(tmp_path: Path) -> None:
    path = _write(tmp_path / "a.pkl", make_annotations(40, seed=11))
    split = build("train", path, {"split": "xsub", "clip_len": "8"})
    assert load(path) is load(path) is split.annotations
    payload = pickle.dumps(split)
    assert len(payload) < 1000, "the arrays must not travel to spawned workers"
    again = pickle.loads(payload)
    assert again.annotations is split.annotations and len(again) == len(split)


def test_read_sample_takes_a_one_annotation_file_as_validation_reads_it(tmp_path: Path) -> None:
    data = make_annotations(12, dims=2, joints=17, seed=12)
    path = _write(tmp_path / "a.pkl", data)
    ann, _ = _first_val(data)
    single = _write(tmp_path / "one.pkl", ann)
    options = {"split": "xsub", "clip_len": "16"}
    expected, _ = build("val", path, options)[0]
    np.testing.assert_array_equal(read_sample(single, options), expected.numpy())
    wrapped = _write(tmp_path / "wrapped.pkl", {"split": {}, "annotations": [ann]})
    np.testing.assert_array_equal(read_sample(wrapped, options), expected.numpy())
    with pytest.raises(StgcnError, match="holds 12 annotations"):
        read_sample(path, options)
