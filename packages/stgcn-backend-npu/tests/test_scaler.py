"""Loss scaling, run for real on the CPU: torch's GradScaler works on any device type,
so the fixed scale of the original recipe (64) is checked by training with it."""

from __future__ import annotations

import contextlib
import copy
import math

import pytest
import torch
from stgcn_backend_npu.scaler import StaticLossScaler, loss_scaler

from stgcn.train import training_step


class NoAutocast:
    """The part of a backend that training_step uses, for fp32 on the CPU."""

    def autocast(self, precision: str) -> contextlib.AbstractContextManager[None]:
        return contextlib.nullcontext()


def model_and_data(seed: int = 0) -> tuple[torch.nn.Module, torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    model = torch.nn.Sequential(torch.nn.Linear(6, 16), torch.nn.ReLU(), torch.nn.Linear(16, 3))
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.copy_(torch.randn(parameter.shape, generator=generator) * 0.3)
    x = torch.randn(32, 6, generator=generator)
    y = torch.randint(0, 3, (32,), generator=generator)
    return model, x, y


def train(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor, scaler, steps: int) -> None:
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, nesterov=True)
    for _ in range(steps):
        training_step(model, x, y, optimizer, scaler, NoAutocast(), "fp32")


def test_dynamic_is_torchs_grad_scaler_and_static_holds_the_given_scale() -> None:
    dynamic = loss_scaler("cpu", None)
    assert type(dynamic) is torch.amp.GradScaler and dynamic.get_scale() == 2.0**16
    static = loss_scaler("cpu", 64.0)
    assert isinstance(static, StaticLossScaler) and static.get_scale() == 64.0


def test_static_scale_trains_exactly_like_no_scaling_in_fp32() -> None:
    plain, x, y = model_and_data()
    scaled = copy.deepcopy(plain)
    train(plain, x, y, None, steps=5)
    scaler = StaticLossScaler("cpu", 64.0)
    train(scaled, x, y, scaler, steps=5)
    for a, b in zip(plain.parameters(), scaled.parameters(), strict=True):
        torch.testing.assert_close(a, b)
    assert scaler.get_scale() == 64.0


@pytest.mark.parametrize("static", [True, False], ids=["static", "dynamic"])
def test_non_finite_gradients_skip_the_step(static: bool) -> None:
    model, x, y = model_and_data()
    scaler = loss_scaler("cpu", 64.0) if static else torch.amp.GradScaler("cpu", init_scale=64.0)
    before = copy.deepcopy(model.state_dict())
    hook = model[0].weight.register_hook(lambda grad: grad * math.inf)
    train(model, x, y, scaler, steps=1)
    hook.remove()
    for name, value in model.state_dict().items():
        assert torch.equal(value, before[name]), f"{name} changed on a step with inf gradients"
    # the static scaler holds 64; torch's dynamic one backs off to 32 after the same step
    assert scaler.get_scale() == (64.0 if static else 32.0)
    train(model, x, y, scaler, steps=1)
    assert not torch.equal(model.state_dict()["0.weight"], before["0.weight"])


def test_resuming_keeps_the_static_scale_asked_for_now() -> None:
    earlier = torch.amp.GradScaler("cpu", init_scale=1024.0)
    model, x, y = model_and_data()
    train(model, x, y, earlier, steps=1)
    scaler = StaticLossScaler("cpu", 64.0)
    scaler.load_state_dict(earlier.state_dict())
    assert scaler.get_scale() == 64.0
    train(model, x, y, scaler, steps=2)
    assert scaler.get_scale() == 64.0
    assert scaler.state_dict()["scale"] == 64.0
