"""Runs npu_stand_in/stand_in_checks.py, the backend's on-device code paths against a
STAND-IN for torch_npu, in a separate interpreter (the stand-in changes torch's device
registry for good, which must not leak into other tests)."""

from __future__ import annotations

import os
import re
import subprocess
import sys

from npu_helpers import STAND_IN, TESTS, user_environment


def test_backend_on_the_torch_npu_stand_in() -> None:
    environment = user_environment(
        TORCH_DEVICE_BACKEND_AUTOLOAD="0",
        PYTHONPATH=os.pathsep.join(
            [str(STAND_IN), str(TESTS), *filter(None, [os.environ.get("PYTHONPATH")])]
        ),
    )
    environment.pop("NPU_STAND_IN_DEVICES", None)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            str(STAND_IN / "stand_in_checks.py"),
        ],
        capture_output=True,
        text=True,
        env=environment,
        timeout=600,
    )
    report = result.stdout + result.stderr
    assert result.returncode == 0, report
    summary = report.strip().splitlines()[-1]
    assert re.search(r"\b9 passed\b", summary) and "skipped" not in summary, report
