"""Training runs end to end: work dir contents, resume after SIGKILL, refusals."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from stgcn.backends.precision import Precision
from stgcn.model.network import STGCN
from stgcn.testing.helpers import TINY, make_distribution, run_stgcn
from stgcn.training.step import training_step

METRIC_KEYS = {
    "epoch",
    "lr",
    "train_loss",
    "val_loss",
    "val_top1",
    "val_top5",
    "samples_per_s",
    "step_seconds",
    "epoch_seconds",
    "world_size",
    "backend",
    "precision",
}


def test_run_writes_config_metrics_and_checkpoints(tmp_path: Path) -> None:
    work = tmp_path / "run"
    result = run_stgcn("run", *TINY, "--epochs", "2", "--work-dir", str(work), "--seed", "3")
    assert result.returncode == 0, result.stderr
    config = json.loads((work / "config.json").read_text())
    assert config["backend"] == "cpu" and config["dataset"] == "synthetic"
    assert config["epochs"] == 2 and config["seed"] == 3 and config["batch_size"] == 8
    assert config["init"] == "pytorch", "the synthetic recipe's fan-in initialisation"
    assert config["precision"] in ("fp32", "bf16")
    lines = [json.loads(line) for line in (work / "metrics.jsonl").read_text().splitlines()]
    assert [line["epoch"] for line in lines] == [1, 2]
    for line in lines:
        assert set(line) >= METRIC_KEYS
        assert line["world_size"] == 1 and line["backend"] == "cpu"
        assert 0.0 <= line["val_top1"] <= line["val_top5"] <= 1.0
        assert line["samples_per_s"] > 0
    for name in ("latest.pth.tar", "best.pth.tar"):
        checkpoint = torch.load(work / "checkpoints" / name, weights_only=True)
        reference_keys = set(STGCN(checkpoint["model_config"]["num_class"]).state_dict())
        assert set(checkpoint["model"]) == reference_keys
        assert {"optimizer", "epoch", "best_top1", "config", "rng", "scaler"} <= set(checkpoint)
    assert not list((work / "checkpoints").glob(".*")), "temporary files left behind"

    evaluated = run_stgcn(
        "eval", "--checkpoint", str(work / "checkpoints" / "best.pth.tar"), "--json"
    )
    assert evaluated.returncode == 0, evaluated.stderr
    report = json.loads(evaluated.stdout)
    assert set(report) == {"top1", "top5", "mean_class_accuracy", "samples"}
    assert report["samples"] == 16
    best_epoch_top1 = max(line["val_top1"] for line in lines)
    assert report["top1"] == pytest.approx(best_epoch_top1)


@pytest.mark.parametrize("scheme", ["reference", "pytorch"])
def test_init_setting_draws_the_first_weights(tmp_path: Path, scheme: str) -> None:
    from stgcn.training.config import RunConfig
    from stgcn.training.session import build_model, resolve

    torch.manual_seed(0)
    session = resolve(RunConfig(init=scheme, work_dir=str(tmp_path / "run")))
    model = build_model(session)
    unit_norms = bool((model.data_bn.weight == 1).all())
    assert unit_norms == (scheme == "pytorch")
    first_std = float(model.st_gcn_networks[0].gcn.conv.weight.detach().std())
    assert (first_std > 0.1) == (scheme == "pytorch")


def _weights(path: Path) -> dict[str, torch.Tensor]:
    return torch.load(path, weights_only=True)["model"]


def _start(work: Path, epochs: int, resume: bool = False) -> subprocess.Popen:
    args = [sys.executable, "-m", "stgcn", "run", *TINY, "--epochs", str(epochs)]
    args += ["--work-dir", str(work), "--seed", "11", "--dropout", "0.2"]
    if resume:
        args.append("--resume")
    return subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def _wait_for(path: Path, process: subprocess.Popen, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert process.poll() is None, process.stderr.read()
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.05)


@pytest.mark.parametrize("kill_after", ["config", "first-checkpoint"])
def test_sigkill_then_resume_matches_uninterrupted_run(tmp_path: Path, kill_after: str) -> None:
    epochs = 3
    straight = tmp_path / "straight"
    process = _start(straight, epochs)
    assert process.wait(timeout=600) == 0, process.stderr.read()

    killed = tmp_path / "killed"
    process = _start(killed, epochs)
    marker = "config.json" if kill_after == "config" else "checkpoints/latest.pth.tar"
    _wait_for(killed / marker, process)
    time.sleep(0.3)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=60)
    assert process.returncode == -signal.SIGKILL, "the run ended before it could be killed"

    resumed = _start(killed, epochs, resume=True)
    assert resumed.wait(timeout=600) == 0, resumed.stderr.read()

    expected = _weights(straight / "checkpoints" / "latest.pth.tar")
    actual = _weights(killed / "checkpoints" / "latest.pth.tar")
    assert expected.keys() == actual.keys()
    for key in expected:
        assert torch.equal(expected[key], actual[key]), key
    epochs_logged = [
        json.loads(line)["epoch"] for line in (killed / "metrics.jsonl").read_text().splitlines()
    ]
    assert epochs_logged == [1, 2, 3]


def test_existing_run_is_not_overwritten(tmp_path: Path) -> None:
    work = tmp_path / "run"
    assert run_stgcn("run", *TINY, "--epochs", "1", "--work-dir", str(work)).returncode == 0
    before = {p: p.read_bytes() for p in work.rglob("*") if p.is_file()}
    again = run_stgcn("run", *TINY, "--epochs", "1", "--work-dir", str(work))
    assert again.returncode == 1
    assert again.stderr.strip().splitlines() == [
        f"stgcn: error: {work} already holds a run; resume it with --resume "
        "or choose another --work-dir"
    ]
    assert {p: p.read_bytes() for p in work.rglob("*") if p.is_file()} == before


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["run", "--dataset", "nope"], "unknown dataset 'nope'; known datasets: "),
        (["run", "--backend", "nope"], "unknown backend 'nope'; known backends: "),
        (["run", "--resume"], "nothing to resume"),
        (["run", "--precision", "fp16"], "backend 'cpu' cannot train in fp16"),
        (["run", "--epochs", "0"], "epochs must be at least 1"),
        (["run", "--init", "xavier"], "Invalid value for '--init'"),
        (["run", "--data-option", "oops"], "--data-option expects KEY=VALUE"),
        (["run", "--data-option", "colour=red"], "synthetic dataset: unknown option 'colour'"),
        (["run", "--config", "/no/such/file.toml"], "config file not found"),
        (["run", "--weights", "/no/such/weights.pt"], "weights file not found"),
        (["eval", "--checkpoint", "/no/such.pth.tar"], "checkpoint not found"),
        (["bench", "--steps", "0"], "--steps must be at least 1"),
    ],
)
def test_user_errors_are_one_line(tmp_path: Path, args: list[str], message: str) -> None:
    result = (
        run_stgcn(*args, "--work-dir", str(tmp_path / "w"))
        if args[0] == "run"
        else (run_stgcn(*args))
    )
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert message in lines[0]
    assert not (tmp_path / "w" / "checkpoints").exists()


def test_config_file_then_command_line(tmp_path: Path) -> None:
    toml = tmp_path / "run.toml"
    toml.write_text(
        "epochs = 1\nbatch-size = 4\nlr = 0.05\nsteps = [1]\n"
        "[data_options]\ntrain_size = 8\nval_size = 8\nframes = 12\n"
    )
    work = tmp_path / "a"
    result = run_stgcn("run", "--config", str(toml), "--lr", "0.02", "--work-dir", str(work))
    assert result.returncode == 0, result.stderr
    config = json.loads((work / "config.json").read_text())
    assert (config["epochs"], config["batch_size"], config["lr"]) == (1, 4, 0.02)
    assert config["data_options"] == {"train_size": 8, "val_size": 8, "frames": 12}

    yaml_file = tmp_path / "run.yaml"
    yaml_file.write_text("epochs: 1\nbogus_key: 3\n")
    result = run_stgcn("run", "--config", str(yaml_file), "--work-dir", str(tmp_path / "b"))
    assert result.returncode == 1
    assert "unknown setting 'bogus_key'" in result.stderr

    yaml_file.write_text("epochs: 1\ninit: xavier\n")
    result = run_stgcn("run", "--config", str(yaml_file), "--work-dir", str(tmp_path / "c"))
    assert result.returncode == 1
    message = f"stgcn: error: {yaml_file}: init must be one of reference, pytorch, not 'xavier'"
    assert result.stderr.strip() == message


def test_eval_loader_pins_where_the_backend_asks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``stgcn eval``'s loader pins as the trainer's does (``backend.pin_memory``): on an
    accelerator evaluate()'s non_blocking copies from unpinned memory each synchronise."""
    from stgcn.backends.cpu import CPUBackend
    from stgcn.plugins.kinds import BACKENDS
    from stgcn.plugins.registry import get_registry
    from stgcn.training import evaluation
    from stgcn.training.config import RunConfig
    from stgcn.training.trainer import train

    class PinningBackend(CPUBackend):
        name = "pinning"
        pin_memory = True

    work = tmp_path / "run"
    config = RunConfig(
        backend="cpu",
        precision="fp32",
        epochs=1,
        batch_size=4,
        log_every=1000,
        data_options={"train_size": 8, "val_size": 4, "frames": 8},
        work_dir=str(work),
    )
    train(config)
    registry = get_registry()
    registry = registry.with_table(
        BACKENDS, {**registry.table(BACKENDS), "pinning": PinningBackend()}
    )
    monkeypatch.setattr(evaluation, "get_registry", lambda: registry)
    pinned, real = [], evaluation.DataLoader

    def loader(*args, pin_memory: bool = False, **kwargs):
        pinned.append(pin_memory)
        return real(*args, **kwargs)  # unpinned: this torch may have no accelerator

    monkeypatch.setattr(evaluation, "DataLoader", loader)
    best = str(work / "checkpoints" / "best.pth.tar")
    for name in ("pinning", "cpu"):
        request = evaluation.EvalRequest(best, backend_name=name)
        assert evaluation.evaluate_checkpoint(request).samples == 4
    assert pinned == [True, False]


