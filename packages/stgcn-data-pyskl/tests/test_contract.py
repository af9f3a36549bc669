"""The pyskl dataset keeps the contract every dataset plugin is held to: its classes,
layout and channels come from the file (Dataset.describe)."""

from __future__ import annotations

from pathlib import Path

from stgcn_data_pyskl.sample_files import write_annotation_file

from stgcn.testing import DatasetContract


class TestPyskl2D(DatasetContract):
    name = "pyskl"
    options = {"split": "xsub", "clip_len": "12"}  # noqa: RUF012

    def data_path(self, tmp_path: Path) -> Path:
        return write_annotation_file(tmp_path / "a.pkl", 14, dims=2, joints=17, frames=(5, 30))


class TestPyskl3DWindowedWithClips(DatasetContract):
    name = "pyskl"
    options = {"split": "xsub", "sampling": "window", "window": "20", "num_clips": "3"}  # noqa: RUF012

    def data_path(self, tmp_path: Path) -> Path:
        return write_annotation_file(tmp_path / "a.pkl", 14, dims=3, joints=25, frames=(5, 30))
