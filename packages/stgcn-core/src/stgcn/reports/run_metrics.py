"""Reading ``metrics.jsonl`` of a finished run or of one still being written."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from stgcn.errors import StgcnError


def read_metrics(run_dir: Path) -> list[dict[str, Any]]:
    """Each epoch's line, in order, the last one per epoch kept (a resumed run may repeat
    one); a torn last line, as a run being written may leave, is skipped."""
    path = Path(run_dir) / "metrics.jsonl"
    if not Path(run_dir).is_dir():
        raise StgcnError(f"run folder not found: {run_dir}")
    if not path.is_file():
        raise StgcnError(f"{run_dir} holds no metrics.jsonl: not a stgcn run folder")
    rows: dict[int, dict[str, Any]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(row, dict) and isinstance(row.get("epoch"), int):
            rows[row["epoch"]] = row
    return [rows[epoch] for epoch in sorted(rows)]
