"""What the stgcn-models tests share: the small models the training tests use, and the
facts and tools the PYSKL tests hold this package to, written from PYSKL's sources
(kennymckormick/pyskl), not from this package: the standard ``STGCN`` stage table, the
shapes of a state_dict's entries, PYSKL's bones, a PYSKL checkpoint of random tensors,
PYSKL's layers as functions of a state_dict for op-by-op forwards, and a PYSKL file run
through ``stgcn predict`` and ``stgcn export onnx``."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from stgcn.testing.helpers import run_stgcn

#: each model with the options that make it small enough for seconds of training
SMALL_MODELS = {
    "stgcnpp": ["--model-option", "base_channels=8", "--model-option", "num_stages=6"],
    "ctrgcn": ["--model-option", "base_channels=8"],
}
#: the same numbers on every CPU kind
FP32 = ["--backend", "cpu", "--precision", "fp32"]

#: PYSKL's ``STGCN(num_stages=10, inflate_stages=[5, 8], down_stages=[5, 8])`` from 64
#: base channels (ST-GCN++'s and PYSKL's ST-GCN's alike): (in, out, stride, residual) of
#: each block, the first from the input channels ("C") without a residual
BLOCKS: list[tuple[int | str, int, int, bool]] = [
    ("C", 64, 1, False),
    (64, 64, 1, True), (64, 64, 1, True), (64, 64, 1, True),
    (64, 128, 2, True), (128, 128, 1, True), (128, 128, 1, True),
    (128, 256, 2, True), (256, 256, 1, True), (256, 256, 1, True),
]  # fmt: skip

#: PYSKL's ``Graph.get_layout`` inward bones (child, parent), 0-based, and its centre
PYSKL_INWARD: dict[str, tuple[list[tuple[int, int]], int]] = {
    "ntu-rgb+d": (
        [
            (i - 1, j - 1)
            for i, j in [
                (1, 2), (2, 21), (3, 21), (4, 3), (5, 21), (6, 5), (7, 6), (8, 7), (9, 21),
                (10, 9), (11, 10), (12, 11), (13, 1), (14, 13), (15, 14), (16, 15), (17, 1),
                (18, 17), (19, 18), (20, 19), (22, 8), (23, 8), (24, 12), (25, 12),
            ]
        ],
        20,
    ),
    "coco": (
        [
            (15, 13), (13, 11), (16, 14), (14, 12), (11, 5), (12, 6), (9, 7), (7, 5),
            (10, 8), (8, 6), (5, 0), (6, 0), (1, 0), (3, 1), (2, 0), (4, 2),
        ],
        0,
    ),
    "openpose": (
        [
            (4, 3), (3, 2), (7, 6), (6, 5), (13, 12), (12, 11), (10, 9), (9, 8), (11, 5),
            (8, 2), (5, 1), (2, 1), (0, 1), (15, 0), (14, 0), (17, 15), (16, 14),
        ],
        1,
    ),
}  # fmt: skip


def batch_norm_shapes(prefix: str, channels: int) -> dict[str, tuple[int, ...]]:
    """The state_dict entries of a ``BatchNorm`` of ``channels`` named ``prefix``."""
    names = ("weight", "bias", "running_mean", "running_var")
    shapes: dict[str, tuple[int, ...]] = {f"{prefix}.{name}": (channels,) for name in names}
    shapes[f"{prefix}.num_batches_tracked"] = ()
    return shapes


def conv_shapes(prefix: str, out: int, into: int, kernel: int = 1) -> dict[str, tuple[int, ...]]:
    """The state_dict entries of a ``kernel``×1 ``Conv2d`` with a bias named ``prefix``."""
    return {f"{prefix}.weight": (out, into, kernel, 1), f"{prefix}.bias": (out,)}


def random_state(
    network: torch.nn.Module, seed: int, keep: tuple[str, ...] = ()
) -> dict[str, torch.Tensor]:
    """Tensors for every entry of ``network``'s state_dict, random so that nothing
    matches by chance: batch norm statistics and scales too, importance masks (``PA``)
    around 1, convolution weights scaled by their fan-in so that signals keep their size;
    batch counts 1000. Entries ending in one of ``keep`` keep the network's values (a
    graph buffer PYSKL never changes)."""
    generator = torch.Generator().manual_seed(seed)

    def normal(shape: torch.Size, scale: float, mean: float = 0.0) -> torch.Tensor:
        return mean + torch.randn(shape, generator=generator) * scale

    state = {}
    for key, value in network.state_dict().items():
        if key.endswith(keep):
            state[key] = value.clone()
        elif key.endswith("num_batches_tracked"):
            state[key] = torch.tensor(1000)
        elif key.endswith(".PA"):
            state[key] = normal(value.shape, 0.3, mean=1.0)
        elif key.endswith("running_var"):
            state[key] = torch.rand(value.shape, generator=generator) + 0.5
        elif key.endswith("weight") and value.dim() == 1:  # a batch norm's scale
            state[key] = normal(value.shape, 0.1, mean=1.0)
        elif key.endswith("weight"):  # a convolution's or the head's
            state[key] = normal(value.shape, value[0].numel() ** -0.5)
        else:
            state[key] = normal(value.shape, 0.3)
    return state


def save_pyskl_checkpoint(path: Path, state: Mapping[str, torch.Tensor]) -> None:
    """``state`` saved as mmcv's ``save_checkpoint`` writes PYSKL's checkpoints: ``meta``
    (with the numpy scalars mmcv's hooks leave there) and the recogniser's
    ``state_dict``."""
    meta = {
        "mmcv_version": "1.5.0",
        "time": "Sat Jun 11 10:00:00 2022",
        "epoch": 16,
        "iter": 12345,
        "config": "model = dict(...)",
        "hook_msgs": {"best_score": np.float64(0.878), "best_ckpt": "best_top1_acc_epoch_16.pth"},
        "seed": np.int64(1234),
    }
    torch.save({"meta": meta, "state_dict": dict(state)}, path)


class PysklOps:
    """PYSKL's layers in evaluation as functions of a state_dict's tensors, by the
    module's name, for forwards written op by op as PYSKL's modules compute them."""

    def __init__(self, state: Mapping[str, torch.Tensor]) -> None:
        self.state = state

    def bn(self, y: torch.Tensor, name: str) -> torch.Tensor:
        stats = (self.state[f"{name}.running_mean"], self.state[f"{name}.running_var"])
        affine = (self.state[f"{name}.weight"], self.state[f"{name}.bias"])
        return torch.nn.functional.batch_norm(y, *stats, *affine, False, 0.0, 1e-5)

    def conv(self, y: torch.Tensor, name: str, stride: int = 1, dilation: int = 1) -> torch.Tensor:
        """PYSKL's temporal (or 1×1) convolution: padded to keep the frames at stride 1."""
        weight = self.state[f"{name}.weight"]
        pad = (weight.shape[2] + (weight.shape[2] - 1) * (dilation - 1) - 1) // 2
        return torch.nn.functional.conv2d(
            y, weight, self.state[f"{name}.bias"], (stride, 1), (pad, 0), (dilation, 1)
        )

    def backbone_input(self, x: torch.Tensor) -> torch.Tensor:
        """``STGCN.forward`` up to its blocks: ``x`` in PYSKL's order ``(N, M, T, V, C)``
        through the data batch norm over V·C, then ``(N·M, C, T, V)``."""
        n, m, t, v, c = x.shape
        y = self.bn(x.permute(0, 1, 3, 4, 2).reshape(n * m, v * c, t), "backbone.data_bn")
        return y.view(n, m, v, c, t).permute(0, 1, 3, 4, 2).reshape(n * m, c, t, v)

    def head(self, y: torch.Tensor, clips: int) -> torch.Tensor:
        """``GCNHead``: the mean over frames and joints, then over each clip's persons,
        and the linear layer."""
        pooled = y.mean(dim=(2, 3)).reshape(clips, -1, y.shape[1]).mean(dim=1)
        weight, bias = self.state["cls_head.fc_cls.weight"], self.state["cls_head.fc_cls.bias"]
        return torch.nn.functional.linear(pooled, weight, bias)


def predicted_top(*args: str) -> dict[str, Any]:
    """The first of ``stgcn predict ARGS --json``'s top classes."""
    predicted = run_stgcn("predict", *args, "--json")
    assert predicted.returncode == 0, predicted.stderr
    return dict(json.loads(predicted.stdout)["top"][0])


def assert_exports_and_predicts(
    checkpoint: Path, clip: Path, expected: torch.Tensor, onnx_file: Path
) -> None:
    """A checkpoint predicts ``expected`` (a clip's probabilities) with no flag through
    PyTorch, and through onnxruntime after ``stgcn export onnx`` verified the file (where
    onnxruntime is installed)."""
    top = predicted_top("--checkpoint", str(checkpoint), "--input", str(clip))
    assert top["class"] == int(expected.argmax())
    assert top["probability"] == pytest.approx(float(expected.max()), rel=1e-5)

    pytest.importorskip("onnxruntime")
    args = ("export", "onnx", "--checkpoint", str(checkpoint), "--output", str(onnx_file))
    done = run_stgcn(*args)
    assert done.returncode == 0, done.stderr
    assert "not verified" not in done.stdout + done.stderr
    top = predicted_top("--onnx", str(onnx_file), "--input", str(clip))
    assert top["class"] == int(expected.argmax())
    assert top["probability"] == pytest.approx(float(expected.max()), rel=1e-4)
