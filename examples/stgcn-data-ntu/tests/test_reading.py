"""The .skeleton reader, sample names, the two protocols, the ignore list, label files."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest
from stgcn_data_ntu import dataset as ntu_dataset
from stgcn_data_ntu.benchmarks import XSUB, XVIEW
from stgcn_data_ntu.label_file import read_label_file, write_label_file
from stgcn_data_ntu.sample_files import moving_skeleton, sample_name, skeleton_text
from stgcn_data_ntu.sample_name import parse_sample_name
from stgcn_data_ntu.skeleton_file import read_skeleton_file

from stgcn.errors import StgcnError
from stgcn.records import BuildRequest


def build(benchmark, split: str, data_path: Path, options: dict, training: bool | None = None):
    """The dataset's ``build``, asked as the trainer asks (training: the train split)."""
    training = split == "train" if training is None else training
    return ntu_dataset.build(benchmark, BuildRequest(split, data_path, options, training=training))


def test_reads_xyz_of_the_first_two_bodies_zero_padded(tmp_path: Path) -> None:
    clip = moving_skeleton(action=5, frames=7, bodies=3, rng=np.random.default_rng(0))
    path = tmp_path / "S001C001P001R001A005.skeleton"
    path.write_text(skeleton_text(clip))
    data = read_skeleton_file(path, max_frames=10)
    assert data.shape == (3, 10, 25, 2) and data.dtype == np.float32
    for frame in range(7):
        for body in range(2):
            np.testing.assert_allclose(data[:, frame, :, body], clip[frame][body].T, rtol=1e-5)
    assert not data[:, 7:].any(), "frames past the clip are zero"
    assert read_skeleton_file(path).shape == (3, 300, 25, 2)
    cut = read_skeleton_file(path, max_frames=4)
    np.testing.assert_array_equal(cut, data[:, :4])


def test_a_frame_without_bodies_stays_zero(tmp_path: Path) -> None:
    clip = moving_skeleton(action=1, frames=3, bodies=1, rng=np.random.default_rng(1))
    clip[1] = []
    path = tmp_path / "x.skeleton"
    path.write_text(skeleton_text(clip))
    data = read_skeleton_file(path, max_frames=3)
    assert data[:, 0].any() and not data[:, 1].any() and data[:, 2].any()


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda lines: lines[:-3], r"x.skeleton:\d+: file ends where frame 1 joint 22"),
        (lambda lines: [*lines[:3], "24", *lines[4:]], r"x.skeleton:4: .*has 24 joints"),
        (lambda lines: [*lines[:4], "1 2 x", *lines[5:]], r"x.skeleton:5: frame 0 joint 0: exp"),
        (lambda lines: ["two", *lines[1:]], r"x.skeleton:1: frame count: not numbers"),
    ],
)
def test_broken_files_are_one_line_errors_naming_the_line(tmp_path: Path, edit, message) -> None:
    clip = moving_skeleton(action=1, frames=2, bodies=1, rng=np.random.default_rng(2))
    path = tmp_path / "x.skeleton"
    path.write_text("\n".join(edit(skeleton_text(clip).splitlines())) + "\n")
    with pytest.raises(StgcnError, match=message) as caught:
        read_skeleton_file(path)
    assert "\n" not in str(caught.value)


def test_sample_names() -> None:
    sample = parse_sample_name("S017C003P020R002A060.skeleton", 60)
    assert (sample.setup, sample.camera, sample.performer, sample.replication) == (17, 3, 20, 2)
    assert (sample.action, sample.label) == (60, 59)
    assert sample_name(17, 3, 20, 2, 60) == sample.name
    with pytest.raises(StgcnError, match=r"action 61 outside 1\.\.60"):
        parse_sample_name("S001C001P001R001A061", 60)
    with pytest.raises(StgcnError, match="not an NTU sample name"):
        parse_sample_name("S1C1P1R1A1.skeleton", 60)


@pytest.mark.parametrize("performer", range(1, 41))
def test_cross_subject_training_performers(performer: int) -> None:
    training = {1, 2, 4, 5, 8, 9, 13, 14, 15, 16, 17, 18, 19, 25, 27, 28, 31, 34, 35, 38}
    sample = parse_sample_name(sample_name(1, 1, performer, 1, 1), 60)
    assert XSUB.split_of(sample) == ("train" if performer in training else "val")


def test_cross_view_trains_on_cameras_2_and_3() -> None:
    splits = [XVIEW.split_of(parse_sample_name(sample_name(1, c, 1, 1, 1), 60)) for c in (1, 2, 3)]
    assert splits == ["val", "train", "train"]


def test_splits_of_a_raw_folder_and_the_ignore_list(raw: Path, tmp_path: Path) -> None:
    train = build(XSUB, "train", raw, {"max_frames": "8"})
    val = build(XSUB, "val", raw, {"max_frames": "8"})
    assert [p.name[8:12] for p in train.files] == ["P001"] * 6
    assert [p.name[8:12] for p in val.files] == ["P003"] * 6
    assert [int(p.name[17:20]) - 1 for p in train.files] == train.labels
    ignore = tmp_path / "missing.txt"
    ignore.write_text(
        "# missing skeletons\nS001C001P001R001A001\n\nS001C002P001R001A002.skeleton\n"
    )
    kept = build(XSUB, "train", raw, {"ignore": str(ignore)})
    assert len(kept) == 4
    assert "S001C001P001R001A001.skeleton" not in {p.name for p in kept.files}
    xview = build(XVIEW, "val", raw, {})
    assert {p.name[4:8] for p in xview.files} == {"C001"}


def test_option_and_path_mistakes_are_one_line(raw: Path) -> None:
    with pytest.raises(StgcnError, match="unknown data option 'frames'"):
        build(XSUB, "train", raw, {"frames": "3"})
    with pytest.raises(StgcnError, match="max_frames must be a positive integer"):
        build(XSUB, "train", raw, {"max_frames": "0"})
    with pytest.raises(StgcnError, match=r"ignore list .* not found"):
        build(XSUB, "train", raw, {"ignore": str(raw / "nope.txt")})
    with pytest.raises(StgcnError, match=r"no \.skeleton files and no converted arrays"):
        build(XSUB, "train", raw.parent, {})


def test_label_files_are_read_without_running_code(tmp_path: Path) -> None:
    good = tmp_path / "good.pkl"
    write_label_file(good, ["S001C001P001R001A001"], [0])
    assert read_label_file(good, 60) == (["S001C001P001R001A001"], [0])

    class Payload:
        def __reduce__(self):
            return (Path.touch, (tmp_path / "ran",))

    evil = tmp_path / "evil.pkl"
    evil.write_bytes(pickle.dumps((["a"], [Payload()])))
    with pytest.raises(StgcnError, match="refused to load pathlib"):
        read_label_file(evil, 60)
    assert not (tmp_path / "ran").exists()
    write_label_file(good, ["a"], [60])
    with pytest.raises(StgcnError, match="label 60, outside"):
        read_label_file(good, 60)
