"""The release converter: exact values, the reference's file layout, refusals that leave
nothing behind, and interruptions that never leave output that looks complete."""

from __future__ import annotations

import json
import os
import pickle
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from kinetics_helpers import reference_conversion, stgcn_in_process
from stgcn_data_kinetics.clip import ClipShape
from stgcn_data_kinetics.convert import convert_release, output_names
from stgcn_data_kinetics.sample_trees import (
    ReleaseClip,
    clip_document,
    make_release_tree,
    skeleton,
    write_release_tree,
)

from stgcn.errors import StgcnError
from stgcn.system.cores import available_cores
from stgcn.testing.helpers import run_stgcn


def flat(value: float, score: float) -> dict:
    """A person whose every joint sits at (value, value + 0.25) with the same score."""
    return skeleton([value, value + 0.25] * 18, [score] * 18)


def f32(values: list) -> np.ndarray:
    """Numbers worked out in float64, rounded to float32 as the converter writes them."""
    return np.asarray(values, dtype=np.float64).astype(np.float32)


def hand_made_tree(root: Path) -> Path:
    """Clips whose converted values are worked out in the test below."""
    scores = [0.2, 0.9, 0.5, 0.1, 0.6, 1.0, 0.95]  # 7 people; the last two are beyond 5
    crowded = [flat(0.05 * (p + 1), score) for p, score in enumerate(scores)]
    missed = [0.7] * 18
    missed[0] = 0.0
    train = {
        # frame 0: seven people; frame 1: a gap; frame 2: one person, joint 0 missed
        "aaa": ReleaseClip(clip_document({0: crowded, 2: [skeleton([0.8] * 36, missed)]}, 5), 5),
        # a short clip: one frame of four
        "bbb": ReleaseClip(clip_document({0: [flat(0.5, 0.3)]}, 7), 7),
        # no skeletons: left out
        "ccc": ReleaseClip(clip_document({}, 9), 9, has_skeleton=False),
    }
    val = {
        "ddd": ReleaseClip(clip_document({3: [flat(0.25, 0.4), flat(0.75, 0.8)]}, 399), 399),
        "eee": ReleaseClip(clip_document({}, 1), 1, has_skeleton=False),
    }
    return write_release_tree(root, {"train": train, "val": val})


def test_the_command_converts_a_hand_made_tree(tmp_path: Path) -> None:
    raw, out = hand_made_tree(tmp_path / "raw"), tmp_path / "out"
    result = run_stgcn(
        "data", "convert", "kinetics", "--input", str(raw), "--output", str(out), "--max-frame", "4"
    )
    assert result.returncode == 0, result.stderr
    assert "train: 2 clips (1 without skeletons left out)" in result.stdout
    assert "kinetics train" in result.stderr and "100%" in result.stderr, "no progress bar"
    assert sorted(p.name for p in out.iterdir()) == sorted(output_names())

    train = np.load(out / "train_data.npy")
    assert train.shape == (2, 3, 4, 18, 2) and train.dtype == np.float32
    # aaa, frame 0: of the first five people (scores .2 .9 .5 .1 .6) the .9 and .6 ones,
    # standing at x = .10 and x = .25
    np.testing.assert_array_equal(train[0, :, 0, :, 0].T, f32([[0.10 - 0.5, 0.35 - 0.5, 0.9]] * 18))
    np.testing.assert_array_equal(train[0, :, 0, :, 1].T, f32([[0.25 - 0.5, 0.5 - 0.5, 0.6]] * 18))
    assert not train[0, :, 1].any() and not train[0, :, 3].any()
    # aaa, frame 2: joint 0 missed (score 0) is zero, the others sit at .8 - .5
    assert not train[0, :, 2, 0, 0].any()
    np.testing.assert_array_equal(train[0, :, 2, 1:, 0].T, f32([[0.8 - 0.5, 0.8 - 0.5, 0.7]] * 17))
    assert not train[0, :, 2, :, 1].any()
    # bbb: one person in frame 0, nothing after
    np.testing.assert_array_equal(train[1, :, 0, :, 0].T, f32([[0.0, 0.25, 0.3]] * 18))
    assert not train[1, :, 1:].any() and not train[1, :, :, :, 1].any()

    val = np.load(out / "val_data.npy")
    assert val.shape == (1, 3, 4, 18, 2)
    # ddd, frame 3: the second detection (score .8) comes first
    np.testing.assert_array_equal(val[0, :, 3, :, 0].T, f32([[0.25, 0.5, 0.8]] * 18))
    np.testing.assert_array_equal(val[0, :, 3, :, 1].T, f32([[-0.25, 0.0, 0.4]] * 18))
    assert not val[0, :, :3].any()

    with (out / "train_label.pkl").open("rb") as stream:
        assert pickle.load(stream) == (["aaa.json", "bbb.json"], [5, 7])
    with (out / "val_label.pkl").open("rb") as stream:
        assert pickle.load(stream) == (["ddd.json"], [399])


