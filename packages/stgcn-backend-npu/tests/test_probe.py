"""Reading the verdict of the child process that imports torch_npu."""

from __future__ import annotations

import signal

import pytest
from stgcn_backend_npu.probe import (
    HANDED_DOWN,
    MARKER,
    ProbeResult,
    hand_down,
    handed_down,
    parse_probe,
)


def test_count_is_read_past_torch_npu_noise_on_stdout() -> None:
    stdout = f"Warning: ASCEND_HOME_PATH environment variable is not set.\n\n{MARKER}" + (
        '{"count": 8}\n'
    )
    result = parse_probe(0, stdout, "")
    assert (result.count, result.error) == (8, None)


def test_import_error_is_reported_as_torch_npu_failing() -> None:
    stdout = f'{MARKER}{{"error": "ImportError: libge_runner.so: cannot open shared object"}}\n'
    result = parse_probe(0, stdout, "")
    assert result.count == 0
    assert result.error == (
        "torch_npu failed to import: ImportError: libge_runner.so: cannot open shared object"
    )


def test_a_killed_child_names_the_signal() -> None:
    result = parse_probe(-signal.SIGSEGV, "", "")
    assert result.error == "importing torch_npu killed the interpreter (SIGSEGV)"


def test_a_child_that_exits_without_a_verdict_shows_its_last_error_line() -> None:
    result = parse_probe(3, "", "some trace\nRuntimeError: driver version mismatch\n\n")
    assert result.error == (
        "importing torch_npu failed (exit status 3): RuntimeError: driver version mismatch"
    )


def test_the_chips_facts_are_read() -> None:
    stdout = f'{MARKER}{{"count": 8, "chip": "Ascend910B3", "bf16": true, "inf_nan": true}}\n'
    assert parse_probe(0, stdout, "") == ProbeResult(
        count=8, chip="Ascend910B3", bf16=True, inf_nan=True
    )


def test_an_answer_handed_down_is_taken_for_the_same_devices_only(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    environ = {"ASCEND_RT_VISIBLE_DEVICES": "0,1"}
    answer = ProbeResult(count=2, chip="Ascend910A", inf_nan=False)
    hand_down(answer, environ)
    assert handed_down(environ) == answer
    assert handed_down({**environ, "ASCEND_RT_VISIBLE_DEVICES": "2,3"}) is None
    assert handed_down({k: v for k, v in environ.items() if k != HANDED_DOWN}) is None
    monkeypatch.setattr("socket.gethostname", lambda: "another-host")
    assert handed_down(environ) is None


@pytest.mark.parametrize("record", ["", "not json", "[]", '{"host": 1}'])
def test_a_damaged_answer_is_ignored(record: str) -> None:
    assert handed_down({HANDED_DOWN: record}) is None
