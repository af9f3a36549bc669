"""A host that went away mid-training, named by the hosts that are left.

When a host dies (killed, powered off, cut off), its peers see only their side of it:
a collective whose connection was reset, or one that timed out. The rank that noticed
first would otherwise be blamed. Its launcher knows from the roll call who else was in
the job, and names them: with two hosts the other one, with more the ones the broken
connection's address fits.

A rank can also die without a word when the host serving the rendezvous store goes: the
store client inside the worker has been seen to crash (SIGSEGV, once in CI) before its
collective reported the reset. A host that does not serve the endpoint then asks the
endpoint itself: no answer there means the host serving it is gone, and that host is the
cause, not the crash it left behind.
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
    peer)`` for a failure line ``rank R failed: ...`` that says a connection broke, or
    ``rank R was killed by signal ...`` while the rendezvous endpoint, served by another
    host, no longer answers; None where it says something else, or nobody else was in
    the job."""
    if meeting is None:
        return None
    killed = re.match(r"rank (\S+) was killed by signal (.*)", failure)
    if killed:
        return _endpoint_gone_line(killed.group(1), killed.group(2), meeting, me)
    match = re.match(r"rank (\S+) failed: (.*)", failure)
    if not match:
        return None
    rank, message = match.groups()
    reason = LOST.search(message)
    others = meeting.others(me)
    if not reason or not others:
        return None
    suspects = _by_address(others, message) or others
    return _lost_line(suspects, meeting, rank, reason.group(0))


def _endpoint_gone_line(rank: str, how: str, meeting: RollCall, me: Host) -> str | None:
    """The host serving the rendezvous endpoint, named when a local rank was killed by
    a signal and the endpoint no longer answers (None while it does, or where this host
    serves it: then nothing here can tell a crash from a lost peer)."""
    others = meeting.others(me)
    if meeting.serving or not meeting.endpoint or not others or _answers(meeting.endpoint):
        return None
    # node 0 serves a static rendezvous; a c10d one, whichever host the endpoint names
    suspects = [other for other in others if other.node_rank == 0] or others
    reason = (
        f"the rendezvous endpoint {meeting.endpoint} stopped answering; "
        f"rank {rank} was then killed by signal {how}"
    )
    return _lost_line(suspects, meeting, rank, reason)


def _lost_line(suspects: list[Host], meeting: RollCall, rank: str, reason: str) -> str:
    labels = [_label(host, meeting.hosts) for host in suspects]
    gone = f"host {labels[0]}" if len(labels) == 1 else "one of the hosts " + ", ".join(labels)
    return (
        f"lost {gone}: rank {rank}'s connection to it broke ({reason}); "
        "that host stopped, or the network between them failed"
    )


def _answers(endpoint: str) -> bool:
    """Whether something accepts a connection at ``host:port`` within two seconds."""
    host, _, port = endpoint.rpartition(":")
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=2.0).close()
    except (OSError, ValueError):
        return False
    return True


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
