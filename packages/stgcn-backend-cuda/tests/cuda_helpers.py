"""Helpers for the cuda backend tests: the real command in a subprocess, the host's GPU state.

The command runs as ``python -m stgcn``, which also works on a machine where nothing
is installed: when this package is not an installed distribution (so no entry point
names it), the source folders go on PYTHONPATH and ``STGCN_PLUGINS`` names the module.
"""

from __future__ import annotations

import os
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import stgcn_backend_cuda
from stgcn_backend_cuda.availability import probe

import stgcn

#: Small enough that an epoch takes seconds even on a CPU.
TINY = [
    "--data-option", "train_size=32",
    "--data-option", "val_size=16",
    "--data-option", "frames=12",
    "--batch-size", "8",
]  # fmt: skip

#: This host's answer, computed once: the GPU tests skip with its reason.
HOST = probe()


def installed() -> bool:
    """Whether stgcn-backend-cuda is an installed distribution with its entry point."""
    try:
        points = metadata.distribution("stgcn-backend-cuda").entry_points
    except metadata.PackageNotFoundError:
        return False
    return any(point.group == "stgcn" and point.value == "stgcn_backend_cuda" for point in points)


def command_environment(extra: dict[str, str] | None = None) -> dict[str, str]:
    environment = dict(os.environ)
    for name in ("STGCN_STRICT_PLUGINS", "STGCN_DEBUG"):
        environment.pop(name, None)
    if not installed():
        sources = [str(Path(module.__file__).parents[1]) for module in (stgcn, stgcn_backend_cuda)]
        environment["PYTHONPATH"] = os.pathsep.join(
            [*sources, *filter(None, [environment.get("PYTHONPATH")])]
        )
        environment["STGCN_PLUGINS"] = "stgcn_backend_cuda"
    environment.update(extra or {})
    return environment


def run_stgcn(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None, timeout: float = 900
) -> subprocess.CompletedProcess[str]:
    """``python -m stgcn ARGS`` in a fresh interpreter, as a user would run it."""
    return subprocess.run(
        [sys.executable, "-m", "stgcn", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=command_environment(env),
        timeout=timeout,
    )
