"""What a run is made of before its first step: the resolved :class:`Session` (plugins,
precision, work dir, world), the network built for it, the learning-rate schedule,
seeding, the splits and how a loader of them is made. :class:`stgcn.training.trainer.Trainer`
holds where the run stands (each epoch's order and loaders, the resume point) and runs
the loop over them.
"""

from __future__ import annotations

import math
import os
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader

from stgcn.data.collate import StackClips
from stgcn.data.facts import describe
from stgcn.data.streams import Stream, build_split, split_options
from stgcn.data.streams.augment import Augmentation
from stgcn.errors import StgcnError
from stgcn.loggers.events import check_loggers
from stgcn.model import checkpoint as ckpt
from stgcn.model.checkpoint import Checkpoint, strip_prefix
from stgcn.model.contract import SkeletonModel, as_module
from stgcn.networks.loading import (
    RUN_SETTINGS_AS_OPTIONS,
    network_for_data,
    options_for_data,
)
from stgcn.plugins.backend_choice import backend_code
from stgcn.plugins.kinds import DATASETS, MODELS
from stgcn.plugins.records import AugmentBatch, AugmentRequest, Dataset, Model, RunBackend
from stgcn.plugins.registry import Registry, get_registry
from stgcn.training.config import RunConfig
from stgcn.training.distributed import World
from stgcn.training.preemption.position import SeededSamples
from stgcn.training.work_dir import LATEST, default_work_dir, refuse_existing_run


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
    #: the network's plugin and its options for this run's data
    model: Model
    model_options: Any

    @property
    def checkpoints(self) -> Path:
        return self.work_dir / "checkpoints"


def resolve(config: RunConfig, registry: Registry | None = None) -> Session:
    """Check the backend, dataset and precision before anything is written."""
    registry = registry or get_registry()
    backend, precision = registry.ready_backend(
        config.backend, config.precision, {k: str(v) for k, v in config.backend_options.items()}
    )
    dataset = registry.get(DATASETS, config.dataset)
    # the core's own data options, checked before anything starts
    _, own_options = split_options(config.data_options)
    data_path = dataset.data_path_for(config.data_path)
    dataset = describe(dataset, data_path, own_options)
    Augmentation.from_options(config.data_options, dataset.in_channels, dataset.score_channel)
    model = registry.get(MODELS, config.model)
    model_options = options_for_data(model, dataset, run_values(config), config.model_options)
    check_loggers(config.loggers, registry, config.log_every)
    if config.weights and not Path(config.weights).is_file():
        raise StgcnError(f"weights file not found: {config.weights}")
    with backend_code(backend, "device_count"):
        devices = backend.device_count()
    if config.cards > devices:
        raise StgcnError(
            f"--cards {config.cards}: backend {backend.name!r} has {devices} device(s) on this host"
        )
    work_dir = Path(config.work_dir or default_work_dir())
    settled: dict[str, Any] = {
        "backend": backend.name,
        "precision": precision,
        "work_dir": str(work_dir),
    }
    if data_path is not None:
        # absolute, so that the checkpoint's config names the data wherever `stgcn eval`
        # runs from (a symlinked folder keeps the name the user gave it)
        data_path = Path(os.path.abspath(data_path))
        settled["data_path"] = str(data_path)
    resolved = config.updated(settled, "run")
    world = World.from_env()
    return Session(
        resolved, backend, dataset, precision, work_dir, data_path, world, model, model_options
    )


def run_values(config: RunConfig) -> dict[str, Any]:
    """The run settings that are also model options (``--dropout``, ``--init``), where
    the run sets them away from their defaults."""
    defaults = RunConfig()
    return {
        key: getattr(config, key)
        for key in RUN_SETTINGS_AS_OPTIONS
        if getattr(config, key) != getattr(defaults, key)
    }


def seed_everything(seed: int, epoch: int = 0) -> None:
    value = (seed * 1_000_003 + epoch) % (2**31)
    random.seed(value)
    np.random.seed(value)
    torch.manual_seed(value)


def seed_worker(worker_id: int) -> None:
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


def build_model(session: Session) -> SkeletonModel:
    """The run's fresh network: its model plugin's, for the run's data and options."""
    return network_for_data(session.model, session.dataset, session.model_options)


