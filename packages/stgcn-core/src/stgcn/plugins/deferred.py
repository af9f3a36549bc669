"""Functions of a plugin that import their module on first call.

A plugin module must be cheap to import, since ``stgcn plugins`` imports every plugin;
the code that reads data or exports a model (numpy, torch, onnx) should load only when
a record's function is first called. ``lazy("package.module:function")`` stands for that
function until then::

    KINETICS = Dataset(name="kinetics", build=lazy("stgcn_data_kinetics.dataset:build"), ...)
"""

from __future__ import annotations

import importlib
from typing import Any

from stgcn.errors import StgcnError


class Lazy:
    """A callable that imports ``module:attribute`` on its first call and then calls it.
    It pickles as its target's name, so a record holding one crosses to worker processes."""

    def __init__(self, target: str) -> None:
        module, sep, attribute = target.partition(":")
        if not sep or not module or not attribute:
            raise ValueError(f"lazy() takes 'package.module:function', got {target!r}")
        self.target = target
        self.__name__ = self.__qualname__ = attribute.rpartition(".")[2]
        self._function: Any = None

    def resolve(self) -> Any:
        """The target itself, imported now."""
        if self._function is None:
            module, _, path = self.target.partition(":")
            found: Any = importlib.import_module(module)
            try:
                for part in path.split("."):
                    found = getattr(found, part)
            except AttributeError:
                raise StgcnError(
                    f"{module} has no {path} (named by lazy({self.target!r}))"
                ) from None
            self._function = found
        return self._function

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.resolve()(*args, **kwargs)

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        return (Lazy, (self.target,))

    def __repr__(self) -> str:
        return f"lazy({self.target!r})"


def lazy(target: str) -> Lazy:
    """``target`` ("package.module:function") as a callable that imports on first call."""
    return Lazy(target)
