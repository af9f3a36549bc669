"""Test helpers: the real ``stgcn`` command (in a fresh interpreter or in-process) and
fake-but-real installed distributions for dataset plugins."""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

#: A one-step training run: enough for a real checkpoint, quick on two cores.
TINY_RUN = [
    "--data-option", "train_size=8",
    "--data-option", "val_size=8",
    "--data-option", "frames=12",
    "--batch-size", "8",
    "--epochs", "1",
    "--seed", "5",
]  # fmt: skip


@dataclass
class Ran:
    returncode: int
    stdout: str
    stderr: str


def run_stgcn(
    *args: str, site: Path | None = None, timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    """The real command in a fresh interpreter, as a user would run it."""
    environment = dict(os.environ)
    environment.pop("STGCN_STRICT_PLUGINS", None)
    environment.pop("STGCN_DEBUG", None)
    if site is not None:
        environment["PYTHONPATH"] = os.pathsep.join(
            [str(site), *filter(None, [environment.get("PYTHONPATH")])]
        )
    return subprocess.run(
        [sys.executable, "-m", "stgcn", *args],
        capture_output=True,
        text=True,
        env=environment,
        timeout=timeout,
    )


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


def assert_one_line_error(ran: Ran | subprocess.CompletedProcess[str], *fragments: str) -> None:
    """Failed, with one ``stgcn: error:`` line naming the problem, and no traceback."""
    assert ran.returncode != 0, ran.stdout
    lines = ran.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("stgcn: error: "), ran.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def make_distribution(site: Path, dist_name: str, module: str, source: str) -> None:
    """Write an installed distribution (a module, its .dist-info, an ``stgcn`` entry
    point) into ``site``: importlib.metadata finds it like a pip-installed one."""
    (site / f"{module}.py").write_text(textwrap.dedent(source))
    info = site / f"{dist_name.replace('-', '_')}-0.1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist_name}\nVersion: 0.1.0\n")
    (info / "entry_points.txt").write_text(f"[stgcn]\n{module} = {module}\n")
    (info / "RECORD").write_text("")


#: A dataset plugin whose clips are JSON files {"skeleton": nested (C, T, V, M) list}.
JSON_CLIPS_PLUGIN = """
    import json

    import numpy as np

    from stgcn.errors import StgcnError
    from stgcn.hookspecs import hookimpl
    from stgcn.records import Dataset

    NAMES = tuple(f"move {i}" for i in range(10))


    def build(split, data_path, options):
        raise StgcnError("jsonclips: training is not part of this test plugin")


    def read_sample(path):
        with open(path) as stream:
            clip = json.load(stream)
        return np.asarray(clip["skeleton"], dtype=np.float32)


    @hookimpl
    def stgcn_register_datasets(register):
        register(Dataset(name="jsonclips", num_class=10, build=build, class_names=NAMES,
                         read_sample=read_sample, needs_data_path=False))
        register(Dataset(name="fourclips", num_class=4, build=build, read_sample=read_sample,
                         needs_data_path=False))
"""
