"""Running the real ``stgcn`` command as a user would, for the ntu tests."""

from __future__ import annotations

import os
import subprocess
import sys


def run_stgcn(*args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k not in ("STGCN_DEBUG",)}
    return subprocess.run(
        [sys.executable, "-m", "stgcn", *args],
        capture_output=True,
        text=True,
        env=environment,
        timeout=timeout,
    )


def one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    """The error line that ends a failed command (a progress bar may stand before it)."""
    assert result.returncode != 0, result.stdout
    assert "Traceback" not in result.stderr, result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("stgcn: error: "), result.stderr
    return last
