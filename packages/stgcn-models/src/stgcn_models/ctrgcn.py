"""PYSKL's CTR-GCN (Chen et al., "Channel-wise Topology Refinement Graph Convolution",
ICCV 2021) as ``configs/ctrgcn/ctrgcn_pyskl_*/j.py`` builds it: the ``CTRGCN`` backbone
of ``pyskl/models/gcns/ctrgcn.py`` and a ``GCNHead``.

Module for module and key for key PYSKL's, so that a checkpoint PYSKL wrote loads with
strict key matching and gives PYSKL's logits:

- a data batch norm over persons × joints × channels (``data_bn``), as PYSKL's CTR-GCN
  has it (not ST-GCN++'s joints × channels): its size fixes the persons;
- ten blocks (``net``), 64 → 128 → 256 channels, the channels doubled and the frames
  halved at blocks 5 and 8 (one-based), each a CTR-GC unit (``gcn1``), a multi-scale
  temporal block (``tcn1``) and a residual (none in block 1; a strided 1×1 temporal unit
  where the channels or frames change);
- the CTR-GC unit (PYSKL's ``unit_ctrgcn``): per partition of the graph (PYSKL's
  ``spatial`` mode: identity, inward, outward), a ``CTRGC`` that refines the shared
  topology ``A`` (a learned parameter, initialised from the graph) per channel with
  ``alpha`` × the tanh of pairwise joint differences, summed, then batch norm, a residual
  (1×1 convolution and batch norm where the channels change) and ReLU;
- the temporal block (PYSKL's ``MSTCN`` of ``msg3d_utils.py``, not ST-GCN++'s
  ``mstcn``): two branches of a 1×1 convolution, batch norm, ReLU and a 5×1 temporal unit
  of dilation 1 and 2, a max-pool branch, a 1×1 branch, concatenated, then ReLU and
  dropout (``tcn_dropout``, none in block 1; 0 in PYSKL's configs).

The graph is PYSKL's ``spatial`` graph of PYSKL's own bones where PYSKL defines the
skeleton (``stgcn_models.pyskl.pyskl_graph``). The backbone also keeps it as a buffer
``A``, unused by the forward pass but in PYSKL's state_dicts, so here too.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

from stgcn.errors import StgcnError
from stgcn.records import ModelSpec, RecogniseRequest
from stgcn_models.blocks import (
    TemporalConv,
    block_residual,
    conv_norm,
    features_for_blocks,
    folds_in_inference,
    fusable_norm,
    inference_affine,
    is_channels_last,
    joint_batch_norm,
    reduced_branches,
)
from stgcn_models.plugin import CTRGCNOptions
from stgcn_models.pyskl import (
    BACKBONE,
    PysklRecognizer,
    class_count,
    has_keys,
    input_channels,
    layout_for,
    pyskl_graph,
)

#: keys only a PYSKL CTR-GCN state_dict has: the first block's CTR-GC relation
#: convolution and its multi-scale temporal block's first branch
KEYS = (
    "backbone.A",
    "backbone.data_bn.weight",
    "backbone.net.0.gcn1.convs.0.conv4.weight",
    "backbone.net.0.tcn1.branches.0.3.conv.weight",
    "cls_head.fc_cls.weight",
)
#: blocks (one-based) that double the channels and halve the frames, as PYSKL's
#: ``inflate_stages`` and ``down_stages``
STAGES = 10
WIDER = (5, 8)


class CTRGC(nn.Module):
    """PYSKL's ``CTRGC``: one partition's channel-wise refinement. ``conv1`` and ``conv2``
    embed the joints (``rel`` channels: 8 for a narrow input, else an eighth of it);
    their time-averaged pairwise differences pass through tanh and ``conv4`` to one
    topology refinement per output channel; ``conv3`` embeds the features that the
    refined topology aggregates over joints (:class:`CTRGCUnit`)."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        rel = 8 if in_channels <= 16 else in_channels // 8
        self.conv1 = nn.Conv2d(in_channels, rel, kernel_size=1)
        self.conv2 = nn.Conv2d(in_channels, rel, kernel_size=1)
        self.conv3 = nn.Conv2d(in_channels, out_channels, kernel_size=1)
        self.conv4 = nn.Conv2d(rel, out_channels, kernel_size=1)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The features ``(N, C, T, V)`` and the refinement ``(N, C, V, V)``.

        PYSKL passes ``A`` and ``alpha`` into this call; here the unit applies them, so
        that no parameter is a module call's argument (PyTorch's FLOP counter, which
        ``stgcn info`` uses, refuses a leaf parameter there under ``no_grad``)."""
        # (N, R, V): embedded, then averaged over time, in PYSKL's order
        first, second = self.conv1(x).mean(-2), self.conv2(x).mean(-2)
        # (N, C, U, V): what joint u sends to joint v in each output channel
        refinement = self.conv4(torch.tanh(first.unsqueeze(-1) - second.unsqueeze(-2)))
        return self.conv3(x), refinement


def _biases(convs: list[nn.Conv2d]) -> list[torch.Tensor]:
    """The convolutions' biases (PYSKL's CTR-GC convolutions all have one)."""
    biases = []
    for conv in convs:
        if conv.bias is None:
            raise ValueError(f"a CTR-GC convolution without a bias: {conv}")
        biases.append(conv.bias)
    return biases


def _time_average(x: torch.Tensor) -> torch.Tensor:
    """``x.mean(-2)``, ``(N, C, V)``: channels last as a product with a row of ``1/T``
    over the ``(N, T, V·C)`` storage (PyTorch's reduction over frames there took 5 ms a
    call in bf16, a fifth of the unit's forward)."""
    if not is_channels_last(x):
        return x.mean(-2)
    n, c, t, v = x.shape
    frames = x.permute(0, 2, 3, 1).reshape(n, t, v * c)  # the storage as it lies
    weights = torch.full((1, t), 1.0 / t, dtype=x.dtype, device=x.device)
    return torch.matmul(weights, frames).view(n, v, c).transpose(1, 2)


#: conv3's output (and backward its gradient) that one chunk of samples spans: the
#: products read it, and backward the two products of the input's and the weights'
#: gradients read it, while it is still in the last-level cache (32 MiB on the machines
#: measured); each block's layout changes are done per chunk too, for the same reason
CHUNK_BYTES = 4 << 20


def _compute_dtype(x: torch.Tensor, weight: torch.Tensor) -> torch.dtype:
    """The products' dtype: autocast's where it is on for ``x``'s device, else the
    operands' own."""
    if torch.is_autocast_enabled(x.device.type):
        return torch.get_autocast_dtype(x.device.type)
    return torch.promote_types(x.dtype, weight.dtype)


def _chunks(samples: int, per_sample: int, dtype: torch.dtype) -> list[tuple[int, int]]:
    """``[start, end)`` ranges of samples of about :data:`CHUNK_BYTES` of conv3's output,
    ``per_sample`` elements of ``dtype`` a sample."""
    step = max(1, CHUNK_BYTES // max(1, per_sample * torch.finfo(dtype).bits // 8))
    return [(start, min(samples, start + step)) for start in range(0, samples, step)]


def _conv3_by_convolution(x: torch.Tensor, dtype: torch.dtype) -> bool:
    """Whether conv3's three products (forward, the input's and the weights' gradients)
    run as oneDNN's 1×1 convolution rather than as ``bmm``: on a CPU in full precision.
    There ``bmm`` is MKL's, which on an AMD processor with AVX-512 keeps to AVX2 code,
    and the convolution took half its time (one Zen 5, two threads, 768 by 256 channels
    over 684 columns: 0.69 against 1.73 ms forward, 0.68 against 1.36 and 1.30 for the
    gradients; with oneDNN held to AVX2 the two were level). In bf16 ``bmm`` is oneDNN's
    own product and faster than the convolution (0.31 against 0.44 ms); float64 takes the
    convolution path too, so that the float64 tests check the code fp32 runs."""
    return x.device.type == "cpu" and dtype in (torch.float32, torch.float64)


#: How conv3 runs over a chunk, and so its input's layout: oneDNN's 1×1 convolution of
#: ``(m, C_in, V, T)``; ``bmm`` of that; ``bmm`` of ``(m, V, T, C_in)`` (channels last,
#: frames and joints swapped: rows of channels as the input lies)
Conv3Path = Literal["convolution", "bmm", "bmm-swapped"]


def _conv3_path(x: torch.Tensor, dtype: torch.dtype) -> Conv3Path:
    """How conv3 runs for input ``x`` computed in ``dtype``."""
    if _conv3_by_convolution(x, dtype):
        return "convolution"
    return "bmm-swapped" if is_channels_last(x) else "bmm"


def _conv3(
    w: torch.Tensor, columns: torch.Tensor, path: Conv3Path, out: torch.Tensor | None
) -> torch.Tensor:
    """conv3 over one chunk of samples: ``(m, C·K, V·T)`` from its input as ``path``
    lays it out; ``bmm`` writes into ``out``, the convolution makes its own tensor (and
    gets ``out`` as None)."""
    m, cin = columns.shape[0], w.shape[1]
    if path == "convolution":
        weight = w.view(*w.shape, 1, 1)
        return F.conv2d(columns.view(m, cin, -1, 1), weight).view(m, w.shape[0], -1)
    if path == "bmm-swapped":
        rows = columns.view(m, -1, cin).transpose(1, 2)
    else:
        rows = columns.view(m, cin, -1)
    # bmm over the expanded weight, as matmul folds a 2-D @ 3-D product into a 2-D one by
    # copying the 3-D operand
    return torch.bmm(w.expand(m, *w.shape), rows, out=out)


def _conv3_backward(
    w: torch.Tensor, columns: torch.Tensor, grad: torch.Tensor, path: Conv3Path
) -> tuple[torch.Tensor, torch.Tensor]:
    """conv3's weights' gradient (summed over the chunk) and its input's gradient, in
    its input's layout (:func:`_conv3`), from its output's gradient ``(m, C·K, V·T)``."""
    m, cin = columns.shape[0], w.shape[1]
    if path == "convolution":
        block_x, per_sample, _ = torch.ops.aten.convolution_backward(
            grad.unsqueeze(-1),
            columns.view(m, cin, -1, 1),
            w.view(*w.shape, 1, 1),
            None,
            [1, 1],
            [0, 0],
            [1, 1],
            False,
            [0, 0],
            1,
            [True, True, False],
        )
        return per_sample.view(w.shape), block_x
    if path == "bmm-swapped":
        rows = columns.view(m, -1, cin)
        per_sample = torch.bmm(grad, rows)
        # (m, V·T, C_in) = grad^T @ weight: rows of channels, as the input lies
        block_x = torch.bmm(grad.transpose(1, 2), w.expand(m, *w.shape))
    else:
        rows = columns.view(m, cin, -1)
        per_sample = torch.bmm(grad, rows.transpose(1, 2))
        block_x = torch.bmm(w.t().expand(m, *w.t().shape), grad)
    # summed in at least fp32, the parameters' dtype under autocast
    return per_sample.sum(0, dtype=torch.promote_types(w.dtype, torch.float32)), block_x


def _traced_aggregation(
    x: torch.Tensor,
    weight: torch.Tensor,
    relate: torch.Tensor,
    relation: torch.Tensor,
    offset: torch.Tensor,
) -> torch.Tensor:
    """:class:`RefinedAggregation`'s function as whole-tensor operations, for an
    exporter's trace (writes into slices of a tensor do not export)."""
    n, _, t, v = x.shape
    k, c, j = relate.shape
    features = torch.matmul(weight, x.transpose(2, 3).flatten(2))  # (N, C·K, V·T)
    topology = torch.stack(
        [torch.bmm(relate[part].expand(n, c, j), relation[part]) for part in range(k)], 2
    )
    blocks = topology.view(n * c, k * v, v).transpose(1, 2)
    rows = features.view(n * c, k * v, t)
    products = torch.baddbmm(offset.reshape(n * c, v, 1), blocks, rows)
    return products.view(n, c, v, t).transpose(2, 3)


def _aggregate(
    x: torch.Tensor,
    weight: torch.Tensor,
    relate: torch.Tensor,
    relation: torch.Tensor,
    offset: torch.Tensor,
    keep: bool,
    residual: torch.Tensor | None = None,
) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor, list[torch.Tensor]]]:
    """:class:`RefinedAggregation`'s forward: the output in the input's layout, and
    conv3's input, the topology and conv3's output chunk by chunk, the whole batch's where
    ``keep`` (backward reads them), else conv3's input only the last chunk's (one chunk's
    buffers, reused) and no output.

    With a ``residual`` (inference, :meth:`CTRGCUnit.infer`), the output is ``relu(out +
    residual)``, each chunk's sum and ReLU done as it is written, while it is cached."""
    n, cin, t, v = x.shape
    k, c, j = relate.shape
    channels_last = is_channels_last(x)
    dtype = _compute_dtype(x, weight)
    w = weight.to(dtype)
    # (N, C, K, U·V): each partition's topology written into its place, no copy
    topology = x.new_empty(n, c, k, v * v, dtype=dtype)
    for part in range(k):
        lhs = relate[part].to(dtype).expand(n, c, j)
        torch.bmm(lhs, relation[part].to(dtype), out=topology[:, :, part])
    chunks = _chunks(n, c * k * v * t, dtype)
    # conv3's input with frames and joints swapped ((N, V, T, C_in) channels last) and
    # its output (N, C·K, V·T) = (N, C, K, V, T), rows in (channel, partition) order
    path = _conv3_path(x, dtype)
    # by convolution conv3's input is (N, C_in, V, T) in either layout: oneDNN's 1×1
    # convolution of that layout writes (N, C·K, V·T) as the products read it
    swapped = path == "bmm-swapped"
    rows = n if keep else chunks[0][1]
    columns = x.new_empty((rows, v, t, cin) if swapped else (rows, cin, v, t), dtype=dtype)
    # conv3's output, one chunk's list entry each (a view of one buffer for ``bmm``'s out=)
    features: list[torch.Tensor] = []
    buffer = None if path == "convolution" else x.new_empty(rows, c * k, v * t, dtype=dtype)
    out = x.new_empty((n, t, v, c) if channels_last else (n, c, t, v), dtype=dtype)
    for start, end in chunks:
        m = end - start
        at = slice(start, end) if keep else slice(0, m)
        if swapped:
            columns[at].copy_(x[start:end].permute(0, 3, 2, 1))
        else:
            columns[at].copy_(x[start:end].transpose(2, 3))
        block_features = _conv3(w, columns[at], path, None if buffer is None else buffer[at])
        if keep:
            features.append(block_features)
        # (m·C, V, T) = (V, K·U) @ (K·U, T) + offset: the partitions summed
        products = torch.baddbmm(
            offset[start:end].to(dtype).reshape(m * c, v, 1),
            topology[start:end].view(m * c, k * v, v).transpose(1, 2),
            block_features.view(m * c, k * v, t),
        ).view(m, c, v, t)
        # (m, T, V, C) channels last, else (m, C, T, V): the output's storage order
        written = products.permute(0, 3, 2, 1) if channels_last else products.transpose(2, 3)
        out[start:end].copy_(written)
        if residual is not None:
            added = residual[start:end]
            added = added.permute(0, 2, 3, 1) if channels_last else added
            # after the copy, over two tensors of one layout: an add that gathers the
            # products took 12-15 % longer in bf16 (64-256 channels, four samples)
            out[start:end].add_(added).relu_()
    out = out.permute(0, 3, 1, 2) if channels_last else out
    return out, (columns, topology, features)


