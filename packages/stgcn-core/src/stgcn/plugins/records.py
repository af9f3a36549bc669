"""What plugins provide: a backend, a dataset, an exporter, a logger, a pose estimator,
a skeleton layout, a model.

A backend is a :class:`stgcn.plugins.backend.BackendBase` subclass, whose members the
Protocols here describe; datasets and exporters are small frozen records built with a
function or two, and each function a plugin gives the core takes one frozen request
object (plugin API 2.0), which may gain fields with defaults but never a second
signature. The
loggers' records are :mod:`stgcn.plugins.logger_records`, the pose estimators'
:mod:`stgcn.plugins.pose_records`, the models' :mod:`stgcn.plugins.model_records`,
the released weights' :mod:`stgcn.plugins.weights_records`, all re-exported here, and
a layout is the model layer's :class:`~stgcn.model.layouts.Layout` (the graph is built
from it), re-exported.
Nothing here imports a device library: a record must be cheap to create so that
``stgcn plugins`` can list everything without touching hardware.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from stgcn.errors import StgcnError
from stgcn.model.contract import ModelSpec as ModelSpec
from stgcn.model.contract import SkeletonModel as SkeletonModel
from stgcn.model.layouts import Layout as Layout
from stgcn.plugins.logger_records import Logger as Logger
from stgcn.plugins.logger_records import LoggerContext as LoggerContext
from stgcn.plugins.logger_records import RunLogger as RunLogger
from stgcn.plugins.model_records import Model as Model
from stgcn.plugins.model_records import NoOptions as NoOptions
from stgcn.plugins.model_records import RecogniseRequest as RecogniseRequest
from stgcn.plugins.pose_records import PoseEstimator as PoseEstimator
from stgcn.plugins.pose_records import PoseModel as PoseModel
from stgcn.plugins.pose_records import PoseOpenRequest as PoseOpenRequest
from stgcn.plugins.settings import Settings
from stgcn.plugins.weights_records import Weights as Weights

if TYPE_CHECKING:
    import numpy as np
    import torch
    from torch.utils.data import Dataset as TorchDataset

    from stgcn.plugins.backend import Precision


@dataclass(frozen=True)
class Availability:
    """Whether a backend can run here and, when it cannot, what the user should do."""

    available: bool
    reason: str = ""


@runtime_checkable
class Backend(Protocol):
    """A device family: where tensors live, which collective joins the cards, which
    precisions run fast. A plugin registers a :class:`~stgcn.plugins.backend.BackendBase`
    subclass, which has these members (and :class:`Accelerator`'s) with defaults; a run
    gets its own backend made from that record with the run's ``--backend-option``
    settings (:class:`RunBackend`, ``BackendBase.for_run``).

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
    :class:`stgcn.plugins.backend.Precision`): where the run computes and how its
    processes join.

    :class:`~stgcn.plugins.backend.BackendBase` declares defaults for the last four (no
    pinned memory, the requested timeout as it is, no device generator, the shared
    precision part), so a plugin writes only what its device does differently and the
    core reads them all directly.
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


@dataclass(frozen=True)
class BuildRequest:
    """What ``Dataset.build`` is asked for: one split of the data (plugin API 2.0).

    New fields come with defaults, so a plugin reading the ones it knows keeps working.
    """

    #: "train" or "val"
    split: str
    #: the ``--data-path`` folder or file, checked to exist; None for a dataset that
    #: needs none
    data_path: Path | None
    #: the dataset's own ``--data-option KEY=VALUE`` pairs (the core's taken out)
    options: Mapping[str, Any]
    #: whether the split is built to train on (random sampling, augmentation) or to
    #: evaluate (the same clips every time): True only for the split the trainer trains
    #: on, False for validation and for ``stgcn eval`` of either split
    training: bool


@dataclass(frozen=True)
class SampleRequest:
    """What ``Dataset.read_sample`` is asked for: one clip file in the dataset's own
    format (``stgcn predict --input FILE``), read as the model's data options say."""

    path: Path
    #: the data options the model was trained with (the core's taken out)
    options: Mapping[str, Any]


