"""Multi-card training with real gloo processes on the cpu."""

from __future__ import annotations

import json
import os
import socket
import time
from pathlib import Path

import pytest
import torch
import torch.multiprocessing as mp
from dist_helpers import model_and_data, one_step_grads, rank_main

from stgcn.backends.cpu import CPUBackend
from stgcn.backends.precision import Precision
from stgcn.errors import StgcnError
from stgcn.testing.helpers import TINY, make_distribution, run_stgcn, start_stgcn
from stgcn.training.config import RunConfig
from stgcn.training.distributed import StridedSampler, World, wrap_model
from stgcn.training.evaluation import evaluate
from stgcn.training.runtime import Runtime
from stgcn.training.session import base_lr

#: two launchers on this machine stand for two hosts: each gets half of its cores, as a
#: host has its own (two workers of all the cores each spin waiting for each other: the
#: two-host tests took 47 s on 2 cores, 31 s with a share each)
HOST_SHARE = {"OMP_NUM_THREADS": str(max(1, (os.cpu_count() or 1) // 2))}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_two_cards_give_the_gradients_of_one_card_with_twice_the_batch(tmp_path: Path) -> None:
    per_card = 4
    mp.spawn(rank_main, args=(2, free_port(), per_card, 33, str(tmp_path)), nprocs=2, join=True)
    ranks = [torch.load(tmp_path / f"rank{r}.pt", weights_only=False) for r in (0, 1)]
    assert not set(ranks[0]["indices"]) & set(ranks[1]["indices"])

    model, train, val = model_and_data(per_card, 33)
    indices = ranks[0]["indices"] + ranks[1]["indices"]
    x = torch.stack([train[i][0] for i in indices])
    y = torch.tensor([train[i][1] for i in indices])
    expected = one_step_grads(model, x, y)
    for name, grad in expected.items():
        for rank in ranks:
            torch.testing.assert_close(rank["grads"][name], grad, rtol=1e-4, atol=1e-6)

    # validation: 33 samples over 2 ranks, each counted once, the same result as one card
    loader = torch.utils.data.DataLoader(val, batch_size=4)
    fp32 = Precision.for_backend(CPUBackend(), "fp32")
    single = evaluate(Runtime(torch.device("cpu"), model, fp32), loader, 10)
    assert single.samples == 33
    for rank in ranks:
        assert rank["eval"]["samples"] == 33
        assert rank["eval"]["top1"] == pytest.approx(single.top1)
        assert rank["eval"]["top5"] == pytest.approx(single.top5)
        assert rank["eval"]["loss"] == pytest.approx(single.loss, rel=1e-5)


def test_validation_shards_cover_every_sample_once() -> None:
    data = list(range(33))
    shards = [list(StridedSampler(data, World(rank=r, size=4))) for r in range(4)]
    assert sorted(i for shard in shards for i in shard) == data
    assert [len(shard) for shard in shards] == [9, 8, 8, 8]


def test_two_card_run_trains_and_rank_zero_alone_writes(tmp_path: Path) -> None:
    work = tmp_path / "run"
    result = run_stgcn(
        "run",
        *TINY,
        "--batch-size",
        "4",
        "--cards",
        "2",
        "--epochs",
        "6",
        "--lr",
        "0.02",
        "--warmup-epochs",
        "0",
        "--work-dir",
        str(work),
    )
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in (work / "metrics.jsonl").read_text().splitlines()]
    assert [line["epoch"] for line in lines] == [1, 2, 3, 4, 5, 6]
    assert {line["world_size"] for line in lines} == {2}
    losses = [line["train_loss"] for line in lines]
    assert min(losses[-3:]) < losses[0] - 0.3, losses  # it learns
    state = torch.load(work / "checkpoints" / "latest.pth.tar", weights_only=True)
    assert not [key for key in state["model"] if key.startswith("module.")]
    assert json.loads((work / "config.json").read_text())["cards"] == 2


FAILING_PLUGIN = """
import dataclasses, os
from pathlib import Path
from stgcn.errors import StgcnError
from stgcn.hookspecs import hookimpl
from stgcn.data.synthetic_plugin import SYNTHETIC, build

class Failing:
    '''Rank 1 fails at its first training sample, or (FAIL_MODE "once") only before
    the first restart and once a checkpoint exists.'''
    def __init__(self, data, split):
        self.data, self.split = data, split
    def __len__(self):
        return len(self.data)
    def __getitem__(self, index):
        if self.split == "train" and os.environ.get("RANK") == "1":
            mode = os.environ.get("FAIL_MODE", "always")
            restarts = int(os.environ.get("TORCHELASTIC_RESTART_COUNT", "0"))
            checkpoint = Path(os.environ["FAIL_WORK"], "checkpoints", "latest.pth.tar")
            if mode == "always":
                raise StgcnError(f"broken sample {index}")
            if mode == "once" and restarts == 0 and checkpoint.exists():
                raise StgcnError("a one-off failure")
        return self.data[index]

@hookimpl
def stgcn_register_datasets(register):
    register(dataclasses.replace(
        SYNTHETIC, name="failing",
        build=lambda split, path, options: Failing(build(split, path, options), split),
    ))
"""


def test_a_failing_rank_ends_the_job_with_its_error(site, tmp_path: Path) -> None:
    make_distribution(site, "fake-failing", "0.1", "fake_failing", FAILING_PLUGIN)
    work = tmp_path / "run"
    started = time.monotonic()
    result = run_stgcn(
        "run",
        "--dataset",
        "failing",
        *TINY,
        "--cards",
        "2",
        "--epochs",
        "50",
        "--work-dir",
        str(work),
        site=site,
        env={"FAIL_WORK": str(work)},
        timeout=300,
    )
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert lines[-1].startswith("stgcn: error: rank 1 failed: broken sample "), result.stderr
    assert "Traceback" not in result.stderr
    assert not (work / "checkpoints").exists()
    # a hang would reach the timeout; a prompt end takes seconds beyond start-up
    assert time.monotonic() - started < 240


BUGGY_PLUGIN = """
import dataclasses
from stgcn.hookspecs import hookimpl
from stgcn.data.synthetic_plugin import SYNTHETIC, build

class Buggy:
    '''A plugin author's bug: a plain KeyError from every training sample.'''
    def __init__(self, data, split):
        self.data, self.split = data, split
    def __len__(self):
        return len(self.data)
    def __getitem__(self, index):
        if self.split == "train":
            return {}["frames_total"]
        return self.data[index]

@hookimpl
def stgcn_register_datasets(register):
    register(dataclasses.replace(
        SYNTHETIC, name="buggy",
        build=lambda split, path, options: Buggy(build(split, path, options), split),
    ))
"""


@pytest.mark.parametrize(
    "spread", [[], ["--workers", "2"], ["--cards", "2"]], ids=["main", "workers", "ranks"]
)
def test_a_plugin_bug_in_getitem_is_one_line_naming_the_plugin(
    site, tmp_path: Path, spread: list[str]
) -> None:
    make_distribution(site, "stgcn-buggy", "0.1", "fake_buggy", BUGGY_PLUGIN)
    args = ["run", "--dataset", "buggy", *TINY, "--epochs", "1", *spread]
    result = run_stgcn(*args, "--work-dir", str(tmp_path / "run"), site=site, timeout=300)
    assert result.returncode == 1
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("stgcn: error: "), line
    assert "dataset 'buggy' (plugin stgcn-buggy) failed in __getitem__(" in line
    assert line.endswith("KeyError: 'frames_total'; --debug shows the traceback")
    if spread[:1] == ["--workers"]:  # the worker's traceback under --debug
        debug = run_stgcn("--debug", *args, "--work-dir", str(tmp_path / "b"), site=site)
        assert debug.returncode != 0
        assert "Traceback" in debug.stderr and 'return {}["frames_total"]' in debug.stderr


def test_a_restarted_job_resumes_from_its_last_checkpoint(site, tmp_path: Path) -> None:
    make_distribution(site, "fake-failing", "0.1", "fake_failing", FAILING_PLUGIN)
    work = tmp_path / "run"
    result = run_stgcn(
        "run",
        "--dataset",
        "failing",
        *TINY,
        "--cards",
        "2",
        "--epochs",
        "2",
        "--max-restarts",
        "1",
        "--work-dir",
        str(work),
        site=site,
        env={"FAIL_WORK": str(work), "FAIL_MODE": "once"},
    )
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in (work / "metrics.jsonl").read_text().splitlines()]
    assert [line["epoch"] for line in lines] == [1, 2]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--cards", "999"], "--cards 999: backend 'cpu' has"),
        (["--cards", "2", "--nnodes", "2"], "--nnodes above 1 needs --rdzv-endpoint"),
        (["--cards", "2", "--nnodes", "two"], "--nnodes expects N or MIN:MAX"),
        (["--lr-scaling", "square"], "Invalid value for '--lr-scaling'"),
    ],
)
def test_multi_card_mistakes_are_one_line(tmp_path: Path, args: list[str], message: str) -> None:
    result = run_stgcn("run", *args, "--work-dir", str(tmp_path / "w"))
    assert result.returncode != 0
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert message in result.stderr
    assert not (tmp_path / "w").exists()


