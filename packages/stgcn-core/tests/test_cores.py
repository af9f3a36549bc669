"""``stgcn.system.cores``: the cores a process may run on, which the kinetics
conversion's workers and the mediapipe estimator's landmarker threads are sized by."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from stgcn.system import cores
from stgcn.system.cores import available_cores


@pytest.mark.skipif(not hasattr(os, "sched_getaffinity"), reason="no affinity mask here")
def test_the_affinity_mask_narrows_the_cores() -> None:
    assert available_cores() == len(os.sched_getaffinity(0))
    # a process pinned to one core (as taskset pins it) counts one
    code = (
        "import os; os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]}); "
        "from stgcn.system.cores import available_cores; print(available_cores())"
    )
    pinned = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert pinned.returncode == 0, pinned.stderr
    assert pinned.stdout.strip() == "1"


def test_without_an_affinity_mask_every_core_counts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(os, "sched_getaffinity", raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: 3)
    assert cores.available_cores() == 3
    # a platform that cannot tell still has the core it runs on
    monkeypatch.setattr(os, "cpu_count", lambda: None)
    assert cores.available_cores() == 1
