"""Test helpers: the real command in this process (the subprocess one is
stgcn.testing.helpers.run_stgcn) and the reference conversion written the plain way,
frame by frame, as an independent check of the converter."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from stgcn import cli

#: Options that make a training run on a small tree take seconds.
FAST = ["--epochs", "1", "--batch-size", "4", "--data-option", "window=8"]


def stgcn_in_process(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """``stgcn ARGS`` through the command's own entry function; (exit code, stdout, stderr)."""
    capsys.readouterr()
    code = 0
    try:
        cli.main(list(args))
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else 1
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def assert_one_line_error(code: int, stderr: str, *fragments: str) -> str:
    """A non-zero exit and one ``stgcn: error: ...`` line naming ``fragments``, last on
    stderr and without a traceback (the trainer's progress bar may precede it)."""
    assert code != 0
    lines = [line.strip() for line in stderr.replace("\r", "\n").splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("stgcn: error: ")]
    assert len(errors) == 1 and lines[-1] == errors[0], stderr
    for fragment in fragments:
        assert fragment in errors[0], errors[0]
    assert "Traceback" not in stderr
    return errors[0]


def no_checkpoint(work_dir: Path) -> bool:
    return not (work_dir / "checkpoints").exists() or not any((work_dir / "checkpoints").iterdir())


def reference_conversion(
    document: dict, max_frame: int = 300, num_person_in: int = 5, num_person_out: int = 2
) -> np.ndarray:
    """The reference's steps one at a time: fill, centre, zero undetected, sort, keep."""
    data = np.zeros((3, max_frame, 18, num_person_in))
    for frame in document["data"]:
        t = frame["frame_index"]
        if t >= max_frame:
            continue
        for m, person in enumerate(frame["skeleton"]):
            if m >= num_person_in:
                break
            data[0, t, :, m] = person["pose"][0::2]
            data[1, t, :, m] = person["pose"][1::2]
            data[2, t, :, m] = person["score"]
    data[0:2] = data[0:2] - 0.5
    data[0][data[2] == 0] = 0
    data[1][data[2] == 0] = 0
    result = np.zeros_like(data)
    for t in range(max_frame):
        totals = [data[2, t, :, m].sum() for m in range(num_person_in)]
        order = sorted(range(num_person_in), key=lambda m: -totals[m])  # stable
        for slot, m in enumerate(order):
            result[:, t, :, slot] = data[:, t, :, m]
    return result[..., :num_person_out].astype(np.float32)
