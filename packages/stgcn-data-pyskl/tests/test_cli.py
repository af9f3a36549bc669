"""The commands as a user runs them: train on a generated 2D COCO-17 file and a 3D NTU-25
file, evaluate with one clip and with ten, inspect a file, predict one clip."""

from __future__ import annotations

import json
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from stgcn_data_pyskl import dataset
from stgcn_data_pyskl.sample_files import make_annotations

from stgcn import load_model
from stgcn.records import BuildRequest, NamedClipRequest, SampleRequest


def build(split: str, path: Path, options: dict):
    return dataset.build(BuildRequest(split, path, options, training=split == "train"))


def read_sample(path: Path, options: dict):
    return dataset.read_sample(SampleRequest(path, options))


def read_named_clip(path: Path, clip: str, options: dict):
    return dataset.read_named_clip(NamedClipRequest(path, clip, options))


def stgcn(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "stgcn", *args], capture_output=True, text=True, timeout=600
    )


def _train(path: Path, work: Path, *extra: str) -> Path:
    done = stgcn(
        "run",
        "--dataset",
        "pyskl",
        "--data-path",
        str(path),
        "--work-dir",
        str(work),
        "--data-option",
        "split=xsub",
        "--data-option",
        "clip_len=16",
        "--epochs",
        "2",
        "--batch-size",
        "8",
        *extra,
    )
    assert done.returncode == 0, done.stderr
    return work / "checkpoints" / "best.pth.tar"


@pytest.mark.parametrize(
    ("fixture", "joints", "layout", "score"),
    [("file_2d", 17, "coco", True), ("file_3d", 25, "ntu-rgb+d", False)],
)
def test_train_then_evaluate_with_one_and_ten_clips(
    request, tmp_path: Path, fixture: str, joints: int, layout: str, score: bool
) -> None:
    path = request.getfixturevalue(fixture)
    best = _train(path, tmp_path / "run", "--lr-scaling", "none")
    checkpoint = torch.load(best, weights_only=True)
    facts = checkpoint["data_facts"]
    assert facts["num_class"] == 4 and facts["layout"] == layout
    assert facts["score_channel"] is score
    assert checkpoint["model_config"]["layout"]["num_node"] == joints

    # fp32 pinned: the scores are compared with an fp32 forward pass below, and the cpu
    # backend's default is bf16 on a CPU with native bf16
    one = stgcn(
        "eval",
        "--checkpoint",
        str(best),
        "--json",
        "--data-option",
        "num_clips=1",
        "--save-scores",
        str(tmp_path / "1.npz"),
        "--precision",
        "fp32",
    )
    assert one.returncode == 0, one.stderr
    ten = stgcn(  # the recipe's evaluation: ten clips, as PYSKL tests
        "eval",
        "--checkpoint",
        str(best),
        "--json",
        "--save-scores",
        str(tmp_path / "10.npz"),
        "--precision",
        "fp32",
    )
    assert ten.returncode == 0, ten.stderr
    first, second = json.loads(one.stdout), json.loads(ten.stdout)
    assert first["samples"] == second["samples"] == 9
    for result in (first, second):
        assert 0 <= result["top1"] <= result["top5"] <= 1
    model = load_model(best)
    for clips, name in ((1, "1.npz"), (10, "10.npz")):
        saved = np.load(tmp_path / name)
        split = build("val", path, {"split": "xsub", "clip_len": "16", "num_clips": str(clips)})
        assert saved["sample_ids"].tolist() == split.sample_names
        with torch.no_grad():
            expected = [
                model(x.reshape(-1, *x.shape[-4:])).softmax(dim=1).mean(dim=0)
                for x, _ in (split[i] for i in range(len(split)))
            ]
        np.testing.assert_allclose(saved["scores"], torch.stack(expected).numpy(), atol=1e-5)


def test_the_pyskl_recipe_scales_the_lr_to_the_batch(file_3d: Path, tmp_path: Path) -> None:
    work = tmp_path / "run"
    _train(file_3d, work)
    config = json.loads((work / "config.json").read_text())
    assert config["lr_schedule"] == "cosine" and config["weight_decay"] == 5e-4
    assert config["data_options"] == {"sampling": "uniform", "clip_len": "16", "split": "xsub"}
    assert config["eval_data_options"] == {"num_clips": 10}
    first = json.loads((work / "metrics.jsonl").read_text().splitlines()[0])
    assert first["lr"] == pytest.approx(0.1 * 8 / 128, rel=0.2)  # cosine: just below


def test_inspect_lists_splits_classes_joints_and_lengths(file_2d: Path) -> None:
    data = pickle.loads(file_2d.read_bytes())
    lengths = [a["total_frames"] for a in data["annotations"]]
    text = stgcn("data", "inspect", str(file_2d))
    assert text.returncode == 0, text.stderr
    assert f"splits: xsub_train {len(data['split']['xsub_train'])}, xsub_val 9" in text.stdout
    assert "joints: 17  (2D; channels x, y, score)" in text.stdout
    as_json = json.loads(stgcn("data", "inspect", str(file_2d), "--json").stdout)
    assert as_json["classes"] == 4 and as_json["clips"] == 30
    assert as_json["frames"]["p0"] == min(lengths) and as_json["frames"]["p100"] == max(lengths)
    persons = {
        str(p): sum(a["keypoint"].shape[0] == p for a in data["annotations"]) for p in (1, 2, 3)
    }
    assert as_json["persons"] == {k: v for k, v in persons.items() if v}
    bad = stgcn("data", "inspect", str(file_2d.with_name("missing.pkl")))
    assert bad.returncode != 0 and bad.stderr.strip().startswith("stgcn: error: ")


def test_predict_one_annotation_file(file_2d: Path, tmp_path: Path) -> None:
    best = _train(file_2d, tmp_path / "run")
    ann = make_annotations(1, dims=2, joints=17, seed=9)["annotations"][0]
    clip = tmp_path / "clip.pkl"
    clip.write_bytes(pickle.dumps(ann, protocol=4))
    done = stgcn("predict", "--checkpoint", str(best), "--input", str(clip), "--json")
    assert done.returncode == 0, done.stderr
    top = json.loads(done.stdout)["top"]
    assert len(top) == 4 and {row["name"] for row in top} == {f"class {i}" for i in range(4)}

    from stgcn import load_model

    model = load_model(best)
    sample = torch.from_numpy(read_sample(clip, {"clip_len": "16"}))[None]
    with torch.no_grad():
        expected = model(sample).softmax(dim=1)[0]
    for row in top:
        assert row["probability"] == pytest.approx(float(expected[row["class"]]), abs=1e-5)
    # a clip named inside the whole annotation file, by its frame_dir

    name = pickle.loads(file_2d.read_bytes())["annotations"][3]["frame_dir"]
    named = stgcn("predict", "--checkpoint", str(best), "--input", f"{file_2d}#{name}", "--json")
    assert named.returncode == 0, named.stderr
    sample = torch.from_numpy(read_named_clip(file_2d, name, {"clip_len": "16"}))[None]
    with torch.no_grad():
        expected = model(sample).softmax(dim=1)[0]
    for row in json.loads(named.stdout)["top"]:
        assert row["probability"] == pytest.approx(float(expected[row["class"]]), abs=1e-5)
    missing = stgcn("predict", "--checkpoint", str(best), "--input", f"{file_2d}#nosuch")
    assert missing.returncode != 0
    assert missing.stderr.strip().startswith(f"stgcn: error: {file_2d} has no clip with frame_dir")
