"""torch-npu's presence and its pairing with torch, from package metadata alone."""

from __future__ import annotations

import sys

import pytest
from npu_helpers import TORCH_NPU_INSTALLED
from stgcn_backend_npu.installation import (
    check_installation,
    install_hint,
    installation_problem,
    release,
)


@pytest.mark.parametrize(
    ("version", "expected"),
    [
        ("2.13.0", "2.13.0"),
        ("2.13.0+cpu", "2.13.0"),
        ("2.7.1.post11", "2.7.1"),
        ("2.12.0rc1", "2.12.0"),
        ("2.1.0.post17", "2.1.0"),
    ],
)
def test_release_drops_local_and_post_parts(version: str, expected: str) -> None:
    assert release(version) == expected


def test_missing_torch_npu_names_the_extra_for_the_tested_torch() -> None:
    problem = installation_problem(False, "2.13.0+cpu", None)
    assert problem == (
        "torch-npu is not installed: on an Ascend host, pip install "
        "'stgcn-backend-npu[torch-npu]' (torch-npu 2.13.0 for torch 2.13.0)"
    )


def test_missing_torch_npu_names_the_release_for_another_torch() -> None:
    problem = installation_problem(False, "2.7.1", None)
    assert problem.startswith("torch-npu is not installed: on an Ascend host, ")
    assert "pip install 'torch-npu==2.7.1.*'" in problem


def test_mismatched_pair_is_refused_with_the_fix() -> None:
    problem = installation_problem(True, "2.13.0+cpu", "2.12.0")
    assert problem.startswith("torch-npu 2.12.0 does not match torch 2.13.0+cpu")
    assert install_hint("2.13.0+cpu") in problem


@pytest.mark.parametrize(
    ("torch_version", "npu_version"),
    [("2.13.0+cpu", "2.13.0"), ("2.7.1", "2.7.1.post11"), ("2.13.0", None)],
)
def test_matching_or_unknown_pair_passes(torch_version: str, npu_version: str | None) -> None:
    assert installation_problem(True, torch_version, npu_version) is None


def test_this_environment() -> None:
    problem = check_installation()
    if TORCH_NPU_INSTALLED:
        assert problem is None
    else:
        assert problem is not None and problem.startswith("torch-npu is not installed")
    assert "torch_npu" not in sys.modules, "checking must not import torch_npu"
