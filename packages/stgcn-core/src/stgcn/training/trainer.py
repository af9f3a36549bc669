"""The training loop.

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

import json
import math
import os
import random
import shutil
import sys
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, cast

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader

from stgcn.backends.precision import Precision
from stgcn.data.collate import StackClips
from stgcn.data.facts import CHECKPOINT_KEY, describe, facts_of
from stgcn.data.streams import Stream, build_split, split_options
from stgcn.data.streams.augment import Augmentation
from stgcn.errors import StgcnError
from stgcn.loggers import Progress, RunLoggers, open_loggers, say
from stgcn.loggers.events import check_loggers
from stgcn.model import checkpoint as ckpt
from stgcn.model.loading import strip_prefix
from stgcn.model.network import STGCN
from stgcn.plugins.records import AugmentBatch, Dataset, RunBackend
from stgcn.plugins.registry import Registry, get_registry
from stgcn.training import distributed as dist
from stgcn.training.config import RunConfig
from stgcn.training.distributed import World
from stgcn.training.evaluation import evaluate
from stgcn.training.preemption.agreement import Agreement
from stgcn.training.preemption.position import (
    EpochPosition,
    OrderSampler,
    SeededSamples,
    epoch_order,
)
from stgcn.training.preemption.schedule import CheckpointEvery
from stgcn.training.preemption.signals import Preempted, StopSignals

LATEST = "latest.pth.tar"
BEST = "best.pth.tar"


@dataclass
class Session:
    """The resolved parts of a run: which plugins, which precision, where to write."""

    config: RunConfig
    backend: RunBackend
    dataset: Dataset
    precision: str
    work_dir: Path
    data_path: Path | None
    world: World

    @property
    def checkpoints(self) -> Path:
        return self.work_dir / "checkpoints"


def resolve(config: RunConfig, registry: Registry | None = None) -> Session:
    """Check the backend, dataset and precision before anything is written."""
    registry = registry or get_registry()
    backend, precision = registry.ready_backend(
        config.backend, config.precision, {k: str(v) for k, v in config.backend_options.items()}
    )
    dataset = registry.dataset(config.dataset)
    # the core's own data options, checked before anything starts
    _, own_options = split_options(config.data_options)
    data_path = dataset.data_path_for(config.data_path)
    dataset = describe(dataset, data_path, own_options)
    Augmentation.from_options(config.data_options, dataset.in_channels, dataset.score_channel)
    check_loggers(config.loggers, registry)
    if config.weights and not Path(config.weights).is_file():
        raise StgcnError(f"weights file not found: {config.weights}")
    devices = backend.device_count()
    if config.cards > devices:
        raise StgcnError(
            f"--cards {config.cards}: backend {backend.name!r} has {devices} device(s) on this host"
        )
    work_dir = Path(config.work_dir or default_work_dir())
    resolved = config.updated(
        {"backend": backend.name, "precision": precision, "work_dir": str(work_dir)}, "run"
    )
    return Session(resolved, backend, dataset, precision, work_dir, data_path, World.from_env())


def default_work_dir() -> Path:
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    path = Path("runs") / stamp
    suffix = 1
    while path.exists():
        suffix += 1
        path = Path("runs") / f"{stamp}-{suffix}"
    return path


def seed_everything(seed: int, epoch: int = 0) -> None:
    value = (seed * 1_000_003 + epoch) % (2**31)
    random.seed(value)
    np.random.seed(value)
    torch.manual_seed(value)


def _seed_worker(worker_id: int) -> None:
    np.random.seed(torch.initial_seed() % (2**32))


def base_lr(config: RunConfig, world_size: int = 1) -> float:
    """``--lr``, or with ``--lr-scaling linear`` that lr times the total batch over the
    batch it was tuned for (``--lr-reference-batch``, by default one card's batch)."""
    if config.lr_scaling == "linear":
        reference = config.lr_reference_batch or config.batch_size
        return config.lr * config.batch_size * world_size / reference
    return config.lr


def learning_rate(config: RunConfig, progress: float, world_size: int = 1) -> float:
    """The lr at ``progress`` epochs into training (fractional within an epoch)."""
    lr = base_lr(config, world_size)
    if config.warmup_epochs and progress < config.warmup_epochs:
        return lr * (progress + 1e-3) / config.warmup_epochs
    if config.lr_schedule == "cosine":
        span = max(config.epochs - config.warmup_epochs, 1e-9)
        done = (progress - config.warmup_epochs) / span
        return lr * 0.5 * (1.0 + math.cos(math.pi * min(done, 1.0)))
    drops = sum(1 for step in config.steps if int(progress) >= step)
    return lr * config.gamma**drops


def build_model(session: Session) -> STGCN:
    dataset = session.dataset
    model = STGCN(
        dataset.num_class,
        layout=dataset.layout,
        strategy=dataset.strategy,
        in_channels=dataset.in_channels,
        dropout=session.config.dropout,
    )
    if session.config.init != "reference":
        model.reset_parameters(session.config.init)
    return model


def initialise_from(model: STGCN, path: str) -> list[str]:
    """Copy every tensor whose name and shape fit; return the names left out.

    Fine-tuning from a model trained on other classes keeps everything but ``fcn``.
    """
    obj = ckpt.safe_load(path)
    state = obj["model"] if ckpt.is_stgcn_checkpoint(obj) else obj
    if not isinstance(state, dict):
        raise StgcnError(f"{path} holds neither a stgcn checkpoint nor a state_dict")
    state = strip_prefix(state)
    own = model.state_dict()
    fitting = {k: v for k, v in state.items() if k in own and own[k].shape == v.shape}
    if not fitting:
        raise StgcnError(f"no tensor in {path} fits this model")
    model.load_state_dict(fitting, strict=False)
    return sorted(set(own) - set(fitting))


def _loader(
    dataset: Any, session: Session, train: bool, epoch: int, order: list[int] | None = None
) -> DataLoader[Any]:
    """One epoch's batches for this rank: ``order`` for training (the rest of
    :func:`_epoch_order` from a position on), in order for validation.

    Several ranks split the validation set without padding, so each sample counts once.
    """
    config, world = session.config, session.world
    generator = torch.Generator().manual_seed(config.seed * 7919 + epoch + 1)
    sampler: Any = None
    if train:
        sampler = OrderSampler(order or [])
    elif world.distributed:
        sampler = dist.StridedSampler(dataset, world)
    return DataLoader(
        dataset,
        batch_size=config.batch_size,
        sampler=sampler,
        drop_last=train and _full(dataset, session),
        num_workers=config.workers,
        worker_init_fn=_seed_worker,
        generator=generator,
        pin_memory=session.backend.pin_memory,
        collate_fn=StackClips(session.dataset.name),
    )


def _full(dataset: Any, session: Session) -> bool:
    """Whether the training set fills a batch on every rank (then partial batches drop)."""
    return len(dataset) >= session.config.batch_size * session.world.size


def _epoch_order(dataset: Any, session: Session, epoch: int) -> list[int]:
    """This rank's training order in ``epoch``: shuffled from ``(seed, epoch)``, shared
    between ranks as DistributedSampler shares it."""
    world = session.world
    return epoch_order(
        len(dataset), world.rank, world.size, session.config.seed, epoch, _full(dataset, session)
    )


def _read_metrics(path: Path, before_epoch: int) -> list[str]:
    """Lines of metrics.jsonl for epochs already checkpointed (drops a torn last line)."""
    if not path.exists():
        return []
    kept = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(record, dict) and record.get("epoch", 0) <= before_epoch:
            kept.append(line)
    return kept


def refuse_existing_run(work_dir: Path) -> None:
    """A new run never writes over an old one's checkpoints or metrics."""
    if (work_dir / "checkpoints" / LATEST).exists() or (work_dir / "metrics.jsonl").exists():
        raise StgcnError(
            f"{work_dir} already holds a run; resume it with --resume or choose another --work-dir"
        )


def _check_work_dir(session: Session, resume: bool) -> dict[str, Any] | None:
    latest = session.checkpoints / LATEST
    if not session.world.is_main:
        return None  # rank 0 reads and checks, and shares what it read
    if resume:
        found = latest.exists() or ckpt.previous_of(latest).exists()
        return ckpt.load_latest(latest) if found else None
    refuse_existing_run(session.work_dir)
    return None


def train(
    config: RunConfig, resume: bool = False, registry: Registry | None = None
) -> dict[str, Any]:
    """Train, evaluating every epoch; returns the last metrics line plus ``best_top1``.

    Runs as one worker of ``world.size``: each rank trains on its share of every
    batch, and rank 0 alone writes the work dir.
    """
    registry = registry or get_registry()
    session = resolve(config, registry)
    config, backend, world = session.config, session.backend, session.world
    state = _check_work_dir(session, resume)
    device = backend.setup(world.local_rank)
    dataset = session.dataset
    train_options = dict(config.data_options)
    if device_augmentation(session, device) is not None:
        train_options.update(dataset.batch_augment_options)
    on_device = device.type != "cpu"  # accelerators convert whole batches to the stream
    train_set, stream = build_split(dataset, "train", session.data_path, train_options, on_device)
    train_set = SeededSamples(train_set, config.seed)
    val_set, _ = build_split(dataset, "val", session.data_path, config.data_options, on_device)
    batch_stream = stream if on_device and not stream.identity else None
    dist.join(world, backend)
    agreement = Agreement(world)
    # every rank takes part, whether or not its host was told --resume (other hosts may
    # have no work dir): rank 0's answer decides
    state = dist.share_from_main(state, world)
    seed_everything(config.seed)
    network = build_model(session)
    if config.weights and state is None:
        skipped = initialise_from(network, config.weights)
        if skipped and world.is_main:
            print(f"stgcn: initialised from {config.weights}; kept fresh: {', '.join(skipped)}")
    if state is not None:
        network.load_state_dict(state["model"])
    network.to(device)
    model = backend.prepare_model(network, session.precision)
    model = dist.wrap_model(model, world, device, config.sync_bn)
    optimizer = torch.optim.SGD(
        model.parameters(),
        lr=base_lr(config, world.size),
        momentum=config.momentum,
        nesterov=config.nesterov,
        weight_decay=config.weight_decay,
    )
    precision = Precision.for_backend(backend, session.precision)

    start_epoch, best_top1 = 0, -1.0
    if state is not None:
        optimizer.load_state_dict(state["optimizer"])
        precision.load_state_dict(state.get("scaler"))
        start_epoch, best_top1 = int(state["epoch"]), float(state["best_top1"])
        ckpt.set_rng_state(state["rng"])

    metrics_path = session.work_dir / "metrics.jsonl"
    loggers = RunLoggers({})
    if world.is_main:
        # loggers first: one that cannot start (a missing package) leaves no run behind
        loggers = open_loggers(config.loggers, session.work_dir, config.to_dict(), registry)
        session.work_dir.mkdir(parents=True, exist_ok=True)
        ckpt.atomic_write_text(config.to_json(), session.work_dir / "config.json")
        kept = _read_metrics(metrics_path, start_epoch)
        ckpt.atomic_write_text("".join(line + "\n" for line in kept), metrics_path)
        loggers.run_started(config.to_dict())
    position = None
    if state is not None and state.get("position"):
        position = EpochPosition.from_dict(state["position"])
    control = _Control(session, agreement, position)
    try:
        with control.signals:
            last, best_top1 = _epochs(
                session,
                model,
                optimizer,
                precision,
                train_set,
                val_set,
                device,
                batch_stream,
                start_epoch,
                best_top1,
                loggers,
                control,
            )
    except BaseException as error:
        loggers.run_ended({"error": f"{type(error).__name__}: {error}"})
        raise
    summary = {**last, "best_top1": best_top1, "work_dir": str(session.work_dir)}
    loggers.run_ended(summary)
    dist.barrier(world)
    dist.leave()
    return summary


class _Control:
    """What may end or checkpoint an epoch between two steps: a stop signal, the
    ``--checkpoint-every`` schedule, and (on a resume) the position to start from."""

    def __init__(self, session: Session, agreement: Agreement, start: EpochPosition | None):
        self.session = session
        self.agreement = agreement
        self.signals = StopSignals()
        self.schedule = CheckpointEvery.parse(session.config.checkpoint_every)
        self.start = start
        self.last_checkpoint = time.monotonic()

    def after_step(self, global_step: int) -> tuple[bool, bool]:
        """(stop, checkpoint) after ``global_step``, agreed by every rank."""
        due = self.schedule.due(global_step, time.monotonic() - self.last_checkpoint)
        return self.agreement.decide(self.signals.received is not None, due)

    def stop_requested(self) -> bool:
        return self.agreement.decide(self.signals.received is not None, False)[0]

    def stopped(self, where: str) -> Preempted:
        work_dir = self.session.work_dir
        why = self.signals.name or "a signal to another rank"
        return Preempted(
            f"stopped by {why} {where}; saved {self.session.checkpoints / LATEST}; "
            f"continue with: stgcn run --resume --work-dir {work_dir}"
        )


def _epochs(
    session: Session,
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    precision: Precision,
    train_set: SeededSamples,
    val_set: Any,
    device: torch.device,
    batch_stream: Stream | None,
    start_epoch: int,
    best_top1: float,
    loggers: RunLoggers,
    control: _Control,
) -> tuple[dict[str, Any], float]:
    """Train and validate each remaining epoch; rank 0 writes metrics and checkpoints."""
    config, backend, world = session.config, session.backend, session.world
    metrics_path = session.work_dir / "metrics.jsonl"
    last: dict[str, Any] = {}

    def save_step(position: EpochPosition) -> None:
        payload = _checkpoint(session, model, optimizer, precision, position.epoch, best_top1)
        payload["position"] = position.to_dict()
        ckpt.atomic_save(payload, session.checkpoints / LATEST, keep_previous=True)

    for epoch in range(start_epoch, config.epochs):
        start = control.start if control.start and control.start.epoch == epoch else None
        if start is None:
            seed_everything(config.seed, epoch + 1)
        started = time.perf_counter()
        train_set.set_epoch(epoch)
        loss_sum, samples, train_seconds, steps = _train_epoch(
            session,
            model,
            optimizer,
            precision,
            train_set,
            epoch,
            device,
            batch_stream,
            loggers,
            control,
            start,
            save_step,
        )
        total_loss, total_samples = (float(v) for v in dist.sum_across(world, loss_sum, samples))
        dist.broadcast_buffers(model, world)
        result = evaluate(
            dist.unwrap(model),
            _loader(val_set, session, False, epoch),
            device,
            precision,
            session.dataset.num_class,
            world,
            transform=batch_stream,
        )
        last = {
            "epoch": epoch + 1,
            "lr": optimizer.param_groups[0]["lr"],
            "train_loss": total_loss / max(total_samples, 1),
            "val_loss": result.loss,
            "val_top1": result.top1,
            "val_top5": result.top5,
            "val_mean_class_accuracy": result.mean_class_accuracy,
            "samples_per_s": total_samples / train_seconds if train_seconds > 0 else 0.0,
            "step_seconds": train_seconds / max(steps, 1),
            "epoch_seconds": time.perf_counter() - started,
            "world_size": world.size,
            "backend": backend.name,
            "precision": session.precision,
        }
        improved = result.top1 > best_top1
        best_top1 = max(best_top1, result.top1)
        if world.is_main:
            with metrics_path.open("a", encoding="utf-8") as stream:
                stream.write(json.dumps(last) + "\n")
            loggers.epoch_ended(epoch + 1, last)
            payload = _checkpoint(session, model, optimizer, precision, epoch + 1, best_top1)
            if improved:
                ckpt.atomic_save(payload, session.checkpoints / BEST)
                loggers.checkpoint_saved(session.checkpoints / BEST, epoch + 1, True)
            ckpt.atomic_save(payload, session.checkpoints / LATEST, keep_previous=True)
            loggers.checkpoint_saved(session.checkpoints / LATEST, epoch + 1, False)
            if config.keep:
                _keep_epoch(session.checkpoints, epoch + 1, config.keep)
            say(
                f"epoch {epoch + 1}/{config.epochs}  loss {last['train_loss']:.4f}  "
                f"val top1 {result.top1:.4f}  top5 {result.top5:.4f}  "
                f"{last['samples_per_s']:.1f} samples/s"
            )
        control.last_checkpoint = time.monotonic()
        if epoch + 1 < config.epochs and control.stop_requested():
            raise control.stopped(f"after epoch {epoch + 1}")
    return last, best_top1


def _keep_epoch(folder: Path, epoch: int, keep: int) -> None:
    """``epoch-NNNN.pth.tar`` beside latest (a hard link where the file system has
    them: no second copy), and only the last ``keep`` of them."""
    target = folder / f"epoch-{epoch:04d}.pth.tar"
    target.unlink(missing_ok=True)
    try:
        os.link(folder / LATEST, target)
    except OSError:
        shutil.copyfile(folder / LATEST, target)
    for old in sorted(folder.glob("epoch-*.pth.tar"))[:-keep]:
        old.unlink(missing_ok=True)


def device_augmentation(session: Session, device: torch.device) -> AugmentBatch | None:
    """The dataset's whole-batch augmentation where it pays: on an accelerator, whose
    cores outrun the DataLoader's. On the cpu the per-clip path in the workers is faster."""
    return session.dataset.augment_batch if device.type != "cpu" else None


def training_step(
    model: torch.nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    optimizer: torch.optim.Optimizer,
    precision: Precision,
    label_smoothing: float = 0.0,
) -> torch.Tensor:
    """Forward, backward and update; returns the (detached) loss, still on the device.

    Nothing here waits for the device: a non-finite loss is found by the loop, which
    checks on the device and reads the result before any checkpoint is written, so a
    poisoned update never reaches one. ``label_smoothing`` (``--label-smoothing``)
    softens the training targets; evaluation's loss stays the plain cross-entropy.
    """
    with precision.forward_context():
        loss = F.cross_entropy(model(x), y, label_smoothing=label_smoothing)
    optimizer.zero_grad(set_to_none=True)
    precision.backward(loss)
    precision.optimizer_step(optimizer)
    return loss.detach()


class _LossWatch:
    """The epoch's summed loss and its first non-finite loss, kept on the device.

    Reading them (:meth:`check`) is the one host synchronisation of the loop, done
    every ``log_every`` steps, before a checkpoint and at the end of the epoch.
    """

    def __init__(self, device: torch.device, epoch: int, start_sum: float = 0.0) -> None:
        dtype = torch.float64 if device.type == "cpu" else torch.float32
        self.epoch = epoch
        self.total = torch.full((), start_sum, dtype=dtype, device=device)
        self.first_bad = torch.full((), -1, dtype=torch.int64, device=device)
        self.bad_value = torch.zeros((), dtype=torch.float32, device=device)

    def add(self, loss: torch.Tensor, count: int, step: int) -> None:
        value = loss.float()
        self.total += value.to(self.total.dtype) * count
        newly_bad = ~torch.isfinite(value) & (self.first_bad < 0)
        self.first_bad = torch.where(newly_bad, step, self.first_bad)
        self.bad_value = torch.where(newly_bad, value, self.bad_value)

    def check(self) -> float:
        """The summed loss on the host; a non-finite loss so far ends the run in one line."""
        step = int(self.first_bad.item())
        if step >= 0:
            raise StgcnError(
                f"the loss became {self.bad_value.item()} at epoch {self.epoch + 1}, step {step}; "
                "check the data for non-finite values or lower --lr"
            )
        return float(self.total.item())


def _train_epoch(
    session: Session,
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    precision: Precision,
    train_set: Any,
    epoch: int,
    device: torch.device,
    stream: Stream | None,
    loggers: RunLoggers | None,
    control: _Control,
    start: EpochPosition | None,
    save_step: Any,
) -> tuple[float, int, float, int]:
    """Returns this rank's summed loss, its sample count, the seconds spent and the steps.

    ``stream`` converts each batch on the device (bones, motion) after augmentation;
    ``loggers`` get the step scalars every ``log_every`` steps. From ``start`` (a step
    checkpoint) the epoch goes on at its step, without reading the batches before it.
    """
    config, backend, world = session.config, session.backend, session.world
    augment = device_augmentation(session, device)
    model.train()
    order = _epoch_order(train_set, session, epoch)
    full = _full(train_set, session)
    batches = len(order) // config.batch_size if full else math.ceil(len(order) / config.batch_size)
    first, samples, seconds, start_sum = 0, 0, 0.0, 0.0
    if start is not None:
        first = start.step_for(world.size, config.batch_size)
        exact = start.exact_for(world.size, config.batch_size)
        if not exact and world.is_main:
            print(  # a warning: on stderr, and also under --quiet
                f"stgcn: warning: the step checkpoint was written by {start.world_size} card(s) "
                f"at batch {start.batch_size}; going on from step {first} of epoch {epoch + 1}, "
                "which is close to but not exactly the interrupted run",
                file=sys.stderr,
            )
        if exact:
            ckpt.set_rng_state(start.rng[world.rank])
        seconds = start.seconds
        if world.is_main:  # the epoch's partial sums over every rank, counted once
            samples, start_sum = start.samples, start.loss_sum
    loader = _loader(train_set, session, True, epoch, order[first * config.batch_size :])
    watch = _LossWatch(device, epoch, start_sum)
    progress = Progress(batches, f"epoch {epoch + 1}/{config.epochs}", enabled=world.is_main)
    progress.done = first
    fresh_samples, fresh_seconds = 0, 0.0
    tick = time.perf_counter()
    for step, (x, y) in enumerate(loader, start=first):
        lr = learning_rate(config, epoch + step / max(batches, 1), world.size)
        for group in optimizer.param_groups:
            group["lr"] = lr
        x = x.to(device, non_blocking=True)
        y = y.to(device, non_blocking=True)
        if augment is not None:
            x = augment(x, config.data_options)
        if stream is not None:
            x = stream(x)
        loss = training_step(model, x, y, optimizer, precision, config.label_smoothing)
        count = int(y.shape[0])
        watch.add(loss, count, step + 1)
        now = time.perf_counter()
        seconds += now - tick
        fresh_seconds += now - tick
        tick = now
        samples += count
        fresh_samples += count
        global_step = epoch * batches + step + 1
        logged = global_step % config.log_every == 0
        shown: dict[str, str] = {}
        if logged or progress.shows_next():  # the interval's one read of the device
            watch.check()
            value = loss.item()
            rate = fresh_samples * world.size / max(fresh_seconds, 1e-9)
            shown = {"loss": f"{value:.3f}", "lr": f"{lr:.4g}", "sps": f"{rate:.1f}"}
            if loggers and logged:
                loggers.step(
                    global_step,
                    {"train/loss": value, "train/lr": lr, "train/samples_per_s": rate},
                )
        progress.update(**shown)
        stop, due = control.after_step(global_step)
        if (stop or due) and step + 1 < batches:
            _save_position(
                session, control, watch, epoch, step + 1, batches, samples, seconds, save_step
            )
            if stop:
                progress.close()
                raise control.stopped(f"at epoch {epoch + 1}, step {step + 1} of {batches}")
        tick = time.perf_counter()  # a checkpoint's writing is not training time
    progress.close()
    total = watch.check()
    backend.synchronize()
    return total, samples, seconds, batches


def _save_position(
    session: Session,
    control: _Control,
    watch: _LossWatch,
    epoch: int,
    step: int,
    steps: int,
    samples: int,
    seconds: float,
    save_step: Any,
) -> None:
    """A step checkpoint: every rank adds its partial sums and generators, rank 0 writes."""
    world = session.world
    loss_sum, total_samples = dist.sum_across(world, watch.check(), samples)
    rng = control.agreement.gather(ckpt.rng_state())
    if world.is_main:
        save_step(
            EpochPosition(
                epoch=epoch,
                step=step,
                steps=steps,
                loss_sum=float(loss_sum),
                samples=int(total_samples),
                seconds=seconds,
                world_size=world.size,
                batch_size=session.config.batch_size,
                rng=rng,
            )
        )
    control.last_checkpoint = time.monotonic()
    dist.barrier(world)


def _checkpoint(
    session: Session,
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    precision: Precision,
    epoch: int,
    best_top1: float,
) -> dict[str, Any]:
    inner = cast(STGCN, dist.unwrap(model))  # the trainer builds only STGCNs
    return {
        "format": ckpt.FORMAT,
        "format_version": ckpt.FORMAT_VERSION,
        "model": inner.state_dict(),
        "model_config": inner.config(),
        "optimizer": optimizer.state_dict(),
        "scaler": precision.state_dict(),
        "epoch": epoch,
        "best_top1": best_top1,
        "config": session.config.to_dict(),
        "dataset": session.dataset.name,
        "class_names": list(session.dataset.class_names or []),
        CHECKPOINT_KEY: facts_of(session.dataset),
        "rng": ckpt.rng_state(),
    }
