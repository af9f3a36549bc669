"""Accuracy of a model on a split: top-1, top-5 and mean class accuracy."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader

from stgcn.distributed import World, sum_across
from stgcn.records import Backend


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

    def to_dict(self) -> dict:
        return {
            "top1": self.top1,
            "top5": self.top5,
            "mean_class_accuracy": self.mean_class_accuracy,
            "loss": self.loss,
            "samples": self.samples,
        }


@torch.no_grad()
def evaluate(
    model: torch.nn.Module,
    loader: DataLoader,
    device: torch.device,
    backend: Backend,
    precision: str,
    num_class: int,
    world: World | None = None,
    keep_scores: bool = False,
    transform: Callable[[torch.Tensor], torch.Tensor] | None = None,
) -> EvalResult:
    """Every sample of ``loader`` once. Top-5 becomes top-k when there are k < 5 classes.

    With a ``world``, each rank counts its own share and the counts are summed, so
    the result covers the whole split whichever rank asks. ``keep_scores`` also keeps
    every sample's softmax probabilities, in the loader's order (one process only).
    ``transform`` converts each batch on the device first (a stream's bones or motion).
    Items with a clip axis, batches ``(N, clips, C, T, V, M)``, are scored as PYSKL tests
    them: each clip's softmax, averaged over the clips; the loss is then the negative
    log of that average (for one clip, the plain cross-entropy).
    """
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
        with backend.autocast(precision):
            logits = model(x)
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
        hits1, hits5, loss_sum, per_class_total, per_class_hit = sum_across(
            world, hits1, hits5, loss_sum, per_class_total, per_class_hit
        )
        hits1, hits5, loss_sum = int(hits1), int(hits5), float(loss_sum)
        per_class_total, per_class_hit = per_class_total.long(), per_class_hit.long()
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
