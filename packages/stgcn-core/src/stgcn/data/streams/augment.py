"""Random rotation and scaling of skeletons, for any dataset's training clips.

``--data-option random_rot=THETA`` rotates each training clip's 3D skeleton about the
x, y and z axes by angles drawn from U(-THETA, THETA) radians, one rotation for the whole
clip; ``random_scale=S`` multiplies each coordinate channel by its own factor from
U(1 - S, 1 + S). These are the augmentations of PYSKL's 3D recipes (RandomRot, theta 0.3
there by default, and RandomScale). A detection score channel is left as it is; the
rotation needs x, y and z, so it is refused for 2D data. Zero (missing) joints stay zero.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import torch

from stgcn.errors import StgcnError

OPTIONS = ("random_rot", "random_scale")


def _amount(options: Mapping[str, Any], key: str) -> float:
    try:
        value = float(options.get(key, 0.0))
    except (TypeError, ValueError):
        value = math.nan
    if not math.isfinite(value) or value < 0:
        raise StgcnError(f"data option {key} must be a non-negative number, got {options[key]!r}")
    return value


@dataclass(frozen=True)
class Augmentation:
    """Rotation (radians) and scale amplitudes; ``coordinates`` channels are moved."""

    rot: float = 0.0
    scale: float = 0.0
    coordinates: int = 3

    @classmethod
    def from_options(cls, options: Mapping[str, Any], channels: int, score: bool) -> Augmentation:
        rot, scale = _amount(options, "random_rot"), _amount(options, "random_scale")
        coordinates = channels - 1 if score else channels
        if rot and coordinates != 3:
            raise StgcnError(
                "data option random_rot rotates 3D skeletons (x, y, z): this dataset's clips "
                f"have {coordinates} coordinate channels"
            )
        return cls(rot, scale, coordinates)

    @property
    def active(self) -> bool:
        return bool(self.rot or self.scale)

    def __call__(self, clip: torch.Tensor) -> torch.Tensor:
        """One clip (C, T, V, M), drawn from torch's generator (seeded per epoch and worker)."""
        clip = clip.clone()
        c = self.coordinates
        if self.rot:
            ax, ay, az = ((torch.rand(3, dtype=torch.float64) * 2 - 1) * self.rot).tolist()
            rotation = _rotation_z(az) @ _rotation_y(ay) @ _rotation_x(ax)
            moved = torch.einsum("ab,btvm->atvm", rotation.to(clip.dtype), clip[:3])
            clip[:3] = moved
        if self.scale:
            factors = 1 + (torch.rand(c, dtype=torch.float64) * 2 - 1) * self.scale
            clip[:c] = clip[:c] * factors.to(clip.dtype)[:, None, None, None]
        return clip


def _rotation_x(a: float) -> torch.Tensor:
    cos, sin = math.cos(a), math.sin(a)
    return torch.tensor([[1, 0, 0], [0, cos, -sin], [0, sin, cos]], dtype=torch.float64)


def _rotation_y(a: float) -> torch.Tensor:
    cos, sin = math.cos(a), math.sin(a)
    return torch.tensor([[cos, 0, sin], [0, 1, 0], [-sin, 0, cos]], dtype=torch.float64)


def _rotation_z(a: float) -> torch.Tensor:
    cos, sin = math.cos(a), math.sin(a)
    return torch.tensor([[cos, -sin, 0], [sin, cos, 0], [0, 0, 1]], dtype=torch.float64)
