"""Which tests depend on whether the processor has native bf16, found by watching them.

The cpu backend's default precision (bf16 where the processor computes it natively,
fp32 elsewhere) and its default layout (channels last in bf16 there) both come from one
question, ``torch.cpu._is_avx512_bf16_supported()``, which ``stgcn.backends.cpu.native_bf16``
asks first. The native-bf16 stand-in of ``nox -s tests-bf16-cpu``
(tools/native_bf16_stand_in) changes nothing but that question's answer, so a test whose
processes never ask it runs the same there as in ``nox -s tests``: only the tests that
ask need running again under the stand-in. The probe records who asks:

- in the test process, :func:`record_asks` wraps the question on ``torch.cpu``;
- in every Python process a test starts (``stgcn`` commands, nested pytest runs), the
  ``probe_site`` folder, put first on ``PYTHONPATH``, holds a ``sitecustomize`` that
  wraps it the same way when ``torch.cpu`` is imported (and then runs the
  ``sitecustomize`` it shadows, the stand-in's in tests-bf16-cpu).

Each ask appends a line to the file named by ``STGCN_PRECISION_PROBE`` at that moment
(the pytest plugin points it at one file per test, and per fixture wider than a test).
Asks from torch's own modules do not count: its compiler asks only on AVX-512
processors, to choose its vector code, and does not depend on stgcn's defaults.

This module imports nothing but the standard library: ``probe_site/sitecustomize.py``
loads it by its path in every process a test starts, before anything else.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import os
import sys
from collections.abc import Callable, Sequence
from importlib.machinery import ModuleSpec
from pathlib import Path
from types import ModuleType

#: the file each ask is appended to (unset: asks are not recorded)
LOG_VARIABLE = "STGCN_PRECISION_PROBE"
#: the folder whose ``sitecustomize`` records the asks of the processes a test starts
SITE = Path(__file__).with_name("probe_site")
#: the question the native-bf16 stand-in answers differently
QUESTION = "_is_avx512_bf16_supported"


def record_asks(cpu: ModuleType) -> None:
    """Wrap ``cpu``'s (``torch.cpu``) native-bf16 question so that each call from outside
    torch is recorded; the answer is unchanged. Wrapping twice is a no-op."""
    ask: Callable[[], bool] = getattr(cpu, QUESTION)
    if getattr(ask, "records_asks", False):
        return

    def recorded() -> bool:
        log = os.environ.get(LOG_VARIABLE)
        caller = sys._getframe(1).f_globals.get("__name__", "")
        if log and not (caller == "torch" or caller.startswith("torch.")):
            with open(log, "a", encoding="utf-8") as file:
                file.write(f"{os.getpid()} {caller}\n")
        return ask()

    recorded.records_asks = True  # type: ignore[attr-defined]
    setattr(cpu, QUESTION, recorded)


class _RecordWhenImported(importlib.abc.MetaPathFinder):
    """Wraps the question as soon as ``torch.cpu`` is imported, after whatever the other
    finders (the stand-in's) do to the module."""

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None,
        target: ModuleType | None = None,
    ) -> ModuleSpec | None:
        if fullname != "torch.cpu":
            return None
        spec = None
        for finder in [f for f in sys.meta_path if f is not self]:
            find = getattr(finder, "find_spec", None)
            spec = find(fullname, path, target) if find is not None else None
            if spec is not None:
                break
        loader = spec.loader if spec is not None else None
        if loader is None:
            return spec
        run = loader.exec_module

        def exec_module(module: ModuleType) -> None:
            run(module)
            record_asks(module)

        loader.exec_module = exec_module
        return spec


def run_shadowed_sitecustomize() -> None:
    """Run the ``sitecustomize`` module that ``probe_site``'s, found first, hides (the
    native-bf16 stand-in's, or an environment's own), as Python would have."""
    rest = [entry for entry in sys.path if Path(entry or ".").resolve() != SITE.resolve()]
    spec = importlib.machinery.PathFinder.find_spec("sitecustomize", rest)
    if spec is None or spec.loader is None:
        return
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)


def install() -> None:
    """What ``probe_site/sitecustomize.py`` does at a process's start."""
    run_shadowed_sitecustomize()
    sys.meta_path.insert(0, _RecordWhenImported())
