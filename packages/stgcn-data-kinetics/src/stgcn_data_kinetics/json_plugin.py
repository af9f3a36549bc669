"""The ``stgcn`` entry point of the ``kinetics-json`` dataset (your own classes in the
Kinetics-skeleton format, as ``stgcn data extract`` writes them).

A module of its own, apart from :mod:`stgcn_data_kinetics.plugin`, so that a failure to
load one of the two datasets leaves the other.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from stgcn.hookspecs import hookimpl
from stgcn.records import Dataset, lazy

#: The stgcn plugin API versions this plugin is written for (see stgcn.plugins.loading).
STGCN_API = ">=2,<3"

#: A starting point for a few hundred clips of a few classes, not a published recipe:
#: PyTorch's fan-in initialisation and a cosine schedule learn small sets faster than the
#: reference Kinetics recipe (50 epochs of 256-clip batches at lr 0.1), which suits 240,000.
SMALL_SET_RECIPE: Mapping[str, Any] = {
    "epochs": 30,
    "batch_size": 16,
    "lr": 0.05,
    "lr_schedule": "cosine",
    "warmup_epochs": 1.0,
    "init": "pytorch",
}


KINETICS_JSON = Dataset(
    name="kinetics-json",
    num_class=0,  # the label files decide
    build=lazy("stgcn_data_kinetics.own_classes:build"),
    layout="openpose",
    strategy="spatial",
    in_channels=3,
    num_person=2,
    description="Kinetics-skeleton JSON tree of your own classes (stgcn data extract)",
    needs_data_path=True,
    recipe=SMALL_SET_RECIPE,
    read_sample=lazy("stgcn_data_kinetics.own_classes:read_sample"),
    describe=lazy("stgcn_data_kinetics.own_classes:describe"),
)


@hookimpl
def stgcn_register_datasets(register: Callable[[Dataset], None]) -> None:
    register(KINETICS_JSON)
