"""The npu backend against a STAND-IN for torch_npu (see torch_npu/ beside this file),
because no Ascend NPU can exist on the hosts that run these tests.

test_on_stand_in.py runs this file in its own interpreter, with the stand-in first on
the path: the stand-in renames torch's PrivateUse1 device to "npu" and registers
"hccl", which cannot be undone in a process. Tensors here really live on npu:N; the
stand-in refuses what torch_npu and HCCL refuse (each rule names its source file).
"""

from __future__ import annotations

import copy
import math
import os
import subprocess
import sys
import warnings
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import torch
import torch.distributed as dist
from stgcn_backend_npu.backend import NPUBackend, fp32_note
from stgcn_backend_npu.probe import HANDED_DOWN

from stgcn.errors import StgcnError
from stgcn.plugins.backend import Precision
from stgcn.training.distributed import collective_timeout
from stgcn.training.step import training_step


@pytest.fixture(autouse=True)
def cann_toolkit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A CANN-shaped folder on LD_LIBRARY_PATH, as set_env.sh would leave it; no probe
    answer handed down from an earlier test; the chip a 910B3 unless a test says."""
    home = tmp_path / "ascend-toolkit" / "latest"
    (home / "lib64").mkdir(parents=True)
    for name in ("libhccl.so", "libascendcl.so"):
        (home / "lib64" / name).write_bytes(b"")
    monkeypatch.setenv("LD_LIBRARY_PATH", str(home / "lib64"))
    monkeypatch.setenv("ASCEND_HOME_PATH", str(home))
    monkeypatch.setenv("NPU_STAND_IN_CHIP", "Ascend910B3")
    for name in ("ASCEND_RT_VISIBLE_DEVICES", HANDED_DOWN, "HCCL_EXEC_TIMEOUT"):
        monkeypatch.setenv(name, "")  # so that what a test sets is undone after it
        monkeypatch.delenv(name)
    return home


def calls() -> list[tuple]:
    import torch_npu

    return torch_npu.npu.calls


def native():
    from torch_npu import _native

    return _native


@pytest.fixture
def backend() -> NPUBackend:
    if "torch_npu" in sys.modules:
        calls().clear()
        sys.modules["torch_npu"].npu._options.clear()  # no option set by an earlier test
    return NPUBackend()


@pytest.fixture
def one_rank_group(tmp_path: Path) -> Iterator[None]:
    """A world of one joined through the stand-in's "hccl" backend."""
    store = dist.FileStore(str(tmp_path / "store"), 1)
    dist.init_process_group("hccl", store=store, rank=0, world_size=1)
    yield
    dist.destroy_process_group()


def test_availability_counts_npus_in_a_child_process(monkeypatch: pytest.MonkeyPatch) -> None:
    # first in the file: nothing has imported the stand-in into this process yet
    assert "torch_npu" not in sys.modules
    monkeypatch.setenv("NPU_STAND_IN_DEVICES", "3")
    backend = NPUBackend()
    assert backend.availability().available is True
    assert backend.device_count() == 3
    assert (backend.status().chip, backend.status().bf16) == ("Ascend910B3", True)
    assert backend.status().inf_nan is True
    assert "torch_npu" not in sys.modules, "availability must not import torch_npu here"


def test_probe_answer_is_handed_to_workers_on_this_host(monkeypatch: pytest.MonkeyPatch) -> None:
    """Defect 6: the launcher's answer reaches its workers through the environment; a
    worker finds it instead of starting another interpreter."""
    monkeypatch.setenv("NPU_STAND_IN_DEVICES", "4")
    assert NPUBackend().device_count() == 4
    assert HANDED_DOWN in os.environ
    monkeypatch.setenv("NPU_STAND_IN_DEVICES", "5")  # a second probe would say 5
    assert NPUBackend().device_count() == 4
    monkeypatch.setenv("ASCEND_RT_VISIBLE_DEVICES", "0,1")  # another question: probe again
    assert NPUBackend().device_count() == 2