def test_eval_refuses_files_that_are_not_checkpoints(tmp_path: Path) -> None:
    text = tmp_path / "notes.pth.tar"
    text.write_text("this is not a checkpoint")
    result = run_stgcn("eval", "--checkpoint", str(text))
    assert result.returncode == 1
    assert len(result.stderr.strip().splitlines()) == 1
    assert "is not a readable checkpoint" in result.stderr


def test_malicious_pickle_is_refused_without_running(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"

    class Payload:
        def __reduce__(self):
            import os

            return (os.system, (f"touch {marker}",))

    evil = tmp_path / "evil.pth.tar"
    torch.save({"model": Payload()}, evil)
    result = run_stgcn("eval", "--checkpoint", str(evil))
    assert result.returncode == 1
    assert len(result.stderr.strip().splitlines()) == 1
    assert not marker.exists()


def test_bench_reports_json(tmp_path: Path) -> None:
    result = run_stgcn(
        "bench",
        "--backend",
        "cpu",
        "--batch-size",
        "2",
        "--frames",
        "16",
        "--steps",
        "2",
        "--warmup",
        "1",
        "--precision",
        "fp32",
        "--json",
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["samples_per_s"] > 0
    assert report["samples_per_s"] == pytest.approx(2 / report["median_step_s"])
    assert (report["batch_size"], report["frames"], report["persons"]) == (2, 16, 2)


def test_unwritable_work_dir_is_one_line(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    result = run_stgcn("run", *TINY, "--epochs", "1", "--work-dir", str(blocker / "run"))
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and str(blocker) in lines[0], result.stderr
    assert blocker.read_text() == "not a folder"


PRESET_PLUGIN = """
import dataclasses
from stgcn.hookspecs import hookimpl
from stgcn.data.synthetic_plugin import SYNTHETIC

@hookimpl
def stgcn_register_datasets(register):
    register(dataclasses.replace(
        SYNTHETIC, name="presetdata", presets={"quick": {"epochs": 1, "lr": 0.05}}
    ))
"""


def test_preset_applies_over_the_recipe_and_under_the_command_line(site, tmp_path: Path) -> None:
    make_distribution(site, "fake-preset", "0.1", "fake_preset", PRESET_PLUGIN)
    work = tmp_path / "run"
    args = ["run", "--dataset", "presetdata", *TINY, "--work-dir", str(work), "--preset", "quick"]
    result = run_stgcn(*args, "--lr", "0.03", site=site)
    assert result.returncode == 0, result.stderr
    config = json.loads((work / "config.json").read_text())
    assert (config["epochs"], config["lr"]) == (1, 0.03)
    refused = run_stgcn(*args[:-1], "slow", site=site)
    assert refused.returncode == 1
    assert refused.stderr.strip() == (
        "stgcn: error: dataset 'presetdata' has no preset 'slow' (known: quick)"
    )


BROKEN_PLUGIN = """
import dataclasses
from stgcn.errors import StgcnError
from stgcn.hookspecs import hookimpl
from stgcn.data.synthetic_plugin import SYNTHETIC

class Broken:
    def __len__(self):
        return 16
    def __getitem__(self, index):
        raise StgcnError("data.npy: sample holds non-finite values")

@hookimpl
def stgcn_register_datasets(register):
    register(dataclasses.replace(SYNTHETIC, name="broken", build=lambda *args: Broken()))
"""


def test_an_error_in_a_dataloader_worker_is_one_line(site, tmp_path: Path) -> None:
    make_distribution(site, "fake-broken", "0.1", "fake_broken", BROKEN_PLUGIN)
    work = tmp_path / "run"
    result = run_stgcn(
        "run",
        "--dataset",
        "broken",
        "--workers",
        "1",
        "--batch-size",
        "4",
        "--work-dir",
        str(work),
        site=site,
    )
    assert result.returncode == 1
    # the progress bar may have started; the error is the last line, with no traceback
    assert result.stderr.strip().splitlines()[-1] == (
        "stgcn: error: data.npy: sample holds non-finite values"
    )
    assert "Traceback" not in result.stderr
    assert not (work / "checkpoints").exists()


def test_batch_augmentation_runs_on_accelerators_only() -> None:
    import types

    from stgcn.training.session import device_augmentation

    def augment(batch, options):
        return batch

    session = types.SimpleNamespace(dataset=types.SimpleNamespace(augment_batch=augment))
    assert device_augmentation(session, torch.device("cpu")) is None
    # a device object needs no hardware: this stands in for an accelerator's
    assert device_augmentation(session, torch.device("cuda", 0)) is augment


def test_label_smoothing_softens_the_training_loss() -> None:
    """training_step's loss is the smoothed cross-entropy of the model before the step."""
    import contextlib

    import torch.nn.functional as F

    class Plain:
        def autocast(self, precision: str):
            return contextlib.nullcontext()

    torch.manual_seed(0)
    model = torch.nn.Linear(5, 4)
    x, y = torch.randn(12, 5), torch.randint(0, 4, (12,))
    with torch.no_grad():
        smoothed = F.cross_entropy(model(x), y, label_smoothing=0.2)
        plain = F.cross_entropy(model(x), y)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    fp32 = Precision("fp32", lambda: Plain().autocast("fp32"))
    loss = training_step(model, x, y, optimizer, fp32, label_smoothing=0.2)
    assert float(loss) == pytest.approx(float(smoothed), rel=1e-6)
    assert float(smoothed) != pytest.approx(float(plain), rel=1e-3)


def test_label_smoothing_is_a_run_option(tmp_path: Path) -> None:
    refused = run_stgcn("run", "--label-smoothing", "1.5", "--work-dir", str(tmp_path / "no"))
    assert refused.returncode == 1
    assert refused.stderr.strip() == (
        "stgcn: error: options: label_smoothing must lie in [0, 1), got 1.5"
    )
    assert not (tmp_path / "no").exists()
    work = tmp_path / "run"
    done = run_stgcn(
        "run", "--label-smoothing", "0.1", "--epochs", "1", "--work-dir", str(work), *TINY
    )
    assert done.returncode == 0, done.stderr
    assert json.loads((work / "config.json").read_text())["label_smoothing"] == 0.1
