"""The resolved configuration of a training run.

Values come from four places, later ones winning: built-in defaults, the
dataset's recipe, a ``--config`` file (TOML or YAML), the command line. The
``data_options`` and ``backend_options`` tables are merged key by key.
``config.json`` in the work dir records the result, so a run can be repeated or
resumed from it alone.
"""

from __future__ import annotations

import dataclasses
import json
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stgcn.errors import StgcnError, first_line
from stgcn.model import INIT_SCHEMES
from stgcn.plugins.settings import parse_bool
from stgcn.training.preemption.schedule import CheckpointEvery

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

#: the choices of ``--precision``, ``--lr-schedule`` and ``--lr-scaling``
PRECISIONS = ("fp32", "bf16", "fp16")
SCHEDULES = ("step", "cosine")
LR_SCALINGS = ("none", "linear")
#: tables merged key by key rather than replaced: a preset's data options and the
#: command line's ``--data-option`` pairs add up
MERGED = ("data_options", "eval_data_options", "backend_options")


@dataclass
class RunConfig:
    backend: str | None = None
    cards: int = 1
    dataset: str = "synthetic"
    data_path: str | None = None
    data_options: dict[str, Any] = field(default_factory=dict)
    #: data options that ``stgcn eval`` of this run adds (PYSKL tests with num_clips=10
    #: where training validates with one clip)
    eval_data_options: dict[str, Any] = field(default_factory=dict)
    epochs: int = 50
    batch_size: int = 64
    lr: float = 0.1
    momentum: float = 0.9
    nesterov: bool = True
    weight_decay: float = 1e-4
    steps: list[int] = field(default_factory=lambda: [20, 30, 40, 50])
    gamma: float = 0.1
    lr_schedule: str = "step"
    warmup_epochs: float = 0.0
    lr_scaling: str = "none"
    lr_reference_batch: int | None = None
    sync_bn: bool = False
    precision: str | None = None
    backend_options: dict[str, Any] = field(default_factory=dict)
    dropout: float = 0.0
    label_smoothing: float = 0.0
    init: str = "reference"
    work_dir: str | None = None
    seed: int = 0
    weights: str | None = None
    workers: int = 0
    #: registered loggers the run's events go to (``--logger``)
    loggers: list[str] = field(default_factory=list)
    #: steps between the step scalars handed to the loggers
    log_every: int = 50
    #: epoch checkpoints kept beside latest and best (``--keep``; 0: none)
    keep: int = 0
    #: a step checkpoint (latest) every N steps, or every N minutes with ``m``
    #: (``--checkpoint-every 500``, ``10m``); None: at the end of each epoch only
    checkpoint_every: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True) + "\n"

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any], source: str) -> RunConfig:
        return cls().updated(values, source)

    def updated(self, values: Mapping[str, Any], source: str) -> RunConfig:
        """A copy with ``values`` applied, each checked against the field's type."""
        known = {f.name: f for f in dataclasses.fields(self)}
        changes: dict[str, Any] = {}
        for raw_key, value in values.items():
            key = raw_key.replace("-", "_")
            if key not in known:
                raise StgcnError(f"{source}: unknown setting {raw_key!r}")
            changes[key] = _coerce(key, value, getattr(self, key), source)
            if key in MERGED and changes[key] is not None:  # per key: a later source wins
                changes[key] = {**getattr(self, key), **changes[key]}
        result = dataclasses.replace(self, **changes)
        result.validate(source)
        return result

    def validate(self, source: str = "config") -> None:
        checks = [
            (self.cards >= 1, "cards must be at least 1"),
            (self.epochs >= 1, "epochs must be at least 1"),
            (self.batch_size >= 1, "batch_size must be at least 1"),
            (self.lr > 0, "lr must be positive"),
            (self.weight_decay >= 0, "weight_decay must not be negative"),
            (self.workers >= 0, "workers must not be negative"),
            (self.log_every >= 1, "log_every must be at least 1"),
            (self.keep >= 0, "keep must not be negative"),
            (0 <= self.dropout < 1, "dropout must lie in [0, 1)"),
            (0 <= self.label_smoothing < 1, "label_smoothing must lie in [0, 1)"),
            (self.init in INIT_SCHEMES, f"init must be one of {', '.join(INIT_SCHEMES)}"),
            (self.warmup_epochs >= 0, "warmup_epochs must not be negative"),
            (self.lr_schedule in SCHEDULES, f"lr_schedule must be one of {', '.join(SCHEDULES)}"),
            (self.lr_scaling in LR_SCALINGS, f"lr_scaling must be one of {', '.join(LR_SCALINGS)}"),
            ((self.lr_reference_batch or 1) >= 1, "lr_reference_batch must be at least 1"),
            (all(step >= 1 for step in self.steps), "steps must be epoch numbers >= 1"),
        ]
        for ok, message in checks:
            if not ok:
                raise StgcnError(f"{source}: {message}")
        try:
            CheckpointEvery.parse(self.checkpoint_every)
        except StgcnError as error:
            raise StgcnError(f"{source}: {error}") from None


def _coerce(key: str, value: Any, current: Any, source: str) -> Any:
    if value is None:
        return None
    try:
        if key == "steps":
            if isinstance(value, str):
                value = [part for part in value.replace(",", " ").split() if part]
            return sorted(int(step) for step in value)
        if key == "loggers":
            if isinstance(value, str):
                value = value.split(",")
            return list(dict.fromkeys(str(name).strip() for name in value if str(name).strip()))
        if key in MERGED:
            if not isinstance(value, Mapping):
                raise TypeError("expected a table of KEY = VALUE")
            return dict(value)
        if key == "lr_reference_batch":
            return int(value)
        if isinstance(current, bool):
            return parse_bool(value, f"{source}: {key}")
        if isinstance(current, int) and not isinstance(current, bool):
            if isinstance(value, float) and not value.is_integer():
                raise ValueError(f"{value} is not a whole number")
            return int(value)
        if isinstance(current, float):
            return float(value)
        return str(value)
    except (TypeError, ValueError) as error:
        raise StgcnError(f"{source}: bad value for {key}: {error}") from None


def read_config_file(path: str | Path) -> dict[str, Any]:
    """Settings from a TOML (.toml) or YAML (.yaml/.yml) file, keys as the options."""
    path = Path(path)
    if not path.is_file():
        raise StgcnError(f"config file not found: {path}")
    text = path.read_text(encoding="utf-8")
    try:
        if path.suffix == ".toml":
            data = tomllib.loads(text)
        elif path.suffix in (".yaml", ".yml"):
            import yaml

            data = yaml.safe_load(text) or {}
        else:
            raise StgcnError(f"config file {path}: use a .toml, .yaml or .yml file")
    except StgcnError:
        raise
    except Exception as error:  # any parse error becomes one line
        raise StgcnError(f"config file {path} cannot be parsed: {first_line(error)}") from None
    if not isinstance(data, dict):
        raise StgcnError(f"config file {path}: expected a table of settings")
    return data
