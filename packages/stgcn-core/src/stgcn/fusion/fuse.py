"""The weighted sum of several score files, and its accuracy."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from stgcn.errors import StgcnError
from stgcn.fusion.scores import ScoreFile


@dataclass(frozen=True)
class FusedResult:
    top1: float
    top5: float
    mean_class_accuracy: float
    samples: int
    weights: list[float]

    def to_dict(self) -> dict[str, Any]:
        return {
            "top1": self.top1,
            "top5": self.top5,
            "mean_class_accuracy": self.mean_class_accuracy,
            "samples": self.samples,
            "weights": self.weights,
        }

    def describe(self) -> str:
        """The line ``stgcn fuse`` prints."""
        return (
            f"top1 {self.top1:.4f}  top5 {self.top5:.4f}  "
            f"mean class accuracy {self.mean_class_accuracy:.4f}  ({self.samples} samples, "
            f"weights {','.join(f'{w:g}' for w in self.weights)})"
        )


def parse_weights(text: str | None, count: int) -> list[float]:
    """``2,2,1,1``: one finite, non-negative weight per file, not all zero. Default: 1 each."""
    if text is None:
        return [1.0] * count
    try:
        weights = [float(part) for part in text.split(",")]
    except ValueError:
        raise StgcnError(f"--weights expects numbers separated by commas, got {text!r}") from None
    if len(weights) != count:
        raise StgcnError(f"--weights gives {len(weights)} weights for {count} score files")
    if not all(np.isfinite(w) and w >= 0 for w in weights) or not any(weights):
        raise StgcnError(f"--weights must be finite, non-negative and not all zero: {text!r}")
    return weights


def aligned(first: ScoreFile, other: ScoreFile) -> np.ndarray:
    """``other``'s scores in ``first``'s sample order; refuses files that disagree."""
    position = {sample: i for i, sample in enumerate(other.sample_ids.tolist())}
    for sample in first.sample_ids.tolist():
        if sample not in position:
            raise StgcnError(f"{other.path} lacks sample {sample!r} (in {first.path})")
    if len(position) != len(first.sample_ids):
        known = set(first.sample_ids.tolist())
        extra = next(s for s in other.sample_ids.tolist() if s not in known)
        raise StgcnError(f"{other.path} has sample {extra!r}, which {first.path} lacks")
    order = np.array([position[s] for s in first.sample_ids.tolist()], dtype=np.int64)
    labels = other.labels[order]
    differ = np.flatnonzero(labels != first.labels)
    if differ.size:
        i = int(differ[0])
        raise StgcnError(
            f"{other.path} labels sample {str(first.sample_ids[i])!r} {int(labels[i])}, "
            f"{first.path} labels it {int(first.labels[i])}"
        )
    if other.num_class != first.num_class:
        raise StgcnError(
            f"{other.path} scores {other.num_class} classes, {first.path} {first.num_class}"
        )
    return other.scores[order]


def accuracy(scores: np.ndarray, labels: np.ndarray) -> tuple[float, float, float]:
    """Top-1, top-k (k = 5, or every class when there are fewer) and mean class accuracy."""
    k = min(5, scores.shape[1])
    top = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    hit1 = top[:, 0] == labels
    hitk = (top == labels[:, None]).any(axis=1)
    per_class = [hit1[labels == c].mean() for c in np.unique(labels)]
    return float(hit1.mean()), float(hitk.mean()), float(np.mean(per_class))


def fuse(files: Sequence[ScoreFile], weights: Sequence[float]) -> FusedResult:
    """Accuracy of ``sum(w_i * scores_i)``, each file aligned to the first's samples."""
    if not files:
        raise StgcnError("stgcn fuse needs at least one score file")
    first = files[0]
    if len(first.labels) == 0:
        raise StgcnError(f"{first.path} holds no sample")
    weighted = [w * aligned(first, f) for w, f in zip(weights, files, strict=True)]
    # started from the first term, not from sum()'s 0: the same floats, and an array
    total = sum(weighted[1:], start=weighted[0])
    top1, top5, mean_class = accuracy(total, first.labels)
    return FusedResult(top1, top5, mean_class, len(first.labels), list(weights))
