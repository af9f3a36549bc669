"""Is torch-npu installed, and does its release match torch's?

Answered from package metadata only: importing torch_npu where the CANN toolkit is
missing fails (or worse), so nothing here imports it. ``find_spec`` finding the
module proves it is installed, not that it can load.
"""

from __future__ import annotations

import importlib.util
import re
from importlib import metadata

#: The torch / torch-npu pair this package is tested with (the ``torch-npu`` extra).
TESTED_TORCH = "2.13.0"
TESTED_TORCH_NPU = "2.13.0"
EXTRA = "stgcn-backend-npu[torch-npu]"


def release(version: str) -> str:
    """``2.13.0+cpu`` and ``2.7.1.post11`` are releases ``2.13.0`` and ``2.7.1``.

    torch-npu X.Y.Z (and its post releases) is built against torch X.Y.Z exactly.
    """
    match = re.match(r"\d+(\.\d+)*", version.strip())
    if not match:
        return version.strip()
    parts = match.group(0).split(".")
    return ".".join(parts[:3])


def installed_version(distribution: str) -> str | None:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


def install_hint(torch_version: str | None) -> str:
    """The one command that installs the torch-npu matching this torch."""
    torch_release = release(torch_version) if torch_version else TESTED_TORCH
    if torch_release == TESTED_TORCH:
        return f"pip install '{EXTRA}' (torch-npu {TESTED_TORCH_NPU} for torch {TESTED_TORCH})"
    return (
        f"pip install 'torch-npu=={torch_release}.*' (the release for torch {torch_release}; "
        f"stgcn-backend-npu is tested with torch {TESTED_TORCH} and torch-npu {TESTED_TORCH_NPU})"
    )


def installation_problem(
    module_found: bool, torch_version: str | None, torch_npu_version: str | None
) -> str | None:
    """Why the installed packages cannot work together, or None when they can."""
    if not module_found:
        return f"torch-npu is not installed: on an Ascend host, {install_hint(torch_version)}"
    if torch_version and torch_npu_version and release(torch_version) != release(torch_npu_version):
        return (
            f"torch-npu {torch_npu_version} does not match torch {torch_version} "
            f"(torch-npu X.Y.Z needs torch X.Y.Z): {install_hint(torch_version)}"
        )
    return None


def check_installation() -> str | None:
    """This environment's answer to ``installation_problem``."""
    return installation_problem(
        importlib.util.find_spec("torch_npu") is not None,
        installed_version("torch"),
        installed_version("torch_npu"),
    )
