"""Tests for the ST-GCN network and its plain second implementation.

The contract is the reference network's: its state_dict keys and shapes (released
checkpoints must load with ``strict=True``) and its function. The key list is rebuilt here
from the written description (REFERENCE.md §1), not read off either implementation, and
``BaselineSTGCN`` (einsum, avg_pool2d, written separately) is the numerical oracle for
``STGCN``.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from stgcn.bench.baseline import BaselineSTGCN
from stgcn.model.graph import STRATEGIES, Graph
from stgcn.model.layouts import LAYOUTS
from stgcn.model.network import STGCN

IMPLEMENTATIONS = [STGCN, BaselineSTGCN]
IMPL_IDS = ["STGCN", "Baseline"]

FRAMES = 16
BATCH = 2


@pytest.fixture(scope="module", autouse=True)
def single_thread() -> Iterator[None]:
    """Run these small networks on one thread.

    At 16 frames the tensors are too small for intra-op threads to pay off, and on a shared
    2-core machine a busy neighbour makes two spinning OpenMP threads 10-20x slower than one.
    """
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


# REFERENCE.md §1: (output channels, temporal stride) of blocks 0..9
PLAN = [(64, 1)] * 4 + [(128, 2), (128, 1), (128, 1), (256, 2), (256, 1), (256, 1)]
BUFFER_SUFFIXES = ("running_mean", "running_var", "num_batches_tracked")


def batchnorm_keys(prefix: str, channels: int) -> dict[str, tuple[int, ...]]:
    return {
        f"{prefix}.weight": (channels,),
        f"{prefix}.bias": (channels,),
        f"{prefix}.running_mean": (channels,),
        f"{prefix}.running_var": (channels,),
        f"{prefix}.num_batches_tracked": (),
    }


def reference_state_dict_shapes(
    num_class: int = 400,
    num_node: int = 18,
    partitions: int = 3,
    in_channels: int = 3,
    edge_importance: bool = True,
) -> dict[str, tuple[int, ...]]:
    """The reference network's state_dict keys and shapes, from its description alone."""
    shapes: dict[str, tuple[int, ...]] = {"A": (partitions, num_node, num_node)}
    shapes.update(batchnorm_keys("data_bn", in_channels * num_node))
    channels = in_channels
    for index, (out_channels, stride) in enumerate(PLAN):
        block = f"st_gcn_networks.{index}"
        shapes[f"{block}.gcn.conv.weight"] = (partitions * out_channels, channels, 1, 1)
        shapes[f"{block}.gcn.conv.bias"] = (partitions * out_channels,)
        shapes.update(batchnorm_keys(f"{block}.tcn.0", out_channels))
        shapes[f"{block}.tcn.2.weight"] = (out_channels, out_channels, 9, 1)
        shapes[f"{block}.tcn.2.bias"] = (out_channels,)
        shapes.update(batchnorm_keys(f"{block}.tcn.3", out_channels))
        if index > 0 and (channels != out_channels or stride != 1):
            shapes[f"{block}.residual.0.weight"] = (out_channels, channels, 1, 1)
            shapes[f"{block}.residual.0.bias"] = (out_channels,)
            shapes.update(batchnorm_keys(f"{block}.residual.1", out_channels))
        channels = out_channels
    if edge_importance:
        for index in range(len(PLAN)):
            shapes[f"edge_importance.{index}"] = (partitions, num_node, num_node)
    shapes["fcn.weight"] = (num_class, channels, 1, 1)
    shapes["fcn.bias"] = (num_class,)
    return shapes


def parameter_count(shapes: dict[str, tuple[int, ...]]) -> int:
    return sum(
        math.prod(shape)
        for key, shape in shapes.items()
        if key != "A" and not key.endswith(BUFFER_SUFFIXES)
    )


def skeletons(num_node: int, persons: int = 2, frames: int = FRAMES, seed: int = 0) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(BATCH, 3, frames, num_node, persons, generator=generator)


