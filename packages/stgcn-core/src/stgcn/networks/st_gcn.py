"""ST-GCN as a model plugin: its options, its builder, and how it recognises the
reference's released state_dicts.

This module and the public re-export (``stgcn.STGCN``) are the only places outside the
model layer's network module that name the class; the rest of stgcn knows a network by
the model contract (:class:`stgcn.model.contract.SkeletonModel`).

Released reference checkpoints carry no configuration, only tensors; the layout,
strategy, class count and input channels are read back from the shapes and from the
adjacency buffer ``A`` they store, matched against every registered layout.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from stgcn.errors import StgcnError
from stgcn.model import INIT_SCHEMES
from stgcn.model.contract import ModelSpec, SkeletonModel
from stgcn.model.graph import STRATEGIES, Graph
from stgcn.model.layouts import Layout
from stgcn.plugins.hookspecs import hookimpl
from stgcn.plugins.records import Model, RecogniseRequest, Weights
from stgcn.plugins.settings import Settings, option

#: The stgcn plugin API versions this plugin is written for (see stgcn.plugins.loading).
STGCN_API = ">=2.3,<3"
NAME = "stgcn"
#: the keys every ST-GCN state_dict has
KEYS = ("A", "fcn.weight", "data_bn.weight")


@dataclass(frozen=True)
class STGCNOptions(Settings):
    """ST-GCN's own settings (``--model-option KEY=VALUE``). ``stgcn run --dropout`` and
    ``--init`` set the two of the same name, and a dataset's ``strategy`` the partition
    strategy, under ``--model-option``."""

    family: ClassVar[str] = "model stgcn"

    strategy: str = option(
        "spatial", "how each joint's neighbours are partitioned", choices=STRATEGIES
    )
    edge_importance_weighting: bool = option(True, "a learnt weight per edge and block")
    dropout: float = option(0.0, "dropout after each temporal convolution", within="[0, 1)")
    init: str = option(
        "reference",
        "fresh weights: the reference's N(0, 0.02) or PyTorch's fan-in draw",
        choices=INIT_SCHEMES,
    )
    max_hop: int = option(1, "the farthest neighbour, in edges", least=1)
    dilation: int = option(1, "the hop step of the distance partition", least=1)


def build(spec: ModelSpec) -> SkeletonModel:
    """An ST-GCN for ``spec``, its fresh weights drawn as ``init`` says."""
    from stgcn.model.network import STGCN

    options = spec.options if spec.options is not None else STGCNOptions()
    model = STGCN(
        spec.num_class,
        layout=spec.layout,
        strategy=options.strategy,
        in_channels=spec.in_channels,
        edge_importance_weighting=options.edge_importance_weighting,
        dropout=options.dropout,
        max_hop=options.max_hop,
        dilation=options.dilation,
        persons=spec.persons,
    )
    if options.init != "reference":
        model.reset_parameters(options.init)
    return model


def recognise(request: RecogniseRequest) -> ModelSpec | None:
    """The spec of the ST-GCN these weights fit (None when they lack its keys); the
    layout is the request's, else the candidate whose graph gives the stored ``A``."""
    weights = request.weights
    if not all(key in weights for key in KEYS):
        return None
    A = weights["A"]
    if A.dim() != 3 or A.shape[1] != A.shape[2]:
        raise StgcnError(f"not an ST-GCN state_dict: A has shape {tuple(A.shape)}")
    num_node = int(A.shape[1])
    found_class = int(weights["fcn.weight"].shape[0])
    if request.num_class is not None and request.num_class != found_class:
        raise StgcnError(
            f"the state_dict has {found_class} classes, not the {request.num_class} asked for"
        )
    if request.layout is not None:
        layouts = [request.layout]
    else:
        layouts = [layout for layout in request.layouts if layout.num_node == num_node]
    layout, strategy, max_hop = _match_graph(A, layouts, request.strategy)
    options = STGCNOptions(
        strategy=strategy,
        edge_importance_weighting="edge_importance.0" in weights,
        max_hop=max_hop,
    )
    channels = int(weights["data_bn.weight"].shape[0]) // num_node
    return ModelSpec(found_class, channels, layout, options=options)


def _match_graph(
    A: Any, layouts: Iterable[Layout], strategy: str | None
) -> tuple[Layout, str, int]:
    """The layout, strategy and hop count whose graph gives the stored adjacency."""
    num_node = int(A.shape[1])
    strategies = [strategy] if strategy is not None else list(STRATEGIES)
    stored = A.detach().cpu().numpy()
    for candidate in layouts:
        if candidate.num_node != num_node:
            raise StgcnError(
                f"layout {candidate.name!r} has {candidate.num_node} joints; "
                f"the state_dict has {num_node}"
            )
        for name in strategies:
            for max_hop in (1, 2, 3):
                graph = Graph(candidate, name, max_hop=max_hop)
                if graph.A.shape == stored.shape and np.allclose(graph.A, stored, atol=1e-6):
                    return candidate, name, max_hop
    raise StgcnError(
        f"cannot tell the layout and strategy of this state_dict (A {tuple(A.shape)}); "
        "give them with --layout and --strategy"
    )


ST_GCN = Model(
    name=NAME,
    build=build,
    description="ST-GCN (Yan et al., AAAI 2018), key for key the reference's",
    options=STGCNOptions,
    recognise=recognise,
)


@hookimpl
def stgcn_register_models(register: Callable[[Model], None]) -> None:
    register(ST_GCN)


#: where the reference's maintainers publish its three released checkpoints (the
#: original ``st_gcn.kinetics.pt``, ``st_gcn.ntu-xsub.pt``, ``st_gcn.ntu-xview.pt``, moved
#: to open-mmlab's storage when the code joined mmskeleton)
REFERENCE_SOURCE = "https://github.com/open-mmlab/mmskeleton/blob/master/doc/START_RECOGNITION.md"
REFERENCE_STORE = "https://open-mmlab.s3.ap-northeast-2.amazonaws.com/mmskeleton/models/st-gcn"
#: the reference's released weights: (name, file, layout, classes, dataset, reported
#: top-1); open-mmlab names each file with the start of its SHA-256 (the part after '-')
REFERENCE_WEIGHTS = (
    ("stgcn-kinetics", "st_gcn.kinetics-6fa43f73.pth", "openpose", 400, "kinetics", 31.60),
    ("stgcn-ntu-xsub", "st_gcn.ntu-xsub-300b57d4.pth", "ntu-rgb+d", 60, "ntu-xsub", 81.57),
    ("stgcn-ntu-xview", "st_gcn.ntu-xview-9ba67746.pth", "ntu-rgb+d", 60, "ntu-xview", 88.76),
)


@hookimpl
def stgcn_register_weights(register: Callable[[Weights], None]) -> None:
    for name, file, layout, classes, dataset, top1 in REFERENCE_WEIGHTS:
        register(
            Weights(
                name=name,
                model=NAME,
                url=f"{REFERENCE_STORE}/{file}",
                source=REFERENCE_SOURCE,
                layout=layout,
                num_class=classes,
                dataset=dataset,
                description=f"the reference's ST-GCN, top-1 {top1} as published",
                sha256=file.rsplit("-", 1)[1].split(".")[0],
            )
        )
