"""ONNX export and top-k prediction for stgcn models.

The plugin (``stgcn_export.plugin``) is imported every time ``stgcn`` starts, so this
package imports nothing heavy at the top: torch, onnx and onnxruntime load only when
an export or a prediction runs. The public functions are re-exported lazily here.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__version__ = "0.1.0"

_PUBLIC = {
    "export_onnx": "stgcn_export.onnx_export",
    "OnnxOptions": "stgcn_export.onnx_options",
    "OnnxExportReport": "stgcn_export.onnx_export",
    "verify_onnx": "stgcn_export.verification",
    "ShapeCheck": "stgcn_export.verification",
    "top_classes": "stgcn_export.prediction",
}
__all__ = ["__version__", *sorted(_PUBLIC)]


def __getattr__(name: str) -> Any:
    if name in _PUBLIC:
        return getattr(import_module(_PUBLIC[name]), name)
    raise AttributeError(f"module 'stgcn_export' has no attribute {name!r}")
