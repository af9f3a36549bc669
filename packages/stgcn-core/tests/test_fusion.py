"""Score files (``stgcn eval --save-scores``) and their fusion (``stgcn fuse``)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from stgcn.fusion import save_scores
from stgcn.testing.helpers import TINY, run_stgcn


def score_file(path: Path, ids, labels, scores, classes: int = 6) -> Path:
    names = [f"c{i}" for i in range(classes)]
    save_scores(path, ids, np.asarray(labels), np.asarray(scores), names)
    return path


def two_streams(tmp_path: Path, samples: int = 40, classes: int = 6):
    """Two score files over the same samples, as two streams' models would write them."""
    rng = np.random.default_rng(3)
    ids = [f"clip-{i:03d}" for i in range(samples)]
    labels = rng.integers(0, classes, samples)
    joint = rng.dirichlet(np.ones(classes), samples).astype(np.float32)
    bone = rng.dirichlet(np.ones(classes), samples).astype(np.float32)
    a = score_file(tmp_path / "joint.npz", ids, labels, joint, classes)
    b = score_file(tmp_path / "bone.npz", ids, labels, bone, classes)
    return a, b, ids, labels, joint, bone


def expected_accuracy(scores: np.ndarray, labels: np.ndarray) -> tuple[float, float, float]:
    """Recomputed one sample at a time, without the code under test."""
    hits1 = hits5 = 0
    per_class: dict[int, list[bool]] = {}
    for row, label in zip(scores.tolist(), labels.tolist(), strict=True):
        ranked = sorted(range(len(row)), key=lambda c: -row[c])
        hits1 += ranked[0] == label
        hits5 += label in ranked[:5]
        per_class.setdefault(label, []).append(ranked[0] == label)
    mean_class = sum(sum(v) / len(v) for v in per_class.values()) / len(per_class)
    return hits1 / len(labels), hits5 / len(labels), mean_class


def fuse(*args: str) -> dict:
    done = run_stgcn("fuse", *args, "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_fuse_reports_the_weighted_sums_accuracy(tmp_path: Path) -> None:
    a, b, _, labels, joint, bone = two_streams(tmp_path)
    result = fuse(str(a), str(b), "--weights", "2,1")
    top1, top5, mean_class = expected_accuracy(2 * joint.astype(np.float64) + bone, labels)
    assert result == {
        "top1": pytest.approx(top1, abs=1e-12),
        "top5": pytest.approx(top5, abs=1e-12),
        "mean_class_accuracy": pytest.approx(mean_class, abs=1e-12),
        "samples": 40,
        "weights": [2.0, 1.0],
    }
    alone = fuse(str(a))
    assert alone["top1"] == pytest.approx(expected_accuracy(joint, labels)[0])
    assert alone["weights"] == [1.0]


def test_a_reordered_file_is_aligned_by_sample_id(tmp_path: Path) -> None:
    a, b, ids, labels, _, bone = two_streams(tmp_path)
    order = np.random.default_rng(0).permutation(len(ids))
    shuffled = score_file(
        tmp_path / "shuffled.npz", [ids[i] for i in order], labels[order], bone[order]
    )
    assert fuse(str(a), str(shuffled)) == fuse(str(a), str(b))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("drop", "lacks sample 'clip-007' (in "),
        ("extra", "has sample 'clip-999', which "),
        ("label", "labels sample 'clip-004' "),
        ("classes", "scores 5 classes, "),
    ],
)
def test_files_that_disagree_are_refused_naming_the_first_mismatch(
    tmp_path: Path, change: str, message: str
) -> None:
    a, _, ids, labels, _, bone = two_streams(tmp_path)
    ids, labels, bone, classes = list(ids), labels.copy(), bone.copy(), 6
    if change == "drop":
        del ids[7]
        labels, bone = np.delete(labels, 7), np.delete(bone, 7, axis=0)
    elif change == "extra":
        ids.append("clip-999")
        labels, bone = np.append(labels, 0), np.vstack([bone, bone[:1]])
    elif change == "label":
        labels[4] = (labels[4] + 1) % 6
    else:
        bone, classes = bone[:, :5], 5
    other = score_file(tmp_path / "other.npz", ids, labels, bone, classes)
    done = run_stgcn("fuse", str(a), str(other))
    assert done.returncode == 1
    [line] = done.stderr.strip().splitlines()
    assert line.startswith("stgcn: error: ") and message in line, line


