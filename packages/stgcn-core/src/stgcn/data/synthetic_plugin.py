"""Registers the built-in synthetic dataset, so that ``stgcn run`` needs no download."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from stgcn.data import synthetic
from stgcn.errors import StgcnError
from stgcn.plugins.hookspecs import hookimpl
from stgcn.plugins.records import Dataset

#: The stgcn plugin API versions this plugin is written for (see stgcn.plugins.registry).
STGCN_API = ">=1,<2"

OPTIONS = {"train_size": int, "val_size": int, "frames": int, "seed": int}


def build(
    split: str, data_path: Path | None, options: Mapping[str, Any]
) -> synthetic.SyntheticSkeletons:
    unknown = sorted(set(options) - set(OPTIONS))
    if unknown:
        raise StgcnError(
            f"synthetic dataset: unknown option {unknown[0]!r}; known: {', '.join(OPTIONS)}"
        )
    try:
        values = {key: OPTIONS[key](value) for key, value in options.items()}
    except ValueError as error:
        raise StgcnError(f"synthetic dataset: bad option value: {error}") from None
    size = values.get(f"{split}_size")
    return synthetic.SyntheticSkeletons(
        split,
        size=size,
        seed=values.get("seed", 0),
        frames=values.get("frames", synthetic.FRAMES),
    )


SYNTHETIC = Dataset(
    name="synthetic",
    description="procedurally animated skeleton actions, generated in memory",
    num_class=len(synthetic.CLASS_NAMES),
    build=build,
    layout="openpose",
    in_channels=3,
    num_person=synthetic.NUM_PERSON,
    needs_data_path=False,
    class_names=synthetic.CLASS_NAMES,
    recipe={
        "epochs": 11,
        "batch_size": 16,
        "lr": 0.005,
        "lr_schedule": "cosine",
        "warmup_epochs": 1,
        "init": "pytorch",
    },
)


@hookimpl
def stgcn_register_datasets(register: Callable[[Dataset], None]) -> None:
    register(SYNTHETIC)
