"""The hand and whole-body estimators through the commands, with the real MediaPipe:
``stgcn data extract --estimator mediapipe-holistic`` from class folders of videos made
here into a PYSKL pickle that ``stgcn run --dataset pyskl`` trains on, then
``stgcn predict --video`` with the result (``--render``, ``--explain``); hands where
no hand is in the picture (extract fails in one line, predict says "no hand", the
stream ends with no track); and protobuf 7 beside mediapipe, in a throw-away
environment: one line with the fix, from ``stgcn plugins`` and from each command.

No installed package ships a photograph with a hand MediaPipe finds (test_hands.py):
the videos are scikit-image's astronaut, whose hands are out of the picture.
"""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
import venv
from pathlib import Path

import numpy as np
import pytest
from pose_helpers import assert_one_line_error, make_video

from stgcn.data.pickles import restricted_load
from stgcn.testing.helpers import run_stgcn

CLIP_FRAMES = 10


@pytest.fixture(scope="module")
def videos(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two classes of three short videos each: the astronaut moving left or right."""
    root = tmp_path_factory.mktemp("videos")
    for label, shift, start in (("to_left", -4, 120), ("to_right", 4, 0)):
        (root / label).mkdir()
        for index in range(3):
            make_video(root / label / f"{label}{index}.mp4", CLIP_FRAMES, shift, start + index)
    return root


def extract(videos: Path, output: Path, estimator: str, *layout: str):
    return run_stgcn(
        "data", "extract", "--videos", str(videos), "--output", str(output),
        "--estimator", estimator, *layout, "--workers", "2", "--val-ratio", "0.34",
    )  # fmt: skip


def test_holistic_extract_train_predict(videos: Path, tmp_path: Path) -> None:
    out = tmp_path / "set"
    ran = extract(videos, out, "mediapipe-holistic", "--layout", "mediapipe-holistic")
    assert ran.returncode == 0, ran.stderr
    pickle_path = out / "pyskl_annotations.pkl"
    assert f"train with: stgcn run --dataset pyskl --data-path {pickle_path} " in ran.stdout
    assert (out / "classes.txt").read_text() == "to_left\nto_right\n"
    document = restricted_load(pickle_path, what="pickle", holds="annotations")
    assert len(document["split"]["train"]) == 4 and len(document["split"]["val"]) == 2
    for clip in document["annotations"]:
        keypoint, score = clip["keypoint"], clip["keypoint_score"]
        assert keypoint.shape == (1, CLIP_FRAMES, 75, 2) and clip["img_shape"] == (512, 640)
        assert (score[0, :, 0] > 0.5).all()  # the nose, every frame
        assert not score[0, :, 33:].any()  # her hands are out of the picture: score 0
        nose_x = keypoint[0, :, 0, 0]
        moved = nose_x[-1] - nose_x[0]
        assert moved < -20 if clip["label"] == 0 else moved > 20, (clip["frame_dir"], nose_x)

    work = tmp_path / "run"
    trained = run_stgcn(
        "run", "--dataset", "pyskl", "--data-path", str(pickle_path), "--work-dir", str(work),
        "--data-option", f"classes={out / 'classes.txt'}", "--data-option", "clip_len=8",
        "--epochs", "1", "--batch-size", "4", "--lr-scaling", "none",
    )  # fmt: skip
    assert trained.returncode == 0, trained.stderr
    best = work / "checkpoints" / "best.pth.tar"
    rendered = tmp_path / "seen.mp4"
    predicted = run_stgcn(
        "predict", "--video", str(videos / "to_left" / "to_left0.mp4"), "--checkpoint",
        str(best), "--estimator", "mediapipe-holistic", "--json", "--window", "8",
        "--stride", "2", "--render", str(rendered), "--explain",
    )  # fmt: skip
    assert predicted.returncode == 0, predicted.stderr
    windows = json.loads(predicted.stdout)["windows"]
    assert [(w["start"], w["end"]) for w in windows] == [(0, 8), (2, 10)]
    for window in windows:
        assert sorted(row["name"] for row in window["top5"]) == ["to_left", "to_right"]
        assert len(window["joint_importance"]) == 75
    assert rendered.stat().st_size > 0
    # a hands-only estimator cannot feed a whole-body model: refused by joint names
    refused = run_stgcn(
        "predict", "--video", str(videos / "to_left" / "to_left0.mp4"), "--checkpoint",
        str(best), "--estimator", "mediapipe-hands",
    )  # fmt: skip
    assert_one_line_error(refused, "pose estimator 'mediapipe-hands' gives no joint for 'nose'")


def test_hands_extract_with_no_hand_fails_in_one_line(videos: Path, tmp_path: Path) -> None:
    # no --layout: the estimator's own, mediapipe-hand (openpose it could not feed)
    ran = extract(videos, tmp_path / "set", "mediapipe-hands")
    assert ran.returncode != 0
    *lines, last = ran.stderr.strip().splitlines()
    assert "stgcn: warning: no hand found in to_left/to_left0.mp4 (10 frames)" in lines
    assert not any("person" in line for line in lines)
    assert last.startswith("stgcn: error: no usable clip in ")
    assert last.endswith("(no hand found in 6 of 6): nothing to train on"), last
    assert "Traceback" not in ran.stderr and "train with" not in ran.stdout
    manifest = json.loads((tmp_path / "set" / "extract.json").read_text())
    assert manifest["layout"] == "mediapipe-hand" and manifest["estimator"] == "mediapipe-hands"


@pytest.fixture(scope="module")
def hand_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A hand model (mediapipe-hand layout, one hand a clip) trained on a PYSKL pickle of
    hands opening and closing or moving sideways."""
    folder = tmp_path_factory.mktemp("hands")
    rng = np.random.default_rng(0)
    annotations = []
    for index in range(16):
        label = index % 2
        t = np.linspace(0, 1, 12)[:, None]
        base = rng.uniform(200, 400, size=(1, 21, 2))
        spread = np.linspace(-30, 30, 21)[None, :, None]
        move = t[:, :, None] * (spread if label else np.array([80.0, 0.0]))
        annotations.append(
            {
                "frame_dir": f"hand{index}",
                "label": label,
                "total_frames": 12,
                "img_shape": (480, 640),
                "original_shape": (480, 640),
                "keypoint": (base + move)[None].astype(np.float32),
                "keypoint_score": np.ones((1, 12, 21), np.float32),
            }
        )
    path = folder / "hands.pkl"
    names = [a["frame_dir"] for a in annotations]
    with path.open("wb") as stream:
        pickle.dump(
            {"split": {"train": names[:12], "val": names[12:]}, "annotations": annotations}, stream
        )
    ran = run_stgcn(
        "run", "--dataset", "pyskl", "--data-path", str(path), "--work-dir", str(folder / "run"),
        "--data-option", "clip_len=8", "--epochs", "1", "--batch-size", "4",
        "--lr-scaling", "none",
    )  # fmt: skip
    assert ran.returncode == 0, ran.stderr
    return folder / "run" / "checkpoints" / "best.pth.tar"


def test_hands_predict_video_and_stream_without_hands(
    videos: Path, hand_checkpoint: Path, tmp_path: Path
) -> None:
    video = videos / "to_right" / "to_right0.mp4"
    ran = run_stgcn(
        "predict", "--video", str(video), "--checkpoint", str(hand_checkpoint),
        "--estimator", "mediapipe-hands",
    )  # fmt: skip
    assert_one_line_error(ran, f"no hand found in {video} ({CLIP_FRAMES} frames)")
    rendered = tmp_path / "stream.mp4"
    streamed = run_stgcn(
        "predict", "--stream", str(video), "--checkpoint", str(hand_checkpoint),
        "--estimator", "mediapipe-hands", "--max-people", "2", "--json", "--window", "4",
        "--render", str(rendered), "--explain",
    )  # fmt: skip
    assert streamed.returncode == 0, streamed.stderr
    lines = [json.loads(line) for line in streamed.stdout.splitlines()]
    summary = lines[-1]["summary"]
    # every frame read and given to MediaPipe Hands; no hand, so no track and no window
    assert summary["frames"] == summary["processed"] == CLIP_FRAMES
    assert summary["tracks"] == 0 and summary["windows"] == 0 and len(lines) == 1
    assert rendered.stat().st_size > 0


@pytest.fixture(scope="module")
def protobuf_7(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A throw-away environment: this one's packages (a .pth file) under a real
    protobuf 7 installed by pip; skipped where pip cannot get protobuf 7."""
    home = tmp_path_factory.mktemp("protobuf7")
    venv.create(home, with_pip=True)
    python = home / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    site_packages = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    ours = [p for p in sys.path if p.endswith("site-packages")]
    (Path(site_packages) / "outer.pth").write_text("\n".join(ours) + "\n")
    installed = subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check",
         "protobuf>=7,<8"],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    if installed.returncode != 0:
        pytest.skip(f"pip could not install protobuf 7 here: {installed.stderr[-300:]}")
    return python


def test_protobuf_7_is_one_line_with_the_fix(protobuf_7: Path, videos: Path, checkpoint) -> None:
    def stgcn(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(protobuf_7), "-m", "stgcn", *args], capture_output=True, text=True, timeout=300
        )

    version = subprocess.run(
        [str(protobuf_7), "-c", "import google.protobuf as p; print(p.__version__)"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert version.startswith("7."), version
    fix = 'pip install "protobuf<5"'
    listed = stgcn("plugins")
    assert listed.returncode == 0, listed.stderr
    for name in ("mediapipe", "mediapipe-hands", "mediapipe-holistic"):
        (line,) = [row for row in listed.stdout.splitlines() if row.split()[:2] == ["pose", name]]
        assert "unavailable: mediapipe 0.10.14 needs protobuf < 5" in line and fix in line
    video = str(videos / "to_left" / "to_left0.mp4")
    for args in (
        ["predict", "--video", video, "--checkpoint", str(checkpoint)],
        ["predict", "--stream", video, "--checkpoint", str(checkpoint), "--estimator",
         "mediapipe-hands"],
        ["data", "extract", "--videos", str(videos), "--output", str(videos.parent / "no"),
         "--estimator", "mediapipe-holistic", "--layout", "mediapipe-holistic"],
    ):  # fmt: skip
        ran = stgcn(*args)
        assert_one_line_error(ran, "cannot run here: mediapipe 0.10.14 needs protobuf < 5", fix)
        assert len(ran.stderr) < 400
