"""What the stgcn-models tests that train each model share."""

from __future__ import annotations

#: each model with the options that make it small enough for seconds of training
SMALL_MODELS = {
    "stgcnpp": ["--model-option", "base_channels=8", "--model-option", "num_stages=6"],
    "ctrgcn": ["--model-option", "base_channels=8"],
}
#: the same numbers on every CPU kind
FP32 = ["--backend", "cpu", "--precision", "fp32"]