def initialise_from(model: SkeletonModel, path: str) -> list[str]:
    """Copy every tensor whose name and shape fit; return the names left out.

    Fine-tuning from a model trained on other classes keeps everything but ``fcn``.
    """
    state = strip_prefix(Checkpoint.from_file(path).weights)
    module = as_module(model)
    own = module.state_dict()
    fitting = {k: v for k, v in state.items() if k in own and own[k].shape == v.shape}
    if not fitting:
        raise StgcnError(f"no tensor in {path} fits this model")
    module.load_state_dict(fitting, strict=False)
    return sorted(set(own) - set(fitting))


def data_loader(
    session: Session, dataset: Any, sampler: Any, drop_last: bool, epoch: int
) -> DataLoader[Any]:
    """A loader of ``dataset`` as every loader of the run is made: the run's batch size,
    workers (each seeded), pinning and collation, and a generator seeded from ``(seed,
    epoch)``; ``sampler`` and ``drop_last`` are the trainer's, from where the run stands."""
    config = session.config
    return DataLoader(
        dataset,
        batch_size=config.batch_size,
        sampler=sampler,
        drop_last=drop_last,
        num_workers=config.workers,
        worker_init_fn=seed_worker,
        generator=torch.Generator().manual_seed(config.seed * 7919 + epoch + 1),
        pin_memory=session.backend.pin_memory,
        collate_fn=StackClips(session.dataset.name),
    )


def steps_in_epoch(samples: int, batch_size: int, full: bool) -> int:
    """An epoch's steps over ``samples``: partial batches drop where every rank fills one."""
    return samples // batch_size if full else math.ceil(samples / batch_size)


def checkpoint_to_resume(session: Session, resume: bool) -> Checkpoint | None:
    """Rank 0: the checkpoint to resume from (None: start afresh), or refuse a work dir
    that holds a run when not resuming."""
    latest = session.checkpoints / LATEST
    if not session.world.is_main:
        return None  # rank 0 reads and checks, and shares what it read
    if resume:
        found = latest.exists() or ckpt.previous_of(latest).exists()
        return ckpt.load_latest(latest) if found else None
    refuse_existing_run(session.work_dir)
    return None


def device_augmentation(session: Session, device: torch.device) -> AugmentBatch | None:
    """The dataset's whole-batch augmentation where it pays: on an accelerator, whose
    cores outrun the DataLoader's. On the cpu the per-clip path in the workers is faster."""
    return session.dataset.augment_batch if device.type != "cpu" else None


@dataclass(frozen=True)
class TrainingData:
    """A run's splits: the training set (each sample's augmentation seeded), the validation
    set, and on an accelerator the whole-batch augmentation and modality run on the device."""

    train_set: SeededSamples
    val_set: Any
    augment: AugmentBatch | None
    modality_transform: Stream | None

    def on_device(
        self, batch: tuple[torch.Tensor, torch.Tensor], device: torch.device, options: Any
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """A training batch on ``device`` as the model takes it: augmented there where the
        dataset's whole-batch augmentation runs (with the run's data ``options``), then
        converted to the modality."""
        x, y = (part.to(device, non_blocking=True) for part in batch)
        if self.augment is not None:
            x = self.augment(AugmentRequest(batch=x, options=options))
        if self.modality_transform is not None:
            x = self.modality_transform(x)
        return x, y


def build_data(session: Session, device: torch.device) -> TrainingData:
    """The splits of ``session``'s dataset as this rank trains and validates on them."""
    config = session.config
    augment = device_augmentation(session, device)
    train_options = dict(config.data_options)
    if augment is not None:
        train_options.update(session.dataset.batch_augment_options)
    on_device = device.type != "cpu"  # accelerators convert whole batches to the modality
    train_set, modality = build_split(
        session.dataset, "train", session.data_path, train_options, on_device, training=True
    )
    val_set, _ = build_split(
        session.dataset, "val", session.data_path, config.data_options, on_device, training=False
    )
    transform = modality if on_device and not modality.identity else None
    return TrainingData(SeededSamples(train_set, config.seed), val_set, augment, transform)


def network_for(session: Session, state: Checkpoint | None) -> SkeletonModel:
    """The run's network with the checkpoint's weights, or those of ``--weights`` that
    fit (rank 0 says which it kept fresh), before the runtime prepares it."""
    config = session.config
    network = build_model(session)
    if config.weights and state is None:
        skipped = initialise_from(network, config.weights)
        if skipped and session.world.is_main:
            print(f"stgcn: initialised from {config.weights}; kept fresh: {', '.join(skipped)}")
    if state is not None:
        as_module(network).load_state_dict(state.weights)
    return network
