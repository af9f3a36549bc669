"""``stgcn eval``: a checkpoint re-evaluated on its own dataset, or on one named."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from torch.utils.data import DataLoader

from stgcn.datasets.facts import CHECKPOINT_KEY, describe, from_checkpoint
from stgcn.errors import StgcnError
from stgcn.evaluate import EvalResult, evaluate
from stgcn.loading import load_model_and_checkpoint
from stgcn.plugins import get_registry
from stgcn.records import Dataset
from stgcn.streams import build_split, split_options


def sample_names(split_set: Any) -> list[str]:
    """The split's own sample names (a ``sample_names`` sequence, one per item, as the
    kinetics and synthetic datasets give), else each sample's index."""
    names = getattr(split_set, "sample_names", None)
    if names is not None and len(names) == len(split_set):
        return [str(name) for name in names]
    return [str(index) for index in range(len(split_set))]


def class_names(checkpoint: Mapping[str, Any] | None, dataset: Dataset, count: int) -> list[str]:
    names = list((checkpoint or {}).get("class_names") or dataset.class_names or [])
    return names if len(names) == count else [f"class {i}" for i in range(count)]


def evaluate_checkpoint(
    path: str,
    dataset: str | None = None,
    data_path: str | None = None,
    data_options: Mapping[str, Any] | None = None,
    batch_size: int | None = None,
    backend_name: str | None = None,
    precision: str | None = None,
    split: str = "val",
    save_scores: str | None = None,
    keep_scores: bool = False,
) -> EvalResult:
    """Evaluate; with ``save_scores``, also write every sample's scores (stgcn.fusion);
    with ``keep_scores``, return them in the result (``scores``, ``labels``)."""
    model, checkpoint = load_model_and_checkpoint(path)
    saved = (checkpoint or {}).get("config", {})
    name = dataset or saved.get("dataset")
    if not name:
        raise StgcnError(f"{path} is a bare state_dict: name its dataset with --dataset")
    registry = get_registry()
    chosen = registry.dataset(name)
    same_dataset = name == saved.get("dataset")
    data_path = data_path or (saved.get("data_path") if same_dataset else None)
    folder = chosen.data_path_for(data_path)
    if same_dataset:  # the run's options, its evaluation's, then any given here
        data_options = {
            **saved.get("data_options", {}),
            **saved.get("eval_data_options", {}),
            **dict(data_options or {}),
        }
    data_options = dict(data_options or {})
    if same_dataset and CHECKPOINT_KEY in (checkpoint or {}):
        chosen = from_checkpoint(chosen, checkpoint)
    else:
        chosen = describe(chosen, folder, split_options(data_options)[1])
    if chosen.num_class != model.num_class:
        raise StgcnError(
            f"{path} predicts {model.num_class} classes but dataset {name!r} has {chosen.num_class}"
        )
    backend, precision = registry.ready_backend(backend_name, precision)
    if batch_size is not None and batch_size < 1:
        raise StgcnError("--batch-size must be at least 1")
    if save_scores is not None:
        from stgcn.fusion import scores_path

        scores_path(save_scores)  # before the evaluation, not after it
    split_set, _ = build_split(chosen, split, folder, data_options)
    loader = DataLoader(split_set, batch_size=batch_size or saved.get("batch_size", 64))
    device = backend.setup(0)
    model = backend.prepare_model(model.to(device), precision)
    keep = save_scores is not None or keep_scores
    result = evaluate(model, loader, device, backend, precision, chosen.num_class, keep_scores=keep)
    if save_scores is not None:
        from stgcn.fusion import save_scores as write_scores

        names = class_names(checkpoint, chosen, chosen.num_class)
        modality = str(dict(data_options or {}).get("modality", "joint"))
        write_scores(
            save_scores, sample_names(split_set), result.labels, result.scores, names, modality
        )
    return result