def test_sync_bn_is_refused_on_the_cpu() -> None:
    with pytest.raises(StgcnError, match="--sync-bn needs an accelerator"):
        wrap_model(torch.nn.BatchNorm1d(3), World(size=2), torch.device("cpu"), sync_bn=True)


def test_linear_lr_scaling_follows_the_total_batch() -> None:
    config = RunConfig(lr=0.1, batch_size=64, lr_scaling="linear", lr_reference_batch=256)
    assert base_lr(config, world_size=8) == pytest.approx(0.2)
    assert base_lr(RunConfig(lr=0.1, batch_size=64, lr_scaling="linear"), 8) == pytest.approx(0.8)
    assert base_lr(RunConfig(lr=0.1, batch_size=64), 8) == pytest.approx(0.1)


@pytest.mark.parametrize(
    ("work_dirs", "rendezvous"),
    [("shared", "static"), ("one per host", "static"), ("one per host", "c10d")],
)
def test_two_hosts_meet_at_the_rendezvous_endpoint(
    tmp_path: Path, work_dirs: str, rendezvous: str
) -> None:
    """Two launchers on this machine stand for two hosts of one card each; on clusters
    each host often has its own local work dir, and they must meet all the same, with
    node ranks (static) or without (c10d)."""
    work = tmp_path / "run"
    endpoint = f"127.0.0.1:{free_port()}"
    common = ["run", *TINY, "--epochs", "1", "--cards", "1", "--nnodes", "2"]
    common += ["--rdzv-endpoint", endpoint]
    own = work_dirs == "one per host"
    hosts = [
        start_stgcn(
            *common,
            *(["--node-rank", str(rank)] if rendezvous == "static" else []),
            "--work-dir",
            str(tmp_path / f"host{rank}" if own and rank else work),
            env=HOST_SHARE,
        )
        for rank in (0, 1)
    ]
    for host in hosts:
        assert host.wait(timeout=300) == 0, host.stderr.read()
    lines = [json.loads(line) for line in (work / "metrics.jsonl").read_text().splitlines()]
    assert [(line["epoch"], line["world_size"]) for line in lines] == [(1, 2)]


