"""Throughput against batch size: run ``stgcn bench --baseline --json`` per batch size,
print a Markdown table of the results and draw them as a PNG (docs/performance.md).

    python tools/plot_bench.py --batch-sizes 1,2,4,8,16 --out docs/bench-cpu.png
    python tools/plot_bench.py --from-json results.jsonl --out docs/bench-cpu.png

Each batch size is its own ``stgcn bench`` process, so the candidate and its baseline
are timed back to back under the same load. matplotlib is needed only here (the
``bench`` nox session installs it).
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
from pathlib import Path


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def run_bench(batch_size: int, extra: list[str]) -> dict:
    command = [sys.executable, "-m", "stgcn", "bench", "--baseline", "--json"]
    command += ["--batch-size", str(batch_size), *extra]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"plot_bench: {' '.join(command[2:])} failed: {done.stderr.strip()}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def table(results: list[dict]) -> str:
    rows = [
        "| backend | precision | mode | batch | samples/s | baseline samples/s | ratio "
        "| peak RSS MiB | device MiB |",
        "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in results:
        base = r.get("baseline") or {}
        rows.append(
            f"| {r['backend']} | {r['precision']} | {r['mode']} | {r['batch_size']} "
            f"| {r['samples_per_s']:.2f} | {base.get('samples_per_s', float('nan')):.2f} "
            f"| {r['ratio'] or float('nan'):.2f} | {r['peak_rss_mib']} "
            f"| {r['device_memory_mib'] or '-'} |"
        )
    return "\n".join(rows)


def plot(results: list[dict], out: Path, title: str, label: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    results = sorted(results, key=lambda r: r["batch_size"])
    sizes = [r["batch_size"] for r in results]
    figure, axes = plt.subplots(figsize=(6, 4))
    axes.plot(sizes, [r["samples_per_s"] for r in results], "o-", label=label)
    axes.plot(
        sizes,
        [r["baseline"]["samples_per_s"] for r in results],
        "s--",
        label="baseline (fp32 eager)",
    )
    axes.set_xscale("log", base=2)
    axes.set_xticks(sizes, [str(s) for s in sizes])
    axes.set_xlabel("batch size")
    axes.set_ylabel(f"{results[0]['mode']} samples/s")
    axes.set_title(title, fontsize=9)
    axes.grid(alpha=0.3)
    axes.legend()
    figure.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(out, dpi=120)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batch-sizes", default="1,2,4,8,16")
    parser.add_argument("--from-json", help="JSON lines of earlier stgcn bench --json runs")
    parser.add_argument("--save-json", help="also write the results here as JSON lines")
    parser.add_argument("--out", help="PNG to write (no plot without it)")
    parser.add_argument("--machine", help="name in the title (default: this CPU's model)")
    parser.add_argument("--label", default="stgcn (default settings)", help="the model's line")
    parser.add_argument("bench_args", nargs="*", help="passed to stgcn bench (after --)")
    args = parser.parse_args(argv)
    if args.from_json:
        lines = Path(args.from_json).read_text().splitlines()
        results = [json.loads(line) for line in lines if line.strip()]
    else:
        sizes = [int(size) for size in args.batch_sizes.split(",")]
        results = [run_bench(size, args.bench_args) for size in sizes]
    if args.save_json:
        Path(args.save_json).write_text("".join(json.dumps(r) + "\n" for r in results))
    title = f"{args.machine or cpu_model()}, {results[0]['backend']} {results[0]['precision']}"
    print(f"{title}, {results[0]['frames']} frames x {results[0]['persons']} persons\n")
    print(table(results))
    if args.out:
        plot(results, Path(args.out), title, args.label)
        print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
