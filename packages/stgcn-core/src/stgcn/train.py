"""The training loop.

Everything device-specific comes from the backend (device, autocast, loss
scaler, synchronisation) and everything data-specific from the dataset, so this
one loop serves every plugin. Each epoch reseeds every generator from
``(seed, epoch)``: a run resumed from the checkpoint of epoch k replays epoch
k+1 exactly as an uninterrupted run would.
"""

from __future__ import annotations

import json
import math
import os
import random
import shutil
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader

from stgcn import checkpoint as ckpt
from stgcn import distributed as dist
from stgcn.config import RunConfig
from stgcn.datasets.collate import StackClips
from stgcn.datasets.facts import CHECKPOINT_KEY, describe, facts_of
from stgcn.distributed import World
from stgcn.errors import StgcnError
from stgcn.evaluate import evaluate
from stgcn.loading import strip_prefix
from stgcn.loggers import Progress, RunLoggers, open_loggers, say
from stgcn.loggers.events import check_loggers
from stgcn.model import STGCN
from stgcn.plugins import Registry, get_registry
from stgcn.records import AugmentBatch, Backend, Dataset
from stgcn.streams import Stream, build_split, split_options
from stgcn.streams.augment import Augmentation

LATEST = "latest.pth.tar"
BEST = "best.pth.tar"


@dataclass
class Session:
    """The resolved parts of a run: which plugins, which precision, where to write."""

    config: RunConfig
    backend: Backend
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


