"""Bad annotation files and options: one line naming the problem, a non-zero exit, and
nothing written (no work dir, so no checkpoint)."""

from __future__ import annotations

import os
import pickle
import re
from pathlib import Path

import numpy as np
import pytest
from stgcn_data_pyskl.sample_files import make_annotations

from stgcn.cli import main


class _Touch:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def _break(how: str, tmp_path: Path) -> bytes:
    data = make_annotations(10, dims=2, joints=17, seed=3)
    first = data["annotations"][0]
    if how == "missing_split":
        data["split"] = {"xview_train": data["split"]["xsub_train"]}
    elif how == "score_shape":
        first["keypoint_score"] = first["keypoint_score"][:, :-1]
    elif how == "no_img_shape":
        del first["img_shape"]
    elif how == "missing_field":
        del first["label"]
    elif how == "nan":
        first["keypoint"][0, 0, 3, 1] = np.nan
    elif how == "empty_split":
        data["split"]["xsub_val"] = []
    elif how == "truncated":
        return pickle.dumps(data, protocol=4)[:-200]
    elif how == "not_a_pickle":
        return b"frame_dir,label\nclip0,1\n"
    elif how == "code":
        data["annotations"].append(_Touch(tmp_path / "ran"))
    elif how == "not_the_format":
        data = {"keypoints": []}
    return pickle.dumps(data, protocol=4)


@pytest.mark.parametrize(
    ("how", "message"),
    [
        ("missing_split", r"no split 'xsub_train' in the file \(it has: xview_train\)"),
        (
            "score_shape",
            r"annotation 0 \(clip000000\): keypoint_score has shape \(\d+, \d+, 17\) but keypoint",
        ),
        ("no_img_shape", r"annotation 0 \(clip000000\): 2D keypoints without img_shape"),
        ("missing_field", r"annotation 0 \(clip000000\): has no 'label'"),
        ("nan", r"annotation 0 \(clip000000\): keypoint holds NaN or infinite values"),
        ("empty_split", r"split 'xsub_val' is empty"),
        ("truncated", r"is not a readable annotation pickle"),
        ("not_a_pickle", r"is not a readable annotation pickle"),
        ("code", r"refused to load: it asks for (posix|os)\.system"),
        ("not_the_format", r"not a PYSKL annotation file: expected a dict with 'split'"),
    ],
)
def test_bad_files_are_one_line_and_write_nothing(capsys, tmp_path: Path, how: str, message: str):
    path = tmp_path / "bad.pkl"
    path.write_bytes(_break(how, tmp_path))
    work = tmp_path / "run"
    args = ["run", "--dataset", "pyskl", "--data-path", str(path), "--work-dir", str(work)]
    with pytest.raises(SystemExit) as exited:
        main([*args, "--data-option", "split=xsub", "--epochs", "1"])
    assert exited.value.code != 0
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("stgcn: error: "), err
    assert re.search(message, err), err
    assert not work.exists()
    assert not (tmp_path / "ran").exists(), "the pickle's code ran"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ([], "name the splits with --data-option split=NAME"),
        (["split=xsub", "clip_len=0"], "option clip_len must be at least 1"),
        (["split=xsub", "sampling=random"], "option sampling must be one of uniform, window"),
        (["split=xsub", "frames=3"], "unknown option 'frames'"),
        (["split=xsub", "layout=openpose"], "layout 'openpose' has 18 joints"),
    ],
)
def test_bad_options_are_one_line(capsys, tmp_path: Path, options: list[str], message: str):
    path = tmp_path / "a.pkl"
    path.write_bytes(pickle.dumps(make_annotations(10, seed=4), protocol=4))
    work = tmp_path / "run"
    pairs = [part for option in options for part in ("--data-option", option)]
    with pytest.raises(SystemExit) as exited:
        main(
            ["run", "--dataset", "pyskl", "--data-path", str(path), "--work-dir", str(work), *pairs]
        )
    assert exited.value.code != 0
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and message in err, err
    assert not work.exists()
