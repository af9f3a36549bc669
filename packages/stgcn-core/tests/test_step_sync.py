"""The training loop never waits for the device at each step (issue: no per-step host
synchronisation on accelerators).

A spy backend (the cpu backend, counting ``synchronize``) trains real epochs, and every
way a tensor's value can reach the host (``item``, ``bool``, ``float``, ``int``,
``tolist``, ``numpy``, ``cpu``) is counted while the training part of the epoch runs.
On an accelerator each of these waits for the device's queue. The counts must not grow
with the number of steps, and must grow with the steps when ``log_every`` asks for a
read every other step. The progress display reads too, when it will show a line (every
10 % of an epoch, or a terminal bar's redraw every 2 s): with 9 steps that would be every
step, so these runs are ``--quiet``, and the progress interval is tested on its own.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from stgcn.backends.cpu import CPUBackend
from stgcn.errors import StgcnError
from stgcn.plugins.kinds import BACKENDS
from stgcn.plugins.registry import get_registry
from stgcn.training import trainer
from stgcn.training.config import RunConfig

READS = ("item", "__bool__", "__float__", "__int__", "__index__", "tolist", "numpy", "cpu")


class SpyBackend(CPUBackend):
    """The cpu backend under another name, counting the loop's synchronisations."""

    name = "spy"

    def __init__(self) -> None:
        super().__init__()
        # shared with the copy that each run makes of the registered backend (for_run)
        self.counts = {"synchronize": 0}

    @property
    def synchronizations(self) -> int:
        return self.counts["synchronize"]

    def synchronize(self) -> None:
        self.counts["synchronize"] += 1


def _counted_epoch(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, steps: int, log_every: int):
    monkeypatch.setenv("STGCN_QUIET", "1")
    spy = SpyBackend()
    registry = get_registry()
    registry = registry.with_table(BACKENDS, {**registry.table(BACKENDS), "spy": spy})
    reads = {"count": 0}
    counting = {"on": False}
    for name in READS:
        original = getattr(torch.Tensor, name)

        def counted(self, *args, _original=original, **kwargs):
            if counting["on"]:
                reads["count"] += 1
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(torch.Tensor, name, counted)
    epoch = trainer.Trainer.train_epoch

    def watched(*args, **kwargs):
        counting["on"] = True
        syncs_before = spy.synchronizations
        try:
            return epoch(*args, **kwargs)
        finally:
            counting["on"] = False
            watched.syncs = spy.synchronizations - syncs_before

    monkeypatch.setattr(trainer.Trainer, "train_epoch", watched)
    config = RunConfig(
        backend="spy",
        precision="fp32",
        epochs=1,
        batch_size=4,
        log_every=log_every,
        data_options={"train_size": 4 * steps, "val_size": 4, "frames": 8},
        work_dir=str(tmp_path / f"run-{steps}-{log_every}"),
    )
    trainer.train(config, registry=registry)
    return reads["count"], watched.syncs


def test_the_loop_reads_the_device_per_interval_not_per_step(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    few = _counted_epoch(monkeypatch, tmp_path, steps=3, log_every=1000)
    many = _counted_epoch(monkeypatch, tmp_path, steps=9, log_every=1000)
    assert many == few, f"3 steps: {few}, 9 steps: {many} (host reads, synchronisations)"
    assert few[1] <= 1  # at most one, at the end of the epoch
    # a read every other step is what log_every=2 asks for: the counting sees it
    interval = _counted_epoch(monkeypatch, tmp_path, steps=9, log_every=2)
    assert interval[0] >= few[0] + 4


def test_a_non_finite_loss_names_its_step_and_reaches_no_checkpoint(tmp_path: Path) -> None:
    """The check is on the device; its read at the end of the epoch still names the step
    where the loss first became non-finite, and no checkpoint holds the poisoned weights."""
    work = tmp_path / "run"
    config = RunConfig(
        backend="cpu",
        precision="fp32",
        epochs=1,
        batch_size=4,
        lr=1e30,
        log_every=1000,
        data_options={"train_size": 24, "val_size": 4, "frames": 8},
        work_dir=str(work),
    )
    with pytest.raises(StgcnError, match=r"^the loss became (nan|inf|-inf) at epoch 1, step \d; "):
        trainer.train(config)
    assert not (work / "checkpoints").exists()


def test_the_progress_display_reads_at_its_own_interval(monkeypatch: pytest.MonkeyPatch) -> None:
    """Plain lines every 10 % of the epoch: of 20 steps, every other one asks for a value."""
    monkeypatch.delenv("STGCN_QUIET", raising=False)
    from stgcn.loggers.progress import Progress

    progress = Progress(20, "epoch 1/1")
    progress.plain, progress.bar = True, None
    wanted = []
    for _ in range(20):
        wanted.append(progress.shows_next())
        progress.update()
    assert sum(wanted) == 10 and wanted[1] and not wanted[0]
