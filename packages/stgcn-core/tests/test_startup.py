"""Start-up order: the ``stgcn`` command switches off torch's device-extension autoload
before anything imports torch, and ``import stgcn`` stays light while the public names
keep working."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

import stgcn

REPORT = """
import json, os, sys
import {module}
print(json.dumps({{"torch_imported": "torch" in sys.modules,
                  "autoload": os.environ.get("TORCH_DEVICE_BACKEND_AUTOLOAD")}}))
"""


@pytest.mark.parametrize(
    ("module", "autoload"),
    [("stgcn", None), ("stgcn.cli", "0"), ("stgcn.hookspecs", None), ("stgcn.records", None)],
    ids=["package", "command", "hookspecs", "records"],
)
def test_import_leaves_torch_alone(module: str, autoload: str | None) -> None:
    environment = {k: v for k, v in os.environ.items() if k != "TORCH_DEVICE_BACKEND_AUTOLOAD"}
    result = subprocess.run(
        [sys.executable, "-c", REPORT.format(module=module)],
        capture_output=True,
        text=True,
        env=environment,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"torch_imported": False, "autoload": autoload}


def test_public_names_resolve_lazily() -> None:
    from stgcn import STGCN, Graph, Layout, load_model
    from stgcn.model.graph import Graph as GraphHome
    from stgcn.model.network import STGCN as STGCNHome
    from stgcn.networks.loading import load_model as load_model_home

    assert (STGCN, Graph, load_model) == (STGCNHome, GraphHome, load_model_home)
    assert Layout.custom(3, [(0, 1), (1, 2)], 1).num_node == 3
    assert {name for name in stgcn.__all__ if name != "__version__"} <= set(dir(stgcn))
    with pytest.raises(AttributeError, match="no attribute 'nothing_here'"):
        _ = stgcn.nothing_here
