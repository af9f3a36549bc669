"""docs/layouts.md and its pictures follow the built-in layouts: a layout added or changed
without ``python tools/draw_layouts.py`` fails here (the page is compared as text, each
picture by the joints and bones it was drawn from, kept beside it; no pixels)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

from stgcn.model.layouts import LAYOUTS, Layout

REPO = Path(__file__).resolve().parents[3]


def _tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "draw_layouts", REPO / "tools" / "draw_layouts.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


draw_layouts = _tool()


def test_the_page_and_the_pictures_are_those_of_the_layouts_as_they_are() -> None:
    assert draw_layouts.stale(LAYOUTS) == []


@pytest.mark.parametrize("name", sorted(LAYOUTS))
def test_every_builtin_layout_has_its_picture_on_the_page(name: str) -> None:
    drawn = json.loads((REPO / "docs" / "images" / "layouts" / "layouts.json").read_text())
    assert drawn[name]["edges"] == [list(edge) for edge in LAYOUTS[name].edges]
    picture = REPO / "docs" / "images" / "layouts" / f"{name}.png"
    assert picture.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    page = (REPO / "docs" / "layouts.md").read_text(encoding="utf-8")
    assert f"](images/layouts/{name}.png)" in page and f"\n## {name}\n" in page


def test_a_changed_or_new_layout_is_reported_stale() -> None:
    coco = LAYOUTS["coco"]
    moved = Layout(coco.name, coco.num_node, coco.edges[:-1], coco.center, coco.joints, "x")
    problems = draw_layouts.stale({**LAYOUTS, "coco": moved})
    assert any("'coco' was drawn from other joints or bones" in p for p in problems)
    extra = Layout("extra", 2, ((0, 1),), 0, ("a", "b"), "two joints")
    problems = draw_layouts.stale({**LAYOUTS, "extra": extra})
    assert any("'extra' was drawn from other joints or bones, or never" in p for p in problems)
    assert any("layouts.md is not the page" in p for p in problems)


def test_the_drawing_separates_joints_alike_and_keeps_bones_short() -> None:
    # a hand's fingertips and a pose's mouth corners have the same distances to all the
    # other joints: they must still be drawn apart
    for name in ("mediapipe-pose", "mediapipe-hand", "coco"):
        layout = LAYOUTS[name]
        where = draw_layouts.positions(layout)
        apart = np.linalg.norm(where[:, None] - where[None, :], axis=-1)
        closest = apart[~np.eye(layout.num_node, dtype=bool)].min()
        bones = [apart[i, j] for i, j in layout.edges]
        assert closest > 0.2 * np.median(bones), name
        assert max(bones) < 3 * np.median(bones), name
