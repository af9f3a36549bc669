"""Start-up time and memory of the pyskl dataset on a large generated file.

    python tools/measure_loading.py --clips 60000 --file /tmp/pyskl60k.pkl

Writes the file once (2D COCO-17, 30 to 130 frames, 1 or 2 persons, as NTU's HRNet
annotations are), then in fresh processes: the load (unpickle, check, pack) with its
time and peak memory, and DataLoader workers started by fork and by spawn, with how
much of each worker's memory is its own (USS) rather than shared with the trainer.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path


def _memory(pid: int) -> dict[str, float]:
    fields = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        key, value = line.split(":", 1)
        fields[key] = int(value.split()[0]) / 1024  # MiB
    own = fields.get("Private_Clean", 0) + fields.get("Private_Dirty", 0)
    return {"rss_mib": fields["Rss"], "pss_mib": fields["Pss"], "uss_mib": own}


def measure_load(path: str) -> dict:
    from stgcn_data_pyskl.annotations import load

    started = time.perf_counter()
    annotations = load(path)
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "load_seconds": round(seconds, 1),
        "peak_rss_mib": round(peak),
        "packed_mib": round(annotations.frames.nbytes / 2**20),
        "after_load": _memory(os.getpid()),
        "clips": len(annotations.names),
    }


def measure_workers(path: str, context: str, batches: int) -> dict:
    import torch
    from stgcn_data_pyskl.dataset import build
    from torch.utils.data import DataLoader

    started = time.perf_counter()
    split = build("train", Path(path), {"split": "xsub"})
    pool = {"num_workers": 2, "multiprocessing_context": context, "persistent_workers": True}
    generator = torch.Generator().manual_seed(0)
    loader = DataLoader(split, batch_size=16, shuffle=True, generator=generator, **pool)
    iterator = iter(loader)
    next(iterator)
    first_batch = time.perf_counter() - started
    for _ in range(batches):
        next(iterator)
    workers = [w.pid for w in iterator._workers]
    return {
        "context": context,
        "first_batch_seconds": round(first_batch, 1),
        "trainer": _memory(os.getpid()),
        "workers": [_memory(pid) for pid in workers],
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clips", type=int, default=60000)
    parser.add_argument("--file", default="/tmp/pyskl60k.pkl")
    parser.add_argument("--batches", type=int, default=100)
    parser.add_argument("--part", choices=["load", "fork", "spawn"])
    args = parser.parse_args()
    if args.part == "load":
        print(json.dumps(measure_load(args.file)))
        return
    if args.part:
        print(json.dumps(measure_workers(args.file, args.part, args.batches)))
        return
    path = Path(args.file)
    if not path.exists():
        from stgcn_data_pyskl.sample_files import write_annotation_file

        started = time.perf_counter()
        write_annotation_file(path, args.clips, dims=2, joints=17, frames=(30, 130), max_persons=2)
        size, seconds = path.stat().st_size / 2**20, time.perf_counter() - started
        print(f"wrote {path} ({size:.0f} MiB) in {seconds:.0f} s", flush=True)
    for part in ("load", "fork", "spawn"):
        options = ["--file", str(path), "--part", part, "--batches", str(args.batches)]
        command = [sys.executable, __file__, *options]
        print(subprocess.run(command, capture_output=True, text=True, check=True).stdout.strip())


if __name__ == "__main__":
    main()
