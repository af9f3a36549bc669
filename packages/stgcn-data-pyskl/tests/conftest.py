"""Fixtures shared by the stgcn-data-pyskl tests: generated annotation files."""

from __future__ import annotations

from pathlib import Path

import pytest
from stgcn_data_pyskl.sample_files import write_annotation_file

# the shared plugin keeps hypothesis's storage out of the tree (test_properties_*.py)
pytest_plugins = ["stgcn.testing.pytest_plugin"]


@pytest.fixture
def file_2d(tmp_path: Path) -> Path:
    """30 clips of COCO-17 2D keypoints (pixels, scores, img_shape), 1 to 3 persons."""
    return write_annotation_file(tmp_path / "coco2d.pkl", 30, dims=2, joints=17, seed=1)


@pytest.fixture
def file_3d(tmp_path: Path) -> Path:
    """30 clips of NTU-25 3D keypoints, 1 to 3 persons."""
    return write_annotation_file(tmp_path / "ntu3d.pkl", 30, dims=3, joints=25, seed=2)
