"""The report's images, drawn headless with matplotlib (the Agg backend: no display)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from stgcn.errors import StgcnError


def pyplot() -> Any:
    try:
        import matplotlib
    except ImportError:
        raise StgcnError(
            "stgcn report draws with matplotlib: pip install matplotlib "
            "(or pip install 'stgcn-core[report]')"
        ) from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def curve(
    rows: Sequence[dict[str, Any]], keys: Sequence[tuple[str, str]], ylabel: str, path: Path
) -> Path:
    """One line per ``(metrics key, label)`` against the epoch."""
    plt = pyplot()
    figure, axes = plt.subplots(figsize=(6, 4), dpi=100)
    epochs = [row["epoch"] for row in rows]
    for key, label in keys:
        values = [row.get(key) for row in rows]
        if any(value is not None for value in values):
            axes.plot(epochs, [np.nan if v is None else v for v in values], marker="o", label=label)
    axes.set_xlabel("epoch")
    axes.set_ylabel(ylabel)
    axes.grid(alpha=0.3)
    axes.legend()
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)
    return path


def confusion_image(matrix: np.ndarray, names: Sequence[str], path: Path) -> Path:
    """Rows (true classes) normalised to sum to 1; class names on both axes."""
    plt = pyplot()
    count = len(names)
    size = min(max(4.0, 0.35 * count + 2), 40.0)
    figure, axes = plt.subplots(figsize=(size, size), dpi=100)
    image = axes.imshow(matrix, cmap="Blues", vmin=0.0, vmax=1.0)
    axes.set_xticks(range(count), labels=names, rotation=90, fontsize=max(4, 10 - count // 20))
    axes.set_yticks(range(count), labels=names, fontsize=max(4, 10 - count // 20))
    axes.set_xlabel("predicted")
    axes.set_ylabel("true")
    figure.colorbar(image, ax=axes, fraction=0.046, pad=0.04)
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)
    return path
