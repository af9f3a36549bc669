"""Counting NPUs by importing torch_npu in a child process.

Only a real import proves that torch_npu loads, but in the listing process it would be
risky: a half-installed CANN can crash the interpreter, and torch_npu prints warnings
on standard output, where ``stgcn plugins --json`` writes its document. A child
process keeps both away; it runs once per process, and only after the CANN
libraries were found.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass

MARKER = "stgcn-npu-probe:"
TIMEOUT_S = 120.0

PROBE = f"""
import json
try:
    import torch
    import torch_npu
    result = {{"count": int(torch.npu.device_count())}}
except BaseException as error:
    lines = str(error).strip().splitlines()
    result = {{"error": type(error).__name__ + ": " + (lines[0] if lines else "")}}
print()
print({MARKER!r} + json.dumps(result), flush=True)
"""


@dataclass(frozen=True)
class ProbeResult:
    """NPUs torch_npu sees, or why it could not be asked."""

    count: int = 0
    error: str | None = None


def probe_devices(
    environ: Mapping[str, str] | None = None, timeout: float = TIMEOUT_S
) -> ProbeResult:
    """Import torch and torch_npu in a fresh interpreter and ask for the device count."""
    environment = dict(os.environ if environ is None else environ)
    environment["TORCH_DEVICE_BACKEND_AUTOLOAD"] = "0"
    try:
        done = subprocess.run(
            [sys.executable, "-c", PROBE],
            capture_output=True,
            text=True,
            env=environment,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return ProbeResult(error=f"importing torch_npu took over {timeout:.0f} s")
    except OSError as error:
        return ProbeResult(error=f"could not start {sys.executable}: {error}")
    return parse_probe(done.returncode, done.stdout, done.stderr)


def parse_probe(returncode: int, stdout: str, stderr: str) -> ProbeResult:
    """The child's verdict from its marked line; a child that died says so."""
    for line in reversed(stdout.splitlines()):
        if line.startswith(MARKER):
            answer = json.loads(line[len(MARKER) :])
            if "error" in answer:
                return ProbeResult(error=f"torch_npu failed to import: {answer['error']}")
            return ProbeResult(count=int(answer["count"]))
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = f"signal {-returncode}"
        return ProbeResult(error=f"importing torch_npu killed the interpreter ({name})")
    last = next((line for line in reversed(stderr.splitlines()) if line.strip()), "")
    return ProbeResult(
        error=f"importing torch_npu failed (exit status {returncode}): {last.strip()[:200]}"
    )
