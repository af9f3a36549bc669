"""The GPU figures of docs/performance.md in one go, within a time budget.

    PYTHONPATH=packages/stgcn-core/src:packages/stgcn-backend-cuda/src:\
packages/stgcn-data-kinetics/src:packages/stgcn-export/src \
    python tools/gpu_bench.py --out gpu-results --budget 540

Runs on a machine with one NVIDIA GPU and a CUDA build of torch where nothing may be
installed: the packages are read from their source folders and loaded through
``STGCN_PLUGINS``. The settings are timed in order of importance, each in this process
through the same functions as ``stgcn bench`` (a fresh model each time, its timed steps
alternating with the baseline's); torch.compile runs and the GPU test suite run as
child processes with their own time limits, and whatever does not fit the budget is
skipped and listed. Writes ``bench.jsonl`` (one ``stgcn bench --json`` record per line
with a ``label``), the test log and the GPU's name under ``--out``, and prints a table.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCES = [
    ROOT / "packages" / name / "src"
    for name in ("stgcn-core", "stgcn-backend-cuda", "stgcn-data-kinetics", "stgcn-export")
]
PLUGINS = "stgcn_backend_cuda,stgcn_data_kinetics.plugin,stgcn_export.plugin"

BATCH, FRAMES = 64, 150
STEPS, WARMUP = 20, 5
BACKEND = "cuda"
CLIPS = 1500

# label, precision, backend options, bench keyword arguments
MAIN = [
    ("bf16", "bf16", {}, {"baseline": True}),
    ("fp32", "fp32", {}, {"baseline": True}),
    ("bf16 channels-last", "bf16", {"channels_last": "true"}, {"baseline": True}),
    ("bf16 cuda-graphs", "bf16", {"cuda_graphs": "true"}, {"baseline": True}),
    ("eval bf16", "bf16", {}, {"baseline": True, "mode": "eval"}),
    ("eval bf16 channels-last", "bf16", {"channels_last": "true"}, {"mode": "eval"}),
]
MORE = [
    ("fp16", "fp16", {}, {}),
    ("fp32 tf32", "fp32", {"tf32": "true"}, {}),
    ("bf16 channels-last graphs", "bf16", {"channels_last": "true", "cuda_graphs": "true"}, {}),
    ("fp16 channels-last", "fp16", {"channels_last": "true"}, {}),
]
SWEEP = [8, 16, 32, 128, 256]


def environment() -> dict[str, str]:
    env = dict(os.environ)
    paths = [str(path) for path in SOURCES]
    env["PYTHONPATH"] = os.pathsep.join([*paths, *filter(None, [env.get("PYTHONPATH")])])
    env["STGCN_PLUGINS"] = PLUGINS
    env["PYTHONUNBUFFERED"] = "1"
    return env


class Runner:
    def __init__(self, out: Path, budget: float) -> None:
        self.out = out
        self.deadline = time.monotonic() + budget
        self.records = out / "bench.jsonl"
        self.skipped: list[str] = []

    def left(self) -> float:
        return self.deadline - time.monotonic()

    def save(self, label: str, record: dict) -> None:
        record["label"] = label
        with self.records.open("a") as stream:
            stream.write(json.dumps(record) + "\n")
        base = record.get("baseline") or {}
        print(
            f"{label:34} {record.get('samples_per_s', 0):9.1f} samples/s"
            + (f"  baseline {base['samples_per_s']:8.1f}  {record['ratio']:.2f}x" if base else "")
            + f"  device {record.get('device_memory_mib')} MiB",
            flush=True,
        )

    def bench(self, label: str, precision: str, options: dict, batch: int = BATCH, **kw) -> None:
        if self.left() < 20:
            self.skipped.append(label)
            return
        from stgcn.bench.measure import BenchRequest, bench_training
        from stgcn.plugins.registry import get_registry

        try:
            backend, precision = get_registry().ready_backend(BACKEND, precision, options)
            request = BenchRequest(batch, FRAMES, 2, STEPS, WARMUP, **kw)
            result = bench_training(backend, precision, request)
            record = result.to_dict()
            record["options"] = options
            self.save(label, record)
        except Exception as error:  # record it and go on with the next
            print(f"{label}: failed: {error}", flush=True)
            (self.out / "errors.log").open("a").write(f"{label}\n{traceback.format_exc()}\n")
        finally:
            import torch

            if torch.cuda.is_available():
                torch.cuda.empty_cache()

    def child(self, label: str, command: list[str], limit: float, log: str) -> None:
        limit = min(limit, self.left() - 5)
        if limit < 30:
            self.skipped.append(label)
            return
        start = time.monotonic()
        try:
            done = subprocess.run(
                command, cwd=ROOT, env=environment(), capture_output=True, text=True, timeout=limit
            )
            text, status = done.stdout + done.stderr, f"exit {done.returncode}"
        except subprocess.TimeoutExpired as error:
            text = (error.stdout or b"").decode() + (error.stderr or b"").decode()
            status = f"stopped after {limit:.0f} s"
        (self.out / log).write_text(text)
        tail = [line for line in text.strip().splitlines() if line.strip()][-3:]
        print(f"{label}: {status} in {time.monotonic() - start:.0f} s", flush=True)
        for line in tail:
            print(f"    {line[:200]}", flush=True)


def with_data(runner: Runner) -> None:
    if runner.left() < 60:
        runner.skipped.append("with-data")
        return
    from stgcn_data_kinetics.sample_trees import make_converted_tree

    from stgcn.bench.data import DataBenchRequest, bench_data
    from stgcn.plugins.registry import get_registry
    from stgcn.records import DATASETS

    folder = Path(tempfile.mkdtemp()) / "kinetics"
    make_converted_tree(folder, train=CLIPS, val=8, frames=300)
    registry = get_registry()
    backend, _ = registry.ready_backend(BACKEND, None, {})
    for workers in (8, 4):
        try:
            request = DataBenchRequest(folder, {}, BATCH, 10, workers)
            figures = bench_data(registry.get(DATASETS, "kinetics"), backend, request)
        except Exception as error:
            print(f"with-data: failed: {error}", flush=True)
            return
        figures["label"] = f"with-data {workers} workers"
        with (runner.out / "data.jsonl").open("a") as stream:
            stream.write(json.dumps(figures) + "\n")
        batched = figures["batched_samples_per_s"]
        print(
            f"with-data, {workers} workers: {figures['per_clip_samples_per_s']:.0f} samples/s "
            f"augmented per clip, {batched and round(batched)} per batch on the GPU",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default="gpu-results")
    parser.add_argument("--budget", type=float, default=540.0, help="seconds for everything")
    parser.add_argument("--no-tests", action="store_true")
    parser.add_argument(
        "--dry-run", action="store_true", help="tiny shapes on the cpu backend: checks the script"
    )
    args = parser.parse_args()
    if args.dry_run:
        global BATCH, FRAMES, STEPS, WARMUP, BACKEND, CLIPS, SWEEP
        BATCH, FRAMES, STEPS, WARMUP, BACKEND, CLIPS, SWEEP = 2, 12, 1, 0, "cpu", 40, [1]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    os.environ.update(environment())
    sys.path[:0] = [str(path) for path in SOURCES]
    runner = Runner(out, args.budget)

    import torch

    name = torch.cuda.get_device_name() if BACKEND == "cuda" else "cpu (dry run)"
    versions = (
        f"torch {torch.__version__}, CUDA {torch.version.cuda}, "
        f"cuDNN {torch.backends.cudnn.version()}"
    )
    (out / "gpu.txt").write_text(f"{name}\n{versions}\n")
    print(f"{name}; {versions}", flush=True)

    for label, precision, options, kw in MAIN:
        runner.bench(label, precision, options, **kw)
    with_data(runner)
    if not args.no_tests:
        pytest = [sys.executable, "-m", "pytest", "-q", "--maxfail=3", "-p", "no:cacheprovider"]
        tests = [*pytest, "packages/stgcn-backend-cuda/tests", "-k", "not compile"]
        runner.child("tests-cuda (not compile)", tests, 180, "tests-cuda.log")
    for label, precision, options, kw in MORE:
        runner.bench(label, precision, options, **kw)
    for batch in SWEEP:
        runner.bench(f"bf16 batch {batch}", "bf16", {}, batch=batch, baseline=True)
    runner.bench("fp32 batch 16", "fp32", {}, batch=16, baseline=True)
    runner.bench("eval onnxruntime", "fp32", {}, batch=16, mode="eval", engine="onnxruntime")
    bench = [sys.executable, "-m", "stgcn", "bench", "--backend", BACKEND, "--compile", "--json"]
    sizes = [f"--batch-size={BATCH}", f"--frames={FRAMES}"]
    steps = [f"--steps={STEPS}", f"--warmup={WARMUP}"]
    runner.child("bf16 compile", [*bench, *sizes, *steps], 240, "compile.log")
    if runner.skipped:
        print("skipped for time: " + ", ".join(runner.skipped), flush=True)


if __name__ == "__main__":
    main()
