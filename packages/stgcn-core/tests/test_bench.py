"""``stgcn bench``: the baseline comparison, inference mode and the memory figures.

Tiny shapes only: these check what the command reports, not how fast anything is
(speed targets live in docs/performance.md, measured with the command itself).
"""

from __future__ import annotations

import json
import mmap
import subprocess
import sys

import pytest

from stgcn.backends.cpu import CPUBackend
from stgcn.bench.measure import BenchRequest, bench_training
from stgcn.plugins.kinds import BACKENDS
from stgcn.plugins.registry import get_registry

TINY = ["--frames", "8", "--batch-size", "2", "--steps", "2", "--warmup", "1"]


def stgcn(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "stgcn", *args], capture_output=True, text=True, timeout=300
    )


def test_baseline_json_has_both_figures_and_their_ratio() -> None:
    done = stgcn("bench", *TINY, "--baseline", "--json")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    # the cpu backend's own default: bf16 on CPUs with native bf16, else fp32
    assert result["mode"] == "train" and result["precision"] == CPUBackend().default_precision()
    assert result["samples_per_s"] > 0 and result["baseline"]["samples_per_s"] > 0
    assert result["ratio"] == pytest.approx(
        result["samples_per_s"] / result["baseline"]["samples_per_s"]
    )
    assert result["peak_rss_mib"] > 50 and result["baseline"]["peak_rss_mib"] > 50
    assert result["device_memory_mib"] is None  # the cpu has no device memory to report


def test_eval_mode_times_inference_without_touching_weights() -> None:
    backend = get_registry().get(BACKENDS, "cpu")
    request = BenchRequest(batch_size=2, frames=8, steps=2, warmup=1, mode="eval", baseline=True)
    result = bench_training(backend, "fp32", request)
    assert result.mode == "eval" and result.samples_per_s > 0
    assert result.baseline is not None and result.ratio is not None


def test_without_baseline_there_is_no_ratio() -> None:
    request = BenchRequest(2, 8, 1, steps=1, warmup=0)
    result = bench_training(get_registry().get(BACKENDS, "cpu"), "fp32", request)
    assert result.baseline is None and result.ratio is None and result.persons == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--engine", "onnxruntime"], "add --mode eval"),
        (["--workers", "-1"], "--workers must be at least 0"),
        (["--with-data", "/nonexistent/stgcn-data", "--dataset", "synthetic"], "not found"),
        # the known models are every installed one (stgcn-models' too, where installed)
        (["--model", "nope"], "unknown model 'nope'; known models: "),
        (["--model", "other", "--baseline"], "--baseline and --reference time the reference's"),
    ],
)
def test_bad_settings_are_one_line(args: list[str], message: str) -> None:
    done = stgcn("bench", *TINY, *args)
    assert done.returncode != 0
    assert message in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_peak_rss_is_per_setting() -> None:
    """A big allocation inside one block must not show in the next one's peak."""
    from stgcn.system.memory import PeakRSS

    # fresh pages from the kernel: memory the allocator kept from earlier tests could
    # otherwise serve a tensor without raising the resident set at all
    size = 64 * 2**20
    with PeakRSS() as big:
        block = mmap.mmap(-1, size)
        for offset in range(0, size, mmap.PAGESIZE):
            block[offset] = 1  # touched
        block.close()
    with PeakRSS() as small:
        pass
    if not small.rss_reset:
        pytest.skip("this kernel refuses to reset the peak RSS")
    assert big.peak_mib - small.peak_mib > 32


def test_what_a_block_held_is_its_peak_less_the_rss_it_started_from() -> None:
    """The bench's peak RSS is the whole process's; the figure above the start is the
    block's own, near zero for a block that allocates nothing."""
    from stgcn.system.memory import PeakRSS

    size = 64 * 2**20
    with PeakRSS() as big:
        block = mmap.mmap(-1, size)
        for offset in range(0, size, mmap.PAGESIZE):
            block[offset] = 1
        block.close()
    with PeakRSS() as empty:
        pass
    if not empty.rss_reset or big.start_mib is None or empty.start_mib is None:
        pytest.skip("this kernel refuses to reset the peak RSS or to report the RSS")
    assert big.peak_mib - big.start_mib > 48
    assert empty.peak_mib - empty.start_mib < 16


def test_timed_steps_alternate_between_the_models_after_each_warms_up_alone() -> None:
    """Drift on a shared machine then falls on both models alike, not into their ratio."""
    import torch

    from stgcn.bench.measure import _timed
    from stgcn.bench.timing import TimedStep as _Timed

    order: list[str] = []
    models = [
        _Timed(lambda name=name: order.append(name), lambda: None, torch.device("cpu"))
        for name in ("candidate", "baseline")
    ]
    timings = _timed(models, steps=3, warmup=1, batch_size=4)
    # each: one warm-up step, one for the memory figures; then three rounds in turn
    assert order == ["candidate"] * 2 + ["baseline"] * 2 + ["candidate", "baseline"] * 3
    assert len(timings) == 2 and all(timing.samples_per_s > 0 for timing in timings)


def test_the_work_is_counted_on_the_reference_network_and_set_against_a_matmul_peak() -> None:
    """36.6 GFLOP per Kinetics training sample (150 frames, 2 persons): three forward
    passes of the reference network; the achieved GFLOP/s over the device's measured
    matmul peak in the same precision is the share that compares across machines."""
    from stgcn.bench.peak import reference_gflop_per_sample

    assert reference_gflop_per_sample(150, 2, 400, "train") == pytest.approx(36.6, rel=0.01)
    assert reference_gflop_per_sample(150, 2, 400, "eval") == pytest.approx(12.2, rel=0.01)
    done = stgcn("bench", *TINY, "--json", "--precision", "fp32")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    work = reference_gflop_per_sample(result["frames"], 2, 400, "train")
    assert result["gflop_per_sample"] == pytest.approx(work)
    assert result["gflop_per_s"] == pytest.approx(result["samples_per_s"] * work)
    assert result["matmul_peak_gflop_per_s"] > 0
    assert result["peak_share"] == pytest.approx(
        result["gflop_per_s"] / result["matmul_peak_gflop_per_s"]
    )
    text = stgcn("bench", *TINY, "--precision", "fp32")
    assert "of this device's fp32 matmul peak" in text.stdout, text.stdout
