"""From video to action with the real model: ``stgcn predict --video`` on the astronaut
clip (checkpoint and ONNX), ``--save-skeleton`` and ``--render``; ``stgcn data extract``
from class folders of videos (parallel, resumed, a broken video skipped) into a set that
``stgcn run`` trains on; and the one-line refusals."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from pose_helpers import FRAMES, HEIGHT, WIDTH, assert_one_line_error, make_video

from stgcn.data.synthetic import CLASS_NAMES
from stgcn.pose.skeletons import read_kinetics
from stgcn.testing.helpers import run_stgcn


def test_predict_video_prints_classes(astronaut_video, checkpoint, tmp_path: Path) -> None:
    import stgcn

    skeleton, rendered = tmp_path / "seen.json", tmp_path / "seen.mp4"
    ran = run_stgcn(
        "predict",
        "--video",
        str(astronaut_video),
        "--checkpoint",
        str(checkpoint),
        "--json",
        "--window",
        "16",
        "--stride",
        "8",
        "--save-skeleton",
        str(skeleton),
        "--render",
        str(rendered),
    )
    assert ran.returncode == 0, ran.stderr
    assert len(ran.stdout.splitlines()) == 1
    result = json.loads(ran.stdout)
    assert result["frames"] == FRAMES and result["frames_with_pose"] == FRAMES
    assert [(w["start"], w["end"]) for w in result["windows"]] == [(0, 16), (8, 24), (14, 30)]
    for window in result["windows"]:
        assert len(window["top5"]) == 5
        assert all(row["name"] == CLASS_NAMES[row["class"]] for row in window["top5"])
        scores = [row["probability"] for row in window["top5"]]
        assert scores == sorted(scores, reverse=True) and 0 < sum(scores) <= 1
    # a progress bar (plain lines off a terminal) over the frames, nothing from MediaPipe
    lines = ran.stderr.splitlines()
    assert lines and all(line.startswith("pose (mediapipe): ") for line in lines), ran.stderr
    assert lines[-1].startswith(f"pose (mediapipe): {FRAMES}/{FRAMES} frames")

    # the saved skeleton is a Kinetics clip in [0, 1]; the model given the same skeletons
    # in the Kinetics convention agrees with what was printed (to the file's 4 digits)
    clip = json.loads(skeleton.read_text())
    poses = [v for entry in clip["data"] for s in entry["skeleton"] for v in s["pose"]]
    assert len(clip["data"]) == FRAMES and all(0 <= v <= 1 for v in poses)
    saved = read_kinetics(skeleton)
    model = stgcn.load_model(checkpoint)
    for window in result["windows"]:
        sample = saved.model_input(window["start"], window["end"], 2)
        x = sample[0][sample[2] > 0]
        assert ((x >= -0.5) & (x <= 0.5)).all() and not sample[:, :, :, 1].any()
        with torch.no_grad():
            logits = model(torch.from_numpy(sample)[None])[0]
        probabilities = torch.softmax(logits.double(), 0)
        for row in window["top5"]:
            expected = float(probabilities[row["class"]])
            assert row["probability"] == pytest.approx(expected, abs=1e-3)

    import cv2

    capture = cv2.VideoCapture(str(rendered))
    frames = []
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        frames.append(frame)
    capture.release()
    assert len(frames) == FRAMES and frames[0].shape == (HEIGHT, WIDTH, 3)
    original = cv2.VideoCapture(str(astronaut_video))
    _, first = original.read()
    original.release()
    drawn = np.abs(frames[0].astype(int) - first.astype(int)).sum(axis=2) > 60
    assert drawn.sum() > 500  # skeleton lines and the caption were drawn
    assert drawn[:40].any()  # the caption sits at the top


def test_predict_video_with_an_onnx_export(astronaut_video, checkpoint, tmp_path: Path) -> None:
    exported = tmp_path / "model.onnx"
    made = run_stgcn(
        "export",
        "onnx",
        "--checkpoint",
        str(checkpoint),
        "--output",
        str(exported),
        "--frames",
        "16",
        "--no-verify",
    )
    assert made.returncode == 0, made.stderr
    common = ["--video", str(astronaut_video), "--json", "--window", "30"]
    by_onnx = json.loads(run_stgcn("predict", "--onnx", str(exported), *common).stdout)
    by_torch = json.loads(run_stgcn("predict", "--checkpoint", str(checkpoint), *common).stdout)
    (a,), (b,) = by_onnx["windows"], by_torch["windows"]
    assert [r["class"] for r in a["top5"]] == [r["class"] for r in b["top5"]]
    assert [r["probability"] for r in a["top5"]] == pytest.approx(
        [r["probability"] for r in b["top5"]], abs=1e-5
    )


def test_extract_videos_then_train(tmp_path: Path) -> None:
    videos = tmp_path / "videos"
    for label, shift, start in (("to_left", -4, 120), ("to_right", 4, 0)):
        (videos / label).mkdir(parents=True)
        for index in range(3):
            make_video(videos / label / f"{label}{index}.mp4", 12, shift, start + 2 * index)
    (videos / "to_right" / "broken.mp4").write_bytes(b"not a video at all")
    out = tmp_path / "set"
    extract = ["data", "extract", "--videos", str(videos), "--output", str(out)]
    extract += ["--workers", "2", "--val-ratio", "0.34"]
    first = run_stgcn(*extract)
    assert first.returncode == 0, first.stderr
    assert "stgcn: warning: skipped to_right/broken.mp4: cannot read" in first.stderr
    assert "extracted 6 clips (0 already done, 1 failed (skipped))" in first.stdout
    assert "validation clips of 2 classes" in first.stdout
    clips = sorted((out / "kinetics_train").glob("*.json")) + sorted(
        (out / "kinetics_val").glob("*.json")
    )
    assert len(clips) == 6
    for path in clips:
        skeletons = read_kinetics(path)
        assert len(skeletons.frames) == 12 and skeletons.frames_with_pose == 12
    # the x of the nose follows each video's direction
    left = read_kinetics(next(p for p in clips if "to_left" in p.name))
    right = read_kinetics(next(p for p in clips if "to_right" in p.name))
    assert left.frames[-1][0][0, 0] < left.frames[0][0][0, 0]
    assert right.frames[-1][0][0, 0] > right.frames[0][0][0, 0]

    again = run_stgcn(*extract)  # the same command again: resumed
    assert again.returncode == 0, again.stderr
    assert "6 of 7 clips already extracted" in again.stderr
    assert "extracted 0 clips (6 already done, 1 failed (skipped))" in again.stdout

    work = tmp_path / "run"
    trained = run_stgcn(
        "run",
        "--dataset",
        "kinetics-json",
        "--data-path",
        str(out),
        "--epochs",
        "1",
        "--batch-size",
        "4",
        "--data-option",
        "window=8",
        "--data-option",
        "max_frame=12",
        "--work-dir",
        str(work),
    )
    assert trained.returncode == 0, trained.stderr
    best = work / "checkpoints" / "best.pth.tar"
    saved = torch.load(best, weights_only=True)
    assert saved["data_facts"]["class_names"] == ["to_left", "to_right"]
    predicted = run_stgcn(
        "predict",
        "--video",
        str(videos / "to_left" / "to_left0.mp4"),
        "--checkpoint",
        str(best),
        "--json",
    )
    assert predicted.returncode == 0, predicted.stderr
    windows = json.loads(predicted.stdout)["windows"]
    # the model's own window (its data option window=8), half of it as the stride
    assert [(w["start"], w["end"]) for w in windows] == [(0, 8), (4, 12)]
    for window in windows:
        assert sorted(row["name"] for row in window["top5"]) == ["to_left", "to_right"]


@pytest.mark.parametrize(
    ("kind", "fragments"),
    [
        ("missing", ["video not found"]),
        ("broken", ["cannot read", "not a video OpenCV can decode"]),
        ("empty", ["no person found in", f"({FRAMES // 3} frames)"]),
        ("estimator", ["unknown pose estimator 'openpose-gpu'"]),
        ("option", ["mediapipe: unknown option 'speed'"]),
    ],
)
def test_bad_input_is_one_line(checkpoint, tmp_path: Path, kind: str, fragments) -> None:
    video = {
        "missing": tmp_path / "absent.mp4",
        "broken": tmp_path / "broken.mp4",
        "empty": tmp_path / "empty.mp4",
        "estimator": tmp_path / "empty.mp4",
        "option": tmp_path / "empty.mp4",
    }[kind]
    (tmp_path / "broken.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42 truncated")
    make_video(tmp_path / "empty.mp4", FRAMES // 3, 0, person=False)
    extra = {
        "estimator": ["--estimator", "openpose-gpu"],
        "option": ["--estimator-option", "speed=fast"],
    }.get(kind, [])
    skeleton = tmp_path / "s.json"
    ran = run_stgcn(
        "predict",
        "--video",
        str(video),
        "--checkpoint",
        str(checkpoint),
        "--save-skeleton",
        str(skeleton),
        *extra,
    )
    assert_one_line_error(ran, *fragments)
    assert not skeleton.exists()
