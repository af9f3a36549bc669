"""Writes the ModelZoo summary of a finished ``stgcn run`` (standard library only, so
that any python3 can run it).

``<output>/<CaseName>.log`` gets one ``KEY = value`` line per figure, in the order
and with the names the Ascend ModelZoo port's test scripts use; ``train_<CaseName>_loss.txt``
gets each epoch's training loss. The figures come from the run's ``metrics.jsonl``:

- ActualFPS: the last epoch's training samples per second over all cards (stgcn
  counts every step, each timed to its end on the device);
- TrainingTime: milliseconds per training step (the last epoch's mean; every card
  takes its batch in that time);
- TrainAccuracy: the best validation top-1 so far, in percent (the port's
  "Temp Best Acc");
- ActualLoss: the last epoch's mean training loss;
- E2ETrainingTime: seconds from start to end of the training command.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def epochs(work_dir: Path) -> list[dict]:
    path = work_dir / "metrics.jsonl"
    try:
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    except (OSError, ValueError) as error:
        raise SystemExit(f"[Error] cannot read {path}: {error}") from None
    if not rows:
        raise SystemExit(f"[Error] {path} holds no epoch")
    return rows


def summary(rows: list[dict], args: argparse.Namespace) -> list[tuple[str, object]]:
    fps = float(rows[-1]["samples_per_s"])
    step_ms = float(rows[-1]["step_seconds"]) * 1000
    best = max(float(row["val_top1"]) for row in rows)
    return [
        ("Network", args.network),
        ("RankSize", args.rank_size),
        ("BatchSize", args.batch_size),
        ("DeviceType", args.device_type),
        ("CaseName", args.case_name),
        ("ActualFPS", f"{fps:.3f}"),
        ("TrainingTime", f"{step_ms:.2f}"),
        ("TrainAccuracy", f"{best * 100:.2f}"),
        ("ActualLoss", f"{float(rows[-1]['train_loss']):.4f}"),
        ("E2ETrainingTime", args.e2e_seconds),
    ]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work-dir", type=Path, required=True)
    parser.add_argument("--output", type=Path, required=True)
    parser.add_argument("--case-name", required=True)
    parser.add_argument("--network", required=True)
    parser.add_argument("--rank-size", type=int, required=True)
    parser.add_argument("--batch-size", type=int, required=True)
    parser.add_argument("--e2e-seconds", type=int, required=True)
    parser.add_argument("--device-type", required=True)
    args = parser.parse_args(argv)
    rows = epochs(args.work_dir)
    lines = summary(rows, args)
    (args.output / f"{args.case_name}.log").write_text(
        "".join(f"{key} = {value}\n" for key, value in lines), encoding="utf-8"
    )
    losses = "".join(f"{float(row['train_loss']):.4f}\n" for row in rows)
    (args.output / f"train_{args.case_name}_loss.txt").write_text(losses, encoding="utf-8")
    figures = dict(lines)
    print(f"Final Performance images/sec : {figures['ActualFPS']}")
    print(f"Final Train Accuracy : {figures['TrainAccuracy']}")
    print(f"E2E Training Duration sec : {figures['E2ETrainingTime']}")
    print(f"summary: {args.output / (args.case_name + '.log')}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