@dataclass(frozen=True)
class NamedClipRequest:
    """What ``Dataset.read_named_clip`` is asked for: the clip named ``clip`` (one of the
    dataset's ``sample_names``) inside the file at ``path`` that holds many
    (``stgcn predict --input FILE#CLIP``)."""

    path: Path
    clip: str
    #: the data options the model was trained with (the core's taken out)
    options: Mapping[str, Any]


@dataclass(frozen=True)
class DescribeRequest:
    """What ``Dataset.describe`` is asked for: the facts of the data at ``data_path``
    read with ``options`` (the dataset's own data options)."""

    data_path: Path | None
    options: Mapping[str, Any]


@dataclass(frozen=True)
class AugmentRequest:
    """What ``Dataset.augment_batch`` is asked for: the training augmentation of one
    collated batch ``(N, in_channels, T, V, num_person)`` on its device."""

    batch: torch.Tensor
    #: the run's ``--data-option`` pairs
    options: Mapping[str, Any]


#: ``build(request)``: a ``torch.utils.data.Dataset`` of one split
BuildDataset = Callable[[BuildRequest], "TorchDataset[Any]"]
#: ``read_sample(request)``: one clip file read into a float32 array
ReadSample = Callable[[SampleRequest], "np.ndarray"]
#: ``read_named_clip(request)``: one clip of a file that holds many
ReadNamedClip = Callable[[NamedClipRequest], "np.ndarray"]
#: ``describe(request)``: the facts the data decides
Describe = Callable[[DescribeRequest], "DataFacts"]
#: ``augment_batch(request)``: the augmented batch, same shape, same device
AugmentBatch = Callable[[AugmentRequest], "torch.Tensor"]


