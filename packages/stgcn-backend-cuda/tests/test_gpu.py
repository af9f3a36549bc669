"""Training, evaluation, resume, bench and the tuning options on a real NVIDIA GPU.

Skipped where no GPU is usable (the reason says why). On a GPU machine run them with
``nox -s tests-cuda`` or, where nothing can be installed, the PYTHONPATH command in
the package README. Everything runs on the built-in synthetic dataset with tiny
settings: these check that each path works on the device, not how fast it is.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch
from cuda_helpers import HOST, run_stgcn
from stgcn_backend_cuda import CUDABackend
from stgcn_backend_cuda.backend import native_bf16

from stgcn.model.network import STGCN
from stgcn.plugins.backend import Precision
from stgcn.testing.helpers import TINY
from stgcn.training.step import training_step

pytestmark = pytest.mark.skipif(not HOST.available, reason=f"needs an NVIDIA GPU: {HOST.reason}")

PRECISIONS = ["fp32", "bf16", "fp16"]


def _skip_without(precision: str) -> None:
    if precision == "bf16" and not native_bf16():
        pytest.skip(f"{torch.cuda.get_device_name()} has no native bf16")


def _metrics(work: Path) -> list[dict]:
    return [json.loads(line) for line in (work / "metrics.jsonl").read_text().splitlines()]


def _checkpoint(work: Path, name: str = "latest.pth.tar") -> dict:
    return torch.load(work / "checkpoints" / name, map_location="cpu", weights_only=True)


@pytest.fixture
def restored_flags():
    saved = (
        torch.backends.cudnn.benchmark,
        torch.backends.cudnn.deterministic,
        torch.backends.cuda.matmul.allow_tf32,
        torch.backends.cudnn.allow_tf32,
        torch.are_deterministic_algorithms_enabled(),
    )
    yield
    benchmark, deterministic, matmul_tf32, cudnn_tf32, algorithms = saved
    torch.backends.cudnn.benchmark = benchmark
    torch.backends.cudnn.deterministic = deterministic
    torch.backends.cuda.matmul.allow_tf32 = matmul_tf32
    torch.backends.cudnn.allow_tf32 = cudnn_tf32
    torch.use_deterministic_algorithms(algorithms)


def test_setup_binds_the_gpu_and_sets_the_switches(restored_flags) -> None:
    backend = CUDABackend()
    backend = backend.for_run({})
    assert backend.device_count() == torch.cuda.device_count() >= 1
    device = backend.setup(0)
    assert device == torch.device("cuda", 0)
    assert torch.cuda.current_device() == 0
    assert torch.backends.cudnn.benchmark is True
    assert backend.default_precision() == ("bf16" if native_bf16() else "fp16")
    backend.synchronize()


@pytest.mark.parametrize("precision", PRECISIONS)
def test_train_then_evaluate(tmp_path: Path, precision: str) -> None:
    _skip_without(precision)
    work = tmp_path / "run"
    trained = run_stgcn(
        "run",
        "--backend",
        "cuda",
        "--precision",
        precision,
        *TINY,
        "--epochs",
        "2",
        "--work-dir",
        str(work),
    )
    assert trained.returncode == 0, trained.stderr
    lines = _metrics(work)
    assert [line["epoch"] for line in lines] == [1, 2]
    for line in lines:
        assert (line["backend"], line["precision"]) == ("cuda", precision)
        assert math.isfinite(line["train_loss"]) and math.isfinite(line["val_loss"])
        assert 0.0 <= line["val_top1"] <= line["val_top5"] <= 1.0
    best = _checkpoint(work, "best.pth.tar")
    assert set(best["model"]) == set(STGCN(best["model_config"]["num_class"]).state_dict())
    assert bool(best["scaler"]) is (precision == "fp16"), "fp16 saves its loss scaler"

    evaluated = run_stgcn(
        "eval",
        "--checkpoint",
        str(work / "checkpoints" / "best.pth.tar"),
        "--backend",
        "cuda",
        "--precision",
        precision,
        "--json",
    )
    assert evaluated.returncode == 0, evaluated.stderr
    report = json.loads(evaluated.stdout)
    assert report["samples"] == 16
    # the same weights on the same GPU: at most one of 16 clips may flip on rounding
    assert report["top1"] == pytest.approx(max(line["val_top1"] for line in lines), abs=1 / 16)


#: the zoo's models (stgcn-models) at a small width each
ZOO_MODELS = {
    "stgcnpp": ["--model-option", "base_channels=8", "--model-option", "num_stages=6"],
    "ctrgcn": ["--model-option", "base_channels=8"],
}


@pytest.mark.parametrize("model", sorted(ZOO_MODELS))
def test_a_zoo_model_trains_and_evaluates_on_the_gpu(tmp_path: Path, model: str) -> None:
    """A model plugin's network on the GPU in its default precision, the checkpoint
    naming it, ``stgcn eval`` rebuilding it there."""
    pytest.importorskip("stgcn_models")
    work = tmp_path / "run"
    args = ["--model", model, *ZOO_MODELS[model], *TINY, "--epochs", "2"]
    trained = run_stgcn("run", "--backend", "cuda", *args, "--work-dir", str(work))
    assert trained.returncode == 0, trained.stderr
    lines = _metrics(work)
    assert [(line["epoch"], line["backend"]) for line in lines] == [(1, "cuda"), (2, "cuda")]
    assert all(math.isfinite(line["train_loss"]) for line in lines)
    assert _checkpoint(work, "best.pth.tar")["model_name"] == model
    best = str(work / "checkpoints" / "best.pth.tar")
    evaluated = run_stgcn("eval", "--checkpoint", best, "--backend", "cuda", "--json")
    assert evaluated.returncode == 0, evaluated.stderr
    assert json.loads(evaluated.stdout)["samples"] == 16


@pytest.mark.parametrize("precision", ["bf16", "fp16"])
def test_resume_on_the_gpu_gives_the_same_weights(tmp_path: Path, precision: str) -> None:
    """Two epochs, then resumed to three, against three in one go: bit-identical weights."""
    _skip_without(precision)
    common = [
        "run",
        "--backend",
        "cuda",
        "--precision",
        precision,
        *TINY,
        "--seed",
        "5",
        "--dropout",
        "0.2",
        "--backend-option",
        "deterministic=true",
    ]
    straight, split = tmp_path / "straight", tmp_path / "split"
    for args in (
        [*common, "--epochs", "3", "--work-dir", str(straight)],
        [*common, "--epochs", "2", "--work-dir", str(split)],
        ["run", "--resume", "--work-dir", str(split), "--epochs", "3"],
    ):
        result = run_stgcn(*args)
        assert result.returncode == 0, result.stderr
    expected, actual = _checkpoint(straight), _checkpoint(split)
    assert actual["epoch"] == 3
    assert expected["model"].keys() == actual["model"].keys()
    for key, value in expected["model"].items():
        assert torch.equal(value, actual["model"][key]), key
    assert expected["scaler"] == actual["scaler"]
    assert [line["epoch"] for line in _metrics(split)] == [1, 2, 3]


@pytest.mark.parametrize("precision", PRECISIONS)
def test_bench_reports_gpu_throughput(precision: str) -> None:
    _skip_without(precision)
    result = run_stgcn(
        "bench",
        "--backend",
        "cuda",
        "--precision",
        precision,
        "--batch-size",
        "4",
        "--frames",
        "32",
        "--steps",
        "3",
        "--warmup",
        "1",
        "--json",
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert (report["backend"], report["precision"], report["device"]) == (
        "cuda",
        precision,
        "cuda:0",
    )
    assert report["samples_per_s"] > 0


@pytest.mark.parametrize("precision", ["fp32", "fp16"])
def test_recorded_graphs_train_like_eager(precision: str, restored_flags) -> None:
    """Real torch.cuda.make_graphed_callables: the same steps with and without graphs."""
    models, forwards = [], []
    for graphs in ("false", "true"):
        backend = CUDABackend()
        backend = backend.for_run({"cuda_graphs": graphs, "deterministic": "true"})
        device = backend.setup(0)
        torch.manual_seed(0)
        model = backend.prepare_model(STGCN(4).to(device), precision).train()
        optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
        run_precision = Precision.for_backend(backend, precision)
        data = torch.Generator().manual_seed(1)
        for size in (8, 8, 8, 3):  # three full batches, then a partial one
            x = torch.randn(size, 3, 16, 18, 2, generator=data).to(device)
            y = torch.randint(0, 4, (size,), generator=data).to(device)
            training_step(model, x, y, optimizer, run_precision)
        backend.synchronize()
        models.append(model)
        forwards.append(model.__dict__.get("forward"))
    eager, graphed = models
    assert forwards[0] is None
    assert (forwards[1].replays, forwards[1].eager_calls) == (3, 1)
    expected = eager.state_dict()
    for name, value in graphed.state_dict().items():
        torch.testing.assert_close(value, expected[name], rtol=1e-3, atol=1e-4, msg=name)


@pytest.mark.parametrize(
    "options",
    [
        ["--backend-option", "cuda_graphs=true"],
        ["--compile", "--backend-option", "channels_last=true"],
        ["--compile", "--backend-option", "cuda_graphs=true"],
    ],
    ids=["graphs", "compile-channels-last", "compile-graphs"],
)
def test_tuning_options_train(tmp_path: Path, options: list[str]) -> None:
    work = tmp_path / "run"
    result = run_stgcn(
        "run", "--backend", "cuda", *options, *TINY, "--epochs", "2", "--work-dir", str(work)
    )
    assert result.returncode == 0, result.stderr
    lines = _metrics(work)
    assert [line["epoch"] for line in lines] == [1, 2]
    assert all(math.isfinite(line["train_loss"]) for line in lines)
    assert set(_checkpoint(work)["model"]) == set(STGCN(10).state_dict())
