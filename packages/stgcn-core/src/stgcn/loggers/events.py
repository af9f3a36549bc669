"""Handing the training events to the run's loggers, so that none can stop the run.

A logger that raises is reported in one warning line, once, and switched off: an
experiment tracker that loses its connection must not cost the training it records.

A resumed run trains again the steps between its checkpoint and the moment the earlier
process stopped (a process killed outright writes no checkpoint of its own); those
steps' values are the same, and their events were sent already. The work dir's
``logged.json`` keeps the last step and epoch sent, so that a resumed run sends each
event once: only a process killed between sending an event and noting it sends that
one event again.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stgcn.errors import StgcnError, first_line
from stgcn.plugins.kinds import LOGGERS
from stgcn.plugins.records import Logger, LoggerContext
from stgcn.plugins.registry import Registry
from stgcn.plugins.settings import parse_int, parse_pairs

EVENTS = ("run_started", "step", "epoch_ended", "checkpoint_saved", "run_ended")
#: the work dir's note of the last step and epoch whose events the loggers got
SENT_FILE = "logged.json"
#: the option every logger takes, read by the core: the steps between its step events
EVERY = "every"


def logger_specs(specs: Iterable[str]) -> dict[str, dict[str, str]]:
    """``--logger`` values (``NAME`` or ``NAME:KEY=VALUE``) as each logger's options, in
    the order the names first appear; a name given again adds its options."""
    chosen: dict[str, dict[str, str]] = {}
    for spec in specs:
        name, _, pair = str(spec).partition(":")
        name = name.strip()
        if not name:
            raise StgcnError(f"--logger expects NAME or NAME:KEY=VALUE, got {spec!r}")
        options = chosen.setdefault(name, {})
        if pair.strip():
            options.update(parse_pairs([pair], f"--logger {name}:"))
    return chosen


@dataclass(frozen=True)
class PlannedLogger:
    """One ``--logger``: its record, its options parsed, its step interval."""

    record: Logger
    options: Any
    step_interval: int


def plan_loggers(
    specs: Iterable[str], registry: Registry, log_every: int
) -> dict[str, PlannedLogger]:
    """Every ``--logger`` checked before anything runs: a registered name, options its
    ``settings`` family accepts (none without one), a whole ``every`` of at least 1."""
    planned = {}
    for name, given in logger_specs(specs).items():
        record = registry.get(LOGGERS, name)
        options = dict(given)
        interval = record.step_interval or log_every
        if EVERY in options:
            interval = parse_int(options.pop(EVERY), f"logger {name!r}: option {EVERY}")
        if interval < 1:
            raise StgcnError(f"logger {name!r}: option {EVERY} must be at least 1, got {interval}")
        if record.settings is not None:
            parsed: Any = record.settings.parse(options)
        elif options:
            raise StgcnError(
                f"logger {name!r} takes no options but {EVERY}; got {sorted(options)[0]!r}"
            )
        else:
            parsed = {}
        planned[name] = PlannedLogger(record, parsed, interval)
    return planned


def check_loggers(names: Iterable[str], registry: Registry, log_every: int = 1) -> None:
    """Every ``--logger`` is a registered logger with options it accepts (one line naming
    the problem otherwise)."""
    plan_loggers(names, registry, log_every)


@dataclass
class SentEvents:
    """The last step and epoch whose events reached the loggers, noted in the work dir."""

    path: Path | None = None
    step: int = 0
    epoch: int = 0

    @classmethod
    def read(cls, work_dir: Path) -> SentEvents:
        """The note an earlier process of the run left (nothing sent where there is none,
        or where it cannot be read: sending twice beats losing events)."""
        path = Path(work_dir) / SENT_FILE
        try:
            noted = json.loads(path.read_text())
            return cls(path, int(noted["step"]), int(noted["epoch"]))
        except (OSError, ValueError, KeyError, TypeError):
            return cls(path)

    def note(self, step: int | None = None, epoch: int | None = None) -> None:
        """Sent up to ``step`` (or ``epoch``): written beside the run's other files, its
        old contents replaced whole. Not synced to disk: at worst an event is sent twice."""
        self.step = max(self.step, step or 0)
        self.epoch = max(self.epoch, epoch or 0)
        if self.path is None or not self.path.parent.is_dir():
            return
        partial = self.path.with_name(self.path.name + ".partial")
        partial.write_text(json.dumps({"step": self.step, "epoch": self.epoch}) + "\n")
        os.replace(partial, self.path)


class RunLoggers:
    """The loggers of one run, by name; each event goes to every logger still on, a step
    at each logger's own interval, and no step or epoch twice across resumes."""

    def __init__(
        self,
        loggers: Mapping[str, Any],
        intervals: Mapping[str, int] | None = None,
        sent: SentEvents | None = None,
        owners: Mapping[str, str] | None = None,
    ) -> None:
        self.loggers = dict(loggers)
        self.intervals = dict(intervals or {})
        self.sent = sent or SentEvents()
        #: the distribution that registered each logger, named in its warning
        self.owners = dict(owners or {})

    def __bool__(self) -> bool:
        return bool(self.loggers)

    def emit(self, event: str, *args: Any, only: Iterable[str] | None = None) -> None:
        names = list(self.loggers) if only is None else [n for n in only if n in self.loggers]
        for name in names:
            logger = self.loggers[name]
            method = getattr(logger, event, None)
            if method is None:
                continue
            try:
                method(*args)
            except Exception as error:  # a logger's failure is reported, never fatal
                del self.loggers[name]
                print(
                    f"stgcn: warning: {_named(name, self.owners.get(name, ''))} failed in {event}: "
                    f"{type(error).__name__}: {first_line(error)}; switched off for this run",
                    file=sys.stderr,
                )

    def wants_step(self, step: int) -> bool:
        """Whether some logger gets ``step``'s scalars (which then must be read)."""
        return bool(self._due(step))

    def _due(self, step: int) -> list[str]:
        if step <= self.sent.step:
            return []
        return [name for name in self.loggers if step % self.intervals.get(name, 1) == 0]

    def run_started(self, config: Mapping[str, Any]) -> None:
        self.emit("run_started", dict(config))

    def step(self, step: int, scalars: Mapping[str, float]) -> None:
        due = self._due(step)
        if due:
            self.emit("step", step, dict(scalars), only=due)
            self.sent.note(step=step)

    def epoch_ended(self, epoch: int, metrics: Mapping[str, Any]) -> None:
        if epoch > self.sent.epoch:
            self.emit("epoch_ended", epoch, dict(metrics))
            self.sent.note(epoch=epoch)

    def checkpoint_saved(self, path: Path, epoch: int, best: bool) -> None:
        self.emit("checkpoint_saved", Path(path), epoch, best)

    def run_ended(self, summary: Mapping[str, Any]) -> None:
        self.emit("run_ended", dict(summary))


