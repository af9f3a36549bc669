"""Helpers for the npu backend's tests: what this host has, the real command."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

from stgcn_backend_npu.cann import find_cann

from stgcn.testing.helpers import command_environment

TESTS = Path(__file__).parent
STAND_IN = TESTS / "npu_stand_in"

#: the real torch-npu wheel is installed (nox -s tests-npu installs it)
TORCH_NPU_INSTALLED = importlib.util.find_spec("torch_npu") is not None
#: the CANN libraries torch_npu loads can be found (an Ascend host with set_env.sh sourced)
CANN_FOUND = not find_cann().missing

#: Small enough that an epoch trains in seconds on two cores.
TINY = [
    "--epochs",
    "1",
    "--data-option",
    "train_size=16",
    "--data-option",
    "val_size=8",
    "--data-option",
    "frames=12",
    "--batch-size",
    "8",
]


def user_environment(**extra: str) -> dict[str, str]:
    """This environment as a user's shell would have it: torch's autoload not switched off."""
    return command_environment(env=extra, unset=["TORCH_DEVICE_BACKEND_AUTOLOAD"])


def stgcn_command() -> list[str]:
    """The installed console script, as a user runs it (``python -m stgcn`` without one)."""
    script = Path(sys.executable).with_name("stgcn")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "stgcn"]


def run_stgcn(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None, timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    """The console script in ``env`` as it is (stgcn.testing.helpers.run_stgcn runs
    ``python -m stgcn`` and adds to this environment; here the tests give whole ones)."""
    return subprocess.run(
        [*stgcn_command(), *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env if env is not None else user_environment(),
        timeout=timeout,
    )


def run_python(
    code: str, env: dict[str, str] | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=env if env is not None else user_environment(),
        timeout=timeout,
    )
