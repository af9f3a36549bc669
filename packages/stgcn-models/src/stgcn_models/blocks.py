"""Building blocks PYSKL's graph networks share, named and shaped as PYSKL's are
(``pyskl/models/gcns/utils/tcn.py``), so that the state_dict keys of a network made of
them are PYSKL's: ``conv``, ``bn`` in a temporal unit; ``branches``, ``transform``,
``bn`` in the multi-scale temporal block.

The convolutions and batch norms start from PyTorch's default initialisation, as
PYSKL's do (its ST-GCN backbone's ``init_weights`` only loads a pretrained file).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

import torch
import torch.nn.functional as F
from torch import nn

#: PYSKL's ``mstcn`` branches: a dilated 3×1 convolution of dilation 1 to 4, a 3×1
#: max-pool, and a 1×1 convolution
MSTCN_BRANCHES: tuple[tuple[str | int, int] | str, ...] = (
    (3, 1),
    (3, 2),
    (3, 3),
    (3, 4),
    ("max", 3),
    "1x1",
)


def is_channels_last(x: torch.Tensor) -> bool:
    """Whether ``x`` lies channels last and not also contiguous (a tensor of one joint
    or one frame can be both): the layout the blocks' fast paths read as it lies."""
    return x.is_contiguous(memory_format=torch.channels_last) and not x.is_contiguous()


def features_for_blocks(
    x: torch.Tensor, first: nn.Module, train_channels_last: bool
) -> torch.Tensor:
    """``x`` laid out as a backbone's blocks take it, from the ``first`` block on.

    Channels last where the backend laid the parameters out so (the first block's
    temporal convolution tells, its ``k``×1 weight: 1×1 ones are both layouts at once):
    fed contiguous beside channels-last weights, the first block's convolutions convert
    their input and gradient (four copies of 64 channels a training step, 9.5 ms of
    CTR-GCN's in bf16). Channels last also in training on a CPU where the backbone asks
    (``train_channels_last``: ST-GCN++'s and CTR-GCN's convolutions are all 1×1 and
    ``k``×1, and train faster so in fp32 too: CTR-GCN 7.52 against 6.62 samples/s on two
    AVX-512 threads). Contiguous otherwise: with contiguous parameters in evaluation a
    checkpoint's logits are its codebase's to 1e-5, and oneDNN's channels-last kernels
    sum in another order (3e-5 apart on a logit of mmaction2's test).
    """
    temporal = next(
        (m.weight for m in first.modules() if isinstance(m, nn.Conv2d) and m.kernel_size[0] > 1),
        None,
    )
    if (temporal is not None and is_channels_last(temporal)) or (
        train_channels_last and x.device.type == "cpu"
    ):
        return x.contiguous(memory_format=torch.channels_last)
    return x.contiguous()


def aggregate_joints(y: torch.Tensor, A: torch.Tensor) -> torch.Tensor:
    """PYSKL's ``einsum('nkctv,kvw->nctw')`` of a graph unit: ``y`` of ``K × C`` channels
    (the K partitions' features, partition-major), each partition mixed over joints by its
    ``A[k]`` (``K × V × W``), summed over partitions; ``(N, C, T, W)`` out.

    One matrix product over a joined ``K·V`` axis, in the layout ``y`` is stored in: an
    einsum permutes its operands to contiguous and returns contiguous, which under
    channels-last convolutions (the bf16 default on CPUs) made every block convert its
    features to and fro (a third of ST-GCN++'s step in ``copy_``).

    Channels last, each frame's ``(V·K, C)`` matrix is multiplied by ``A`` in one
    ``bmm`` with ``A`` broadcast over the frames (a stride-0 batch, no copy): a 2-D by
    3-D ``matmul`` copies the frames transposed to fold them into one product, forward
    and backward, which made it 3-5x slower than this (measured fwd+bwd on this
    package's shapes, bf16 and fp32).
    """
    n, _, t, v = y.shape
    K, _, w = A.shape
    c = y.shape[1] // K
    if is_channels_last(y):
        # stored (N, T, V, K, C): each frame a (V·K, C) matrix, with no copy; the product
        # with A as (W, V·K) is (N·T, W, C), the channels-last storage of the result
        rows = y.permute(0, 2, 3, 1).reshape(n * t, v * K, c)
        weight = A.permute(2, 1, 0).reshape(w, v * K)
        mixed = torch.bmm(weight.expand(n * t, w, v * K), rows)
        return mixed.view(n, t, w, c).permute(0, 3, 1, 2)
    # (N, K, C, T, V) -> (N, C, T, K, V): K and V adjacent for one product
    joined = y.view(n, K, c, t, v).permute(0, 2, 3, 1, 4).reshape(n, c, t, K * v)
    return torch.matmul(joined, A.reshape(K * v, w))


