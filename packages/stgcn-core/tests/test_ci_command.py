"""CI runs the test command that README.md gives: the two cannot drift apart."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]


def test_ci_runs_the_readme_test_command() -> None:
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    ci_sessions = re.findall(r"nox -s ([\w -]+)", ci)
    readme_sessions = re.findall(r"pip install nox && nox -s (lint [\w -]+)", readme)
    assert ci_sessions and readme_sessions, "no nox command found"
    assert ci_sessions[-1].split() == readme_sessions[-1].split()
    assert "tests-pose" in ci_sessions[-1].split()
