"""README.md is the front door: every link in it leads somewhere in the repository.

The documentation site's own links are checked by ``mkdocs build --strict`` (``nox -s
docs``); README.md is not part of the site, so its links are checked here.
"""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]


def test_every_readme_link_resolves() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    targets = re.findall(r"\]\(([^)\s]+)\)", readme)
    assert targets, "no links found in README.md"
    missing = [
        target
        for target in targets
        if "://" not in target and not (REPO / target.split("#", 1)[0]).exists()
    ]
    assert not missing, f"README.md links to what is not there: {missing}"


def test_readme_is_one_screen() -> None:
    lines = (REPO / "README.md").read_text(encoding="utf-8").splitlines()
    assert len(lines) < 150, "README.md is the front door: details go to docs/guide"
