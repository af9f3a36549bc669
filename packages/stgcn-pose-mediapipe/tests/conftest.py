"""Fixtures of the stgcn-pose-mediapipe tests: a real person on video, made from
scikit-image's bundled astronaut photograph, and a checkpoint trained by ``stgcn run``."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

# Test modules import their helpers from here (pytest runs in importlib mode).
sys.path.insert(0, str(Path(__file__).parent))

from pose_helpers import FRAMES, SHIFT, TINY_RUN, make_video, run_stgcn


@pytest.fixture(scope="session")
def astronaut_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``FRAMES`` frames of the photograph moving ``SHIFT`` pixels right per frame."""
    return make_video(tmp_path_factory.mktemp("video") / "astronaut.mp4", FRAMES, SHIFT)


@pytest.fixture(scope="session")
def checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A checkpoint of the real ``stgcn run`` on the synthetic dataset (openpose layout)."""
    work = tmp_path_factory.mktemp("run")
    result = run_stgcn("run", *TINY_RUN, "--work-dir", str(work))
    assert result.returncode == 0, result.stderr
    return work / "checkpoints" / "best.pth.tar"
