"""The kinetics dataset: converted arrays and release trees, options, checks, read_sample."""

from __future__ import annotations

import json
import pickle
import re
from pathlib import Path

import numpy as np
import pytest
import torch
from stgcn_data_kinetics.classes import CLASS_NAMES
from stgcn_data_kinetics.clip import ClipShape
from stgcn_data_kinetics.convert import convert_release
from stgcn_data_kinetics.dataset import build, read_sample
from stgcn_data_kinetics.label_file import write_label_file
from stgcn_data_kinetics.sample_trees import clip_document, skeleton

from stgcn.errors import StgcnError
from stgcn.plugins.registry import get_registry
from stgcn.records import DATASETS

FIXED = {"random_choose": "false", "random_move": "false"}


def _resident_bytes() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


def test_registered_record() -> None:
    record = get_registry().get(DATASETS, "kinetics")
    assert (record.num_class, record.layout, record.strategy) == (400, "openpose", "spatial")
    assert (record.in_channels, record.num_person, record.needs_data_path) == (3, 2, True)
    assert list(record.class_names) == list(CLASS_NAMES)
    assert record.class_names[0] == "abseiling" and record.class_names[399] == "zumba"
    assert record.class_names[59] == "clean and jerk"
    assert len(set(record.class_names)) == 400
    reference = record.presets["reference"]
    assert reference["batch_size"] == 256 and reference["lr"] == 0.1
    assert reference["steps"] == [20, 30, 40, 50] and reference["epochs"] == 50
    assert reference["nesterov"] is True and reference["weight_decay"] == 1e-4
    assert record.recipe == reference
    assert record.read_sample is not None


def test_converted_splits_read_the_arrays(converted: Path) -> None:
    stored = np.load(converted / "val_data.npy")
    with (converted / "val_label.pkl").open("rb") as stream:
        names, labels = pickle.load(stream)
    val = build("val", converted, {"window": "8"})
    assert len(val) == 3 and val.sample_names == names and val.class_names == CLASS_NAMES
    for index in range(3):
        x, y = val[index]
        assert x.dtype == torch.float32 and x.shape == (3, 12, 18, 2)
        np.testing.assert_array_equal(x.numpy(), stored[index])  # evaluation: whole clips
        assert y == labels[index]
    train = build("train", converted, {"window": "8"})
    x, _ = train[0]
    assert x.shape == (3, 8, 18, 2), "training takes a window"


def test_arrays_are_memory_mapped_and_never_read_whole(tmp_path: Path) -> None:
    count = 16000  # 2 GB of clips in a sparse file: reading it whole would show in memory
    np.lib.format.open_memmap(
        tmp_path / "train_data.npy", mode="w+", dtype=np.float32, shape=(count, 3, 300, 18, 2)
    )
    write_label_file(tmp_path / "train_label.pkl", [f"{i}.json" for i in range(count)], [1] * count)
    before = _resident_bytes()
    clips = build("train", tmp_path, {})
    assert isinstance(clips.source.array, np.memmap)
    x, y = clips[count - 1]
    assert x.shape == (3, 150, 18, 2) and y == 1
    assert _resident_bytes() - before < 300 * 2**20


def test_a_pickled_split_maps_the_file_again(converted: Path) -> None:
    clips = build("val", converted, {})
    payload = pickle.dumps(clips)
    assert np.load(converted / "val_data.npy")[1].tobytes() not in payload, "clips were copied"
    copy = pickle.loads(payload)
    assert isinstance(copy.source.array, np.memmap)
    assert all(torch.equal(copy[i][0], clips[i][0]) for i in range(len(clips)))


def test_the_training_split_built_for_evaluation_is_read_whole(converted: Path) -> None:
    stored = np.load(converted / "train_data.npy")
    evaluated = build("train", converted, {"window": "8"}, training=False)
    assert get_registry().get(DATASETS, "kinetics").build_training
    for index in range(len(evaluated)):
        np.testing.assert_array_equal(evaluated[index][0].numpy(), stored[index])


def test_read_named_clip_takes_a_clip_of_a_converted_split_by_its_id(converted: Path) -> None:
    from stgcn_data_kinetics.dataset import read_named_clip

    with (converted / "val_label.pkl").open("rb") as stream:
        names, _ = pickle.load(stream)
    val = build("val", converted, {})
    sample = read_named_clip(converted / "val_data.npy", names[2], {})
    np.testing.assert_array_equal(sample, val[2][0].numpy())
    with pytest.raises(StgcnError, match="has no clip 'nosuch'"):
        read_named_clip(converted / "val_data.npy", "nosuch", {})
    with pytest.raises(StgcnError, match=r"train_data\.npy or val_data\.npy"):
        read_named_clip(converted / "val_label.pkl", names[2], {})


