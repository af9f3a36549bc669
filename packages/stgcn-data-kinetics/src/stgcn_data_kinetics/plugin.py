"""The ``stgcn`` entry point of this package: the ``kinetics`` dataset and its converter.

Importing this module must stay cheap (``stgcn plugins`` imports every plugin): the
dataset's readers and the converter are imported when used.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import click

from stgcn.hookspecs import hookimpl
from stgcn.records import Dataset, lazy
from stgcn_data_kinetics.classes import CLASS_NAMES, NUM_CLASS

#: The stgcn plugin API versions this plugin is written for (see stgcn.plugins.loading).
STGCN_API = ">=2,<3"

#: The reference Kinetics recipe: SGD with Nesterov momentum 0.9, weight decay 1e-4,
#: lr 0.1 dropping tenfold at epochs 20, 30, 40 and 50, 50 epochs, 256 clips a step
#: (the reference spread them over 4 GPUs; on N cards pass --batch-size 256/N).
REFERENCE_RECIPE: Mapping[str, Any] = {
    "epochs": 50,
    "batch_size": 256,
    "lr": 0.1,
    "steps": [20, 30, 40, 50],
    "lr_schedule": "step",
    "warmup_epochs": 0.0,
    "momentum": 0.9,
    "nesterov": True,
    "weight_decay": 1e-4,
    "dropout": 0.0,
}


KINETICS = Dataset(
    name="kinetics",
    num_class=NUM_CLASS,
    build=lazy("stgcn_data_kinetics.dataset:build"),
    layout="openpose",
    strategy="spatial",
    in_channels=3,
    num_person=2,
    description="Kinetics-skeleton (OpenPose on Kinetics-400): converted arrays or a release tree",
    needs_data_path=True,
    class_names=CLASS_NAMES,
    recipe=REFERENCE_RECIPE,
    read_sample=lazy("stgcn_data_kinetics.dataset:read_sample"),
    read_named_clip=lazy("stgcn_data_kinetics.dataset:read_named_clip"),
    augment_batch=lazy("stgcn_data_kinetics.batch_augment:augment_batch"),
    batch_augment_options={"random_choose": False, "random_move": False},
    presets={"reference": REFERENCE_RECIPE},
)


@hookimpl
def stgcn_register_datasets(register: Callable[[Dataset], None]) -> None:
    register(KINETICS)


@hookimpl
def stgcn_register_commands(cli: click.Group) -> None:
    from stgcn.commands import group
    from stgcn_data_kinetics.commands import convert_kinetics

    group(cli, "data", "convert").add_command(convert_kinetics, "kinetics")
