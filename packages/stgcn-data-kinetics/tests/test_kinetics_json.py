"""The ``kinetics-json`` dataset: a Kinetics-skeleton tree of one's own classes, its
classes read from its label files (plugin API 1.2 ``describe``); what ``stgcn data
extract`` writes trains with ``stgcn run`` and its checkpoint names those classes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from kinetics_helpers import FAST, assert_one_line_error
from stgcn_data_kinetics.own_classes import class_names
from stgcn_data_kinetics.sample_trees import make_release_tree

from stgcn.errors import StgcnError
from stgcn.plugins.registry import get_registry
from stgcn.records import DATASETS
from stgcn.testing import DatasetContract
from stgcn.testing.helpers import run_stgcn


class TestKineticsJson(DatasetContract):
    name = "kinetics-json"
    options = {"window": "8", "max_frame": "16"}  # noqa: RUF012

    def data_path(self, tmp_path: Path) -> Path:
        return make_release_tree(tmp_path / "tree", train=6, val=3, frames=12, seed=4, num_class=3)


def test_classes_come_from_the_label_files(tmp_path: Path) -> None:
    root = make_release_tree(tmp_path / "tree", train=6, val=3, frames=12, seed=4, num_class=3)
    record = get_registry().get(DATASETS, "kinetics-json")
    assert record.num_class == 0 and record.describe is not None
    facts = record.describe(root, {})
    used = {}
    for split in ("train", "val"):
        for entry in json.loads((root / f"kinetics_{split}_label.json").read_text()).values():
            used[entry["label_index"]] = entry["label"]
    assert facts.num_class == max(used) + 1
    assert [facts.class_names[k] for k in sorted(used)] == [used[k] for k in sorted(used)]
    assert facts.layout == "openpose"
    labels = root / "kinetics_val_label.json"
    entries = json.loads(labels.read_text())
    first = next(iter(entries))
    entries[first]["label"] = "something else"
    labels.write_text(json.dumps(entries))
    with pytest.raises(StgcnError, match=r"label_index .* is both"):
        class_names(root)
    with pytest.raises(StgcnError, match=r"needs kinetics_train_label\.json"):
        record.describe(tmp_path, {})


def write_openpose(folder: Path, frames: int, phase: float) -> None:
    """An OpenPose COCO-18 folder (pixels of a 320x240 frame) of one person whose arms
    swing with ``phase``: a class differs from the other by its motion."""
    folder.mkdir(parents=True)
    for frame in range(frames):
        joints = np.array(
            [[160 + 20 * np.sin(phase * frame + j), 40 + 10 * j, 0.9] for j in range(18)]
        )
        document = {"people": [{"pose_keypoints_2d": joints.reshape(-1).tolist()}]}
        (folder / f"v_{frame:012d}_keypoints.json").write_text(json.dumps(document))


def test_an_extracted_set_trains_and_names_its_classes(tmp_path: Path) -> None:
    root = tmp_path / "skeletons"
    for label, phase in (("slow", 0.1), ("fast", 1.0), ("still", 0.0)):
        for index in range(3):
            write_openpose(root / label / f"{label}{index}", 10 + index, phase)
    out = tmp_path / "set"
    extracted = run_stgcn(
        "data",
        "extract",
        "--openpose",
        str(root),
        "--frame-size",
        "320x240",
        "--output",
        str(out),
        "--val-ratio",
        "0.34",
    )
    assert extracted.returncode == 0, extracted.stderr
    work = tmp_path / "run"
    trained = run_stgcn(
        "run",
        "--dataset",
        "kinetics-json",
        "--data-path",
        str(out),
        *FAST,
        "--data-option",
        "max_frame=16",
        "--work-dir",
        str(work),
    )
    assert trained.returncode == 0, trained.stderr
    saved = torch.load(work / "checkpoints" / "best.pth.tar", weights_only=True)
    assert saved["data_facts"]["class_names"] == ["fast", "slow", "still"]
    assert saved["model"]["fcn.weight"].shape[0] == 3
    clip = next((out / "kinetics_val").glob("*.json"))
    predicted = run_stgcn(
        "predict",
        "--checkpoint",
        str(work / "checkpoints" / "best.pth.tar"),
        "--input",
        str(clip),
        "--json",
    )
    assert predicted.returncode == 0, predicted.stderr
    top = json.loads(predicted.stdout)["top"]
    assert sorted(row["name"] for row in top) == ["fast", "slow", "still"]


def test_a_folder_that_is_not_a_tree_is_one_line(tmp_path: Path) -> None:
    ran = run_stgcn("run", "--dataset", "kinetics-json", "--data-path", str(tmp_path), *FAST)
    assert_one_line_error(ran.returncode, ran.stderr, "is not a Kinetics-skeleton tree")
