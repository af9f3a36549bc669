"""A stand-in for a CPU with native bf16 (AVX512-BF16), for running the suite on one that
has none: with this folder on ``PYTHONPATH``, every Python process (the test runner and
the ``stgcn`` commands it starts) finds ``torch.cpu._is_avx512_bf16_supported()`` true.

Only the answer to that question changes: bf16 arithmetic is still whatever the machine
does (emulated here, so slower, the same numbers). What it checks is that nothing in the
suite assumes fp32 is the cpu backend's default precision, or the contiguous layout its
default layout (``channels_last=auto`` turns channels last on there). ``nox -s
tests-bf16-cpu`` uses it.

What it follows: torch 2.13's ``torch/cpu/__init__.py``, where
``_is_avx512_bf16_supported()`` returns ``get_capabilities().get("avx512_bf16", False)``
(the CPU's AVX512-BF16 bit), the question the cpu backend's ``native_bf16()`` asks
first. So it stands in for a Zen 5 (AVX512-BF16, no AMX); ``_is_amx_tile_supported`` is
left as the machine answers. Nothing else of torch is changed, so whatever the machine
refuses in bf16 it still refuses.

torch is not imported here: the hook patches ``torch.cpu`` when something imports it,
so a process that never imports torch starts as fast as before.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys


class _PatchTorchCPU(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name != "torch.cpu":
            return None
        sys.meta_path.remove(self)
        try:
            spec = importlib.machinery.PathFinder.find_spec(name, path)
        finally:
            sys.meta_path.insert(0, self)
        if spec is None or spec.loader is None:
            return spec
        run = spec.loader.exec_module

        def exec_module(module):
            run(module)
            module._is_avx512_bf16_supported = lambda: True

        spec.loader.exec_module = exec_module
        return spec


sys.meta_path.insert(0, _PatchTorchCPU())
