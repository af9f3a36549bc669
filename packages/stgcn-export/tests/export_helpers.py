"""Test helpers of the export package: its one-line error check and a dataset plugin
written as a fake installed distribution (the shared ones are in stgcn.testing.helpers)."""

from __future__ import annotations

import subprocess

from stgcn.testing.helpers import Ran


def assert_one_line_error(ran: Ran | subprocess.CompletedProcess[str], *fragments: str) -> None:
    """Failed, with one ``stgcn: error:`` line naming the problem, and no traceback."""
    assert ran.returncode != 0, ran.stdout
    lines = ran.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("stgcn: error: "), ran.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


#: A dataset plugin whose clips are JSON files {"skeleton": nested (C, T, V, M) list}.
JSON_CLIPS_PLUGIN = """
    import json

    import numpy as np

    from stgcn.errors import StgcnError
    from stgcn.hookspecs import hookimpl
    from stgcn.records import Dataset

    NAMES = tuple(f"move {i}" for i in range(10))


    def build(request):
        raise StgcnError("jsonclips: training is not part of this test plugin")


    def read_sample(request):
        with open(request.path) as stream:
            clip = json.load(stream)
        return np.asarray(clip["skeleton"], dtype=np.float32)


    @hookimpl
    def stgcn_register_datasets(register):
        register(Dataset(name="jsonclips", num_class=10, build=build, class_names=NAMES,
                         read_sample=read_sample, needs_data_path=False))
        register(Dataset(name="fourclips", num_class=4, build=build, read_sample=read_sample,
                         needs_data_path=False))
"""
