"""Every kind's scaffold passes the repository's linters, as its author would run them.

``stgcn plugin new KIND NAME`` writes a package from ``scaffold_templates/``; nothing
else would notice a template that generates code ruff or mypy refuses (the templates are
``.tmpl`` files, outside every other check). For each kind in the kinds table this
writes that package into a throw-away folder through the command itself, then, from the
package's root: ``ruff check`` and ``ruff format --check`` with the repository's rules
(a ``ruff.toml`` there extends the root one, so that the package's own module counts as
first-party, as in its author's checkout), and mypy at the repository's strictness
(``mypy.ini``) over its ``src`` and ``tests``. ``nox -s lint`` runs it; run by hand:
``python tools/lint_scaffolds.py``. The exit status is non-zero when a check fails, and
each failure is reported with its kind.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from click.testing import CliRunner

from stgcn.commands.plugin_new import plugin_group
from stgcn.plugins.kinds import KINDS

ROOT = Path(__file__).resolve().parents[1]


def render(command: str, output: Path) -> Path:
    """``stgcn plugin new COMMAND my-COMMAND --output OUTPUT``; the package's folder."""
    result = CliRunner().invoke(
        plugin_group, ["new", command, f"my-{command}", "--output", str(output)]
    )
    if result.exit_code != 0:
        raise SystemExit(f"stgcn plugin new {command} failed: {result.output}")
    return Path(result.output.splitlines()[0].removeprefix("wrote "))


def checks() -> dict[str, list[str]]:
    """The commands that lint a package, by name, each run from the package's root."""
    python = sys.executable
    mypy_cache = str(ROOT / ".mypy_cache")  # the repository run's: stgcn and torch are in it
    return {
        "ruff check": [python, "-m", "ruff", "check", "--no-cache", "."],
        "ruff format --check": [python, "-m", "ruff", "format", "--check", "--no-cache", "."],
        "mypy": [
            python,
            "-m",
            "mypy",
            "--config-file",
            str(ROOT / "mypy.ini"),
            "--cache-dir",
            mypy_cache,
            "src",
            "tests",
        ],
    }


def main() -> int:
    failed = []
    with tempfile.TemporaryDirectory(prefix="stgcn-scaffolds-") as folder:
        for kind in KINDS:
            package = render(kind.command, Path(folder))
            (package / "ruff.toml").write_text(f"extend = '{ROOT / 'ruff.toml'}'\n")
            for step, command in checks().items():
                result = subprocess.run(command, cwd=package, capture_output=True, text=True)
                print(f"{package.name}: {step}: {'passed' if result.returncode == 0 else 'FAILED'}")
                if result.returncode != 0:
                    failed.append(f"{kind.command} ({step})")
                    print(result.stdout + result.stderr)
    if failed:
        print(f"scaffolds failing their linters: {', '.join(failed)}", file=sys.stderr)
        return 1
    print(f"{len(KINDS)} scaffolds pass ruff and mypy")
    return 0


if __name__ == "__main__":
    sys.exit(main())
