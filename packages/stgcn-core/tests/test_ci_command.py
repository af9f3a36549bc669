"""CI runs the test command README.md gives, ``nox`` alone, and that runs every session
of the noxfile but those run by name on purpose: the three cannot drift apart."""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]

#: the sessions ``nox`` leaves out, each run by name for its reason
RUN_BY_NAME = {
    "demo": "a first look: trains and evaluates once, asserting nothing",
    "bench": "prints the throughput table: minutes, asserting nothing",
    "build": "builds the wheels and sdists for a release",
    "smoke": "a session per Python version (smoke-3.10, ...), each installing torch anew",
    "tests-cuda": "needs an NVIDIA GPU",
}


def noxfile_sessions() -> tuple[list[str], set[str]]:
    """``nox.options.sessions`` and every session's name, read from noxfile.py's syntax
    (nox itself is not installed where the tests run)."""
    tree = ast.parse((REPO / "noxfile.py").read_text(encoding="utf-8"))
    defaults: list[str] = []
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and ast.unparse(node.targets[0]) == "nox.options.sessions":
            defaults = ast.literal_eval(node.value)
        if isinstance(node, ast.FunctionDef):
            for decorator in node.decorator_list:
                if not ast.unparse(decorator).startswith("nox.session"):
                    continue
                given = [
                    keyword.value
                    for keyword in getattr(decorator, "keywords", [])
                    if keyword.arg == "name"
                ]
                names.add(ast.literal_eval(given[0]) if given else node.name)
    return defaults, names


def test_ci_runs_the_readme_test_command() -> None:
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    commands = [line for line in ci.splitlines() if line and not line.startswith("#")]
    assert "set -euo pipefail" in commands, "a failing session must fail CI"
    assert [line for line in commands if "nox" in line] == ["pip install --quiet nox && nox"]
    assert "```\npip install nox && nox\n```" in readme


def test_nox_alone_runs_every_session_but_those_run_by_name() -> None:
    defaults, names = noxfile_sessions()
    assert defaults, "noxfile.py sets no nox.options.sessions"
    assert set(defaults) <= names, f"not sessions: {set(defaults) - names}"
    left_out = names - set(defaults)
    assert left_out == set(RUN_BY_NAME), (
        f"run by nox but not by CI, say why in RUN_BY_NAME: {left_out - set(RUN_BY_NAME)}"
    )
    assert "tests-pose" in defaults and "tests-install" in defaults
    # tests-bf16-cpu runs the tests that tests recorded in the same nox run
    assert defaults.index("tests") < defaults.index("tests-bf16-cpu")
