"""The dataset contract kit: the built-in synthetic dataset keeps it, broken datasets fail it.

The broken datasets are real installed distributions (see ``make_distribution``), each
breaking one rule, so that every check is shown to fail where it should.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from stgcn.testing import (
    ContractError,
    DatasetContract,
    check_bad_paths,
    check_dataloader_workers,
    check_dataset,
    check_distributed_sampling,
    check_layout,
    check_registered,
    check_samples,
    check_validation_deterministic,
)
from stgcn.testing.helpers import make_distribution


class TestSyntheticDataset(DatasetContract):
    """The built-in dataset, made small: the contract every dataset plugin is held to."""

    name = "synthetic"
    options = {"train_size": "6", "val_size": "5", "frames": "8"}  # noqa: RUF012


def test_the_kit_is_not_imported_by_stgcn() -> None:
    import subprocess

    code = "import stgcn, stgcn.plugins.registry, stgcn.cli, sys; "
    code += "print('stgcn.testing' in sys.modules)"
    found = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert found.stdout.strip() == "False", found.stderr


BROKEN = """
import os
import numpy as np
import torch
from stgcn.errors import StgcnError
from stgcn.hookspecs import hookimpl
from stgcn.records import Dataset

BREAK = {breaks!r}


class Clips(torch.utils.data.Dataset):
    def __init__(self, split, folder):
        self.split = split
        self.seed = os.getpid() if "rank_dependent" in BREAK else 0
        self.reader = (lambda: None) if "unpicklable" in BREAK else None
        self.calls = 0

    def __len__(self):
        return 5

    def __getitem__(self, index):
        self.calls += 1
        seed = self.seed + index + (self.calls if "changing" in BREAK else 0)
        x = torch.from_numpy(np.random.default_rng(seed).random((3, 6, 18, 2), np.float32))
        if "float64" in BREAK:
            x = x.double()
        if "joints" in BREAK:
            x = x[:, :, :17]
        label = index % 4
        if "label_range" in BREAK and index == 4:
            label = 4
        if "float_label" in BREAK:
            label = float(label)
        return x, label


def build(request):
    split, data_path = request.split, request.data_path
    if data_path.is_file() and "accepts_files" in BREAK:
        return Clips(split, data_path)
    if not data_path.is_dir() or not any(data_path.iterdir()):
        if "raw_error" in BREAK:
            raise FileNotFoundError(data_path)
        if "two_lines" in BREAK:
            raise StgcnError(f"{{data_path}} is not there\\nsee the README")
        if "accepts" not in BREAK:
            raise StgcnError(f"{{data_path}}: no clips")
    return Clips(split, data_path)


@hookimpl
def stgcn_register_datasets(register):
    register(Dataset(name="broken", num_class=4, build=build, layout="openpose"))
"""


@pytest.fixture
def clips_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "clips"
    folder.mkdir()
    (folder / "clips.bin").write_bytes(b"\0")
    return folder


def _broken(site: Path, *breaks: str) -> None:
    make_distribution(site, "stgcn-broken", "1.0", "fake_broken", BROKEN.format(breaks=breaks))


def test_an_unbroken_fake_passes_the_in_process_checks(site, clips_folder) -> None:
    _broken(site)
    check_dataset("broken", clips_folder, skip=("dataloader_workers", "distributed_sampling"))


@pytest.mark.parametrize(
    ("breaks", "check", "message"),
    [
        ("float64", check_samples, r"train\[0\]: sample dtype is torch.float64"),
        ("joints", check_samples, r"sample shape is \(3, 6, 17, 2\), expected"),
        ("label_range", check_samples, r"train\[4\]: label 4 outside \[0, 4\)"),
        ("float_label", check_samples, r"label 0.0 is a float, not an int"),
        ("joints", check_layout, "samples have 17 joints, the openpose layout 18"),
        ("changing", check_validation_deterministic, "val items differ when read again"),
    ],
)
def test_each_broken_rule_fails_its_check(site, clips_folder, breaks, check, message) -> None:
    _broken(site, breaks)
    with pytest.raises(ContractError, match=message):
        check("broken", clips_folder)


@pytest.mark.parametrize(
    ("breaks", "message"),
    [
        ("raw_error", "a missing path raised FileNotFoundError"),
        ("two_lines", "a missing path: the error is not one line"),
        ("accepts", "a missing path was accepted"),
        ("accepts_files", "an empty file was accepted"),
    ],
)
def test_bad_paths_must_be_one_line_errors(site, breaks: str, message: str) -> None:
    _broken(site, breaks)
    with pytest.raises(ContractError, match=message):
        check_bad_paths("broken")


def test_an_unregistered_name_fails() -> None:
    with pytest.raises(ContractError, match="'nothing-such': not registered"):
        check_registered("nothing-such")


def test_a_dataset_that_cannot_be_pickled_fails_the_worker_check(site, clips_folder) -> None:
    _broken(site, "unpicklable")
    with pytest.raises(ContractError, match="loading in DataLoader worker processes failed"):
        check_dataloader_workers("broken", clips_folder, limit=2)


def test_samples_that_depend_on_the_process_fail_the_two_rank_check(site, clips_folder) -> None:
    _broken(site, "rank_dependent")
    with pytest.raises(ContractError, match="rank 0's"):
        check_distributed_sampling("broken", clips_folder)


def test_unknown_check_names_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown checks"):
        check_dataset("synthetic", skip=("sampels",))


#: an xdist worker's variables: the first of two
FIRST_OF_TWO = {"PYTEST_XDIST_WORKER": "gw0", "PYTEST_XDIST_WORKER_COUNT": "2"}


@pytest.mark.parametrize(
    ("variables", "cores", "threads"),
    [
        (FIRST_OF_TWO, 8, "4"),
        ({"PYTEST_XDIST_WORKER": "gw1", "PYTEST_XDIST_WORKER_COUNT": "3"}, 2, "1"),
        ({**FIRST_OF_TWO, "OMP_NUM_THREADS": "3"}, 8, "3"),
        ({}, 8, None),
    ],
)
def test_xdist_workers_compute_with_their_share_of_the_cores(
    monkeypatch: pytest.MonkeyPatch, variables: dict[str, str], cores: int, threads: str | None
) -> None:
    """Each worker's share goes to the commands its tests start (OMP_NUM_THREADS) and to
    torch in the worker; a value already set is kept; outside xdist nothing changes."""
    import os

    import torch

    from stgcn.testing import pytest_plugin

    for name in ("PYTEST_XDIST_WORKER", "PYTEST_XDIST_WORKER_COUNT", "OMP_NUM_THREADS"):
        monkeypatch.delenv(name, raising=False)
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(os, "cpu_count", lambda: cores)
    before = torch.get_num_threads()
    try:
        pytest_plugin._share_the_cores_among_workers()
        assert os.environ.get("OMP_NUM_THREADS") == threads
        assert torch.get_num_threads() == (int(threads) if threads else before)
    finally:
        torch.set_num_threads(before)