def folds_in_inference(norm: nn.Module, x: torch.Tensor) -> bool:
    """Whether batch norm ``norm`` folds into the convolution before it, which reads
    ``x``: in inference, a plain ``BatchNorm2d`` on its running statistics, over features
    whose channels are innermost (channels last, or a channel slice of such features).

    Not where autograd records (training keeps the batch norm's own backward), nor in
    an exporter's trace (ONNX Runtime folds batch norms itself, and the graph keeps
    PYSKL's operators), nor in the contiguous layout, which keeps the codebase's order
    of operations so that a checkpoint's logits are PYSKL's and mmaction2's to 1e-5
    (folded, 2e-5 apart on mmaction2's test); the cpu backend's channels-last layout
    sums in oneDNN's order anyway.

    Folded, a batch norm costs a few operations on its convolution's weights in place of
    a pass over its features: CTR-GCN's fp32 inference 7-10 % faster with the unit's,
    the residuals' and the temporal blocks' batch norms folded."""
    return not (
        torch.jit.is_tracing()  # first: no shape read into the trace
        or x.dim() != 4
        or x.stride(1) != 1
        or x.shape[1] < 2
        or type(norm) is not nn.BatchNorm2d
        or norm.training
        or norm.running_mean is None
        or norm.running_var is None
        or torch.is_grad_enabled()
    )


def inference_affine(norm: nn.Module, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor] | None:
    """Batch norm ``norm`` in inference as the per-channel ``(scale, shift)`` it applies,
    to be folded into the convolution before it, which reads ``x``; None where it runs
    as it is (:func:`folds_in_inference`)."""
    if not folds_in_inference(norm, x):
        return None
    assert isinstance(norm, nn.BatchNorm2d)
    assert norm.running_mean is not None and norm.running_var is not None
    scale = torch.rsqrt(norm.running_var + norm.eps)
    if norm.weight is not None:
        scale = scale * norm.weight
    shift = -norm.running_mean * scale
    if norm.bias is not None:
        shift = shift + norm.bias
    return scale, shift


def joint_inference_affine(
    norms: Sequence[nn.Module], x: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor] | None:
    """:func:`inference_affine` of batch norms over consecutive channel groups, joined
    (None where one of them runs as it is)."""
    affines = [inference_affine(norm, x) for norm in norms]
    if any(affine is None for affine in affines):
        return None
    scales, shifts = zip(*affines, strict=True)
    return torch.cat(scales), torch.cat(shifts)


def folded_conv(
    conv: nn.Conv2d,
    x: torch.Tensor,
    affine: tuple[torch.Tensor, torch.Tensor],
    weight_bias: tuple[torch.Tensor, torch.Tensor | None] | None = None,
) -> torch.Tensor:
    """``conv`` (with ``weight_bias`` in place of its own parameters where given) then
    the per-output-channel ``affine``, as one convolution."""
    weight, bias = weight_bias if weight_bias is not None else (conv.weight, conv.bias)
    scale, shift = affine
    folded_bias = shift if bias is None else torch.addcmul(shift, bias, scale)
    return conv._conv_forward(x, weight * scale.view(-1, 1, 1, 1), folded_bias)


