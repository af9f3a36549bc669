"""``stgcn bench --reference``: the reference network in a process of its own, with
glibc's default malloc and plain PyTorch, its steps alternating with the candidate's.

Tiny shapes: these check what is compared and how, not how fast anything is.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import torch

from stgcn.bench.measure import KINETICS_CLASSES, BenchRequest, bench_training
from stgcn.bench.reference.process import ReferenceJob, ReferenceProcess, reference_environment
from stgcn.errors import StgcnError
from stgcn.model.network import STGCN
from stgcn.plugins.kinds import BACKENDS
from stgcn.plugins.registry import get_registry

TINY = ["--frames", "8", "--batch-size", "2", "--steps", "2", "--warmup", "1"]


def job(**changes) -> ReferenceJob:
    fields = dict(
        mode="train",
        batch_size=2,
        frames=8,
        persons=2,
        classes=KINETICS_CLASSES,
        seed=3,
        device="cpu",
        threads=1,
    )
    fields.update(changes)
    return ReferenceJob(**fields)


def test_the_environment_loses_what_replaces_or_tunes_malloc() -> None:
    environ = {
        "LD_PRELOAD": "/usr/lib/libjemalloc.so.2",
        "MALLOC_ARENA_MAX": "2",
        "MALLOC_MMAP_THRESHOLD_": "0",
        "GLIBC_TUNABLES": "glibc.malloc.trim_threshold=0",
        "OMP_NUM_THREADS": "2",
        "PATH": "/usr/bin",
    }
    assert reference_environment(environ) == {"OMP_NUM_THREADS": "2", "PATH": "/usr/bin"}


def test_it_is_another_process_without_malloc_settings_on_the_bench_draws(monkeypatch) -> None:
    monkeypatch.setenv("MALLOC_ARENA_MAX", "1")
    with ReferenceProcess(job(threads=1)) as reference:
        facts = reference.describe()
    assert facts["pid"] != os.getpid()
    assert facts["threads"] == 1
    assert facts["allocator_variables"] == []
    # the bench's own draws from the same seed, in the same order
    torch.manual_seed(3)
    x = torch.randn(2, 3, 8, 18, 2)
    y = torch.randint(0, KINETICS_CLASSES, (2,))
    weights = STGCN(KINETICS_CLASSES).state_dict()
    assert facts["input_sum"] == pytest.approx(float(x.double().sum()), rel=1e-12)
    assert facts["labels"] == y.tolist()
    total = sum(float(w.double().sum()) for w in weights.values())
    assert facts["weights_sum"] == pytest.approx(total, rel=1e-12)


@pytest.mark.parametrize("mode", ["train", "eval"])
def test_its_steps_are_timed_after_a_warm_up_with_memory_figures(mode: str) -> None:
    with ReferenceProcess(job(mode=mode)) as reference:
        peak_rss, device_memory = reference.warm_up(1)
        seconds = [reference.seconds() for _ in range(2)]
    assert peak_rss is not None and peak_rss > 50 and device_memory is None
    assert all(0 < s < 60 for s in seconds)


def test_the_ratio_is_over_the_reference_beside_the_same_process_baseline() -> None:
    backend = get_registry().get(BACKENDS, "cpu")
    request = BenchRequest(batch_size=2, frames=8, steps=2, warmup=1, baseline=True, reference=True)
    result = bench_training(backend, "fp32", request)
    assert result.baseline is not None and result.reference is not None
    assert result.ratio == pytest.approx(result.samples_per_s / result.baseline.samples_per_s)
    assert result.reference_ratio == pytest.approx(
        result.samples_per_s / result.reference.samples_per_s
    )
    alone = bench_training(backend, "fp32", BenchRequest(batch_size=2, frames=8, steps=1, warmup=0))
    assert alone.reference is None and alone.reference_ratio is None


def test_the_command_reports_it_in_json_and_in_text() -> None:
    run = [sys.executable, "-m", "stgcn", "bench", *TINY, "--reference"]
    done = subprocess.run([*run, "--json"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["baseline"] is None and result["reference"]["samples_per_s"] > 0
    assert result["reference_ratio"] == pytest.approx(
        result["samples_per_s"] / result["reference"]["samples_per_s"]
    )
    text = subprocess.run(run, capture_output=True, text=True, timeout=300)
    assert "samples/s reference (its own process, glibc's malloc" in text.stdout, text.stdout


def test_a_device_it_cannot_run_on_is_refused_before_it_starts() -> None:
    with pytest.raises(StgcnError, match="cpu or cuda devices, not 'npu:0'"):
        ReferenceProcess(job(device="npu:0"))


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_a_reference_process_that_fails_is_one_line() -> None:
    with pytest.raises(StgcnError, match=r"the reference process stopped: .*CUDA") as failure:
        ReferenceProcess(job(device="cuda"))
    assert "\n" not in str(failure.value)
