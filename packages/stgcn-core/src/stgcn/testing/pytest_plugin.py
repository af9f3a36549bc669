"""Fixtures every package's tests share, as a pytest plugin.

A package's ``tests/conftest.py`` loads it with::

    pytest_plugins = ["stgcn.testing.pytest_plugin"]

It is a module of its own, not part of ``stgcn.testing``'s import, because the
contract kit is used without pytest; and it is loaded by the conftests that ask for
it, not through a ``pytest11`` entry point, which would load it into every pytest
run of every environment stgcn-core is installed in.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import shutil
import sys
import tempfile
from collections.abc import Generator, Iterator
from pathlib import Path

import pytest

from stgcn.plugins import registry as plugins
from stgcn.testing import precision_probe
from stgcn.testing.helpers import TINY_RUN, run_stgcn

#: hypothesis's storage for this session, removed at its end (None: not ours to remove)
_hypothesis_home: Path | None = None


def _hypothesis_storage_aside() -> None:
    """Hypothesis keeps a cache of constants (and, where a test keeps one, its example
    database) under ``.hypothesis/`` in the current folder: pointed at a temporary folder
    here, so that the property tests write nothing into the source tree. Not done where
    hypothesis is not installed, or where ``HYPOTHESIS_STORAGE_DIRECTORY`` chooses a place."""
    global _hypothesis_home
    if os.environ.get("HYPOTHESIS_STORAGE_DIRECTORY") or _hypothesis_home is not None:
        return
    if importlib.util.find_spec("hypothesis") is None:
        return
    from hypothesis.configuration import set_hypothesis_home_dir

    _hypothesis_home = Path(tempfile.mkdtemp(prefix="stgcn-hypothesis-"))
    set_hypothesis_home_dir(_hypothesis_home)


def pytest_unconfigure(config: pytest.Config) -> None:
    global _hypothesis_home
    if _hypothesis_home is not None:
        shutil.rmtree(_hypothesis_home, ignore_errors=True)
        _hypothesis_home = None


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A folder on sys.path for distributions made by the test
    (:func:`stgcn.testing.helpers.make_distribution`); plugins reloaded after, and
    the test's ``fake_*`` modules forgotten."""
    folder = tmp_path / "site"
    folder.mkdir()
    monkeypatch.syspath_prepend(str(folder))
    plugins.reset()
    yield folder
    plugins.reset()
    for name in list(sys.modules):
        if name.startswith("fake_"):
            del sys.modules[name]


