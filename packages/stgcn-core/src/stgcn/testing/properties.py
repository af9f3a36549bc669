"""What the property tests (hypothesis) of stgcn's readers and parsers share: their
settings, the check that a refusal is one line, odd JSON values, and damaged bytes.

A module of its own, imported only by ``test_properties_*.py``: hypothesis is a test
dependency, and neither ``import stgcn`` nor ``import stgcn.testing`` imports it.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st

#: Examples derived from each test's name (``derandomize``), no example database: every
#: run tries the same inputs and writes nothing into the tree. No deadline: the machines
#: CI gets are shared, and a slow example is not a wrong one.
PROPERTY = settings(
    max_examples=60,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

#: numbers as JSON holds them, odd ones included (json writes NaN and Infinity too, and
#: reads an int of any size, which no float holds)
numbers = st.one_of(
    st.floats(min_value=0, max_value=1),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-5, max_value=5),
    st.integers(min_value=-(10**6), max_value=10**6),
    st.integers(min_value=10**300, max_value=10**330),
)
#: what may stand where a number belongs
values = numbers | st.none() | st.booleans() | st.text(max_size=3) | st.lists(numbers, max_size=2)
#: any JSON document, small
json_documents = st.recursive(
    st.none() | st.booleans() | numbers | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=8,
)
#: ``(cut, flips)`` for :func:`mutated`
mutations = st.tuples(
    st.integers(min_value=0, max_value=5000),
    st.lists(st.tuples(st.integers(min_value=0), st.integers(1, 255)), max_size=4),
)


def mutated(data: bytes, cut: int, flips: list[tuple[int, int]], start: int = 0) -> bytes:
    """``data`` cut short at ``cut`` (nothing cut beyond its end), then the byte at each
    flip's position (counted from ``start``, wrapping round) xor-ed with its mask."""
    damaged = bytearray(data[:cut])
    for position, mask in flips:
        if len(damaged) > start:
            damaged[start + position % (len(damaged) - start)] ^= mask
    return bytes(damaged)


def refused_in_one_line(error: Exception) -> None:
    """The refusal's message is one line of text (what ``stgcn: error:`` prints)."""
    text = str(error).strip()
    assert text and len(text.splitlines()) == 1, repr(error)


def lists_of(count: int, plausible: Any = None) -> st.SearchStrategy[list[Any]]:
    """``count`` values: mostly ``plausible`` ones (numbers in [0, 1] by default), else
    anything that may stand where a number belongs."""
    element = st.floats(min_value=0, max_value=1) if plausible is None else plausible
    return st.lists(element, min_size=count, max_size=count) | st.lists(
        values, min_size=count, max_size=count
    )


#: option values at and beyond the limits of every type an option has (the command-line
#: fuzzers' ``test_properties_cli.py``)
EDGES = [
    "", " ", "0", "-1", "1", "nan", "NaN", "inf", "-inf", "1e400", "-1e400", "1e300",
    "3.5e38", "1e-320", "9" * 30, str(2**31), str(2**63), str(2**64), str(-(2**63) - 1),
    "1.5", "0x10", "1_0", "\u0661", "\x00", "a\x00b", "\u00e9", "\U0001f642", "true",
    "[1, 2]", "{}", "KEY=VALUE", "=", "a=b=c",
]  # fmt: skip
cli_values = st.one_of(
    st.sampled_from(EDGES),
    st.text(max_size=6),
    st.integers(max_value=0).map(str),
    st.integers(min_value=2**31).map(str),
    st.floats().map(repr),
)


def costly(value: str, most: float = 1) -> bool:
    """A number above ``most`` (an option that would make real work with it)."""
    try:
        number = float(value.strip())
    except (ValueError, OverflowError):
        return False
    return math.isfinite(number) and number > most


#: every path kind the fuzzer points at, made once per test in the scratch folder
PATH_KINDS = [
    "missing", "folder", "text", "empty", "bytes", "npy", "under-file", "devnull",
    "unicode", "nul",
]  # fmt: skip


def make_paths(scratch: Path) -> dict[str, str]:
    """Kind -> path in ``scratch``, the files made: one of each wrong kind a command may
    be pointed at (a text file for a checkpoint, a folder, a path under a file, a NUL)."""
    (scratch / "folder").mkdir(exist_ok=True)
    (scratch / "text").write_text("root:x:0:0:root:/root:/bin/bash\n")
    (scratch / "empty").write_bytes(b"")
    (scratch / "bytes").write_bytes(np.random.default_rng(0).bytes(600))
    np.save(scratch / "clip.npy", np.full((3, 4, 18, 2), np.nan, dtype=np.float32))
    return {
        "missing": str(scratch / "missing.pt"),
        "folder": str(scratch / "folder"),
        "text": str(scratch / "text"),
        "empty": str(scratch / "empty"),
        "bytes": str(scratch / "bytes"),
        "npy": str(scratch / "clip.npy"),
        "under-file": str(scratch / "text" / "x.pt"),
        "devnull": os.devnull,
        "unicode": str(scratch / "\u00e9\U0001f642.pt"),
        "nul": str(scratch / "a\x00b"),
    }


class Finished(Protocol):
    """What a command left: :class:`stgcn.testing.helpers.Ran` or a finished process."""

    @property
    def returncode(self) -> int: ...

    @property
    def stderr(self) -> str: ...


def assert_succeeds_or_one_line(ran: Finished, *untouched: Path) -> None:
    """Success, or one ``stgcn: error:`` line, last, a non-zero exit and none of
    ``untouched`` made. (A traceback cannot reach here in-process: the exception would
    fail the test itself.)"""
    event(f"exit {ran.returncode}")  # --hypothesis-show-statistics: how many ran through
    assert "Traceback" not in ran.stderr, ran.stderr
    if ran.returncode == 0:
        return
    lines = [line for line in ran.stderr.replace("\r", "\n").splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("stgcn: error: ")]
    assert len(errors) == 1 and lines[-1] == errors[0], ran.stderr
    for path in untouched:
        assert not path.exists(), (errors[0], f"{path} was left behind")
