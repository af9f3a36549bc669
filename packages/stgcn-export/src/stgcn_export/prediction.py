"""From logits to the ranked classes that ``stgcn predict`` prints."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class RankedClass:
    rank: int
    index: int
    probability: float
    name: str | None = None

    def describe(self) -> str:
        label = f"class {self.index}" if self.name is None else f"{self.name} (class {self.index})"
        return f"{self.rank:>2}. {self.probability:.4f}  {label}"


def softmax(logits: np.ndarray) -> np.ndarray:
    """In float64, so that the probabilities differ between engines only as much as
    their logits do, with no float32 rounding of their own on top."""
    shifted = np.asarray(logits, dtype=np.float64) - np.max(logits)
    weights = np.exp(shifted)
    return weights / weights.sum()


def top_classes(
    logits: np.ndarray, k: int = 5, class_names: Sequence[str] | None = None
) -> list[RankedClass]:
    """The ``k`` likeliest classes, likeliest first (ties: lower index first)."""
    probabilities = softmax(logits)
    order = np.argsort(-probabilities, kind="stable")[:k]
    return [
        RankedClass(
            rank,
            int(index),
            float(probabilities[index]),
            class_names[index] if class_names is not None else None,
        )
        for rank, index in enumerate(order, start=1)
    ]


def ranked_json(ranked: Sequence[RankedClass]) -> list[dict[str, object]]:
    """The one schema of a ranked class in every ``stgcn predict --json`` output (a
    clip's ``top``, a window's and a stream line's ``top5``): ``{"class": index, "name":
    name or null, "probability": p}``."""
    return [{"class": r.index, "name": r.name, "probability": r.probability} for r in ranked]
