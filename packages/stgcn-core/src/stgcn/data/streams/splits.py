"""Where the core applies ``--data-option modality=...``: taken from the options before
the dataset sees them, then applied to each clip (``StreamSplit``, in the DataLoader)
or to each batch on an accelerator (``Stream``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import torch
from torch.utils.data import Dataset as TorchDataset

from stgcn.data.facts import plugin_call, plugin_of
from stgcn.data.streams.augment import OPTIONS as AUGMENT_OPTIONS
from stgcn.data.streams.augment import Augmentation
from stgcn.data.streams.modality import MODALITIES, apply_modality, parents
from stgcn.errors import StgcnError, plugin_code
from stgcn.plugins.layouts import resolve_layout
from stgcn.plugins.records import BuildRequest, Dataset

OPTION = "modality"
#: options the core takes before the dataset sees the rest
CORE_OPTIONS = (OPTION, *AUGMENT_OPTIONS)


def split_options(options: Mapping[str, Any] | None) -> tuple[str, dict[str, Any]]:
    """The modality asked for (``joint`` by default) and the options left for the dataset
    (without the core's own: ``modality``, ``random_rot``, ``random_scale``)."""
    given = dict(options or {})
    rest = {key: value for key, value in given.items() if key not in CORE_OPTIONS}
    modality = str(given.get(OPTION, "joint"))
    if modality not in MODALITIES:
        raise StgcnError(
            f"data option modality must be one of {', '.join(MODALITIES)}, not {modality!r}"
        )
    return modality, rest


@dataclass(frozen=True)
class Stream:
    """One modality of one dataset's clips: its layout's parents, its score channel."""

    modality: str
    parent: tuple[int, ...]
    score: bool

    @classmethod
    def of(cls, dataset: Dataset, modality: str) -> Stream:
        layout = resolve_layout(dataset.layout)
        return cls(modality, tuple(parents(layout)), bool(dataset.score_channel))

    @property
    def identity(self) -> bool:
        return self.modality == "joint"

    def __call__(self, data: Any) -> Any:
        return apply_modality(data, self.modality, list(self.parent), self.score)


class StreamSplit(TorchDataset[Any]):
    """A built split whose clips come out augmented (training) and as ``stream`` (unless
    the batches are converted on the device); everything else passes through."""

    def __init__(
        self, split: Any, stream: Stream | None, augment: Augmentation | None = None
    ) -> None:
        self.split = split
        self.stream = stream
        self.augment = augment

    def __len__(self) -> int:
        return len(self.split)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        clip, label = self.split[index]
        clip = torch.as_tensor(clip)
        if self.augment is not None:
            clip = self.augment(clip)
        if self.stream is not None:
            clip = self.stream(clip)
        return clip, label

    def __getattr__(self, name: str) -> Any:  # sample_names, class_names, ...
        if name == "split":
            raise AttributeError(name)
        return getattr(self.split, name)


class PluginSamples(TorchDataset[Any]):
    """A split as a dataset plugin built it, each item read as a call into the plugin:
    an exception its ``__getitem__`` raises (in this process or in a DataLoader worker)
    becomes one :class:`~stgcn.errors.PluginError` line naming the dataset, its plugin
    and the index, with the original chained for ``--debug``. Everything else passes
    through to the plugin's object."""

    def __init__(self, samples: Any, dataset: Dataset) -> None:
        self.samples = samples
        self.what = f"dataset {dataset.name!r}"
        self.plugin = plugin_of(dataset)

    def __len__(self) -> int:
        with plugin_code(self.what, self.plugin, "__len__"):
            return len(self.samples)

    def __getitem__(self, index: int) -> Any:
        with plugin_code(self.what, self.plugin, f"__getitem__({index})"):
            return self.samples[index]

    def __getattr__(self, name: str) -> Any:  # sample_names, class_names, ...
        if name.startswith("__") or name in ("samples", "what", "plugin"):  # unpickling too
            raise AttributeError(name)
        return getattr(self.samples, name)


def build_split(
    dataset: Dataset,
    split: str,
    data_path: Any,
    options: Mapping[str, Any] | None,
    on_device: bool = False,
    training: bool | None = None,
) -> tuple[Any, Stream]:
    """``dataset.build`` without the core's options; training clips augmented here, and
    clips converted to the stream here unless the caller converts whole batches on its
    device (``on_device``). ``training`` (by default: the split is "train") says whether
    the split is trained on: only then does the core augment its clips, and the dataset
    is told so (:attr:`~stgcn.plugins.records.BuildRequest.training`), to sample at
    random or not."""
    training = split == "train" if training is None else training
    modality, rest = split_options(options)
    stream = Stream.of(dataset, modality)
    augment = Augmentation.from_options(
        dict(options or {}), dataset.in_channels, bool(dataset.score_channel)
    )
    request = BuildRequest(split=split, data_path=data_path, options=rest, training=training)
    samples = plugin_call(dataset, f"build({split!r})", dataset.build, request)
    built = PluginSamples(samples, dataset)
    per_clip = None if stream.identity or on_device else stream
    wanted = augment if training and augment.active else None
    if per_clip is None and wanted is None:
        return built, stream
    return StreamSplit(built, per_clip, wanted), stream
