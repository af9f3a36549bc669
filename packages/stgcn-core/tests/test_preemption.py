"""Runs stopped by SIGTERM or SIGUSR1, or killed after a step checkpoint, and resumed:
they end with the weights of an uninterrupted run, on one card and on two gloo cards.

The signal comes from a test logger plugin at a chosen training step (loggers see every
step with ``--log-every 1``), sent to the worker itself or to the launcher above it; a
test dataset plugin writes down every sample it reads, so that the test can tell that a
resumed run skipped the batches already trained on without reading them.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
import torch

from stgcn.testing.helpers import TINY, make_distribution, run_stgcn
from stgcn.training.preemption.position import epoch_order
from stgcn.training.preemption.schedule import CheckpointEvery
from stgcn.training.preemption.signals import EXIT_PREEMPTED

PLUGIN = """
import dataclasses
import os

from stgcn.data.synthetic_plugin import SYNTHETIC, build as synthetic_build
from stgcn.hookspecs import hookimpl
from stgcn.records import Logger
from stgcn.testing.stopper import Stopper


class Logged:
    '''A synthetic split that writes "SPLIT INDEX" for every sample it reads.'''

    def __init__(self, split, inner):
        self.split, self.inner = split, inner

    def __len__(self):
        return len(self.inner)

    def __getitem__(self, index):
        path = os.environ.get("STGCN_TEST_READS")
        if path:
            with open(path, "a") as stream:
                stream.write(f"{self.split} {index}\\n")
        return self.inner[index]


def build(request):
    return Logged(request.split, synthetic_build(request))


@hookimpl
def stgcn_register_datasets(register):
    register(dataclasses.replace(SYNTHETIC, name="logged", build=build))


@hookimpl
def stgcn_register_loggers(register):
    register(Logger(name="stopper", create=lambda context: Stopper()))
"""

SEED = 5
#: dropout draws from the worker's generators, random_scale from each sample's; fp32, as the
#: exactness is promised for (a CPU with native bf16 would otherwise default to bf16)
ARGS = [
    *TINY,
    "--dataset",
    "logged",
    "--seed",
    str(SEED),
    "--dropout",
    "0.2",
    "--precision",
    "fp32",
    "--data-option",
    "random_scale=0.2",
    "--log-every",
    "1",
]
TRAIN_SIZE, BATCH = 32, 8


def _install_stopper(site: Path) -> Path:
    """The stopping logger plugin, installed into ``site``."""
    make_distribution(site, "fake-stopping", "0.1", "fake_stopping", PLUGIN)
    return site


@pytest.fixture
def plugin(site: Path) -> Path:
    return _install_stopper(site)


def _weights(work: Path) -> dict[str, torch.Tensor]:
    return torch.load(work / "checkpoints" / "latest.pth.tar", weights_only=True)["model"]


def _assert_same_weights(actual: Path, expected: Path) -> None:
    mine, theirs = _weights(actual), _weights(expected)
    assert mine.keys() == theirs.keys()
    for key, value in theirs.items():
        torch.testing.assert_close(mine[key], value, rtol=1e-6, atol=0, msg=key)


def _epochs_logged(work: Path) -> list[int]:
    lines = (work / "metrics.jsonl").read_text().splitlines()
    return [json.loads(line)["epoch"] for line in lines]


def _train_reads(path: Path) -> list[int]:
    lines = path.read_text().split("\n") if path.exists() else []
    return [int(line.split()[1]) for line in lines if line.startswith("train ")]


def test_sigterm_mid_epoch_then_resume_matches_the_uninterrupted_run(
    plugin: Path, tmp_path: Path
) -> None:
    epochs, steps = 2, TRAIN_SIZE // BATCH
    straight = tmp_path / "straight"
    done = run_stgcn(
        "run", *ARGS, "--epochs", str(epochs), "--work-dir", str(straight), site=plugin
    )
    assert done.returncode == 0, done.stderr
    # any step but an epoch's last (that one ends the epoch first; tested on two cards)
    at = random.choice([s for s in range(1, epochs * steps) if s % steps])
    epoch, step = divmod(at, steps)
    stopped = tmp_path / "stopped"
    result = run_stgcn(
        "run",
        *ARGS,
        "--epochs",
        str(epochs),
        "--work-dir",
        str(stopped),
        "--logger",
        "stopper",
        site=plugin,
        env={"STGCN_TEST_STOP": f"{at}:SIGTERM:self"},
    )
    assert result.returncode == EXIT_PREEMPTED, (at, result.stderr)
    assert result.stderr.strip().splitlines()[-1] == (
        f"stgcn: stopped by SIGTERM at epoch {epoch + 1}, step {step} of {steps}; saved "
        f"{stopped / 'checkpoints' / 'latest.pth.tar'}; continue with: "
        f"stgcn run --resume --work-dir {stopped}"
    )
    saved = torch.load(stopped / "checkpoints" / "latest.pth.tar", weights_only=True)
    assert (saved["epoch"], saved["position"]["step"]) == (epoch, step)
    assert _epochs_logged(stopped) == list(range(1, epoch + 1))

    reads = tmp_path / "reads.txt"
    resumed = run_stgcn(
        "run",
        "--resume",
        "--work-dir",
        str(stopped),
        site=plugin,
        env={"STGCN_TEST_READS": str(reads)},
    )
    assert resumed.returncode == 0, (at, resumed.stderr)
    _assert_same_weights(stopped, straight)
    assert _epochs_logged(stopped) == list(range(1, epochs + 1))
    # the batches trained on before the stop were skipped, not read
    order = epoch_order(TRAIN_SIZE, 0, 1, SEED, epoch, drop_last=True)
    left = order[step * BATCH :]
    assert _train_reads(reads)[: len(left)] == left
    assert len(_train_reads(reads)) == len(left) + (epochs - epoch - 1) * TRAIN_SIZE


def test_kill_after_a_step_checkpoint_resumes_from_that_step(plugin: Path, tmp_path: Path) -> None:
    """--checkpoint-every 3 over 4-step epochs: SIGKILL at step 7 finds latest written at
    step 6 (epoch 2, step 2), and the job requeued (the same command, with Slurm's
    restart count) resumes from there exactly. With two loader
    workers: which worker reads a batch shifts when a resume skips batches, so only
    per-sample seeding keeps the augmentation the same."""
    args = [*ARGS, "--epochs", "2", "--workers", "2"]
    straight = tmp_path / "straight"
    assert run_stgcn("run", *args, "--work-dir", str(straight), site=plugin).returncode == 0
    killed = tmp_path / "killed"
    result = run_stgcn(
        "run",
        *args,
        "--work-dir",
        str(killed),
        "--checkpoint-every",
        "3",
        "--logger",
        "stopper",
        site=plugin,
        env={"STGCN_TEST_STOP": "7:SIGKILL:self"},
    )
    assert result.returncode == -9, result.stderr
    saved = torch.load(killed / "checkpoints" / "latest.pth.tar", weights_only=True)
    assert (saved["epoch"], saved["position"]["step"]) == (1, 2)
    # requeued by Slurm: the same command again, which resumes without --resume
    requeued = run_stgcn(
        "run",
        *args,
        "--work-dir",
        str(killed),
        "--checkpoint-every",
        "3",
        site=plugin,
        env={"SLURM_RESTART_COUNT": "1"},
    )
    assert requeued.returncode == 0, requeued.stderr
    _assert_same_weights(killed, straight)
    assert _epochs_logged(killed) == [1, 2]


def test_a_stopped_group_under_max_restarts_continues_from_its_step(
    plugin: Path, tmp_path: Path
) -> None:
    """torch's agent restarts the group whose workers exited 75 after SIGTERM; the
    restarted group resumes from the step checkpoint and the run ends exact."""
    args = [*ARGS, "--epochs", "2", "--cards", "2"]
    straight = tmp_path / "straight"
    assert run_stgcn("run", *args, "--work-dir", str(straight), site=plugin).returncode == 0
    restarted = tmp_path / "restarted"
    result = run_stgcn(
        "run",
        *args,
        "--work-dir",
        str(restarted),
        "--max-restarts",
        "1",
        "--logger",
        "stopper",
        site=plugin,
        env={"STGCN_TEST_STOP": "1:SIGTERM:self"},
    )
    assert result.returncode == 0, result.stderr
    _assert_same_weights(restarted, straight)
    assert _epochs_logged(restarted) == [1, 2]


#: the two-card runs that are stopped and resumed
TWO_CARDS = [*ARGS, "--epochs", "3", "--cards", "2"]


@pytest.fixture(scope="module")
def two_cards_straight(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The uninterrupted two-card run that every stopped one must end equal to: made once
    for the module (a two-card launch of three epochs is seconds of the serial session)."""
    site = _install_stopper(tmp_path_factory.mktemp("site"))
    straight = tmp_path_factory.mktemp("two-cards") / "straight"
    done = run_stgcn("run", *TWO_CARDS, "--work-dir", str(straight), site=site)
    assert done.returncode == 0, done.stderr
    return straight


