"""What the backend does to a model and a step, checked on the CPU where it can be.

Memory format, torch.compile wrapping, the autocast and loss-scaler objects, device
binding refusals and the CUDA-graph bookkeeping are device-independent logic. Only
the graph recording itself needs a GPU: those tests pass a stand-in for
``torch.cuda.make_graphed_callables`` (named ``stand_in_capture``) that keeps its
contract, and the GPU tests in test_gpu.py record real graphs.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import pytest
import torch
from stgcn_backend_cuda import CUDABackend
from stgcn_backend_cuda.graphs import GraphedTrainingForward, graph_training_steps

from stgcn.errors import StgcnError
from stgcn.model.network import STGCN


def _backend(**options: str) -> CUDABackend:
    backend = CUDABackend()
    backend = backend.for_run(options)
    return backend


def _model() -> STGCN:
    torch.manual_seed(0)
    return STGCN(4, layout="openpose")


def _batch(size: int = 2, frames: int = 4) -> torch.Tensor:
    return torch.randn(size, 3, frames, 18, 2, generator=torch.Generator().manual_seed(size))


@pytest.mark.parametrize(
    ("precision", "dtype"), [("bf16", torch.bfloat16), ("fp16", torch.float16)]
)
def test_autocast_is_cuda_autocast_in_the_precision(precision, dtype) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a CPU-only torch warns that it disables it
        context = _backend().autocast(precision)
        graphed = _backend(cuda_graphs="true").autocast(precision)
    assert isinstance(context, torch.autocast)
    assert (context.device, context.fast_dtype) == ("cuda", dtype)
    assert graphed._cache_enabled is False, "graphs need autocast's cast cache off"


def test_fp32_has_no_autocast_and_only_fp16_scales_the_loss() -> None:
    backend = _backend()
    assert not isinstance(backend.autocast("fp32"), torch.autocast)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scaler = backend.grad_scaler("fp16")
    assert isinstance(scaler, torch.amp.GradScaler) and scaler._device == "cuda"
    assert backend.grad_scaler("bf16") is None and backend.grad_scaler("fp32") is None


def test_setup_refuses_a_rank_without_a_gpu() -> None:
    """Real: asks for one GPU more than this host shows (none, on a CPU machine)."""
    count = torch.cuda.device_count()
    with pytest.raises(StgcnError, match=rf"no GPU with local rank {count}: this host shows"):
        CUDABackend().setup(count)


def test_bf16_is_refused_on_a_gpu_without_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """Stand-ins for torch.cuda's answers about a V100, which has no native bf16."""
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda including_emulation=True: False)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda device=None: "Tesla V100-SXM2-16GB")
    with pytest.raises(StgcnError) as error:
        _backend().prepare_model(_model(), "bf16")
    assert str(error.value) == (
        "Tesla V100-SXM2-16GB has no native bf16 (it needs compute capability 8.0 or newer); "
        "use --precision fp16 or fp32"
    )


def test_plain_settings_leave_the_model_alone() -> None:
    model = _model()
    assert _backend(channels_last="false").prepare_model(model, "fp32") is model
    assert "forward" not in model.__dict__


def test_channels_last_converts_conv_weights_and_keeps_the_function() -> None:
    model = _model().eval()
    expected = model(_batch())
    prepared = _backend(channels_last="true").prepare_model(model, "fp32")
    temporal = prepared.st_gcn_networks[0].tcn[2].weight  # (64, 64, 9, 1)
    assert temporal.is_contiguous(memory_format=torch.channels_last)
    assert not temporal.is_contiguous()
    torch.testing.assert_close(prepared(_batch()), expected, rtol=1e-4, atol=1e-5)
    assert set(prepared.state_dict()) == set(STGCN(4).state_dict())


def test_channels_last_is_the_default() -> None:
    prepared = _backend().prepare_model(_model(), "fp32")
    assert (
        prepared.st_gcn_networks[0].tcn[2].weight.is_contiguous(memory_format=torch.channels_last)
    )


@pytest.mark.parametrize(("graphs", "cudagraphs"), [("false", False), ("true", True)])
def test_compile_wraps_the_model_and_graphs_pick_reduce_overhead(graphs, cudagraphs) -> None:
    model = _model()
    compiled = _backend(compile="true", cuda_graphs=graphs).prepare_model(model, "fp32")
    assert compiled._orig_mod is model  # the trainer unwraps this for checkpoints
    assert compiled.get_compiler_config()["triton.cudagraphs"] is cudagraphs
    assert "forward" not in model.__dict__, "torch.compile records the graphs itself"


