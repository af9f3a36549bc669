"""The ``stgcn`` entry point of this package: the models ``stgcnpp`` (PYSKL's ST-GCN++),
``ctrgcn`` (PYSKL's CTR-GCN) and ``stgcn-pyskl`` (PYSKL's ST-GCN), their options and
recipes.

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
class STGCNPPOptions(Settings):
    """ST-GCN++'s own settings (``--model-option KEY=VALUE``), those of PYSKL's
    ``STGCN`` backbone a config may change; ``stgcn run --dropout`` sets ``dropout``."""

    family: ClassVar[str] = "model stgcnpp"

    base_channels: int = option(64, "channels of the first stages (doubled at 5 and 8)", least=1)
    num_stages: int = option(10, "blocks in the backbone (PYSKL's num_stages)", least=1)
    dropout: float = option(
        0.0,
        "dropout after each temporal block but the first (PYSKL's tcn_dropout)",
        within="[0, 1)",
    )


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
