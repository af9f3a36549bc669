"""Published training recipes that dataset plugins offer as presets.

A recipe belongs to the model and the toolkit that published it, not to one dataset:
PYSKL trains ST-GCN the same way on every skeleton set it ships. Dataset plugins take
these mappings into their ``recipe`` or ``presets`` (with their own data options)
rather than writing the figures again.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

#: PYSKL's ST-GCN recipe (its configs/stgcn): SGD lr 0.1 for a total batch of 128 (16 a
#: card on 8 cards; scaled linearly for other totals), momentum 0.9, Nesterov, weight
#: decay 5e-4, cosine annealing per iteration, 80 epochs (16 x RepeatDataset 5), 100
#: frames sampled uniformly; validation during training with one clip, ``stgcn eval``
#: of the run with 10, their scores averaged, as PYSKL tests. A dataset applies the
#: ``sampling``, ``clip_len`` and ``num_clips`` data options it understands.
PYSKL_STGCN: Mapping[str, Any] = MappingProxyType(
    {
        "epochs": 80,
        "batch_size": 16,
        "lr": 0.1,
        "lr_scaling": "linear",
        "lr_reference_batch": 128,
        "lr_schedule": "cosine",
        "warmup_epochs": 0.0,
        "momentum": 0.9,
        "nesterov": True,
        "weight_decay": 5e-4,
        "dropout": 0.0,
        "data_options": {"sampling": "uniform", "clip_len": 100},
        "eval_data_options": {"num_clips": 10},
    }
)
