"""Fixtures of the stgcn-serve tests: the session's checkpoint (a real ``stgcn run``,
from stgcn.testing), its ONNX export, and a clip of the synthetic set."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

# Test modules import their helpers from here (pytest runs in importlib mode).
sys.path.insert(0, str(Path(__file__).parent))

from stgcn.testing.helpers import run_stgcn

#: ``checkpoint`` (a real ``stgcn run``, once per session) comes from here.
pytest_plugins = ["stgcn.testing.pytest_plugin"]


@pytest.fixture(scope="session")
def onnx_file(checkpoint: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The checkpoint exported by the real ``stgcn export onnx`` (dynamic batch)."""
    out = tmp_path_factory.mktemp("onnx") / "model.onnx"
    ran = run_stgcn(
        "export", "onnx", "--checkpoint", str(checkpoint), "--output", str(out),
        "--batch", "1", "--frames", "16",
    )  # fmt: skip
    assert ran.returncode == 0, ran.stderr
    return out


@pytest.fixture(scope="session")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A synthetic clip (3, 12, 18, 2) as a .npy file, the model's input as it is."""
    from stgcn.data.synthetic import generate

    data, _ = generate(1, seed=123, frames=12)
    path = tmp_path_factory.mktemp("clip") / "clip.npy"
    np.save(path, data[0])
    return path