def conv_norm(conv: nn.Conv2d, norm: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """``norm(conv(x))``: one convolution where the batch norm folds into it in
    inference (:func:`inference_affine`)."""
    affine = inference_affine(norm, x)
    if affine is None:
        return norm(conv(x))
    return folded_conv(conv, x, affine)


class TemporalConv(nn.Module):
    """PYSKL's ``unit_tcn``: a ``kernel``×1 convolution over time (padded to keep the
    frames at stride 1), then batch norm (none where ``norm`` is False) and dropout."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel: int = 9,
        stride: int = 1,
        dilation: int = 1,
        norm: bool = True,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        pad = (kernel + (kernel - 1) * (dilation - 1) - 1) // 2
        self.conv = nn.Conv2d(
            in_channels,
            out_channels,
            kernel_size=(kernel, 1),
            padding=(pad, 0),
            stride=(stride, 1),
            dilation=(dilation, 1),
        )
        self.bn: nn.Module = nn.BatchNorm2d(out_channels) if norm else nn.Identity()
        self.drop = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.drop(conv_norm(self.conv, self.bn, x))


def block_residual(
    in_channels: int, out_channels: int, stride: int, residual: bool
) -> nn.Module | None:
    """The residual around a block of PYSKL's ``STGCNBlock`` and ``CTRGCNBlock``: none
    (the first block), the identity where the block keeps the shape (no tensors), else a
    strided 1×1 :class:`TemporalConv` (the keys ``residual.conv.*``, ``residual.bn.*``)."""
    if not residual:
        return None
    if in_channels == out_channels and stride == 1:
        return nn.Identity()
    return TemporalConv(in_channels, out_channels, kernel=1, stride=stride)


class STGCNBlock(nn.Module):
    """PYSKL's ``STGCNBlock``: a spatial unit ``gcn``, a temporal unit ``tcn`` (which
    strides), the ``residual`` around both (:func:`block_residual`; None in a backbone's
    first block), then ReLU. The units are the model's: ST-GCN++'s adaptive graph
    convolution and multi-scale temporal block, or PYSKL's ST-GCN's importance-masked
    graph and 9×1 convolution; the keys (``gcn.*``, ``tcn.*``, ``residual.*``) are
    PYSKL's either way."""

    def __init__(self, gcn: nn.Module, tcn: nn.Module, residual: nn.Module | None) -> None:
        super().__init__()
        self.gcn = gcn
        self.tcn = tcn
        self.relu = nn.ReLU()
        self.residual = residual

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.tcn(self.gcn(x))
        if self.residual is not None:
            out = out + self.residual(x)
        return self.relu(out)


class BlockFactory(Protocol):
    """Makes one block of :class:`~stgcn_models.pyskl.STGCNBackbone` (PYSKL's
    ``STGCNBlock`` with a model's units): ``(N·M, in, T, V)`` in, ``(N·M, out, T / stride,
    V)`` out, with the block's residual (none where ``residual`` is False) and its
    temporal dropout."""

    def __call__(
        self, in_channels: int, out_channels: int, *, stride: int, residual: bool, dropout: float
    ) -> nn.Module: ...


def stgcn_blocks(
    spatial: Callable[[int, int], nn.Module], temporal: Callable[[int, int, float], nn.Module]
) -> BlockFactory:
    """The :class:`BlockFactory` of a PYSKL ``STGCN`` backbone whose blocks are
    :class:`STGCNBlock` of the units ``spatial(in_channels, out_channels)`` and
    ``temporal(out_channels, stride, dropout)``, with :func:`block_residual`'s residual."""

    def block(
        in_channels: int, out_channels: int, *, stride: int, residual: bool, dropout: float
    ) -> STGCNBlock:
        return STGCNBlock(
            spatial(in_channels, out_channels),
            temporal(out_channels, stride, dropout),
            block_residual(in_channels, out_channels, stride, residual),
        )

    return block


