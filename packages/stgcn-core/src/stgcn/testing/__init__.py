"""A contract test kit for dataset plugins, called from a plugin's own pytest suite.

Two ways to use it: subclass :class:`DatasetContract` in a test module (one pytest
test per check), or call :func:`check_dataset` (every check) or one ``check_*``
function from a test of your own. Each check raises :class:`ContractError` (an
``AssertionError``) naming the dataset and what is wrong.

Nothing here imports pytest, and ``import stgcn`` does not import this package: it is
for test suites only.
"""

from __future__ import annotations

from stgcn.testing.contract import DatasetContract
from stgcn.testing.dataset_checks import (
    ContractError,
    check_bad_paths,
    check_dataloader_workers,
    check_dataset,
    check_layout,
    check_registered,
    check_samples,
    check_validation_deterministic,
)
from stgcn.testing.distributed_checks import check_distributed_sampling

__all__ = [
    "ContractError",
    "DatasetContract",
    "check_bad_paths",
    "check_dataloader_workers",
    "check_dataset",
    "check_distributed_sampling",
    "check_layout",
    "check_registered",
    "check_samples",
    "check_validation_deterministic",
]
