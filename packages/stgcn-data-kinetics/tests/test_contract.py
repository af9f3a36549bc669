"""The kinetics dataset keeps stgcn's dataset contract, from converted arrays and release trees."""

from __future__ import annotations

from pathlib import Path

from stgcn_data_kinetics.sample_trees import make_converted_tree, make_release_tree

from stgcn.testing import DatasetContract


class TestKineticsFromConvertedArrays(DatasetContract):
    name = "kinetics"
    options = {"window": "8"}  # noqa: RUF012

    def data_path(self, tmp_path: Path) -> Path:
        return make_converted_tree(tmp_path / "converted", train=5, val=3, frames=12, seed=3)


class TestKineticsFromAReleaseTree(DatasetContract):
    name = "kinetics"
    options = {"window": "8", "max_frame": "16"}  # noqa: RUF012

    def data_path(self, tmp_path: Path) -> Path:
        return make_release_tree(tmp_path / "release", train=5, val=3, frames=12, seed=4)
