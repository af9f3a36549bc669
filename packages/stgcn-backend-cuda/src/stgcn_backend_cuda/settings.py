"""The ``--backend-option KEY=VALUE`` settings of the cuda backend.

Channels-last is on by default: on an H100 it made bf16 training steps 1.37x and
inference 1.52x faster (docs/performance.md), because the model's graph convolution
then needs no layout copy. cuDNN autotuning is on because the batch shape is fixed for a
whole run, so its one-time search is repaid at once. torch.compile (1.6x more on top)
and CUDA graphs stay opt-in: compiling costs about a minute before the first step and
again for evaluation's shapes, which short runs do not earn back.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass

from stgcn.errors import StgcnError
from stgcn.plugins.settings import parse_bool


@dataclass(frozen=True)
class CudaSettings:
    #: torch.compile the model (``--compile``).
    compile: bool = False
    #: replay training steps as CUDA graphs (with compile: its "reduce-overhead" mode).
    cuda_graphs: bool = False
    #: convolution weights and activations in channels-last (NHWC) memory format.
    channels_last: bool = True
    #: let cuDNN time its algorithms for each new input shape and keep the fastest.
    cudnn_benchmark: bool = True
    #: let fp32 convolutions and matmuls use TF32 tensor cores (fp32 precision only).
    tf32: bool = False
    #: deterministic cuDNN and cuBLAS kernels: bit-identical reruns and resumes.
    deterministic: bool = False

    @classmethod
    def from_options(cls, options: Mapping[str, str]) -> CudaSettings:
        """Parse the option strings; refuse unknown keys and contradictions in one line."""
        known = [field.name for field in dataclasses.fields(cls)]
        unknown = sorted(set(options) - set(known))
        if unknown:
            raise StgcnError(
                f"backend 'cuda' has no option {unknown[0]!r} (known: {', '.join(sorted(known))})"
            )
        values = {key: parse_bool(value, f"backend option {key}") for key, value in options.items()}
        if values.get("deterministic") and values.get("cudnn_benchmark"):
            raise StgcnError(
                "backend options deterministic=true and cudnn_benchmark=true contradict each "
                "other: cuDNN's autotuning may pick a different algorithm in every process"
            )
        if values.get("deterministic"):
            values["cudnn_benchmark"] = False
        return cls(**values)
