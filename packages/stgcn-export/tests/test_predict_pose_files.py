"""``stgcn predict --openpose DIR`` and ``--coco-results FILE``: skeletons people already
have, in their real formats, classified in sliding windows (no OpenCV needed; videos are
tested in tests-pose). The expected input is built here by hand from the pixels, so a
wrong mapping, convention or window shows as a wrong probability."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from export_helpers import assert_one_line_error

from stgcn.testing.helpers import stgcn_in_process

WIDTH, HEIGHT = 640, 480
#: BODY_25 indices of the openpose layout's 18 joints (mid-hip and feet left out)
BODY25_FOR_OPENPOSE = [0, 1, 2, 3, 4, 5, 6, 7, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18]


def pixels(frame: int, joints: int) -> np.ndarray:
    """A person moving 4 pixels right a frame; joint 3 unseen on even frames."""
    values = np.array([[200 + 7 * j + 4 * frame, 60 + 15 * j, 0.4 + j / 50] for j in range(joints)])
    if frame % 2 == 0:
        values[3] = 0.0
    return values


def write_body25(folder: Path, frames: int) -> Path:
    folder.mkdir()
    for frame in range(frames):
        people = [] if frame == 5 else [pixels(frame, 25)]
        document = {
            "version": 1.3,
            "people": [{"pose_keypoints_2d": p.reshape(-1).tolist()} for p in people],
        }
        (folder / f"clip_{frame:012d}_keypoints.json").write_text(json.dumps(document))
    return folder


def expected_input(frames: range, persons: int = 2) -> torch.Tensor:
    """The Kinetics convention by hand: x / width - 0.5, y / height - 0.5, score; 0 where
    the score is 0; one person, the second slot empty; frame 5 empty."""
    data = np.zeros((1, 3, len(frames), 18, persons), np.float32)
    for row, frame in enumerate(frames):
        if frame == 5:
            continue
        picked = pixels(frame, 25)[BODY25_FOR_OPENPOSE]
        seen = picked[:, 2] > 0
        data[0, 0, row, :, 0] = np.where(seen, picked[:, 0] / WIDTH - 0.5, 0)
        data[0, 1, row, :, 0] = np.where(seen, picked[:, 1] / HEIGHT - 0.5, 0)
        data[0, 2, row, :, 0] = picked[:, 2]
    return torch.from_numpy(data)


def predicted(*args: str) -> dict:
    ran = stgcn_in_process("predict", *args, "--json")
    assert ran.returncode == 0, ran.stderr
    return json.loads(ran.stdout)


def test_openpose_folder_in_windows(checkpoint, tmp_path: Path) -> None:
    import stgcn
    from stgcn.data.synthetic import CLASS_NAMES

    folder = write_body25(tmp_path / "clip", 20)
    skeleton = tmp_path / "saved.json"
    result = predicted(
        "--checkpoint",
        str(checkpoint),
        "--openpose",
        str(folder),
        "--frame-size",
        f"{WIDTH}x{HEIGHT}",
        "--window",
        "8",
        "--stride",
        "4",
        "--save-skeleton",
        str(skeleton),
    )
    assert result["frames"] == 20 and result["frames_with_pose"] == 19
    spans = [(w["start"], w["end"]) for w in result["windows"]]
    assert spans == [(0, 8), (4, 12), (8, 16), (12, 20)]
    model = stgcn.load_model(checkpoint)
    for window in result["windows"]:
        with torch.no_grad():
            logits = model(expected_input(range(window["start"], window["end"])))[0]
        probabilities = torch.softmax(logits.double(), 0)
        assert [row["class"] for row in window["top5"]] == list(
            torch.argsort(probabilities, descending=True)[:5]
        )
        for row in window["top5"]:
            expected = float(probabilities[row["class"]])
            assert row["probability"] == pytest.approx(expected, abs=1e-6)
            assert row["name"] == CLASS_NAMES[row["class"]]
    # the saved skeleton: a Kinetics clip in [0, 1] coordinates, 18 joints, frame 5 absent
    clip = json.loads(skeleton.read_text())
    assert [entry["frame_index"] for entry in clip["data"]] == [f for f in range(20) if f != 5]
    pose = clip["data"][1]["skeleton"][0]["pose"]
    assert pose[:2] == [round(204 / WIDTH, 4), round(60 / HEIGHT, 4)]
    assert len(pose) == 36 and all(0 <= v <= 1 for v in pose)


def test_coco_results_with_both_engines(checkpoint, exports, tmp_path: Path) -> None:
    results = [
        {
            "image_id": 100 + frame,
            "category_id": 1,
            "score": 0.9,
            "keypoints": pixels(frame, 17).reshape(-1).tolist(),
        }
        for frame in range(12)
    ]
    path = tmp_path / "results.json"
    path.write_text(json.dumps(results))
    common = ["--coco-results", str(path), "--frame-size", f"{WIDTH}x{HEIGHT}", "--window", "12"]
    by_torch = predicted("--checkpoint", str(checkpoint), *common)
    by_onnx = predicted("--onnx", str(exports[17][0]), *common)
    assert by_torch["frames"] == by_onnx["frames"] == 12
    (one,), (other,) = by_torch["windows"], by_onnx["windows"]
    assert [r["class"] for r in one["top5"]] == [r["class"] for r in other["top5"]]
    for a, b in zip(one["top5"], other["top5"], strict=True):
        assert a["probability"] == pytest.approx(b["probability"], abs=1e-5)


def test_text_output(checkpoint, tmp_path: Path) -> None:
    folder = write_body25(tmp_path / "clip", 10)
    ran = stgcn_in_process(
        "predict",
        "--checkpoint",
        str(checkpoint),
        "--openpose",
        str(folder),
        "--frame-size",
        "640x480",
    )
    assert ran.returncode == 0, ran.stderr
    lines = ran.stdout.splitlines()
    assert lines[0].startswith(f"{folder}: 10 frames, a pose in 9 (openpose layout); 1 window")
    assert lines[1].startswith("frames 0-9: ") and len(lines) == 2


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (["--openpose", "{clip}"], ["give the video's --frame-size WIDTHxHEIGHT"]),
        (["--openpose", "{clip}", "--frame-size", "640"], ["--frame-size expects WIDTHxHEIGHT"]),
        (
            ["--openpose", "{clip}", "--frame-size", "9x9", "--render", "{tmp}/o.mp4"],
            ["--render draws on the video"],
        ),
        (["--openpose", "{clip}", "--frame-size", "9x9", "--window", "0"], ["at least 1"]),
        (["--openpose", "{tmp}/none", "--frame-size", "9x9"], ["OpenPose folder not found"]),
        (["--coco-results", "{broken}", "--frame-size", "9x9"], ["is not valid JSON"]),
        (["--input", "{broken}", "--window", "8"], ["--window applies to --video"]),
        (["--input", "{broken}", "--openpose", "{clip}"], ["give one of --input CLIP, --video"]),
        (["--video", "{tmp}/none.mp4"], ["not found"]),
        (
            ["--openpose", "{clip}", "--frame-size", "9x9", "--save-skeleton", "{tmp}/s.txt"],
            ["does not end in .json"],
        ),
        (["--video", "{broken}", "--estimator", "nope"], ["unknown pose estimator 'nope'"]),
    ],
)
def test_bad_input_is_one_line(checkpoint, tmp_path: Path, args, fragments) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    folder = write_body25(tmp_path / "clip", 3)
    filled = [a.format(tmp=tmp_path, clip=folder, broken=broken) for a in args]
    ran = stgcn_in_process("predict", "--checkpoint", str(checkpoint), *filled)
    assert_one_line_error(ran, *fragments)


def test_no_person_is_one_line(checkpoint, tmp_path: Path) -> None:
    folder = tmp_path / "empty"
    folder.mkdir()
    for frame in range(4):
        (folder / f"e_{frame:012d}_keypoints.json").write_text('{"people": []}')
    saved = str(tmp_path / "s.json")
    ran = stgcn_in_process(
        "predict",
        "--checkpoint",
        str(checkpoint),
        "--openpose",
        str(folder),
        "--frame-size",
        "64x48",
        "--save-skeleton",
        saved,
    )
    assert_one_line_error(ran, "no person found in", "(4 frames)")
    assert not (tmp_path / "s.json").exists()


def test_a_checkpoint_runs_windows_in_onnxruntime_unless_told_pytorch(
    checkpoint, tmp_path: Path
) -> None:
    """``--engine auto`` exports the checkpoint and runs its windows in onnxruntime (the
    faster fp32 engine, stgcn_export.engines.faster_engine); the same windows in PyTorch
    give the same classes and probabilities."""
    folder = write_body25(tmp_path / "clip", 16)
    common = ["--checkpoint", str(checkpoint), "--openpose", str(folder)]
    common += ["--frame-size", f"{WIDTH}x{HEIGHT}", "--window", "8"]
    by_auto = predicted(*common)
    by_torch = predicted(*common, "--engine", "pytorch")
    told = stgcn_in_process("predict", *common)
    assert told.returncode == 0, told.stderr
    assert "(onnxruntime, dataset synthetic)" in told.stdout.splitlines()[0]
    assert len(by_auto["windows"]) == len(by_torch["windows"]) == 3
    for one, other in zip(by_auto["windows"], by_torch["windows"], strict=True):
        assert [r["class"] for r in one["top5"]] == [r["class"] for r in other["top5"]]
        for a, b in zip(one["top5"], other["top5"], strict=True):
            assert a["probability"] == pytest.approx(b["probability"], abs=1e-5)


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--engine", "onnxruntime", "--explain"], "--explain needs PyTorch's gradients"),
        (["--engine", "pytorch", "--onnx", "{onnx}"], "an --onnx file runs in onnxruntime"),
    ],
)
def test_an_engine_that_cannot_run_is_one_line(
    checkpoint, exports, tmp_path: Path, args, fragment
) -> None:
    folder = write_body25(tmp_path / "clip", 3)
    filled = [a.format(onnx=exports[17][0]) for a in args]
    model = [] if "--onnx" in args else ["--checkpoint", str(checkpoint)]
    ran = stgcn_in_process(
        "predict", *model, "--openpose", str(folder), "--frame-size", "9x9", *filled
    )
    assert_one_line_error(ran, fragment)
