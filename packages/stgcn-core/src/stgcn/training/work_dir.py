"""A run's work dir: where it goes, its checkpoints' names, and its ``metrics.jsonl``."""

from __future__ import annotations

import json
import os
import shutil
from datetime import datetime
from pathlib import Path
from typing import Any

from stgcn.errors import StgcnError
from stgcn.model.checkpoint import atomic_write_text

LATEST = "latest.pth.tar"
BEST = "best.pth.tar"
METRICS = "metrics.jsonl"


def default_work_dir() -> Path:
    """``runs/YYYYmmdd-HHMMSS``, with a suffix where that folder exists already."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    path = Path("runs") / stamp
    suffix = 1
    while path.exists():
        suffix += 1
        path = Path("runs") / f"{stamp}-{suffix}"
    return path


def refuse_existing_run(work_dir: Path) -> None:
    """A new run never writes over an old one's checkpoints or metrics."""
    if (work_dir / "checkpoints" / LATEST).exists() or (work_dir / METRICS).exists():
        raise StgcnError(
            f"{work_dir} already holds a run; resume it with --resume or choose another --work-dir"
        )


def read_metrics(path: Path, before_epoch: int) -> list[str]:
    """Lines of metrics.jsonl for epochs already checkpointed (drops a torn last line)."""
    if not path.exists():
        return []
    kept = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(record, dict) and record.get("epoch", 0) <= before_epoch:
            kept.append(line)
    return kept


def restart_metrics(path: Path, before_epoch: int) -> None:
    """Keep only the lines of epochs up to ``before_epoch`` (the checkpoint a run resumes
    from): the epochs after it are trained again and write their lines again."""
    kept = read_metrics(path, before_epoch)
    atomic_write_text("".join(line + "\n" for line in kept), path)


def start_work_dir(work_dir: Path, config_json: str, start_epoch: int) -> None:
    """The work dir made, the run's ``config.json`` written, and ``metrics.jsonl`` cut
    back to the epochs before ``start_epoch`` (those a resumed run keeps)."""
    work_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_text(config_json, work_dir / "config.json")
    restart_metrics(work_dir / METRICS, start_epoch)


def append_metrics(work_dir: Path, record: dict[str, Any]) -> None:
    """One epoch's line of the work dir's ``metrics.jsonl``."""
    with (work_dir / METRICS).open("a", encoding="utf-8") as metrics_file:
        metrics_file.write(json.dumps(record) + "\n")


def keep_epoch(folder: Path, epoch: int, keep: int) -> None:
    """``epoch-NNNN.pth.tar`` beside latest (a hard link where the file system has
    them: no second copy), and only the last ``keep`` of them."""
    target = folder / f"epoch-{epoch:04d}.pth.tar"
    target.unlink(missing_ok=True)
    try:
        os.link(folder / LATEST, target)
    except OSError:
        shutil.copyfile(folder / LATEST, target)
    for old in sorted(folder.glob("epoch-*.pth.tar"))[:-keep]:
        old.unlink(missing_ok=True)
