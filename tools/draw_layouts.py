"""Draw every built-in skeleton layout from its own bones and write docs/layouts.md.

    python tools/draw_layouts.py            # docs/layouts.md and docs/images/layouts/
    python tools/draw_layouts.py --check    # exit 1 if the page or the pictures are stale

Each picture is drawn from the layout's edges alone (no hand-placed coordinates, so a
layout's picture cannot disagree with its bones): joints are placed by stress
majorisation on their distances in bones (the drawing's distances follow the graph's),
every bone is a line, every joint a circle with its index, the centre ringed. Beside
the pictures, ``layouts.json`` keeps each layout's joints, bones and centre as drawn:
``packages/stgcn-core/tests/test_layout_pictures.py`` compares it and the page with the
layouts as they are, so that a changed layout without a new picture fails the tests
(no pixel comparison). matplotlib is needed only to draw (the ``report`` extra).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from stgcn.model.graph import hops_to
from stgcn.model.layouts import LAYOUTS, Layout

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "layouts.md"
PICTURES = ROOT / "docs" / "images" / "layouts"
MANIFEST = PICTURES / "layouts.json"

#: what the page says of each layout's centre, by layout
CENTRES = {
    "openpose": "the neck",
    "ntu-rgb+d": "the spine at the shoulders",
    "ntu_edge": "the neck, as the reference has it",
    "coco": "the nose, as in PYSKL",
    "openpose-body25": "the neck, as in openpose",
    "mediapipe-pose": "the nose, as in coco",
    "mediapipe-hand": "the wrist, as PYSKL's handmp",
    "mediapipe-holistic": "the nose, as in mediapipe-pose",
    "coco-wholebody": "the nose, as in coco",
}

#: what a layout's bones add to its source's, by layout
NOTES = {
    "mediapipe-pose": (
        "MediaPipe's own connections leave the face, the mouth and the body apart: here the "
        "mouth corners join the nose and each ear its shoulder (as OpenPose links them)."
    ),
    "mediapipe-hand": "The wrist to each finger's base, then along each finger.",
    "mediapipe-holistic": (
        "The pose's joints 0–32 as in mediapipe-pose, then the left hand 33–53 and the "
        "right hand 54–74 as in mediapipe-hand (named `left_hand_…` and `right_hand_…`: "
        "the pose has its own `left_wrist`); each hand's wrist joins the pose's "
        "(15–33, 16–54)."
    ),
    "coco-wholebody": (
        "MMPose's 65 links (`coco_wholebody.py`), names as MMPose gives them. MMPose links "
        "no face landmark and neither hand root, which no graph convolution would then "
        "reach: here each hand root (91, 112) joins its wrist, and the face's 68 points "
        "(the 300-W order) are linked along the jaw, the brows and the nose, round the "
        "eyes and the lips, the parts joined where they meet (brows and inner eye corners "
        "to the top of the nose bridge, nose to upper lip, lip corners, lower lip to chin, "
        "jaw ends to the brows), and the face's nose tip (`face-30`, 53) to the body's nose."
    ),
}

#: joints a row of the page's joint table lists
PER_ROW = 6


def manifest_entry(layout: Layout) -> dict[str, Any]:
    """What a picture was drawn from: the layout's joints, bones and centre."""
    return {**layout.to_dict(), "image": f"{layout.name}.png"}


def positions(layout: Layout, iterations: int = 300) -> np.ndarray:
    """``(V, 2)`` joint positions whose distances follow the distances in bones: classical
    scaling for a start, then stress majorisation (SMACOF) weighted by ``1/d²`` so that
    near joints are placed most faithfully; the long axis vertical, the centre on top."""
    size = layout.num_node
    distance = np.array([hops_to(layout, joint) for joint in range(size)])
    if not np.isfinite(distance).all():
        raise ValueError(f"layout {layout.name!r} is not connected; cannot place its joints")
    centred = np.eye(size) - 1.0 / size
    values, vectors = np.linalg.eigh(-0.5 * centred @ (distance**2) @ centred)
    x = vectors[:, -2:] * np.sqrt(np.maximum(values[-2:], 1e-9))
    # joints with the same distances to all others (two fingertips on one joint) start
    # on one point, where the majorisation would keep them: a small, fixed nudge apart
    turn = np.arange(size) * 2.4
    x = x + 0.05 * np.stack([np.cos(turn), np.sin(turn)], axis=1)
    weight = np.zeros_like(distance)
    np.divide(1.0, distance**2, out=weight, where=distance > 0)
    laplacian = np.diag(weight.sum(axis=1)) - weight
    inverse = np.linalg.pinv(laplacian)
    for _ in range(iterations):
        apart = np.linalg.norm(x[:, None, :] - x[None, :, :], axis=-1)
        ratio = np.zeros_like(distance)
        np.divide(distance, apart, out=ratio, where=apart > 1e-12)
        b = -weight * ratio
        b[np.diag_indices(size)] = -b.sum(axis=1)
        x = inverse @ b @ x
    x = x - x.mean(axis=0)
    _, _, axes = np.linalg.svd(x, full_matrices=False)
    x = x @ axes.T[:, ::-1]  # the long axis as y
    if x[layout.center, 1] < 0:
        x[:, 1] = -x[:, 1]
    return x


