"""The training loop: :func:`train` runs a :class:`Trainer`.

Read it top to bottom: :meth:`Trainer.setup` (data, model, optimizer, precision, a
resumed checkpoint), :meth:`Trainer.train` (epoch by epoch), :meth:`Trainer.train_epoch`
(step by step, ending in :func:`training_step`), :meth:`Trainer.evaluate`, and the
checkpoints (:meth:`Trainer.save`, :meth:`Trainer.restore`).

Everything device-specific comes from the backend (device, autocast, loss
scaler, synchronisation) and everything data-specific from the dataset, so this
one loop serves every plugin. Each epoch reseeds every generator from
``(seed, epoch)``, and each sample's augmentation from ``(seed, epoch, index)``: a
run resumed from the checkpoint of epoch k, or from a step checkpoint in the middle
of an epoch (``--checkpoint-every``, or SIGTERM/SIGUSR1), goes on exactly as an
uninterrupted run would.

The loop never waits for an accelerator at each step: the loss is summed, and
checked for non-finite values, on the device, and read on the host every
``log_every`` steps, at a step checkpoint and at the end of the epoch.
"""

from __future__ import annotations

import time
from typing import Any, cast

import torch
from torch.utils.data import DataLoader

from stgcn.data.facts import facts_of
from stgcn.errors import StgcnError
from stgcn.loggers import Progress, RunLoggers, open_loggers, say
from stgcn.loggers.events import ResumePoint
from stgcn.model.checkpoint import CLIP_FRAMES_KEY, Checkpoint
from stgcn.model.contract import SkeletonModel, as_module
from stgcn.plugins.registry import Registry, get_registry
from stgcn.training import distributed as dist
from stgcn.training.config import RunConfig
from stgcn.training.evaluation import EvalResult, evaluate
from stgcn.training.loop_parts import (
    DeviceLossSum,
    EpochPlace,
    EpochTotals,
    StepClock,
    TrainResult,
    rank_generators,
    restore_generators,
)
from stgcn.training.preemption.agreement import Agreement
from stgcn.training.preemption.position import EpochPosition, OrderSampler, epoch_order
from stgcn.training.run_control import StopOrCheckpoint
from stgcn.training.runtime import Runtime, start_device
from stgcn.training.session import (
    Session,
    TrainingData,
    base_lr,
    build_data,
    checkpoint_to_resume,
    data_loader,
    learning_rate,
    network_for,
    resolve,
    seed_everything,
    steps_in_epoch,
)
from stgcn.training.step import training_step
from stgcn.training.work_dir import BEST, LATEST, append_metrics, keep_epoch, start_work_dir


def train(config: RunConfig, resume: bool = False, registry: Registry | None = None) -> TrainResult:
    """Train, evaluating every epoch; returns the last metrics and ``best_top1``.

    Runs as one worker of ``world.size``: each rank trains on its share of every
    batch, and rank 0 alone writes the work dir.
    """
    registry = registry or get_registry()
    trainer = Trainer(resolve(config, registry), registry)
    trainer.setup(resume)
    return trainer.train()


