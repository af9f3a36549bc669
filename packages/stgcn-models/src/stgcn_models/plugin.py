"""The ``stgcn`` entry point of this package: the models ``stgcnpp`` (PYSKL's ST-GCN++,
with its light hand-gesture configuration as ``preset=gesture``), ``ctrgcn`` (PYSKL's
CTR-GCN) and ``stgcn-pyskl`` (PYSKL's ST-GCN), their options and recipes.

Importing this module must stay cheap (``stgcn plugins`` imports every plugin): the
networks, and torch with them, are imported when a model is built or offered weights.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from stgcn.hookspecs import hookimpl
from stgcn.model import INIT_SCHEMES
from stgcn.plugins.settings import Settings, option
from stgcn.records import Model, Weights, lazy

#: The stgcn plugin API versions this plugin is written for (see stgcn.plugins.loading).
STGCN_API = ">=2.3,<3"

#: PYSKL's optimiser for its graph networks (``configs/stgcn++/stgcn++_ntu60_xsub_3dkp/j.py``
#: and CTR-GCN's alike): SGD with Nesterov momentum 0.9, weight decay 5e-4, cosine
#: annealing per iteration. Under the dataset's recipe, which decides the lr for its
#: batch, the length of a run and the sampling (the ``pyskl`` dataset's is PYSKL's:
#: lr 0.1 for a batch of 128 scaled linearly, 80 epochs, 100 frames, 10 test clips)
PYSKL_RECIPE: Mapping[str, Any] = {
    "lr_schedule": "cosine",
    "momentum": 0.9,
    "nesterov": True,
    "weight_decay": 5e-4,
}


@dataclass(frozen=True)
class Stages:
    """How a PYSKL ``STGCN`` backbone is staged: its blocks (``num_stages``) and the stages
    (counted from 1) that double the channels (``inflate_stages``) and halve the frames
    (``down_stages``)."""

    num_stages: int
    inflate_stages: tuple[int, ...]
    down_stages: tuple[int, ...]


#: ST-GCN++'s named configurations (``--model-option preset=NAME``): ``standard`` is
#: PYSKL's ``STGCN`` backbone as its ST-GCN++ configs build it (its defaults: 10 stages,
#: inflated and strided at 5 and 8); ``gesture`` is PYSKL's light hand-gesture network
#: (``demo/stgcnpp_gesture.py``: 6 stages, inflated and strided at 6 only), meant for
#: the ``mediapipe-hand`` layout, one person and 10-frame clips, as its demo feeds it
STGCNPP_PRESETS: Mapping[str, Stages] = {
    "standard": Stages(10, (5, 8), (5, 8)),
    "gesture": Stages(6, (6,), (6,)),
}


@dataclass(frozen=True)
class STGCNPPOptions(Settings):
    """ST-GCN++'s own settings (``--model-option KEY=VALUE``), those of PYSKL's
    ``STGCN`` backbone a config may change; ``stgcn run --dropout`` sets ``dropout``.
    ``preset`` picks the staging (:data:`STGCNPP_PRESETS`); ``num_stages``, where given,
    overrides its block count."""

    family: ClassVar[str] = "model stgcnpp"

    preset: str = option(
        "standard",
        "the staging: standard (10 stages, wider at 5 and 8) or gesture (PYSKL's hand "
        "gesture network: 6 stages, wider at 6)",
        choices=tuple(STGCNPP_PRESETS),
    )
    base_channels: int = option(64, "channels of the first stages (doubled as staged)", least=1)
    num_stages: int | None = option(
        None, "blocks in the backbone (PYSKL's num_stages; default: the preset's)", least=1
    )
    dropout: float = option(
        0.0,
        "dropout after each temporal block but the first (PYSKL's tcn_dropout)",
        within="[0, 1)",
    )

    @property
    def stages(self) -> Stages:
        """The preset's staging, with ``num_stages`` where given."""
        staged = STGCNPP_PRESETS[self.preset]
        if self.num_stages is None:
            return staged
        return Stages(self.num_stages, staged.inflate_stages, staged.down_stages)


STGCNPP = Model(
    name="stgcnpp",
    build=lazy("stgcn_models.stgcnpp:build"),
    description="ST-GCN++ (PYSKL, Duan et al. 2022), key for key PYSKL's",
    options=STGCNPPOptions,
    recipe=PYSKL_RECIPE,
    recognise=lazy("stgcn_models.stgcnpp:recognise"),
)


@dataclass(frozen=True)
class CTRGCNOptions(Settings):
    """CTR-GCN's own settings (``--model-option KEY=VALUE``), those of PYSKL's ``CTRGCN``
    backbone a config may change; ``stgcn run --dropout`` and ``--init`` set the two of
    the same name."""

    family: ClassVar[str] = "model ctrgcn"

    base_channels: int = option(64, "channels of the first blocks (doubled at 5 and 8)", least=1)
    kernel_size: int = option(5, "frames each temporal convolution spans (odd)", least=1)
    dropout: float = option(
        0.0,
        "dropout after each temporal block but the first (PYSKL's tcn_dropout)",
        within="[0, 1)",
    )
    init: str = option(
        "reference",
        "fresh weights: PYSKL's (Kaiming fan-out convolutions) or PyTorch's default",
        choices=INIT_SCHEMES,
    )


CTRGCN = Model(
    name="ctrgcn",
    build=lazy("stgcn_models.ctrgcn:build"),
    description="CTR-GCN (Chen et al., ICCV 2021), key for key PYSKL's",
    options=CTRGCNOptions,
    recipe=PYSKL_RECIPE,
    recognise=lazy("stgcn_models.ctrgcn:recognise"),
)


@dataclass(frozen=True)
class STGCNPysklOptions(Settings):
    """The settings of PYSKL's ST-GCN (``--model-option KEY=VALUE``) a config may
    change; ``stgcn run --dropout`` sets ``dropout``."""

    family: ClassVar[str] = "model stgcn-pyskl"

    base_channels: int = option(64, "channels of the first stages (doubled at 5 and 8)", least=1)
    num_stages: int = option(10, "blocks in the backbone (PYSKL's num_stages)", least=1)
    dropout: float = option(
        0.0,
        "dropout after each temporal unit but the first (PYSKL's tcn_dropout; 0.5 in "
        "its vanilla configs)",
        within="[0, 1)",
    )


STGCN_PYSKL = Model(
    name="stgcn-pyskl",
    build=lazy("stgcn_models.stgcn_pyskl:build"),
    description=(
        "ST-GCN as PYSKL builds it (importance-masked graph, 9x1 temporal convolutions), "
        "key for key PYSKL's: loads PYSKL's ST-GCN checkpoints"
    ),
    options=STGCNPysklOptions,
    recipe=PYSKL_RECIPE,
    recognise=lazy("stgcn_models.stgcn_pyskl:recognise"),
)


@hookimpl
def stgcn_register_models(register: Callable[[Model], None]) -> None:
    register(STGCNPP)
    register(CTRGCN)
    register(STGCN_PYSKL)


@hookimpl
def stgcn_register_weights(register: Callable[[Weights], None]) -> None:
    """PYSKL's released checkpoints of both models (``stgcn weights list``)."""
    from stgcn_models.released import released_weights

    for weights in released_weights():
        register(weights)
