"""Modules that moved when the core was grouped by layer, importable by their old names.

Third-party plugins and scripts import ``stgcn.datasets.sampling``, ``stgcn.graph``,
``stgcn.distributed`` and the like (docs/plugins.md names several). Each old name is
served by the module at its new home, the same object, so that ``import`` and
attribute patches through either name act on one module. A finder on ``sys.meta_path``
answers only for the names below; everything else imports as usual.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
from collections.abc import Sequence
from types import ModuleType

#: old module or package name -> its home now; a package's submodules follow it
MOVED = {
    "stgcn.graph": "stgcn.model.graph",
    "stgcn.spectral": "stgcn.model.spectral",
    "stgcn.loading": "stgcn.model.loading",
    "stgcn.checkpoint": "stgcn.model.checkpoint",
    "stgcn.baseline": "stgcn.bench.baseline",
    "stgcn.bench_data": "stgcn.bench.data",
    "stgcn.reference": "stgcn.bench.reference",
    "stgcn.reports.throughput": "stgcn.bench.peak",
    "stgcn.allocator": "stgcn.system.allocator",
    "stgcn.memory": "stgcn.system.memory",
    "stgcn.options": "stgcn.plugins.settings",
    "stgcn.datasets": "stgcn.data",
    "stgcn.streams.training": "stgcn.training.streams",
    "stgcn.streams": "stgcn.data.streams",
    "stgcn.train": "stgcn.training.trainer",
    "stgcn.config": "stgcn.training.config",
    "stgcn.distributed": "stgcn.training.distributed",
    "stgcn.launch": "stgcn.training.launch",
    "stgcn.evaluate": "stgcn.training.evaluation",
    "stgcn.evaluation_job": "stgcn.training.evaluation",
    "stgcn.preemption": "stgcn.training.preemption",
    "stgcn.hosts": "stgcn.training.hosts",
    "stgcn.scaffold": "stgcn.commands.plugin_new",
}


def new_home(name: str) -> str | None:
    """Where the module once called ``name`` lives now, or None if it did not move."""
    parts = name.split(".")
    for end in range(len(parts), 1, -1):
        home = MOVED.get(".".join(parts[:end]))
        if home is not None:
            return ".".join([home, *parts[end:]])
    return None


class _Alias(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def __init__(self) -> None:
        self._specs: dict[str, importlib.machinery.ModuleSpec | None] = {}

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        home = new_home(fullname)
        if home is None:
            return None
        is_package = hasattr(importlib.import_module(home), "__path__")
        return importlib.machinery.ModuleSpec(fullname, self, is_package=is_package)

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        home = new_home(spec.name)
        assert home is not None
        module = importlib.import_module(home)
        self._specs[module.__name__] = module.__spec__
        return module

    def exec_module(self, module: ModuleType) -> None:
        """Nothing to run: the module is imported at its new home. The import system has
        just given it the old name's spec; its own goes back, so that it stays one module
        with one name (pickles and ``python -m`` read ``__spec__``)."""
        module.__spec__ = self._specs[module.__name__]


def install() -> None:
    """Serve the old names (once per process)."""
    if not any(isinstance(finder, _Alias) for finder in sys.meta_path):
        # first: the path finder would otherwise load a moved package's files a second
        # time, as new modules under the old name
        sys.meta_path.insert(0, _Alias())
