"""Test helpers: fake-but-real installed distributions, the real command in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

#: Small enough that a few epochs train in seconds on two cores.
TINY = [
    "--data-option", "train_size=32",
    "--data-option", "val_size=16",
    "--data-option", "frames=12",
    "--batch-size", "8",
]  # fmt: skip


def make_distribution(
    site: Path,
    dist_name: str,
    version: str,
    module: str,
    source: str,
    entry_points: dict[str, str] | None = None,
) -> None:
    """Write an installed distribution (a module and its .dist-info) into ``site``.

    importlib.metadata finds it exactly as it finds a pip-installed package once
    ``site`` is on the path.
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


def _environment(site: Path | None, env: dict[str, str] | None) -> dict[str, str]:
    environment = dict(os.environ)
    environment.pop("STGCN_STRICT_PLUGINS", None)
    environment.pop("STGCN_DEBUG", None)
    if site is not None:
        environment["PYTHONPATH"] = os.pathsep.join(
            [str(site), *filter(None, [environment.get("PYTHONPATH")])]
        )
    environment.update(env or {})
    return environment


def run_stgcn(
    *args: str, site: Path | None = None, env: dict[str, str] | None = None, timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    """The real command in a fresh interpreter, as a user would run it."""
    return subprocess.run(
        [sys.executable, "-m", "stgcn", *args],
        capture_output=True,
        text=True,
        env=_environment(site, env),
        timeout=timeout,
    )


def start_stgcn(
    *args: str, site: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.Popen[str]:
    """The real command started in the background; stderr kept for the failure message."""
    return subprocess.Popen(
        [sys.executable, "-m", "stgcn", *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=_environment(site, env),
    )
