"""Plugin API 1.4 loggers: a context at create (options parsed by the logger's own
settings, its step interval, whether the run resumes) and no event sent twice when a
run resumes from a checkpoint older than the events it had sent."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import pytest

from stgcn.errors import StgcnError
from stgcn.loggers.events import RunLoggers, SentEvents, logger_specs, plan_loggers
from stgcn.plugins.kinds import LOGGERS
from stgcn.plugins.registry import Registry
from stgcn.plugins.settings import Settings, option
from stgcn.records import Logger
from stgcn.testing.helpers import TINY, make_distribution, run_stgcn

CONTEXT_RECORDER = """
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from stgcn.hookspecs import hookimpl
from stgcn.plugins.settings import Settings, option
from stgcn.records import Logger

STGCN_API = ">=1.4,<2"


@dataclass(frozen=True)
class RecorderOptions(Settings):
    family: ClassVar[str] = "logger 'ctx'"
    tag: str = option("run", "a name written with every event")


class Recorder:
    def __init__(self, context):
        self.context = context
        self.path = Path(context.work_dir) / f"events-{os.getpid()}.jsonl"

    def _write(self, *values):
        with self.path.open("a") as stream:
            stream.write(json.dumps(list(values)) + "\\n")

    def run_started(self, config):
        c = self.context
        self._write("run_started", c.options.tag, c.step_interval, c.resuming,
                    c.resuming_from_epoch, c.resuming_from_step, c.sent_through_step,
                    c.sent_through_epoch)

    def step(self, step, scalars):
        self._write("step", step)

    def epoch_ended(self, epoch, metrics):
        self._write("epoch_ended", epoch)


def create(context):
    if not context.resuming:
        assert not Path(context.work_dir).exists(), "create runs before the work dir exists"
    return Recorder(context)


@hookimpl
def stgcn_register_loggers(register):
    register(Logger(name="ctx", create=create, create_with_context=True,
                    settings=RecorderOptions, step_interval=3))
"""


def _events(work: Path) -> list[list[list]]:
    """Each process's events, in the order the processes ran."""
    files = sorted(work.glob("events-*.jsonl"), key=lambda p: p.stat().st_mtime)
    return [[json.loads(line) for line in p.read_text().splitlines()] for p in files]


def test_a_resumed_run_sends_no_step_or_epoch_twice(site, tmp_path: Path) -> None:
    make_distribution(site, "stgcn-ctx", "1.0", "fake_ctx_logger", CONTEXT_RECORDER)
    work = tmp_path / "run"
    common = ["--work-dir", str(work), "--logger", "ctx:tag=first", "--keep", "2"]
    done = run_stgcn("run", *TINY, "--epochs", "2", *common, site=site)
    assert done.returncode == 0, done.stderr
    (first,) = _events(work)
    # 4 steps an epoch; the record's own interval (3), not --log-every (50)
    assert first[0] == ["run_started", "first", 3, False, None, None, 0, 0]
    assert [e[1] for e in first if e[0] == "step"] == [3, 6]
    assert [e[1] for e in first if e[0] == "epoch_ended"] == [1, 2]
    assert json.loads((work / "logged.json").read_text()) == {"step": 6, "epoch": 2}
    # as if the process had died before epoch 2's checkpoint: latest is epoch 1's
    checkpoints = work / "checkpoints"
    shutil.copyfile(checkpoints / "epoch-0001.pth.tar", checkpoints / "latest.pth.tar")
    done = run_stgcn(
        "run", "--resume", "--work-dir", str(work), "--logger", "ctx:every=1", site=site
    )
    assert done.returncode == 0, done.stderr
    first, second = _events(work)
    assert second[0] == ["run_started", "run", 1, True, 1, 4, 6, 2]
    # epoch 2 trained again (steps 5..8): only the steps never sent (7, 8) are sent
    assert [e[1] for e in second if e[0] == "step"] == [7, 8]
    assert [e for e in second if e[0] == "epoch_ended"] == []


@dataclass(frozen=True)
class Options(Settings):
    family: ClassVar[str] = "logger 'mine'"
    path: str = option("out.csv", "where the rows go")


def _registry(*loggers: Logger) -> Registry:
    return Registry({LOGGERS: {logger.name: logger for logger in loggers}})


def test_logger_options_are_parsed_by_the_loggers_settings() -> None:
    registry = _registry(
        Logger("mine", create=print, create_with_context=True, settings=Options),
        Logger("plain", create=print),
    )
    assert logger_specs(["plain", "mine:path=a.csv", "mine:every=5"]) == {
        "plain": {},
        "mine": {"path": "a.csv", "every": "5"},
    }
    plan = plan_loggers(["mine:path=a.csv", "mine:every=5", "plain"], registry, 50)
    assert plan["mine"].options == Options(path="a.csv") and plan["mine"].step_interval == 5
    assert plan["plain"].options == {} and plan["plain"].step_interval == 50
    with pytest.raises(StgcnError, match=r"logger 'mine': unknown option 'pth'; known: path"):
        plan_loggers(["mine:pth=a.csv"], registry, 50)
    with pytest.raises(StgcnError, match=r"logger 'plain' takes no options but every; got 'x'"):
        plan_loggers(["plain:x=1"], registry, 50)
    with pytest.raises(StgcnError, match=r"option every must be at least 1, got 0"):
        plan_loggers(["plain:every=0"], registry, 50)
    with pytest.raises(StgcnError, match=r"--logger mine: expects KEY=VALUE, got 'path'"):
        plan_loggers(["mine:path"], registry, 50)
    with pytest.raises(StgcnError, match=r"unknown logger 'nosuch'"):
        plan_loggers(["nosuch:a=1"], registry, 50)


def test_each_logger_gets_steps_at_its_interval_and_none_already_sent(tmp_path: Path) -> None:
    got: dict[str, list[int]] = {"fast": [], "slow": []}

    class Steps:
        def __init__(self, name: str) -> None:
            self.name = name

        def step(self, step: int, scalars: dict) -> None:
            got[self.name].append(step)

    sent = SentEvents(tmp_path / "logged.json", step=4)
    loggers = RunLoggers(
        {"fast": Steps("fast"), "slow": Steps("slow")}, {"fast": 1, "slow": 3}, sent
    )
    for step in range(1, 10):
        if loggers.wants_step(step):
            loggers.step(step, {"train/loss": 1.0})
    assert got == {"fast": [5, 6, 7, 8, 9], "slow": [6, 9]}
    assert not loggers.wants_step(4)
    assert SentEvents.read(tmp_path).step == 9