def test_random_tree_matches_the_reference_steps(tmp_path: Path) -> None:
    raw = make_release_tree(tmp_path / "raw", train=10, val=5, frames=24, seed=3)
    result = convert_release(raw, tmp_path / "out", ClipShape(16, 5, 2), workers=2, progress=False)
    assert result.clips == {"train": 10, "val": 5} and result.workers == 2
    assert result.without_skeleton == {"train": 1, "val": 1}
    for split in ("train", "val"):
        labels = json.loads((raw / f"kinetics_{split}_label.json").read_text())
        with (tmp_path / "out" / f"{split}_label.pkl").open("rb") as stream:
            names, written = pickle.load(stream)
        kept = sorted(f"{k}.json" for k, entry in labels.items() if entry["has_skeleton"])
        assert names == kept
        assert written == [labels[name[:-5]]["label_index"] for name in names]
        data = np.load(tmp_path / "out" / f"{split}_data.npy", mmap_mode="r")
        assert data.shape == (len(names), 3, 16, 18, 2) and data.dtype == np.float32
        for row, name in enumerate(names):
            document = json.loads((raw / f"kinetics_{split}" / name).read_text())
            np.testing.assert_array_equal(data[row], reference_conversion(document, 16, 5, 2))


def test_defaults_are_the_reference_shape_on_every_core(tmp_path: Path) -> None:
    raw = make_release_tree(tmp_path / "raw", train=8, val=1, frames=8, seed=4)
    result = convert_release(raw, tmp_path / "out", progress=False)
    assert np.load(tmp_path / "out" / "train_data.npy").shape == (8, 3, 300, 18, 2)
    assert result.workers == min(available_cores(), 9)  # one per core, no more than clips
    if hasattr(os, "sched_getaffinity"):
        assert available_cores() == len(os.sched_getaffinity(0))


def test_options_change_frames_and_persons(tmp_path: Path) -> None:
    raw = make_release_tree(tmp_path / "raw", train=3, val=2, frames=10, seed=5)
    convert_release(raw, tmp_path / "out", ClipShape(6, 3, 3), progress=False)
    data = np.load(tmp_path / "out" / "val_data.npy")
    assert data.shape == (2, 3, 6, 18, 3)
    documents = sorted((raw / "kinetics_val").iterdir())
    expected = reference_conversion(json.loads(documents[0].read_text()), 6, 3, 3)
    np.testing.assert_array_equal(data[0], expected)