@pytest.fixture(scope="session")
def checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A checkpoint trained by the real ``stgcn run`` (``TINY_RUN``) on the synthetic
    dataset, once per session."""
    work = tmp_path_factory.mktemp("run")
    result = run_stgcn("run", *TINY_RUN, "--work-dir", str(work))
    assert result.returncode == 0, result.stderr
    return work / "checkpoints" / "best.pth.tar"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("stgcn", "stgcn's test helpers")
    group.addoption(
        "--record-precision-tests",
        metavar="FILE",
        help="append to FILE the tests that ask whether the processor has native bf16 "
        "(the cpu backend's default precision and layout follow the answer), themselves, "
        "in the processes they start or in their module- and session-wide fixtures",
    )
    group.addoption(
        "--only-precision-tests",
        metavar="FILE",
        help="run only the tests --record-precision-tests wrote to FILE",
    )


def _share_the_cores_among_workers() -> None:
    """Under pytest-xdist, each worker and the commands its tests start compute with its
    share of the cores (``OMP_NUM_THREADS``, which torch reads when it starts), not with
    all of them: otherwise two workers on two cores run four compute threads, and
    OpenMP's threads spin waiting for each other. Measured on 2 cores (Sapphire Rapids):
    two 3-epoch tiny trainings at once took 10 to 14 s with 2 threads each, 4.4 s with
    one each (one alone: 3.9 s with 2 threads, 4.6 s with one). A value the developer set
    is kept."""
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    if workers <= 1 or "PYTEST_XDIST_WORKER" not in os.environ:
        return
    share = max(1, (os.cpu_count() or 1) // workers)
    threads = int(os.environ.setdefault("OMP_NUM_THREADS", str(share)))
    import torch

    torch.set_num_threads(threads)


def pytest_configure(config: pytest.Config) -> None:
    _share_the_cores_among_workers()
    _hypothesis_storage_aside()
    record = config.getoption("record_precision_tests", None)
    if record:
        config.pluginmanager.register(PrecisionAsks(Path(record)), "stgcn-precision-asks")
    only = config.getoption("only_precision_tests", None)
    if only:
        config.pluginmanager.register(OnlyPrecisionTests(Path(only)), "stgcn-precision-only")


class PrecisionAsks:
    """``--record-precision-tests``: the tests that ask whether the processor has native
    bf16 (:mod:`stgcn.testing.precision_probe`), in this process, in the processes they
    start, or in the module- or session-wide fixtures they use (set up once, for the
    first test that needs them). A module that asks while it is collected has all its
    tests recorded. Each test is recorded whatever its outcome."""

    def __init__(self, record: Path) -> None:
        import torch.cpu

        self.record = record
        self.folder = Path(tempfile.mkdtemp(prefix="stgcn-precision-probe-"))
        self.logs = 0
        self.asking_fixtures: set[object] = set()
        precision_probe.record_asks(torch.cpu)
        # the processes tests start: the probe's sitecustomize first on their path
        path = [str(precision_probe.SITE), *filter(None, [os.environ.get("PYTHONPATH")])]
        os.environ["PYTHONPATH"] = os.pathsep.join(path)

    def new_log(self) -> Path:
        self.logs += 1
        return self.folder / f"{self.logs}.log"

    @contextlib.contextmanager
    def recording(self, log: Path) -> Iterator[None]:
        before = os.environ.get(precision_probe.LOG_VARIABLE)
        os.environ[precision_probe.LOG_VARIABLE] = str(log)
        try:
            yield
        finally:
            if before is None:
                os.environ.pop(precision_probe.LOG_VARIABLE, None)
            else:
                os.environ[precision_probe.LOG_VARIABLE] = before

    def write(self, nodeid: str) -> None:
        # one short line per append: the xdist workers' lines do not interleave
        with self.record.open("a", encoding="utf-8") as file:
            file.write(f"{nodeid}\n")

    @pytest.hookimpl(wrapper=True)
    def pytest_make_collect_report(
        self, collector: pytest.Collector
    ) -> Generator[None, pytest.CollectReport, pytest.CollectReport]:
        log = self.new_log()
        with self.recording(log):
            report = yield
        if log.exists():
            self.write(collector.nodeid)
        return report

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_protocol(self, item: pytest.Item) -> Generator[None, object, object]:
        log = self.new_log()
        with self.recording(log):
            result = yield
        if log.exists() or self.uses_asking_fixture(item):
            self.write(item.nodeid)
        return result

    @pytest.hookimpl(wrapper=True)
    def pytest_fixture_setup(
        self, fixturedef: pytest.FixtureDef[object]
    ) -> Generator[None, object, object]:
        if fixturedef.scope == "function":  # set up for one test: its asks are the test's
            return (yield)
        log = self.new_log()
        with self.recording(log):
            result = yield
        if log.exists():
            self.asking_fixtures.add(fixturedef)
        return result

    def uses_asking_fixture(self, item: pytest.Item) -> bool:
        info = getattr(item, "_fixtureinfo", None)
        fixtures = info.name2fixturedefs.values() if info is not None else ()
        return any(d in self.asking_fixtures for defs in fixtures for d in defs)

    def pytest_unconfigure(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


class OnlyPrecisionTests:
    """``--only-precision-tests``: deselects the tests not in the record (nor under a
    module recorded whole), as ``-m``/``-k`` would."""

    def __init__(self, record: Path) -> None:
        lines = record.read_text(encoding="utf-8").splitlines() if record.exists() else []
        self.recorded = {line for line in lines if line}

    def selected(self, nodeid: str) -> bool:
        """Recorded itself, or a module, folder or class it is in ("" being the whole
        session's collection)."""
        if nodeid in self.recorded or "" in self.recorded:
            return True
        path, *names = nodeid.split("::")
        parents = ["::".join([path, *names[:n]]) for n in range(len(names))]
        folders = ["/".join(path.split("/")[:n]) for n in range(1, path.count("/") + 1)]
        return any(parent in self.recorded for parent in [*parents, *folders])

    def pytest_collection_modifyitems(
        self, config: pytest.Config, items: list[pytest.Item]
    ) -> None:
        deselected = [item for item in items if not self.selected(item.nodeid)]
        if deselected:
            config.hook.pytest_deselected(items=deselected)
            items[:] = [item for item in items if self.selected(item.nodeid)]
