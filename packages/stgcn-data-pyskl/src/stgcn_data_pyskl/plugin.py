"""The ``stgcn`` entry point of this package: the ``pyskl`` dataset and ``stgcn data
inspect``.

Importing this module must stay cheap (``stgcn plugins`` imports every plugin): the
readers are imported when used.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import click

from stgcn.data.coordinates import PYSKL as PYSKL_COORDINATES
from stgcn.data.recipes import PYSKL_STGCN
from stgcn.hookspecs import hookimpl
from stgcn.records import Dataset, lazy

#: The stgcn plugin API versions this plugin is written for (see stgcn.plugins.loading).
STGCN_API = ">=2,<3"

#: PYSKL's ST-GCN recipe, the default here (stgcn.data.recipes)
PYSKL_RECIPE: Mapping[str, Any] = dict(PYSKL_STGCN)

#: the reference ST-GCN's NTU recipe as PYSKL ran it ("vanilla"): clips padded to 300
#: frames, dropout 0.5, weight decay 1e-4, lr 0.1 dropping tenfold at epochs 10 and 50
VANILLA_RECIPE: Mapping[str, Any] = {
    "epochs": 80,
    "batch_size": 64,
    "lr": 0.1,
    "lr_schedule": "step",
    "steps": [10, 50],
    "momentum": 0.9,
    "nesterov": True,
    "weight_decay": 1e-4,
    "dropout": 0.5,
    "data_options": {"sampling": "window", "window": 300},
}


PYSKL = Dataset(
    name="pyskl",
    num_class=0,  # the labels of the file decide
    build=lazy("stgcn_data_pyskl.dataset:build"),
    layout="coco",  # until the file is read: its joint count decides
    strategy="spatial",
    in_channels=3,
    num_person=2,
    description="PYSKL/mmaction2 skeleton annotation pickle (--data-path FILE.pkl)",
    needs_data_path=True,
    recipe=PYSKL_RECIPE,
    presets={"pyskl": PYSKL_RECIPE, "vanilla": VANILLA_RECIPE},
    read_sample=lazy("stgcn_data_pyskl.dataset:read_sample"),
    read_named_clip=lazy("stgcn_data_pyskl.dataset:read_named_clip"),
    describe=lazy("stgcn_data_pyskl.dataset:describe"),
    # 2D pixels to [-1, 1] as PYSKL does (annotations.COORDINATES, not imported here:
    # that module loads numpy)
    coordinates=PYSKL_COORDINATES,
)


@hookimpl
def stgcn_register_datasets(register: Callable[[Dataset], None]) -> None:
    register(PYSKL)


@hookimpl
def stgcn_register_commands(cli: click.Group) -> None:
    from stgcn.commands import group
    from stgcn_data_pyskl.inspect_command import inspect_command

    group(cli, "data").add_command(inspect_command)
