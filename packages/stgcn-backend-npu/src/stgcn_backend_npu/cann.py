"""Finding the CANN toolkit the way torch_npu's native module will need it.

The torch-npu wheel links against CANN libraries it does not ship (``libascendcl.so``,
``libhccl.so``, ...). Without them ``import torch_npu`` fails with ``ImportError:
libhccl.so: cannot open shared object file``. The dynamic loader looks in
``LD_LIBRARY_PATH``, then its cache (``ldconfig``), then the system folders, and
CANN's ``set_env.sh`` is what puts the toolkit on ``LD_LIBRARY_PATH``. So the check
asks that same question, and when the answer is no, looks in the usual install places
to tell "not installed" from "installed but not sourced".
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

#: What torch_npu's native module loads first from CANN: the runtime and the collectives.
CANN_LIBRARIES = ("libhccl.so", "libascendcl.so")
#: Where CANN puts its toolkit as root (a user without root gets ~/Ascend/...).
SYSTEM_HOME = Path("/usr/local/Ascend/ascend-toolkit/latest")
HOME_VARIABLES = ("ASCEND_HOME_PATH", "ASCEND_TOOLKIT_HOME")
SYSTEM_LIBRARY_DIRS = (
    Path("/lib"),
    Path("/usr/lib"),
    Path("/lib64"),
    Path("/usr/lib64"),
)


@dataclass(frozen=True)
class CannToolkit:
    """What was found: where each library resolves (None when it does not), and the
    toolkit folder seen in the environment or a usual place, with its ``set_env.sh``."""

    libraries: Mapping[str, Path | None]
    home: Path | None = None
    set_env: Path | None = None
    #: a home variable naming a folder that does not exist, as ``NAME=value``
    dangling: str | None = None

    @property
    def missing(self) -> tuple[str, ...]:
        return tuple(name for name, path in self.libraries.items() if path is None)

    def problem(self) -> str | None:
        """One line saying what to install or source, or None when CANN looks loadable."""
        if not self.missing:
            return None
        names = ", ".join(self.missing)
        if self.dangling:
            return (
                f"CANN toolkit not found ({names}; {self.dangling} does not exist): "
                "source the set_env.sh of an installed CANN toolkit"
            )
        if self.home is not None:
            script = self.set_env or self.home / "set_env.sh"
            return (
                f"CANN toolkit at {self.home} is not loaded ({names} not on the library "
                f"path): source {script}"
            )
        return (
            f"CANN toolkit not found ({names}): install the CANN toolkit that matches "
            f"torch-npu, then source its set_env.sh (usually {SYSTEM_HOME.parent / 'set_env.sh'})"
        )


def library_path(environ: Mapping[str, str]) -> list[Path]:
    """The folders of ``LD_LIBRARY_PATH``, in order."""
    return [Path(part) for part in environ.get("LD_LIBRARY_PATH", "").split(os.pathsep) if part]


@lru_cache(maxsize=1)
def loader_cache() -> Mapping[str, Path]:
    """Library names the loader's cache knows (``ldconfig -p``), first entry per name."""
    program = shutil.which("ldconfig") or next(
        (p for p in ("/sbin/ldconfig", "/usr/sbin/ldconfig") if os.access(p, os.X_OK)), None
    )
    if program is None:
        return {}
    try:
        listing = subprocess.run(
            [program, "-p"], capture_output=True, text=True, timeout=10, check=False
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return {}
    found: dict[str, Path] = {}
    for line in listing.splitlines():
        name, arrow, path = line.strip().partition(" => ")
        if arrow:
            found.setdefault(name.split(" (", 1)[0], Path(path.strip()))
    return found


def find_library(
    name: str, environ: Mapping[str, str], system_dirs: Sequence[Path] = SYSTEM_LIBRARY_DIRS
) -> Path | None:
    """Where the dynamic loader would find ``name``, or None."""
    for folder in library_path(environ):
        if (folder / name).is_file():
            return folder / name
    cached = loader_cache().get(name)
    if cached is not None and cached.is_file():
        return cached
    for folder in system_dirs:
        if (folder / name).is_file():
            return folder / name
    return None


def usual_homes() -> tuple[Path, ...]:
    """The toolkit folders CANN's installer uses, as root and as a user."""
    try:
        user_home = Path.home() / "Ascend" / "ascend-toolkit" / "latest"
    except RuntimeError:  # no home folder known for this user
        return (SYSTEM_HOME,)
    return (SYSTEM_HOME, user_home)


def _set_env_script(home: Path) -> Path | None:
    """CANN keeps ``set_env.sh`` beside ``latest`` (and in newer releases also inside)."""
    for candidate in (home.parent / "set_env.sh", home / "set_env.sh"):
        if candidate.is_file():
            return candidate
    return None


def find_cann(
    environ: Mapping[str, str] | None = None,
    homes: Sequence[Path] | None = None,
    system_dirs: Sequence[Path] = SYSTEM_LIBRARY_DIRS,
) -> CannToolkit:
    """Look for the CANN libraries as the loader will, and for the toolkit's folder."""
    environ = os.environ if environ is None else environ
    libraries = {name: find_library(name, environ, system_dirs) for name in CANN_LIBRARIES}
    home = dangling = None
    for variable in HOME_VARIABLES:
        value = environ.get(variable)
        if value:
            if Path(value).is_dir():
                home = Path(value)
                break
            dangling = dangling or f"{variable}={value}"
    if home is None:
        candidates = usual_homes() if homes is None else homes
        home = next((path for path in candidates if path.is_dir()), None)
    return CannToolkit(
        libraries=libraries,
        home=home,
        set_env=_set_env_script(home) if home is not None else None,
        dangling=dangling if home is None else None,
    )
