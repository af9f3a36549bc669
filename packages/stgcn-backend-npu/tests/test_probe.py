"""Reading the verdict of the child process that imports torch_npu."""

from __future__ import annotations

import signal

from stgcn_backend_npu.probe import MARKER, parse_probe


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