def test_sum_across_sends_only_dtypes_every_collective_reduces(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """HCCL refuses float64 and bool in all_reduce (gloo and NCCL take them): counts go as
    int64, floats as float32 pairs that keep far more than float32's precision. The
    collective is a spy here that acts as two ranks holding the same values."""
    from stgcn.training import distributed

    sent: list[torch.dtype] = []

    def all_reduce(tensor: torch.Tensor) -> None:
        sent.append(tensor.dtype)
        tensor.mul_(2)

    monkeypatch.setattr(distributed.dist, "all_reduce", all_reduce)
    monkeypatch.setattr(distributed, "_collective_device", lambda: torch.device("cpu"))
    loss, hits, flags, parts = distributed.sum_across(
        World(size=2),
        0.1,
        3,
        torch.tensor([True, False]),
        torch.tensor([1.5, 1e-9 + 1], dtype=torch.float64),
    )
    assert set(sent) <= {torch.int64, torch.float32} and len(sent) == 2
    assert abs(float(loss) - 0.2) < 1e-15 and float(hits) == 6.0
    assert flags.tolist() == [2.0, 0.0]
    assert parts.tolist() == pytest.approx([3.0, 2e-9 + 2], rel=1e-14, abs=0)
    assert {t.dtype for t in (loss, hits, flags, parts)} == {torch.float64}


@pytest.mark.parametrize("node_rank", [None, "0"])
def test_a_rendezvous_that_cannot_complete_ends_in_one_line(tmp_path: Path, node_rank) -> None:
    """One host of two: within the timeout (c10d, and static with --node-rank)."""
    args = ["run", *TINY, "--epochs", "1", "--nnodes", "2", "--rdzv-timeout", "5"]
    args += ["--rdzv-endpoint", f"127.0.0.1:{free_port()}", "--work-dir", str(tmp_path / "r")]
    started = time.monotonic()
    done = run_stgcn(*args, *(["--node-rank", node_rank] if node_rank else []), timeout=120)
    assert done.returncode != 0 and time.monotonic() - started < 90
    *waiting, last = done.stderr.strip().splitlines()
    host = socket.gethostname()
    if node_rank is None:
        who = f"present {host}; awaited 1 more host"
    else:
        who = f"present node 0 ({host}); awaited node 1"
    assert last.startswith("stgcn: error: waited 5 s (--rdzv-timeout) for 2 hosts at the "), last
    assert who in last
    # while it waited, it said so, with the same roll
    assert waiting and all(line.startswith("stgcn: waiting ") for line in waiting), waiting
    assert who in waiting[0]


def test_a_host_that_cannot_reach_the_endpoint_says_so(tmp_path: Path) -> None:
    """Node 1 with no node 0 serving the endpoint: waiting lines, then one error line."""
    args = ["run", *TINY, "--epochs", "1", "--nnodes", "2", "--rdzv-timeout", "5"]
    args += ["--rdzv-endpoint", f"127.0.0.1:{free_port()}", "--node-rank", "1"]
    done = run_stgcn(*args, "--work-dir", str(tmp_path / "r"), timeout=120)
    assert done.returncode == 1
    *waiting, last = done.stderr.strip().splitlines()
    assert last.startswith("stgcn: error: waited 5 s (--rdzv-timeout) for 2 hosts"), last
    assert "nothing answered there" in last
    assert all(line.startswith("stgcn: waiting ") for line in waiting), waiting


def _descendants(pid: int) -> list[int]:
    children = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                children.append(int(entry.name))
    return children + [grand for child in children for grand in _descendants(child)]


def _workers(launcher: int) -> list[int]:
    """The launcher's worker processes, oldest first: the agent starts local rank 0
    first (their RANK is set inside each process, so /proc cannot tell it)."""
    found = []
    for pid in _descendants(launcher):
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
        except OSError:
            continue
        if b"multiprocessing" in command and b"multiprocessing.resource_tracker" not in command:
            found.append(pid)
    return sorted(found)


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
def test_a_worker_killed_by_a_signal_is_named_not_the_survivor(tmp_path: Path) -> None:
    """kill -9 of rank 1: the one line blames rank 1 and its signal, not rank 0's broken
    connection, and nothing from torch's loggers comes with it."""
    import signal

    work = tmp_path / "run"
    job = start_stgcn("run", *TINY, "--epochs", "500", "--cards", "2", "--work-dir", str(work))
    deadline = time.monotonic() + 120
    workers: list[int] = []
    while time.monotonic() < deadline and job.poll() is None:
        time.sleep(0.5)
        if (work / "config.json").exists():  # rank 0 has started training
            workers = _workers(job.pid)
            break
    assert len(workers) == 2, f"workers: {workers}"
    time.sleep(1.0)
    os.kill(workers[1], signal.SIGKILL)
    assert job.wait(timeout=120) != 0
    lines = [line for line in job.stderr.read().splitlines() if line.strip()]
    assert lines[-1] == "stgcn: error: rank 1 was killed by signal 9 (SIGKILL)"
    assert not any("Terminating process" in line or "GLHF" in line for line in lines), lines


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
@pytest.mark.parametrize("killed", [1, 0])
def test_a_host_that_vanishes_is_named_by_the_one_left(tmp_path: Path, killed: int) -> None:
    """Two launchers stand for two hosts; kill -9 of one (node 1, or node 0, which serves
    the rendezvous store) takes its worker with it, and the survivor's one line names the
    host that went away, not its own rank's broken connection."""
    import signal

    endpoint = f"127.0.0.1:{free_port()}"
    common = ["run", *TINY, "--epochs", "500", "--nnodes", "2", "--rdzv-endpoint", endpoint]
    hosts = [
        start_stgcn(
            *common,
            "--node-rank",
            str(rank),
            "--work-dir",
            str(tmp_path / f"h{rank}"),
            env=HOST_SHARE,
        )
        for rank in (0, 1)
    ]
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not (tmp_path / "h0" / "config.json").exists():
        assert all(host.poll() is None for host in hosts), hosts[0].stderr.read()
        time.sleep(0.5)
    time.sleep(2.0)  # both are training
    workers = _workers(hosts[killed].pid)
    assert len(workers) == 1, workers
    hosts[killed].send_signal(signal.SIGKILL)
    survivor = hosts[1 - killed]
    assert survivor.wait(timeout=120) == 1
    lines = [line for line in survivor.stderr.read().splitlines() if line.strip()]
    expected = (
        f"stgcn: error: lost host node {killed} ({socket.gethostname()}): rank {1 - killed}'s"
    )
    assert lines[-1].startswith(expected), lines[-1]
    deadline = time.monotonic() + 30  # the killed launcher's worker ended with it
    while time.monotonic() < deadline and _alive(workers[0]):
        time.sleep(0.2)
    assert not _alive(workers[0]), "the killed launcher's worker trains on as an orphan"


def _alive(pid: int) -> bool:
    """Running (a zombie, reaped by nobody in a container, has an empty command line)."""
    try:
        return bool(Path(f"/proc/{pid}/cmdline").read_bytes())
    except OSError:
        return False
