"""Uniform sampling (the pyskl preset) samples each clip's own frames, not its padding."""

from __future__ import annotations

from pathlib import Path

import pytest
from stgcn_data_ntu import dataset as ntu_dataset
from stgcn_data_ntu.benchmarks import BENCHMARKS
from stgcn_data_ntu.convert import convert_release
from stgcn_data_ntu.plugin import DATASETS

from stgcn.errors import StgcnError
from stgcn.records import BuildRequest


def build(benchmark, split: str, data_path: Path, options: dict, training: bool | None = None):
    """The dataset's ``build``, asked as the trainer asks (training: the train split)."""
    training = split == "train" if training is None else training
    return ntu_dataset.build(benchmark, BuildRequest(split, data_path, options, training=training))


XSUB = BENCHMARKS["xsub"]


def test_uniform_samples_come_from_the_clips_frames(raw: Path, tmp_path: Path) -> None:
    convert_release(raw, tmp_path / "converted", ["xsub"], max_frames=40)
    folder = tmp_path / "converted"
    whole = build(XSUB, "val", folder, {"max_frames": "40"})
    uniform = build(XSUB, "val", folder, {"sampling": "uniform", "clip_len": "25"})
    clip, _ = whole[0]
    sample, _ = uniform[0]
    assert tuple(sample.shape) == (3, 25, 25, 2)
    frames = [f for f in range(40) if clip[:, f].abs().sum() > 0]
    assert frames == list(range(10))  # the generated clips have 10 frames, then padding
    # 25 frames from a clip of 10: consecutive frames looping over the ten, no padding
    for t in range(25):
        assert any(bool((sample[:, t] == clip[:, f]).all()) for f in frames)
    again, _ = uniform[0]
    assert bool((again == sample).all())  # validation sampling is fixed
    ten, _ = build(
        XSUB, "val", folder, {"sampling": "uniform", "clip_len": "25", "num_clips": "10"}
    )[0]
    assert tuple(ten.shape) == (10, 3, 25, 25, 2)


def test_the_training_split_built_for_evaluation_is_sampled_as_validation(
    raw: Path, tmp_path: Path
) -> None:
    import pickle

    convert_release(raw, tmp_path / "converted", ["xsub"], max_frames=40)
    options = {"sampling": "uniform", "clip_len": "25", "num_clips": "2"}
    trained = build(XSUB, "train", tmp_path / "converted", options, training=True)
    evaluated = build(XSUB, "train", tmp_path / "converted", options, training=False)
    assert tuple(trained[0][0].shape) == (3, 25, 25, 2)
    first, second = evaluated[0][0], evaluated[0][0]
    assert tuple(first.shape) == (2, 3, 25, 25, 2) and bool((first == second).all())
    assert not pickle.loads(pickle.dumps(evaluated)).train  # as spawned workers get it
    # the registered record hands the request on as it is
    record = next(record for record in DATASETS if record.name == "ntu-xsub")
    request = BuildRequest("train", tmp_path / "converted", options, training=False)
    assert not record.build(request).train


def test_bad_sampling_options_are_one_line(raw: Path) -> None:
    with pytest.raises(StgcnError, match="sampling must be one of window, uniform"):
        build(XSUB, "train", raw, {"sampling": "random"})
    with pytest.raises(StgcnError, match="clip_len must be a positive integer"):
        build(XSUB, "train", raw, {"clip_len": "0"})


def test_the_pyskl_preset_is_pyskls_recipe() -> None:
    for dataset in DATASETS:
        preset = dataset.presets["pyskl"]
        assert preset["data_options"] == {"sampling": "uniform", "clip_len": 100}
        assert preset["eval_data_options"] == {"num_clips": 10}
        assert (preset["lr"], preset["lr_reference_batch"], preset["lr_scaling"]) == (
            0.1,
            128,
            "linear",
        )
        assert (preset["weight_decay"], preset["lr_schedule"], preset["epochs"]) == (
            5e-4,
            "cosine",
            80,
        )
        assert preset["nesterov"] is True
