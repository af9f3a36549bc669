"""Every hook spec is documented in docs/plugins.md and exercised by a test."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest

from stgcn.plugins import hookspecs

REPO = Path(__file__).resolve().parents[3]
HOOKS = [
    name
    for name, value in inspect.getmembers(hookspecs, inspect.isfunction)
    if name.startswith("stgcn_")
]


def test_there_are_hooks() -> None:
    assert "stgcn_register_datasets" in HOOKS


@pytest.mark.parametrize("hook", HOOKS)
def test_hook_is_documented(hook: str) -> None:
    guide = (REPO / "docs" / "plugins.md").read_text(encoding="utf-8")
    assert f"`{hook}(" in guide, f"{hook} is missing from docs/plugins.md"


@pytest.mark.parametrize("hook", HOOKS)
def test_hook_has_a_test(hook: str) -> None:
    tests = [
        path
        for folder in ("packages", "examples")
        for path in (REPO / folder).glob("*/tests/test_*.py")
        if path.name != Path(__file__).name and hook in path.read_text(encoding="utf-8")
    ]
    assert tests, f"no test mentions {hook}"
