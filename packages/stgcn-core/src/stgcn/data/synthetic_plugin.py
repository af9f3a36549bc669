"""Registers the built-in synthetic dataset, so that ``stgcn run`` needs no download.

``--data-option layout=mediapipe-hand`` swaps the bodies for hand gestures
(:mod:`stgcn.data.synthetic_hands`): the dataset's ``describe`` then gives the hand's
facts (21 joints, one hand a clip, the gesture names, PYSKL's coordinates), which the
checkpoint keeps, so that ``predict`` and ``export`` know the network is a hand's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

from stgcn.data import synthetic, synthetic_hands
from stgcn.plugins.hookspecs import hookimpl
from stgcn.plugins.records import BuildRequest, DataFacts, Dataset, DescribeRequest
from stgcn.plugins.settings import Settings, option

#: The stgcn plugin API versions this plugin is written for (see stgcn.plugins.loading).
STGCN_API = ">=2,<3"


#: the most clips of a split and frames of a clip an option may ask for
MOST_CLIPS = 1_000_000
MOST_FRAMES = 10_000


@dataclass(frozen=True)
class SyntheticOptions(Settings):
    """The synthetic dataset's ``--data-option KEY=VALUE`` settings."""

    family: ClassVar[str] = "synthetic dataset"

    # the upper bounds keep a split in memory: a million clips of 64 frames are 27 GB
    train_size: int | None = option(
        None, "clips in the training split", within=f"[1, {MOST_CLIPS}]"
    )
    val_size: int | None = option(
        None, "clips in the validation split", within=f"[1, {MOST_CLIPS}]"
    )
    frames: int | None = option(
        None,
        f"frames of each clip (default: {synthetic.FRAMES} for bodies, "
        f"{synthetic_hands.FRAMES} for hands)",
        within=f"[1, {MOST_FRAMES}]",
    )
    seed: int = option(0, "the seed the clips are drawn from", least=0)
    layout: str = option(
        synthetic.BODY_LAYOUT,
        "the skeleton: openpose bodies doing actions, or mediapipe-hand gestures",
        choices=synthetic.LAYOUTS,
    )


OPTIONS = tuple(SyntheticOptions.keys())


def build(request: BuildRequest) -> synthetic.SyntheticSkeletons:
    """One split of generated clips; the same clips whether trained on or not (the core
    augments training clips itself)."""
    values = SyntheticOptions.parse(request.options)
    size = values.train_size if request.split == "train" else values.val_size
    return synthetic.SyntheticSkeletons(
        request.split, size=size, seed=values.seed, frames=values.frames, layout=values.layout
    )


def describe(request: DescribeRequest) -> DataFacts:
    """The hand's facts where the clips are hands; the registered record's (bodies)
    otherwise."""
    values = SyntheticOptions.parse(request.options)
    if values.layout != synthetic.HAND_LAYOUT:
        return DataFacts()
    return DataFacts(
        num_class=len(synthetic_hands.GESTURES),
        class_names=synthetic_hands.GESTURES,
        layout=synthetic.HAND_LAYOUT,
        num_person=synthetic_hands.NUM_PERSON,
        coordinates=synthetic_hands.COORDINATES,
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
    describe=describe,
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
