"""PYSKL's ST-GCN held to PYSKL's facts, written down here from PYSKL's sources
(kennymckormick/pyskl: ``pyskl/models/gcns/stgcn.py``, ``utils/gcn.py`` (``unit_gcn``),
``utils/tcn.py`` (``unit_tcn``), ``pyskl/utils/graph.py`` (``stgcn_spatial``),
``configs/stgcn/*/j.py``) rather than from this package: the state_dict keys and
shapes, the parameter count (3.1 M for 2D input, PYSKL's and mmaction2's figure), the
graph, the logits op by op, and a checkpoint in PYSKL's format claimed with no flag."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from stgcn_models.plugin import STGCNPysklOptions
from stgcn_models.stgcn_pyskl import build
from zoo_helpers import (
    BLOCKS,
    PYSKL_INWARD,
    PysklOps,
    assert_exports_and_predicts,
    batch_norm_shapes,
    conv_shapes,
    random_state,
    save_pyskl_checkpoint,
)

import stgcn
from stgcn.networks.loading import build_named, recognise
from stgcn.plugins.layouts import layout_named
from stgcn.plugins.registry import get_registry
from stgcn.records import LAYOUTS, ModelSpec, RecogniseRequest
from stgcn.testing.helpers import run_stgcn


def pyskl_shapes(joints: int, channels: int, classes: int) -> dict[str, tuple[int, ...]]:
    """Every state_dict entry of PYSKL's ``RecognizerGCN`` with ``STGCN``'s defaults
    (``unit_gcn``: ``adaptive='importance'`` so ``A`` a buffer and ``PA`` a parameter,
    ``conv_pos='pre'``, no ``down``; ``unit_tcn`` of 9 frames) and ``GCNHead``."""
    shapes = batch_norm_shapes("backbone.data_bn", joints * channels)
    for index, (into, out, stride, residual) in enumerate(BLOCKS):
        into = channels if into == "C" else into
        block = f"backbone.gcn.{index}"
        shapes[f"{block}.gcn.A"] = (3, joints, joints)
        shapes[f"{block}.gcn.PA"] = (3, joints, joints)
        shapes |= conv_shapes(f"{block}.gcn.conv", 3 * out, into)
        shapes |= batch_norm_shapes(f"{block}.gcn.bn", out)
        shapes |= conv_shapes(f"{block}.tcn.conv", out, out, kernel=9)
        shapes |= batch_norm_shapes(f"{block}.tcn.bn", out)
        if residual and (into != out or stride != 1):
            shapes |= conv_shapes(f"{block}.residual.conv", out, into)
            shapes |= batch_norm_shapes(f"{block}.residual.bn", out)
    shapes["cls_head.fc_cls.weight"] = (classes, 256)
    shapes["cls_head.fc_cls.bias"] = (classes,)
    return shapes


def _network(layout: str, classes: int = 60, channels: int = 3) -> torch.nn.Module:
    spec = ModelSpec(classes, channels, layout_named(layout), 2, STGCNPysklOptions())
    return build(spec)


@pytest.mark.parametrize(("layout", "joints"), [("ntu-rgb+d", 25), ("coco", 17)])
def test_the_state_dict_is_pyskls_key_for_key_and_its_size(layout: str, joints: int) -> None:
    network = _network(layout)
    found = {key: tuple(value.shape) for key, value in network.state_dict().items()}
    expected = pyskl_shapes(joints, 3, 60)
    assert sorted(set(found) ^ set(expected)) == []
    assert found == expected
    parameters = sum(parameter.numel() for parameter in network.parameters())
    # PYSKL's and mmaction2's README: ST-GCN has 3.1 M parameters (2D COCO keypoints)
    assert round(parameters / 1e6, 1) == 3.1
    # every shaped entry is a parameter but the statistics and the graph buffer A
    buffers = ("running_mean", "running_var", "num_batches_tracked", "gcn.A")
    counted = sum(
        int(np.prod(shape)) for key, shape in expected.items() if not key.endswith(buffers)
    )
    assert parameters == counted


def _pyskl_stgcn_spatial(joints: int, inward: list[tuple[int, int]], center: int) -> np.ndarray:
    """PYSKL's ``Graph.stgcn_spatial`` (max_hop 1), as its loops write it:
    ``get_hop_distance`` by matrix powers, ``normalize_digraph`` dividing each column by
    its sum, then hop 0 and the close / further halves of hop 1 by distance to the
    centre."""
    linked = np.eye(joints)
    for i, j in inward:
        linked[i, j] = linked[j, i] = 1
    hop_dis = np.full((joints, joints), np.inf)
    reach = np.stack([np.linalg.matrix_power(linked, d) for d in range(2)]) > 0
    for d in (1, 0):
        hop_dis[reach[d]] = d
    adj = (hop_dis <= 1).astype(float)
    sums = adj.sum(0)
    normalized = adj @ np.diag([1 / s if s > 0 else 0 for s in sums])
    parts = []
    for hop in (0, 1):
        close = np.zeros((joints, joints))
        further = np.zeros((joints, joints))
        for i in range(joints):
            for j in range(joints):
                if hop_dis[j, i] == hop:
                    if hop_dis[j, center] >= hop_dis[i, center]:
                        close[j, i] = normalized[j, i]
                    else:
                        further[j, i] = normalized[j, i]
        parts.append(close)
        if hop > 0:
            parts.append(further)
    return np.stack(parts)


@pytest.mark.parametrize("layout", sorted(PYSKL_INWARD))
def test_each_block_holds_pyskls_stgcn_spatial_graph_and_an_importance_of_ones(
    layout: str,
) -> None:
    network = _network(layout)
    inward, center = PYSKL_INWARD[layout]
    expected = _pyskl_stgcn_spatial(layout_named(layout).num_node, inward, center)
    state = network.state_dict()
    graphs = [value for key, value in state.items() if key.endswith("gcn.A")]
    masks = [value for key, value in state.items() if key.endswith("gcn.PA")]
    assert len(graphs) == len(masks) == 10
    for graph, mask in zip(graphs, masks, strict=True):
        np.testing.assert_allclose(graph.numpy(), expected, atol=1e-7)
        assert bool((mask == 1).all())
    # adaptive='importance': A is a buffer, PA the learnt mask
    learnt = [name for name, _ in network.named_parameters()]
    assert "backbone.gcn.0.gcn.PA" in learnt and "backbone.gcn.0.gcn.A" not in learnt


def _pyskl_state(layout: str, classes: int) -> dict[str, torch.Tensor]:
    """PYSKL ST-GCN tensors, every one random (the masks and statistics too), so that
    nothing matches by chance; A kept PYSKL's graph (a buffer PYSKL never changes)."""
    return random_state(_network(layout, classes), seed=5, keep=("gcn.A",))


