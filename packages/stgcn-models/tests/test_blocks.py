"""The fast paths of the shared blocks against the modules called one by one: the joined
branch convolution and batch norm of the multi-scale temporal blocks, and the joint
aggregation in either memory layout. Outputs, gradients, running statistics and batch
counts must be what PYSKL's module-by-module forward gives, in training and evaluation."""

from __future__ import annotations

import copy

import pytest
import torch
from stgcn_models.blocks import (
    MultiScaleTemporal,
    TemporalConv,
    aggregate_joints,
    conv_norm,
    inference_affine,
)
from stgcn_models.ctrgcn import CTRGCUnit, MultiScaleTCN
from torch import nn


def _one_by_one(block: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """The block's forward as PYSKL writes it: every branch called on its own."""
    joined = torch.cat([branch(x) for branch in block.branches], dim=1)
    if isinstance(block, MultiScaleTemporal):
        return block.drop(block.bn(block.transform(joined)))
    return block.drop(torch.relu(joined))


@pytest.mark.parametrize(
    "make",
    [
        lambda: MultiScaleTemporal(64, 64),
        lambda: MultiScaleTemporal(64, 128, stride=2),
        lambda: MultiScaleTCN(64, stride=1, kernel_size=5),
        lambda: MultiScaleTCN(64, stride=2, kernel_size=5),
    ],
    ids=["mstcn", "mstcn-strided", "ctrgcn-mstcn", "ctrgcn-mstcn-strided"],
)
@pytest.mark.parametrize("channels_last", [False, True], ids=["contiguous", "channels-last"])
def test_joined_branches_are_the_branches_one_by_one(make, channels_last: bool) -> None:
    torch.manual_seed(0)
    fast = make()
    for module in fast.modules():  # statistics and affine parameters away from 0 and 1
        if isinstance(module, nn.BatchNorm2d):
            nn.init.normal_(module.weight)
            nn.init.normal_(module.bias)
            module.running_mean.normal_()
            module.running_var.uniform_(0.5, 2.0)
    slow = copy.deepcopy(fast)
    x = torch.randn(4, 64, 20, 5)
    if channels_last:
        x = x.contiguous(memory_format=torch.channels_last)
    # a loss whose gradient the batch norms do not cancel; both take this first step
    projection = torch.randn_like(fast(x))
    _one_by_one(slow, x)
    fast.zero_grad()
    slow.zero_grad()
    for _ in range(2):  # two steps: the second sees the statistics the first updated
        ours = fast(x)
        theirs = _one_by_one(slow, x)
        torch.testing.assert_close(ours, theirs, rtol=1e-5, atol=1e-5)
        (ours * projection).sum().backward()
        (theirs * projection).sum().backward()
    torch.testing.assert_close(fast.state_dict(), slow.state_dict(), rtol=1e-6, atol=1e-6)
    assert int(fast.branches[0][1].num_batches_tracked) == 3
    # to the largest gradient's round-off: the biases before a batch norm in training
    # have a true gradient of 0, which fp32 gives as noise of either sign
    scale = max(float(p.grad.abs().max()) for p in slow.parameters())
    for (name, mine), (_, pyskls) in zip(
        fast.named_parameters(), slow.named_parameters(), strict=True
    ):
        torch.testing.assert_close(mine.grad, pyskls.grad, rtol=1e-4, atol=1e-5 * scale, msg=name)
    fast.eval()
    slow.eval()
    torch.testing.assert_close(fast(x), _one_by_one(slow, x), rtol=1e-5, atol=1e-5)


def _off_defaults(module: nn.Module) -> nn.Module:
    """``module`` with every batch norm's statistics and affine parameters away from 0
    and 1, so that a batch norm left out or applied twice shows."""
    for norm in module.modules():
        if isinstance(norm, nn.BatchNorm2d):
            nn.init.normal_(norm.weight)
            nn.init.normal_(norm.bias)
            norm.running_mean.normal_()
            norm.running_var.uniform_(0.5, 2.0)
    return module


def _norms_called(
    module: nn.Module, x: torch.Tensor, grad: bool = False
) -> tuple[torch.Tensor, int]:
    """``module(x)`` in inference (no autograd unless ``grad``) and how many batch norms
    ran as such."""
    calls = []
    hooks = [
        norm.register_forward_hook(lambda *_: calls.append(1))
        for norm in module.modules()
        if isinstance(norm, nn.BatchNorm2d)
    ]
    with torch.set_grad_enabled(grad):
        out = module(x)
    for hook in hooks:
        hook.remove()
    return out, len(calls)


@pytest.mark.parametrize(
    ("make", "unfolded"),
    [
        # the transform's batch norm is before a ReLU; the max-pool branch's after its pool
        (lambda: MultiScaleTemporal(16, 16), 1),
        (lambda: MultiScaleTemporal(16, 32, stride=2), 1),
        (lambda: MultiScaleTCN(16, stride=1, kernel_size=5), 1),
        (lambda: MultiScaleTCN(16, stride=2, kernel_size=5), 1),
        (lambda: TemporalConv(16, 24, kernel=9, stride=2), 0),
        (lambda: CTRGCUnit(16, 16, torch.rand(3, 5, 5)), 0),
        (lambda: CTRGCUnit(16, 32, torch.rand(3, 5, 5)), 0),
    ],
    ids=[
        "mstcn",
        "mstcn-strided",
        "ctrgcn-mstcn",
        "ctrgcn-mstcn-strided",
        "unit-tcn",
        "ctrgc",
        "ctrgc-down",
    ],
)
@pytest.mark.parametrize("channels_last", [False, True], ids=["contiguous", "channels-last"])
def test_in_inference_the_batch_norms_fold_into_the_convolutions(
    make, unfolded: int, channels_last: bool
) -> None:
    """Evaluated without autograd on channels-last features, the batch norms that follow
    a convolution run folded into it (only those after a ReLU or a pool still run): the
    same outputs as in evaluation with autograd on, where every batch norm runs as it is
    (float64). Contiguous, every batch norm runs (PYSKL's order of operations)."""
    torch.manual_seed(0)
    block = _off_defaults(make()).double().eval()
    if isinstance(block, CTRGCUnit):
        nn.init.normal_(block.alpha)
    x = torch.randn(3, 16, 10, 5, dtype=torch.float64)
    if channels_last:
        block = block.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    folded, calls = _norms_called(block, x)
    expected, every = _norms_called(block, x, grad=True)  # autograd on: nothing folded
    assert calls == (unfolded if channels_last else every)
    torch.testing.assert_close(folded, expected, rtol=1e-10, atol=1e-12)
    assert folded.is_contiguous(memory_format=torch.channels_last) == channels_last


def test_a_batch_norm_folds_only_in_inference_on_its_running_statistics() -> None:
    """Training, autograd, a batch norm without running statistics, a trace or
    contiguous features keep the batch norm as it is; without affine parameters it folds
    as the plain normalisation."""
    conv, norm = nn.Conv2d(4, 6, (3, 1), bias=False), nn.BatchNorm2d(6, affine=False)
    norm.eval().running_mean.normal_()
    norm.running_var.uniform_(0.5, 2.0)
    x = torch.randn(2, 4, 7, 3).contiguous(memory_format=torch.channels_last)
    with torch.no_grad():
        assert inference_affine(norm, x) is not None
        torch.testing.assert_close(conv_norm(conv, norm, x), norm(conv(x)))
        assert inference_affine(norm, x.contiguous()) is None
        assert inference_affine(norm.train(), x) is None
        plain = nn.BatchNorm2d(6, track_running_stats=False).eval()
        assert inference_affine(plain, x) is None
        assert inference_affine(nn.SyncBatchNorm(6).eval(), x) is None
        traced: list[object] = []
        trace = torch.jit.trace  # as stgcn-export's ONNX export traces
        trace(lambda t: traced.append(inference_affine(norm.eval(), t)) or t, x, check_trace=False)
        assert traced and all(affine is None for affine in traced)
    assert inference_affine(norm.eval(), x) is None  # autograd records


def test_a_sync_batch_norm_keeps_the_branches_apart(monkeypatch: pytest.MonkeyPatch) -> None:
    """After ``convert_sync_batchnorm`` the statistics span processes: the joined batch
    norm must not bypass it. Every branch's SyncBatchNorm is called."""
    calls = []
    forward = nn.SyncBatchNorm.forward

    def counted(self: nn.SyncBatchNorm, x: torch.Tensor) -> torch.Tensor:
        calls.append(self)
        return forward(self, x)

    monkeypatch.setattr(nn.SyncBatchNorm, "forward", counted)
    block = nn.SyncBatchNorm.convert_sync_batchnorm(MultiScaleTemporal(12, 12))
    block(torch.randn(2, 12, 8, 3))
    # five branches' norms, the transform's and the block's own
    assert len(calls) == 7


@pytest.mark.parametrize("channels_last", [False, True], ids=["contiguous", "channels-last"])
def test_the_aggregation_is_pyskls_einsum(channels_last: bool) -> None:
    torch.manual_seed(0)
    y = torch.randn(2, 3 * 8, 10, 7)
    A = torch.randn(3, 7, 7, requires_grad=True)
    if channels_last:
        y = y.contiguous(memory_format=torch.channels_last)
    y.requires_grad_()
    ours = aggregate_joints(y, A)
    theirs = torch.einsum("nkctv,kvw->nctw", y.reshape(2, 3, 8, 10, 7), A)
    torch.testing.assert_close(ours, theirs, rtol=1e-5, atol=1e-5)
    # the layout is kept: a channels-last input gives a channels-last output, no copy
    assert ours.is_contiguous(memory_format=torch.channels_last) == channels_last
    # and the gradients, of the features and of the learnt adjacency, are the einsum's
    projection = torch.randn_like(theirs)
    mine = torch.autograd.grad((ours * projection).sum(), (y, A))
    pyskls = torch.autograd.grad((theirs * projection).sum(), (y, A))
    for grad, expected in zip(mine, pyskls, strict=True):
        torch.testing.assert_close(grad, expected, rtol=1e-5, atol=1e-5)


def test_ctrgcns_unit_gives_channels_last_for_channels_last() -> None:
    """The CTR-GC unit's per-channel products come out contiguous; the unit hands the
    next block the input's layout back, with the same numbers."""
    torch.manual_seed(0)
    unit = CTRGCUnit(16, 32, torch.rand(3, 5, 5))
    nn.init.normal_(unit.alpha)
    x = torch.randn(2, 16, 6, 5)
    plain = unit(x)
    ours = unit(x.contiguous(memory_format=torch.channels_last))
    assert ours.is_contiguous(memory_format=torch.channels_last)
    torch.testing.assert_close(ours, plain, rtol=1e-5, atol=1e-5)