@pytest.mark.parametrize("target", ["self", "parent"])
def test_two_cards_stop_at_one_step_and_resume_exactly(
    plugin: Path, tmp_path: Path, target: str, two_cards_straight: Path
) -> None:
    """``self``: only rank 0 gets SIGUSR1, and rank 1 stops with it at the same step;
    ``parent``: the launcher gets SIGTERM and passes it on to both workers."""
    args, straight = TWO_CARDS, two_cards_straight
    steps = TRAIN_SIZE // (2 * BATCH)
    name = "SIGUSR1" if target == "self" else "SIGTERM"
    at = random.choice(range(1, 2 * steps + 1))
    stopped = tmp_path / "stopped"
    result = run_stgcn(
        "run",
        *args,
        "--work-dir",
        str(stopped),
        "--logger",
        "stopper",
        site=plugin,
        env={"STGCN_TEST_STOP": f"{at}:{name}:{target}"},
    )
    assert result.returncode == EXIT_PREEMPTED, (at, result.stderr)
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith(f"stgcn: stopped by {name} "), (at, result.stderr)
    assert "Traceback" not in result.stderr
    resumed = run_stgcn("run", "--resume", "--work-dir", str(stopped), site=plugin)
    assert resumed.returncode == 0, (at, resumed.stderr)
    _assert_same_weights(stopped, straight)
    assert _epochs_logged(stopped) == [1, 2, 3]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("500", CheckpointEvery(steps=500)),
        ("20steps", CheckpointEvery(steps=20)),
        ("10m", CheckpointEvery(seconds=600.0)),
        ("1.5min", CheckpointEvery(seconds=90.0)),
        ("90s", CheckpointEvery(seconds=90.0)),
        (None, CheckpointEvery()),
    ],
)
def test_checkpoint_every_reads_steps_or_minutes(text: str | None, expected) -> None:
    assert CheckpointEvery.parse(text) == expected


@pytest.mark.parametrize("text", ["ten", "-3", "2.5", "5h"])
def test_a_bad_checkpoint_every_is_one_line(tmp_path: Path, text: str) -> None:
    result = run_stgcn("run", *TINY, "--work-dir", str(tmp_path / "w"), "--checkpoint-every", text)
    assert result.returncode == 1
    assert result.stderr.startswith("stgcn: error: options: checkpoint_every"), result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "w").exists()