def randomise(model: nn.Module, seed: int) -> None:
    """Give every weight, BN statistic and edge importance a distinct, O(1)-scale value.

    Freshly initialised networks have BN running stats (0, 1) and edge importances all
    ones, which would hide a mix-up of those tensors, and N(0, 0.02) weights, which shrink
    the logits towards zero where almost anything looks equal.
    """
    generator = torch.Generator().manual_seed(seed)

    def rand(shape: torch.Size, low: float, high: float) -> torch.Tensor:
        return torch.rand(shape, generator=generator) * (high - low) + low

    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, nn.Conv2d):
                fan_in = module.weight[0].numel()
                module.weight.copy_(torch.randn(module.weight.shape, generator=generator))
                module.weight.mul_(fan_in**-0.5)
                module.bias.copy_(rand(module.bias.shape, -0.1, 0.1))
            elif isinstance(module, nn.BatchNorm1d | nn.BatchNorm2d):
                module.weight.copy_(rand(module.weight.shape, 0.5, 1.5))
                module.bias.copy_(rand(module.bias.shape, -0.2, 0.2))
                module.running_mean.copy_(rand(module.running_mean.shape, -0.3, 0.3))
                module.running_var.copy_(rand(module.running_var.shape, 0.5, 2.0))
                steps = torch.randint(1, 1000, (1,), generator=generator)
                module.num_batches_tracked.fill_(int(steps))
        if model.edge_importance is not None:
            for importance in model.edge_importance:
                importance.copy_(rand(importance.shape, 0.5, 1.5))


def assert_same_logits(a: torch.Tensor, b: torch.Tensor) -> None:
    scale = max(float(b.abs().max()), 1e-3)
    torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5 * scale)


# ------------------------------------------------------------------------- state_dict
def test_reference_description_itself() -> None:
    # guards the helper above against drifting from the numbers REFERENCE.md states
    shapes = reference_state_dict_shapes()
    assert len(shapes) == 172
    assert parameter_count(shapes) == 3_177_140


@pytest.mark.parametrize("impl", IMPLEMENTATIONS, ids=IMPL_IDS)
def test_kinetics_state_dict_is_the_reference_one(impl: type[nn.Module]) -> None:
    model = impl(400, "openpose", "spatial")
    state = model.state_dict()
    expected = reference_state_dict_shapes()
    assert set(state) == set(expected)
    assert {key: tuple(value.shape) for key, value in state.items()} == expected
    assert len(state) == 172
    assert sum(p.numel() for p in model.parameters()) == 3_177_140
    # the shapes REFERENCE.md names, spelled out
    assert state["A"].shape == (3, 18, 18)
    assert state["data_bn.weight"].shape == (54,)
    assert state["st_gcn_networks.0.gcn.conv.weight"].shape == (192, 3, 1, 1)
    assert state["st_gcn_networks.0.tcn.2.weight"].shape == (64, 64, 9, 1)
    assert state["fcn.weight"].shape == (400, 256, 1, 1)
    residual_blocks = {key.split(".")[1] for key in state if ".residual." in key}
    assert residual_blocks == {"4", "7"}
    # A is a buffer (in the state_dict, not trained); edge importances are parameters
    assert "A" in dict(model.named_buffers()) and "A" not in dict(model.named_parameters())
    assert {f"edge_importance.{i}" for i in range(10)} <= set(dict(model.named_parameters()))


@pytest.mark.parametrize("impl", IMPLEMENTATIONS, ids=IMPL_IDS)
def test_no_edge_importance_keys_when_disabled(impl: type[nn.Module]) -> None:
    state = impl(400, edge_importance_weighting=False).state_dict()
    assert not any(key.startswith("edge_importance") for key in state)
    assert {key: tuple(v.shape) for key, v in state.items()} == reference_state_dict_shapes(
        edge_importance=False
    )
    assert len(state) == 162


@pytest.mark.parametrize("impl", IMPLEMENTATIONS, ids=IMPL_IDS)
@pytest.mark.parametrize(
    ("layout", "strategy", "max_hop", "partitions", "num_class", "in_channels"),
    [
        ("ntu-rgb+d", "spatial", 1, 3, 60, 3),
        ("ntu_edge", "uniform", 1, 1, 60, 3),
        ("coco", "distance", 2, 3, 10, 2),
    ],
)
def test_state_dict_shapes_follow_layout_and_strategy(
    impl: type[nn.Module],
    layout: str,
    strategy: str,
    max_hop: int,
    partitions: int,
    num_class: int,
    in_channels: int,
) -> None:
    model = impl(num_class, layout, strategy, in_channels=in_channels, max_hop=max_hop)
    expected = reference_state_dict_shapes(
        num_class, LAYOUTS[layout].num_node, partitions, in_channels
    )
    assert {key: tuple(v.shape) for key, v in model.state_dict().items()} == expected