@dataclass(frozen=True)
class ResumePoint:
    """Where a resumed run goes on: after ``epoch`` whole epochs, at global ``step``."""

    epoch: int
    step: int


def open_loggers(
    names: Iterable[str],
    work_dir: Path,
    config: Mapping[str, Any],
    registry: Registry,
    resume: ResumePoint | None = None,
) -> RunLoggers:
    """Create each ``--logger`` for this run; a StgcnError (a missing package, a bad
    option) stops the run before its first step, any other failure only switches that
    logger off. ``resume`` is where a resumed run goes on (None: a fresh run)."""
    work_dir = Path(work_dir)
    sent = SentEvents.read(work_dir) if resume is not None else SentEvents(work_dir / SENT_FILE)
    planned = plan_loggers(names, registry, int(config.get("log_every", 50)))
    created = {}
    owners = {}
    for name, plan in planned.items():
        owner = registry.owner_of(LOGGERS, name)
        owners[name] = owner.distribution if owner is not None else ""
        try:
            created[name] = _create(plan, work_dir, config, resume, sent)
        except StgcnError:
            raise
        except Exception as error:
            print(
                f"stgcn: warning: {_named(name, owners[name])} could not start: "
                f"{type(error).__name__}: "
                f"{first_line(error)}; the run goes on without it",
                file=sys.stderr,
            )
    intervals = {name: plan.step_interval for name, plan in planned.items()}
    return RunLoggers(created, intervals, sent, owners)


def _create(
    plan: PlannedLogger,
    work_dir: Path,
    config: Mapping[str, Any],
    resume: ResumePoint | None,
    sent: SentEvents,
) -> Any:
    """The record's ``create``, called as the record declares."""
    record = plan.record
    if not record.create_with_context:  # plugin API 1.3 and before
        return record.create(work_dir, dict(config))
    context = LoggerContext(
        work_dir=work_dir,
        config=dict(config),
        options=plan.options,
        step_interval=plan.step_interval,
        resuming_from_step=resume.step if resume is not None else None,
        resuming_from_epoch=resume.epoch if resume is not None else None,
        sent_through_step=sent.step,
        sent_through_epoch=sent.epoch,
    )
    return record.create(context)


def _named(name: str, plugin: str) -> str:
    return f"logger {name!r}" + (f" (plugin {plugin})" if plugin else "")
