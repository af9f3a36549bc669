"""The backend's copy of torch_npu's reading of ASCEND_RT_VISIBLE_DEVICES, which its
messages quote (torch_npu/npu/__init__.py:409-422 at v26.2.0-0day-pytorch2.13.0)."""

from __future__ import annotations

import pytest
from stgcn_backend_npu import visible
from stgcn_backend_npu.visible import surprising_reading, torch_npu_ids, warn_if_surprising


@pytest.mark.parametrize(
    ("value", "ids"),
    [
        ("0,1,2,3", [0, 1, 2, 3]),
        ("0, 1, 2, 3", [0]),
        (" 3", []),
        ("+3", []),
        ("1_0", [1]),
        ("4,,5", [4]),
        ("5,4", [5, 4]),  # read as written; the count then sees none (not ascending)
        ("", []),
    ],
)
def test_ids_are_read_as_torch_npu_reads_them(value: str, ids: list[int]) -> None:
    assert torch_npu_ids(value) == ids


def test_a_reading_is_said_only_where_it_drops_listed_ids() -> None:
    assert surprising_reading(4, {}) is None
    assert surprising_reading(4, {"ASCEND_RT_VISIBLE_DEVICES": "0,1,2,3"}) is None
    said = surprising_reading(1, {"ASCEND_RT_VISIBLE_DEVICES": "0, 1"})
    assert said is not None and said.startswith(
        "ASCEND_RT_VISIBLE_DEVICES='0, 1' shows 1 NPU(s): torch_npu reads the ids [0] from it"
    )


def test_the_reading_is_said_once_per_process_on_rank_0(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(visible, "_said", set())
    monkeypatch.setenv("ASCEND_RT_VISIBLE_DEVICES", "0, 1")
    monkeypatch.setenv("RANK", "1")
    warn_if_surprising(1)
    assert capsys.readouterr().err == ""
    monkeypatch.delenv("RANK")
    warn_if_surprising(1)
    warn_if_surprising(1)  # a second backend in the same process
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith("stgcn: warning: ASCEND_RT_VISIBLE_DEVICES='0, 1' shows 1 NPU(s)")
