"""What plugins provide: a backend, a dataset, an exporter, a logger, a pose estimator.

Backends are Protocols (a plugin implements the methods on any object it likes, or
subclasses :class:`stgcn.plugins.backend.BackendBase` for the defaults);
datasets and exporters are small frozen records built with a function or two. The
loggers' records are :mod:`stgcn.plugins.logger_records`, the pose estimators'
:mod:`stgcn.plugins.pose_records`, both re-exported here.
Nothing here imports a device library: a record must be cheap to create so that
``stgcn plugins`` can list everything without touching hardware.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, cast, runtime_checkable

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import Version

from stgcn.errors import StgcnError
from stgcn.plugins.logger_records import Logger as Logger
from stgcn.plugins.logger_records import LoggerContext as LoggerContext
from stgcn.plugins.logger_records import RunLogger as RunLogger
from stgcn.plugins.pose_records import PoseEstimator as PoseEstimator
from stgcn.plugins.pose_records import PoseModel as PoseModel

if TYPE_CHECKING:
    import numpy as np
    import torch
    from torch.utils.data import Dataset as TorchDataset

    from stgcn.model.graph import Layout
    from stgcn.plugins.backend import Precision


@dataclass(frozen=True)
class Availability:
    """Whether a backend can run here and, when it cannot, what the user should do."""

    available: bool
    reason: str = ""


@runtime_checkable
class Backend(Protocol):
    """A device family: where tensors live, which collective joins the cards, which
    precisions run fast; what a plugin registers. A run gets its own backend made from
    this record (:class:`RunBackend`), which adds the :class:`Accelerator`'s optional
    features.

    ``availability`` and ``device_count`` must be cheap and must not import the
    device library when the plugin module loads: they run for ``stgcn plugins``.
    """

    name: str
    description: str
    #: torch.distributed backend that joins several cards: "gloo", "nccl", "hccl".
    collective: str
    #: precisions this backend can train in, from "fp32", "bf16", "fp16".
    precisions: tuple[str, ...]

    def availability(self) -> Availability: ...

    def device_count(self) -> int: ...

    def default_precision(self) -> str: ...

    def configure(self, options: Mapping[str, str]) -> None:
        """Take the ``--backend-option KEY=VALUE`` pairs (``--compile`` arrives as
        ``compile=true``) before ``setup``; refuse an unknown key with StgcnError. The core
        calls it only on a copy made for one run (:class:`~stgcn.plugins.backend.
        LegacyBackend`); a :class:`~stgcn.plugins.backend.BackendBase` is created per run
        with ``for_run`` instead."""
        ...

    def setup(self, local_rank: int) -> torch.device:
        """Bind this process to its device and return it."""
        ...

    def autocast(self, precision: str) -> AbstractContextManager[Any]: ...

    def grad_scaler(self, precision: str) -> torch.amp.GradScaler | None:
        """A loss scaler where the precision needs one (fp16), else None."""
        ...

    def prepare_model(self, model: torch.nn.Module, precision: str) -> torch.nn.Module:
        """Device-specific tuning of a model already on the device (memory format, compile)."""
        ...

    def synchronize(self) -> None:
        """Wait for queued device work, so that timings are honest."""
        ...


@runtime_checkable
class Accelerator(Protocol):
    """The device part of a run's backend (the other part is its precision,
    :class:`stgcn.backends.precision.Precision`): where the run computes and how its
    processes join.

    The last four members are optional for a plugin: :class:`~stgcn.plugins.backend.
    BackendBase` declares their defaults (no pinned memory, the requested timeout as it
    is, no device generator), and the registry fills them in for a backend written
    against the older :class:`Backend` alone, so the core reads them all directly.
    """

    name: str
    #: torch.distributed backend that joins several cards: "gloo", "nccl", "hccl".
    collective: str
    #: whether DataLoaders pin host memory for this device: ``non_blocking`` copies from
    #: pinned memory overlap the device's work (torch-npu waits for the device otherwise)
    pin_memory: bool

    def availability(self) -> Availability: ...

    def device_count(self) -> int: ...

    def default_precision(self) -> str: ...

    def setup(self, local_rank: int) -> torch.device:
        """Bind this process to its device and return it."""
        ...

    def synchronize(self) -> None:
        """Wait for queued device work, so that timings are honest."""
        ...

    def collective_timeout(self, requested: timedelta) -> timedelta:
        """The timeout to hand ``init_process_group`` so that a collective waiting longer
        than ``requested`` fails, for collective libraries that read it their own way."""
        ...

    def rng_state(self) -> torch.Tensor | None:
        """The device's own random generator's state (after ``setup``), for a checkpoint;
        None where the device draws from the host's generator (the cpu)."""
        ...

    def set_rng_state(self, state: torch.Tensor | None) -> None:
        """Restore what :meth:`rng_state` gave; None leaves the generator as it is."""
        ...

    def precision_part(self, precision: str) -> Precision | None:
        """The run's precision where the device needs more than the shared part built from
        ``autocast`` and ``grad_scaler`` (the npu's overflow status); None otherwise."""
        ...


