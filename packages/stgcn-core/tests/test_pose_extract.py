"""``stgcn data extract`` from OpenPose folders (no OpenCV needed): class folders to a
Kinetics-skeleton tree, in parallel, resumable, a broken clip reported and skipped.
The same command on videos, and training on the result, are tested in tests-pose."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pose_files import write_openpose

from stgcn.data.pickles import restricted_load
from stgcn.pose.extract import list_items
from stgcn.testing.helpers import run_stgcn


def classes_tree(root: Path) -> Path:
    for label, clips in (("clapping", 3), ("waving", 2)):
        for index in range(clips):
            write_openpose(root / label / f"{label}{index}", 4 + index)
    return root


def assert_one_line(ran, *fragments: str) -> None:
    assert ran.returncode != 0, ran.stdout
    lines = ran.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("stgcn: error: "), ran.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def extract(*args: str):
    return run_stgcn("data", "extract", "--frame-size", "640x480", *args)


def test_extract_resume_and_a_broken_clip(tmp_path: Path) -> None:
    root = classes_tree(tmp_path / "in")
    broken = root / "waving" / "broken"
    broken.mkdir()
    (broken / "broken_000000000000_keypoints.json").write_text("{truncated")
    out = tmp_path / "set"
    ran = extract("--openpose", str(root), "--output", str(out), "--workers", "2")
    assert ran.returncode == 0, ran.stderr
    assert "skipped waving/broken" in ran.stderr and "is not valid JSON" in ran.stderr
    assert "extracted 5 clips (0 already done, 1 failed (skipped))" in ran.stdout
    assert f"--dataset kinetics-json --data-path {out}" in ran.stdout
    labels = {
        split: json.loads((out / f"kinetics_{split}_label.json").read_text())
        for split in ("train", "val")
    }
    everything = {**labels["train"], **labels["val"]}
    assert sorted(everything) == [
        f"{c}__{c}{i}" for c, n in (("clapping", 3), ("waving", 2)) for i in range(n)
    ]
    assert {e["label"]: e["label_index"] for e in everything.values()} == {
        "clapping": 0,
        "waving": 1,
    }
    assert all(e["has_skeleton"] for e in everything.values())
    # a ratio of 0.2 still puts one clip of each class (of two or more) into val
    classes, items = list_items(root, "openpose", 0.2, None)
    assert classes == ["clapping", "waving"]
    assert sorted(i.label for i in items if i.split == "val") == classes
    assert sorted(labels["val"]) == sorted(
        i.clip_id for i in items if i.split == "val" and i.clip_id != "waving__broken"
    )
    clip = json.loads((out / "kinetics_train" / f"{next(iter(labels['train']))}.json").read_text())
    assert len(clip["data"][0]["skeleton"][0]["pose"]) == 36  # openpose, 18 joints
    assert 0 <= min(clip["data"][0]["skeleton"][0]["pose"]) <= 1
    manifest = json.loads((out / "extract.json").read_text())
    assert manifest["classes"] == ["clapping", "waving"] and manifest["source"] == "openpose"

    # the broken clip mended: a second run extracts it alone and keeps the rest
    before = {p.name: p.stat().st_mtime_ns for p in out.glob("kinetics_*/*.json")}
    write_openpose(broken, 3, name="broken")
    (broken / "broken_000000000000_keypoints.json").write_text(json.dumps({"people": []}))
    again = extract("--openpose", str(root), "--output", str(out), "--workers", "1")
    assert again.returncode == 0, again.stderr
    assert "extracted 1 clips (5 already done)" in again.stdout
    assert "5 of 6 clips already extracted" in again.stderr
    after = {p.name: p.stat().st_mtime_ns for p in out.glob("kinetics_*/*.json")}
    assert {name: after[name] for name in before} == before
    assert "waving__broken.json" in after

    # other settings would mislabel what is there: refused in one line, nothing touched
    other = extract("--openpose", str(root), "--output", str(out), "--val-ratio", "0.5")
    assert_one_line(other, "was extracted with another val_ratio")
    assert {p.name: p.stat().st_mtime_ns for p in out.glob("kinetics_*/*.json")} == after

    # a folder extracted before --max-people existed held one person a frame: it resumes so
    manifest = json.loads((out / "extract.json").read_text())
    assert manifest.pop("max_people") == 2
    (out / "extract.json").write_text(json.dumps(manifest))
    two = extract("--openpose", str(root), "--output", str(out))
    assert_one_line(two, "was extracted with another max_people (1, now 2)")
    one = extract("--openpose", str(root), "--output", str(out), "--max-people", "1")
    assert one.returncode == 0, one.stderr
    assert "extracted 0 clips (6 already done)" in one.stdout


def test_validation_clips_from_a_list(tmp_path: Path) -> None:
    root = classes_tree(tmp_path / "in")
    listing = tmp_path / "val.txt"
    listing.write_text("clapping/clapping1\nwaving0\n")
    out = tmp_path / "set"
    ran = extract("--openpose", str(root), "--output", str(out), "--val-list", str(listing))
    assert ran.returncode == 0, ran.stderr
    val = json.loads((out / "kinetics_val_label.json").read_text())
    assert sorted(val) == ["clapping__clapping1", "waving__waving0"]
    listing.write_text("nobody/clip\n")
    wrong = extract(
        "--openpose", str(root), "--output", str(tmp_path / "x"), "--val-list", str(listing)
    )
    assert_one_line(wrong, "--val-list names 'nobody/clip'")


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (["--openpose", "{tmp}/absent"], ["input folder not found"]),
        (["--openpose", "{tmp}"], ["holds no class subfolders"]),
        (["--openpose", "{tmp}", "--videos", "{tmp}"], ["give one of --videos DIR"]),
        (["--openpose", "{in}", "--val-ratio", "1"], ["--val-ratio must be in [0, 1)"]),
        (["--videos", "{in}", "--estimator", "nope"], ["unknown pose estimator 'nope'"]),
        (["--openpose", "{in}", "--layout", "hands"], ["unknown layout 'hands'"]),
        (
            ["--openpose", "{in}", "--layout", "mediapipe-hand"],
            [
                "openpose files give no joint for 'wrist', 'thumb_cmc', 'thumb_mcp', 'thumb_ip', "
                "'thumb_tip' and 16 more of layout 'mediapipe-hand'"
            ],
        ),
    ],
)
def test_bad_input_is_one_line(tmp_path: Path, args: list[str], fragments: list[str]) -> None:
    classes_tree(tmp_path / "in")
    (tmp_path / "in2").mkdir()
    filled = [a.format(tmp=tmp_path / "in2", **{"in": tmp_path / "in"}) for a in args]
    assert_one_line(extract(*filled, "--output", str(tmp_path / "out")), *fragments)


def test_pixel_files_need_the_frame_size(tmp_path: Path) -> None:
    root = classes_tree(tmp_path / "in")
    ran = run_stgcn("data", "extract", "--coco-results", str(root), "--output", str(tmp_path))
    assert_one_line(ran, "--coco-results holds pixel coordinates", "--frame-size")


def test_coco_results_files_and_a_clip_without_anyone(tmp_path: Path) -> None:
    from pose_files import write_coco_results

    root = tmp_path / "in"
    for label in ("jumping", "sitting"):
        for index in range(2):
            write_coco_results(root / label / f"{label}{index}.json", 5 + index)
    (root / "sitting" / "nobody.json").write_text(
        json.dumps([{"image_id": 1, "category_id": 1, "keypoints": [0] * 51, "score": 0.1}])
    )
    out = tmp_path / "set"
    ran = extract("--coco-results", str(root), "--output", str(out), "--val-ratio", "0")
    assert ran.returncode == 0, ran.stderr
    assert "stgcn: warning: no person found in sitting/nobody.json (1 frames)" in ran.stderr
    assert "1 without a person" in ran.stdout
    train = json.loads((out / "kinetics_train_label.json").read_text())
    assert json.loads((out / "kinetics_val_label.json").read_text()) == {}
    assert train["sitting__nobody"] == {"has_skeleton": False, "label": "sitting", "label_index": 1}
    assert sum(entry["has_skeleton"] for entry in train.values()) == 4
    clip = json.loads((out / "kinetics_train" / "jumping__jumping1.json").read_text())
    # COCO-17 brought to openpose: 18 joints, the neck between the shoulders
    skeleton = clip["data"][0]["skeleton"][0]
    assert len(skeleton["score"]) == 18
    neck_x, left_x, right_x = skeleton["pose"][2], skeleton["pose"][10], skeleton["pose"][4]
    assert neck_x == pytest.approx((left_x + right_x) / 2, abs=1e-4)
    assert [entry["frame_index"] for entry in clip["data"]] == [0, 2, 3, 4, 5]


def test_another_layout_by_joint_names(tmp_path: Path) -> None:
    # OpenPose folders (COCO-18) to the coco layout: its 17 joints taken by name
    root = classes_tree(tmp_path / "in")
    out = tmp_path / "set"
    ran = extract("--openpose", str(root), "--output", str(out), "--layout", "coco")
    assert ran.returncode == 0, ran.stderr
    # the kinetics-json dataset reads openpose clips only: the way to train is the pickle
    pickle_path = out / "pyskl_annotations.pkl"
    assert f"train with: stgcn run --dataset pyskl --data-path {pickle_path} " in ran.stdout
    assert json.loads((out / "extract.json").read_text())["layout"] == "coco"
    document = restricted_load(pickle_path, what="pickle", holds="annotations")
    assert sorted(document["split"]) == ["train", "val"]
    assert len(document["annotations"]) == 5
    for clip in document["annotations"]:
        # the JSON clip's first person, in [0, 1], is the pickle's first track in pixels
        split = "train" if clip["frame_dir"] in document["split"]["train"] else "val"
        first = json.loads((out / f"kinetics_{split}" / f"{clip['frame_dir']}.json").read_text())
        person = first["data"][0]["skeleton"][0]
        assert clip["img_shape"] == (480, 640)
        assert clip["keypoint"].shape == (2, clip["total_frames"], 17, 2)
        assert clip["keypoint"][0, 0, :, 0] / 640 == pytest.approx(person["pose"][0::2], abs=1e-4)
        assert clip["keypoint_score"][0, 0] == pytest.approx(person["score"], abs=1e-4)
        assert not clip["keypoint_score"][:, 1].any()  # frame 1 of each clip has nobody
    openpose = tmp_path / "openpose"
    assert extract("--openpose", str(root), "--output", str(openpose)).returncode == 0
    for clip in sorted(out.glob("kinetics_*/*.json")):
        as_coco = json.loads(clip.read_text())["data"][0]["skeleton"][0]
        as_openpose = json.loads((openpose / clip.parent.name / clip.name).read_text())
        person = as_openpose["data"][0]["skeleton"][0]
        # coco's left shoulder (5) is openpose's 5, its right hip (12) openpose's 8
        assert len(as_coco["score"]) == 17
        assert as_coco["pose"][10:12] == person["pose"][10:12]
        assert as_coco["pose"][24:26] == person["pose"][16:18]
    # the layout is part of how a folder was extracted
    again = extract("--openpose", str(root), "--output", str(out))
    assert_one_line(again, "was extracted with another layout ('coco', now 'openpose')")


def test_a_set_with_no_usable_clip_fails_in_one_line(tmp_path: Path) -> None:
    # every clip has frames, none a person: nothing to train on, said instead of a
    # "train with" line suggesting to train on 0 clips
    root = tmp_path / "in"
    for label in ("jumping", "sitting"):
        folder = root / label / "empty"
        folder.mkdir(parents=True)
        (folder / "empty_000000000000_keypoints.json").write_text('{"people": []}')
    ran = extract("--openpose", str(root), "--output", str(tmp_path / "set"))
    assert ran.returncode != 0
    *warnings, last = ran.stderr.strip().splitlines()
    assert last.startswith("stgcn: error: no usable clip in"), ran.stderr
    assert last.endswith("(no person found in 2 of 2): nothing to train on"), last
    assert "stgcn: warning: no person found in jumping/empty (1 frames)" in warnings
    assert "Traceback" not in ran.stderr and "train with" not in ran.stdout
    assert not (tmp_path / "set" / "pyskl_annotations.pkl").exists()