class RefinedAggregation(torch.autograd.Function):
    """CTR-GC's per-channel topology, its ``conv3`` (the weights) and its per-channel
    aggregation of all partitions together: ``out[n, c] = sum_k (W_k x)[n, c] @
    topology[n, c, k] + offset[n, c]``, ``(N, C, T, V)`` out in the input's layout, the
    offset ``(N, C, V)`` the same in every frame (conv3's bias through the topology).

    The topology is built here from its factors, ``topology[n, c, k] = relate[k, c] @
    relation[k, n]`` (``(C, J)`` by ``(J, U·V)``: ``conv4`` and ``alpha`` on PYSKL's
    relations, ``alpha`` × conv4's bias on a row of ones, and ``A_k`` on a row of ones,
    all as one product), each partition's product written straight into its place in
    the ``(N, C, K·U, V)`` storage the aggregation reads: through autograd the topology
    was a product, an add of ``A``, a permuting copy into that layout, a sum for conv3's
    bias offset and, backward, an add of the offset's share, the permute back and a sum
    for ``A``'s gradient: seven passes over a tensor half the size of the block's
    features (those adds, copies and sums were about 59 of a profiled step's 1,205 ms).

    The sum over partitions is inside ONE product per sample and channel, over a joined
    partition × joint axis: ``out^T = [A_1; A_2; A_3]^T @ [y_1; y_2; y_3]``, ``(V, K·U)``
    by ``(K·U, T)``: N·C products of that size in place of N·C·K of ``(T, V)`` by ``(V,
    V)``, where oneDNN's cost per matrix outweighed the work, and no adds. ``conv3`` is
    one matrix product over the input with its frames and joints swapped (a copy of rows
    of channels, channels last) that writes ``(N, C, K, U, T)``, each sample and
    channel's ``(K·U, T)`` matrix as it lies. The backward takes the gradient as ``(V,
    T)`` matrices and gives the input's gradient in the input's layout.

    Both passes go a chunk of samples at a time (:data:`CHUNK_BYTES`): conv3's output
    and its gradient, three times the block's width, are the largest tensors of the
    block and were read back from memory by the products after them."""

    @staticmethod
    def forward(
        ctx: torch.autograd.function.FunctionCtx,
        x: torch.Tensor,
        weight: torch.Tensor,
        relate: torch.Tensor,
        relation: torch.Tensor,
        offset: torch.Tensor,
    ) -> torch.Tensor:
        out, (columns, topology, features) = _aggregate(
            x, weight, relate, relation, offset, keep=True
        )
        ctx.save_for_backward(columns, weight, relate, relation, topology, *features)
        (n, cin, t, v), (k, c, _) = x.shape, relate.shape
        ctx.channels_last = is_channels_last(x)  # type: ignore[attr-defined]
        # the path forward took, so that backward reads conv3's input as it was laid out
        ctx.conv3_path = _conv3_path(x, topology.dtype)  # type: ignore[attr-defined]
        ctx.shapes = (n, cin, c, t, v, k)  # type: ignore[attr-defined]
        ctx.dtypes = (x.dtype, offset.dtype)  # type: ignore[attr-defined]
        return out

    @staticmethod
    def backward(
        ctx: torch.autograd.function.FunctionCtx, grad: torch.Tensor
    ) -> tuple[torch.Tensor, ...]:
        columns, weight, relate, relation, topology, *features = ctx.saved_tensors  # type: ignore[attr-defined]
        n, cin, c, t, v, k = ctx.shapes  # type: ignore[attr-defined]
        x_dtype, offset_dtype = ctx.dtypes  # type: ignore[attr-defined]
        channels_last: bool = ctx.channels_last  # type: ignore[attr-defined]
        dtype = topology.dtype
        w = weight.to(dtype)
        path: Conv3Path = ctx.conv3_path  # type: ignore[attr-defined]
        grad_offset = grad.new_empty(n, c, v, dtype=offset_dtype)
        # (N, C, K, U·V): the topology's gradient in the topology's layout
        grad_topology = torch.empty_like(topology)
        grad_weight = torch.zeros_like(weight)
        grad_x = grad.new_empty((n, t, v, cin) if channels_last else (n, cin, t, v), dtype=x_dtype)
        for (start, end), block_features in zip(
            _chunks(n, c * k * v * t, dtype), features, strict=True
        ):
            m = end - start
            # (m·C, V, T): the products' gradient as they wrote it
            block_grad = grad.new_empty(m, c, v, t, dtype=dtype)
            block_grad.copy_(grad[start:end].transpose(2, 3))
            grad_offset[start:end] = block_grad.sum(-1, dtype=offset_dtype)
            block_grad = block_grad.view(m * c, v, t)
            torch.bmm(
                block_features.view(m * c, k * v, t),
                block_grad.transpose(1, 2),
                out=grad_topology[start:end].view(m * c, k * v, v),
            )
            # (m, C·K, U·T): conv3's output gradient in its layout
            block_topology = topology[start:end].view(m * c, k * v, v)
            grad_features = torch.bmm(block_topology, block_grad).view(m, c * k, v * t)
            per_sample, block_x = _conv3_backward(w, columns[start:end], grad_features, path)
            grad_weight += per_sample.to(weight.dtype)
            # block_x is conv3's input's gradient in conv3's input layout: back to x's
            if path == "bmm-swapped":
                grad_x[start:end].copy_(block_x.view(m, v, t, cin).transpose(1, 2))
            elif channels_last:
                grad_x[start:end].copy_(block_x.view(m, cin, v, t).permute(0, 3, 2, 1))
            else:
                grad_x[start:end].copy_(block_x.view(m, cin, v, t).transpose(2, 3))
        # the topology's factors, per partition: (C, J) summed over the samples and
        # (N, J, U·V); each partition's gradient rows made contiguous once (bf16's bmm
        # copies an operand of strided rows at each use)
        grad_relate = torch.empty_like(relate)
        grad_relation = torch.empty_like(relation)
        for part in range(k):
            rows_of_part = grad_topology[:, :, part].contiguous()
            factor = relation[part].to(dtype)
            grad_relate[part] = torch.bmm(rows_of_part, factor.transpose(1, 2)).sum(
                0, dtype=relate.dtype
            )
            lhs = relate[part].to(dtype).t().expand(n, *relate[part].t().shape)
            grad_relation[part] = torch.bmm(lhs, rows_of_part)
        if channels_last:
            grad_x = grad_x.permute(0, 3, 1, 2)
        return grad_x, grad_weight, grad_relate, grad_relation, grad_offset


