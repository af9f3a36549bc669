"""``stgcn eval``: a checkpoint re-evaluated on its own dataset, or on one named."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from torch.utils.data import DataLoader

from stgcn.errors import StgcnError
from stgcn.evaluate import EvalResult, evaluate
from stgcn.loading import load_model_and_checkpoint
from stgcn.plugins import get_registry


def evaluate_checkpoint(
    path: str,
    dataset: str | None = None,
    data_path: str | None = None,
    data_options: Mapping[str, Any] | None = None,
    batch_size: int | None = None,
    backend_name: str | None = None,
    precision: str | None = None,
    split: str = "val",
) -> EvalResult:
    model, checkpoint = load_model_and_checkpoint(path)
    saved = (checkpoint or {}).get("config", {})
    name = dataset or saved.get("dataset")
    if not name:
        raise StgcnError(f"{path} is a bare state_dict: name its dataset with --dataset")
    registry = get_registry()
    chosen = registry.dataset(name)
    if chosen.num_class != model.num_class:
        raise StgcnError(
            f"{path} predicts {model.num_class} classes but dataset {name!r} has {chosen.num_class}"
        )
    same_dataset = name == saved.get("dataset")
    data_path = data_path or (saved.get("data_path") if same_dataset else None)
    folder = chosen.data_path_for(data_path)
    if data_options is None:
        data_options = saved.get("data_options", {}) if same_dataset else {}
    backend, precision = registry.ready_backend(backend_name, precision)
    if batch_size is not None and batch_size < 1:
        raise StgcnError("--batch-size must be at least 1")
    split_set = chosen.build(split, folder, data_options)
    loader = DataLoader(split_set, batch_size=batch_size or saved.get("batch_size", 64))
    device = backend.setup(0)
    model = backend.prepare_model(model.to(device), precision)
    return evaluate(model, loader, device, backend, precision, chosen.num_class)
