"""Handing the training events to the run's loggers, so that none can stop the run.

A logger that raises is reported in one warning line, once, and switched off: an
experiment tracker that loses its connection must not cost the training it records.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from stgcn.errors import StgcnError, first_line
from stgcn.plugins.registry import Registry

EVENTS = ("run_started", "step", "epoch_ended", "checkpoint_saved", "run_ended")


class RunLoggers:
    """The loggers of one run, by name; each event goes to every logger still on."""

    def __init__(self, loggers: Mapping[str, Any], owners: Mapping[str, str] | None = None) -> None:
        self.loggers = dict(loggers)
        #: the distribution that registered each logger, named in its warning
        self.owners = dict(owners or {})

    def __bool__(self) -> bool:
        return bool(self.loggers)

    def emit(self, event: str, *args: Any) -> None:
        for name, logger in list(self.loggers.items()):
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

    def run_started(self, config: Mapping[str, Any]) -> None:
        self.emit("run_started", dict(config))

    def step(self, step: int, scalars: Mapping[str, float]) -> None:
        self.emit("step", step, dict(scalars))

    def epoch_ended(self, epoch: int, metrics: Mapping[str, Any]) -> None:
        self.emit("epoch_ended", epoch, dict(metrics))

    def checkpoint_saved(self, path: Path, epoch: int, best: bool) -> None:
        self.emit("checkpoint_saved", Path(path), epoch, best)

    def run_ended(self, summary: Mapping[str, Any]) -> None:
        self.emit("run_ended", dict(summary))


def check_loggers(names: Iterable[str], registry: Registry) -> None:
    """Every name is a registered logger (one line naming the unknown one otherwise)."""
    for name in names:
        registry.logger(name)


def open_loggers(
    names: Iterable[str],
    work_dir: Path,
    config: Mapping[str, Any],
    registry: Registry,
) -> RunLoggers:
    """Create each named logger for this run; a StgcnError (a missing package) stops the
    run before its first step, any other failure only switches that logger off."""
    created = {}
    owners = {}
    for name in names:
        record = registry.logger(name)
        owner = registry.owner_of("loggers", name)
        owners[name] = owner.distribution if owner is not None else ""
        try:
            created[name] = record.create(Path(work_dir), dict(config))
        except StgcnError:
            raise
        except Exception as error:
            print(
                f"stgcn: warning: {_named(name, owners[name])} could not start: "
                f"{type(error).__name__}: "
                f"{first_line(error)}; the run goes on without it",
                file=sys.stderr,
            )
    return RunLoggers(created, owners)


def _named(name: str, plugin: str) -> str:
    return f"logger {name!r}" + (f" (plugin {plugin})" if plugin else "")