@pytest.mark.parametrize("impl", IMPLEMENTATIONS, ids=IMPL_IDS)
def test_A_buffer_is_the_graph_adjacency(impl: type[nn.Module]) -> None:
    model = impl(5, "ntu-rgb+d", "spatial")
    assert model.A.dtype == torch.float32
    torch.testing.assert_close(model.A, torch.from_numpy(Graph("ntu-rgb+d", "spatial").A))


# ------------------------------------------------------------------------------ shapes
@pytest.mark.parametrize("impl", IMPLEMENTATIONS, ids=IMPL_IDS)
@pytest.mark.parametrize("strategy", STRATEGIES)
@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_output_shape(impl: type[nn.Module], layout: str, strategy: str) -> None:
    persons = 1 if strategy == "distance" else 2
    model = impl(7, layout, strategy)
    with torch.no_grad():
        out = model(skeletons(LAYOUTS[layout].num_node, persons))
    assert out.shape == (BATCH, 7)
    assert torch.isfinite(out).all()


@pytest.mark.parametrize("impl", IMPLEMENTATIONS, ids=IMPL_IDS)
def test_output_shape_odd_frames_and_custom_layout(impl: type[nn.Module]) -> None:
    layout = {"num_node": 5, "edges": [(0, 1), (1, 2), (1, 3), (3, 4)], "center": 1}
    model = impl(4, layout, "spatial", in_channels=2, max_hop=2, dilation=1).eval()
    x = torch.randn(3, 2, 13, 5, 1)
    with torch.no_grad():
        assert model(x).shape == (3, 4)
    assert model.A.shape == (5, 5, 5)


# --------------------------------------------------------- the two implementations agree
EQUIVALENCE_CASES = [
    ("openpose", "spatial", True),
    ("ntu-rgb+d", "distance", True),
    ("coco", "uniform", False),
]


@pytest.mark.parametrize("direction", ["baseline->stgcn", "stgcn->baseline"])
@pytest.mark.parametrize(("layout", "strategy", "edge_importance"), EQUIVALENCE_CASES)
def test_state_dict_moves_between_implementations_with_same_logits(
    direction: str, layout: str, strategy: str, edge_importance: bool
) -> None:
    kwargs = dict(layout=layout, strategy=strategy, edge_importance_weighting=edge_importance)
    baseline, stgcn = BaselineSTGCN(11, **kwargs), STGCN(11, **kwargs)
    source, target = (baseline, stgcn) if direction == "baseline->stgcn" else (stgcn, baseline)
    randomise(source, seed=1)
    target.load_state_dict(source.state_dict(), strict=True)
    x = skeletons(LAYOUTS[layout].num_node, persons=2, seed=2)

    with torch.no_grad():
        source.eval(), target.eval()
        assert_same_logits(target(x), source(x))
        # train mode: batch statistics, and the running stats must move the same way
        source.train(), target.train()
        assert_same_logits(target(x), source(x))
    source_state, target_state = source.state_dict(), target.state_dict()
    for key, value in source_state.items():
        torch.testing.assert_close(target_state[key], value, rtol=1e-5, atol=1e-6)


def feeds_batchnorm_directly(name: str) -> bool:
    """Conv biases followed at once by BatchNorm: in train mode BN subtracts the batch mean,
    so their gradient is exactly zero in exact arithmetic and rounding noise in floats."""
    return name.endswith((".tcn.2.bias", ".residual.0.bias"))


@pytest.mark.parametrize("mode", ["train", "eval"])
def test_same_gradients_in_both_implementations(mode: str) -> None:
    baseline, stgcn = BaselineSTGCN(6), STGCN(6)
    randomise(baseline, seed=3)
    stgcn.load_state_dict(baseline.state_dict(), strict=True)
    x = skeletons(18, persons=2, seed=4)
    target = torch.tensor([1, 4])
    for model in (baseline, stgcn):
        getattr(model, mode)()
        F.cross_entropy(model(x), target).backward()
    stgcn_params = dict(stgcn.named_parameters())
    for name, param in baseline.named_parameters():
        if mode == "train" and feeds_batchnorm_directly(name):
            continue
        scale = float(param.grad.abs().max())
        torch.testing.assert_close(
            stgcn_params[name].grad, param.grad, rtol=1e-3, atol=1e-5 * scale, msg=name
        )


