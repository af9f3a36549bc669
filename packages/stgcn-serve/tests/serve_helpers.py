"""A real ``stgcn serve`` process on 127.0.0.1 and a free port, and the load client the
load test drives it with (also run by hand: ``python serve_helpers.py URL CLIP.npy``)."""

from __future__ import annotations

import asyncio
import contextlib
import importlib.metadata
import os
import socket
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from stgcn.testing.helpers import STGCN, command_environment

#: how long a server may take to answer /healthz after it starts (torch's import, the model)
START_SECONDS = 90.0


def free_port() -> int:
    """A port nothing listens on now (the server binds it a moment later)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def serve_environment() -> dict[str, str]:
    """The user's environment; where stgcn-serve is not installed (a source tree on
    PYTHONPATH), its plugin named in STGCN_PLUGINS, as an entry point would name it."""
    extra = {}
    try:
        importlib.metadata.distribution("stgcn-serve")
    except importlib.metadata.PackageNotFoundError:
        extra["STGCN_PLUGINS"] = "stgcn_serve.plugin"
    return command_environment(env=extra)


@dataclass
class Server:
    """A running ``stgcn serve``: its base URL and its log (stderr) file."""

    url: str
    log: Path
    process: subprocess.Popen[bytes]

    def log_lines(self) -> list[str]:
        return self.log.read_text().splitlines()


@contextlib.contextmanager
def running_server(log_folder: Path, *args: str) -> Iterator[Server]:
    """``stgcn serve ARGS --port FREE`` until the block ends; fails with the server's
    log if it does not answer /healthz in START_SECONDS."""
    port = free_port()
    log_folder.mkdir(parents=True, exist_ok=True)
    log = log_folder / f"serve-{port}.log"
    with log.open("wb") as stderr:
        process = subprocess.Popen(
            [*STGCN, "serve", *args, "--host", "127.0.0.1", "--port", str(port)],
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            env=serve_environment(),
        )
    server = Server(f"http://127.0.0.1:{port}", log, process)
    try:
        deadline = time.monotonic() + START_SECONDS
        while True:
            if process.poll() is not None:
                raise AssertionError(f"stgcn serve exited {process.returncode}:\n{log.read_text()}")
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{server.url}/healthz", timeout=2).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise AssertionError(f"stgcn serve did not start:\n{log.read_text()}")
            time.sleep(0.2)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)


def process_cpu_seconds(pid: int) -> float | None:
    """CPU time (user and system) a process has used so far, from /proc; None where
    there is no /proc (not Linux)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()  # after the command name, which may hold spaces
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class LoadResult:
    """What the clients saw over ``seconds``: each answer's status, each prediction's
    latency; and the CPU time the server and the clients used meanwhile (None: not
    measured), which other work on the machine does not inflate as it does the
    wall-clock figures."""

    seconds: float
    statuses: Counter[int] = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)
    #: answers that were neither a prediction nor a 429 with Retry-After (kept short)
    unexpected: list[str] = field(default_factory=list)
    server_cpu: float | None = None
    client_cpu: float | None = None

    def add(self, other: LoadResult) -> None:
        """``other``'s answers and time counted with these (rounds of one load)."""
        self.seconds += other.seconds
        self.statuses.update(other.statuses)
        self.latencies += other.latencies
        self.unexpected += other.unexpected
        for name in ("server_cpu", "client_cpu"):
            mine, theirs = getattr(self, name), getattr(other, name)
            if theirs is not None:
                setattr(self, name, (mine or 0.0) + theirs)

    def cpu_per_prediction(self) -> float | None:
        """Seconds of CPU, the server's and the clients' together, a prediction."""
        if self.server_cpu is None or self.client_cpu is None or not self.predictions:
            return None
        return (self.server_cpu + self.client_cpu) / self.predictions

    @property
    def predictions(self) -> int:
        return self.statuses[200]

    @property
    def throughput(self) -> float:
        """Predictions per second."""
        return self.predictions / self.seconds

    def percentile(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")

    def summary(self, name: str) -> str:
        line = (
            f"{name}: {self.predictions} predictions in {self.seconds:.1f} s = "
            f"{self.throughput:.1f}/s; latency p50 {self.percentile(0.5) * 1000:.1f} ms, "
            f"p99 {self.percentile(0.99) * 1000:.1f} ms, mean "
            f"{statistics.fmean(self.latencies) * 1000 if self.latencies else 0:.1f} ms; "
            f"statuses {dict(sorted(self.statuses.items()))}"
        )
        if self.cpu_per_prediction() is not None:
            assert self.server_cpu is not None and self.client_cpu is not None
            line += (
                f"; CPU a prediction: server {self.server_cpu / self.predictions * 1000:.2f}"
                f" ms, clients {self.client_cpu / self.predictions * 1000:.2f} ms"
            )
        return line


async def _client(
    http: httpx.AsyncClient, url: str, body: bytes, until: float, result: LoadResult
) -> None:
    """One client: a request, its answer read, the next request, until ``until``."""
    while time.monotonic() < until:
        started = time.monotonic()
        answer = await http.post(url, content=body)
        result.statuses[answer.status_code] += 1
        ok = answer.status_code == 200 and "top" in answer.json()
        if ok:
            result.latencies.append(time.monotonic() - started)
        refused = answer.status_code == 429 and "retry-after" in answer.headers
        if not (ok or refused) and len(result.unexpected) < 5:
            result.unexpected.append(f"{answer.status_code} {answer.text[:200]}")
        if refused:
            await asyncio.sleep(float(answer.headers["retry-after"]))


async def _load(url: str, body: bytes, clients: int, seconds: float) -> LoadResult:
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(limits=limits, timeout=30) as http:
        await http.post(url, content=body)  # connections and the model warmed up
        result = LoadResult(seconds)
        started = time.monotonic()
        until = started + seconds
        await asyncio.gather(*(_client(http, url, body, until, result) for _ in range(clients)))
        result.seconds = time.monotonic() - started
        return result


def load(
    url: str, body: bytes, clients: int = 32, seconds: float = 10.0, server_pid: int | None = None
) -> LoadResult:
    """``clients`` concurrent clients, each posting ``body`` to ``url`` as soon as its
    previous answer came, for ``seconds``; with ``server_pid``, the CPU time the server
    and this process (the clients) used meanwhile."""
    server_before = process_cpu_seconds(server_pid) if server_pid is not None else None
    client_before = time.process_time()
    result = asyncio.run(_load(url, body, clients, seconds))
    if server_before is not None and server_pid is not None:
        server_after = process_cpu_seconds(server_pid)
        if server_after is not None:
            result.server_cpu = server_after - server_before
            result.client_cpu = time.process_time() - client_before
    return result


if __name__ == "__main__":
    target, clip = sys.argv[1], Path(sys.argv[2])
    seconds = float(os.environ.get("LOAD_SECONDS", "10"))
    print(load(f"{target}/v1/predict", clip.read_bytes(), seconds=seconds).summary(target))
