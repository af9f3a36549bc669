"""``stgcn report RUN_DIR``: curves, a confusion matrix and a summary of one run.

Works on a run still being written: it reads the epochs done so far and the best
checkpoint so far, if there is one yet.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import numpy as np

from stgcn.data.class_names import class_names_or_numbers
from stgcn.errors import StgcnError
from stgcn.reports.plots import confusion_image, curve, pyplot
from stgcn.reports.run_metrics import read_metrics


def confusion_matrix(labels: np.ndarray, predicted: np.ndarray, count: int) -> np.ndarray:
    """Counts: row = true class, column = predicted class."""
    matrix = np.zeros((count, count), dtype=np.int64)
    np.add.at(matrix, (labels, predicted), 1)
    return matrix


def normalised(matrix: np.ndarray) -> np.ndarray:
    totals = matrix.sum(axis=1, keepdims=True)
    return np.divide(matrix, totals, out=np.zeros(matrix.shape), where=totals > 0)


def _confusion(best: Path, output: Path, backend: str | None) -> dict[str, Any]:
    from stgcn.model.checkpoint import Checkpoint
    from stgcn.training.evaluation import EvalRequest, evaluate_checkpoint

    result = evaluate_checkpoint(EvalRequest(str(best), backend_name=backend, keep_scores=True))
    assert result.scores is not None and result.labels is not None
    count = result.scores.shape[1]
    names = class_names_or_numbers(count, Checkpoint.from_file(best).class_names)
    matrix = confusion_matrix(result.labels, result.scores.argmax(axis=1), count)
    confusion_image(normalised(matrix), names, output / "confusion.png")
    with (output / "per_class.csv").open("w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream)
        writer.writerow(["class", "name", "samples", "correct", "accuracy"])
        for index, name in enumerate(names):
            samples, correct = int(matrix[index].sum()), int(matrix[index, index])
            accuracy = f"{correct / samples:.4f}" if samples else ""
            writer.writerow([index, name, samples, correct, accuracy])
    return {"top1": result.top1, "top5": result.top5, "samples": result.samples}


def write_report(
    run_dir: str | Path,
    output: str | Path | None = None,
    confusion: bool = True,
    backend: str | None = None,
) -> Path:
    """Write the report's files into ``output`` (default ``RUN_DIR/report``); returns
    the markdown summary's path."""
    run_dir = Path(run_dir)
    rows = read_metrics(run_dir)
    if not rows:
        raise StgcnError(f"{run_dir}: no epoch has finished yet, nothing to report")
    pyplot()  # matplotlib missing: say so before anything is written
    output = Path(output) if output else run_dir / "report"
    output.mkdir(parents=True, exist_ok=True)
    images = {
        "loss": curve(
            rows, [("train_loss", "train"), ("val_loss", "val")], "loss", output / "loss.png"
        ),
        "accuracy": curve(
            rows,
            [("val_top1", "val top-1"), ("val_top5", "val top-5")],
            "accuracy",
            output / "accuracy.png",
        ),
        "lr": curve(rows, [("lr", "lr")], "learning rate", output / "lr.png"),
    }
    best = run_dir / "checkpoints" / "best.pth.tar"
    evaluated = None
    if confusion and best.is_file():
        evaluated = _confusion(best, output, backend)
    config_path = run_dir / "config.json"
    config = json.loads(config_path.read_text(encoding="utf-8")) if config_path.is_file() else {}
    summary = output / "report.md"
    summary.write_text(_markdown(run_dir, rows, config, images, evaluated), encoding="utf-8")
    return summary


def _markdown(
    run_dir: Path,
    rows: list[dict[str, Any]],
    config: dict[str, Any],
    images: dict[str, Path],
    evaluated: dict[str, Any] | None,
) -> str:
    best = max(rows, key=lambda row: row.get("val_top1", -1))
    last = rows[-1]
    rates = [row["samples_per_s"] for row in rows if row.get("samples_per_s")]
    total = config.get("epochs")
    lines = [
        f"# Run {run_dir.name}",
        "",
        f"- dataset **{config.get('dataset', '?')}**, backend {last.get('backend', '?')}, "
        f"precision {last.get('precision', '?')}, {last.get('world_size', 1)} card(s)",
        f"- epochs done: {last['epoch']}" + (f" of {total}" if total else ""),
        f"- best val top-1 **{best.get('val_top1', 0):.4f}** at epoch {best['epoch']} "
        f"(top-5 {best.get('val_top5', 0):.4f})",
        f"- last epoch: train loss {last.get('train_loss', 0):.4f}, "
        f"val top-1 {last.get('val_top1', 0):.4f}",
    ]
    if rates:
        lines.append(
            f"- throughput: {np.median(rates):.1f} samples/s (median over epochs), "
            f"{sum(row.get('epoch_seconds', 0) for row in rows):.0f} s in all"
        )
    if evaluated is not None:
        lines.append(
            f"- best checkpoint re-evaluated: top-1 {evaluated['top1']:.4f}, "
            f"top-5 {evaluated['top5']:.4f} on {evaluated['samples']} samples"
        )
    lines += ["", *(f"![{name}]({path.name})" for name, path in images.items())]
    if evaluated is not None:
        lines += [
            "![confusion matrix](confusion.png)",
            "",
            "Per class: [per_class.csv](per_class.csv)",
        ]
    elif not (run_dir / "checkpoints" / "best.pth.tar").is_file():
        lines += ["", "No best checkpoint yet: no confusion matrix."]
    keys = (
        "epochs",
        "batch_size",
        "lr",
        "lr_schedule",
        "weight_decay",
        "dropout",
        "cards",
        "data_path",
        "data_options",
        "seed",
    )
    lines += ["", "## Configuration", "", "| setting | value |", "| --- | --- |"]
    lines += [f"| {key} | `{json.dumps(config[key])}` |" for key in keys if key in config]
    return "\n".join(lines) + "\n"
