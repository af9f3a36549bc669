"""Starting the workers of a multi-card or multi-node run with torch's elastic agent.

This is the engine behind torchrun: it spawns one worker per card, gives each its
RANK/LOCAL_RANK/WORLD_SIZE, runs the rendezvous between hosts, stops every worker
as soon as one fails, and restarts the whole group up to ``max_restarts`` times. A
restarted worker resumes from the run's last checkpoint. Started by torchrun or a
cluster launcher instead, ``stgcn run`` is already a worker and trains directly.
"""

from __future__ import annotations

import hashlib
import logging
import os
import signal
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from stgcn.errors import StgcnError, first_line
from stgcn.loggers.progress import quiet
from stgcn.training.config import RunConfig
from stgcn.training.distributed import launched_externally
from stgcn.training.hosts.lost import lost_host_line
from stgcn.training.hosts.rollcall import roll_call, this_host
from stgcn.training.preemption.signals import EXIT_PREEMPTED, Preempted

if TYPE_CHECKING:
    from stgcn.training.loop_parts import TrainResult

ERROR_DIR_VARIABLE = "STGCN_ERROR_DIR"
LAUNCHER_VARIABLE = "STGCN_LAUNCHER_PID"
#: seconds the workers have to finish their step and save after SIGTERM or SIGUSR1
STOP_GRACE_SECONDS = int(os.environ.get("STGCN_STOP_GRACE", "120"))


@dataclass(frozen=True)
class Topology:
    """Where the workers run: cards per host, hosts, and how the hosts find each other."""

    cards: int = 1
    nnodes: str = "1"
    node_rank: int | None = None
    rdzv_endpoint: str | None = None
    rdzv_backend: str | None = None
    max_restarts: int = 0
    #: names the job at the rendezvous; by default derived from the endpoint alone, so
    #: that hosts whose work dirs differ (one local path each) still meet
    run_id: str | None = None
    #: seconds the hosts may take to meet before the launch gives up, in one line
    rdzv_timeout: int = 600

    def node_range(self) -> tuple[int, int]:
        """``--nnodes 2`` or, for an elastic job, ``--nnodes 1:4``."""
        low, _, high = self.nnodes.partition(":")
        try:
            nodes = (int(low), int(high or low))
        except ValueError:
            raise StgcnError(f"--nnodes expects N or MIN:MAX, got {self.nnodes!r}") from None
        if not 1 <= nodes[0] <= nodes[1]:
            raise StgcnError(f"--nnodes expects 1 <= MIN <= MAX, got {self.nnodes!r}")
        return nodes

    @property
    def single_process(self) -> bool:
        return self.cards == 1 and self.node_range() == (1, 1) and self.max_restarts == 0


def run_training(config: RunConfig, resume: bool, topology: Topology) -> TrainResult:
    """Train in this process, or start the workers and wait for them."""
    from stgcn.training.session import resolve
    from stgcn.training.trainer import train
    from stgcn.training.work_dir import refuse_existing_run

    if launched_externally() or topology.single_process:
        return train(config, resume)
    if topology.max_restarts < 0:
        raise StgcnError("--max-restarts must not be negative")
    # check everything a user can get wrong before any process starts
    session = resolve(config)
    # `stgcn run --resume` has found the run's config.json; other hosts have no work dir
    if not resume and topology.node_rank in (None, 0):
        refuse_existing_run(session.work_dir)
    return _launch(session.config, resume, topology)


