"""Fixtures of the stgcn-models tests.

The package's plugin is named in ``STGCN_PLUGINS`` as well as by its entry point, so
that the tests find the models whether the package is pip-installed (nox, CI: the
entry point; the variable then adds nothing) or only on the path (a development
checkout); the ``stgcn`` commands the tests start inherit the variable."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from stgcn.plugins.loading import PLUGINS_VARIABLE

# zoo_helpers, which the tests import (pytest imports them by path: pytest.ini)
sys.path.insert(0, str(Path(__file__).parent))

PLUGIN_MODULE = "stgcn_models.plugin"

_named = [name for name in os.environ.get(PLUGINS_VARIABLE, "").split(",") if name]
os.environ[PLUGINS_VARIABLE] = ",".join(dict.fromkeys([*_named, PLUGIN_MODULE]))

#: ``checkpoint`` (an ST-GCN trained by ``stgcn run``) and ``site`` come from here.
pytest_plugins = ["stgcn.testing.pytest_plugin"]
