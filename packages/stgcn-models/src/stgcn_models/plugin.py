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

from stgcn.data.recipes import PYSKL_STGCN
from stgcn.hookspecs import hookimpl
from stgcn.model import INIT_SCHEMES
from stgcn.plugins.settings import Settings, option
from stgcn.records import Model, Weights, lazy

#: The stgcn plugin API versions this plugin is written for (see stgcn.plugins.loading).
STGCN_API = ">=2.3,<3"

#: PYSKL's recipe for its graph networks (``configs/stgcn++/stgcn++_ntu60_xsub_3dkp/j.py``,
#: CTR-GCN's alike; ``stgcn.data.recipes.PYSKL_STGCN``, which is also the ``pyskl``
#: dataset's recipe and ``--preset pyskl``): SGD lr 0.1 for a total batch of 128 scaled
#: linearly (16 a step here), Nesterov momentum 0.9, weight decay 5e-4, cosine annealing
#: per iteration, 16 epochs x 5 repeats = 80. The model's defaults where a dataset's
#: recipe has none. Its sampling (100 frames, uniformly) and 10 test clips are data
#: options, which only a dataset that reads them can take: the ``pyskl`` dataset's recipe
#: carries them, so they are left out here (the synthetic set, say, has no ``clip_len``).
PYSKL_RECIPE: Mapping[str, Any] = {
    key: value
    for key, value in PYSKL_STGCN.items()
    if key not in ("data_options", "eval_data_options")
}

#: PYSKL's lr rule on the synthetic set, over that set's recipe, whose lr (0.005 for its
#: batch of 16, with PyTorch's initialisation) is tuned for ST-GCN. The set's other
#: settings stand (11 epochs, batch 16, cosine, one warm-up epoch): 0.1 x 16 / 128 =
#: 0.0125. Measured (full width, fp32, cpu backend, seed 0, two shared cores): ST-GCN++
#: best top-1 0.86 by epoch 8 with this lr, against 0.65 after all 11 epochs with the
#: set's 0.005. CTR-GCN learns the set more slowly: see CTRGCN_ON_SYNTHETIC.
#: The lr is given already scaled, for the set's batch, and not scaled again
#: (``lr_scaling: none``, as the set's own lr): so that ``--lr`` means on this set what it
#: means for ST-GCN, the lr of a step, whichever model is trained; with PYSKL's scaling
#: kept, a typed ``--lr 0.05`` had become 0.00625, and the gesture preset's test run fell
#: from 0.93 to 0.54.
SYNTHETIC_BATCH = 16
PYSKL_LR_ON_SYNTHETIC: Mapping[str, Any] = {
    "lr": PYSKL_STGCN["lr"] * SYNTHETIC_BATCH / PYSKL_STGCN["lr_reference_batch"],
    "lr_scaling": "none",
}


#: CTR-GCN on the synthetic set: PYSKL's initialisation (``init=reference``) and four
#: times PYSKL's lr for the set's batch, 0.05 a step, unscaled. Its full-width default
#: run (bf16, this machine's default; a 2-core AMD EPYC Zen 5) reached best top-1 0.68,
#: still rising, with 0.0125, and 0.86 with 0.05 (0.79 by epoch 8 of 11), as ST-GCN and
#: ST-GCN++ pass 0.8 with theirs.
CTRGCN_ON_SYNTHETIC: Mapping[str, Any] = {
    **PYSKL_LR_ON_SYNTHETIC,
    "lr": 4 * PYSKL_LR_ON_SYNTHETIC["lr"],
    "init": "reference",
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
    dataset_recipes={"synthetic": PYSKL_LR_ON_SYNTHETIC},
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
    dataset_recipes={"synthetic": CTRGCN_ON_SYNTHETIC},
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
