"""Evaluation of items with a clip axis ``(clips, C, T, V, M)``: each clip's softmax,
averaged, as PYSKL tests with several clips."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

from stgcn.backends.cpu import CPUBackend
from stgcn.model.network import STGCN
from stgcn.plugins.backend import Precision
from stgcn.training.evaluation import evaluate
from stgcn.training.runtime import Runtime

FP32 = Precision.for_backend(CPUBackend(), "fp32")


def _model() -> STGCN:
    torch.manual_seed(0)
    model = STGCN(4, "openpose", "spatial", in_channels=3)
    model.reset_parameters("pytorch")
    return model.eval()


def _run(model, x, y, **kwargs):
    loader = DataLoader(TensorDataset(x, y), batch_size=3)
    return evaluate(Runtime(torch.device("cpu"), model, FP32), loader, 4, **kwargs)


def test_scores_are_the_mean_of_each_clips_softmax() -> None:
    model = _model()
    x = torch.randn(5, 3, 3, 6, 18, 2)  # 5 samples of 3 clips
    y = torch.tensor([0, 1, 2, 3, 0])
    result = _run(model, x, y, keep_scores=True)
    with torch.no_grad():
        per_clip = model(x.reshape(15, 3, 6, 18, 2)).softmax(dim=1).reshape(5, 3, 4)
    expected = per_clip.mean(dim=1)
    torch.testing.assert_close(torch.from_numpy(result.scores), expected)
    hits = int((expected.argmax(dim=1) == y).sum())
    assert result.top1 == pytest.approx(hits / 5)
    assert result.loss == pytest.approx(float(F.nll_loss(expected.log(), y)), rel=1e-5)
    assert result.samples == 5


def test_one_clip_on_a_clip_axis_scores_as_no_clip_axis() -> None:
    model = _model()
    x = torch.randn(4, 3, 6, 18, 2)
    y = torch.tensor([3, 2, 1, 0])
    plain = _run(model, x, y, keep_scores=True)
    clipped = _run(model, x[:, None], y, keep_scores=True)
    torch.testing.assert_close(clipped.scores, plain.scores)
    assert clipped.top1 == plain.top1 and clipped.top5 == plain.top5
    assert clipped.loss == pytest.approx(plain.loss, rel=1e-5)


def test_a_transform_sees_clips_without_the_clip_axis() -> None:
    model = _model()
    seen = []

    def transform(batch: torch.Tensor) -> torch.Tensor:
        seen.append(tuple(batch.shape))
        return batch

    _run(model, torch.randn(3, 2, 3, 6, 18, 2), torch.tensor([0, 1, 2]), transform=transform)
    assert seen == [(6, 3, 6, 18, 2)]


def test_the_clips_of_a_batch_go_through_the_model_a_batch_of_rows_at_a_time() -> None:
    """Ten clips a sample cost the activation memory of one: the model never sees more
    rows at once than the batch has samples, and the scores are those of one pass."""
    model = _model()
    rows_seen: list[int] = []
    model.register_forward_hook(lambda _m, inputs, _o: rows_seen.append(inputs[0].shape[0]))
    x = torch.randn(5, 10, 3, 6, 18, 2)  # 5 samples of 10 clips, batches of 3 and 2
    y = torch.tensor([0, 1, 2, 3, 0])
    result = _run(model, x, y, keep_scores=True)
    assert rows_seen == [3] * 10 + [2] * 10
    with torch.no_grad():
        whole = model(x.reshape(50, 3, 6, 18, 2)).softmax(dim=1).reshape(5, 10, 4).mean(dim=1)
    torch.testing.assert_close(torch.from_numpy(result.scores), whole)
