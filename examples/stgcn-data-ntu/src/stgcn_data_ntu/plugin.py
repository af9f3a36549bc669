"""The ``stgcn`` entry point of this package: ``ntu-xsub``, ``ntu-xview`` and the converter.

Only stgcn's public plugin API is used here: ``stgcn.hookspecs``, ``stgcn.records``,
``stgcn.errors``, ``stgcn.records.lazy``, ``stgcn.commands.group``, the frame-sampling helpers of
``stgcn.data.sampling`` and the published recipes of ``stgcn.data.recipes``.
Importing this module stays cheap, since ``stgcn plugins`` imports every plugin: the
readers load when a split is built.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

import click

from stgcn.data.recipes import PYSKL_STGCN
from stgcn.hookspecs import hookimpl
from stgcn.records import Dataset, lazy
from stgcn_data_ntu.benchmarks import BENCHMARKS, Benchmark
from stgcn_data_ntu.classes import CLASS_NAMES, NUM_CLASS

#: The stgcn plugin API versions this plugin is written for.
STGCN_API = ">=2,<3"

#: The published NTU RGB+D recipe: SGD, lr 0.1 dropping tenfold at epochs 10 and 50,
#: 80 epochs, 64 samples a step, dropout 0.5.
REFERENCE_RECIPE: Mapping[str, Any] = {
    "epochs": 80,
    "batch_size": 64,
    "lr": 0.1,
    "steps": [10, 50],
    "dropout": 0.5,
    "weight_decay": 1e-4,
}


#: PYSKL's ST-GCN recipe (stgcn.data.recipes): 100 frames sampled uniformly, cosine
#: lr, 10-clip testing. PYSKL also centres and aligns each 3D skeleton (PreNormalize3D),
#: which this plugin does not.
PYSKL_RECIPE: Mapping[str, Any] = dict(PYSKL_STGCN)


def _record(benchmark: Benchmark) -> Dataset:
    return Dataset(
        name=f"ntu-{benchmark.name}",
        num_class=NUM_CLASS,
        build=partial(lazy("stgcn_data_ntu.dataset:build"), benchmark),
        layout="ntu-rgb+d",
        strategy="spatial",
        in_channels=3,
        num_person=2,
        score_channel=False,  # x, y, z: bones and motion subtract all three
        description=f"NTU RGB+D 60, {benchmark.description}",
        class_names=CLASS_NAMES,
        recipe=REFERENCE_RECIPE,
        read_sample=lazy("stgcn_data_ntu.dataset:read_sample"),
        presets={"reference": REFERENCE_RECIPE, "pyskl": PYSKL_RECIPE},
    )


DATASETS = tuple(_record(benchmark) for benchmark in BENCHMARKS.values())


@hookimpl
def stgcn_register_datasets(register: Callable[[Dataset], None]) -> None:
    for dataset in DATASETS:
        register(dataset)


@hookimpl
def stgcn_register_commands(cli: click.Group) -> None:
    from stgcn.commands import group
    from stgcn_data_ntu.commands import convert_ntu

    group(cli, "data", "convert").add_command(convert_ntu, "ntu")
