"""A third party's hand-pose estimator meets models by joint names (issue 40, item 6):
its 21 MediaPipe-hand joints feed ``stgcn data extract --layout mediapipe-hand`` and
``stgcn predict --video``/``--stream`` of a model trained on that layout, and the same
estimator against an openpose model is refused in one line before any frame is read.
And the trial's path (the issue's done-when): a hand model trained on a PYSKL pickle
predicts a video through the estimator with the inputs it was trained on; and a model of
a third party's layout predicts ``--video`` and ``--stream`` with that layout's plugin
uninstalled (the model file stores the whole layout).

The estimator and a small hand dataset are one installed distribution written here, as
its author would write it from the plugin guide. Reading a video needs OpenCV (the
``video`` extra of the tests-pose session); the refusals open no video and run anywhere.
"""

from __future__ import annotations

import json
import pickle
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from export_helpers import (
    assert_one_line_error,
    bar_video,
    class_log_probabilities,
    class_probabilities,
    frames_in,
    predict_json,
    train_on_pickle,
    write_video,
)
from stgcn_data_pyskl.sample_files import make_annotations

from stgcn.plugins import registry as plugins
from stgcn.records import LAYOUTS
from stgcn.testing.helpers import make_distribution, stgcn_in_process

#: the estimator finds one hand: its 21 joints on a slanting line through the middle of the
#: white bar in the frame (the bar slides right, so the hand does), each call recorded in
#: CALLS; given ``--estimator-option keypoints=FILE.npy`` (a hand a frame, in the pixels of
#: the video's frames), it finds that hand instead, in the frame whose number the frame's
#: grey level gives (8 + 9 * number)
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


class Replay:
    def __init__(self, path):
        self.hands = np.load(path)

    def estimate(self, image):
        frame = int(round((float(image.mean()) - 8) / 9))
        CALLS.append(("estimate", frame))
        height, width = image.shape[:2]
        hand = self.hands[frame].copy()
        hand[:, 0] /= width
        hand[:, 1] /= height
        return [hand]

    def close(self):
        CALLS.append(("close", None))


def open_hand(request):
    CALLS.append(("open", dict(request.options)))
    if "keypoints" in request.options:
        return Replay(request.options["keypoints"])
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
        bar_video(videos / label / f"{label}.mp4", FRAMES)
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
    # the kinetics-json dataset reads openpose clips: the hands go to a PYSKL pickle
    pickled = output / "pyskl_annotations.pkl"
    assert f"train with: stgcn run --dataset pyskl --data-path {pickled} " in ran.stdout
    with pickled.open("rb") as stream:
        annotations = pickle.load(stream)["annotations"]
    assert {a["keypoint"].shape[1:] for a in annotations} == {(FRAMES, 21, 2)}
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


#: the pickle's clips: every one a window of the model (trained with sampling=window)
CLIP_FRAMES = 24
PICKLE_OPTIONS = {"split": "xsub", "sampling": "window", "window": str(CLIP_FRAMES)}
#: the pickle's frames (1920x1080, make_annotations') as the video's: a tenth the size
SCALE = 10
EPOCHS = 8


def grey_video(path: Path, frames: int, size: tuple[int, int]) -> Path:
    """An mp4 of ``frames`` plain grey frames of ``size`` (width, height), frame ``k``
    at level 8 + 9 k: the number the replaying estimator reads from what it is shown."""
    width, height = size
    return write_video(
        path, [np.full((height, width, 3), 8 + 9 * frame, np.uint8) for frame in range(frames)]
    )


