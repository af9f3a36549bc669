"""Evaluation: a model's accuracy on a split (top-1, top-5, mean class accuracy), and
``stgcn eval``'s job, a checkpoint re-evaluated on its own dataset or on one named."""

from __future__ import annotations

import contextlib
import random
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader

from stgcn.data.class_names import class_names_or_numbers
from stgcn.data.facts import describe, from_checkpoint
from stgcn.data.streams import build_split, split_options
from stgcn.errors import StgcnError
from stgcn.model import checkpoint as ckpt
from stgcn.model.contract import as_module
from stgcn.networks.loading import load_model_and_checkpoint
from stgcn.plugins.kinds import DATASETS
from stgcn.plugins.registry import get_registry
from stgcn.training.distributed import World, sum_across
from stgcn.training.runtime import Runtime


@dataclass
class EvalResult:
    top1: float
    top5: float
    mean_class_accuracy: float
    loss: float
    samples: int
    #: with ``keep_scores``: softmax probabilities (N x num_class) and labels, in order
    scores: np.ndarray | None = field(default=None, repr=False)
    labels: np.ndarray | None = field(default=None, repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "top1": self.top1,
            "top5": self.top5,
            "mean_class_accuracy": self.mean_class_accuracy,
            "loss": self.loss,
            "samples": self.samples,
        }

    def figures(self) -> dict[str, Any]:
        """What ``stgcn eval --json`` prints: the accuracies and the sample count."""
        return {
            "top1": self.top1,
            "top5": self.top5,
            "mean_class_accuracy": self.mean_class_accuracy,
            "samples": self.samples,
        }

    def describe(self) -> str:
        """The line ``stgcn eval`` prints."""
        return (
            f"top1 {self.top1:.4f}  top5 {self.top5:.4f}  "
            f"mean class accuracy {self.mean_class_accuracy:.4f}  ({self.samples} samples)"
        )


def _forward_per_clip_group(model: torch.nn.Module, x: torch.Tensor, clips: int) -> torch.Tensor:
    """The model's logits for ``x``, ``(N * clips, C, T, V, M)``, computed ``N`` rows at a
    time: a batch of ``N`` samples of ``clips`` clips each costs the activation memory of
    ``N`` clips, as with one clip a sample, not ten times it. (PYSKL's ten-clip test
    put every clip of a batch through at once: ``stgcn eval`` of 60 small clips at batch
    8 and 100 frames peaked at 1.37 GB of RSS with ten clips against 0.39 GB with one.)
    Each row is scored alone in eval mode, so the rows' logits are those of one pass."""
    if clips == 1:
        return model(x)
    rows = x.shape[0] // clips
    return torch.cat([model(part) for part in x.split(rows)])


@torch.no_grad()
def evaluate(
    runtime: Runtime,
    loader: DataLoader[Any],
    num_class: int,
    world: World | None = None,
    keep_scores: bool = False,
    transform: Callable[[torch.Tensor], torch.Tensor] | None = None,
) -> EvalResult:
    """Every sample of ``loader`` once, through ``runtime``'s model on its device and in
    its precision. Top-5 becomes top-k when there are k < 5 classes.

    With a ``world``, each rank counts its own share and the counts are summed, so
    the result covers the whole split whichever rank asks. ``keep_scores`` also keeps
    every sample's softmax probabilities, in the loader's order (one process only).
    ``transform`` converts each batch on the device first (a stream's bones or motion).
    Items with a clip axis, batches ``(N, clips, C, T, V, M)``, are scored as PYSKL tests
    them: each clip's softmax, averaged over the clips; the loss is then the negative
    log of that average (for one clip, the plain cross-entropy).
    """
    model, device, precision = runtime.model, runtime.device, runtime.precision
    was_training = model.training
    model.eval()
    k = min(5, num_class)
    hits1 = hits5 = 0
    loss_sum = 0.0
    per_class_total = torch.zeros(num_class, dtype=torch.long)
    per_class_hit = torch.zeros(num_class, dtype=torch.long)
    kept_scores: list[torch.Tensor] = []
    kept_labels: list[torch.Tensor] = []
    for x, y in loader:
        x = x.to(device, non_blocking=True)
        y = y.to(device, non_blocking=True)
        clips = x.shape[1] if x.ndim == 6 else 0
        if clips:  # (N, clips, C, T, V, M): every clip through the model, then averaged
            x = x.reshape(-1, *x.shape[2:])
        if transform is not None:
            x = transform(x)
        with precision.forward_context():
            logits = _forward_per_clip_group(model, x, max(clips, 1))
        logits = logits.float()
        if clips:
            probabilities = logits.softmax(dim=1).reshape(-1, clips, logits.shape[1]).mean(dim=1)
            ranked = probabilities
            loss = F.nll_loss(probabilities.clamp_min(1e-12).log(), y, reduction="sum")
        else:
            probabilities, ranked = None, logits
            loss = F.cross_entropy(logits, y, reduction="sum")
        if keep_scores:
            kept = probabilities if probabilities is not None else logits.softmax(dim=1)
            kept_scores.append(kept.cpu())
            kept_labels.append(y.cpu())
        loss_sum += loss.item()
        top = ranked.topk(k, dim=1).indices
        correct1 = (top[:, 0] == y).cpu()
        hits1 += int(correct1.sum())
        hits5 += int((top == y[:, None]).any(dim=1).sum())
        labels = y.cpu()
        per_class_total += torch.bincount(labels, minlength=num_class)
        per_class_hit += torch.bincount(labels[correct1], minlength=num_class)
    model.train(was_training)
    if world is not None:
        summed = sum_across(world, hits1, hits5, loss_sum, per_class_total, per_class_hit)
        hits1, hits5, loss_sum = int(summed[0]), int(summed[1]), float(summed[2])
        per_class_total, per_class_hit = summed[3].long(), summed[4].long()
    samples = int(per_class_total.sum())
    seen = per_class_total > 0
    mean_class = (
        float((per_class_hit[seen].double() / per_class_total[seen].double()).mean())
        if bool(seen.any())
        else 0.0
    )
    denominator = max(samples, 1)
    return EvalResult(
        top1=hits1 / denominator,
        top5=hits5 / denominator,
        mean_class_accuracy=mean_class,
        loss=loss_sum / denominator,
        samples=samples,
        scores=torch.cat(kept_scores).numpy() if kept_scores else None,
        labels=torch.cat(kept_labels).numpy() if kept_labels else None,
    )


