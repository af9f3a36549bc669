"""The npu backend against a STAND-IN for torch_npu (see torch_npu/ beside this file),
because no Ascend NPU can exist on the hosts that run these tests.

test_on_stand_in.py runs this file in its own interpreter, with the stand-in first on
the path: the stand-in renames torch's PrivateUse1 device to "npu" and registers
"hccl", which cannot be undone in a process. The checks are on what the backend asks
of torch_npu: the import, device strings, set_device before the process group, the
"hccl" backend, autocast's device type and dtype, the loss scaler.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
import torch
import torch.distributed as dist
from stgcn_backend_npu.backend import NPUBackend
from stgcn_backend_npu.scaler import StaticLossScaler

from stgcn.errors import StgcnError


@pytest.fixture(autouse=True)
def cann_toolkit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A CANN-shaped folder on LD_LIBRARY_PATH, as set_env.sh would leave it."""
    home = tmp_path / "ascend-toolkit" / "latest"
    (home / "lib64").mkdir(parents=True)
    for name in ("libhccl.so", "libascendcl.so"):
        (home / "lib64" / name).write_bytes(b"")
    monkeypatch.setenv("LD_LIBRARY_PATH", str(home / "lib64"))
    monkeypatch.setenv("ASCEND_HOME_PATH", str(home))
    monkeypatch.delenv("ASCEND_RT_VISIBLE_DEVICES", raising=False)
    return home


def calls() -> list[tuple]:
    import torch_npu

    return torch_npu.npu.calls


@pytest.fixture
def backend() -> NPUBackend:
    if "torch_npu" in sys.modules:
        calls().clear()
    return NPUBackend()


def test_availability_counts_npus_in_a_child_process(monkeypatch: pytest.MonkeyPatch) -> None:
    # first in the file: nothing has imported the stand-in into this process yet
    assert "torch_npu" not in sys.modules
    monkeypatch.setenv("NPU_STAND_IN_DEVICES", "3")
    backend = NPUBackend()
    assert backend.availability().available is True
    assert backend.device_count() == 3
    assert "torch_npu" not in sys.modules, "availability must not import torch_npu here"


def test_setup_imports_torch_npu_and_binds_the_local_rank(backend: NPUBackend) -> None:
    assert "torch_npu" not in sys.modules
    backend.configure({})
    device = backend.setup(1)
    assert device == torch.device("npu", 1) and str(device) == "npu:1"
    assert calls() == [("import",), ("set_compile_mode", False), ("set_device", 1)]
    assert torch.npu.current_device() == 1
    assert backend.device_count() == 2


def test_jit_compile_option_reaches_set_compile_mode(backend: NPUBackend) -> None:
    backend.configure({"jit_compile": "true"})
    backend.setup(0)
    assert ("set_compile_mode", True) in calls()


def test_local_rank_beyond_the_visible_npus_is_refused(
    backend: NPUBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ASCEND_RT_VISIBLE_DEVICES", "4,5")
    with pytest.raises(StgcnError) as caught:
        backend.setup(2)
    assert str(caught.value) == (
        "local rank 2 has no NPU: 2 visible (ASCEND_RT_VISIBLE_DEVICES=4,5); "
        "ask for at most that many --cards"
    )
    assert not [call for call in calls() if call[0] == "set_device"]


def test_hccl_process_group_is_made_after_set_device(backend: NPUBackend, tmp_path: Path) -> None:
    """The order the multi-card trainer follows: configure, setup, then the group."""
    backend.configure({})
    backend.setup(1)
    store = dist.FileStore(str(tmp_path / "store"), 1)
    dist.init_process_group(backend.collective, store=store, rank=0, world_size=1)
    try:
        assert dist.get_backend() == "hccl"
    finally:
        dist.destroy_process_group()
    names = [call[0] for call in calls()]
    assert names.index("set_device") < names.index("hccl_process_group")
    assert ("hccl_process_group", 0, 1, 1) in calls()


def test_fp16_autocasts_on_npu_and_fp32_does_not(backend: NPUBackend) -> None:
    with backend.autocast("fp16"):
        assert torch.is_autocast_enabled("npu")
        assert torch.get_autocast_dtype("npu") == torch.float16
    with backend.autocast("fp32"):
        assert not torch.is_autocast_enabled("npu")


def test_fp16_scales_the_loss_on_npu(backend: NPUBackend) -> None:
    backend.configure({})
    dynamic = backend.grad_scaler("fp16")
    assert type(dynamic) is torch.amp.GradScaler
    assert dynamic._device == "npu" and dynamic.is_enabled() and dynamic.get_scale() == 2.0**16
    backend.configure({"loss_scale": "64"})
    static = backend.grad_scaler("fp16")
    assert isinstance(static, StaticLossScaler)
    assert static._device == "npu" and static.get_scale() == 64.0
    assert backend.grad_scaler("fp32") is None


def test_synchronize_waits_on_the_npu_once_set_up(backend: NPUBackend) -> None:
    backend.synchronize()
    assert ("synchronize",) not in calls()
    backend.setup(0)
    backend.synchronize()
    assert calls()[-1] == ("synchronize",)


def test_environment_is_the_stand_in() -> None:
    import torch_npu

    assert Path(torch_npu.__file__).parent.parent == Path(__file__).parent
    assert os.environ.get("TORCH_DEVICE_BACKEND_AUTOLOAD") == "0"
