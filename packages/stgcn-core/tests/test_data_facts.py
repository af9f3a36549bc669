"""Datasets that describe themselves from their data (plugin API 1.2), and what their
authors hit: clips of different lengths, recipe keys, read_sample options, a plugin's
bug in build.

The plugin here is a real installed distribution whose classes exist only in its data
folder (``classes.txt``, one name a line) and whose clips are ``.npy`` files; it
registers ``num_class=0`` and a ``describe``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from stgcn.testing import ContractError, check_dataset, check_registered, check_samples
from stgcn.testing.helpers import make_distribution, run_stgcn

FOLDERS = """
from pathlib import Path

import numpy as np
import torch
from stgcn.errors import StgcnError
from stgcn.hookspecs import hookimpl
from stgcn.records import DataFacts, Dataset

STGCN_API = ">=1.2,<2"
BREAK = {breaks!r}


def read_classes(folder):
    path = Path(folder) / "classes.txt"
    if not path.is_file():
        raise StgcnError(f"{{folder}} has no classes.txt")
    return [line.strip() for line in path.read_text().splitlines() if line.strip()]


def describe(data_path, options):
    names = read_classes(data_path)
    return DataFacts(num_class=len(names), class_names=names)


def read_clip(path, options):
    clip = np.load(path).astype(np.float32)
    frames = int(options.get("frames", clip.shape[1]))
    return clip[:, :frames]


class Clips(torch.utils.data.Dataset):
    def __init__(self, split, folder, options):
        if "bug" in BREAK:
            raise KeyError("frames_total")
        self.files = sorted((Path(folder) / split).glob("*.npy"))
        self.options = dict(options)
        self.classes = read_classes(folder)
        if not self.files:
            raise StgcnError(f"{{folder}}: no {{split}} clips")

    def __len__(self):
        return len(self.files)

    def __getitem__(self, index):
        path = self.files[index]
        clip = read_clip(path, self.options)
        if "lengths" in BREAK:
            clip = clip[:, : 4 + index % 3]
        return torch.from_numpy(clip), self.classes.index(path.name.split("__")[0])


def build(split, data_path, options):
    if not Path(data_path, "classes.txt").is_file():
        raise StgcnError(f"{{data_path}}: no classes.txt")
    return Clips(split, data_path, options)


@hookimpl
def stgcn_register_datasets(register):
    recipe = {{"epochs": 2, "batch_size": 4}}
    if "recipe" in BREAK:
        recipe["batch_sise"] = 4
    register(
        Dataset(
            name="folders",
            num_class=0,
            build=build,
            layout="openpose",
            describe=describe,
            read_sample=read_clip,
            recipe=recipe,
            score_channel=True,
        )
    )