def draw(layout: Layout, path: Path) -> None:
    """One PNG of the layout: its bones, its joints numbered, the centre ringed."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    where = positions(layout)
    side = 4.0 + layout.num_node / 12
    font = 7 if layout.num_node <= 40 else 6
    figure, axes = plt.subplots(figsize=(side, side))
    for i, j in layout.edges:
        axes.plot(*where[[i, j]].T, color="#5b7fa6", linewidth=1.2, zorder=1)
    colours = ["#f2b134" if n == layout.center else "#ffffff" for n in range(layout.num_node)]
    axes.scatter(where[:, 0], where[:, 1], s=font * 28, c=colours, edgecolors="#1f3b57", zorder=2)
    for index, (x, y) in enumerate(where):
        axes.annotate(str(index), (x, y), ha="center", va="center", fontsize=font, zorder=3)
    axes.set_title(f"{layout.name}: {layout.num_node} joints, {len(layout.edges)} bones")
    axes.set_aspect("equal")
    axes.axis("off")
    figure.tight_layout()
    figure.savefig(path, dpi=90, metadata={"Software": None})
    plt.close(figure)


def _joint_table(layout: Layout) -> list[str]:
    rows = ["| joints | names |", "| --- | --- |"]
    for start in range(0, layout.num_node, PER_ROW):
        names = layout.joints[start : start + PER_ROW]
        listed = " · ".join(f"`{start + n}` {name}" for n, name in enumerate(names))
        last = start + len(names) - 1
        rows.append(f"| {start}–{last} | {listed} |" if last > start else f"| {start} | {listed} |")
    return rows


def render_page(layouts: Mapping[str, Layout]) -> str:
    """docs/layouts.md: every built-in layout, its joints by index, its picture."""
    lines = [
        "# Built-in layouts",
        "",
        "<!-- written by tools/draw_layouts.py from stgcn.model.layouts; do not edit -->",
        "",
        "A layout is a skeleton: its joints, by name and index, the bones between them and",
        "the joint taken as centre (the ST-GCN spatial partition's reference). These are",
        "the ones the core registers; `stgcn plugins --json` lists them and those plugins",
        "bring, and [a skeleton](plugins.md#worked-example-a-skeleton) tells how to",
        "register another.",
        "Each picture is drawn from the layout's own bones (joints placed by their",
        "distance in bones, not as on a body), every joint numbered, the centre in yellow.",
        "",
        "| layout | joints | bones | centre |",
        "| --- | --- | --- | --- |",
    ]
    for name, layout in layouts.items():
        centre = f"{layout.center} {layout.joints[layout.center]}"
        lines.append(
            f"| [`{name}`](#{_anchor(name)}) | {layout.num_node} | {len(layout.edges)} | {centre} |"
        )
    for name, layout in layouts.items():
        lines += [
            "",
            f"## {name}",
            "",
            f"{layout.description[:1].upper()}{layout.description[1:]}. {layout.num_node} "
            f"joints, {len(layout.edges)} bones; centre: joint {layout.center}, "
            f"{CENTRES.get(name, layout.joints[layout.center])}.",
            *(["", NOTES[name]] if name in NOTES else []),
            "",
            f"![{name}: {layout.num_node} joints](images/layouts/{name}.png)",
            "",
            *_joint_table(layout),
        ]
    return "\n".join(lines) + "\n"


def _anchor(name: str) -> str:
    """The heading's anchor as MkDocs' toc writes it (``ntu-rgb+d`` -> ``ntu-rgbd``)."""
    return "".join(c for c in name.lower() if c.isalnum() or c in "-_")


def stale(layouts: Mapping[str, Layout]) -> list[str]:
    """What is out of date: the page, a picture missing, or drawn from other bones."""
    problems = []
    if not PAGE.is_file() or PAGE.read_text(encoding="utf-8") != render_page(layouts):
        problems.append(f"{PAGE.relative_to(ROOT)} is not the page of the layouts as they are")
    drawn = json.loads(MANIFEST.read_text(encoding="utf-8")) if MANIFEST.is_file() else {}
    for name, layout in layouts.items():
        if drawn.get(name) != manifest_entry(layout):
            problems.append(f"layout {name!r} was drawn from other joints or bones, or never")
        elif not (PICTURES / f"{name}.png").is_file():
            problems.append(f"layout {name!r} has no picture {name}.png")
    problems += [f"{name!r} is drawn but no built-in layout" for name in drawn.keys() - layouts]
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only say what is stale")
    arguments = parser.parse_args(argv)
    if arguments.check:
        problems = stale(LAYOUTS)
        for problem in problems:
            print(f"draw_layouts: {problem}", file=sys.stderr)
        return 1 if problems else 0
    PICTURES.mkdir(parents=True, exist_ok=True)
    for old in PICTURES.glob("*.png"):
        if old.stem not in LAYOUTS:
            old.unlink()
    for layout in LAYOUTS.values():
        draw(layout, PICTURES / f"{layout.name}.png")
    entries = {name: manifest_entry(layout) for name, layout in LAYOUTS.items()}
    MANIFEST.write_text(json.dumps(entries, indent=1) + "\n", encoding="utf-8")
    PAGE.write_text(render_page(LAYOUTS), encoding="utf-8")
    where = PICTURES.relative_to(ROOT)
    print(f"wrote {PAGE.relative_to(ROOT)} and {len(LAYOUTS)} pictures in {where}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