def _break(root: Path, how: str) -> None:
    """Spoil one part of a release tree."""
    val_labels = root / "kinetics_val_label.json"
    first_val = sorted((root / "kinetics_val").iterdir())[0]
    if how == "no val folder":
        for clip in (root / "kinetics_val").iterdir():
            clip.unlink()
        (root / "kinetics_val").rmdir()
    elif how == "no label file":
        val_labels.unlink()
    elif how == "label file not JSON":
        val_labels.write_text("{oops")
    elif how == "clip without entry":
        (root / "kinetics_val" / "stray.json").write_text(json.dumps(clip_document({}, 0)))
    elif how == "label out of range":
        entries = json.loads(val_labels.read_text())
        entries[first_val.stem]["label_index"] = 400
        val_labels.write_text(json.dumps(entries))
    elif how == "labels disagree":
        document = json.loads(first_val.read_text())
        document["label_index"] = (document["label_index"] + 1) % 400
        first_val.write_text(json.dumps(document))
    elif how == "bad pose":
        document = clip_document({0: [skeleton([0.1] * 30, [1.0] * 18)]}, 0)
        first_val.write_text(json.dumps({**document, "label_index": None}))
    elif how == "no skeletons in val":
        entries = json.loads(val_labels.read_text())
        for entry in entries.values():
            entry["has_skeleton"] = False
        val_labels.write_text(json.dumps(entries))


@pytest.mark.parametrize(
    ("how", "message"),
    [
        ("no val folder", "kinetics_val not found"),
        ("no label file", "kinetics_val_label.json not found"),
        ("label file not JSON", "kinetics_val_label.json is not valid JSON"),
        ("clip without entry", "has no entry for clip 'stray'"),
        ("label out of range", "label_index 400, outside [0, 400)"),
        ("labels disagree", "differs from"),
        ("bad pose", "30 pose values where 36 belong"),
        ("no skeletons in val", "the val split has no clip with skeletons"),
    ],
)
def test_bad_trees_are_refused_and_leave_nothing(tmp_path: Path, how: str, message: str) -> None:
    raw = make_release_tree(tmp_path / "raw", train=4, val=3, frames=8, seed=6)
    _break(raw, how)
    out = tmp_path / "out"
    with pytest.raises(StgcnError) as caught:
        convert_release(raw, out, ClipShape(8), workers=2, progress=False)
    assert message in str(caught.value) and "\n" not in str(caught.value)
    assert not out.exists() or not any(out.iterdir()), list(out.iterdir())


@pytest.mark.parametrize(
    ("shape", "message"),
    [
        (ClipShape(0, 5, 2), "max_frame must be at least 1"),
        (ClipShape(300, 1, 2), "num_person_in (1) must be at least num_person_out (2)"),
        (ClipShape(300, 5, 0), "num_person_out must be at least 1"),
    ],
)
def test_bad_settings_are_refused(tmp_path: Path, shape: ClipShape, message: str) -> None:
    with pytest.raises(StgcnError, match=message.replace("(", r"\(").replace(")", r"\)")):
        convert_release(tmp_path, tmp_path / "out", shape)


def test_the_command_refuses_a_missing_tree_in_one_line(capsys, tmp_path: Path) -> None:
    code, _, err = stgcn_in_process(
        capsys,
        "data",
        "convert",
        "kinetics",
        "--input",
        str(tmp_path / "nope"),
        "--output",
        str(tmp_path / "out"),
    )
    assert code == 1 and err.splitlines() == [
        f"stgcn: error: {tmp_path / 'nope'} not found (expected a Kinetics-skeleton release tree)"
    ]
    assert not (tmp_path / "out").exists()


def test_the_command_refuses_bad_numbers(capsys, release: Path, tmp_path: Path) -> None:
    code, _, err = stgcn_in_process(
        capsys,
        "data",
        "convert",
        "kinetics",
        "--input",
        str(release),
        "--output",
        str(tmp_path / "out"),
        "--num-person-out",
        "6",
    )
    assert code == 1 and err.splitlines() == [
        "stgcn: error: kinetics convert: num_person_in (5) must be at least num_person_out (6)"
    ]