"""

CLASSES = ["wave", "jump", "sit"]


def _install(site: Path, *breaks: str) -> None:
    make_distribution(site, "stgcn-folders", "1.0", "fake_folders", FOLDERS.format(breaks=breaks))


def _write_data(root: Path, frames: int = 8) -> Path:
    rng = np.random.default_rng(0)
    (root / "classes.txt").parent.mkdir(parents=True, exist_ok=True)
    (root / "classes.txt").write_text("\n".join(CLASSES) + "\n")
    for split, count in (("train", 12), ("val", 6)):
        (root / split).mkdir()
        for index in range(count):
            label = index % len(CLASSES)
            clip = rng.normal(size=(3, frames, 18, 2)).astype(np.float32)
            clip[:, :, :, 0] += label  # learnable: the class shifts the first person
            np.save(root / split / f"{CLASSES[label]}__{index}.npy", clip)
    return root


def test_a_dataset_whose_classes_come_from_its_data_passes_the_kit(site, tmp_path) -> None:
    _install(site)
    check_dataset("folders", _write_data(tmp_path / "data"))


def test_the_kit_refuses_clips_of_different_lengths(site, tmp_path) -> None:
    _install(site, "lengths")
    with pytest.raises(ContractError, match="every clip of a split must have the same shape"):
        check_samples("folders", _write_data(tmp_path / "data"))


def test_run_with_clips_of_different_lengths_is_one_line_naming_the_rule(site, tmp_path) -> None:
    _install(site, "lengths")
    data = _write_data(tmp_path / "data")
    work = tmp_path / "run"
    done = run_stgcn(
        "run",
        "--dataset",
        "folders",
        "--data-path",
        str(data),
        "--work-dir",
        str(work),
        "--epochs",
        "1",
        site=site,
    )
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert lines[-1].startswith("stgcn: error: dataset 'folders' gave clips of different shapes")
    assert "Traceback" not in done.stderr
    assert not (work / "checkpoints").exists()


def test_the_kit_checks_recipe_keys_at_registration(site) -> None:
    _install(site, "recipe")
    with pytest.raises(ContractError, match="unknown setting 'batch_sise'"):
        check_registered("folders")


def test_a_bug_in_build_is_one_line_naming_the_plugin_with_the_traceback_under_debug(
    site, tmp_path
) -> None:
    _install(site, "bug")
    data = _write_data(tmp_path / "data")
    args = ["run", "--dataset", "folders", "--data-path", str(data), "--epochs", "1"]
    done = run_stgcn(*args, "--work-dir", str(tmp_path / "a"), site=site)
    assert done.returncode != 0 and "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines()[-1] == (
        "stgcn: error: dataset 'folders' (plugin stgcn-folders) failed in build('train'): "
        "KeyError: 'frames_total'; --debug shows the traceback"
    )
    debug = run_stgcn("--debug", *args, "--work-dir", str(tmp_path / "b"), site=site)
    assert debug.returncode != 0
    assert "Traceback" in debug.stderr and "frames_total" in debug.stderr


def test_checkpoint_holds_the_facts_and_eval_predict_export_need_no_data(site, tmp_path) -> None:
    _install(site)
    data = _write_data(tmp_path / "data")
    work = tmp_path / "run"
    trained = run_stgcn(
        "run",
        "--dataset",
        "folders",
        "--data-path",
        str(data),
        "--work-dir",
        str(work),
        "--data-option",
        "frames=6",
        site=site,
    )
    assert trained.returncode == 0, trained.stderr
    best = work / "checkpoints" / "best.pth.tar"
    stored = torch.load(best, weights_only=True)
    assert stored["data_facts"]["num_class"] == 3
    assert stored["data_facts"]["class_names"] == CLASSES
    assert stored["model_config"]["num_class"] == 3

    evaluated = run_stgcn("eval", "--checkpoint", str(best), "--json", site=site)
    assert evaluated.returncode == 0, evaluated.stderr
    assert json.loads(evaluated.stdout)["samples"] == 6

    clip = data / "val" / "jump__1.npy"
    kept = tmp_path / "clip.npy"
    kept.write_bytes(clip.read_bytes())
    (data / "classes.txt").unlink()  # the data is gone: the checkpoint alone must do
    predicted = run_stgcn(
        "predict",
        "--checkpoint",
        str(best),
        "--input",
        str(kept),
        "--json",
        "--top",
        "3",
        site=site,
    )
    assert predicted.returncode == 0, predicted.stderr
    assert {row["name"] for row in json.loads(predicted.stdout)["top"]} == set(CLASSES)

    onnx_file = tmp_path / "model.onnx"
    exported = run_stgcn(
        "export", "onnx", "--checkpoint", str(best), "--output", str(onnx_file), site=site
    )
    assert exported.returncode == 0, exported.stderr
    via_onnx = run_stgcn(
        "predict",
        "--onnx",
        str(onnx_file),
        "--input",
        str(kept),
        "--json",
        "--top",
        "3",
        site=site,
    )
    assert via_onnx.returncode == 0, via_onnx.stderr
    torch_top = json.loads(predicted.stdout)["top"]
    onnx_top = json.loads(via_onnx.stdout)["top"]
    assert [r["name"] for r in onnx_top] == [r["name"] for r in torch_top]
    for ours, theirs in zip(onnx_top, torch_top, strict=True):
        assert ours["probability"] == pytest.approx(theirs["probability"], abs=1e-4)


def test_read_sample_gets_the_models_data_options(site, tmp_path) -> None:
    """The model trained with frames=6 reads a raw clip as 6 frames: the same logits as
    the first 6 frames given as a .npy sample."""
    _install(site)
    from stgcn.data.facts import read_sample
    from stgcn.plugins import registry as plugins
    from stgcn.plugins.kinds import DATASETS

    plugins.reset()
    record = plugins.get_registry().get(DATASETS, "folders")
    clip = np.arange(3 * 8 * 18 * 2, dtype=np.float32).reshape(3, 8, 18, 2)
    path = tmp_path / "clip.npy"
    np.save(path, clip)
    assert read_sample(record, path, {"frames": "6"}).shape == (3, 6, 18, 2)
    assert read_sample(record, path, {}).shape == (3, 8, 18, 2)


def test_a_read_sample_of_api_1_1_gets_the_path_alone(tmp_path) -> None:
    from stgcn.data.facts import read_sample
    from stgcn.records import Dataset

    seen = []
    record = Dataset("old", 2, build=lambda *a: [], read_sample=lambda path: seen.append(path))
    read_sample(record, tmp_path / "x", {"frames": "3"})
    assert seen == [tmp_path / "x"]


def test_the_checkpoint_names_its_data_absolutely_and_a_moved_folder_is_one_line(
    site, tmp_path
) -> None:
    _install(site)
    _write_data(tmp_path / "project" / "clips")
    trained = run_stgcn(
        "run",
        "--dataset",
        "folders",
        "--data-path",
        "clips",
        "--work-dir",
        "run",
        "--epochs",
        "1",
        site=site,
        cwd=tmp_path / "project",
    )
    assert trained.returncode == 0, trained.stderr
    best = tmp_path / "project" / "run" / "checkpoints" / "best.pth.tar"
    stored = torch.load(best, weights_only=True)["config"]["data_path"]
    assert stored == str(tmp_path / "project" / "clips")

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    evaluated = run_stgcn("eval", "--checkpoint", str(best), "--json", site=site, cwd=elsewhere)
    assert evaluated.returncode == 0, evaluated.stderr

    (tmp_path / "project" / "clips").rename(elsewhere / "clips")
    missing = run_stgcn("eval", "--checkpoint", str(best), site=site, cwd=elsewhere)
    assert missing.returncode == 1
    assert missing.stderr.strip().splitlines() == [
        f"stgcn: error: data path not found: {stored} (the training run's, stored in {best}); "
        "give the data's folder here with --data-path"
    ]
    moved = run_stgcn(
        "eval",
        "--checkpoint",
        str(best),
        "--data-path",
        "clips",
        "--json",
        site=site,
        cwd=elsewhere,
    )
    assert moved.returncode == 0, moved.stderr
    assert json.loads(moved.stdout)["samples"] == 6
