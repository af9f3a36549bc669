"""``stgcn bench --profile``: the top operators by self time of the benched step.

Tiny shapes: this checks what the table says, not how fast anything is."""

from __future__ import annotations

import json
import subprocess
import sys

from stgcn.bench.measure import BenchRequest, bench_training
from stgcn.plugins.kinds import BACKENDS
from stgcn.plugins.registry import get_registry

TINY = ["--frames", "8", "--batch-size", "2", "--steps", "1", "--warmup", "1"]


def stgcn(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "stgcn", *args], capture_output=True, text=True, timeout=300
    )


def test_the_table_names_the_steps_real_operators() -> None:
    done = stgcn("bench", *TINY, "--precision", "fp32", "--profile", "6")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("profile: top 6 operators"))
    # the page faults of a profiled step, which tell when memory-bound rows read high
    assert lines[start].endswith(" page faults a step"), lines[start]
    rows = lines[start + 2 :]
    assert len(rows) == 6, done.stdout
    # a training step of a graph network spends its time in convolutions first
    assert any("convolution" in row for row in rows), done.stdout
    times = [float(row.split()[-3]) for row in rows]
    assert times == sorted(times, reverse=True)  # ranked by self time


def test_the_json_holds_the_ranked_operators_of_inference() -> None:
    backend = get_registry().get(BACKENDS, "cpu")
    request = BenchRequest(2, 8, 1, steps=1, warmup=1, mode="eval", profile_rows=4)
    result = bench_training(backend, "fp32", request)
    profile = json.loads(json.dumps(result.to_dict()))["profile"]
    operators = profile["operators"]
    assert len(operators) == 4 and profile["steps"] >= 1
    faults = profile["page_faults_per_step"]
    assert isinstance(faults, float) and faults >= 0
    assert all(op["name"].startswith("aten::") or "::" in op["name"] for op in operators)
    # inference has no backward: no operator of the profile is a gradient's
    assert not any("backward" in op["name"] for op in operators)
    assert 0 < sum(op["share"] for op in operators) <= 1
    shares = [op["share"] for op in operators]
    assert shares == sorted(shares, reverse=True)


def test_without_profile_there_is_no_table() -> None:
    request = BenchRequest(2, 8, 1, steps=1, warmup=0)
    result = bench_training(get_registry().get(BACKENDS, "cpu"), "fp32", request)
    assert result.profile is None and result.to_dict()["profile"] is None
    assert not any(line.startswith("profile:") for line in result.describe())


def test_a_profile_of_no_rows_is_one_line() -> None:
    done = stgcn("bench", *TINY, "--profile", "0")
    assert done.returncode != 0
    assert done.stderr.strip() == "stgcn: error: --profile must keep at least 1 row"