class Trainer:
    """One rank's run and everything it holds: the session (plugins, config, world), the
    model, optimizer and precision, the data, where the run stands (epoch, best top-1,
    a step checkpoint's position), the loggers and the last epoch's metrics.

    :meth:`setup` makes them; :meth:`train` runs the epochs.
    """

    def __init__(self, session: Session, registry: Registry) -> None:
        self.session = session
        self.config = session.config
        self.backend = session.backend
        self.world = session.world
        self.registry = registry
        self.start_epoch = 0
        self.best_top1 = -1.0
        #: the frames of a training clip as the model sees them (checkpoints keep it)
        self.clip_frames: int | None = None
        self.resume_position: EpochPosition | None = None
        self.last: dict[str, Any] = {}
        self.loggers = RunLoggers({})
        # made by setup()
        self.runtime: Runtime
        self.optimizer: torch.optim.Optimizer
        self.data: TrainingData
        self.control: StopOrCheckpoint

    def setup(self, resume: bool) -> None:
        """Data, model, optimizer and precision on this rank's device; on a resume, the
        checkpoint's state; rank 0 opens the loggers and the work dir."""
        session, world = self.session, self.world
        state = checkpoint_to_resume(session, resume)
        device = start_device(self.backend, world.local_rank)
        self.data = build_data(session, device)
        dist.join(world, self.backend)
        agreement = Agreement(world)
        # every rank takes part, whether or not its host was told --resume (other hosts may
        # have no work dir): rank 0's answer decides
        state = dist.share_from_main(state, world)
        seed_everything(self.config.seed)
        self.runtime = Runtime.prepare(
            self.backend,
            session.precision,
            as_module(network_for(session, state)),
            device,
            lambda model: dist.wrap_model(model, world, device, self.config.sync_bn),
        )
        self.optimizer = torch.optim.SGD(
            self.runtime.model.parameters(),
            lr=base_lr(self.config, world.size),
            momentum=self.config.momentum,
            nesterov=self.config.nesterov,
            weight_decay=self.config.weight_decay,
        )
        if state is not None:
            self.restore(state)
        self._open_work_dir()
        self.control = StopOrCheckpoint(
            session.work_dir, self.config.checkpoint_every, agreement, self.resume_position
        )

    def restore(self, state: Checkpoint) -> None:
        """Where ``state`` left the run: optimizer, precision (loss scale), epoch, best
        top-1, generators and a step checkpoint's position. (Its weights are loaded
        before the model is prepared and wrapped, by :meth:`setup`.)"""
        if state.optimizer is None or state.rng is None or state.epoch is None:
            raise StgcnError(f"{LATEST} holds no training state to resume from")
        self.optimizer.load_state_dict(state.optimizer)
        self.runtime.precision.load_state_dict(state.precision_state)
        self.start_epoch = state.epoch
        self.best_top1 = state.best_top1 if state.best_top1 is not None else -1.0
        if state.data_facts is not None and state.data_facts.get(CLIP_FRAMES_KEY):
            self.clip_frames = int(state.data_facts[CLIP_FRAMES_KEY])
        restore_generators(state.rng, self.backend, self.runtime.device)
        if state.position:
            self.resume_position = EpochPosition.from_dict(state.position)

    def _open_work_dir(self) -> None:
        """Rank 0: the loggers first (one that cannot start, a missing package, leaves no
        run behind), then config.json and the metrics of the epochs the run keeps."""
        if not self.world.is_main:
            return
        config, work_dir = self.config, self.session.work_dir
        self.loggers = open_loggers(
            config.loggers, work_dir, config.to_dict(), self.registry, self.resume_point()
        )
        start_work_dir(work_dir, config.to_json(), self.start_epoch)
        self.loggers.run_started(config.to_dict())

    def resume_point(self) -> ResumePoint | None:
        """Where a resumed run goes on, in global steps, for its loggers: after
        ``start_epoch`` whole epochs, or at a step checkpoint's position; None for a
        fresh run."""
        position = self.resume_position
        if self.start_epoch == 0 and position is None:
            return None
        if position is not None:
            first = position.step_for(self.world.size, self.config.batch_size)
            epoch = position.epoch
        else:
            first, epoch = 0, self.start_epoch
        return ResumePoint(self.start_epoch, epoch * self.steps_in(self.epoch_order(epoch)) + first)

    def train(self) -> TrainResult:
        """Every remaining epoch; the loggers hear how the run ended, also when it failed."""
        try:
            with self.control.signals:
                for epoch in range(self.start_epoch, self.config.epochs):
                    self.run_epoch(epoch)
        except BaseException as error:
            self.loggers.run_ended({"error": f"{type(error).__name__}: {error}"})
            raise
        result = TrainResult(self.last, self.best_top1, self.session.work_dir)
        self.loggers.run_ended(result.to_dict())
        dist.barrier(self.world)
        dist.leave()
        return result

    def run_epoch(self, epoch: int) -> None:
        """Train ``epoch`` and validate; rank 0 writes its metrics and checkpoints."""
        config, world = self.config, self.world
        if self.control.start_in(epoch) is None:
            seed_everything(config.seed, epoch + 1)
        started = time.perf_counter()
        self.data.train_set.set_epoch(epoch)
        totals = self.train_epoch(epoch)
        summed = dist.sum_across(world, totals.loss_sum, totals.samples)
        total_loss, total_samples = (float(value) for value in summed)
        dist.broadcast_buffers(self.runtime.model, world)
        result = self.evaluate(epoch)
        self.last = {
            "epoch": epoch + 1,
            "lr": self.optimizer.param_groups[0]["lr"],
            "train_loss": total_loss / max(total_samples, 1),
            "val_loss": result.loss,
            "val_top1": result.top1,
            "val_top5": result.top5,
            "val_mean_class_accuracy": result.mean_class_accuracy,
            "samples_per_s": total_samples / totals.seconds if totals.seconds > 0 else 0.0,
            "step_seconds": totals.seconds / max(totals.steps, 1),
            "epoch_seconds": time.perf_counter() - started,
            "world_size": world.size,
            "backend": self.backend.name,
            "precision": self.session.precision,
        }
        improved = result.top1 > self.best_top1
        self.best_top1 = max(self.best_top1, result.top1)
        if world.is_main:
            self._record(epoch + 1, improved)
        self.control.checkpointed()
        if epoch + 1 < config.epochs and self.control.stop_requested():
            raise self.control.stopped(f"after epoch {epoch + 1}")

    def train_epoch(self, epoch: int) -> EpochTotals:
        """This rank's share of ``epoch``, step by step. From a step checkpoint the epoch
        goes on at its step, without reading the batches before it."""
        config, world, runtime = self.config, self.world, self.runtime
        device, precision = runtime.device, runtime.precision
        runtime.model.train()
        order = self.epoch_order(epoch)
        steps = self.steps_in(order)
        first, clock, watch = self.control.epoch_start(epoch, self.session, device)
        loader = self.train_loader(epoch, order[first * config.batch_size :])
        progress = Progress(steps, f"epoch {epoch + 1}/{config.epochs}", enabled=world.is_main)
        progress.done = first
        clock.restart()
        for step, (x, y) in enumerate(loader, start=first):
            lr = self._set_lr(epoch + step / max(steps, 1))
            x, y = self.data.on_device((x, y), device, config.data_options)
            self.clip_frames = int(x.shape[2])  # (batch, channels, frames, joints, persons)
            loss = training_step(
                runtime.model, x, y, self.optimizer, precision, config.label_smoothing
            )
            watch.add(loss, int(y.shape[0]), step + 1, precision.step_overflowed())
            clock.lap(int(y.shape[0]))
            global_step = epoch * steps + step + 1
            logged = self.loggers.wants_step(global_step)
            shown: dict[str, str] = {}
            due = global_step % config.log_every == 0
            if due or logged or progress.shows_next():  # the interval's one read of the device
                watch.read_total()  # a non-finite loss so far ends the run here
                shown = self._log_step(global_step, loss.item(), lr, clock, logged)
            progress.update(**shown)
            stop, due = self.control.after_step(global_step)
            if (stop or due) and step + 1 < steps:
                self.save_position(EpochPlace(epoch, step + 1, steps), watch, clock)
                if stop:
                    progress.close()
                    raise self.control.stopped(f"at epoch {epoch + 1}, step {step + 1} of {steps}")
            clock.restart()  # a checkpoint's writing is not training time
        progress.close()
        total = watch.read_total()
        runtime.synchronize()
        return EpochTotals(total, clock.samples, clock.seconds, steps)

    @property
    def fills_batches(self) -> bool:
        """Whether the training set fills a batch on every rank (then partial batches drop)."""
        return len(self.data.train_set) >= self.config.batch_size * self.world.size

    def epoch_order(self, epoch: int) -> list[int]:
        """This rank's training order in ``epoch``: shuffled from ``(seed, epoch)``, shared
        between ranks as DistributedSampler shares it."""
        world = self.world
        return epoch_order(
            len(self.data.train_set),
            world.rank,
            world.size,
            self.config.seed,
            epoch,
            self.fills_batches,
        )

    def steps_in(self, order: list[int]) -> int:
        """An epoch's steps over ``order``: partial batches drop where every rank fills one."""
        return steps_in_epoch(len(order), self.config.batch_size, self.fills_batches)

    def train_loader(self, epoch: int, order: list[int]) -> DataLoader[Any]:
        """``epoch``'s training batches in ``order`` (the rest of :meth:`epoch_order`
        from a position on)."""
        sampler = OrderSampler(order)
        return data_loader(self.session, self.data.train_set, sampler, self.fills_batches, epoch)

    def val_loader(self, epoch: int) -> DataLoader[Any]:
        """The validation split in order; several ranks split it without padding, so each
        sample counts once."""
        world = self.world
        val_set = self.data.val_set
        sampler = dist.StridedSampler(val_set, world) if world.distributed else None
        return data_loader(self.session, val_set, sampler, False, epoch)

    def _set_lr(self, progress: float) -> float:
        """The schedule's lr at ``progress`` epochs, set on every parameter group."""
        lr = learning_rate(self.config, progress, self.world.size)
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        return lr

    def _log_step(
        self, global_step: int, loss: float, lr: float, clock: StepClock, logged: bool
    ) -> dict[str, str]:
        """The progress line's figures; with ``logged`` (a step some logger's interval
        asks for) the loggers get them too."""
        rate = clock.samples_per_second(self.world.size)
        if self.loggers and logged:
            scalars = {"train/loss": loss, "train/lr": lr, "train/samples_per_s": rate}
            self.loggers.step(global_step, scalars)
        return {"loss": f"{loss:.3f}", "lr": f"{lr:.4g}", "sps": f"{rate:.1f}"}

    def evaluate(self, epoch: int) -> EvalResult:
        """The validation split, each rank its share, reduced over every rank."""
        return evaluate(
            self.runtime.with_model(dist.unwrap(self.runtime.model)),
            self.val_loader(epoch),
            self.session.dataset.num_class,
            self.world,
            transform=self.data.modality_transform,
        )

    def _record(self, epoch: int, improved: bool) -> None:
        """Rank 0, after ``epoch`` epochs: the metrics line, the loggers, the checkpoints
        and the epoch's line on the terminal."""
        last = self.last
        append_metrics(self.session.work_dir, last)
        self.loggers.epoch_ended(epoch, last)
        self.save(epoch, improved)
        say(
            f"epoch {epoch}/{self.config.epochs}  loss {last['train_loss']:.4f}  "
            f"val top1 {last['val_top1']:.4f}  top5 {last['val_top5']:.4f}  "
            f"{last['samples_per_s']:.1f} samples/s"
        )

    def checkpoint(self, epoch: int) -> Checkpoint:
        """The run as it stands after ``epoch`` epochs."""
        inner = cast(SkeletonModel, dist.unwrap(self.runtime.model))  # built by session
        dataset = self.session.dataset
        return Checkpoint(
            weights=as_module(inner).state_dict(),
            model_config=inner.config(),
            model_name=self.session.model.name,
            run_config=self.config.to_dict(),
            dataset=dataset.name,
            data_facts=self.data_facts(),
            class_names=list(dataset.class_names or []),
            optimizer=self.optimizer.state_dict(),
            precision_state=self.runtime.precision.state_dict(),
            rng=rank_generators(self.backend, self.runtime.device),
            epoch=epoch,
            best_top1=self.best_top1,
        )

    def data_facts(self) -> dict[str, Any]:
        """The dataset's facts and the clip length trained on, for the checkpoint."""
        facts = facts_of(self.session.dataset)
        if self.clip_frames is not None:
            facts[CLIP_FRAMES_KEY] = self.clip_frames
        return facts

    def save(self, epoch: int, improved: bool) -> None:
        """Rank 0, at the end of an epoch: latest (the file it replaces kept beside it),
        best where the epoch improved on it, and ``epoch-NNNN`` with ``--keep``."""
        folder, checkpoint = self.session.checkpoints, self.checkpoint(epoch)
        if improved:
            checkpoint.write(folder / BEST)
            self.loggers.checkpoint_saved(folder / BEST, epoch, True)
        checkpoint.write(folder / LATEST, keep_previous=True)
        self.loggers.checkpoint_saved(folder / LATEST, epoch, False)
        if self.config.keep:
            keep_epoch(folder, epoch, self.config.keep)

    def save_position(self, place: EpochPlace, watch: DeviceLossSum, clock: StepClock) -> None:
        """A step checkpoint: every rank adds its partial sums and generators, rank 0 writes."""
        world = self.world
        loss_sum, total_samples = dist.sum_across(world, watch.read_total(), clock.samples)
        rng = self.control.agreement.gather(rank_generators(self.backend, self.runtime.device))
        if world.is_main:
            position = EpochPosition(
                epoch=place.epoch,
                step=place.step,
                steps=place.steps,
                loss_sum=float(loss_sum),
                samples=int(total_samples),
                seconds=clock.seconds,
                world_size=world.size,
                batch_size=self.config.batch_size,
                rng=rng,
            )
            checkpoint = self.checkpoint(place.epoch).at(position.to_dict())
            checkpoint.write(self.session.checkpoints / LATEST, keep_previous=True)
        self.control.checkpointed()
        dist.barrier(world)
