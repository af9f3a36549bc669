"""A pytest-friendly base class: subclass it and every contract check is one test."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any, ClassVar

from stgcn.testing.dataset_checks import (
    check_bad_paths,
    check_dataloader_workers,
    check_layout,
    check_registered,
    check_samples,
    check_validation_deterministic,
)
from stgcn.testing.distributed_checks import check_distributed_sampling


class DatasetContract:
    """Subclass as ``TestSomething`` in a test module, set ``name``, and override
    ``data_path`` to write a few small files into pytest's ``tmp_path``::

        class TestMine(DatasetContract):
            name = "mine"
            options = {"frames": "16"}

            def data_path(self, tmp_path):
                return write_small_data(tmp_path)

    The class itself is not collected (its name does not start with ``Test``), and it
    needs no pytest import: the tests take pytest's ``tmp_path`` fixture by name.
    """

    #: the registered dataset name
    name: ClassVar[str] = ""
    #: ``--data-option`` pairs given to every build
    options: ClassVar[Mapping[str, Any]] = MappingProxyType({})
    #: how many items of each split the checks read
    limit: ClassVar[int] = 8

    def data_path(self, tmp_path: Path) -> Path | None:
        """The folder or file the dataset reads; None for a dataset that needs none."""
        return None

    def test_registered(self) -> None:
        check_registered(self.name)

    def test_samples(self, tmp_path: Path) -> None:
        check_samples(self.name, self.data_path(tmp_path), self.options, limit=self.limit)

    def test_layout(self, tmp_path: Path) -> None:
        check_layout(self.name, self.data_path(tmp_path), self.options)

    def test_validation_deterministic(self, tmp_path: Path) -> None:
        check_validation_deterministic(
            self.name, self.data_path(tmp_path), self.options, limit=self.limit
        )

    def test_dataloader_workers(self, tmp_path: Path) -> None:
        check_dataloader_workers(
            self.name, self.data_path(tmp_path), self.options, limit=self.limit
        )

    def test_distributed_sampling(self, tmp_path: Path) -> None:
        check_distributed_sampling(self.name, self.data_path(tmp_path), self.options)

    def test_bad_paths(self) -> None:
        check_bad_paths(self.name, self.options)