def test_existing_output_is_kept_unless_overwrite(tmp_path: Path) -> None:
    raw = make_release_tree(tmp_path / "raw", train=3, val=2, frames=6, seed=7)
    out = tmp_path / "out"
    convert_release(raw, out, ClipShape(6), workers=1, progress=False)
    before = {name: (out / name).read_bytes() for name in output_names()}
    other = make_release_tree(tmp_path / "other", train=4, val=2, frames=6, seed=8)
    with pytest.raises(StgcnError, match=r"train_data\.npy already exists; pass --overwrite"):
        convert_release(other, out, ClipShape(6), workers=1, progress=False)
    assert {name: (out / name).read_bytes() for name in output_names()} == before
    convert_release(other, out, ClipShape(6), workers=1, overwrite=True, progress=False)
    assert np.load(out / "train_data.npy").shape[0] == 4
    assert sorted(p.name for p in out.iterdir()) == sorted(output_names())


def _sigint_as_in_a_terminal() -> None:
    """Give the command Ctrl-C's default action, as a terminal's foreground job has it: a
    test run started in the background by a non-interactive shell inherits SIGINT ignored,
    and Python then never raises KeyboardInterrupt."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _start_blocked_conversion(tmp_path: Path) -> tuple[subprocess.Popen, Path, Path]:
    """A conversion whose last val clip is a named pipe nobody writes: the worker reading
    it waits forever, after the whole train split is done."""
    raw = make_release_tree(tmp_path / "raw", train=6, val=3, frames=8, seed=9)
    entries = json.loads((raw / "kinetics_val_label.json").read_text())
    entries["zzz"] = {"has_skeleton": True, "label": "yoga", "label_index": 397}
    (raw / "kinetics_val_label.json").write_text(json.dumps(entries))
    os.mkfifo(raw / "kinetics_val" / "zzz.json")
    out, log = tmp_path / "out", tmp_path / "stderr.txt"
    with log.open("w") as stderr:
        process = subprocess.Popen(
            [
                *(sys.executable, "-m", "stgcn", "data", "convert", "kinetics"),
                *("--input", str(raw), "--output", str(out), "--max-frame", "8", "--workers", "2"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            start_new_session=True,
            preexec_fn=_sigint_as_in_a_terminal,
        )
    deadline = time.monotonic() + 120
    while "kinetics val" not in log.read_text():
        assert process.poll() is None, log.read_text()
        assert time.monotonic() < deadline, "the conversion never reached the val split"
        time.sleep(0.2)
    time.sleep(1.0)  # the val clips before the pipe are written by now, the pipe blocks
    assert process.poll() is None
    return process, out, log


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_a_killed_conversion_leaves_no_output_that_looks_complete(tmp_path: Path) -> None:
    process, out, _ = _start_blocked_conversion(tmp_path)
    assert (out / "train_data.npy.incomplete").exists()
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=60)
    names = {p.name for p in out.iterdir()}
    assert not names & set(output_names()), names
    # the next conversion starts over and finishes cleanly
    (tmp_path / "raw" / "kinetics_val" / "zzz.json").unlink()
    (tmp_path / "raw" / "kinetics_val" / "zzz.json").write_text(
        json.dumps(clip_document({0: [flat(0.5, 1.0)]}, 397))
    )
    convert_release(tmp_path / "raw", out, ClipShape(8), workers=2, progress=False)
    assert sorted(p.name for p in out.iterdir()) == sorted(output_names())


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_an_interrupted_conversion_removes_its_temporary_files(tmp_path: Path) -> None:
    process, out, log = _start_blocked_conversion(tmp_path)
    os.killpg(process.pid, signal.SIGINT)  # Ctrl-C in a terminal reaches the whole group
    assert process.wait(timeout=60) == 130
    assert list(out.iterdir()) == []
    lines = log.read_text().strip().splitlines()
    assert lines[-1] == "stgcn: error: aborted", lines
    assert "Traceback" not in log.read_text()