@runtime_checkable
class RunBackend(Backend, Accelerator, Protocol):
    """One run's backend, what :meth:`stgcn.plugins.registry.Registry.ready_backend`
    returns: created from the registered record with the run's ``--backend-option``
    settings (the record itself is never changed), with every member of
    :class:`Backend` and :class:`Accelerator`."""


BuildDataset = Callable[[str, "Path | None", "Mapping[str, Any]"], "TorchDataset[Any]"]
#: ``build(split, data_path, options, training=...)`` (plugin API 1.4), for a record
#: declared with ``build_training=True``: ``training`` says whether the split is built to
#: train on (random sampling, augmentation) or to evaluate (the same clips every time)
BuildDatasetForPurpose = Callable[..., "TorchDataset[Any]"]
#: ``read_sample(path)``: one clip file read into a float32 array
ReadClip = Callable[["Path"], "np.ndarray"]
#: ``read_sample(path, options)`` (plugin API 1.2): read as the model's data options say
#: (see :meth:`Dataset.reads_sample_options`)
ReadClipWithOptions = Callable[["Path", "Mapping[str, Any]"], "np.ndarray"]
ReadSample = ReadClip | ReadClipWithOptions
#: ``read_named_clip(path, clip, options)`` (plugin API 1.4): the clip named ``clip``
#: inside the file at ``path`` that holds many (``stgcn predict --input FILE#CLIP``)
ReadNamedClip = Callable[["Path", str, "Mapping[str, Any]"], "np.ndarray"]
Describe = Callable[["Path | None", "Mapping[str, Any]"], "DataFacts"]
AugmentBatch = Callable[["torch.Tensor", "Mapping[str, Any]"], "torch.Tensor"]


@dataclass(frozen=True)
class DataFacts:
    """What a dataset learns about itself from its data (plugin API 1.2).

    ``Dataset.describe(data_path, options)`` returns one once the data path and the
    ``--data-option`` pairs are known; each field left None keeps the registered
    record's value. The trainer builds the model from the result and the checkpoint
    stores it, so evaluation, prediction and export need neither the plugin's
    load-time state nor the data.
    """

    num_class: int | None = None
    class_names: Sequence[str] | None = None
    layout: str | Layout | None = None
    in_channels: int | None = None
    num_person: int | None = None
    score_channel: bool | None = None


