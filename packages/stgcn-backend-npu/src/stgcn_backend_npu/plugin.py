"""The ``stgcn`` entry point: registers the ``npu`` backend.

Registering costs nothing: the checks and the torch_npu import wait until the backend
is asked whether it is available, or set up.
"""

from __future__ import annotations

from collections.abc import Callable

from stgcn.hookspecs import hookimpl
from stgcn.records import Backend
from stgcn_backend_npu.backend import NPUBackend

#: The stgcn plugin API versions this plugin is written for (see stgcn.plugins.loading).
STGCN_API = ">=2,<3"


@hookimpl
def stgcn_register_backends(register: Callable[[Backend], None]) -> None:
    register(NPUBackend())
