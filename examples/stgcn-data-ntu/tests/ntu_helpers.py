"""The ntu tests' check of a failed command (stgcn.testing.helpers runs it)."""

from __future__ import annotations

import subprocess


def one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    """The error line that ends a failed command (a progress bar may stand before it)."""
    assert result.returncode != 0, result.stdout
    assert "Traceback" not in result.stderr, result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("stgcn: error: "), result.stderr
    return last
