"""A third party's hand-pose estimator meets models by joint names (issue 40, item 6):
its 21 MediaPipe-hand joints feed ``stgcn data extract --layout mediapipe-hand`` and
``stgcn predict --video``/``--stream`` of a model trained on that layout, and the same
estimator against an openpose model is refused in one line before any frame is read.

The estimator and a small hand dataset are one installed distribution written here, as
its author would write it from the plugin guide. Reading a video needs OpenCV (the
``video`` extra of the tests-pose session); the refusals open no video and run anywhere.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
from export_helpers import assert_one_line_error

from stgcn.testing.helpers import make_distribution, stgcn_in_process

#: the estimator finds one hand: its 21 joints on a slanting line through the middle of the
#: white bar in the frame (the bar slides right, so the hand does), each call recorded in CALLS
HANDS_PLUGIN = """
import numpy as np
import torch

from stgcn.hookspecs import hookimpl
from stgcn.pose import MEDIAPIPE_HAND_21
from stgcn.records import Dataset, PoseEstimator

STGCN_API = ">=2,<3"
#: ("open", options) and ("estimate", frame number), in the order they happened
CALLS = []


class Hand:
    def __init__(self):
        self.frames = 0

    def estimate(self, image):
        CALLS.append(("estimate", self.frames))
        self.frames += 1
        ys, xs = np.nonzero(image[..., 0] > 128)
        if len(xs) == 0:
            return []
        height, width = image.shape[:2]
        hand = np.empty((21, 3), np.float32)
        hand[:, 0] = xs.mean() / width + np.linspace(-0.1, 0.1, 21)
        hand[:, 1] = ys.mean() / height + np.linspace(0.1, -0.1, 21)
        hand[:, 2] = 0.9
        return [hand]

    def close(self):
        CALLS.append(("close", self.frames))


def open_hand(request):
    CALLS.append(("open", dict(request.options)))
    return Hand()


class Moves(torch.utils.data.Dataset):
    # class 0: the hand still; class 1: the hand moving right
    def __init__(self, split):
        generator = torch.Generator().manual_seed(0 if split == "train" else 1)
        self.clips = torch.randn(8, 3, 8, 21, 1, generator=generator) * 0.05
        self.labels = [index % 2 for index in range(8)]
        for clip, label in zip(self.clips, self.labels):
            clip[0] += label * torch.linspace(-0.4, 0.4, 8)[:, None, None]
            clip[2] = 0.9

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, index):
        return self.clips[index], self.labels[index]


@hookimpl
def stgcn_register_pose_estimators(register):
    register(PoseEstimator(name="hands", open=open_hand, joints=MEDIAPIPE_HAND_21,
                           description="one hand along the white bar", max_persons=1))


@hookimpl
def stgcn_register_datasets(register):
    register(Dataset(name="hand-moves", num_class=2, build=lambda request: Moves(request.split),
                     layout="mediapipe-hand", num_person=1, needs_data_path=False,
                     class_names=("still", "moving"), recipe={"epochs": 1, "batch_size": 4}))
"""

FRAMES = 10
#: the refusal of the hand estimator for an openpose model: the layout's first joints
#: named, the rest counted
OPENPOSE_REFUSAL = (
    "pose estimator 'hands' gives no joint for 'nose', 'neck', 'right_shoulder', "
    "'right_elbow', 'right_wrist' and 13 more of layout 'openpose'"
)


@pytest.fixture
def hands(site: Path) -> list[tuple[str, object]]:
    """The hand plugin installed; its record of calls (empty: nothing opened or read)."""
    make_distribution(site, "stgcn-pose-hands", "0.1", "fake_hands", HANDS_PLUGIN)
    import fake_hands  # type: ignore[import-not-found]

    return fake_hands.CALLS  # type: ignore[no-any-return]


def write_video(path: Path) -> Path:
    """A 10-frame mp4 (64x64, 5 frames a second) of a white bar sliding to the right."""
    cv2 = pytest.importorskip("cv2")
    path.parent.mkdir(parents=True, exist_ok=True)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 5, (64, 64))
    for frame in range(FRAMES):
        image = np.zeros((64, 64, 3), np.uint8)
        image[20:44, 4 + 5 * frame : 12 + 5 * frame] = 255
        writer.write(image)
    writer.release()
    return path


def not_a_video(path: Path) -> Path:
    """A file named like a video that no decoder opens: a command that reached the
    decoder or the estimator would fail differently, or not at all."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"not a video")
    return path


def test_an_openpose_model_refuses_the_hand_estimator_before_any_frame(
    hands, checkpoint: Path, tmp_path: Path
) -> None:
    video = not_a_video(tmp_path / "clip.mp4")
    render = tmp_path / "labelled.mp4"
    for kind in ("--video", "--stream"):
        ran = stgcn_in_process(
            "predict",
            "--checkpoint",
            str(checkpoint),
            kind,
            str(video),
            "--estimator",
            "hands",
            "--render",
            str(render),
        )
        assert_one_line_error(ran, OPENPOSE_REFUSAL)
        assert ran.stdout == "", kind
    assert hands == [], "the estimator was opened or given a frame"
    assert not render.exists()


