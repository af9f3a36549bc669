"""The bench's side of the reference process: start it, warm it up, time its steps."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import IO, Any

from stgcn.errors import StgcnError

#: Variables that change glibc's malloc or replace it; the reference runs without them.
_ALLOCATOR_VARIABLES = ("LD_PRELOAD", "GLIBC_TUNABLES")
_ALLOCATOR_PREFIXES = ("MALLOC_",)


def reference_environment(environ: Mapping[str, str]) -> dict[str, str]:
    """``environ`` without what would make the reference's allocator other than glibc's
    default one (a preloaded jemalloc or tcmalloc, malloc tunables)."""
    return {
        name: value
        for name, value in environ.items()
        if name not in _ALLOCATOR_VARIABLES and not name.startswith(_ALLOCATOR_PREFIXES)
    }


@dataclass(frozen=True)
class ReferenceJob:
    """What the reference process builds: the bench's input and weights, drawn again from
    the same seed in the same order, and the thread count of the bench's process."""

    mode: str
    batch_size: int
    frames: int
    persons: int
    classes: int
    seed: int
    device: str
    threads: int


class ReferenceProcess:
    """A running ``python -m stgcn.bench.reference``; one JSON line each way per request."""

    def __init__(self, job: ReferenceJob) -> None:
        if job.device.split(":")[0] not in ("cpu", "cuda"):
            raise StgcnError(
                f"--reference runs the reference on cpu or cuda devices, not {job.device!r};"
                " --baseline times it in the bench's process"
            )
        self.job = job
        # a file, not a pipe: nobody reads stderr while the steps run, and a full pipe
        # would stall the reference process in the middle of a timed step
        self._stderr = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 (closed by close)
        self._process = subprocess.Popen(
            [sys.executable, "-m", "stgcn.bench.reference", json.dumps(asdict(job))],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            text=True,
            env=reference_environment(os.environ),
        )
        self._request(None)  # built: input, weights, optimizer

    def _request(self, message: dict[str, Any] | None) -> dict[str, Any]:
        stdin: IO[str] = self._process.stdin  # type: ignore[assignment]
        stdout: IO[str] = self._process.stdout  # type: ignore[assignment]
        try:
            if message is not None:
                stdin.write(json.dumps(message) + "\n")
                stdin.flush()
            line = stdout.readline()
        except BrokenPipeError:
            line = ""
        if not line:
            self._stop()
            self._stderr.seek(0)
            last = self._stderr.read().strip().splitlines()[-1:] or ["no output"]
            self.close()
            raise StgcnError(f"the reference process stopped: {last[0]}")
        return json.loads(line)

    def warm_up(self, steps: int) -> tuple[float | None, float | None]:
        """``steps`` untimed steps and one more for the memory figures, as in-process."""
        answer = self._request({"warm_up": steps})
        return answer["peak_rss_mib"], answer["device_memory_mib"]

    def seconds(self) -> float:
        """One step, timed inside the reference process (the pipe's latency left out)."""
        return float(self._request({"step": True})["seconds"])

    def describe(self) -> dict[str, Any]:
        """The process's id, threads and allocator variables, and sums of the input and
        the weights it drew (which must be the bench's own)."""
        return self._request({"describe": True})

    def _stop(self) -> None:
        """End of stdin ends the process; one that does not end in 30 s is killed."""
        if self._process.poll() is None:
            if self._process.stdin:
                self._process.stdin.close()
            try:
                self._process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()

    def close(self) -> None:
        self._stop()
        self._stderr.close()

    def __enter__(self) -> ReferenceProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
