"""``stgcn data inspect FILE.pkl``: what an annotation file holds, before training on it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
import numpy as np

from stgcn_data_pyskl.annotations import Annotations

PERCENTILES = (0, 10, 50, 90, 100)


def summary(annotations: Annotations) -> dict[str, Any]:
    """Splits and their sizes, classes, joints, channels, persons, clip lengths."""
    lengths = annotations.lengths
    persons, counts = np.unique(annotations.persons_in_file, return_counts=True)
    labels, per_label = np.unique(annotations.labels, return_counts=True)
    return {
        "file": str(annotations.path),
        "clips": len(annotations.names),
        "splits": {name: len(indices) for name, indices in sorted(annotations.splits.items())},
        "classes": annotations.num_class,
        "clips_per_class": {"min": int(per_label.min()), "max": int(per_label.max())},
        "labels_without_clips": annotations.num_class - len(labels),
        "joints": annotations.joints,
        "dims": annotations.dims,
        "channels": ["x", "y", "score"] if annotations.dims == 2 else ["x", "y", "z"],
        "persons": {str(int(p)): int(c) for p, c in zip(persons, counts, strict=True)},
        "frames": {
            **{f"p{p}": int(np.percentile(lengths, p)) for p in PERCENTILES},
            "mean": float(lengths.mean()),
        },
    }


def _describe(facts: dict[str, Any]) -> list[str]:
    frames = facts["frames"]
    persons = ", ".join(f"{count} with {p}" for p, count in facts["persons"].items())
    unused = facts["labels_without_clips"]
    lines = [
        f"{facts['file']}: {facts['clips']} clips",
        "splits: " + ", ".join(f"{name} {count}" for name, count in facts["splits"].items()),
        f"classes: {facts['classes']} (labels 0..{facts['classes'] - 1}; "
        f"{facts['clips_per_class']['min']} to {facts['clips_per_class']['max']} clips each"
        + (f"; {unused} labels unused" if unused else "")
        + ")",
        f"joints: {facts['joints']}  ({facts['dims']}D; channels {', '.join(facts['channels'])})",
        f"persons per clip: {persons} (training keeps the first 2)",
        f"frames per clip: min {frames['p0']}, 10% {frames['p10']}, median {frames['p50']}, "
        f"90% {frames['p90']}, max {frames['p100']}, mean {frames['mean']:.1f}",
    ]
    return lines


@click.command("inspect")
@click.argument("path", metavar="FILE.pkl", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="One JSON document.")
def inspect_command(path: Path, as_json: bool) -> None:
    """Summarise a PYSKL/mmaction2 annotation pickle: splits, classes, joints, lengths."""
    from stgcn_data_pyskl.annotations import load

    facts = summary(load(path))
    if as_json:
        click.echo(json.dumps(facts))
        return
    for line in _describe(facts):
        click.echo(line)