@dataclass(frozen=True)
class DataFacts:
    """What a dataset learns about itself from its data.

    ``Dataset.describe(request)`` returns one once the data path and the
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
    coordinates: str | None = None


@dataclass(frozen=True)
class Dataset:
    """A skeleton dataset: its shape facts and a function that builds a split.

    Each callback takes one frozen request object (plugin API 2.0), which may gain
    fields with defaults but never loses one.

    ``build(request)`` (:class:`BuildRequest`) returns a ``torch.utils.data.Dataset``
    whose items are ``(float32 tensor (in_channels, T, V, num_person), int label)``.
    ``request.training`` is True only for the split the trainer trains on; for
    validation and ``stgcn eval`` of either split it is False, and the split must then
    give the same clips every time (no random windows, no augmentation).
    ``recipe`` holds the training settings this data wants by default (epochs,
    batch_size, lr, steps, ...); command-line options still win.
    ``read_sample(request)`` (:class:`SampleRequest`) reads one clip in the dataset's
    own file format (a raw JSON clip, say) into a float32 numpy array (in_channels, T,
    V, num_person), as the model's data options say, so that ``stgcn predict`` can take
    files the user already has.
    ``read_named_clip(request)`` (:class:`NamedClipRequest`) reads one clip out of a
    file that holds many (an annotation pickle, a split's arrays), by the name the
    dataset gives it (its ``sample_names``): ``stgcn predict --input FILE#CLIP``.
    ``describe(request)`` (:class:`DescribeRequest`) gives the facts the data itself
    decides: classes, layout, channels, persons (:class:`DataFacts`). A dataset with
    one registers ``num_class=0`` when its classes are known only from its data.
    Validation items may carry a clip axis, ``(clips, in_channels, T, V, num_person)``:
    the evaluation averages the softmax scores over the clips.
    ``presets`` are named recipes (``stgcn run --preset NAME``), for example the
    published schedule beside a quicker default.
    ``augment_batch(request)`` (:class:`AugmentRequest`), where given, applies the
    training augmentation to a whole collated batch on its device; a split built with
    ``options`` updated by ``batch_augment_options`` leaves that augmentation to it
    (``stgcn bench --with-data`` times both paths).
    ``score_channel`` says whether the last channel is a detection score; the core's
    bone and motion streams (``--data-option modality=``) need it.
    ``coordinates`` names the coordinate convention the dataset's readers put 2D
    keypoints in (:mod:`stgcn.data.coordinates`: ``reference``, x / width - 0.5, or
    ``pyskl``, [-1, 1]); the checkpoint records it, and ``stgcn predict --video`` and
    ``--stream`` give the model its inputs the same way.
    """

    name: str
    num_class: int
    build: BuildDataset
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
    read_named_clip: ReadNamedClip | None = None
    #: how 2D keypoints become model input (a name of stgcn.data.coordinates.CONVENTIONS)
    coordinates: str = "reference"
    #: the distribution that registered this record (named in a plugin's error line):
    #: the registry fills it in, a plugin leaves it out
    plugin: str = field(default="", compare=False)

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
class ExportRequest:
    """One export: what :attr:`Exporter.export` gets (plugin API 2.0).

    Frozen, and later versions only add fields with defaults, so an exporter written
    against this one keeps working. ``stgcn export NAME`` makes it from a checkpoint; a
    program makes one itself (``ExportRequest(model, Path("m.pt"))``).
    """

    #: the network to write, in eval mode, on the cpu: a ``torch.nn.Module`` that meets
    #: the model contract (``model.input_shape(frames)`` is one clip's ``(C, T, V, M)``)
    model: SkeletonModel
    #: the file to write; ``stgcn export`` has refused a folder, the checkpoint itself and
    #: an existing file without the exporter's ``suffix``, and replaces an older export
    output: Path
    #: the exporter's own options: from ``stgcn export NAME``, those the user typed of the
    #: options made from its ``settings`` family (already typed), or the ``--option
    #: KEY=VALUE`` pairs as strings where it declares none; a program passes what it
    #: likes. Parse them with the family (``Family.parse(request.options)``), which
    #: refuses unknown keys and fills in the defaults
    options: Mapping[str, Any] = field(default_factory=dict)
    #: the dataset the model was trained on (None: unknown) and its classes' names, where
    #: known for the model's class count
    dataset: str | None = None
    class_names: tuple[str, ...] | None = None
    #: the data options the model was trained with (its stream, its window): what a
    #: consumer of the export must apply to a clip before the model sees it
    data_options: Mapping[str, Any] = field(default_factory=dict)
    #: the persons in one sample the model takes (its dataset's, else 2) and the frames
    #: of the clips it was trained on (None: not recorded); the channels and joints are
    #: the model's own (``model.input_shape(frames)``)
    persons: int = 2
    frames: int | None = None
    #: the checkpoint or state_dict the model came from (None: a program's model)
    checkpoint: Path | None = None
    #: the registered model that built it (``stgcn plugins`` lists them)
    model_name: str = "stgcn"
    #: the coordinate convention of the model's inputs (stgcn.data.coordinates): how a
    #: consumer of the export turns pixel keypoints into the model's input
    coordinates: str = "reference"


@runtime_checkable
class ExportReport(Protocol):
    """What :attr:`Exporter.export` returns: the file written, and the lines ``stgcn
    export NAME`` prints, one by one (what was written; how it was checked against the
    PyTorch model, or that it was not)."""

    @property
    def path(self) -> Path: ...

    def lines(self) -> Sequence[str]: ...


@dataclass(frozen=True)
class Exporter:
    """Writes a trained model to another format; registered, it is the command ``stgcn
    export NAME`` with no command code of its own (plugin API 2.0).

    ``export(request)`` writes ``request.output`` from ``request.model``
    (:class:`ExportRequest`) and returns an :class:`ExportReport`; it should write under
    a temporary name and rename at the end, so that a failure leaves no half-written
    file. ``suffix`` (``".onnx"``) names the file type it writes: ``stgcn export``
    replaces an existing file only of that type. ``settings``, a
    :class:`~stgcn.plugins.settings.Settings` family, declares its options: each field
    whose help is a :class:`~stgcn.plugins.settings.Flag` becomes a command-line option
    (``--opset``, say), the others are for programs; without one, the command takes
    ``--option KEY=VALUE`` pairs and hands them over as strings. The family must import
    without torch: ``stgcn`` builds every exporter's command when it starts.
    """

    name: str
    export: Callable[[ExportRequest], ExportReport]
    description: str = ""
    suffix: str = ""
    settings: type[Settings] | None = None
    #: the distribution that registered this record (named in a plugin's error line): the
    #: registry fills it in, a plugin leaves it out
    plugin: str = field(default="", compare=False)