def _pyskl_checkpoint(path: Path, layout: str, classes: int) -> dict[str, torch.Tensor]:
    """A checkpoint as PYSKL writes one (mmcv's format) of :func:`_pyskl_state`."""
    state = _pyskl_state(layout, classes)
    save_pyskl_checkpoint(path, state)
    return state


def pyskl_logits(state: dict[str, torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """PYSKL's ST-GCN forward in evaluation, op by op as ``STGCN.forward``,
    ``STGCNBlock``, ``unit_gcn`` (importance), ``unit_tcn`` and ``GCNHead`` do it, on
    the tensors of ``state``; ``x`` in PYSKL's order ``(N, M, T, V, C)``."""
    ops = PysklOps(state)
    c = x.shape[4]
    y = ops.backbone_input(x)
    for index, (into, out, stride, residual) in enumerate(BLOCKS):
        block = f"backbone.gcn.{index}"
        into = c if into == "C" else into
        # unit_gcn: conv to K x out, einsum with A * PA, BN, ReLU (with_res=False)
        mixed = ops.conv(y, f"{block}.gcn.conv")
        mixed = mixed.view(mixed.shape[0], 3, -1, *mixed.shape[2:])
        graph = state[f"{block}.gcn.A"] * state[f"{block}.gcn.PA"]
        mixed = torch.einsum("nkctv,kvw->nctw", mixed, graph)
        spatial = torch.relu(ops.bn(mixed, f"{block}.gcn.bn"))
        # unit_tcn: 9x1 conv (strided), BN
        temporal = ops.bn(ops.conv(spatial, f"{block}.tcn.conv", stride), f"{block}.tcn.bn")
        if not residual:
            skip: torch.Tensor | float = 0.0
        elif into == out and stride == 1:
            skip = y
        else:
            skip = ops.bn(ops.conv(y, f"{block}.residual.conv", stride), f"{block}.residual.bn")
        y = torch.relu(temporal + skip)
    return ops.head(y, x.shape[0])


def test_a_pyskl_checkpoint_gives_pyskls_logits(tmp_path: Path) -> None:
    path = tmp_path / "stgcn_pyskl_ntu60_xsub_3dkp_j.pth"
    state = _pyskl_checkpoint(path, "ntu-rgb+d", 60)
    network = stgcn.load_model(path)
    torch.testing.assert_close(network.state_dict(), state, rtol=0, atol=0)
    clips = torch.from_numpy(np.random.default_rng(1).normal(size=(2, 3, 20, 25, 2))).float()
    with torch.no_grad():
        ours = network(clips)
        theirs = pyskl_logits(state, clips.permute(0, 4, 2, 3, 1))
    torch.testing.assert_close(ours, theirs, rtol=1e-5, atol=1e-6)


def _claimant(state: dict[str, torch.Tensor]) -> str:
    layouts = tuple(get_registry().table(LAYOUTS).values())
    model, _ = recognise(RecogniseRequest(weights=state, layouts=layouts))
    return model.name


def test_only_stgcn_pyskl_claims_pyskls_stgcn_and_it_claims_no_other_model() -> None:
    assert _claimant(_pyskl_state("coco", 60)) == "stgcn-pyskl"
    for other in ("stgcnpp", "ctrgcn"):
        spec = ModelSpec(60, 3, layout_named("coco"))
        assert _claimant(build_named(other, spec).state_dict()) == other


def test_a_pyskl_stgcn_checkpoint_predicts_describes_and_exports_with_no_flag(
    tmp_path: Path,
) -> None:
    path = tmp_path / "j.pth"
    _pyskl_checkpoint(path, "coco", 60)
    network = stgcn.load_model(path)
    clip = tmp_path / "clip.npy"
    sample = np.random.default_rng(0).normal(size=(3, 24, 17, 1)).astype(np.float32)
    np.save(clip, sample)
    with torch.no_grad():
        expected = torch.softmax(network(torch.from_numpy(sample[None])), dim=1)[0]
    # mmaction2's configs/skeleton/stgcn/README.md: 3.1 M parameters and 3.8 GFLOPs for
    # 2D COCO keypoints (one person, 100 frames)
    described = run_stgcn("info", str(path), "--frames", "100", "--persons", "1", "--json")
    assert described.returncode == 0, described.stderr
    facts = json.loads(described.stdout)
    assert (facts["model"], facts["layout"], facts["joints"]) == ("stgcn-pyskl", "coco", 17)
    assert round(facts["parameters"] / 1e6, 1) == 3.1
    assert facts["gflop_per_sample"] == pytest.approx(3.8, abs=0.05)
    # last: it skips the rest where onnxruntime is missing
    assert_exports_and_predicts(path, clip, expected, tmp_path / "stgcn-pyskl.onnx")