def _launch(config: RunConfig, resume: bool, topology: Topology) -> TrainResult:
    from torch.distributed.elastic.multiprocessing.api import SignalException
    from torch.distributed.elastic.multiprocessing.errors import ChildFailedError
    from torch.distributed.launcher.api import LaunchConfig, elastic_launch

    if os.environ.get("STGCN_DEBUG") != "1":
        _quiet_torch_loggers()
    min_nodes, max_nodes = topology.node_range()
    multi_node = max_nodes > 1
    if multi_node and not topology.rdzv_endpoint:
        raise StgcnError("--nnodes above 1 needs --rdzv-endpoint HOST:PORT, the same on every host")
    static = multi_node and topology.node_rank is not None
    rdzv_backend = topology.rdzv_backend or ("static" if static else "c10d")
    if topology.rdzv_timeout < 1:
        raise StgcnError("--rdzv-timeout must be at least 1 second")
    rdzv_configs: dict[str, Any] = (
        {"rank": topology.node_rank, "timeout": topology.rdzv_timeout}
        if static
        else {"join_timeout": topology.rdzv_timeout}
    )
    # one host: a free port chosen by the rendezvous itself (several: given, checked above)
    endpoint = topology.rdzv_endpoint if multi_node and topology.rdzv_endpoint else "127.0.0.1:0"
    run_id = _run_id(topology, endpoint)
    me = this_host(topology.node_rank if static else None)
    meeting = None
    if multi_node and min_nodes == max_nodes and rdzv_backend in ("static", "c10d"):
        # who is present and who is awaited, said while waiting; kept open for torch's
        # rendezvous, which reuses its server (an elastic range has no fixed roll)
        meeting = roll_call(
            endpoint,
            min_nodes,
            me.node_rank,
            topology.rdzv_timeout,
            run_id,
            _silent if quiet() else None,
        )
    with tempfile.TemporaryDirectory(prefix="stgcn-errors-") as errors:
        launch = LaunchConfig(
            min_nodes=min_nodes,
            max_nodes=max_nodes,
            nproc_per_node=topology.cards,
            run_id=run_id,
            rdzv_backend=rdzv_backend,
            rdzv_endpoint=endpoint,
            rdzv_configs=rdzv_configs,
            max_restarts=topology.max_restarts,
            monitor_interval=0.1,
            start_method="spawn",
            # the agent passes SIGTERM and SIGUSR1 on to the workers, which finish their
            # step and save; it waits this long before it kills them
            signals_to_handle="SIGTERM,SIGINT,SIGHUP,SIGQUIT,SIGUSR1",
            shutdown_timeout=STOP_GRACE_SECONDS,
        )
        os.environ[ERROR_DIR_VARIABLE] = errors
        os.environ[LAUNCHER_VARIABLE] = str(os.getpid())
        try:
            results = elastic_launch(launch, worker)(config.to_dict(), resume)
        except ChildFailedError as failure:
            _raise_if_preempted(Path(errors))
            line = _failure_line(failure, Path(errors))
            raise StgcnError(lost_host_line(line, meeting, me) or line) from None
        except SignalException as stopped:
            _raise_if_preempted(Path(errors))
            raise StgcnError(
                f"stopped by {signal.Signals(stopped.sigval).name} before the workers saved"
            ) from None
        except Exception as error:
            if multi_node and _is_rendezvous_failure(error):
                detail = first_line(error)[:160]
                why = type(error).__name__ + (
                    f": {detail}" if detail != type(error).__name__ else ""
                )
                raise StgcnError(
                    f"waited {topology.rdzv_timeout} s (--rdzv-timeout) for {min_nodes} hosts at "
                    f"the rendezvous {endpoint} and they did not all come; start every host with "
                    f"the same --nnodes and --rdzv-endpoint ({why})"
                ) from error
            raise
        finally:
            os.environ.pop(ERROR_DIR_VARIABLE, None)
            os.environ.pop(LAUNCHER_VARIABLE, None)
    # rank 0's summary; on another host's launcher, any local worker's (they agree)
    return results.get(0) or next(iter(results.values()))


def _silent(line: str) -> None:
    """``--quiet``: no waiting lines (errors still come)."""


def _raise_if_preempted(errors: Path) -> None:
    """Workers that stopped at a signal and saved: rank 0's line, and its exit status."""
    stopped = sorted(errors.glob("preempted-rank-*.txt"))
    if stopped:
        first = next((p for p in stopped if p.name == "preempted-rank-0.txt"), stopped[0])
        raise Preempted(first.read_text(encoding="utf-8").strip())


def _is_rendezvous_failure(error: BaseException) -> bool:
    """A timeout or refusal while the hosts were meeting (c10d's RendezvousError, the
    static rendezvous's store timing out)."""
    from torch.distributed import DistError
    from torch.distributed.elastic.rendezvous import RendezvousError

    return isinstance(error, RendezvousError | DistError | TimeoutError)


def _quiet_torch_loggers() -> None:
    """torch's elastic modules give each logger its own level (WARNING), so quieting
    their parent is not enough: "Terminating process" and its kind would reach the
    user beside stgcn's one line."""
    import torch.multiprocessing.spawn  # noqa: F401  (its logger says "Terminating process")

    # a worker killed mid-run leaves semaphores that multiprocessing's resource tracker,
    # a process of its own started with this interpreter's -W options, warns about
    quiet = "ignore:resource_tracker:UserWarning"
    if quiet not in sys.warnoptions:
        sys.warnoptions.append(quiet)

    for name in ["torch.distributed", *logging.root.manager.loggerDict]:
        if name.startswith(("torch.distributed", "torch.multiprocessing")):
            logging.getLogger(name).setLevel(logging.CRITICAL)


