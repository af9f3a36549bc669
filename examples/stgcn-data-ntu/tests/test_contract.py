"""Both ntu datasets keep stgcn's dataset contract, from raw files and from converted arrays."""

from __future__ import annotations

from pathlib import Path

from stgcn_data_ntu.convert import convert_release
from stgcn_data_ntu.sample_files import make_raw_folder

from stgcn.testing import DatasetContract


class TestNtuXsubFromRawFiles(DatasetContract):
    name = "ntu-xsub"
    options = {"max_frames": "16"}  # noqa: RUF012

    def data_path(self, tmp_path: Path) -> Path:
        return make_raw_folder(tmp_path / "raw", frames=10, seed=4)


class TestNtuXviewFromConvertedArrays(DatasetContract):
    name = "ntu-xview"
    options = {"max_frames": "16"}  # noqa: RUF012

    def data_path(self, tmp_path: Path) -> Path:
        raw = make_raw_folder(tmp_path / "raw", frames=10, seed=5)
        convert_release(raw, tmp_path / "converted", ["xview"], max_frames=20)
        return tmp_path / "converted"


class TestNtuXsubUniformlySampledWithTestClips(DatasetContract):
    """PYSKL's sampling (the pyskl preset): 6 frames spread over each clip's own length,
    validation samples of 3 clips."""

    name = "ntu-xsub"
    options = {"sampling": "uniform", "clip_len": "6", "num_clips": "3"}  # noqa: RUF012

    def data_path(self, tmp_path: Path) -> Path:
        raw = make_raw_folder(tmp_path / "raw", frames=10, seed=6)
        convert_release(raw, tmp_path / "converted", ["xsub"], max_frames=20)
        return tmp_path / "converted"
