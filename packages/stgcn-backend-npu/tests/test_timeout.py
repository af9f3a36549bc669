"""STGCN_COLLECTIVE_TIMEOUT_MIN on HCCL: what is passed and what HCCL_EXEC_TIMEOUT becomes
(the stand-in's reading of ProcessGroupHCCL is checked in npu_stand_in/)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from stgcn_backend_npu.timeout import exec_timeout_for, hccl_timeout


def test_thirty_minutes_is_passed_past_hccls_default_sentinel() -> None:
    environ: dict[str, str] = {}
    assert hccl_timeout(timedelta(minutes=30), environ) == timedelta(minutes=30, seconds=1)
    assert environ == {"HCCL_EXEC_TIMEOUT": "1700"}  # 1740 s rounded down to 68 s steps


def test_other_timeouts_are_passed_as_they_are() -> None:
    environ: dict[str, str] = {}
    assert hccl_timeout(timedelta(minutes=90), environ) == timedelta(minutes=90)
    assert int(environ["HCCL_EXEC_TIMEOUT"]) == 5304  # 5340 s in 68 s steps


def test_a_users_exec_timeout_is_kept() -> None:
    environ = {"HCCL_EXEC_TIMEOUT": "600"}
    hccl_timeout(timedelta(minutes=30), environ)
    assert environ == {"HCCL_EXEC_TIMEOUT": "600"}


@pytest.mark.parametrize(
    ("minutes", "seconds"), [(1, 68), (2, 68), (3, 68), (10, 476), (120, 7140)]
)
def test_exec_timeout_is_a_margin_below_in_68_second_steps(minutes: int, seconds: int) -> None:
    assert exec_timeout_for(timedelta(minutes=minutes)) == seconds
    assert seconds % 68 == 0


@pytest.mark.parametrize("minutes", [290, 300, 600, 24 * 60 * 7])
def test_exec_timeout_stays_within_the_910as_range(minutes: int) -> None:
    """HCCL_EXEC_TIMEOUT takes (0, 17340] s on the Atlas training series."""
    seconds = exec_timeout_for(timedelta(minutes=minutes))
    assert 0 < seconds <= 17340 and seconds % 68 == 0
    assert exec_timeout_for(timedelta(minutes=600)) == 17340