@pytest.mark.parametrize(
    ("weights", "message"),
    [
        ("2,1,1", "--weights gives 3 weights for 2 score files"),
        ("2,x", "--weights expects numbers separated by commas"),
        ("0,0", "not all zero"),
        ("1,-1", "non-negative"),
    ],
)
def test_bad_weights_are_refused(tmp_path: Path, weights: str, message: str) -> None:
    a, b, *_ = two_streams(tmp_path)
    done = run_stgcn("fuse", str(a), str(b), "--weights", weights)
    assert done.returncode == 1 and message in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_unreadable_files_are_refused_without_running_their_code(tmp_path: Path) -> None:
    a, *_ = two_streams(tmp_path)
    garbage = tmp_path / "garbage.npz"
    garbage.write_bytes(b"not a zip file")
    partial = tmp_path / "partial.npz"
    np.savez(partial, scores=np.zeros((2, 3), np.float32))
    marker = tmp_path / "ran"
    hostile = tmp_path / "hostile.npz"
    payload = f"open({str(marker)!r}, 'w').close()"
    np.savez(
        hostile,
        sample_ids=np.array([Evil(payload)], dtype=object),
        labels=[0],
        scores=np.zeros((1, 3)),
        class_names=np.array(["a", "b", "c"]),
    )
    for path, message in (
        (garbage, "is not a readable .npz score file"),
        (partial, "is not a stgcn score file: no 'sample_ids' array"),
        (hostile, "is not a readable .npz score file"),
        (tmp_path / "absent.npz", "score file not found"),
    ):
        done = run_stgcn("fuse", str(a), str(path))
        assert done.returncode == 1, path
        [line] = done.stderr.strip().splitlines()
        assert message in line, line
    assert not marker.exists()


class Evil:
    """Unpickling this would run code; np.load(allow_pickle=False) must refuse first."""

    def __init__(self, payload) -> None:
        self.payload = payload

    def __reduce__(self):
        return (exec, (self.payload,))


def test_eval_saves_scores_that_fuse_reads_back(tmp_path: Path) -> None:
    work = tmp_path / "run"
    trained = run_stgcn("run", "--work-dir", str(work), "--epochs", "1", *TINY)
    assert trained.returncode == 0, trained.stderr
    scores = tmp_path / "scores.npz"
    evaluated = run_stgcn(
        "eval",
        "--checkpoint",
        str(work / "checkpoints" / "best.pth.tar"),
        "--save-scores",
        str(scores),
        "--json",
    )
    assert evaluated.returncode == 0, evaluated.stderr
    metrics = json.loads(evaluated.stdout)
    with np.load(scores, allow_pickle=False) as saved:
        arrays = {key: saved[key] for key in saved.files}
    assert sorted(arrays) == ["class_names", "labels", "modality", "sample_ids", "scores"]
    assert str(arrays["modality"]) == "joint"
    assert arrays["sample_ids"].tolist() == [f"synthetic-val-{i:05d}" for i in range(16)]
    assert arrays["scores"].dtype == np.float32 and arrays["scores"].shape == (16, 10)
    assert arrays["labels"].dtype == np.int64 and arrays["class_names"].shape == (10,)
    np.testing.assert_allclose(arrays["scores"].sum(axis=1), 1.0, rtol=1e-5)
    top1 = float((arrays["scores"].argmax(axis=1) == arrays["labels"]).mean())
    assert top1 == pytest.approx(metrics["top1"])
    assert fuse(str(scores))["top1"] == pytest.approx(metrics["top1"])
    refused = run_stgcn(
        "eval",
        "--checkpoint",
        str(work / "checkpoints" / "best.pth.tar"),
        "--save-scores",
        str(tmp_path / "scores.txt"),
    )
    assert refused.returncode == 1
    assert refused.stderr.strip() == (
        f"stgcn: error: --save-scores needs a .npz file name, got {tmp_path / 'scores.txt'}"
    )
    assert not (tmp_path / "scores.txt").exists()


def test_four_streams_fuse_two_two_one_one_by_default(tmp_path: Path) -> None:
    """PYSKL's weights, chosen from the modality each score file records."""
    rng = np.random.default_rng(5)
    ids, labels = [f"s{i}" for i in range(30)], rng.integers(0, 6, 30)
    paths = []
    for modality in ("bone_motion", "joint", "joint_motion", "bone"):
        path = tmp_path / f"{modality}.npz"
        scores = rng.dirichlet(np.ones(6), 30)
        save_scores(path, ids, labels, scores, [f"c{i}" for i in range(6)], modality)
        paths.append(str(path))
    assert fuse(*paths)["weights"] == [1.0, 2.0, 1.0, 2.0]
    assert fuse(*paths[:2])["weights"] == [1.0, 1.0]
    assert fuse(*paths, "--weights", "1,1,1,1")["weights"] == [1.0, 1.0, 1.0, 1.0]
