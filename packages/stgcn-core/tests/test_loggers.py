"""Training events reach the loggers (rank 0 only, in order), a failing logger never
stops a run, TensorBoard files read back, and logs written to files are plain lines."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from stgcn.testing.helpers import TINY, make_distribution, run_stgcn

RECORDER = """
import json
import os
from pathlib import Path

from stgcn.hookspecs import hookimpl
from stgcn.records import Logger

STGCN_API = ">=2,<3"
FAIL_IN = {fail_in!r}


class Recorder:
    def __init__(self, work_dir):
        self.path = Path(work_dir) / f"events-{{os.getpid()}}.jsonl"

    def _write(self, event, *values):
        if event == FAIL_IN:
            raise RuntimeError("tracker went away")
        with self.path.open("a") as stream:
            stream.write(json.dumps([event, *values], default=str) + "\\n")

    def run_started(self, config):
        self._write("run_started", config["epochs"])

    def step(self, step, scalars):
        self._write("step", step, sorted(scalars))

    def epoch_ended(self, epoch, metrics):
        self._write("epoch_ended", epoch, metrics["val_top1"])

    def checkpoint_saved(self, path, epoch, best):
        self._write("checkpoint_saved", Path(path).name, epoch, best)

    def run_ended(self, summary):
        self._write("run_ended", "error" in summary)


@hookimpl
def stgcn_register_loggers(register):
    register(Logger(name="recorder", create=lambda context: Recorder(context.work_dir)))
"""


def _recorder(site: Path, fail_in: str | None = None) -> None:
    make_distribution(
        site, "stgcn-recorder", "1.0", "fake_recorder", RECORDER.format(fail_in=fail_in)
    )


def _events(work: Path) -> list[list]:
    (path,) = work.glob("events-*.jsonl")
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.mark.parametrize("cards", [1, 2])
def test_events_arrive_in_order_on_rank_0_only(site, tmp_path: Path, cards: int) -> None:
    _recorder(site)
    work = tmp_path / "run"
    done = run_stgcn(
        "run",
        *TINY,
        "--epochs",
        "2",
        "--log-every",
        "2",
        "--cards",
        str(cards),
        "--work-dir",
        str(work),
        "--logger",
        "recorder",
        site=site,
    )
    assert done.returncode == 0, done.stderr
    events = _events(work)  # one file: one process recorded
    rows = [json.loads(line) for line in (work / "metrics.jsonl").read_text().splitlines()]
    steps_per_epoch = 32 // (8 * cards)
    names = [event[0] for event in events]
    assert names[0] == "run_started" and names[-1] == "run_ended" and events[-1][1] is False
    assert [e[1] for e in events if e[0] == "step"] == list(range(2, 2 * steps_per_epoch + 1, 2))
    assert [e[1:] for e in events if e[0] == "epoch_ended"] == [
        [r["epoch"], r["val_top1"]] for r in rows
    ]
    saved = [e[1:] for e in events if e[0] == "checkpoint_saved"]
    assert ["latest.pth.tar", 1, False] in saved and ["latest.pth.tar", 2, False] in saved
    assert ["best.pth.tar", 1, True] in saved
    first_step = names.index("step")
    assert names.index("run_started") < first_step < names.index("epoch_ended")


def test_a_failing_logger_is_reported_once_and_the_run_goes_on(site, tmp_path: Path) -> None:
    _recorder(site, fail_in="epoch_ended")
    work = tmp_path / "run"
    done = run_stgcn(
        "run",
        *TINY,
        "--epochs",
        "2",
        "--work-dir",
        str(work),
        "--logger",
        "recorder",
        site=site,
    )
    assert done.returncode == 0, done.stderr
    warnings = [line for line in done.stderr.splitlines() if "warning" in line]
    assert warnings == [
        "stgcn: warning: logger 'recorder' (plugin stgcn-recorder) failed in epoch_ended: "
        "RuntimeError: tracker went away; switched off for this run"
    ]
    assert len((work / "metrics.jsonl").read_text().splitlines()) == 2
    assert "epoch_ended" not in [e[0] for e in _events(work)]
    assert "run_ended" not in [e[0] for e in _events(work)]  # off after the failure


def test_an_unknown_logger_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    work = tmp_path / "run"
    done = run_stgcn("run", *TINY, "--work-dir", str(work), "--logger", "nosuch")
    assert done.returncode != 0
    assert done.stderr.strip().splitlines()[-1].startswith("stgcn: error: unknown logger 'nosuch'")
    assert not work.exists()


def test_tensorboard_missing_is_one_line_and_no_run(tmp_path: Path) -> None:
    """The tensorboard package hidden from the interpreter, as where it is not installed."""
    work = tmp_path / "run"
    code = (
        "import sys; sys.modules['tensorboard'] = None; from stgcn.cli import main; "
        f"main(['run', *{TINY!r}, '--work-dir', {str(work)!r}, '--logger', 'tensorboard'])"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode != 0
    assert done.stderr.strip() == (
        "stgcn: error: --logger tensorboard needs the tensorboard package: pip install tensorboard"
    )
    assert not (work / "metrics.jsonl").exists() and not (work / "config.json").exists()


def test_tensorboard_scalars_read_back_equal_the_metrics(tmp_path: Path) -> None:
    pytest.importorskip("tensorboard", reason="the tests-loggers session installs tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    work = tmp_path / "run"
    done = run_stgcn(
        "run",
        *TINY,
        "--epochs",
        "3",
        "--log-every",
        "1",
        "--work-dir",
        str(work),
        "--logger",
        "tensorboard",
    )
    assert done.returncode == 0, done.stderr
    events = EventAccumulator(str(work / "tensorboard"))
    events.Reload()
    rows = [json.loads(line) for line in (work / "metrics.jsonl").read_text().splitlines()]
    top1 = [(e.step, e.value) for e in events.Scalars("val/top1")]
    assert top1 == [(r["epoch"], pytest.approx(r["val_top1"])) for r in rows]
    loss = [(e.step, e.value) for e in events.Scalars("val/loss")]
    assert loss == [(r["epoch"], pytest.approx(r["val_loss"])) for r in rows]
    assert [e.step for e in events.Scalars("train/loss")] == list(range(1, 13))
    assert events.Tags()["tensors"] == ["config/text_summary"]
    (config,) = events.Tensors("config/text_summary")
    assert '"epochs": 3' in config.tensor_proto.string_val[0].decode()


def test_a_redirected_log_is_plain_lines(tmp_path: Path) -> None:
    done = run_stgcn("run", *TINY, "--epochs", "2", "--work-dir", str(tmp_path / "run"))
    assert done.returncode == 0, done.stderr
    assert "\r" not in done.stdout and "\r" not in done.stderr
    progress = [line for line in done.stderr.splitlines() if " steps (" in line]
    assert progress[0].startswith("epoch 1/2: 1/4 steps (25%)  loss ")
    assert len(progress) == 8  # 4 steps: every 10 % is every step
    assert [line.split()[1] for line in done.stdout.splitlines() if line.startswith("epoch")] == [
        "1/2",
        "2/2",
    ]


def test_quiet_prints_the_result_alone(tmp_path: Path) -> None:
    done = run_stgcn("--quiet", "run", *TINY, "--epochs", "2", "--work-dir", str(tmp_path / "r"))
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    (line,) = done.stdout.splitlines()
    assert line.startswith("done: best val top1 ")