def test_descending_visible_devices_show_no_npu(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASCEND_RT_VISIBLE_DEVICES", "1,0")
    availability = NPUBackend().availability()
    assert availability.available is False
    assert availability.reason.startswith("no Ascend NPU visible: torch.npu.device_count() is 0")


@pytest.mark.parametrize(
    ("chip", "precision"),
    [("Ascend910B3", "bf16"), ("Ascend910_9392", "bf16"), ("Ascend910A", "fp16")],
)
def test_default_precision_follows_the_chip(
    chip: str, precision: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Defect 7: bf16 where torch.npu.is_bf16_supported(), else fp16 with the scaler."""
    monkeypatch.setenv("NPU_STAND_IN_CHIP", chip)
    assert NPUBackend().default_precision() == precision
    assert "torch_npu" not in sys.modules, "the chip's facts come from the probe"


def test_bf16_is_refused_on_a_chip_without_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NPU_STAND_IN_CHIP", "Ascend910A")
    with pytest.raises(StgcnError) as caught:
        NPUBackend().prepare_model(torch.nn.Linear(2, 2), "bf16")
    assert str(caught.value) == (
        "Ascend910A has no bf16 (torch.npu.is_bf16_supported() is False; bf16 needs an "
        "Ascend 910B or newer): use --precision fp16 or fp32"
    )


def test_setup_binds_the_local_rank_and_leaves_the_compile_mode(backend: NPUBackend) -> None:
    """Defect 5: torch_npu's own default for the chip stands unless jit_compile is given."""
    backend = backend.for_run({})
    device = backend.setup(1)
    assert device == torch.device("npu", 1) and str(device) == "npu:1"
    assert [c for c in calls() if c[0] in ("set_compile_mode", "set_device")] == [("set_device", 1)]
    assert torch.npu.current_device() == 1
    assert torch.empty(3, device=device).device == device
    assert backend.device_count() == 2


@pytest.mark.parametrize("value", [True, False])
def test_jit_compile_option_reaches_set_compile_mode(backend: NPUBackend, value: bool) -> None:
    backend = backend.for_run({"jit_compile": str(value).lower()})
    backend.setup(0)
    assert ("set_compile_mode", value) in calls()
    assert torch.npu.is_jit_compile_false() is (not value)


def test_local_rank_beyond_the_visible_npus_is_refused(
    backend: NPUBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ASCEND_RT_VISIBLE_DEVICES", "0,1")
    with pytest.raises(StgcnError) as caught:
        backend.setup(2)
    assert str(caught.value) == (
        "local rank 2 has no NPU: ASCEND_RT_VISIBLE_DEVICES='0,1' shows 2 NPU(s): torch_npu "
        "reads the ids [0, 1] from it (it stops at the first character that is not a digit "
        "or a comma, and counts ids only while they ascend and the host has them); ask for "
        "at most that many --cards"
    )
    assert not [call for call in calls() if call[0] == "set_device"]


def test_spaced_visible_devices_show_one_npu_and_the_refusal_says_why(
    backend: NPUBackend, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """torch_npu/npu/__init__.py:409-422: "0, 1, 2, 3" is read up to the first space,
    so a 4-card host shows one NPU; the launcher's check says so, and a second rank is
    refused with the variable and torch_npu's reading of it."""
    monkeypatch.setenv("NPU_STAND_IN_DEVICES", "4")
    monkeypatch.setenv("ASCEND_RT_VISIBLE_DEVICES", "0, 1, 2, 3")
    assert backend.device_count() == 1
    reading = (
        "ASCEND_RT_VISIBLE_DEVICES='0, 1, 2, 3' shows 1 NPU(s): torch_npu reads the ids [0] "
        "from it (it stops at the first character that is not a digit or a comma, and "
        "counts ids only while they ascend and the host has them)"
    )
    assert capsys.readouterr().err.splitlines() == [f"stgcn: warning: {reading}"]
    with pytest.raises(StgcnError) as caught:
        backend.setup(1)
    assert str(caught.value) == (
        f"local rank 1 has no NPU: {reading}; ask for at most that many --cards"
    )


def test_hccl_group_is_made_after_set_device_with_the_timeout_asked_for(
    backend: NPUBackend, tmp_path: Path
) -> None:
    """Defect 4: the stand-in reads the timeout as ProcessGroupHCCL does; stgcn's
    default of 30 minutes must come out as 30 minutes, without the plog warning."""
    backend = backend.for_run({})
    backend.setup(1)
    store = dist.FileStore(str(tmp_path / "store"), 1)
    requested = timedelta(minutes=30)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        dist.init_process_group(
            backend.collective,
            store=store,
            rank=0,
            world_size=1,
            timeout=collective_timeout(backend, requested),
        )
    try:
        assert dist.get_backend() == "hccl"
    finally:
        dist.destroy_process_group()
    names = [call[0] for call in calls()]
    assert names.index("set_device") < names.index("hccl_process_group")
    assert ("hccl_process_group", 0, 1, 1) in calls()
    [(_, enforced, warning)] = [call for call in calls() if call[0] == "hccl_timeout"]
    assert abs(enforced - requested.total_seconds()) <= 1 and warning is None
    assert int(os.environ["HCCL_EXEC_TIMEOUT"]) < requested.total_seconds()


def test_the_plain_default_timeout_would_mean_an_hour_on_hccl(
    backend: NPUBackend, tmp_path: Path
) -> None:
    """The stand-in's reading of ProcessGroupHCCL, shown without the backend's fix."""
    backend.setup(0)
    store = dist.FileStore(str(tmp_path / "store"), 1)
    plain = timedelta(minutes=30)
    dist.init_process_group("hccl", store=store, rank=0, world_size=1, timeout=plain)
    dist.destroy_process_group()
    [(_, enforced, _)] = [call for call in calls() if call[0] == "hccl_timeout"]
    assert enforced == 1836 + 1800


def test_stand_in_refuses_a_float64_all_reduce_as_hccl_does(
    backend: NPUBackend, one_rank_group: None
) -> None:
    """Defect 1's cause: gloo and NCCL reduce float64, HCCL does not."""
    backend.setup(0)
    with pytest.raises(RuntimeError, match=r"^HCCL allreduce: Unsupported data type at::kDouble"):
        dist.all_reduce(torch.zeros(2, dtype=torch.float64, device="npu:0"))
    with pytest.raises(RuntimeError, match=r"^Tensors must be NPU and dense"):
        dist.all_reduce(torch.zeros(2))
    flags = torch.ones(2, dtype=torch.bool, device="npu:0")
    dist.all_reduce(flags)  # allreduce casts bool to int32 first
    doubles = torch.arange(3, dtype=torch.float64, device="npu:0")
    dist.broadcast(doubles, src=0)  # broadcast takes every dtype HCCL names
    box = [{"epoch": 3}]
    dist.broadcast_object_list(box, src=0)
    assert box == [{"epoch": 3}]
    dist.barrier()


def test_sum_across_uses_dtypes_hccl_reduces(backend: NPUBackend, one_rank_group: None) -> None:
    """The trainer's reduction through the "hccl" group: exact counts, full-precision
    floats, although neither travels as float64."""
    from stgcn.training.distributed import World, sum_across

    backend.setup(0)
    counts = torch.tensor([3, 2**40 + 1])
    loss, total = sum_across(World(size=2), 0.1, counts)  # size 2: really reduce
    assert loss.dtype == torch.float64 and abs(float(loss) - 0.1) < 1e-15
    assert total.tolist() == [3, 2**40 + 1]


def test_autocast_runs_the_model_on_npu_in_the_chosen_dtype(backend: NPUBackend) -> None:
    device = backend.setup(0)
    layer = torch.nn.Conv2d(3, 4, 1).to(device)
    x = torch.randn(2, 3, 5, 5, device=device)
    for precision, dtype in (("fp16", torch.float16), ("bf16", torch.bfloat16)):
        with backend.autocast(precision):
            assert torch.is_autocast_enabled("npu")
            assert layer(x).dtype == dtype and layer(x).device == device
    with backend.autocast("fp32"):
        assert not torch.is_autocast_enabled("npu")
        assert layer(x).dtype == torch.float32


def tiny_model(device: torch.device) -> torch.nn.Module:
    generator = torch.Generator().manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(6, 16), torch.nn.ReLU(), torch.nn.Linear(16, 3))
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.copy_(torch.randn(parameter.shape, generator=generator) * 0.3)
    return model.to(device)


def batch(device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(1)
    return torch.randn(8, 6, generator=generator).to(device), torch.arange(8).remainder(3).to(
        device
    )


def step_with_inf_gradients(backend: NPUBackend, scaler, device: torch.device):
    model = tiny_model(device)
    before = copy.deepcopy(model.state_dict())
    x, y = batch(device)
    hook = model[0].weight.register_hook(lambda grad: grad * math.inf)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    training_step(
        model, x, y, optimizer, Precision("fp16", lambda: backend.autocast("fp16"), scaler)
    )
    hook.remove()
    return before, model.state_dict()


def test_fp16_scaler_is_torch_npus_and_skips_an_overflowing_step(backend: NPUBackend) -> None:
    """Defect 2's fix on one card: torch_npu's GradScaler, dynamic by default."""
    import torch_npu

    device = backend.setup(0)
    backend = backend.for_run({})
    scaler = backend.grad_scaler("fp16")
    assert isinstance(scaler, torch_npu.npu.amp.GradScaler) and scaler._dynamic
    scaler = torch_npu.npu.amp.GradScaler(init_scale=64.0)
    before, after = step_with_inf_gradients(backend, scaler, device)
    for name, value in after.items():
        assert torch.equal(value.cpu(), before[name].cpu()), f"{name} changed on an inf step"
    assert scaler.get_scale() == 32.0


def test_fixed_scale_steps_through_an_overflow_as_apex_does(backend: NPUBackend) -> None:
    """apex at a static loss scale checks nothing: the step is taken with the non-finite
    gradients and the scale stays (apex/amp/scaler.py; torch_npu's dynamic=False)."""
    device = backend.setup(0)
    backend = backend.for_run({"loss_scale": "64"})
    scaler = backend.grad_scaler("fp16")
    assert scaler._dynamic is False and scaler.get_scale() == 64.0
    _, after = step_with_inf_gradients(backend, scaler, device)
    assert not torch.isfinite(after["0.weight"].cpu()).all()
    assert scaler.get_scale() == 64.0
    assert scaler.state_dict()["dynamic"] is False


def test_resuming_a_fixed_scale_keeps_the_scale_asked_for_now(backend: NPUBackend) -> None:
    import torch_npu

    backend.setup(0)
    earlier = torch_npu.npu.amp.GradScaler(init_scale=1024.0)
    backend = backend.for_run({"loss_scale": "64"})
    scaler = backend.grad_scaler("fp16")
    scaler.load_state_dict(earlier.state_dict())
    assert (scaler.get_scale(), scaler._dynamic) == (64.0, False)


def test_pinned_batches_copy_without_a_device_wait(backend: NPUBackend) -> None:
    """Defect 3: the stand-in counts non_blocking copies from unpinned memory, each of
    which torch_npu turns into a stream synchronisation."""
    device = backend.setup(0)
    assert backend.pin_memory is True
    data = torch.utils.data.TensorDataset(torch.randn(8, 3), torch.arange(8))
    for pin, waits in ((True, 0), (False, 2)):
        loader = torch.utils.data.DataLoader(data, batch_size=4, pin_memory=pin)
        start = native().unpinned_syncs()
        for x, _ in loader:
            x.to(device, non_blocking=True)
        assert native().unpinned_syncs() - start == waits


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


#: run in a fresh interpreter: the warning comes once per process, and torch's own
#: GradScaler.unscale_ (``self._scale.double()``) may have had it here already
FLOAT64_CASTS = """
import warnings, torch, torch_npu
x = torch.randn(3).to("npu")
assert torch.zeros(2, dtype=torch.float64).to("npu").dtype == torch.float64
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    first, second = x.double(), x.to(torch.float64)
assert first.dtype == second.dtype == torch.float32
assert torch.equal(first.cpu(), x.cpu())
assert not caught, [str(w.message) for w in caught]  # not a Python warning
"""
CAST_WARNING = "Warning: Device do not support double dtype now, dtype cast replace with float."


@pytest.mark.parametrize(
    ("environment", "lines"),
    [({}, 1), ({"RANK": "0"}, 1), ({"RANK": "1"}, 0), ({"TORCH_NPU_DISABLED_WARNING": "1"}, 0)],
)
def test_a_float64_cast_on_the_npu_gives_float32_and_warns_as_torch_npu_does(
    environment: dict[str, str], lines: int
) -> None:
    """torch_npu's _to_copy (ToKernelNpu.cpp): ``.double()`` and ``.to(torch.float64)``
    of an npu tensor give float32; moving to the device in float64 (a device given)
    keeps the dtype asked for. Its TORCH_NPU_WARN_ONCE is a line on stderr from c10's
    base handler (NPUException.cpp:83-88), once per process, on rank 0 or with RANK
    unset, never with TORCH_NPU_DISABLED_WARNING=1 (OptionsManager.cpp:646-657)."""
    env = {k: v for k, v in os.environ.items() if k not in ("RANK", "TORCH_NPU_DISABLED_WARNING")}
    done = subprocess.run(
        [sys.executable, "-c", FLOAT64_CASTS],
        capture_output=True,
        text=True,
        timeout=300,
        env={**env, **environment},
    )
    assert done.returncode == 0, done.stderr
    said = [line for line in done.stderr.splitlines() if CAST_WARNING in line]
    assert len(said) == lines, done.stderr


#: the deprecated float-status ops and torch_npu's wrappers, on rank 1 of a 910A
FLOAT_STATUS_OPS = """
import warnings, torch, torch_npu
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    buffer = torch.zeros(8).to("npu")
    for _ in range(2):
        torch_npu.npu_clear_float_status(buffer)
        torch_npu.npu_get_float_status(buffer)
    assert torch_npu.npu.utils.get_npu_overflow_flag() is False
    torch_npu.npu.utils.clear_npu_overflow_flag()
print([str(w.message) for w in caught])
"""


def test_float_status_ops_warn_their_deprecation_once_per_process_on_every_rank() -> None:
    """op-plugin's generated wrappers of the ops deprecated.yaml lists (torchnpugen/gen.py:
    275-283, deprecated.yaml:58,60): TORCH_WARN_ONCE, so once per op and process, and on
    rank 1 as on rank 0; torch_npu's get/clear_npu_overflow_flag call the same ops."""
    env = {**os.environ, "RANK": "1", "NPU_STAND_IN_CHIP": "Ascend910A"}
    done = subprocess.run(
        [sys.executable, "-c", FLOAT_STATUS_OPS],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == repr(
        [
            "torch_npu.npu_clear_float_status is deprecated and will be removed in future version.",
            "torch_npu.npu_get_float_status is deprecated and will be removed in future version.",
        ]
    )


def test_clearing_the_overflow_flag_on_an_inf_nan_chip_warns_and_returns() -> None:
    """torch_npu/npu/utils.py:396-399: a warning, no error, on a 910B3."""
    import torch_npu

    with pytest.warns(UserWarning, match=r"^When soc_version >= Ascend910B1, clear_npu_overflow"):
        torch_npu.npu.utils.clear_npu_overflow_flag()
    with pytest.raises(RuntimeError, match=r"^Unsupported api when soc_version >= Ascend910B1"):
        torch_npu.npu.utils.get_npu_overflow_flag()


def _counters() -> dict[str, int]:
    return {
        "blocking copies": native().blocking_copies(),
        "host reads": native().host_reads(),
        "unpinned non_blocking copies": native().unpinned_syncs(),
        "synchronisations": sum(1 for c in calls() if c[0] == "synchronize"),
    }


def _kinetics_epoch(tmp_path: Path, steps: int) -> tuple[dict[str, int], list[str]]:
    """One epoch of ``steps`` steps on npu:0 over a converted Kinetics tree, the batch
    augmentation on the device (random_choose and random_move, the defaults): what the
    training part of the epoch asked of the device, by the stand-in's counters, and the
    devices the augmentation's draws were copied to."""
    from stgcn_data_kinetics import batch_augment
    from stgcn_data_kinetics.sample_trees import make_converted_tree

    from stgcn.training import trainer
    from stgcn.training.config import RunConfig

    tree = make_converted_tree(tmp_path / f"tree-{steps}", train=4 * steps, val=4, frames=40)
    copied_to: list[str] = []
    counted: dict[str, int] = {}
    to_device, epoch = batch_augment.to_device, trainer.Trainer.train_epoch

    def watched_copy(values: torch.Tensor, device: torch.device) -> torch.Tensor:
        copied_to.append(device.type)
        return to_device(values, device)

    def watched(*args, **kwargs):
        before = _counters()
        try:
            return epoch(*args, **kwargs)
        finally:
            counted.update({k: v - before[k] for k, v in _counters().items()})

    config = RunConfig(
        backend="npu",
        precision="fp32",
        epochs=1,
        batch_size=4,
        log_every=1000,
        dataset="kinetics",
        data_path=str(tree),
        data_options={"window": "16"},
        work_dir=str(tmp_path / f"run-{steps}"),
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("STGCN_QUIET", "1")
        patch.setattr(batch_augment, "to_device", watched_copy)
        patch.setattr(trainer.Trainer, "train_epoch", watched)
        trainer.train(config)
    return counted, copied_to


def test_kinetics_device_augmentation_adds_no_per_step_wait(tmp_path: Path) -> None:
    """The step-sync check on the npu with the Kinetics batch augmentation: its draws
    reach the device pinned and non-blocking (a blocking copy would synchronise the
    stream, CopyKernelOpApi.cpp), so 3 steps and 9 steps ask the same of the device,
    and no copy of the training part blocks at all."""
    few, few_copies = _kinetics_epoch(tmp_path, steps=3)
    many, many_copies = _kinetics_epoch(tmp_path, steps=9)
    assert set(few_copies) == {"npu"} and len(many_copies) - len(few_copies) == 2 * 6
    assert many == few, f"3 steps: {few}, 9 steps: {many}"
    assert few["blocking copies"] == 0 and few["unpinned non_blocking copies"] == 0, few
    assert few["synchronisations"] <= 1, few


def test_eval_pins_its_batches_on_the_npu(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``stgcn eval``'s loader pins where the backend says (backend.pin_memory), so that
    evaluate()'s non_blocking copies do not each synchronise the stream."""
    from stgcn.training import trainer
    from stgcn.training.config import RunConfig
    from stgcn.training.evaluation import EvalRequest, evaluate_checkpoint

    monkeypatch.setenv("STGCN_QUIET", "1")
    work = tmp_path / "run"
    config = RunConfig(
        backend="cpu",
        precision="fp32",
        epochs=1,
        batch_size=4,
        log_every=1000,
        data_options={"train_size": 8, "val_size": 12, "frames": 8},
        work_dir=str(work),
    )
    trainer.train(config)
    before = native().unpinned_syncs()
    result = evaluate_checkpoint(
        EvalRequest(str(work / "checkpoints" / "best.pth.tar"), batch_size=4, backend_name="npu")
    )
    assert result.samples == 12
    assert native().unpinned_syncs() == before


@pytest.mark.parametrize("op", ["BAND", "BOR", "BXOR"])
def test_hccl_refuses_bitwise_reductions_by_name(
    backend: NPUBackend, one_rank_group: None, op: str
) -> None:
    """ProcessGroupHCCL.cpp, getHcclReduceOp: "Cannot use ReduceOp.BAND with HCCL"."""
    backend.setup(0)
    flags = torch.ones(2, dtype=torch.int32, device="npu:0")
    with pytest.raises(RuntimeError, match=rf"^Cannot use ReduceOp\.{op} with HCCL"):
        dist.all_reduce(flags, op=getattr(dist.ReduceOp, op))


def test_hccl_averages_as_a_sum_then_a_division(backend: NPUBackend, one_rank_group: None) -> None:
    backend.setup(0)
    values = torch.tensor([2.0, 4.0], device="npu:0")
    dist.all_reduce(values, op=dist.ReduceOp.AVG)
    assert values.cpu().tolist() == [2.0, 4.0]


def test_hccl_refuses_non_contiguous_tensors(backend: NPUBackend, one_rank_group: None) -> None:
    """ProcessGroupHCCL.cpp:3160-3162, 3213: "Tensors must be contiguous"."""
    backend.setup(0)
    grid = torch.zeros(2, 3, device="npu:0")
    with pytest.raises(RuntimeError, match=r"^Tensors must be contiguous"):
        dist.all_reduce(grid.t())
    with pytest.raises(RuntimeError, match=r"^Tensors must be contiguous"):
        dist.broadcast(grid[:, ::2], src=0)


def test_hccl_avg_divides_in_place_so_integers_fail(
    backend: NPUBackend, one_rank_group: None
) -> None:
    """ProcessGroupHCCL.cpp:4746-4751: AVG is a sum and ``tensor.div_(size)``, which an
    integer tensor cannot hold; allreduce_coalesced takes AVG too (:5007-5012)."""
    backend.setup(0)
    counts = torch.tensor([3, 4], dtype=torch.int32, device="npu:0")
    with pytest.raises(RuntimeError, match="can't be cast to the desired output type Int"):
        dist.all_reduce(counts, op=dist.ReduceOp.AVG)
    pair = [torch.tensor([2.0, 4.0], device="npu:0"), torch.tensor([6.0], device="npu:0")]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # torch deprecates the coalesced call
        dist.all_reduce_coalesced(pair, op=dist.ReduceOp.AVG)
    assert [t.cpu().tolist() for t in pair] == [[2.0, 4.0], [6.0]]


def test_hccl_dtypes_bool_uint8_and_fp8(backend: NPUBackend, one_rank_group: None) -> None:
    """ProcessGroupHCCL.cpp:4734-4737 (allreduce casts bool and uint8 to int32 first);
    reduce_scatter does not cast, and names the pair as HCCL names its uint8."""
    backend.setup(0)
    for dtype in (torch.bool, torch.uint8):
        values = torch.ones(2, dtype=dtype, device="npu:0")
        dist.all_reduce(values)
        assert values.dtype == dtype and values.cpu().tolist() == [1, 1]
        with pytest.raises(
            RuntimeError, match=r"^HCCL reduce_scatter: Unsupported data type at::kByte/at::kBool"
        ):
            dist.reduce_scatter(torch.zeros(1, dtype=dtype, device="npu:0"), [values[:1]])
        dist.broadcast(values, src=0)  # getHcclDataType maps both (HCCLUtils.cpp:50-66)
    eights = torch.ones(3, device="npu:0").to(torch.float8_e4m3fn)
    dist.broadcast(eights, src=0)  # and the fp8 types, which the reductions refuse
    with pytest.raises(RuntimeError, match=r"^HCCL allreduce: Unsupported data type"):
        dist.all_reduce(eights)


def test_scaler_decides_about_the_process_group_at_its_first_scale(
    backend: NPUBackend, tmp_path: Path
) -> None:
    """torch_npu/npu/amp/grad_scaler.py:136-145: _dist_initialized is read once, at the
    first scale(); a group made afterwards is not summed over."""
    import torch_npu

    device = backend.setup(0)
    scaler = torch_npu.npu.amp.GradScaler()
    loss = torch.ones((), device=device)
    scaler.scale(loss)
    store = dist.FileStore(str(tmp_path / "store"), 1)
    dist.init_process_group("hccl", store=store, rank=0, world_size=1)
    try:
        scaler.scale(loss)
        assert scaler._dist_initialized is False
    finally:
        dist.destroy_process_group()


def test_scaler_state_needs_dynamic_and_the_backend_fills_it_for_torchs(
    backend: NPUBackend,
) -> None:
    """torch_npu's load_state_dict reads state_dict["dynamic"]; a cuda or cpu run's
    scaler state (torch's) lacks it, and the backend's scaler reads it as dynamic."""
    import torch_npu

    backend.setup(0)
    torchs = torch.amp.GradScaler("cpu", init_scale=512.0).state_dict()
    assert "dynamic" not in torchs
    with pytest.raises(KeyError, match="dynamic"):
        torch_npu.npu.amp.GradScaler().load_state_dict(torchs)
    with pytest.raises(RuntimeError, match=r"^The source state dict is empty"):
        torch_npu.npu.amp.GradScaler().load_state_dict({})
    backend = backend.for_run({})
    scaler = backend.grad_scaler("fp16")
    scaler.load_state_dict(torchs)
    assert (scaler.get_scale(), scaler._dynamic) == (512.0, True)


@pytest.mark.parametrize(
    ("visible", "count"),
    [
        ("0, 1, 2, 3", 1),  # int(" 1") would take the space: torch_npu stops at it
        (" 3", 0),
        ("+3", 0),
        ("1_0", 1),  # int("1_0") is 10: torch_npu stops at the underscore
        ("0,,1", 1),  # the empty id ends the list
        ("1,3,8", 2),  # ids up to the first the 4-card host lacks
        ("8,1", 0),
        ("0,2,1", 0),  # a list that does not ascend shows nothing
        ("", 0),
    ],
)
def test_visible_devices_are_read_as_torch_npu_reads_them(
    monkeypatch: pytest.MonkeyPatch, visible: str, count: int
) -> None:
    """torch_npu/npu/__init__.py:409-422 (_parse_visible_devices) and :455-461
    (_device_count_ascend_hal) at v26.2.0-0day-pytorch2.13.0."""
    import torch_npu

    monkeypatch.setenv("NPU_STAND_IN_DEVICES", "4")
    monkeypatch.setenv("ASCEND_RT_VISIBLE_DEVICES", visible)
    assert torch_npu.npu.device_count() == count


def test_each_npu_has_its_own_generator_and_dropout_draws_from_it(backend: NPUBackend) -> None:
    device = backend.setup(0)
    torch.manual_seed(3)  # reaches torch.npu.manual_seed_all
    assert torch.npu.initial_seed() == 3
    ones = torch.ones(256, device=device)
    host_before, npu_before = torch.get_rng_state(), backend.rng_state()
    first = torch.nn.functional.dropout(ones, 0.5, training=True).cpu()
    assert torch.equal(torch.get_rng_state(), host_before)  # the CPU's generator untouched
    assert not torch.equal(backend.rng_state(), npu_before)
    backend.set_rng_state(npu_before)
    assert torch.equal(torch.nn.functional.dropout(ones, 0.5, training=True).cpu(), first)
    torch.npu.manual_seed(4)
    assert not torch.equal(torch.nn.functional.dropout(ones, 0.5, training=True).cpu(), first)


def test_npu_rng_state_is_torch_npus_16_bytes(backend: NPUBackend, tmp_path: Path) -> None:
    """NPUGeneratorImpl.cpp:315-370: the state is the seed and the Philox offset, 8 bytes
    each; set_state takes 16, or 8 (the offset then 0), and nothing else. A checkpoint's
    device state goes through torch.save and back and draws the same dropout again."""
    device = backend.setup(0)
    torch.npu.manual_seed(7)
    state = backend.rng_state()
    assert state is not None and state.dtype == torch.uint8 and state.device.type == "cpu"
    assert state.tolist() == [7, 0, 0, 0, 0, 0, 0, 0] + [0] * 8
    ones = torch.ones(64, device=device)
    torch.nn.functional.dropout(ones, 0.5, training=True)
    saved = backend.rng_state()
    assert int.from_bytes(bytes(saved[8:].tolist()), "little") % 4 == 0 and saved[8:].any()
    torch.save({"device": saved}, tmp_path / "rng.pt")
    expected = torch.nn.functional.dropout(ones, 0.5, training=True).cpu()
    loaded = torch.load(tmp_path / "rng.pt", map_location="cpu", weights_only=True)["device"]
    backend.set_rng_state(loaded)
    assert torch.equal(torch.nn.functional.dropout(ones, 0.5, training=True).cpu(), expected)
    backend.set_rng_state(state[:8])  # a seed alone: offset 0
    assert torch.equal(backend.rng_state(), state)
    for size in (0, 12, 5056):
        with pytest.raises(RuntimeError, match="RNG state is wrong size"):
            backend.set_rng_state(torch.zeros(size, dtype=torch.uint8))


#: two fresh processes: each device generator starts from a nondeterministic seed
RANDOM_SEEDS = """
import torch, torch_npu
print(torch.npu.initial_seed())
"""


def test_npu_default_generator_is_seeded_randomly() -> None:
    """NPUGeneratorImpl.cpp:62-63 and :303-309: getDefaultNPUGenerator seeds a new
    generator with c10's nondeterministic random, not a fixed default seed."""
    seeds = []
    for _ in range(2):
        done = subprocess.run(
            [sys.executable, "-c", RANDOM_SEEDS], capture_output=True, text=True, timeout=300
        )
        assert done.returncode == 0, done.stderr
        seeds.append(int(done.stdout.split()[-1]))
    assert seeds[0] != seeds[1]
    assert 67280421310721 not in seeds  # c10::default_rng_seed_val


@pytest.fixture
def saturation_mode(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A 910A: overflows saturate and raise the float-status register."""
    monkeypatch.setenv("NPU_STAND_IN_CHIP", "Ascend910A")
    native().set_saturation_mode(True)
    native().clear_float_status()
    yield
    native().set_saturation_mode(False)
    native().clear_float_status()


def test_fixed_scale_overflow_in_saturation_mode_is_flagged_on_the_device(
    backend: NPUBackend, saturation_mode: None
) -> None:
    """The loss stays finite on a saturating chip; the precision part's flag does not."""
    device = backend.setup(0)
    backend = backend.for_run({"loss_scale": "64"})
    precision = Precision.for_backend(backend, "fp16")
    assert precision.scaler is not None and precision.scaler._dynamic is False
    model = tiny_model(device)
    x, y = batch(device)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    import torch_npu

    torch_npu._deprecation_said.clear()  # the ops warn again, once, in this test
    with warnings.catch_warnings(record=True) as caught:  # the backend's filters kept
        training_step(model, x, y, optimizer, precision)
        flag = precision.step_overflowed()  # on the device: the loop reads it with the loss
        assert flag is not None and flag.device == device and not bool(flag.cpu())
        loss = training_step(model, x * 1e6, y, optimizer, precision)  # fp16 overflows
    assert torch.isfinite(loss.cpu()).all() and torch.isfinite(model[0].weight.cpu()).all()
    assert bool(precision.step_overflowed().cpu())
    assert torch_npu._deprecation_said == {"npu_get_float_status", "npu_clear_float_status"}
    assert not [w for w in caught if "deprecated" in str(w.message)]  # quieted by setup


def test_dynamic_scale_or_inf_nan_chips_need_no_flag(backend: NPUBackend) -> None:
    backend.setup(0)
    backend = backend.for_run({"loss_scale": "64"})
    assert Precision.for_backend(backend, "fp16").step_overflowed() is None  # 910B3


def test_scaler_prints_are_said_once_on_stderr(
    backend: NPUBackend, capsys: pytest.CaptureFixture[str]
) -> None:
    """torch_npu's GradScaler prints each overflow on stdout (grad_scaler.py)."""
    device = backend.setup(0)
    backend = backend.for_run({})
    precision = Precision.for_backend(backend, "fp16")
    precision.scaler._init_scale = 64.0
    model = tiny_model(device)
    x, y = batch(device)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    hook = model[0].weight.register_hook(lambda grad: grad * math.inf)
    for _ in range(3):
        training_step(model, x, y, optimizer, precision)
    hook.remove()
    out, err = capsys.readouterr()
    assert out == ""
    assert err.splitlines() == [
        "stgcn: warning: torch_npu's GradScaler: Gradient overflow. Skipping step; Loss "
        "scaler reducing loss scale to 32.0 (said once; later overflows are handled the "
        "same way without a word)"
    ]


def test_fp32_keeps_the_dtype_on_chips_before_the_910b1(
    backend: NPUBackend, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """torch_npu's default below the 910B1 is allow_fp32_to_fp16 (LazyInitAclops.cpp);
    one set_option before the first operator holds from then on (OptionRegister.cpp:
    16-28, LazyInitAclops.cpp:212-224, npu_sys_ctrl.cpp:269-271), so it is the only one."""
    monkeypatch.setenv("NPU_STAND_IN_CHIP", "Ascend910A")
    device = backend.setup(0)
    assert torch.npu.acl_precision_mode() == "allow_fp32_to_fp16"
    keep = ("set_option", {"ACL_PRECISION_MODE": "must_keep_origin_dtype"})
    model = backend.prepare_model(tiny_model(device), "fp32")
    assert calls().count(keep) == 1
    said = capsys.readouterr().err.splitlines()
    assert [line for line in said if line.startswith("stgcn: note: ")] == [
        fp32_note(backend.status().chip or "this NPU")
    ]
    assert "allow_fp32_to_fp16" in said[0] and "must_keep_origin_dtype" in said[0]
    assert "again" not in said[0]
    calls().clear()
    precision = Precision.for_backend(backend, "fp32")
    x, y = batch(device)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    for _ in range(2):
        training_step(model, x, y, optimizer, precision)
        assert torch.npu.acl_precision_mode() == "must_keep_origin_dtype"
    assert not [call for call in calls() if call[0] == "set_option"]
    backend.prepare_model(torch.nn.Linear(2, 2).to(device), "fp16")
    assert not [call for call in calls() if call[0] == "set_option"]


@pytest.mark.parametrize("mode", ["force_fp32", "allow_mix_precision", "must_keep_origin"])
def test_set_option_takes_only_the_precision_modes_torch_npu_lists(
    backend: NPUBackend, mode: str
) -> None:
    """torch_npu/npu/npu_config.py:22 and 66-73: ACL_PRECISION_MODE takes
    allow_fp32_to_fp16 or must_keep_origin_dtype, anything else is a ValueError (CANN's
    other modes included), and nothing is set."""
    backend.setup(0)
    with pytest.raises(ValueError, match=r"^value of ACL_PRECISION_MODE should be in \["):
        torch.npu.set_option({"ACL_PRECISION_MODE": mode})
    assert torch.npu.acl_precision_mode() == "must_keep_origin_dtype"  # the 910B3's own
    assert not [call for call in calls() if call[0] == "set_option"]
