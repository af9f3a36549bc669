"""NVIDIA GPU backend for stgcn: ``stgcn run --backend cuda``.

Loading this module touches no GPU: the backend checks the host only when asked
(``availability``), so ``stgcn plugins`` lists it quickly everywhere.
"""

from collections.abc import Callable

from stgcn.hookspecs import hookimpl
from stgcn.records import Backend
from stgcn_backend_cuda.backend import CUDABackend
from stgcn_backend_cuda.settings import CudaSettings

#: The stgcn plugin API versions this plugin is written for (see stgcn.plugins.loading).
STGCN_API = ">=2,<3"

__version__ = "0.1.0"
__all__ = ["CUDABackend", "CudaSettings", "__version__"]


@hookimpl
def stgcn_register_backends(register: Callable[[Backend], None]) -> None:
    register(CUDABackend())