def test_items_are_reproducible_from_torch_seed(converted: Path) -> None:
    train = build("train", converted, {"window": "6", "random_shift": "true"})
    torch.manual_seed(3)
    first = [train[i][0] for i in range(4)]
    torch.manual_seed(3)
    again = [train[i][0] for i in range(4)]
    torch.manual_seed(4)
    other = [train[i][0] for i in range(4)]
    assert all(torch.equal(a, b) for a, b in zip(first, again, strict=True))
    assert not all(torch.equal(a, b) for a, b in zip(first, other, strict=True))


def test_augmentations_can_be_switched_off(converted: Path) -> None:
    stored = np.load(converted / "train_data.npy")
    plain = build("train", converted, {**FIXED, "window": "12"})
    np.testing.assert_array_equal(plain[2][0].numpy(), stored[2])
    # without random_choose a clip is padded (at its end) to the window, never cut
    assert build("train", converted, {**FIXED, "window": "5"})[2][0].shape == (3, 12, 18, 2)
    padded = build("train", converted, {**FIXED, "window": "20"})
    x = padded[2][0].numpy()
    assert x.shape == (3, 20, 18, 2) and not x[:, 12:].any()
    np.testing.assert_array_equal(x[:, :12], stored[2])
    moved = build("train", converted, {"random_choose": "no", "random_move": "yes", "window": "1"})
    x = moved[2][0].numpy()
    np.testing.assert_array_equal(x[2], stored[2, 2])  # scores stay
    assert not np.array_equal(x[:2], stored[2, :2])


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"windw": "8"}, "unknown option 'windw'; known: window, random_choose"),
        ({"window": "0"}, "option window must be at least 1, got 0"),
        ({"window": "wide"}, "option window expects a whole number, got 'wide'"),
        ({"random_move": "maybe"}, "option random_move: expected true or false, got 'maybe'"),
        ({"max_frame": "100"}, "option max_frame applies to release trees only"),
    ],
)
def test_bad_options_are_refused(converted: Path, options: dict, message: str) -> None:
    with pytest.raises(StgcnError, match=re.escape(message)):
        build("train", converted, options)


def test_options_from_a_config_file_may_be_typed(converted: Path) -> None:
    clips = build("train", converted, {"window": 5, "random_move": False})
    assert clips[0][0].shape == (3, 5, 18, 2) and clips.options.random_move is False