def _loader(dataset: Any, session: Session, train: bool, epoch: int) -> DataLoader:
    """One epoch's batches for this rank: shuffled for training, in order for validation.

    Several ranks share the training set through DistributedSampler (reshuffled per
    epoch) and split the validation set without padding, so each sample counts once.
    """
    config, world = session.config, session.world
    generator = torch.Generator().manual_seed(config.seed * 7919 + epoch)
    full = len(dataset) >= config.batch_size * world.size
    sampler = None
    if world.distributed and train:
        sampler = dist.train_sampler(dataset, world, config.seed, drop_last=full)
        sampler.set_epoch(epoch)
    elif world.distributed:
        sampler = dist.StridedSampler(dataset, world)
    return DataLoader(
        dataset,
        batch_size=config.batch_size,
        shuffle=train and sampler is None,
        sampler=sampler,
        drop_last=train and full,
        num_workers=config.workers,
        worker_init_fn=_seed_worker,
        generator=generator,
        pin_memory=bool(getattr(session.backend, "pin_memory", False)),
        collate_fn=StackClips(session.dataset.name),
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


def train(config: RunConfig, resume: bool = False, registry: Registry | None = None) -> dict:
    """Train, evaluating every epoch; returns the last metrics line plus ``best_top1``.

    Runs as one worker of ``world.size``: each rank trains on its share of every
    batch, and rank 0 alone writes the work dir.
    """
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
    val_set, _ = build_split(dataset, "val", session.data_path, config.data_options, on_device)
    batch_stream = stream if on_device and not stream.identity else None
    dist.join(world, backend)
    if resume:
        state = dist.share_from_main(state, world)
    seed_everything(config.seed)
    model = build_model(session)
    if config.weights and state is None:
        skipped = initialise_from(model, config.weights)
        if skipped and world.is_main:
            print(f"stgcn: initialised from {config.weights}; kept fresh: {', '.join(skipped)}")
    if state is not None:
        model.load_state_dict(state["model"])
    model.to(device)
    model = backend.prepare_model(model, session.precision)
    model = dist.wrap_model(model, world, device, config.sync_bn)
    optimizer = torch.optim.SGD(
        model.parameters(),
        lr=base_lr(config, world.size),
        momentum=config.momentum,
        nesterov=config.nesterov,
        weight_decay=config.weight_decay,
    )
    scaler = backend.grad_scaler(session.precision)

    start_epoch, best_top1 = 0, -1.0
    if state is not None:
        optimizer.load_state_dict(state["optimizer"])
        if scaler is not None and state.get("scaler"):
            scaler.load_state_dict(state["scaler"])
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
    try:
        last, best_top1 = _epochs(
            session, model, optimizer, scaler, train_set, val_set, device, batch_stream,
            start_epoch, best_top1, loggers,
        )  # fmt: skip
    except BaseException as error:
        loggers.run_ended({"error": f"{type(error).__name__}: {error}"})
        raise
    summary = {**last, "best_top1": best_top1, "work_dir": str(session.work_dir)}
    loggers.run_ended(summary)
    dist.barrier(world)
    dist.leave()
    return summary


def _epochs(
    session: Session,
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    scaler: torch.amp.GradScaler | None,
    train_set: Any,
    val_set: Any,
    device: torch.device,
    batch_stream: Stream | None,
    start_epoch: int,
    best_top1: float,
    loggers: RunLoggers,
) -> tuple[dict[str, Any], float]:
    """Train and validate each remaining epoch; rank 0 writes metrics and checkpoints."""
    config, backend, world = session.config, session.backend, session.world
    metrics_path = session.work_dir / "metrics.jsonl"
    last: dict[str, Any] = {}
    for epoch in range(start_epoch, config.epochs):
        seed_everything(config.seed, epoch + 1)
        started = time.perf_counter()
        loader = _loader(train_set, session, True, epoch)
        loss_sum, samples, train_seconds = _train_epoch(
            session, model, optimizer, scaler, loader, epoch, device, batch_stream, loggers
        )
        loss_sum, samples = (float(v) for v in dist.sum_across(world, loss_sum, samples))
        dist.broadcast_buffers(model, world)
        result = evaluate(
            dist.unwrap(model),
            _loader(val_set, session, False, epoch),
            device,
            backend,
            session.precision,
            session.dataset.num_class,
            world,
            transform=batch_stream,
        )
        last = {
            "epoch": epoch + 1,
            "lr": optimizer.param_groups[0]["lr"],
            "train_loss": loss_sum / max(samples, 1),
            "val_loss": result.loss,
            "val_top1": result.top1,
            "val_top5": result.top5,
            "val_mean_class_accuracy": result.mean_class_accuracy,
            "samples_per_s": samples / train_seconds if train_seconds > 0 else 0.0,
            "step_seconds": train_seconds / max(len(loader), 1),
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
            payload = _checkpoint(session, model, optimizer, scaler, epoch + 1, best_top1)
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
    scaler: torch.amp.GradScaler | None,
    backend: Backend,
    precision: str,
    label_smoothing: float = 0.0,
) -> torch.Tensor:
    """Forward, backward and update; returns the (detached) loss.

    A non-finite loss skips the update, so a bad batch never poisons the weights that a
    checkpoint would then keep. ``label_smoothing`` (``--label-smoothing``) softens the
    training targets; evaluation's loss stays the plain cross-entropy.
    """
    with backend.autocast(precision):
        loss = F.cross_entropy(model(x), y, label_smoothing=label_smoothing)
    optimizer.zero_grad(set_to_none=True)
    if not torch.isfinite(loss):
        return loss.detach()
    if scaler is not None:
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()
    else:
        loss.backward()
        optimizer.step()
    return loss.detach()


def _train_epoch(
    session: Session,
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    scaler: torch.amp.GradScaler | None,
    loader: DataLoader,
    epoch: int,
    device: torch.device,
    stream: Stream | None = None,
    loggers: RunLoggers | None = None,
) -> tuple[float, int, float]:
    """Returns this rank's summed loss, its sample count, and the seconds spent.

    ``stream`` converts each batch on the device (bones, motion) after augmentation;
    ``loggers`` get the step scalars every ``log_every`` steps."""
    config, backend, world = session.config, session.backend, session.world
    augment = device_augmentation(session, device)
    model.train()
    total_loss, samples, seconds = 0.0, 0, 0.0
    steps = len(loader)
    progress = Progress(steps, f"epoch {epoch + 1}/{config.epochs}", enabled=world.is_main)
    tick = time.perf_counter()
    for step, (x, y) in enumerate(loader):
        lr = learning_rate(config, epoch + step / max(steps, 1), world.size)
        for group in optimizer.param_groups:
            group["lr"] = lr
        x = x.to(device, non_blocking=True)
        y = y.to(device, non_blocking=True)
        if augment is not None:
            x = augment(x, config.data_options)
        if stream is not None:
            x = stream(x)
        loss = training_step(
            model, x, y, optimizer, scaler, backend, session.precision, config.label_smoothing
        )
        if not torch.isfinite(loss):
            raise StgcnError(
                f"the loss became {loss.item()} at epoch {epoch + 1}, step {step + 1}; "
                "check the data for non-finite values or lower --lr"
            )
        backend.synchronize()
        now = time.perf_counter()
        seconds += now - tick
        tick = now
        total_loss += loss.item() * y.shape[0]
        samples += y.shape[0]
        rate = samples * world.size / seconds
        progress.update(loss=f"{loss.item():.3f}", lr=f"{lr:.4g}", sps=f"{rate:.1f}")
        global_step = epoch * steps + step + 1
        if loggers and global_step % config.log_every == 0:
            loggers.step(
                global_step,
                {"train/loss": loss.item(), "train/lr": lr, "train/samples_per_s": rate},
            )
    progress.close()
    return total_loss, samples, seconds


def _checkpoint(
    session: Session,
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    scaler: torch.amp.GradScaler | None,
    epoch: int,
    best_top1: float,
) -> dict[str, Any]:
    inner = dist.unwrap(model)
    return {
        "format": ckpt.FORMAT,
        "format_version": ckpt.FORMAT_VERSION,
        "model": inner.state_dict(),
        "model_config": inner.config(),
        "optimizer": optimizer.state_dict(),
        "scaler": scaler.state_dict() if scaler is not None else {},
        "epoch": epoch,
        "best_top1": best_top1,
        "config": session.config.to_dict(),
        "dataset": session.dataset.name,
        "class_names": list(session.dataset.class_names or []),
        CHECKPOINT_KEY: facts_of(session.dataset),
        "rng": ckpt.rng_state(),
    }