def sample_names(split_set: Any) -> list[str]:
    """The split's own sample names (a ``sample_names`` sequence, one per item, as the
    kinetics and synthetic datasets give), else each sample's index."""
    names = getattr(split_set, "sample_names", None)
    if names is not None and len(names) == len(split_set):
        return [str(name) for name in names]
    return [str(index) for index in range(len(split_set))]


#: the seed every host generator starts from while ``stgcn eval`` reads and scores a split
EVAL_SEED = 0


@contextlib.contextmanager
def fixed_draws(seed: int = EVAL_SEED) -> Iterator[None]:
    """The host's generators (Python, numpy, torch) seeded with ``seed`` inside, restored
    after: a dataset told that ``stgcn eval --split train`` is no training may still
    draw random numbers (a careless one, or one whose evaluation sampling is seeded from
    the host's generators); this makes two evaluations of one checkpoint agree."""
    saved = ckpt.rng_state()
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    try:
        yield
    finally:
        ckpt.set_rng_state(saved)


@dataclass(frozen=True)
class EvalRequest:
    """What ``stgcn eval`` asks: a checkpoint (``path``), and whatever the command line
    gives instead of what the checkpoint remembers (dataset, data path and options,
    batch size, backend, precision), the ``split``; with ``save_scores``, also write every
    sample's scores (stgcn.fusion); with ``keep_scores``, return them in the result."""

    path: str
    dataset: str | None = None
    data_path: str | None = None
    data_options: Mapping[str, Any] | None = None
    batch_size: int | None = None
    backend_name: str | None = None
    precision: str | None = None
    split: str = "val"
    save_scores: str | None = None
    keep_scores: bool = False


def evaluate_checkpoint(request: EvalRequest) -> EvalResult:
    """Evaluate ``request.path``; with ``save_scores``, also write every sample's scores
    (stgcn.fusion); with ``keep_scores``, return them in the result (``scores``,
    ``labels``)."""
    path, dataset, data_path = request.path, request.dataset, request.data_path
    data_options, batch_size, split = request.data_options, request.batch_size, request.split
    save_scores = request.save_scores
    model, checkpoint = load_model_and_checkpoint(path)
    saved = checkpoint.run_config if checkpoint is not None else {}
    name = dataset or (checkpoint.run_dataset if checkpoint is not None else None)
    if not name:
        raise StgcnError(f"{path} is a bare state_dict: name its dataset with --dataset")
    registry = get_registry()
    chosen = registry.get(DATASETS, name)
    same_dataset = checkpoint is not None and name == checkpoint.run_dataset
    stored = saved.get("data_path") if same_dataset and not data_path else None
    if stored and not Path(stored).exists():
        raise StgcnError(
            f"data path not found: {stored} (the training run's, stored in {path}); "
            "give the data's folder here with --data-path"
        )
    folder = chosen.data_path_for(data_path or stored)
    if same_dataset:  # the run's options, its evaluation's, then any given here
        data_options = {
            **saved.get("data_options", {}),
            **saved.get("eval_data_options", {}),
            **dict(data_options or {}),
        }
    data_options = dict(data_options or {})
    if same_dataset and checkpoint is not None and checkpoint.data_facts is not None:
        chosen = from_checkpoint(chosen, checkpoint)
    else:
        chosen = describe(chosen, folder, split_options(data_options)[1])
    if chosen.num_class != model.num_class:
        raise StgcnError(
            f"{path} predicts {model.num_class} classes but dataset {name!r} has {chosen.num_class}"
        )
    backend, precision = registry.ready_backend(request.backend_name, request.precision)
    if batch_size is not None and batch_size < 1:
        raise StgcnError("--batch-size must be at least 1")
    if save_scores is not None:
        from stgcn.fusion import scores_path

        scores_path(save_scores)  # before the evaluation, not after it
    keep = save_scores is not None or request.keep_scores
    with fixed_draws():
        # never a training split here: the dataset gives its evaluation clips (its plugin
        # is told so, training=False), and the core does not augment them
        split_set, _ = build_split(chosen, split, folder, data_options, training=False)
        # pinned where the backend asks, as the trainer's loaders are: evaluate()'s
        # non_blocking copies from unpinned memory would each wait for the device
        loader = DataLoader(
            split_set,
            batch_size=batch_size or saved.get("batch_size", 64),
            pin_memory=backend.pin_memory,
        )
        runtime = Runtime.prepare(backend, precision, as_module(model))
        result = evaluate(runtime, loader, chosen.num_class, keep_scores=keep)
    if save_scores is not None:
        from stgcn.fusion import save_scores as write_scores

        # the checkpoint's names, else the dataset's: whichever there is, if it fits
        stored = (checkpoint.class_names if checkpoint is not None else None) or chosen.class_names
        names = class_names_or_numbers(chosen.num_class, stored)
        modality = str(dict(data_options or {}).get("modality", "joint"))
        assert result.labels is not None and result.scores is not None  # kept: keep is set
        write_scores(
            save_scores, sample_names(split_set), result.labels, result.scores, names, modality
        )
    return result