def _spoil(folder: Path, how: str) -> None:
    data_file, label_path = folder / "val_data.npy", folder / "val_label.pkl"
    data = np.load(data_file)
    if how.startswith("missing "):
        (folder / how.split()[1]).unlink()
    elif how == "count mismatch":
        np.save(data_file, data[:2])
    elif how == "rank":
        np.save(data_file, data[:, :, :, :, 0])
    elif how == "joints":
        np.save(data_file, np.zeros((3, 3, 12, 25, 2), np.float32))
    elif how == "channels":
        np.save(data_file, data[:, :2])
    elif how == "integers":
        np.save(data_file, data.astype(np.int32))
    elif how == "no clips":
        np.save(data_file, data[:0])
        write_label_file(label_path, [], [])
    elif how == "label range":
        write_label_file(label_path, ["a", "b", "c"], [4, 400, 2])
    elif how == "negative label":
        write_label_file(label_path, ["a", "b", "c"], [-1, 0, 2])
    elif how == "truncated":
        content = data_file.read_bytes()
        data_file.write_bytes(content[: len(content) - 1000])
    elif how == "corrupt header":
        content = bytearray(data_file.read_bytes())
        content[10:40] = b"#" * 30
        data_file.write_bytes(bytes(content))
    elif how == "empty":
        data_file.write_bytes(b"")
    elif how == "pickled array":
        np.save(data_file, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    else:
        raise AssertionError(how)


BAD_CONVERTED = [
    ("missing val_data.npy", "val_data.npy not found"),
    ("missing val_label.pkl", "val_label.pkl not found"),
    ("count mismatch", "val_data.npy holds 2 clips but"),
    ("rank", "val_data.npy has rank 4"),
    ("joints", "val_data.npy has 25 joints"),
    ("channels", "val_data.npy has 2 channels"),
    ("integers", "val_data.npy holds int32 values"),
    ("no clips", "val_data.npy holds no clips"),
    ("label range", "val_label.pkl: sample 1 has label 400, outside [0, 400)"),
    ("negative label", "val_label.pkl: sample 0 has label -1, outside [0, 400)"),
    ("truncated", "val_data.npy is not a readable .npy array, truncated or corrupt"),
    ("corrupt header", "val_data.npy is not a readable .npy array, truncated or corrupt"),
    ("empty", "val_data.npy is not a readable .npy array, truncated or corrupt"),
    ("pickled array", "val_data.npy is not a readable .npy array, truncated or corrupt"),
]


@pytest.mark.parametrize(("how", "message"), BAD_CONVERTED)
def test_bad_converted_files_are_refused(converted: Path, how: str, message: str) -> None:
    _spoil(converted, how)
    with pytest.raises(StgcnError) as caught:
        build("val", converted, {})
    assert message in str(caught.value) and "\n" not in str(caught.value)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_values_are_refused_with_file_and_index(converted: Path, bad: float) -> None:
    data = np.load(converted / "val_data.npy")
    data[1, 0, 5, 3, 0] = bad
    np.save(converted / "val_data.npy", data)
    clips = build("val", converted, {})
    clips[0]
    with pytest.raises(StgcnError, match=r"val_data\.npy: sample 1 holds non-finite values$"):
        clips[1]


def test_release_tree_reads_like_its_conversion(release: Path, tmp_path: Path) -> None:
    convert_release(release, tmp_path / "out", ClipShape(12), workers=1, progress=False)
    from_arrays = build("val", tmp_path / "out", {})
    from_tree = build("val", release, {"max_frame": "12"})
    assert len(from_tree) == len(from_arrays) == 3
    assert from_tree.sample_names == from_arrays.sample_names
    for index in range(3):
        (a, label_a), (b, label_b) = from_arrays[index], from_tree[index]
        assert torch.equal(a, b) and label_a == label_b
    train = build("train", release, {"window": "5", "max_frame": "12", "num_person_in": "3"})
    assert len(train) == 6 and train[0][0].shape == (3, 5, 18, 2)
    assert build("val", release, {})[0][0].shape == (3, 300, 18, 2)


def test_release_tree_problems_name_the_file(release: Path) -> None:
    (release / "kinetics_val_label.json").unlink()
    with pytest.raises(StgcnError, match=r"kinetics_val_label\.json not found"):
        build("val", release, {})
    clips = build("train", release, {})
    broken = clips.source.paths[4]
    broken.write_text("{")
    with pytest.raises(
        StgcnError, match=rf"{re.escape(str(broken))}: not valid JSON .*\(sample 4\)"
    ):
        clips[4]


def test_read_sample_of_a_json_clip_matches_the_conversion(release: Path, tmp_path: Path) -> None:
    convert_release(release, tmp_path / "out", workers=1, progress=False)
    stored = np.load(tmp_path / "out" / "val_data.npy")
    with (tmp_path / "out" / "val_label.pkl").open("rb") as stream:
        names, _ = pickle.load(stream)
    record = get_registry().get(DATASETS, "kinetics")
    sample = record.read_sample(release / "kinetics_val" / names[2])
    assert sample.dtype == np.float32 and sample.shape == (3, 300, 18, 2)
    np.testing.assert_array_equal(sample, stored[2])


def test_read_sample_of_an_npy_sample(tmp_path: Path) -> None:
    sample = np.random.default_rng(0).uniform(-0.5, 0.5, (3, 40, 18, 2))
    np.save(tmp_path / "one.npy", sample)
    loaded = read_sample(tmp_path / "one.npy")
    assert loaded.dtype == np.float32
    np.testing.assert_array_equal(loaded, sample.astype(np.float32))


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("batch.npy", np.zeros((1, 3, 4, 18, 2)), "shape (1, 3, 4, 18, 2); a sample is"),
        ("joints.npy", np.zeros((3, 4, 25, 2)), "shape (3, 4, 25, 2)"),
        ("nan.npy", np.full((3, 4, 18, 2), np.nan), "non-finite"),
        ("clip.txt", None, "a release .json clip or a .npy array"),
        ("bad.json", '{"data": 3}', "not a Kinetics-skeleton clip"),
    ],
)
def test_read_sample_refusals(tmp_path: Path, name: str, content, message: str) -> None:
    path = tmp_path / name
    if isinstance(content, np.ndarray):
        np.save(path, content)
    else:
        path.write_text(content or "")
    with pytest.raises(StgcnError, match=re.escape(message)):
        read_sample(path)
    with pytest.raises(StgcnError, match="not found"):
        read_sample(tmp_path / "absent.json")


def test_read_sample_json_with_people_beyond_the_end(tmp_path: Path) -> None:
    document = clip_document({299: [skeleton([0.75] * 36, [1.0] * 18)], 300: []}, 0)
    (tmp_path / "late.json").write_text(json.dumps(document))
    sample = read_sample(tmp_path / "late.json")
    assert sample[0, 299, 0, 0] == np.float32(0.25) and not sample[:, :299].any()
