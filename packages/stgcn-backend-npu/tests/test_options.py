"""--backend-option for npu: loss_scale, jit_compile; anything else refused in one line."""

from __future__ import annotations

import pytest
from stgcn_backend_npu.backend import NPUBackend
from stgcn_backend_npu.options import NPUOptions

from stgcn.errors import StgcnError


def test_defaults_are_dynamic_scaling_and_the_chips_compile_mode() -> None:
    assert NPUOptions.parse({}) == NPUOptions(loss_scale=None, jit_compile=None)


@pytest.mark.parametrize(
    ("pairs", "expected"),
    [
        ({"loss_scale": "64"}, NPUOptions(loss_scale=64.0)),
        ({"loss_scale": "Dynamic"}, NPUOptions()),
        ({"loss_scale": "1024.5", "jit_compile": "true"}, NPUOptions(1024.5, True)),
        ({"compile": "false", "jit_compile": "no"}, NPUOptions(jit_compile=False)),
    ],
)
def test_values_are_read(pairs: dict[str, str], expected: NPUOptions) -> None:
    assert NPUOptions.parse(pairs) == expected


@pytest.mark.parametrize(
    ("pairs", "message"),
    [
        ({"channels_last": "true"}, "backend 'npu' has no option 'channels_last' (known: "),
        ({"loss_scale": "0"}, "loss_scale: expected 'dynamic' or a positive number, got '0'"),
        ({"loss_scale": "-64"}, "got '-64'"),
        ({"loss_scale": "inf"}, "got 'inf'"),
        ({"loss_scale": "static"}, "got 'static'"),
        ({"jit_compile": "maybe"}, "jit_compile: expected true or false"),
        ({"compile": "true"}, "backend 'npu' does not run torch.compile"),
    ],
)
def test_bad_options_are_refused(pairs: dict[str, str], message: str) -> None:
    with pytest.raises(StgcnError) as caught:
        NPUBackend().for_run(pairs)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)
