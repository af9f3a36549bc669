"""Naming the host that went away from the failure line of the rank that noticed."""

from __future__ import annotations

import pytest

from stgcn.training.hosts.lost import lost_host_line
from stgcn.training.hosts.rollcall import Host, RollCall, _who

ME = Host("a", 0, 100)
B, C = Host("b", 1, 200), Host("localhost", 2, 300)


@pytest.mark.parametrize(
    "failure",
    [
        "rank 0 failed: [../gloo/transport/tcp/pair.cc:537] Read error [10.1.2.3]:41234: "
        "Connection reset by peer",
        "rank 0 failed: NCCL error: remote process exited or there was a network error",
        "rank 0 failed: [../gloo/transport/tcp/unbound_buffer.cc:81] Timed out waiting 1800000ms",
    ],
)
def test_a_broken_connection_names_the_other_host(failure: str) -> None:
    line = lost_host_line(failure, RollCall([ME, B]), ME)
    assert line is not None and line.startswith("lost host node 1 (b): rank 0's connection to it")


def test_the_address_picks_the_host_among_several() -> None:
    failure = "rank 0 failed: Read error [127.0.0.1]:5000: Connection reset by peer"
    line = lost_host_line(failure, RollCall([ME, B, C]), ME)
    assert line is not None and line.startswith("lost host node 2 (localhost):")
    unknown = failure.replace("127.0.0.1", "192.0.2.77")  # nobody's address: all suspects
    line = lost_host_line(unknown, RollCall([ME, B, C]), ME)
    assert line is not None and "one of the hosts node 1 (b), node 2 (localhost)" in line


@pytest.mark.parametrize(
    ("failure", "meeting"),
    [
        ("rank 0 failed: the loss became nan at epoch 1, step 3", RollCall([ME, B])),
        ("rank 1 was killed by signal 9 (SIGKILL)", RollCall([ME, B])),
        ("rank 0 failed: Connection reset by peer", None),  # one host: nobody to name
        ("rank 0 failed: Connection reset by peer", RollCall([ME])),
    ],
)
def test_other_failures_keep_their_own_line(failure: str, meeting: RollCall | None) -> None:
    assert lost_host_line(failure, meeting, ME) is None


def test_a_rank_killed_after_the_endpoint_went_names_the_host_that_served_it() -> None:
    """Node 0 serves the rendezvous store; when it goes, a worker on node 1 has been seen
    to die by SIGSEGV before its collective said why. A closed endpoint names node 0; an
    open one (or an endpoint this host serves itself) keeps the signal line."""
    import socket

    node0, node1 = Host("a", 0, 100), Host("b", 1, 200)
    crash = "rank 1 was killed by signal 11 (SIGSEGV)"
    with socket.socket() as listening:
        listening.bind(("127.0.0.1", 0))
        listening.listen()
        endpoint = f"127.0.0.1:{listening.getsockname()[1]}"
        assert lost_host_line(crash, RollCall([node0, node1], None, endpoint), node1) is None
    line = lost_host_line(crash, RollCall([node0, node1], None, endpoint), node1)
    assert line is not None and line.startswith("lost host node 0 (a): rank 1's connection")
    assert f"{endpoint} stopped answering" in line and "SIGSEGV" in line
    serving = RollCall([node0, node1], None, endpoint, serving=True)
    assert lost_host_line(crash, serving, node0) is None


def test_the_roll_says_who_is_present_and_who_is_awaited() -> None:
    assert _who([ME], 3, 0) == "present node 0 (a); awaited node 1, node 2"
    unranked = [Host("a", None, 1), Host("b", None, 2)]
    assert _who(unranked, 3, None) == "present a, b; awaited 1 more host"
