"""``--backend-option`` parsing and the process-wide switches it sets."""

from __future__ import annotations

import os

import pytest
import torch
from stgcn_backend_cuda import CUDABackend, CudaSettings
from stgcn_backend_cuda.backend import apply_global_flags

from stgcn.errors import StgcnError


def test_defaults_turn_on_channels_last_and_cudnn_autotuning() -> None:
    assert CudaSettings.from_options({}) == CudaSettings(
        compile=False,
        cuda_graphs=False,
        channels_last=True,
        cudnn_benchmark=True,
        tf32=False,
        deterministic=False,
    )


def test_every_option_parses_from_command_line_strings() -> None:
    settings = CudaSettings.from_options(
        {
            "compile": "true",
            "cuda_graphs": "yes",
            "channels_last": "1",
            "cudnn_benchmark": "off",
            "tf32": "on",
            "deterministic": "false",
        }
    )
    assert settings == CudaSettings(True, True, True, False, True, False)


def test_unknown_key_is_refused_naming_it_and_the_known_ones() -> None:
    with pytest.raises(StgcnError) as error:
        CUDABackend().for_run({"colour": "red", "compile": "true"})
    assert str(error.value) == (
        "backend 'cuda' has no option 'colour' (known: channels_last, compile, cuda_graphs, "
        "cudnn_benchmark, deterministic, tf32)"
    )


def test_bad_value_is_refused_naming_the_key() -> None:
    with pytest.raises(StgcnError, match="backend option channels_last: expected true or false"):
        CUDABackend().for_run({"channels_last": "auto"})


def test_deterministic_turns_autotuning_off_and_refuses_it_explicitly() -> None:
    assert CudaSettings.from_options({"deterministic": "true"}).cudnn_benchmark is False
    with pytest.raises(StgcnError, match="contradict"):
        CudaSettings.from_options({"deterministic": "true", "cudnn_benchmark": "true"})


def test_for_run_starts_from_the_defaults_each_time() -> None:
    """The registry keeps one backend object: a second run must not inherit options."""
    backend = CUDABackend()
    backend = backend.for_run({"compile": "true", "channels_last": "true"})
    assert backend.settings.compile and backend.settings.channels_last
    backend = backend.for_run({})
    assert backend.settings == CudaSettings()


@pytest.fixture
def restored_flags():
    """Put torch's process-wide switches back after a test changes them."""
    saved = (
        torch.backends.cudnn.benchmark,
        torch.backends.cudnn.deterministic,
        torch.backends.cuda.matmul.allow_tf32,
        torch.backends.cudnn.allow_tf32,
        torch.are_deterministic_algorithms_enabled(),
        torch.is_deterministic_algorithms_warn_only_enabled(),
        os.environ.get("CUBLAS_WORKSPACE_CONFIG"),
    )
    os.environ.pop("CUBLAS_WORKSPACE_CONFIG", None)
    yield
    benchmark, deterministic, matmul_tf32, cudnn_tf32, algorithms, warn_only, workspace = saved
    torch.backends.cudnn.benchmark = benchmark
    torch.backends.cudnn.deterministic = deterministic
    torch.backends.cuda.matmul.allow_tf32 = matmul_tf32
    torch.backends.cudnn.allow_tf32 = cudnn_tf32
    torch.use_deterministic_algorithms(algorithms, warn_only=warn_only)
    if workspace is None:
        os.environ.pop("CUBLAS_WORKSPACE_CONFIG", None)
    else:
        os.environ["CUBLAS_WORKSPACE_CONFIG"] = workspace


def test_global_flags_follow_the_settings(restored_flags) -> None:
    apply_global_flags(CudaSettings.from_options({"tf32": "true"}))
    assert torch.backends.cudnn.benchmark is True
    assert torch.backends.cudnn.deterministic is False
    assert torch.backends.cuda.matmul.allow_tf32 and torch.backends.cudnn.allow_tf32
    assert torch.get_float32_matmul_precision() == "high"  # torch.compile reads this one
    assert not torch.are_deterministic_algorithms_enabled()
    assert "CUBLAS_WORKSPACE_CONFIG" not in os.environ

    apply_global_flags(CudaSettings.from_options({"deterministic": "true"}))
    assert torch.backends.cudnn.benchmark is False
    assert torch.backends.cudnn.deterministic is True
    assert not torch.backends.cuda.matmul.allow_tf32 and not torch.backends.cudnn.allow_tf32
    assert torch.get_float32_matmul_precision() == "highest"
    assert torch.are_deterministic_algorithms_enabled()
    assert os.environ["CUBLAS_WORKSPACE_CONFIG"] == ":4096:8"
