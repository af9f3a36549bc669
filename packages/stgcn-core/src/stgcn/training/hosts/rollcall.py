"""Hosts meeting at the rendezvous endpoint, each saying who is there.

torch's rendezvous waits without a word until every host has come or its timeout
passes. Before it starts, each host writes its name into a key-value store at the
endpoint (torch's own TCPStore, served by the host the endpoint names) and reads the
others', printing who is present and who is awaited while it waits. The store stays
open on the serving host: created multi-tenant, the rendezvous that follows reuses
its server on the same port, so there is no second port and no moment when the port
is closed between the two.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from stgcn.errors import StgcnError

PREFIX = "stgcn/rollcall"
#: seconds before the first "waiting" line (a quick meeting prints nothing), and between
FIRST_LINE_SECONDS = 2.0
LINE_SECONDS = 30.0


@dataclass(frozen=True)
class Host:
    """One host as it introduced itself."""

    name: str
    node_rank: int | None
    pid: int

    def label(self) -> str:
        node = f"node {self.node_rank} " if self.node_rank is not None else ""
        return f"{node}({self.name})" if node else self.name

    def to_json(self) -> str:
        return json.dumps({"name": self.name, "node_rank": self.node_rank, "pid": self.pid})

    @classmethod
    def from_json(cls, text: bytes | str) -> Host:
        values = json.loads(text)
        return cls(str(values["name"]), values["node_rank"], int(values["pid"]))


@dataclass
class RollCall:
    """The meeting's outcome: every host present, and the store kept open for torch;
    where it met, and whether this host serves that endpoint (a host that does not can
    later tell that the one serving it is gone)."""

    hosts: list[Host]
    store: Any = None
    endpoint: str = ""
    serving: bool = False

    def others(self, me: Host) -> list[Host]:
        return [host for host in self.hosts if (host.name, host.pid) != (me.name, me.pid)]


def this_host(node_rank: int | None) -> Host:
    return Host(socket.gethostname(), node_rank, os.getpid())


def _serves(host: str, node_rank: int | None) -> bool:
    """Whether this host should serve the store: node 0 of a static rendezvous; for
    c10d, the host the endpoint names (as torch's c10d rendezvous decides)."""
    if node_rank is not None:
        return node_rank == 0
    from torch.distributed.elastic.rendezvous.utils import _matches_machine_hostname

    return _matches_machine_hostname(host)


def _connect(host: str, port: int, serve: bool, deadline: float, say: Any) -> tuple[Any, bool]:
    """A TCPStore at the endpoint, and whether this host serves it: the server where
    this host should (a client if another process on this machine already does), else a
    client that keeps trying (None when the deadline passes first)."""
    from torch.distributed import TCPStore

    if serve:
        try:
            wait = timedelta(seconds=5)
            store = TCPStore(
                host, port, None, True, wait, multi_tenant=True, wait_for_workers=False
            )
            return store, True
        except Exception:  # the port is taken: another host on this machine serves it
            pass
    started, next_line = time.monotonic(), time.monotonic() + FIRST_LINE_SECONDS
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return None, False
        try:
            # a plain connection first: torch's client logs a C++ stack trace each time
            # its own attempt times out, which is no news while the others are starting
            socket.create_connection((host, port), timeout=min(2.0, left)).close()
            wait = timedelta(seconds=max(left, 1.0))
            return TCPStore(host, port, None, False, wait, wait_for_workers=False), False
        except Exception:
            time.sleep(min(0.5, max(deadline - time.monotonic(), 0)))
            if time.monotonic() >= next_line:
                waited = time.monotonic() - started
                say(f"waiting {waited:.0f} s for the rendezvous endpoint {host}:{port} to answer")
                next_line = time.monotonic() + LINE_SECONDS


def roll_call(
    endpoint: str,
    hosts_wanted: int,
    node_rank: int | None,
    timeout: float,
    run_id: str,
    say: Any = None,
) -> RollCall:
    """Meet the other hosts at ``endpoint``; raises StgcnError naming who is present and
    who is awaited if they have not all come within ``timeout`` seconds."""
    say = say or _say
    host, _, port_text = endpoint.rpartition(":")
    port = int(port_text)
    deadline = time.monotonic() + timeout
    me = this_host(node_rank)
    store, serving = _connect(host, port, _serves(host, node_rank), deadline, say)
    if store is None:
        raise StgcnError(
            f"waited {timeout:.0f} s (--rdzv-timeout) for {hosts_wanted} hosts at the rendezvous "
            f"{endpoint}, and nothing answered there; start the host it names (node 0), and "
            "every host with the same --nnodes and --rdzv-endpoint"
        )
    prefix = f"{PREFIX}/{run_id}"
    slot = store.add(f"{prefix}/count", 1)
    store.set(f"{prefix}/host/{slot}", me.to_json())
    started, next_line = time.monotonic(), time.monotonic() + FIRST_LINE_SECONDS
    while True:
        present = _present(store, prefix)
        if len(present) >= hosts_wanted:
            return RollCall(present, store, endpoint, serving)
        now = time.monotonic()
        if now >= deadline:
            raise StgcnError(
                f"waited {timeout:.0f} s (--rdzv-timeout) for {hosts_wanted} hosts at the "
                f"rendezvous {endpoint}: {_who(present, hosts_wanted, node_rank)}; start every "
                "host with the same --nnodes and --rdzv-endpoint"
            )
        if now >= next_line:
            who = _who(present, hosts_wanted, node_rank)
            say(f"waiting {now - started:.0f} s at {endpoint}: {who}")
            next_line = now + LINE_SECONDS
        time.sleep(0.2)


def _present(store: Any, prefix: str) -> list[Host]:
    count = store.add(f"{prefix}/count", 0)
    keys = [f"{prefix}/host/{slot}" for slot in range(1, count + 1)]
    present = []
    for key in keys:
        if store.check([key]):
            present.append(Host.from_json(store.get(key)))
    return present


def _who(present: list[Host], wanted: int, node_rank: int | None) -> str:
    """``present node 0 (a); awaited node 1``, or for c10d ``awaited 1 more host``."""
    here = ", ".join(host.label() for host in present) or "none"
    ranks = {host.node_rank for host in present}
    if node_rank is not None:
        awaited = ", ".join(f"node {rank}" for rank in range(wanted) if rank not in ranks)
    else:
        missing = wanted - len(present)
        awaited = f"{missing} more host{'s' if missing != 1 else ''}"
    return f"present {here}; awaited {awaited}"


def _say(line: str) -> None:
    print(f"stgcn: {line}", file=sys.stderr, flush=True)