@dataclass(frozen=True)
class Dataset:
    """A skeleton dataset: its shape facts and a function that builds a split.

    ``build(split, data_path, options)`` returns a ``torch.utils.data.Dataset`` whose
    items are ``(float32 tensor (in_channels, T, V, num_person), int label)``, with
    ``split`` "train" or "val". ``options`` carries ``--data-option KEY=VALUE`` pairs.
    One declared with ``build_training=True`` (plugin API 1.4) also gets the keyword
    ``training``: True only for the split the trainer trains on, False for validation and
    for ``stgcn eval`` of either split, which must then give the same clips every time
    (no random windows, no augmentation).
    ``recipe`` holds the training settings this data wants by default (epochs,
    batch_size, lr, steps, ...); command-line options still win.
    ``read_sample(path)`` reads one clip in the dataset's own file format (a raw
    JSON clip, say) into a float32 numpy array (in_channels, T, V, num_person), so
    that ``stgcn predict`` can take files the user already has; one declared with
    ``read_sample_options=True`` (or of a plugin whose ``STGCN_API`` starts at 1.2)
    gets the model's data options as a second argument, so that the clip is read as
    the model was trained on it.
    ``read_named_clip(path, clip, options)`` (plugin API 1.4) reads one clip out of a
    file that holds many (an annotation pickle, a split's arrays), by the name the
    dataset gives it (its ``sample_names``): ``stgcn predict --input FILE#CLIP``.
    ``describe(data_path, options)`` (plugin API 1.2) gives the facts the data itself
    decides: classes, layout, channels, persons (:class:`DataFacts`). A dataset with
    one registers ``num_class=0`` when its classes are known only from its data.
    Validation items may carry a clip axis, ``(clips, in_channels, T, V, num_person)``:
    the evaluation averages the softmax scores over the clips.
    ``presets`` are named recipes (``stgcn run --preset NAME``), for example the
    published schedule beside a quicker default.
    ``augment_batch(batch, options)``, where given, applies the training augmentation
    to a whole collated batch on its device; a split built with ``options`` updated by
    ``batch_augment_options`` leaves that augmentation to it (``stgcn bench
    --with-data`` times both paths).
    ``score_channel`` (plugin API 1.1) says whether the last channel is a detection
    score; the core's bone and motion streams (``--data-option modality=``) need it.
    """

    name: str
    num_class: int
    build: BuildDataset | BuildDatasetForPurpose
    layout: str | Layout = "openpose"
    strategy: str = "spatial"
    in_channels: int = 3
    num_person: int = 2
    description: str = ""
    needs_data_path: bool = True
    class_names: Sequence[str] | None = None
    recipe: Mapping[str, Any] = field(default_factory=dict)
    read_sample: ReadSample | None = None
    presets: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    augment_batch: AugmentBatch | None = None
    batch_augment_options: Mapping[str, Any] = field(default_factory=dict)
    #: the last channel is a detection score (2D keypoints: x, y, score), not a
    #: coordinate (3D: x, y, z); bones and motion average it instead of subtracting
    score_channel: bool = True
    describe: Describe | None = None
    #: whether ``read_sample`` takes the data options as a second argument; None leaves
    #: it to the plugin's ``STGCN_API``: options when the range starts at 1.2 or later
    read_sample_options: bool | None = None
    read_named_clip: ReadNamedClip | None = None
    #: whether ``build`` takes the keyword ``training`` (plugin API 1.4); without it
    #: ``build`` gets three arguments, as before, and ``stgcn eval`` draws its random
    #: numbers from fixed seeds so that two evaluations agree
    build_training: bool = False
    #: the distribution that registered this record and the ``STGCN_API`` range its
    #: module declares: the registry fills both in, a plugin leaves them out
    plugin: str = field(default="", compare=False)
    plugin_api: str = field(default="", compare=False)

    def reads_sample_options(self) -> bool:
        """Whether ``read_sample`` gets the options: as the record declares, else as its
        plugin's declared API range says (a range admitting 1.0 or 1.1 means the path
        alone, since ``read_sample`` took only the path before 1.2)."""
        if self.read_sample_options is not None:
            return self.read_sample_options
        if not self.plugin_api:
            return False
        try:
            supported = SpecifierSet(self.plugin_api)
        except InvalidSpecifier:
            return False
        return not any(Version(old) in supported for old in ("1.0", "1.1"))

    def build_for(
        self, split: str, data_path: Path | None, options: Mapping[str, Any], training: bool
    ) -> TorchDataset[Any]:
        """``build`` called as the record declares: with ``training`` where it takes it."""
        if self.build_training:
            return cast(BuildDatasetForPurpose, self.build)(
                split, data_path, options, training=training
            )
        return cast(BuildDataset, self.build)(split, data_path, options)

    def with_facts(self, facts: DataFacts) -> Dataset:
        """This record with the facts that ``facts`` sets (None keeps a field)."""
        changes = {
            name: value
            for name in DataFacts.__dataclass_fields__
            if (value := getattr(facts, name)) is not None
        }
        if "class_names" in changes:
            changes["class_names"] = tuple(str(n) for n in changes["class_names"])
        return replace(self, **changes) if changes else self

    def data_path_for(self, data_path: str | Path | None) -> Path | None:
        """The folder or file to read, checked: present where needed, existing where given."""
        if self.needs_data_path and not data_path:
            raise StgcnError(f"dataset {self.name!r} needs --data-path")
        if data_path and not Path(data_path).exists():
            raise StgcnError(f"data path not found: {data_path}")
        return Path(data_path) if data_path else None


@dataclass(frozen=True)
class Exporter:
    """Writes a trained model to another format.

    ``export(model, output, options)`` writes ``output`` from an eval-mode model;
    ``options`` are exporter-specific (opset, example shape, ...). What it returns is its
    own (the onnx exporter's report, which its command prints); the core ignores it.
    """

    name: str
    export: Callable[[torch.nn.Module, Path, Mapping[str, Any]], object]
    description: str = ""
    suffix: str = ""
