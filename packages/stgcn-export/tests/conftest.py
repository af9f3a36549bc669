"""Fixtures shared by the stgcn-export tests: one real checkpoint from ``stgcn run``,
exported once at opsets 11 and 17, for the whole session."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

# Test modules import their helpers from here (pytest runs in importlib mode).
sys.path.insert(0, str(Path(__file__).parent))

from stgcn.testing.helpers import run_stgcn, stgcn_in_process

#: ``site`` and the session's ``checkpoint`` (a real ``stgcn run``) come from here.
pytest_plugins = ["stgcn.testing.pytest_plugin"]

#: The example the session's exports trace with: small, so verification is cheap.
EXAMPLE = ["--batch", "1", "--frames", "16"]


@pytest.fixture(scope="session")
def exports(
    checkpoint: Path, tmp_path_factory: pytest.TempPathFactory
) -> dict[int, tuple[Path, str]]:
    """opset -> (exported file, what the command printed). Opset 17 goes through the
    real command in a fresh interpreter; opset 11 through the same command in-process."""
    folder = tmp_path_factory.mktemp("onnx")
    made = {}
    out17 = folder / "stgcn17.onnx"
    result = run_stgcn(
        "export", "onnx", "--checkpoint", str(checkpoint), "--output", str(out17), *EXAMPLE
    )
    assert result.returncode == 0, result.stderr
    made[17] = (out17, result.stdout)
    out11 = folder / "stgcn11.onnx"
    ran = stgcn_in_process(
        "export",
        "onnx",
        "--checkpoint",
        str(checkpoint),
        "--output",
        str(out11),
        "--opset",
        "11",
        *EXAMPLE,
    )
    assert ran.returncode == 0, ran.stderr
    made[11] = (out11, ran.stdout)
    return made