def _branch(
    spec: tuple[str | int, int] | str, in_channels: int, channels: int, stride: int
) -> nn.Module:
    """One branch of :class:`MultiScaleTemporal`: a bare 1×1 convolution (``"1x1"``),
    or a 1×1 convolution, batch norm and ReLU followed by a max-pool (``("max", k)``)
    or a dilated temporal convolution without norm (``(k, dilation)``)."""
    if isinstance(spec, str):
        if spec != "1x1":
            raise ValueError(f"not a temporal branch: {spec!r}")
        return nn.Conv2d(in_channels, channels, kernel_size=1, stride=(stride, 1))
    kind, size = spec
    reduce = [nn.Conv2d(in_channels, channels, kernel_size=1), nn.BatchNorm2d(channels), nn.ReLU()]
    if kind == "max":
        # PYSKL pads the pool by one frame whatever its size (3 in every config)
        pool = nn.MaxPool2d(kernel_size=(size, 1), stride=(stride, 1), padding=(1, 0))
        return nn.Sequential(*reduce, pool)
    if not isinstance(kind, int):
        raise ValueError(f"not a temporal branch: {spec!r}")
    temporal = TemporalConv(channels, channels, kind, stride=stride, dilation=size, norm=False)
    return nn.Sequential(*reduce, temporal)


def joint_batch_norm(x: torch.Tensor, norms: Sequence[nn.BatchNorm2d]) -> torch.Tensor:
    """The batch norms ``norms`` applied to the consecutive channel groups of ``x`` as ONE
    batch norm over their concatenated parameters and statistics. A batch norm is per
    channel, so this is the same function in training and in evaluation; in training each
    norm's running statistics and batch count are updated as its own call would."""
    first = norms[0]
    weight = torch.cat([norm.weight for norm in norms])
    bias = torch.cat([norm.bias for norm in norms])
    means = [norm.running_mean for norm in norms]
    variances = [norm.running_var for norm in norms]
    assert all(m is not None for m in means) and all(v is not None for v in variances)
    mean, var = torch.cat(means), torch.cat(variances)  # type: ignore[arg-type]
    if not first.training:
        return F.batch_norm(x, mean, var, weight, bias, False, 0.0, first.eps)
    for norm in norms:
        assert norm.num_batches_tracked is not None
        norm.num_batches_tracked.add_(1)
    momentum = first.momentum
    if momentum is None:  # a cumulative average, as BatchNorm2d's own
        momentum = 1.0 / float(first.num_batches_tracked)  # type: ignore[arg-type]
    out = F.batch_norm(x, mean, var, weight, bias, True, momentum, first.eps)
    widths = [norm.num_features for norm in norms]
    with torch.no_grad():
        for norm, new_mean, new_var in zip(
            norms, mean.split(widths), var.split(widths), strict=True
        ):
            norm.running_mean.copy_(new_mean)  # type: ignore[union-attr]
            norm.running_var.copy_(new_var)  # type: ignore[union-attr]
    return out


def fusable_norm(module: nn.Module, like: nn.Module) -> bool:
    """Whether ``module`` is a plain affine, tracking ``BatchNorm2d`` set as ``like``
    (not a SyncBatchNorm, whose statistics span processes, nor one of other settings)."""
    return (
        type(module) is nn.BatchNorm2d
        and type(like) is nn.BatchNorm2d
        and module.affine
        and module.track_running_stats
        and module.training == like.training
        and module.eps == like.eps
        and module.momentum == like.momentum
    )