def _run_id(topology: Topology, endpoint: str) -> str:
    """The same on every host, so their agents find each other: ``--run-id``, else
    ``STGCN_RUN_ID``, else one derived from the endpoint, which every host is given
    alike (a work dir, by contrast, is often a different local path on each host)."""
    given = topology.run_id or os.environ.get("STGCN_RUN_ID")
    if given:
        return given
    return f"stgcn-{hashlib.sha1(endpoint.encode()).hexdigest()[:12]}"


def worker(config_values: dict[str, Any], resume: bool) -> TrainResult:
    """One rank's training, as the elastic agent runs it in a fresh process.

    A failure leaves its one-line message for the launcher and exits non-zero; the
    agent then stops the other ranks, so nothing waits forever in a collective.
    """
    from stgcn.training.trainer import train

    rank = os.environ.get("RANK", "?")
    _die_with_launcher()
    try:
        config = RunConfig.parse(config_values, "run")
        # a restarted group continues from the last checkpoint (or starts over if none)
        restarted = int(os.environ.get("TORCHELASTIC_RESTART_COUNT", "0")) > 0
        return train(config, resume or restarted)
    except Preempted as stopped:  # saved: the launcher says so and exits the same way
        folder = os.environ.get(ERROR_DIR_VARIABLE)
        if folder:
            (Path(folder) / f"preempted-rank-{rank}.txt").write_text(str(stopped), "utf-8")
        else:
            print(f"stgcn: {first_line(stopped)}", file=sys.stderr, flush=True)
        sys.exit(EXIT_PREEMPTED)
    except BaseException as error:  # every failure must reach the launcher
        message = "interrupted" if isinstance(error, KeyboardInterrupt) else first_line(error)
        folder = os.environ.get(ERROR_DIR_VARIABLE)
        if folder:  # the launcher prints it
            attempt = int(os.environ.get("TORCHELASTIC_RESTART_COUNT", "0"))
            name = f"attempt-{attempt:03d}-rank-{rank}.txt"
            (Path(folder) / name).write_text(message, encoding="utf-8")
        if os.environ.get("STGCN_DEBUG") == "1":
            raise
        if not folder:
            print(f"stgcn: error: rank {rank}: {message}", file=sys.stderr, flush=True)
        sys.exit(1)


def _die_with_launcher() -> None:
    """Ask the kernel to end this worker if its launcher dies (Linux's parent-death
    signal). A launcher killed with SIGKILL cannot stop its workers, and a worker left
    behind would train on as an orphan while its peers wait; ended with it, its peers'
    connections break at once and their launchers name the host that went away."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.environ.get(LAUNCHER_VARIABLE) not in (None, str(os.getppid())):
        os._exit(1)  # the launcher died before the request was made


def _failure_line(failure: Any, errors: Path) -> str:
    """The rank that failed first and how: a worker killed by a signal (other than the
    SIGTERM the agent sends to stop the rest) is the cause, whatever the survivors
    wrote about their broken connections; else the first rank's own message."""

    def by_signal(process: Any) -> bool:
        code = process.exitcode
        return code is not None and code < 0 and -code != signal.SIGTERM

    failures = sorted(getattr(failure, "failures", {}).items())
    killed = [(rank, process) for rank, process in failures if by_signal(process)]
    if killed:
        rank, process = min(killed, key=lambda item: item[1].timestamp)
        number = -process.exitcode
        try:
            name = f" ({signal.Signals(number).name})"
        except ValueError:
            name = ""
        return f"rank {rank} was killed by signal {number}{name}"
    written = sorted(errors.glob("attempt-*.txt"))
    if written:
        last_attempt = [p for p in written if p.name[:11] == written[-1].name[:11]]
        first = min(last_attempt, key=lambda path: path.stat().st_mtime)
        rank = first.stem.rpartition("-rank-")[2]
        return f"rank {rank} failed: {first.read_text(encoding='utf-8').strip()}"
    rank, process = failure.get_first_failure()
    code = process.exitcode
    how = f"signal {-code}" if code < 0 else f"exit code {code}"
    return f"rank {rank} failed ({how}); run with --debug for its traceback"
