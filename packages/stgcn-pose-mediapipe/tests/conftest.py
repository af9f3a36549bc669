"""Fixtures of the stgcn-pose-mediapipe tests: a real person on video, made from
scikit-image's bundled astronaut photograph, and a checkpoint trained by ``stgcn run``."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

# Test modules import their helpers from here (pytest runs in importlib mode).
sys.path.insert(0, str(Path(__file__).parent))

from pose_helpers import FRAMES, SHIFT, make_video

#: ``checkpoint``, trained by the real ``stgcn run`` once per session, comes from here.
pytest_plugins = ["stgcn.testing.pytest_plugin"]


@pytest.fixture(scope="session")
def astronaut_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``FRAMES`` frames of the photograph moving ``SHIFT`` pixels right per frame."""
    return make_video(tmp_path_factory.mktemp("video") / "astronaut.mp4", FRAMES, SHIFT)
