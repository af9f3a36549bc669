"""``stgcn plugin new KIND``: every kind's generated package installs and passes its own tests."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from stgcn.commands.plugin_new import new_dataset_package, new_plugin_package
from stgcn.errors import StgcnError
from stgcn.plugins.kinds import KINDS
from stgcn.testing.helpers import STGCN, command_environment, run_stgcn

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib


#: each kind's generated tests, counted: a package whose tests were not all collected fails
TEST_COUNTS = {"backend": 6, "dataset": 13, "exporter": 5, "logger": 2, "pose-estimator": 7}


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Path]]:
    """Every kind's package generated (``my-KIND``), then built by hatchling into wheels
    and installed, all in one pip call, into one folder that goes on the path."""
    work = tmp_path_factory.mktemp("scaffold")
    packages = {}
    for kind in KINDS:
        name = f"my-{kind.command}"
        made = run_stgcn("plugin", "new", kind.command, name, "--output", str(work / "new"))
        assert made.returncode == 0, made.stderr
        packages[kind.command] = work / "new" / f"{kind.distribution_prefix}-{name}"
        assert made.stdout.splitlines()[0] == f"wrote {packages[kind.command]}"
    site = work / "site"
    install = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--target",
            str(site),
            *map(str, packages.values()),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert install.returncode == 0, install.stderr
    return site, packages


def test_every_registered_kind_has_a_scaffold() -> None:
    assert sorted(TEST_COUNTS) == sorted(kind.command for kind in KINDS)


# the slowest tests of the suite (the dataset's about 20 s on 2 cores): each builds and
# pip-installs a generated package and runs its tests as its author would, the dataset's
# with a real training run of its default recipe, which must learn (issue 34)
@pytest.mark.parametrize("kind", [kind.command for kind in KINDS])
def test_generated_package_installs_and_passes_its_own_tests(
    installed: tuple[Path, dict[str, Path]], kind: str
) -> None:
    site, packages = installed
    package, name = packages[kind], f"my-{kind}"
    module = package.name.replace("-", "_")
    project = tomllib.loads((package / "pyproject.toml").read_text())
    assert project["build-system"]["build-backend"] == "hatchling.build"
    assert project["project"]["entry-points"]["stgcn"] == {name: module}
    assert (package / "src" / module / "py.typed").is_file()
    assert package.name in (package / "README.md").read_text()
    assert not any("${" in path.read_text() for path in package.rglob("*.py"))
    assert (site / module / "__init__.py").is_file(), "installed from a wheel, not linked"

    listing = run_stgcn("plugins", site=site)
    assert f"{package.name} 0.1.0" in listing.stdout
    label = next(k.label for k in KINDS if k.command == kind)
    assert re.search(rf"\b{label}\s+{name}\b", listing.stdout), listing.stdout
    environment = command_environment(site, unset=["STGCN_PLUGINS"])
    tests = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "--rootdir",
            str(package),
            str(package / "tests"),
        ],
        capture_output=True,
        text=True,
        timeout=1200,
        cwd=package,
        env=environment,
    )
    assert tests.returncode == 0, tests.stdout[-3000:] + tests.stderr[-2000:]
    assert f"{TEST_COUNTS[kind]} passed" in tests.stdout, tests.stdout[-1000:]


def readme_commands(readme: str) -> list[list[str]]:
    """The shell commands of a README's plain fenced blocks, each split as the shell
    splits it: a line ending in a backslash goes on, a quoted string may span lines, and
    ``#`` starts a comment."""
    commands = []
    for block in re.findall(r"^```\n(.*?)^```", readme, flags=re.S | re.M):
        pending = ""
        for line in block.splitlines():
            goes_on = line.endswith("\\")
            pending += line.removesuffix("\\") + (" " if goes_on else "\n")
            try:
                words = shlex.split(pending, comments=True)
            except ValueError:  # a quoted string not closed yet
                continue
            if goes_on:
                continue
            if words:
                commands.append(words)
            pending = ""
    return commands


def test_readme_commands_are_split_as_the_shell_splits_them() -> None:
    readme = 'text\n```\npip install .\nstgcn run \\\n  --x 1   # note\npython -c "\na\nb"\n```\n'
    assert readme_commands(readme) == [
        ["pip", "install", "."],
        ["stgcn", "run", "--x", "1"],
        ["python", "-c", "\na\nb"],
    ]


#: what a README's commands name that its reader brings, made by the test: the model
#: trained by ``stgcn run`` (the ``checkpoint`` fixture) and, for a pose estimator, a
#: short video with the keypoints of each frame
def _readers_files(folder: Path, checkpoint: Path) -> dict[str, str]:
    shutil.copy(checkpoint, folder / "best.pth.tar")
    return {"CHECKPOINT": "best.pth.tar"}


def _video_with_keypoints(folder: Path, frames: int = 6) -> None:
    import numpy as np

    cv2 = pytest.importorskip("cv2", reason="the pose estimator's README reads a video")
    writer = cv2.VideoWriter(
        str(folder / "clip.mp4"), cv2.VideoWriter_fourcc(*"mp4v"), 10, (64, 48)
    )
    for index in range(frames):
        writer.write(np.full((48, 64, 3), 20 * index, np.uint8))
    writer.release()
    keypoints = np.random.default_rng(0).uniform(0.2, 0.8, (frames, 1, 17, 3))
    np.save(folder / "clip_keypoints.npy", keypoints.astype(np.float32))


