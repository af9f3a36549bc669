"""The zoo's models bring PYSKL's recipe (``configs/stgcn++/stgcn++_ntu60_xsub_3dkp/j.py``,
written out here from that file, not from our code): the settings of a run on a dataset
without a recipe, the same under the ``pyskl`` dataset and its ``--preset pyskl`` (with
the data options that dataset reads), and PYSKL's lr rule on the synthetic set, whose
own lr is tuned for ST-GCN; ST-GCN's settings there are untouched."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from stgcn.plugins.kinds import DATASETS, MODELS
from stgcn.plugins.registry import get_registry
from stgcn.records import Dataset
from stgcn.training.config import RunConfig
from stgcn.training.setup import ModelLookups, resolve_run_config

#: PYSKL's j.py: optimizer SGD(lr=0.1, momentum=0.9, weight_decay=0.0005, nesterov=True),
#: lr_config CosineAnnealing(min_lr=0, by_epoch=False), total_epochs 16 of RepeatDataset
#: times=5, videos_per_gpu 16 on 8 GPUs (lr 0.1 for 128, scaled linearly elsewhere)
PYSKL_J = {
    "lr": 0.1,
    "momentum": 0.9,
    "weight_decay": 0.0005,
    "nesterov": True,
    "lr_schedule": "cosine",
    "epochs": 16 * 5,
    "batch_size": 16,
    "lr_scaling": "linear",
    "lr_reference_batch": 128,
    "warmup_epochs": 0.0,
}
#: its pipelines: UniformSample(clip_len=100), and num_clips=10 for testing
PYSKL_DATA = {"sampling": "uniform", "clip_len": 100}
PYSKL_TEST = {"num_clips": 10}

MODELS_UNDER_TEST = ("stgcnpp", "ctrgcn")


def _config(model: str, dataset: Dataset, preset: str | None = None) -> RunConfig:
    registry = get_registry()
    models = ModelLookups(lambda name: registry.get(MODELS, name), lambda weights: None)
    typed = {"model": model, "dataset": dataset.name}
    return resolve_run_config(typed, lambda name: dataset, None, preset, False, models)[0]


def _settings(config: RunConfig) -> dict[str, Any]:
    return {key: getattr(config, key) for key in PYSKL_J}


@pytest.mark.parametrize("model", MODELS_UNDER_TEST)
def test_a_dataset_without_a_recipe_trains_with_pyskls(model: str) -> None:
    synthetic = get_registry().get(DATASETS, "synthetic")
    bare = dataclasses.replace(synthetic, name="bare", recipe={}, presets={})
    config = _config(model, bare)
    assert _settings(config) == PYSKL_J
    # at the batch of 16 a step, 0.1 x 16 / 128
    assert config.lr * config.batch_size / config.lr_reference_batch == pytest.approx(0.0125)


@pytest.mark.parametrize("model", MODELS_UNDER_TEST)
@pytest.mark.parametrize("preset", [None, "pyskl"])
def test_the_pyskl_dataset_and_its_preset_give_pyskls_recipe(model: str, preset: str) -> None:
    pytest.importorskip("stgcn_data_pyskl")
    config = _config(model, get_registry().get(DATASETS, "pyskl"), preset)
    assert _settings(config) == PYSKL_J
    assert (config.data_options, config.eval_data_options) == (PYSKL_DATA, PYSKL_TEST)


@pytest.mark.parametrize("model", MODELS_UNDER_TEST)
def test_on_the_synthetic_set_the_models_take_pyskls_lr_rule(model: str) -> None:
    synthetic = get_registry().get(DATASETS, "synthetic")
    config = _config(model, synthetic)
    # the set's length, and PYSKL's lr for the set's batch of 16 (0.1 x 16 / 128), given
    # as the lr of a step, as the set's own lr is, so that --lr means the same for all
    expected = {**PYSKL_J, "epochs": 11, "warmup_epochs": 1.0, "lr": 0.0125, "lr_scaling": "none"}
    if model == "ctrgcn":
        assert config.init == "reference"  # PYSKL's, not the set's PyTorch default
        expected["lr"] = 0.05  # four times: measured 0.68 best top-1 with 0.0125, 0.86 so
    assert _settings(config) == expected
    stgcn = _config("stgcn", synthetic)
    assert (stgcn.lr, stgcn.lr_scaling, stgcn.init) == (0.005, "none", "pytorch")
    assert stgcn.weight_decay == RunConfig().weight_decay
