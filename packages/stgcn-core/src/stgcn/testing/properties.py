"""What the property tests (hypothesis) of stgcn's readers and parsers share: their
settings, the check that a refusal is one line, odd JSON values, and damaged bytes.

A module of its own, imported only by ``test_properties_*.py``: hypothesis is a test
dependency, and neither ``import stgcn`` nor ``import stgcn.testing`` imports it.
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, settings
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
