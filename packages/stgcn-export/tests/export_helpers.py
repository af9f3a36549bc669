"""Test helpers of the export package: its one-line error check, a dataset plugin
written as a fake installed distribution, ``predict --json``'s probabilities, training on
a PYSKL pickle and writing a video (the shared ones are in stgcn.testing.helpers)."""

from __future__ import annotations

import json
import pickle
import subprocess
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from stgcn.testing.helpers import Ran, run_stgcn, stgcn_in_process


def assert_one_line_error(ran: Ran | subprocess.CompletedProcess[str], *fragments: str) -> None:
    """Failed, with one ``stgcn: error:`` line naming the problem, and no traceback."""
    assert ran.returncode != 0, ran.stdout
    lines = ran.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("stgcn: error: "), ran.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


#: A dataset plugin whose clips are JSON files {"skeleton": nested (C, T, V, M) list}.
JSON_CLIPS_PLUGIN = """
    import json

    import numpy as np

    from stgcn.errors import StgcnError
    from stgcn.hookspecs import hookimpl
    from stgcn.records import Dataset

    NAMES = tuple(f"move {i}" for i in range(10))


    def build(request):
        raise StgcnError("jsonclips: training is not part of this test plugin")


    def read_sample(request):
        with open(request.path) as stream:
            clip = json.load(stream)
        return np.asarray(clip["skeleton"], dtype=np.float32)


    @hookimpl
    def stgcn_register_datasets(register):
        register(Dataset(name="jsonclips", num_class=10, build=build, class_names=NAMES,
                         read_sample=read_sample, needs_data_path=False))
        register(Dataset(name="fourclips", num_class=4, build=build, read_sample=read_sample,
                         needs_data_path=False))
"""


def predict_json(model: Path, *args: str) -> dict[str, Any]:
    """``stgcn predict --json`` of a checkpoint, or of an ONNX export (``.onnx``)."""
    source = "--onnx" if model.suffix == ".onnx" else "--checkpoint"
    ran = stgcn_in_process("predict", source, str(model), *args, "--json")
    assert ran.returncode == 0, ran.stderr
    document: dict[str, Any] = json.loads(ran.stdout)
    return document


def class_probabilities(ranked: list[dict[str, Any]]) -> np.ndarray:
    """A ``top`` or ``top5`` list of every class as one probability per class index."""
    out = np.zeros(len(ranked))
    for row in ranked:
        out[row["class"]] = row["probability"]
    return out


def class_log_probabilities(ranked: list[dict[str, Any]]) -> np.ndarray:
    """:func:`class_probabilities`' logarithms (-inf for a class left out or below
    float64's range). predict's softmax is float64, so they are the logits less their
    log-sum-exp: a trained model's probabilities sit near 0 and 1, where differences
    of scale show in their logarithms and hardly in themselves."""
    with np.errstate(divide="ignore"):
        return np.log(class_probabilities(ranked))


def train_on_pickle(
    contents: dict[str, Any], folder: Path, data_options: Mapping[str, str], epochs: int = 1
) -> tuple[Path, Path]:
    """``contents`` written as a PYSKL pickle in ``folder`` and ``epochs`` of the real
    ``stgcn run --dataset pyskl`` on it: (the pickle, the best checkpoint)."""
    path = folder / "annotations.pkl"
    with path.open("wb") as stream:
        pickle.dump(contents, stream, protocol=4)
    options = [part for item in data_options.items() for part in ("--data-option", "=".join(item))]
    ran = run_stgcn(
        "run",
        "--dataset",
        "pyskl",
        "--data-path",
        str(path),
        "--work-dir",
        str(folder / "run"),
        *options,
        "--epochs",
        str(epochs),
        "--batch-size",
        "4",
        "--lr-scaling",
        "none",
    )
    assert ran.returncode == 0, ran.stderr
    return path, folder / "run" / "checkpoints" / "best.pth.tar"


def write_video(path: Path, images: Iterable[np.ndarray], fps: int = 5) -> Path:
    """An mp4 of ``images`` (BGR uint8, one size) through OpenCV's writer, as a camera
    or an editor would leave it; skips the test where OpenCV is not installed (the
    tests-pose session has it)."""
    cv2 = pytest.importorskip("cv2")
    path.parent.mkdir(parents=True, exist_ok=True)
    codec = cv2.VideoWriter_fourcc(*"mp4v")
    writer = None
    for image in images:
        if writer is None:
            height, width = image.shape[:2]
            writer = cv2.VideoWriter(str(path), codec, fps, (width, height))
        writer.write(image)
    assert writer is not None, "a video of no frames"
    writer.release()
    return path


def bar_video(path: Path, frames: int) -> Path:
    """An mp4 of ``frames`` frames (64x64, 5 frames a second) of a white bar sliding to
    the right, 5 pixels a frame."""
    images = []
    for frame in range(frames):
        image = np.zeros((64, 64, 3), np.uint8)
        image[20:44, 4 + 5 * frame : 12 + 5 * frame] = 255
        images.append(image)
    return write_video(path, images)


def frames_in(path: Path) -> int:
    """How many frames OpenCV decodes from the video at ``path``."""
    cv2 = pytest.importorskip("cv2")
    capture = cv2.VideoCapture(str(path))
    count = 0
    while capture.read()[0]:
        count += 1
    capture.release()
    return count