def test_extract_refuses_a_layout_the_estimator_cannot_feed_before_writing(
    hands, tmp_path: Path
) -> None:
    not_a_video(tmp_path / "videos" / "waving" / "clip.mp4")
    output = tmp_path / "set"
    args = ["data", "extract", "--videos", str(tmp_path / "videos"), "--output", str(output)]
    for layout in ([], ["--layout", "openpose"]):  # openpose: the default
        ran = stgcn_in_process(*args, "--estimator", "hands", "--workers", "1", *layout)
        assert_one_line_error(ran, OPENPOSE_REFUSAL)
    ran = stgcn_in_process(*args, "--estimator", "hands", "--layout", "coco-hands")
    assert_one_line_error(ran, "unknown layout 'coco-hands'")
    assert hands == [] and not output.exists()


def test_the_hand_estimator_feeds_extract_and_a_hand_model(hands, tmp_path: Path) -> None:
    videos = tmp_path / "videos"
    for label in ("moving", "still"):
        write_video(videos / label / f"{label}.mp4")
    output = tmp_path / "set"
    ran = stgcn_in_process(
        "data",
        "extract",
        "--videos",
        str(videos),
        "--output",
        str(output),
        "--estimator",
        "hands",
        "--layout",
        "mediapipe-hand",
        "--workers",
        "1",
        "--val-ratio",
        "0",
    )
    assert ran.returncode == 0, ran.stderr
    assert "extracted 2 clips" in ran.stdout
    assert "skeletons of the mediapipe-hand layout" in ran.stdout
    assert json.loads((output / "extract.json").read_text())["layout"] == "mediapipe-hand"
    clip = json.loads((output / "kinetics_train" / "moving__moving.json").read_text())
    assert len(clip["data"]) == FRAMES
    first = clip["data"][0]["skeleton"][0]
    assert len(first["pose"]) == 2 * 21 and first["score"] == [0.9] * 21
    # the estimator's own joints, unchanged: the mediapipe-hand layout is its joint set
    xs = np.array(first["pose"][0::2])
    np.testing.assert_allclose(np.diff(xs), 0.01, atol=2e-4)
    assert ("estimate", FRAMES - 1) in hands

    # a model trained on the layout, then the same estimator through predict
    work = tmp_path / "run"
    ran = stgcn_in_process("run", "--dataset", "hand-moves", "--work-dir", str(work), "--seed", "3")
    assert ran.returncode == 0, ran.stderr
    model = work / "checkpoints" / "best.pth.tar"
    video = videos / "moving" / "moving.mp4"
    hands.clear()
    skeleton = tmp_path / "skeleton.json"
    ran = stgcn_in_process(
        "predict",
        "--checkpoint",
        str(model),
        "--video",
        str(video),
        "--estimator",
        "hands",
        "--window",
        "8",
        "--stride",
        "2",
        "--save-skeleton",
        str(skeleton),
        "--json",
    )
    assert ran.returncode == 0, ran.stderr
    document = json.loads(ran.stdout)
    assert (document["frames"], document["frames_with_pose"]) == (FRAMES, FRAMES)
    assert [(w["start"], w["end"]) for w in document["windows"]] == [(0, 8), (2, 10)]
    top = document["windows"][0]["top5"]
    assert {entry["name"] for entry in top} == {"still", "moving"}
    assert sum(entry["probability"] for entry in top) == pytest.approx(1, abs=1e-3)
    saved = json.loads(skeleton.read_text())["data"][0]["skeleton"][0]
    assert saved["pose"] == first["pose"] and saved["score"] == first["score"]
    assert [call[0] for call in hands] == ["open", *["estimate"] * FRAMES, "close"]

    hands.clear()
    ran = stgcn_in_process(
        "predict",
        "--checkpoint",
        str(model),
        "--stream",
        str(video),
        "--estimator",
        "hands",
        "--window",
        "8",
        "--stride",
        "2",
        "--json",
    )
    assert ran.returncode == 0, ran.stderr
    lines = [json.loads(line) for line in ran.stdout.splitlines()]
    assert lines[-1]["summary"]["frames"] == FRAMES, lines[-1]
    assert any("top5" in line for line in lines[:-1])
    assert sum(1 for call in hands if call[0] == "estimate") == FRAMES


def test_the_mediapipe_hand_layout_is_listed_for_the_estimator(hands) -> None:
    ran = stgcn_in_process("plugins", "--json")
    assert ran.returncode == 0, ran.stderr
    row = next(r for r in json.loads(ran.stdout) if r["name"] == "stgcn-pose-hands")
    assert row["pose_estimators"][0]["layouts"] == ["mediapipe-hand"]
    assert "fake_hands" in sys.modules
