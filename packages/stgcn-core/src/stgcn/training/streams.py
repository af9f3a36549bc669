"""``stgcn run --streams joint,bone,...``: one model per stream, then their fusion.

Each stream trains in its own subfolder of the work dir (``WORK_DIR/bone``, ...) with
the same settings and cards, the modality its only difference; its best checkpoint
is evaluated with its scores saved (``WORK_DIR/STREAM/scores.npz``), and the scores are
fused as ``stgcn fuse`` would (PYSKL's 2:2:1:1 for the four streams, else equal
weights), the result written to ``WORK_DIR/fused.json``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from stgcn.data.streams.modality import MODALITIES
from stgcn.errors import StgcnError
from stgcn.model.checkpoint import atomic_write_text
from stgcn.training.config import RunConfig

if TYPE_CHECKING:
    from stgcn.training.loop_parts import TrainResult

#: PYSKL's four-stream fusion, joint : bone : joint motion : bone motion = 2 : 2 : 1 : 1.
FOUR_STREAM_WEIGHTS = {"joint": 2.0, "bone": 2.0, "joint_motion": 1.0, "bone_motion": 1.0}


def parse_streams(text: str) -> list[str]:
    """``joint,bone``: known modalities, each once."""
    streams = [part.strip() for part in text.split(",") if part.strip()]
    unknown = [s for s in streams if s not in MODALITIES]
    if not streams or unknown:
        raise StgcnError(f"--streams takes modalities from {', '.join(MODALITIES)}, got {text!r}")
    if len(set(streams)) != len(streams):
        raise StgcnError(f"--streams names a stream twice: {text!r}")
    return streams


def default_weights(streams: Sequence[str | None]) -> list[float]:
    """2:2:1:1 for PYSKL's four streams, each once; else 1 each (also where a score
    file from elsewhere does not say its stream: None)."""
    if len(streams) == len(FOUR_STREAM_WEIGHTS) and set(streams) == set(FOUR_STREAM_WEIGHTS):
        return [FOUR_STREAM_WEIGHTS[s] for s in streams]  # type: ignore[index]
    return [1.0] * len(streams)


def run_streams(
    config: RunConfig, streams: list[str], train_one: Callable[[RunConfig], TrainResult]
) -> dict[str, Any]:
    """Train each stream with ``train_one(config)``, then evaluate and fuse them."""
    from stgcn.fusion import fuse, load_scores
    from stgcn.training.evaluation import EvalRequest, evaluate_checkpoint
    from stgcn.training.work_dir import default_work_dir, refuse_existing_run

    if "modality" in config.data_options:
        raise StgcnError("--streams sets each stream's modality: drop --data-option modality")
    root = Path(config.work_dir or default_work_dir())
    for stream in streams:
        refuse_existing_run(root / stream)
    results: dict[str, Any] = {}
    for stream in streams:
        options = {**config.data_options, "modality": stream}
        one = config.updated({"work_dir": str(root / stream), "data_options": options}, stream)
        results[stream] = {"best_top1": train_one(one).best_top1}
    files = []
    for stream in streams:
        best = root / stream / "checkpoints" / "best.pth.tar"
        if not best.is_file():  # another host's launcher: rank 0's host holds the work dir
            return {"streams": results, "work_dir": str(root)}
        scores = root / stream / "scores.npz"
        request = EvalRequest(str(best), backend_name=config.backend, save_scores=str(scores))
        evaluate_checkpoint(request)
        files.append(load_scores(scores))
    fused = fuse(files, default_weights(streams)).to_dict()
    summary = {"streams": results, "fused": {**fused, "streams": streams}, "work_dir": str(root)}
    atomic_write_text(json.dumps(summary, indent=2) + "\n", root / "fused.json")
    return summary


def describe_streams(summary: dict[str, Any]) -> list[str]:
    """The lines ``stgcn run --streams`` prints for what :func:`run_streams` returned."""
    lines = [
        f"{name}: best val top1 {figures['best_top1']:.4f}"
        for name, figures in summary["streams"].items()
    ]
    if "fused" in summary:
        fused = summary["fused"]
        weights = ",".join(f"{w:g}" for w in fused["weights"])
        lines.append(
            f"fused ({weights}): top1 {fused['top1']:.4f}  top5 {fused['top5']:.4f}; "
            f"{Path(summary['work_dir']) / 'fused.json'}"
        )
    return lines