#: ``stgcn run`` as a README gives it trains a default recipe for minutes: the test
#: runs the same command one short epoch long (the synthetic dataset's sizes where the
#: command trains on it), in fp32, without DataLoader workers
SHORT_RUN = ["--epochs", "1", "--workers", "0", "--precision", "fp32", "--batch-size", "4"]
SMALL_SYNTHETIC = [
    *("--data-option", "train_size=8", "--data-option", "val_size=4"),
    *("--data-option", "frames=12"),
]
#: the exporter's scaffold becomes ``stgcn export NAME`` in this same change (issue 39,
#: the part that wires each kind's command); its README joins the test with it
README_KINDS = [kind.command for kind in KINDS if kind.command != "exporter"]


@pytest.mark.parametrize("kind", README_KINDS)
def test_every_command_in_the_generated_readme_runs(
    installed: tuple[Path, dict[str, Path]], checkpoint: Path, kind: str, tmp_path: Path
) -> None:
    """What the README tells its reader to type works: ``pip install`` and ``pytest
    tests`` as the test above does them, every ``stgcn`` and ``python`` command here, in
    a folder holding the files the README has its reader bring."""
    site, packages = installed
    readme = (packages[kind] / "README.md").read_text()
    commands = readme_commands(readme)
    assert commands, readme
    files = _readers_files(tmp_path, checkpoint)
    if "clip.mp4" in readme:
        if kind != "pose-estimator":
            pytest.fail(f"the {kind} README reads a video")
        pytest.importorskip("stgcn_export", reason="stgcn predict is stgcn-export's command")
        _video_with_keypoints(tmp_path)
    environment = command_environment(site, unset=["STGCN_PLUGINS"])
    for number, words in enumerate(commands):
        if words[0] == "pip":  # the fixture installed the package, from its wheel
            assert words[1] == "install" and words[-1] in (".", ".[test]"), words
            continue
        if words[0] == "pytest":  # the test above runs the package's tests
            assert words[1:] == ["tests"], words
            continue
        assert words[0] in ("stgcn", "python"), f"a README command of {kind}: {words}"
        words = [files.get(word, word) for word in words]
        if words[:2] == ["stgcn", "run"]:
            small = [] if "--dataset" in words else SMALL_SYNTHETIC
            words += [*SHORT_RUN, *small, "--work-dir", f"run-{number}"]
        program = list(STGCN) if words[0] == "stgcn" else [sys.executable]
        ran = subprocess.run(
            [*program, *words[1:]],
            capture_output=True,
            text=True,
            timeout=600,
            cwd=tmp_path,
            env=environment,
        )
        assert ran.returncode == 0, f"{shlex.join(words)}\n{ran.stderr[-2000:]}"
        assert "Traceback" not in ran.stderr, ran.stderr[-2000:]


def test_a_kind_without_templates_gets_a_generic_package(tmp_path: Path) -> None:
    from stgcn.plugins.kinds import Kind
    from stgcn.plugins.records import Logger

    kind = Kind("widgets", "widget", Logger, "stgcn_register_loggers", lambda r, n: {}, "widget")
    package = new_plugin_package(kind, "mine", tmp_path)
    assert package.name == "stgcn-widget-mine"
    source = (package / "src" / "stgcn_widget_mine" / "__init__.py").read_text()
    assert "def stgcn_register_loggers(register" in source
    assert "widget" in (package / "README.md").read_text()
    test = (package / "tests" / "test_plugin.py").read_text()
    assert "stgcn_widget_mine in [implementation.plugin" in test


def test_an_unknown_kind_is_one_line() -> None:
    result = run_stgcn("plugin", "new", "widget", "mine")
    assert result.returncode != 0
    assert "No such command 'widget'" in result.stderr


def test_an_existing_folder_is_never_overwritten(tmp_path: Path) -> None:
    target = tmp_path / "stgcn-data-mine"
    target.mkdir()
    (target / "notes.txt").write_text("mine")
    result = run_stgcn("plugin", "new", "dataset", "mine", "--output", str(tmp_path))
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"stgcn: error: {target} already exists; choose another --output or name"
    ]
    assert [p.name for p in target.iterdir()] == ["notes.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["stgcn-data-mine"], "no staging left"


@pytest.mark.parametrize("name", ["Mine", "my_clips", "-mine", "mine-", "9lives", "a--b", ""])
def test_bad_names_are_refused(tmp_path: Path, name: str) -> None:
    with pytest.raises(StgcnError, match="use lower-case letters, digits and single hyphens"):
        new_dataset_package(name, tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_generated_module_declares_the_current_api_range(tmp_path: Path) -> None:
    package = new_dataset_package("ok2", tmp_path)
    source = (package / "src" / "stgcn_data_ok2" / "__init__.py").read_text()
    assert 'STGCN_API = ">=2,<3"' in source
    assert "${" not in source
