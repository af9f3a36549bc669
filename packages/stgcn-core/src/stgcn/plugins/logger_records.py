"""A logger plugin's record (:class:`Logger`), what its ``create`` may be told
(:class:`LoggerContext`) and what it returns (:class:`RunLogger`); re-exported by
:mod:`stgcn.plugins.records` and :mod:`stgcn.records`, where plugins import them."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from stgcn.plugins.settings import Settings


@runtime_checkable
class RunLogger(Protocol):
    """One run's record keeper: what a :class:`Logger` creates for a run. The trainer
    calls these on rank 0 only, in this order; a method that raises switches the logger
    off for the rest of the run (reported once), never stopping the run."""

    def run_started(self, config: Mapping[str, Any]) -> None:
        """The resolved configuration (``config.json``), before the first step."""
        ...

    def step(self, step: int, scalars: Mapping[str, float]) -> None:
        """Every ``--log-every`` steps: ``train/loss``, ``train/lr``,
        ``train/samples_per_s`` at the global step ``step`` (counted from 1)."""
        ...

    def epoch_ended(self, epoch: int, metrics: Mapping[str, Any]) -> None:
        """The epoch's line of ``metrics.jsonl``, once it is written."""
        ...

    def checkpoint_saved(self, path: Path, epoch: int, best: bool) -> None: ...

    def run_ended(self, summary: Mapping[str, Any]) -> None:
        """The last metrics and ``best_top1``; also after a failure (``summary["error"]``),
        so that files are flushed and closed."""
        ...


@dataclass(frozen=True)
class LoggerContext:
    """What a logger is told about the run it records: what a :class:`Logger`'s
    ``create`` gets (plugin API 2.0). New fields come with defaults, so a logger reading
    the ones it knows keeps working.

    ``create`` must not write files: it runs before the work dir exists, and a logger
    that cannot start (a missing package) stops the run without leaving anything
    behind. Open files, servers' runs and the like in ``run_started``.
    """

    #: the run's work dir (it may not exist yet while ``create`` runs)
    work_dir: Path
    #: the resolved configuration, as ``config.json`` holds it
    config: Mapping[str, Any]
    #: the ``--logger NAME:KEY=VALUE`` options: an instance of the record's ``settings``
    #: family, or (a record without one, which takes no options) an empty mapping
    options: Any
    #: the steps between the ``step`` events this logger gets
    step_interval: int
    #: the global step the run goes on after, when it resumes from a checkpoint (after
    #: ``resuming_from_epoch`` whole epochs); None for a fresh run
    resuming_from_step: int | None = None
    resuming_from_epoch: int | None = None
    #: the last global step and epoch whose ``step`` and ``epoch_ended`` events an earlier
    #: process of this run sent to its loggers (0 where none): the core does not send
    #: them again, although the resumed run trains those steps once more
    sent_through_step: int = 0
    sent_through_epoch: int = 0

    @property
    def resuming(self) -> bool:
        """Whether the run goes on from a checkpoint (``stgcn run --resume``)."""
        return self.resuming_from_step is not None


@dataclass(frozen=True)
class Logger:
    """Records runs somewhere (TensorBoard, an experiment tracker), chosen with
    ``stgcn run --logger NAME`` (``--logger NAME:KEY=VALUE`` for each option).

    ``create(context)`` returns a :class:`RunLogger` for one run (it may leave out any
    of the methods: the events it lacks are not sent to it), given a
    :class:`LoggerContext`: the run's facts, whether it resumes, and its options parsed
    by ``settings``. Raise StgcnError there for what the user can fix (a missing
    package), before training starts. It must not write files (see
    :class:`LoggerContext`).
    """

    name: str
    #: returns a :class:`RunLogger`, or an object with only some of its methods
    create: Callable[[LoggerContext], RunLogger | object]
    description: str = ""
    #: the :class:`~stgcn.plugins.settings.Settings` family of the logger's
    #: ``--logger NAME:KEY=VALUE`` options; None: it takes none
    settings: type[Settings] | None = None
    #: the steps between this logger's ``step`` events, where it wants its own interval
    #: rather than ``--log-every``; the user's ``--logger NAME:every=N`` wins over both
    step_interval: int | None = None
