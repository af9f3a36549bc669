"""``stgcn`` with the kinetics plugin installed: a converted tree trains, and every bad input
ends in one error line naming the file, a non-zero exit and no checkpoint."""

from __future__ import annotations

import json
import os
import pickle
import re
from pathlib import Path

import numpy as np
import pytest
import torch
from kinetics_helpers import FAST, assert_one_line_error, no_checkpoint, stgcn_in_process
from stgcn_data_kinetics.sample_trees import make_release_tree
from test_dataset import BAD_CONVERTED, _spoil

from stgcn.testing.helpers import run_stgcn


def test_a_converted_release_trains_for_an_epoch_with_the_reference_preset(
    tmp_path: Path,
) -> None:
    raw = make_release_tree(tmp_path / "raw", train=4, val=2, frames=16, seed=11)
    out, work = tmp_path / "out", tmp_path / "run"
    converted = run_stgcn(
        "data",
        "convert",
        "kinetics",
        "--input",
        str(raw),
        "--output",
        str(out),
        "--max-frame",
        "16",
    )
    assert converted.returncode == 0, converted.stderr
    result = run_stgcn(
        "run",
        "--dataset",
        "kinetics",
        "--data-path",
        str(out),
        "--preset",
        "reference",
        "--work-dir",
        str(work),
        *FAST,
    )
    assert result.returncode == 0, result.stderr
    config = json.loads((work / "config.json").read_text())
    assert config["dataset"] == "kinetics" and config["data_path"] == str(out)
    assert (config["lr"], config["steps"], config["weight_decay"]) == (0.1, [20, 30, 40, 50], 1e-4)
    assert config["nesterov"] is True and config["epochs"] == 1 and config["batch_size"] == 4
    metrics = [json.loads(line) for line in (work / "metrics.jsonl").read_text().splitlines()]
    assert [line["epoch"] for line in metrics] == [1]
    checkpoint = torch.load(work / "checkpoints" / "latest.pth.tar", weights_only=True)
    assert checkpoint["dataset"] == "kinetics" and len(checkpoint["class_names"]) == 400
    assert checkpoint["model"]["fcn.weight"].shape == (400, 256, 1, 1)


def _run_on(
    capsys: pytest.CaptureFixture[str], data_path: Path, work: Path, *more: str
) -> tuple[int, str, str]:
    """``stgcn run --dataset kinetics`` on ``data_path`` into ``work``, in this process."""
    return stgcn_in_process(
        capsys,
        "run",
        "--dataset",
        "kinetics",
        "--data-path",
        str(data_path),
        "--work-dir",
        str(work),
        *more,
    )


def test_unknown_preset_is_refused(capsys, converted: Path, tmp_path: Path) -> None:
    code, _, err = _run_on(capsys, converted, tmp_path / "run", "--preset", "fastest")
    assert_one_line_error(code, err, "has no preset 'fastest' (known: reference)")


@pytest.mark.parametrize(("how", "message"), BAD_CONVERTED)
def test_bad_files_end_in_one_line_and_no_checkpoint(
    capsys, converted: Path, tmp_path: Path, how: str, message: str
) -> None:
    _spoil(converted, how)
    work = tmp_path / "run"
    code, _, err = _run_on(capsys, converted, work, *FAST)
    assert_one_line_error(code, err, message)
    assert no_checkpoint(work)


def test_a_malicious_label_pickle_is_refused_and_never_runs(
    capsys, converted: Path, tmp_path: Path
) -> None:
    marker = tmp_path / "pwned"

    class Payload:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    (converted / "train_label.pkl").write_bytes(pickle.dumps((["a"] * 6, [Payload()] * 6)))
    work = tmp_path / "run"
    code, _, err = _run_on(capsys, converted, work, *FAST)
    assert_one_line_error(code, err, "train_label.pkl: refused to load: it asks for posix.system")
    assert not marker.exists() and no_checkpoint(work)


@pytest.mark.parametrize(
    ("option", "message"),
    [
        ("colour=blue", "unknown option 'colour'"),
        ("random_choose=often", "random_choose: expected true or false"),
    ],
)
def test_bad_data_options_end_in_one_line(
    capsys, converted: Path, tmp_path: Path, option: str, message: str
) -> None:
    work = tmp_path / "run"
    code, _, err = _run_on(capsys, converted, work, "--data-option", option)
    assert_one_line_error(code, err, message)
    assert no_checkpoint(work)


def test_a_missing_data_path_is_refused(capsys, tmp_path: Path) -> None:
    code, _, err = stgcn_in_process(capsys, "run", "--dataset", "kinetics")
    assert_one_line_error(code, err, "dataset 'kinetics' needs --data-path")
    empty = tmp_path / "empty"
    empty.mkdir()
    code, _, err = _run_on(capsys, empty, tmp_path / "run")
    assert_one_line_error(code, err, f"{empty / 'train_data.npy'} not found")


def test_non_finite_training_data_stops_the_run_before_any_checkpoint(
    capsys, converted: Path, tmp_path: Path
) -> None:
    data = np.load(converted / "train_data.npy")
    data[:, 1, 4, 0, 0] = np.nan  # in every clip, so that the first one read fails
    np.save(converted / "train_data.npy", data)
    work = tmp_path / "run"
    code, _, err = _run_on(capsys, converted, work, *FAST)
    line = assert_one_line_error(code, err)
    assert re.fullmatch(
        rf"stgcn: error: {re.escape(str(converted))}/train_data\.npy: sample [0-5] holds "
        "non-finite values",
        line,
    ), line
    assert no_checkpoint(work)
