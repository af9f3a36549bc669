"""A host that went away mid-training, named by the hosts that are left.

When a host dies (killed, powered off, cut off), its peers see only their side of it:
a collective whose connection was reset, or one that timed out. The rank that noticed
first would otherwise be blamed. Its launcher knows from the roll call who else was in
the job, and names them: with two hosts the other one, with more the ones the broken
connection's address fits.
"""

from __future__ import annotations

import re
import socket

from stgcn.training.hosts.rollcall import Host, RollCall

#: how gloo, NCCL and HCCL say that the other end of a connection is gone
LOST = re.compile(
    r"connection reset by peer|connection closed by peer|broken pipe|connection refused|"
    r"socket timeout|timed out|timeout|remote process exited|communicator was aborted|"
    r"end of file|eof",
    re.IGNORECASE,
)
_ADDRESS = re.compile(r"\[([0-9A-Fa-f.:]+)\]:(\d+)")


def lost_host_line(failure: str, meeting: RollCall | None, me: Host) -> str | None:
    """``lost host node 1 (b): rank 0's connection to it broke (Connection reset by
    peer)`` for a failure line ``rank R failed: ...`` that says a connection broke;
    None where it says something else, or nobody else was in the job."""
    match = re.match(r"rank (\S+) failed: (.*)", failure)
    if not match or meeting is None:
        return None
    rank, message = match.groups()
    reason = LOST.search(message)
    others = meeting.others(me)
    if not reason or not others:
        return None
    suspects = _by_address(others, message) or others
    labels = [_label(host, meeting.hosts) for host in suspects]
    gone = f"host {labels[0]}" if len(labels) == 1 else "one of the hosts " + ", ".join(labels)
    return (
        f"lost {gone}: rank {rank}'s connection to it broke ({reason.group(0)}); "
        "that host stopped, or the network between them failed"
    )


def _by_address(hosts: list[Host], message: str) -> list[Host]:
    """The hosts whose name resolves to the address in the error, where one is given."""
    found = _ADDRESS.search(message)
    if not found:
        return []
    address = found.group(1)
    fitting = []
    for host in hosts:
        try:
            addresses = {info[4][0] for info in socket.getaddrinfo(host.name, None)}
        except OSError:
            continue
        if address in addresses:
            fitting.append(host)
    return fitting


def _label(host: Host, everyone: list[Host]) -> str:
    """The host's label, with its launcher's pid where another shares its name (several
    launchers on one machine, as in a test)."""
    twins = [other for other in everyone if other.name == host.name]
    if len(twins) > 1 and host.node_rank is None:
        return f"{host.label()} (launcher pid {host.pid})"
    return host.label()
