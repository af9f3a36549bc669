"""Helpers every package's tests share: the real ``stgcn`` command (in a fresh
interpreter or in this one) and fake-but-real installed distributions.

They were copied into each package's tests before; one copy here keeps the packages'
tests running the command the same way, and a new plugin's tests start from them.
Nothing here imports pytest (the fixtures are in :mod:`stgcn.testing.pytest_plugin`).
"""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import NamedTuple

#: Small enough that an epoch trains in seconds on two cores (epochs left to the test).
#: (fmt: skip keeps each option beside its value, as a user types them)
TINY = [
    "--data-option", "train_size=32",
    "--data-option", "val_size=16",
    "--data-option", "frames=12",
    "--batch-size", "8",
]  # fmt: skip

#: A one-step training run: enough for a real checkpoint, quick on two cores.
TINY_RUN = [
    "--data-option", "train_size=8",
    "--data-option", "val_size=8",
    "--data-option", "frames=12",
    "--batch-size", "8",
    "--epochs", "1",
    "--seed", "5",
]  # fmt: skip

#: Variables a developer may have set that change what the command prints.
DEVELOPER_VARIABLES = ("STGCN_STRICT_PLUGINS", "STGCN_DEBUG")


def command_environment(
    site: Path | None = None,
    env: Mapping[str, str] | None = None,
    unset: Iterable[str] = (),
) -> dict[str, str]:
    """This process's environment as a user's shell would have it: without the
    developer switches (and ``unset``), ``site`` first on PYTHONPATH, then ``env``."""
    dropped = {*DEVELOPER_VARIABLES, *unset}
    environment = {key: value for key, value in os.environ.items() if key not in dropped}
    if site is not None:
        environment["PYTHONPATH"] = os.pathsep.join(
            [str(site), *filter(None, [environment.get("PYTHONPATH")])]
        )
    environment.update(env or {})
    return environment


#: ``python -m stgcn`` with this interpreter: it works whether or not the console
#: script is installed, and runs the sources this test session imports.
STGCN = (sys.executable, "-m", "stgcn")


def run_stgcn(
    *args: str,
    site: Path | None = None,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    timeout: float = 600,
) -> subprocess.CompletedProcess[str]:
    """The real command in a fresh interpreter, as a user would run it; ``site`` and
    ``env`` go to :func:`command_environment`."""
    return subprocess.run(
        [*STGCN, *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=command_environment(site, env),
        timeout=timeout,
    )


def start_stgcn(
    *args: str, site: Path | None = None, env: Mapping[str, str] | None = None
) -> subprocess.Popen[str]:
    """The real command started in the background; stderr kept for the failure message."""
    return subprocess.Popen(
        [*STGCN, *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=command_environment(site, env),
    )


class Ran(NamedTuple):
    """What :func:`stgcn_in_process` saw, shaped like a finished subprocess."""

    returncode: int
    stdout: str
    stderr: str


def stgcn_in_process(*args: str) -> Ran:
    """``stgcn.cli.main`` in this interpreter (no torch start-up per call): the same
    command, error handling included, with its exit code and output captured."""
    from stgcn.cli import main

    out, err = io.StringIO(), io.StringIO()
    code = 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main(list(args))
        except SystemExit as stop:
            code = stop.code if isinstance(stop.code, int) else 1
    return Ran(code, out.getvalue(), err.getvalue())


def make_distribution(
    site: Path,
    dist_name: str,
    version: str,
    module: str,
    source: str,
    entry_points: Mapping[str, str] | None = None,
) -> None:
    """Write an installed distribution (a module and its .dist-info) into ``site``.

    importlib.metadata finds it exactly as it finds a pip-installed package once
    ``site`` is on the path (the ``site`` fixture puts it there); ``entry_points``
    (name -> module) defaults to one ``stgcn`` entry point naming ``module``.
    """
    (site / f"{module}.py").write_text(textwrap.dedent(source))
    info = site / f"{dist_name.replace('-', '_')}-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {dist_name}\nVersion: {version}\n"
    )
    points = entry_points or {module: module}
    lines = "".join(f"{name} = {target}\n" for name, target in points.items())
    (info / "entry_points.txt").write_text(f"[stgcn]\n{lines}")
    (info / "RECORD").write_text("")