class CTRGCUnit(nn.Module):
    """PYSKL's ``unit_ctrgcn``: per partition of ``A`` (a parameter, initialised from the
    graph) a :class:`CTRGC` whose refinement, scaled by ``alpha`` (one for all
    partitions, initially 0: the graph alone), is added to that partition's ``A``; the
    features aggregated over joints with it, summed over partitions, batch norm, the
    residual ``down`` and ReLU."""

    def __init__(self, in_channels: int, out_channels: int, A: torch.Tensor) -> None:
        super().__init__()
        self.convs = nn.ModuleList(CTRGC(in_channels, out_channels) for _ in range(A.shape[0]))
        self.down: nn.Module = nn.Identity()
        if in_channels != out_channels:
            self.down = nn.Sequential(
                nn.Conv2d(in_channels, out_channels, 1), nn.BatchNorm2d(out_channels)
            )
        self.A = nn.Parameter(A.clone())
        self.alpha = nn.Parameter(torch.zeros(1))
        self.bn = nn.BatchNorm2d(out_channels)
        #: True: PYSKL's per-partition forward (the tests' reference for the fused one)
        self.unfused = False

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.unfused or not all(type(conv) is CTRGC for conv in self.convs):
            return self.forward_per_partition(x)
        affine = inference_affine(self.bn, x)
        if affine is not None:
            return self.infer(x, affine)
        # in place: the sum is this call's own tensor, and an out-of-place ReLU's extra
        # pass over it was a third of the two operations' time (bf16, channels last)
        return torch.relu_(self.bn(self.aggregate(x)) + self.down(x))

    def infer(self, x: torch.Tensor, affine: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
        """:meth:`forward` in inference, with the batch norm's ``affine`` (scale, shift)
        folded into conv3's weights and the offset (the aggregation is linear in
        conv3's output, per channel), the residual's into its convolution, and the sum
        and ReLU done chunk by chunk as the output is written: no pass over the output
        after the products (those three passes were a tenth of the unit in fp32)."""
        scale, shift = affine
        weight, relate, relation, offset = self.factors(x)
        # conv3's rows are in (channel, partition) order
        weight = weight * scale.repeat_interleave(len(self.convs))[:, None]
        offset = torch.addcmul(shift[:, None], offset, scale[:, None])
        residual = x
        if isinstance(self.down, nn.Sequential):
            conv, norm = self.down
            assert isinstance(conv, nn.Conv2d)
            residual = conv_norm(conv, norm, x)
        return _aggregate(x, weight, relate, relation, offset, keep=False, residual=residual)[0]

    def aggregate(self, x: torch.Tensor) -> torch.Tensor:
        """The partitions' refined aggregations, summed: the same function as
        :meth:`forward_per_partition`'s, computed as a few large operations in place of
        nine small convolutions and three products per partition.

        - ``conv1`` and ``conv2`` are per-frame linear maps whose outputs PYSKL averages
          over time: here the input is averaged first (the same function, its rounding
          aside), then all partitions' six maps are one matrix product on ``(N, C, V)``
          in place of six convolutions over every frame;
        - ``conv4``, ``alpha``, conv4's bias and ``A`` as one product per partition of
          joined factors, written in place in the layout the aggregation reads, and
          conv3's bias through the topology as a product of small tensors
          (:class:`RefinedAggregation`);
        - ``conv3`` of all partitions as one product over their joined weights;
        - the per-channel aggregation of all partitions as ONE batched product over a
          joined partition × joint axis: ``[y_1 y_2 y_3] @ [A_1; A_2; A_3]`` per sample
          and channel.

        The parameters stay in their PYSKL places (concatenated at each call, a few
        small copies), so that the state_dict and PYSKL's checkpoints are unchanged."""
        weight, relate, relation, offset = self.factors(x)
        # in the input's layout, or the batch norm, the residual sum, the ReLU and the
        # temporal block's convolutions each convert over mixed layouts
        if torch.jit.is_tracing():
            summed = _traced_aggregation(x, weight, relate, relation, offset)
            layout = torch.channels_last if is_channels_last(x) else torch.contiguous_format
            return summed.contiguous(memory_format=layout)
        if torch.is_grad_enabled():
            return RefinedAggregation.apply(x, weight, relate, relation, offset)
        # inference: conv3's output one chunk at a time, nothing kept for a backward
        return _aggregate(x, weight, relate, relation, offset, keep=False)[0]

    def factors(
        self, x: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """:class:`RefinedAggregation`'s operands for input ``x`` (see :meth:`aggregate`):
        conv3's joined weights, the topology's two factors and conv3's bias offset."""
        convs: list[CTRGC] = list(self.convs)  # type: ignore[arg-type]
        n, _, _, v = x.shape
        k, rel = len(convs), convs[0].conv1.out_channels
        # (N, 2·K·R, V): every partition's conv1 then conv2 embedding, time-averaged
        embed = torch.cat([c.conv1.weight for c in convs] + [c.conv2.weight for c in convs])
        embed_bias = torch.cat(_biases([c.conv1 for c in convs] + [c.conv2 for c in convs]))
        pooled = torch.matmul(embed.flatten(1), _time_average(x)) + embed_bias[:, None]
        first, second = pooled.view(n, 2, k, rel, v).unbind(1)
        # (K, N, R, U, V): what joint u sends to joint v, per relation channel (PYSKL's
        # order), partition-major so that each partition's rows lie together
        relation = torch.tanh(first.unsqueeze(-1) - second.unsqueeze(-2)).transpose(0, 1)
        # A + alpha × (conv4(relation) + bias) as ONE product per partition, its factors
        # joined: [alpha·W4, alpha·b4, 1] (K, C, J) by [relation; 1; A_k] (K, N, J, U·V)
        ones = relation.new_ones(k, n, 1, v, v)
        graph = self.A.to(relation.dtype)[:, None, None].expand(k, n, 1, v, v)
        relation = torch.cat([relation, ones, graph], 2).flatten(3)
        conv4_bias = torch.stack(_biases([c.conv4 for c in convs]))[:, :, None]
        relate = torch.cat(
            [
                torch.stack([c.conv4.weight.flatten(1) for c in convs]) * self.alpha,
                conv4_bias * self.alpha,
                torch.ones_like(conv4_bias),
            ],
            2,
        )
        # conv3's bias b adds b × the topology's sums over u to every frame, (N, C, V):
        # from the factors, sum_k,j b[c, k] relate[k, c, j] × relation[k, n, j, :, v]
        # summed over u (a product of small tensors, not a pass over the topology)
        bias = torch.stack(_biases([c.conv3 for c in convs]))  # (K, C)
        scaled = (relate * bias[:, :, None]).transpose(0, 1).flatten(1)  # (C, K·J)
        sums = relation.unflatten(3, (v, v)).sum(3).transpose(0, 1).flatten(1, 2)
        offset = torch.matmul(scaled, sums)  # (N, C, V)
        # conv3's weights with the rows in (channel, partition) order, so that the
        # product's output is laid out (N, C, K, ...): each sample and channel's joined
        # partition × joint rows an operand of the per-channel products, no copy
        weight = torch.stack([c.conv3.weight.flatten(1) for c in convs], 1).flatten(0, 1)
        return weight, relate, relation, offset

    def forward_per_partition(self, x: torch.Tensor) -> torch.Tensor:
        """PYSKL's forward, one :class:`CTRGC` and one product per partition: the
        reference :meth:`aggregate` is held to, and the path of units whose partitions
        are not plain :class:`CTRGC` modules."""
        summed: torch.Tensor | None = None
        for part, conv in enumerate(self.convs):
            features, refinement = conv(x)
            topology = refinement * self.alpha + self.A[part][None, None]
            # PYSKL's einsum('ncuv,nctu->nctv') as one batched matrix product
            aggregated = torch.matmul(features, topology)
            summed = aggregated if summed is None else summed + aggregated
        assert summed is not None
        if is_channels_last(x):
            summed = summed.contiguous(memory_format=torch.channels_last)
        return torch.relu(self.bn(summed) + self.down(x))


class MultiScaleTCN(nn.Module):
    """PYSKL's ``MSTCN`` (the one CTR-GCN and MS-G3D use): per dilation a branch of a 1×1
    convolution, batch norm, ReLU and a ``kernel_size``×1 temporal unit with batch norm;
    a branch ending in a 3×1 max-pool and batch norm; a strided 1×1 branch with batch
    norm (the remainder of the channels); concatenated, ReLU, dropout."""

    def __init__(
        self,
        channels: int,
        stride: int,
        kernel_size: int,
        dilations: Sequence[int] = (1, 2),
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        count = len(dilations) + 2
        width = channels // count
        rest = channels - width * (count - 1)

        def reduce(out: int) -> list[nn.Module]:
            return [nn.Conv2d(channels, out, kernel_size=1), nn.BatchNorm2d(out), nn.ReLU()]

        branches: list[nn.Module] = [
            nn.Sequential(
                *reduce(width),
                TemporalConv(width, width, kernel_size, stride=stride, dilation=dilation),
            )
            for dilation in dilations
        ]
        pool = nn.MaxPool2d(kernel_size=(3, 1), stride=(stride, 1), padding=(1, 0))
        branches.append(nn.Sequential(*reduce(width), pool, nn.BatchNorm2d(width)))
        branches.append(
            nn.Sequential(
                nn.Conv2d(channels, rest, kernel_size=1, stride=(stride, 1)),
                nn.BatchNorm2d(rest),
            )
        )
        self.branches = nn.ModuleList(branches)
        self.drop = nn.Dropout(dropout)
        #: True: each branch with its own last batch norm, as PYSKL (the tests' reference)
        self.unfused = False

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        *reduced, last = self.branches
        ends = None if self.unfused else self._branch_ends()
        if ends is None:  # the branches as they are, each with its own batch norms
            outputs = [*reduced_branches(x, reduced), last(x)]
            return self.drop(torch.relu(torch.cat(outputs, dim=1)))
        if all(folds_in_inference(end, x) for end in ends):
            # inference: the branches as they are, each batch norm folded into the
            # convolution before it (the max-pool branch's last one stays after its pool)
            last_conv, last_norm = list(last)  # type: ignore[call-overload]
            outputs = [*reduced_branches(x, reduced), conv_norm(last_conv, last_norm, x)]
            return self.drop(torch.relu_(torch.cat(outputs, dim=1)))
        # each branch up to its last batch norm (the dilated and max-pool branches' 1×1
        # convolutions and batch norms as one), concatenated, then the four branches'
        # last batch norms as ONE over the concatenated channels: per channel the same
        # function, in place of four narrow batch norms, whose backward on the
        # channels-last slices of one tensor was a seventh of the step
        bodies = []
        for branch in reduced:  # 1×1 conv, batch norm, ReLU, a temporal unit or a pool
            conv, norm, relu, tail = list(branch)[:4]  # type: ignore[call-overload]
            bodies.append([conv, norm, relu, tail.conv if isinstance(tail, TemporalConv) else tail])
        # (reduced_branches takes each branch as a sequence of its layers)
        outputs = [*reduced_branches(x, bodies), last[0](x)]  # type: ignore[arg-type, index]
        joined = joint_batch_norm(torch.cat(outputs, dim=1), ends)
        return self.drop(torch.relu_(joined))  # the batch norm's own output

    def _branch_ends(self) -> list[nn.BatchNorm2d] | None:
        """The branches' last batch norms where all batch norms are plain and alike
        (None where one is not: a SyncBatchNorm, say), the temporal units without
        dropout."""
        *reduced, _ = self.branches
        first = reduced[0][1]  # type: ignore[index]
        if not all(fusable_norm(branch[1], first) for branch in reduced):  # type: ignore[index]
            return None
        ends: list[nn.Module] = []
        for branch in self.branches:
            layer = branch[-1]  # type: ignore[index]
            if isinstance(layer, TemporalConv):
                if layer.drop.p != 0:
                    return None
                layer = layer.bn
            ends.append(layer)
        if not all(fusable_norm(end, ends[0]) for end in ends):
            return None
        return ends  # type: ignore[return-value]


class CTRGCNBlock(nn.Module):
    """PYSKL's ``CTRGCNBlock``: ``relu(tcn1(gcn1(x)) + residual(x))``."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        A: torch.Tensor,
        stride: int = 1,
        residual: bool = True,
        kernel_size: int = 5,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        self.gcn1 = CTRGCUnit(in_channels, out_channels, A)
        self.tcn1 = MultiScaleTCN(out_channels, stride, kernel_size, dropout=dropout)
        self.residual = block_residual(in_channels, out_channels, stride, residual)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.tcn1(self.gcn1(x))
        if self.residual is None:
            return torch.relu(y)
        return torch.relu_(y + self.residual(x))  # the sum is this call's own tensor


class CTRGCNBackbone(nn.Module):
    """PYSKL's ``CTRGCN`` backbone: ``(N, M, T, V, C)`` in, ``(N, M, C', T', V)`` out."""

    def __init__(
        self,
        A: torch.Tensor,
        in_channels: int,
        persons: int,
        options: CTRGCNOptions,
    ) -> None:
        super().__init__()
        self.register_buffer("A", A)
        self.data_bn = nn.BatchNorm1d(persons * in_channels * A.shape[1])
        width = options.base_channels
        blocks = [
            CTRGCNBlock(in_channels, width, A, residual=False, kernel_size=options.kernel_size)
        ]
        for stage in range(2, STAGES + 1):
            out = width * 2 if stage in WIDER else width
            blocks.append(
                CTRGCNBlock(
                    width,
                    out,
                    A,
                    stride=2 if stage in WIDER else 1,
                    kernel_size=options.kernel_size,
                    dropout=options.dropout,
                )
            )
            width = out
        self.net = nn.ModuleList(blocks)
        self.out_channels = width

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, m, t, v, c = x.shape
        # the data batch norm over (M, V, C) of each frame, as PYSKL orders them
        x = self.data_bn(x.permute(0, 1, 3, 4, 2).reshape(n, m * v * c, t))
        x = x.view(n, m, v, c, t).permute(0, 1, 3, 4, 2).reshape(n * m, c, t, v)
        # channels last in training on a CPU as ST-GCN++'s, and where the parameters are
        x = features_for_blocks(x, self.net[0], self.training)
        for block in self.net:
            x = block(x)
        return x.reshape((n, m, *x.shape[1:]))

    def init_pyskl(self) -> None:
        """PYSKL's ``init_weights``: in each block's CTR-GC unit and temporal block,
        convolutions Kaiming-normal (fan-out) with zero bias and batch norms 1 and 0, the
        unit's output batch norm 1e-6 (each block starts near its residual); the block
        residuals and the data batch norm keep PyTorch's defaults, as in PYSKL."""
        for block in self.net:
            assert isinstance(block, CTRGCNBlock)
            parts: tuple[nn.Module, ...] = (block.tcn1, block.gcn1)
            for part in parts:
                for module in part.modules():
                    if isinstance(module, nn.Conv2d):
                        nn.init.kaiming_normal_(module.weight, mode="fan_out")
                        if module.bias is not None:
                            nn.init.zeros_(module.bias)
                    elif isinstance(module, nn.BatchNorm2d):
                        nn.init.ones_(module.weight)
                        nn.init.zeros_(module.bias)
            nn.init.constant_(block.gcn1.bn.weight, 1e-6)
            nn.init.zeros_(block.gcn1.bn.bias)


class CTRGCN(PysklRecognizer):
    """PYSKL's ``RecognizerGCN`` of a :class:`CTRGCNBackbone` and a ``GCNHead`` over the
    backbone's last width (256 at PYSKL's 64 base channels), as a stgcn network."""

    #: its data batch norm is per person, joint and channel: it takes its persons only
    fixed_persons = True

    def __init__(self, spec: ModelSpec) -> None:
        options = spec.options if spec.options is not None else CTRGCNOptions()
        if options.kernel_size % 2 == 0:
            raise StgcnError(
                "model ctrgcn: kernel_size must be odd (the temporal convolutions keep "
                f"the frames), not {options.kernel_size}"
            )
        A = pyskl_graph(spec.layout).float()
        backbone = CTRGCNBackbone(A, spec.in_channels, spec.persons, options)
        if options.init == "reference":
            backbone.init_pyskl()
        super().__init__(spec, backbone, backbone.out_channels)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The backbone's last features; one line where a clip's channels, joints or
        persons are not the network's, which PYSKL's data batch norm (one per person,
        joint and channel) fixes: a clip of more persons is no input for it."""
        if torch.jit.is_tracing():  # an exporter's trace: the shapes are traced values
            return super().features(x)
        _, channels, _, joints, persons = x.shape
        expected = (self.in_channels, self.layout.num_node, self.persons)
        if (channels, joints, persons) != expected:
            raise StgcnError(
                f"model ctrgcn takes clips of {expected[0]} channels, {expected[1]} joints "
                f"and {expected[2]} persons (its data batch norm is one per person, joint "
                f"and channel, as PYSKL's), not {channels}, {joints} and {persons}"
            )
        return super().features(x)


def build(spec: ModelSpec) -> CTRGCN:
    """A CTR-GCN for ``spec``: PYSKL's ``spatial`` graph of its layout, its fresh weights
    drawn as ``init`` says."""
    return CTRGCN(spec)


def recognise(request: RecogniseRequest) -> ModelSpec | None:
    """The spec of the PYSKL CTR-GCN these weights fit (None when they lack its keys):
    the classes from the head, the joints from the graph ``A``, the channels from the
    first CTR-GC unit, the persons from the data batch norm, the base width and temporal
    kernel from the first block; the layout is ``--layout`` or the registered one with
    that many joints (PYSKL's own first)."""
    weights = request.weights
    if not has_keys(weights, KEYS):
        return None
    A = weights[f"{BACKBONE}A"]
    if A.dim() != 3 or A.shape[1] != A.shape[2]:
        raise StgcnError(f"not a CTR-GCN state_dict: backbone.A has shape {tuple(A.shape)}")
    joints = int(A.shape[1])
    layout = layout_for(request, joints)
    first = weights[f"{BACKBONE}net.0.gcn1.convs.0.conv3.weight"]
    channels = int(first.shape[1])
    # the data batch norm spans persons × joints × channels
    persons, spare = divmod(input_channels(weights, joints), channels)
    if spare or persons < 1:
        raise StgcnError(
            "not a CTR-GCN state_dict: its data batch norm is not persons × joints × "
            f"{channels} channels"
        )
    temporal = weights[f"{BACKBONE}net.0.tcn1.branches.0.3.conv.weight"]
    options = CTRGCNOptions(base_channels=int(first.shape[0]), kernel_size=int(temporal.shape[2]))
    return ModelSpec(class_count(request), channels, layout, persons=persons, options=options)
