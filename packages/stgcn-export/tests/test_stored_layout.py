"""A model file carries its whole layout (issue 40: "a checkpoint never depends on a
plugin being installed to be read"): a model trained on a third party's layout predicts
pose files, from its checkpoint and from its ONNX export, after that layout's plugin
(and the dataset's) is uninstalled; the pose files' joints meet the stored layout's
joints by name, and the probabilities are the ones it gave with the plugins installed.

The layout's joints are COCO keypoint names, so a COCO results file (no OpenCV needed)
feeds it; the same path (:func:`stgcn_export.video_prediction.model_layout`) serves
``--video`` and ``--stream``.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from export_helpers import assert_one_line_error, class_probabilities, predict_json

from stgcn.plugins import registry as plugins
from stgcn.records import LAYOUTS
from stgcn.testing.helpers import make_distribution, stgcn_in_process

#: a layout of both arms, its joints named as COCO names them, and a dataset naming it
#: (each in a distribution of its own, as a third party would ship them)
ARMS_PLUGIN = """
from stgcn.hookspecs import hookimpl
from stgcn.records import Layout

STGCN_API = ">=2,<3"

ARMS = Layout(
    name="arms",
    num_node=6,
    edges=((0, 1), (1, 2), (0, 3), (3, 4), (4, 5)),
    center=0,
    joints=("left_shoulder", "left_elbow", "left_wrist",
            "right_shoulder", "right_elbow", "right_wrist"),
    description="both arms, shoulders joined",
)


@hookimpl
def stgcn_register_layouts(register):
    register(ARMS)
"""

REACHES_PLUGIN = """
import torch
from stgcn.hookspecs import hookimpl
from stgcn.records import Dataset

STGCN_API = ">=2,<3"


class Reaches(torch.utils.data.Dataset):
    # class 0 raises the left wrist, class 1 the right one
    def __init__(self, split):
        generator = torch.Generator().manual_seed(0 if split == "train" else 1)
        self.clips = torch.randn(8, 3, 8, 6, 1, generator=generator) * 0.05
        self.labels = [index % 2 for index in range(8)]
        for clip, label in zip(self.clips, self.labels):
            clip[1, :, 2 + 3 * label] -= 0.3
            clip[2] = 0.9

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, index):
        return self.clips[index], self.labels[index]


@hookimpl
def stgcn_register_datasets(register):
    register(Dataset(name="reaches", num_class=2, build=lambda request: Reaches(request.split),
                     layout="arms", num_person=1, needs_data_path=False,
                     class_names=("left", "right"), recipe={"epochs": 1, "batch_size": 4}))
"""

WIDTH, HEIGHT = 640, 480
FRAMES = 8
#: COCO-17 indices of the arms layout's joints, in its order
COCO_ARMS = [5, 7, 9, 6, 8, 10]


def write_coco_results(path: Path) -> np.ndarray:
    """A person raising the right wrist over ``FRAMES`` frames as COCO keypoint results
    in pixels; returns the arms' joints as fractions of the frame, ``(T, 6, 3)``."""
    entries, arms = [], []
    for frame in range(FRAMES):
        person = np.array(
            [[300 + 5 * j, 100 + 10 * j + frame, 0.5 + j / 40] for j in range(17)], np.float64
        )
        person[10, 1] -= 20 * frame  # the right wrist goes up
        entries.append(
            {"image_id": frame, "category_id": 1, "keypoints": person.reshape(-1).tolist()}
        )
        chosen = person[COCO_ARMS]
        arms.append(np.stack([chosen[:, 0] / WIDTH, chosen[:, 1] / HEIGHT, chosen[:, 2]], 1))
    path.write_text(json.dumps(entries))
    return np.asarray(arms)


def predicted(model: Path, results: Path, *extra: str) -> np.ndarray:
    """The class probabilities of the one window of the COCO results, from the model."""
    document = predict_json(
        model,
        "--coco-results",
        str(results),
        "--frame-size",
        f"{WIDTH}x{HEIGHT}",
        "--window",
        str(FRAMES),
        *extra,
    )
    (window,) = document["windows"]
    assert (window["start"], window["end"]) == (0, FRAMES)
    return class_probabilities(window["top5"])