def test_a_hand_model_trained_on_a_pyskl_pickle_predicts_a_video_as_its_clip(
    hands, tmp_path: Path
) -> None:
    """The issue's done-when: 21-joint hand keypoints in pixels in a PYSKL pickle, a
    model trained on them (the reader's layout by joint count: mediapipe-hand; PYSKL's
    coordinates), then a video whose frames the third-party estimator finds the pickle
    clip's hands in: ``predict --video`` gives the probabilities ``predict --input``
    gives for the clip itself, so the model saw the inputs it was trained on."""
    pytest.importorskip("cv2")  # before training: the video is written with OpenCV
    contents = make_annotations(
        12, dims=2, joints=21, frames=(CLIP_FRAMES, CLIP_FRAMES), max_persons=1, seed=5
    )
    # epochs enough for the input normalisation's running statistics to be the data's:
    # after one, the model's probabilities hardly depend on the scale of its inputs
    pickled, checkpoint = train_on_pickle(contents, tmp_path, PICKLE_OPTIONS, epochs=EPOCHS)
    facts = torch.load(checkpoint, weights_only=True)["data_facts"]
    assert (facts["layout"], facts["coordinates"]) == ("mediapipe-hand", "pyskl")

    name = contents["split"]["xsub_val"][0]
    (clip,) = [a for a in contents["annotations"] if a["frame_dir"] == name]
    height, width = clip["img_shape"]
    pixels = clip["keypoint"][0].astype(np.float64)  # (T, 21, 2): the one hand
    scores = clip["keypoint_score"][0].astype(np.float64)
    keypoints = tmp_path / "hand.npy"
    np.save(keypoints, np.concatenate([pixels / SCALE, scores[..., None]], axis=-1))
    video = grey_video(tmp_path / "hand.mp4", CLIP_FRAMES, (width // SCALE, height // SCALE))

    def through_the_video(model: Path, *save: str) -> np.ndarray:
        document = predict_json(
            model,
            "--video",
            str(video),
            "--estimator",
            "hands",
            "--estimator-option",
            f"keypoints={keypoints}",
            "--window",
            str(CLIP_FRAMES),
            "--stride",
            str(CLIP_FRAMES),
            *save,
        )
        (window,) = document["windows"]
        assert (window["start"], window["end"]) == (0, CLIP_FRAMES)
        return class_log_probabilities(window["top5"])

    from_clip = class_log_probabilities(
        predict_json(checkpoint, "--input", f"{pickled}#{name}")["top"]
    )
    skeleton = tmp_path / "skeleton.json"
    from_video = through_the_video(checkpoint, "--save-skeleton", str(skeleton))
    # the estimator was shown every frame of the video, in order
    assert [call[1] for call in hands if call[0] == "estimate"] == list(range(CLIP_FRAMES))
    assert np.exp(from_clip).sum() == pytest.approx(1.0, abs=1e-5)
    np.testing.assert_allclose(from_video, from_clip, rtol=1e-4, atol=1e-5)

    # and the model tells the inputs' scale apart: told it was trained in the reference's
    # convention (half PYSKL's scale), it scores the same video otherwise
    stored = torch.load(checkpoint, weights_only=True)
    stored["data_facts"]["coordinates"] = "reference"
    relabelled = tmp_path / "reference.pth.tar"
    torch.save(stored, relabelled)
    # (the trained model is sure of the clip's class, so the two scales' probabilities
    # differed by only 1.8e-5 on an AVX2 EPYC; their logarithms by 0.4. Measured against
    # the rounding between the video and the clip, over the classes whose probability is
    # within float64's range (above zero), not a fixed tolerance: with two threads'
    # training a fixed one failed)
    finite = np.isfinite(from_clip)
    rounding = max(float(np.abs(from_video[finite] - from_clip[finite]).max()), 1e-5)
    relabelled_scores = through_the_video(relabelled)[finite]
    assert np.abs(relabelled_scores - from_clip[finite]).max() > 20 * rounding

    # the same hands: the saved skeleton is the pickle's, as fractions of its frame
    saved = json.loads(skeleton.read_text())["data"]
    assert [entry["frame_index"] for entry in saved] == list(range(CLIP_FRAMES))
    for frame, entry in enumerate(saved):
        (hand,) = entry["skeleton"]
        fractions = pixels[frame] / (width, height)
        np.testing.assert_allclose(np.reshape(hand["pose"], (21, 2)), fractions, atol=1e-4)
        np.testing.assert_allclose(hand["score"], scores[frame], atol=1e-4)


#: a third party's layout (the thumb, its joints named as MediaPipe names them) and a
#: dataset on it: the hand moving right or still, as hand-moves
THUMB_PLUGIN = """
from stgcn.hookspecs import hookimpl
from stgcn.records import Dataset, Layout

import fake_hands

STGCN_API = ">=2,<3"

THUMB = Layout(name="thumb", num_node=5, edges=((0, 1), (1, 2), (2, 3), (3, 4)), center=0,
               joints=("wrist", "thumb_cmc", "thumb_mcp", "thumb_ip", "thumb_tip"))


class Moves(fake_hands.Moves):
    def __init__(self, split):
        super().__init__(split)
        self.clips = self.clips[:, :, :, :5].contiguous()


@hookimpl
def stgcn_register_layouts(register):
    register(THUMB)


@hookimpl
def stgcn_register_datasets(register):
    register(Dataset(name="thumb-moves", num_class=2, build=lambda request: Moves(request.split),
                     layout="thumb", num_person=1, needs_data_path=False,
                     class_names=("still", "moving"), recipe={"epochs": 1, "batch_size": 4}))
"""


def test_a_model_of_an_uninstalled_layout_predicts_video_and_stream(hands, site, tmp_path) -> None:
    """The model file stores its whole layout: with the layout's plugin (and its dataset's)
    uninstalled, the estimator's joints still meet it by name, in --video (the same
    probabilities as before) and --stream, each drawing the layout's bones in --render."""
    video = bar_video(tmp_path / "moving.mp4", FRAMES)
    make_distribution(site, "stgcn-layout-thumb", "0.1", "fake_thumb", THUMB_PLUGIN)
    work = tmp_path / "run"
    ran = stgcn_in_process("run", "--dataset", "thumb-moves", "--work-dir", str(work))
    assert ran.returncode == 0, ran.stderr
    model = work / "checkpoints" / "best.pth.tar"
    args = ["--estimator", "hands", "--window", "8", "--stride", "2"]

    def through_the_video(*extra: str) -> tuple[list[tuple[int, int, list[int]]], np.ndarray]:
        """Each window's frames and tracks, and its class probabilities."""
        windows = predict_json(model, "--video", str(video), *args, *extra)["windows"]
        spans = [(window["start"], window["end"], window["tracks"]) for window in windows]
        return spans, np.array([class_probabilities(window["top5"]) for window in windows])

    spans, installed = through_the_video()
    assert spans and {(start, end) for start, end, _ in spans} == {(0, 8), (2, 10)}
    (site / "fake_thumb.py").unlink()
    shutil.rmtree(site / "stgcn_layout_thumb-0.1.dist-info")
    plugins.reset()
    assert "thumb" not in plugins.get_registry().table(LAYOUTS)

    render = tmp_path / "video.mp4"
    spans_after, after = through_the_video("--render", str(render))
    assert spans_after == spans
    np.testing.assert_allclose(after, installed, rtol=1e-5, atol=1e-6)
    assert frames_in(render) == FRAMES

    hands.clear()
    render = tmp_path / "stream.mp4"
    ran = stgcn_in_process(
        "predict", "--checkpoint", str(model), "--stream", str(video), *args,
        "--render", str(render), "--json",
    )  # fmt: skip
    assert ran.returncode == 0, ran.stderr
    lines = [json.loads(line) for line in ran.stdout.splitlines()]
    assert lines[-1]["summary"]["frames"] == FRAMES, lines[-1]
    assert any("top5" in line for line in lines[:-1])
    assert frames_in(render) == FRAMES
