"""The public facades, ``stgcn.hookspecs`` and ``stgcn.records``, export what the kinds
table declares: each kind's hook, record type and constant, with nothing to edit in them
when a kind is added."""

from __future__ import annotations

from typing import Any

import pytest

import stgcn.hookspecs
import stgcn.records
from stgcn.plugins import hookspecs
from stgcn.plugins.kinds import KINDS, Kind


@pytest.mark.parametrize("kind", KINDS, ids=[kind.name for kind in KINDS])
def test_each_kind_is_public(kind: Kind[Any]) -> None:
    assert kind.hook in stgcn.hookspecs.__all__
    assert getattr(stgcn.hookspecs, kind.hook) is getattr(hookspecs, kind.hook)
    assert {kind.record.__name__, kind.constant} <= set(stgcn.records.__all__)
    assert getattr(stgcn.records, kind.record.__name__) is kind.record
    assert getattr(stgcn.records, kind.constant) is kind


@pytest.mark.parametrize("facade", ["stgcn.hookspecs", "stgcn.records"])
def test_every_exported_name_imports(facade: str) -> None:
    names: dict[str, Any] = {}
    exec(f"from {facade} import *", names)
    exported = set(names) - {"__builtins__"}
    assert exported == set(getattr(stgcn, facade.split(".")[1]).__all__)


def test_every_hook_spec_is_public() -> None:
    specs = {name for name in vars(hookspecs) if name.startswith("stgcn_")}
    assert specs == {name for name in stgcn.hookspecs.__all__ if name.startswith("stgcn_")}
    assert {"hookimpl", "hookspec"} <= set(stgcn.hookspecs.__all__)


def test_backend_base_is_imported_on_first_use() -> None:
    from stgcn.plugins.backend import BackendBase

    assert stgcn.records.BackendBase is BackendBase
    with pytest.raises(AttributeError, match="no attribute 'Nothing'"):
        _ = stgcn.records.Nothing