def uninstall(site: Path, module: str, distribution: str) -> None:
    (site / f"{module}.py").unlink()
    shutil.rmtree(site / f"{distribution}.dist-info")


def test_a_model_predicts_pose_files_with_its_layouts_plugin_uninstalled(
    site: Path, tmp_path: Path
) -> None:
    make_distribution(site, "stgcn-layout-arms", "0.2", "fake_arms", ARMS_PLUGIN)
    make_distribution(site, "stgcn-data-reaches", "1.0", "fake_reaches", REACHES_PLUGIN)
    work = tmp_path / "run"
    ran = stgcn_in_process("run", "--dataset", "reaches", "--work-dir", str(work), "--seed", "1")
    assert ran.returncode == 0, ran.stderr
    checkpoint = work / "checkpoints" / "best.pth.tar"
    exported = tmp_path / "arms.onnx"
    ran = stgcn_in_process(
        "export", "onnx", "--checkpoint", str(checkpoint), "--output", str(exported),
        "--no-verify",
    )  # fmt: skip
    assert ran.returncode == 0, ran.stderr
    results = tmp_path / "results.json"
    arms = write_coco_results(results)
    installed = predicted(checkpoint, results)
    assert installed.sum() == pytest.approx(1.0, abs=1e-4)

    uninstall(site, "fake_arms", "stgcn_layout_arms-0.2")
    uninstall(site, "fake_reaches", "stgcn_data_reaches-1.0")
    plugins.reset()
    assert "arms" not in plugins.get_registry().table(LAYOUTS)

    skeleton = tmp_path / "skeleton.json"
    after = predicted(checkpoint, results, "--save-skeleton", str(skeleton))
    np.testing.assert_allclose(after, installed, rtol=1e-5, atol=1e-6)
    # the stored layout's joints, taken from the COCO file's by name
    saved = json.loads(skeleton.read_text())["data"]
    assert len(saved) == FRAMES
    for frame, entry in enumerate(saved):
        (person,) = entry["skeleton"]
        np.testing.assert_allclose(
            np.reshape(person["pose"], (6, 2)), arms[frame, :, :2], atol=1e-4
        )
        np.testing.assert_allclose(person["score"], arms[frame, :, 2], atol=1e-4)
    from_export = predicted(exported, results)
    np.testing.assert_allclose(from_export, installed, rtol=1e-4, atol=1e-5)

    text = stgcn_in_process(
        "predict", "--checkpoint", str(checkpoint), "--coco-results", str(results),
        "--frame-size", f"{WIDTH}x{HEIGHT}", "--window", str(FRAMES),
    )  # fmt: skip
    assert text.returncode == 0, text.stderr
    assert "(arms layout)" in text.stdout.splitlines()[0]


def test_a_stored_layout_a_pose_source_cannot_feed_is_refused_in_one_line(
    site: Path, tmp_path: Path
) -> None:
    """The stored layout's joints are checked by name as a registered one's are: COCO
    files give no thumb tip, so a model of a layout with one is refused in one line."""
    plugin = ARMS_PLUGIN.replace('"right_wrist")', '"left_thumb_tip")').replace(
        'name="arms"', 'name="arm-and-thumb"'
    )
    make_distribution(site, "stgcn-layout-thumb", "0.1", "fake_thumb", plugin)
    dataset = REACHES_PLUGIN.replace('layout="arms"', 'layout="arm-and-thumb"')
    make_distribution(site, "stgcn-data-reaches", "1.0", "fake_reaches", dataset)
    work = tmp_path / "run"
    ran = stgcn_in_process("run", "--dataset", "reaches", "--work-dir", str(work))
    assert ran.returncode == 0, ran.stderr
    uninstall(site, "fake_thumb", "stgcn_layout_thumb-0.1")
    uninstall(site, "fake_reaches", "stgcn_data_reaches-1.0")
    plugins.reset()
    results = tmp_path / "results.json"
    write_coco_results(results)
    ran = stgcn_in_process(
        "predict", "--checkpoint", str(work / "checkpoints" / "best.pth.tar"),
        "--coco-results", str(results), "--frame-size", f"{WIDTH}x{HEIGHT}",
    )  # fmt: skip
    assert_one_line_error(
        ran, "coco-results files give no joint for 'left_thumb_tip' of layout 'arm-and-thumb'"
    )