@pytest.mark.parametrize("mode", ["train", "eval"])
def test_channels_last_takes_the_copy_free_path_with_the_same_function(
    mode: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Accelerator backends store the model channels-last; the graph convolution then
    aggregates without a layout copy, and logits and gradients must not change. In
    float64, because train-mode BatchNorm over a batch of two amplifies fp32 rounding of
    the other summation order to about 1e-3."""
    import stgcn.model.network as model_module

    contiguous, nhwc = STGCN(6), STGCN(6)
    randomise(contiguous, seed=7)
    nhwc.load_state_dict(contiguous.state_dict())
    contiguous.double()
    nhwc.double().to(memory_format=torch.channels_last)
    taken = []
    original = model_module._aggregate_channels_last
    monkeypatch.setattr(
        model_module,
        "_aggregate_channels_last",
        lambda *args: taken.append(1) or original(*args),
    )
    x = skeletons(18, persons=2, seed=8).double()
    target = torch.tensor([2, 5])
    outputs = []
    for model in (contiguous, nhwc):
        getattr(model, mode)()
        logits = model(x)
        F.cross_entropy(logits, target).backward()
        outputs.append(logits)
    assert len(taken) == len(nhwc.st_gcn_networks)  # every block, and only the nhwc model
    torch.testing.assert_close(outputs[1], outputs[0], rtol=1e-10, atol=1e-12)
    nhwc_params = dict(nhwc.named_parameters())
    for name, param in contiguous.named_parameters():
        if mode == "train" and feeds_batchnorm_directly(name):
            continue
        scale = float(param.grad.abs().max())
        torch.testing.assert_close(
            nhwc_params[name].grad, param.grad, rtol=1e-9, atol=1e-11 * scale, msg=name
        )


def test_randomise_really_changes_what_matters() -> None:
    # the equivalence test only means something if the randomised tensors matter
    model = STGCN(5).eval()
    randomise(model, seed=5)
    x = skeletons(18, seed=6)
    with torch.no_grad():
        before = model(x)
        model.edge_importance[3].mul_(1.5)
        after_importance = model(x)
        model.st_gcn_networks[5].tcn[3].running_var.mul_(2.0)
        after_stats = model(x)
    assert not torch.allclose(before, after_importance, rtol=1e-3)
    assert not torch.allclose(after_importance, after_stats, rtol=1e-3)


# --------------------------------------------------------------------------- gradients
@pytest.mark.parametrize("impl", IMPLEMENTATIONS, ids=IMPL_IDS)
@pytest.mark.parametrize("mode", ["train", "eval"])
def test_gradients_reach_every_parameter(impl: type[nn.Module], mode: str) -> None:
    torch.manual_seed(0)
    model = impl(5, "openpose", "spatial", dropout=0.5)
    getattr(model, mode)()
    F.cross_entropy(model(skeletons(18, persons=2)), torch.tensor([0, 3])).backward()
    for name, param in model.named_parameters():
        assert param.grad is not None, name
        if mode == "train" and feeds_batchnorm_directly(name):
            # reached, but cancelled by the batch mean: only rounding noise remains
            weight_grad = model.get_parameter(name.replace(".bias", ".weight")).grad
            assert param.grad.abs().max() < 1e-4 * weight_grad.abs().max(), name
            continue
        assert param.grad.abs().sum() > 0, name
    # an edge importance only learns where the graph has an edge
    for importance in model.edge_importance:
        assert (importance.grad[model.A == 0] == 0).all()


# ----------------------------------------------------------------------------- dropout
@pytest.mark.parametrize("impl", IMPLEMENTATIONS, ids=IMPL_IDS)
def test_dropout_configuration(impl: type[nn.Module]) -> None:
    model = impl(5, dropout=0.3)
    rates = [block.tcn[4].p for block in model.st_gcn_networks]
    assert rates == [0.0] + [0.3] * 9
    assert [block.tcn[4].p for block in impl(5).st_gcn_networks] == [0.0] * 10


@pytest.mark.parametrize("impl", IMPLEMENTATIONS, ids=IMPL_IDS)
def test_dropout_acts_on_blocks_1_to_9_only(impl: type[nn.Module]) -> None:
    torch.manual_seed(0)
    model = impl(5, dropout=0.5)
    before: dict[int, torch.Tensor] = {}
    after: dict[int, torch.Tensor] = {}
    for index, block in enumerate(model.st_gcn_networks):
        # clone: a dropout that works in place would overwrite the BN output we keep
        block.tcn[3].register_forward_hook(
            lambda _m, _i, out, index=index: before.__setitem__(index, out.detach().clone())
        )
        block.tcn.register_forward_hook(
            lambda _m, _i, out, index=index: after.__setitem__(index, out.detach().clone())
        )
    x = skeletons(18, persons=1)

    with torch.no_grad():
        model.train()(x)
    torch.testing.assert_close(after[0], before[0], rtol=0, atol=0)
    for index in range(1, 10):
        dropped = after[index] == 0
        assert 0.4 < dropped.float().mean() < 0.6, index
        kept = ~dropped
        torch.testing.assert_close(after[index][kept], 2 * before[index][kept])

    with torch.no_grad():
        model.eval()(x)
    for index in range(10):
        torch.testing.assert_close(after[index], before[index], rtol=0, atol=0)


# ------------------------------------------------------------------------- initialisation
@pytest.mark.parametrize("impl", IMPLEMENTATIONS, ids=IMPL_IDS)
def test_initialisation_follows_the_reference_trainer(impl: type[nn.Module]) -> None:
    torch.manual_seed(1234)
    model = impl(400)
    conv_weights = []
    for name, module in model.named_modules():
        if isinstance(module, nn.Conv2d):
            weight = module.weight.detach().flatten()
            n = weight.numel()
            conv_weights.append(weight)
            # sampling error of the mean is 0.02 / sqrt(n), of the std about std / sqrt(2n)
            assert abs(float(weight.mean())) < 5 * 0.02 / math.sqrt(n), name
            assert abs(float(weight.std()) / 0.02 - 1) < 5 / math.sqrt(2 * n), name
            assert (module.bias == 0).all(), name
        elif isinstance(module, nn.BatchNorm1d | nn.BatchNorm2d):
            weight = module.weight.detach()
            n = weight.numel()
            assert abs(float(weight.mean()) - 1) < 5 * 0.02 / math.sqrt(n), name
            assert float(weight.std()) < 0.04, name
            assert (module.bias == 0).all(), name
            assert (module.running_mean == 0).all() and (module.running_var == 1).all()
    everything = torch.cat(conv_weights)
    assert abs(float(everything.mean())) < 1e-4
    assert float(everything.std()) == pytest.approx(0.02, rel=0.01)
    for importance in model.edge_importance:
        assert (importance == 1).all()


def test_pytorch_initialisation_scales_by_fan_in() -> None:
    """The fan-in draw: uniform within 1/sqrt(fan_in), so the 3-input first convolution
    starts about 16x larger than under the reference's N(0, 0.02)."""
    torch.manual_seed(1234)
    model = STGCN(10)
    model.reset_parameters("pytorch")
    first = model.st_gcn_networks[0].gcn.conv.weight.detach()
    assert first.shape[1] == 3
    for name, module in model.named_modules():
        if isinstance(module, nn.Conv2d):
            weight = module.weight.detach().flatten()
            fan_in = module.weight[0].numel()
            bound = 1 / math.sqrt(fan_in)
            assert float(weight.abs().max()) <= bound * (1 + 1e-6), name
            std = bound / math.sqrt(3)
            assert abs(float(weight.std()) / std - 1) < 5 / math.sqrt(2 * weight.numel()), name
        elif isinstance(module, nn.BatchNorm1d | nn.BatchNorm2d):
            assert (module.weight == 1).all() and (module.bias == 0).all(), name
    assert float(first.std()) > 10 * 0.02
    for importance in model.edge_importance:
        assert (importance == 1).all()
    with pytest.raises(ValueError, match="unknown init scheme 'xavier'"):
        model.reset_parameters("xavier")
