"""The Ascend NPU backend for stgcn: ``stgcn run --backend npu``.

torch-npu is not a dependency (install it with the ``torch-npu`` extra, or use the one
already on an Ascend host); nothing here imports it before the backend is set up.
"""

from stgcn_backend_npu.backend import NPUBackend
from stgcn_backend_npu.installation import TESTED_TORCH, TESTED_TORCH_NPU

__version__ = "0.1.0"
__all__ = ["TESTED_TORCH", "TESTED_TORCH_NPU", "NPUBackend", "__version__"]
