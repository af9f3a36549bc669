"""A stand-in for a CPU with native bf16 (AVX512-BF16), for running the suite on one that
has none: with this folder on ``PYTHONPATH``, every Python process (the test runner and
the ``stgcn`` commands it starts) finds ``torch.cpu._is_avx512_bf16_supported()`` true.

Only the answer to that question changes (and, below, how fast a bf16 convolution is
computed): bf16 arithmetic is still whatever the machine does. What it checks is that nothing in the
suite assumes fp32 is the cpu backend's default precision, or the contiguous layout its
default layout (``channels_last=auto`` turns channels last on there). ``nox -s
tests-bf16-cpu`` uses it.

What it follows: torch 2.13's ``torch/cpu/__init__.py``, where
``_is_avx512_bf16_supported()`` returns ``get_capabilities().get("avx512_bf16", False)``
(the CPU's AVX512-BF16 bit), the question the cpu backend's ``native_bf16()`` asks
first. So it stands in for a Zen 5 (AVX512-BF16, no AMX); ``_is_amx_tile_supported`` is
left as the machine answers. Whatever the machine refuses in bf16 it still refuses.

One thing is computed otherwise, for speed alone, on a machine without native bf16: a
bf16 convolution (``nn.Conv2d``, the temporal ones included, under autocast or with bf16
weights) takes its operands rounded to bf16 as autocast rounds them, accumulates in fp32
and rounds its output to bf16, which is what oneDNN's bf16 convolution does on the
machines this stands in for (bf16 inputs and outputs, f32 accumulation: oneDNN's
developer guide, "Data Types"). Only the operands that torch 2.13's autocast casts are
rounded (``is_eligible`` in ``aten/src/ATen/autocast_mode.h``: floating point, not
float64); others reach the convolution as they are, so what it refuses stays refused.
Without native bf16, torch 2.13 sends a bf16 convolution to its slow path
(aten::_slow_conv2d_forward/_backward, 80% of a step): a training step of the tests'
batch of 8 took 2.96 s there against 0.60 s so computed and 0.38 s in fp32 (oneDNN
capped at AVX2 on a Sapphire Rapids: ``ONEDNN_MAX_CPU_ISA=AVX2``), which made this
session take longer than all the others together on an AVX2 machine. The numbers are a
native machine's, to rounding order; what a test assumes about the precision fails the
same.

torch is not imported here: the hook patches ``torch.cpu`` and ``torch.nn.modules.conv``
when something imports them, so a process that never imports torch starts as fast as
before.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys


def _native_bf16(cpu) -> bool:
    """The machine's own answer, as the cpu backend asks it (stgcn.backends.cpu.native_bf16)."""
    capabilities = cpu.get_capabilities()
    return bool(capabilities.get("avx512_bf16", False) or capabilities.get("amx_tile", False))


def _patch_cpu(module) -> None:
    module._is_avx512_bf16_supported = lambda: True


def _patch_conv(module) -> None:
    import functools

    import torch  # being imported: torch.cpu is there by the first convolution

    direct = module.Conv2d._conv_forward
    machine_native_bf16 = functools.cache(lambda: _native_bf16(torch.cpu))
    bf16 = torch.bfloat16

    def widened(t):
        """An operand as autocast rounds it to bf16, then in fp32 for the accumulation."""
        eligible = t is not None and t.is_floating_point() and t.dtype != torch.float64
        return t.to(bf16).float() if eligible else t

    def conv_forward(self, input, weight, bias):
        autocast = torch.is_autocast_enabled("cpu") and torch.get_autocast_dtype("cpu") == bf16
        lower = autocast or (input.dtype == bf16 and weight.dtype == bf16)
        if not lower or input.device.type != "cpu" or machine_native_bf16():
            return direct(self, input, weight, bias)
        with torch.autocast("cpu", enabled=False):
            return direct(self, widened(input), widened(weight), widened(bias)).to(bf16)

    module.Conv2d._conv_forward = conv_forward


_PATCHES = {"torch.cpu": _patch_cpu, "torch.nn.modules.conv": _patch_conv}


class _PatchTorchCPU(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name not in _PATCHES:
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
            _PATCHES[name](module)

        spec.loader.exec_module = exec_module
        return spec


sys.meta_path.insert(0, _PatchTorchCPU())