def test_cuda_graphs_without_compile_install_the_recording_forward() -> None:
    model = _model()
    prepared = _backend(cuda_graphs="true").prepare_model(model, "fp32")
    assert prepared is model
    assert isinstance(model.__dict__["forward"], GraphedTrainingForward)
    assert graph_training_steps(model) is model.__dict__["forward"], "installed once"


def stand_in_capture(module: torch.nn.Module, sample_args: tuple, warmups: int = 3):
    """Stand-in for torch.cuda.make_graphed_callables, which needs a GPU.

    Keeps its contract: warm-up passes through the module (moving BatchNorm
    statistics as the real ones do), then ``module.forward`` replaced by a function
    that serves the recorded training state and falls back to the old forward.
    """
    for _ in range(warmups):
        module(*sample_args)
    eager, training = module.forward, module.training

    def replay(*args):
        assert module.training == training
        return eager(*args)

    module.forward = replay
    return module


def test_graphs_record_once_then_replay_the_same_shape_only() -> None:
    model, reference = _model(), _model()
    forward = graph_training_steps(model, capture=stand_in_capture)
    model.train()
    reference.train()
    x = _batch()

    torch.testing.assert_close(model(x), reference(x))
    # the warm-up passes left no trace: the statistics moved exactly once, as in eager mode
    for (name, mine), theirs in zip(model.named_buffers(), reference.buffers(), strict=True):
        assert torch.equal(mine, theirs), name
    assert (forward.replays, forward.eager_calls) == (1, 0)

    model(x)
    assert (forward.replays, forward.eager_calls) == (2, 0)
    model(_batch(size=1))  # the last, partial batch of an epoch
    with torch.no_grad():
        model(x)
    model.eval()
    model(x)
    assert (forward.replays, forward.eager_calls) == (2, 3)
    assert set(model.state_dict()) == set(STGCN(4).state_dict())


def test_graphs_are_not_recorded_outside_training() -> None:
    model = _model().eval()
    forward = graph_training_steps(model, capture=stand_in_capture)
    model(_batch())
    assert forward.graphed is None and forward.eager_calls == 1


def test_a_failed_recording_is_one_error_and_leaves_the_model_usable() -> None:
    def failing_capture(module, sample_args):
        module(*sample_args)  # moves the statistics before failing, like a real warm-up
        raise RuntimeError("operation not permitted when stream is capturing\nmore detail")

    model, reference = _model().train(), _model().train()
    forward = graph_training_steps(model, capture=failing_capture)
    with pytest.raises(StgcnError) as error:
        model(_batch())
    assert str(error.value) == (
        "recording the CUDA graphs failed (operation not permitted when stream is capturing); "
        "train without --backend-option cuda_graphs=true"
    )
    assert model.__dict__["forward"] is forward
    for mine, theirs in zip(model.buffers(), reference.buffers(), strict=True):
        assert torch.equal(mine, theirs)


def test_one_card_graphs_are_refused_with_several_processes(tmp_path: Path) -> None:
    """Two real processes in a gloo group: graph recording without compile is refused."""
    script = textwrap.dedent(
        f"""
        import sys
        import torch.distributed as dist
        from stgcn.errors import StgcnError
        from stgcn.model.network import STGCN
        from stgcn_backend_cuda import CUDABackend
        rank = int(sys.argv[1])
        dist.init_process_group("gloo", init_method="file://{tmp_path / "rendezvous"}",
                                rank=rank, world_size=2)
        backend = CUDABackend()
        backend = backend.for_run({{"cuda_graphs": "true"}})
        try:
            backend.prepare_model(STGCN(4), "fp32")
        except StgcnError as error:
            print(error)
        dist.destroy_process_group()
        """
    )
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", script, str(rank)], stdout=subprocess.PIPE, text=True
        )
        for rank in (0, 1)
    ]
    outputs = [worker.communicate(timeout=120)[0] for worker in workers]
    assert [worker.returncode for worker in workers] == [0, 0]
    for output in outputs:
        assert output.startswith("cuda_graphs=true records graphs on one card only; "), output
