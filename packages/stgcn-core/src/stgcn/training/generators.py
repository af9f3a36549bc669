"""A rank's random generators for a checkpoint: the host's (Python, numpy, torch) and the
device's own where it has one (an npu's or a cuda card's dropout draws from it)."""

from __future__ import annotations

from typing import Any

import torch

from stgcn.model import checkpoint as ckpt
from stgcn.plugins.records import RunBackend


def rank_generators(backend: RunBackend, device: torch.device) -> dict[str, Any]:
    """This rank's generators: the host's, and the device's under "device" with its type."""
    state = ckpt.rng_state()
    device_state = backend.rng_state()
    if device_state is not None:
        state["device"] = {"type": device.type, "state": device_state}
    return state


def restore_generators(state: dict[str, Any], backend: RunBackend, device: torch.device) -> None:
    """Restore what :func:`rank_generators` gave; a checkpoint from before the device's
    generator was kept, or from another kind of device, leaves that generator as is."""
    ckpt.set_rng_state(state)
    saved = state.get("device")
    if isinstance(saved, dict) and saved.get("type") == device.type:
        backend.set_rng_state(saved["state"])
