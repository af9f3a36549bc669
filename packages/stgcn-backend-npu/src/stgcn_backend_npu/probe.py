"""Asking torch_npu about this host's NPUs, in a child process, once per host.

Only a real import proves that torch_npu loads, but in the listing process it would be
risky: a half-installed CANN can crash the interpreter, and torch_npu prints warnings
on standard output, where ``stgcn plugins --json`` writes its document. A child
process keeps both away. It runs only after the CANN libraries were found, and once
per host: the answer is handed to the workers of a multi-card run through the
environment (``HANDED_DOWN``), so eight workers do not start eight more interpreters
that import torch_npu. An answer is taken only on the host, and with the
``ASCEND_RT_VISIBLE_DEVICES``, it was made for.

Besides the count, the child reads what decides the defaults: the chip's name, whether
it has bf16 (``torch.npu.is_bf16_supported()``, 910B and newer) and whether it runs in
inf/nan mode (``torch_npu.npu.utils.is_support_inf_nan()``) or saturates on overflow.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Mapping, MutableMapping
from dataclasses import asdict, dataclass

MARKER = "stgcn-npu-probe:"
TIMEOUT_S = 120.0
HANDED_DOWN = "STGCN_NPU_PROBE"

PROBE = f"""
import json
try:
    import torch
    import torch_npu
    result = {{"count": int(torch.npu.device_count())}}
    if result["count"] > 0:
        for key, ask in (
            ("chip", lambda: str(torch.npu.get_device_name())),
            ("bf16", lambda: bool(torch.npu.is_bf16_supported())),
            ("inf_nan", lambda: bool(torch_npu.npu.utils.is_support_inf_nan())),
        ):
            try:
                result[key] = ask()
            except Exception:
                pass
except BaseException as error:
    lines = str(error).strip().splitlines()
    result = {{"error": type(error).__name__ + ": " + (lines[0] if lines else "")}}
print()
print({MARKER!r} + json.dumps(result), flush=True)
"""


@dataclass(frozen=True)
class ProbeResult:
    """What torch_npu says of this host's NPUs, or why it could not be asked."""

    count: int = 0
    error: str | None = None
    chip: str | None = None
    bf16: bool = False
    #: True on inf/nan chips, False in saturation mode, None when not known
    inf_nan: bool | None = None


def probe_devices(
    environ: Mapping[str, str] | None = None, timeout: float = TIMEOUT_S
) -> ProbeResult:
    """Import torch and torch_npu in a fresh interpreter and ask about the NPUs."""
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
            return ProbeResult(
                count=int(answer["count"]),
                chip=answer.get("chip"),
                bf16=bool(answer.get("bf16", False)),
                inf_nan=answer.get("inf_nan"),
            )
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


def _asked_for(environ: Mapping[str, str]) -> dict[str, str | None]:
    """What an answer depends on: the host, and which of its NPUs may be seen."""
    return {"host": socket.gethostname(), "visible": environ.get("ASCEND_RT_VISIBLE_DEVICES")}


def hand_down(result: ProbeResult, environ: MutableMapping[str, str] | None = None) -> None:
    """Leave the answer where the workers this process starts will find it."""
    environ = os.environ if environ is None else environ
    environ[HANDED_DOWN] = json.dumps({**_asked_for(environ), "result": asdict(result)})


def handed_down(environ: Mapping[str, str] | None = None) -> ProbeResult | None:
    """The answer a parent made for this host and these devices, else None."""
    environ = os.environ if environ is None else environ
    try:
        record = json.loads(environ.get(HANDED_DOWN, ""))
        if {key: record.get(key) for key in ("host", "visible")} != _asked_for(environ):
            return None
        return ProbeResult(**record["result"])
    except (ValueError, TypeError, KeyError, AttributeError):
        return None