def reduced_branches(x: torch.Tensor, branches: Sequence[nn.Module]) -> list[torch.Tensor]:
    """The outputs of ``branches``, each PYSKL's ``Sequential(1×1 conv, BN, ReLU, *rest)``
    on the same input, computed with ONE convolution over the branches' concatenated
    1×1 weights and ONE batch norm over their concatenated channels, then each branch's
    ``rest`` on its own channels.

    The same function as calling each branch (a 1×1 convolution and a batch norm are
    per output channel); the parameters stay in their PYSKL places, concatenated at each
    call, so that the state_dict and PYSKL's checkpoints are unchanged. Six small
    convolutions, batch norms and weight casts per block were ST-GCN++'s slowest part.
    Where the branches are not of that form (a SyncBatchNorm after
    ``convert_sync_batchnorm``, say), each branch is called as it is."""
    layers = [list(branch) for branch in branches]  # type: ignore[call-overload]
    fusable = all(
        len(parts) >= 3
        and isinstance(parts[0], nn.Conv2d)
        and parts[0].kernel_size == (1, 1)
        and parts[0].stride == (1, 1)
        and parts[0].bias is not None
        and fusable_norm(parts[1], layers[0][1])
        and isinstance(parts[2], nn.ReLU)
        for parts in layers
    )
    if not fusable:
        return [branch(x) for branch in branches]
    convs = [parts[0] for parts in layers]
    weight = torch.cat([conv.weight for conv in convs])
    bias = torch.cat([conv.bias for conv in convs])
    norms = [parts[1] for parts in layers]
    affine = joint_inference_affine(norms, x)
    if affine is None:
        reduced = joint_batch_norm(F.conv2d(x, weight, bias), norms)
    else:  # inference: the batch norm folded into the convolution
        reduced = folded_conv(convs[0], x, affine, (weight, bias))
    widths = [conv.out_channels for conv in convs]
    outputs = []
    # the ReLU in place on the batch norm's own output (one pass less over it)
    for parts, y in zip(layers, torch.relu_(reduced).split(widths, dim=1), strict=True):
        for layer in parts[3:]:
            y = layer(y)
        outputs.append(y)
    return outputs


class MultiScaleTemporal(nn.Module):
    """PYSKL's ``mstcn``: parallel temporal branches (:data:`MSTCN_BRANCHES`) of
    ``out_channels // len(branches)`` channels each (the first takes the remainder),
    concatenated, then batch norm, ReLU, a 1×1 convolution, batch norm and dropout.

    Many small convolutions in place of one 9×1 convolution: as wide a receptive field
    for far fewer parameters and FLOPs (ST-GCN++'s half of ST-GCN's cost)."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        stride: int = 1,
        dropout: float = 0.0,
        branches: Sequence[tuple[str | int, int] | str] = MSTCN_BRANCHES,
    ) -> None:
        super().__init__()
        count = len(branches)
        mid = out_channels // count
        first = out_channels - mid * (count - 1)
        widths = [first] + [mid] * (count - 1)
        self.branches = nn.ModuleList(
            _branch(spec, in_channels, width, stride)
            for spec, width in zip(branches, widths, strict=True)
        )
        joined = sum(widths)
        self.transform = nn.Sequential(
            nn.BatchNorm2d(joined), nn.ReLU(), nn.Conv2d(joined, out_channels, kernel_size=1)
        )
        self.bn = nn.BatchNorm2d(out_channels)
        self.drop = nn.Dropout(dropout)

        #: the branches with a 1×1 convolution, batch norm and ReLU first, which
        #: :func:`reduced_branches` computes together, and the others (PYSKL's ``1x1``)
        self.reduced = [spec != "1x1" for spec in branches]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        reduced = iter(
            reduced_branches(x, [b for b, r in zip(self.branches, self.reduced, strict=True) if r])
        )
        outputs = [
            next(reduced) if r else branch(x)
            for branch, r in zip(self.branches, self.reduced, strict=True)
        ]
        norm, relu, conv = self.transform
        assert isinstance(conv, nn.Conv2d)
        # in inference the last batch norm folds into the 1×1 convolution before it
        return self.drop(conv_norm(conv, self.bn, relu(norm(torch.cat(outputs, dim=1)))))
