"""Helpers for the cuda backend tests: the real command in a subprocess, the host's GPU state.

The command runs as ``python -m stgcn``, which also works on a machine where nothing
is installed: when this package is not an installed distribution (so no entry point
names it), the source folders go on PYTHONPATH and ``STGCN_PLUGINS`` names the module.
"""

from __future__ import annotations

import os
import subprocess
from importlib import metadata
from pathlib import Path

import stgcn_backend_cuda
from stgcn_backend_cuda.availability import probe

import stgcn
from stgcn.testing import helpers

#: This host's answer, computed once: the GPU tests skip with its reason.
HOST = probe()


def installed() -> bool:
    """Whether stgcn-backend-cuda is an installed distribution with its entry point."""
    try:
        points = metadata.distribution("stgcn-backend-cuda").entry_points
    except metadata.PackageNotFoundError:
        return False
    return any(point.group == "stgcn" and point.value == "stgcn_backend_cuda" for point in points)


def plugin_environment(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The variables that let the command find this package, then ``extra``."""
    environment = {}
    if not installed():
        sources = [str(Path(module.__file__).parents[1]) for module in (stgcn, stgcn_backend_cuda)]
        environment["PYTHONPATH"] = os.pathsep.join(
            [*sources, *filter(None, [os.environ.get("PYTHONPATH")])]
        )
        environment["STGCN_PLUGINS"] = "stgcn_backend_cuda"
    environment.update(extra or {})
    return environment


def run_stgcn(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None, timeout: float = 900
) -> subprocess.CompletedProcess[str]:
    """``python -m stgcn ARGS`` in a fresh interpreter, as a user would run it."""
    return helpers.run_stgcn(*args, cwd=cwd, env=plugin_environment(env), timeout=timeout)
