"""``stgcn predict``: both engines agree, clips in a dataset's own format, the refusals."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from export_helpers import JSON_CLIPS_PLUGIN, assert_one_line_error

from stgcn.data.synthetic import CLASS_NAMES, generate
from stgcn.testing.helpers import make_distribution, run_stgcn, stgcn_in_process


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> np.ndarray:
    data, _ = generate(1, seed=123, frames=12)
    return data[0]  # (3, 12, 18, 2)


def save(folder: Path, name: str, array: np.ndarray) -> Path:
    path = folder / name
    np.save(path, array)
    return path


def ranked(ran) -> list[dict]:
    assert ran.returncode == 0, ran.stderr
    return json.loads(ran.stdout)["top"]


def test_checkpoint_and_onnx_print_the_same_top5(exports, checkpoint, clip, tmp_path) -> None:
    sample = save(tmp_path, "clip.npy", clip)
    by_torch = stgcn_in_process("predict", "--checkpoint", str(checkpoint), "--input", str(sample))
    by_onnx = run_stgcn("predict", "--onnx", str(exports[17][0]), "--input", str(sample))
    assert by_torch.returncode == 0 and by_onnx.returncode == 0, by_torch.stderr + by_onnx.stderr
    torch_lines = by_torch.stdout.splitlines()
    onnx_lines = by_onnx.stdout.splitlines()
    assert "(pytorch, dataset synthetic)" in torch_lines[0]
    assert "(onnxruntime, dataset synthetic)" in onnx_lines[0]
    assert len(torch_lines) == 6 and torch_lines[1:] == onnx_lines[1:]
    assert all(any(name in line for name in CLASS_NAMES) for line in onnx_lines[1:])

    # the numbers behind the lines: the softmax of the model's own logits
    top = ranked(
        stgcn_in_process("predict", "--onnx", str(exports[11][0]), "--input", str(sample), "--json")
    )
    import stgcn

    with torch.no_grad():
        logits = stgcn.load_model(checkpoint)(torch.from_numpy(clip[None]))[0]
    probabilities = torch.softmax(logits.double(), 0).numpy()
    assert [row["class"] for row in top] == list(np.argsort(-probabilities)[:5])
    for row in top:
        assert row["probability"] == pytest.approx(probabilities[row["class"]], abs=1e-6)
        assert row["name"] == CLASS_NAMES[row["class"]]


def test_explain_gives_each_joint_its_share(checkpoint, clip, tmp_path: Path) -> None:
    """--explain on a clip: one importance per joint, in [0, 1], the map of the printed
    top class (stgcn.model.explain on the same model and clip)."""
    import stgcn
    from stgcn.model.explain import joint_importance

    sample = save(tmp_path, "clip.npy", clip)
    ran = stgcn_in_process(
        "predict", "--checkpoint", str(checkpoint), "--input", str(sample), "--json", "--explain"
    )
    assert ran.returncode == 0, ran.stderr
    document = json.loads(ran.stdout)
    importance = document["joint_importance"]
    assert len(importance) == 18 and max(importance) == 1.0 and min(importance) >= 0
    expected = joint_importance(stgcn.load_model(checkpoint), clip, document["top"][0]["class"])
    assert importance == pytest.approx(expected.tolist(), abs=1e-3)


def test_batch_of_one_and_top_k(exports, clip, tmp_path: Path) -> None:
    single = ranked(
        stgcn_in_process(
            "predict",
            "--onnx",
            str(exports[17][0]),
            "--json",
            "--input",
            str(save(tmp_path, "one.npy", clip)),
        )
    )
    batch = ranked(
        stgcn_in_process(
            "predict",
            "--onnx",
            str(exports[17][0]),
            "--json",
            "--top",
            "3",
            "--input",
            str(save(tmp_path, "batch.npy", clip[None])),
        )
    )
    assert batch == single[:3]


def test_json_clip_is_read_by_its_dataset_plugin(
    site: Path, exports, checkpoint, clip, tmp_path: Path
) -> None:
    make_distribution(site, "stgcn-data-jsonclips", "0.1.0", "fake_jsonclips", JSON_CLIPS_PLUGIN)
    clip_file = tmp_path / "clip.json"
    clip_file.write_text(json.dumps({"skeleton": clip.tolist()}))
    as_npy = save(tmp_path, "clip.npy", clip)
    by_torch = stgcn_in_process(
        "predict",
        "--checkpoint",
        str(checkpoint),
        "--dataset",
        "jsonclips",
        "--input",
        str(clip_file),
        "--json",
    )
    by_onnx = stgcn_in_process(
        "predict",
        "--onnx",
        str(exports[11][0]),
        "--dataset",
        "jsonclips",
        "--input",
        str(clip_file),
        "--json",
    )
    reference = stgcn_in_process(
        "predict", "--checkpoint", str(checkpoint), "--input", str(as_npy), "--json"
    )
    torch_top, onnx_top, npy_top = ranked(by_torch), ranked(by_onnx), ranked(reference)
    assert [row["name"] for row in torch_top] == [f"move {row['class']}" for row in torch_top]
    assert [row["class"] for row in onnx_top] == [row["class"] for row in torch_top]
    for a, b, c in zip(torch_top, onnx_top, npy_top, strict=True):
        assert a["probability"] == pytest.approx(b["probability"], abs=1e-6)
        assert a["probability"] == pytest.approx(c["probability"], abs=1e-12)

    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    ran = stgcn_in_process(
        "predict", "--checkpoint", str(checkpoint), "--dataset", "jsonclips", "--input", str(broken)
    )
    assert_one_line_error(ran, "dataset 'jsonclips' cannot read", "broken.json")
    ran = stgcn_in_process(
        "predict",
        "--checkpoint",
        str(checkpoint),
        "--dataset",
        "fourclips",
        "--input",
        str(clip_file),
    )
    assert_one_line_error(ran, "predicts 10 classes", "'fourclips' has 4")


def test_json_clip_without_a_reader_names_the_plugin(checkpoint, tmp_path: Path) -> None:
    clip_file = tmp_path / "clip.json"
    clip_file.write_text('{"data": [], "label": "x", "label_index": 0}')
    # the checkpoint's dataset (synthetic) reads no clip files
    ran = stgcn_in_process("predict", "--checkpoint", str(checkpoint), "--input", str(clip_file))
    assert_one_line_error(ran, "'synthetic' cannot read", "stgcn-data-kinetics")
    # a checkpoint of a dataset whose plugin is not installed
    saved = torch.load(checkpoint, weights_only=True)
    saved["config"]["dataset"] = "absent-dataset"
    other = tmp_path / "absent.pth.tar"
    torch.save(saved, other)
    ran = stgcn_in_process("predict", "--checkpoint", str(other), "--input", str(clip_file))
    assert_one_line_error(ran, "'absent-dataset' is not installed", "stgcn-data-kinetics")
    # a bare state_dict names no dataset at all
    bare = tmp_path / "bare.pt"
    torch.save(saved["model"], bare)
    ran = stgcn_in_process("predict", "--checkpoint", str(bare), "--input", str(clip_file))
    assert_one_line_error(ran, "cannot tell which dataset", "stgcn-data-kinetics")
    # ...but a .npy sample needs no dataset: classes by index
    sample = save(tmp_path, "s.npy", np.zeros((3, 12, 18, 2), np.float32))
    top = ranked(
        stgcn_in_process("predict", "--checkpoint", str(bare), "--input", str(sample), "--json")
    )
    assert len(top) == 5 and all(row["name"] is None for row in top)


def test_static_export_predicts_clips_of_its_shape(checkpoint, clip, tmp_path: Path) -> None:
    out = tmp_path / "static.onnx"
    exported = stgcn_in_process(
        "export",
        "onnx",
        "--checkpoint",
        str(checkpoint),
        "--output",
        str(out),
        "--static",
        "--batch",
        "2",
        "--frames",
        "12",
        "--no-verify",
    )
    assert exported.returncode == 0, exported.stderr
    fits = ranked(
        stgcn_in_process(
            "predict", "--onnx", str(out), "--json", "--input", str(save(tmp_path, "a.npy", clip))
        )
    )
    reference = ranked(
        stgcn_in_process(
            "predict",
            "--checkpoint",
            str(checkpoint),
            "--json",
            "--input",
            str(save(tmp_path, "a.npy", clip)),
        )
    )
    assert [row["class"] for row in fits] == [row["class"] for row in reference]
    longer = save(tmp_path, "b.npy", np.concatenate([clip, clip], axis=1))
    ran = stgcn_in_process("predict", "--onnx", str(out), "--input", str(longer))
    assert_one_line_error(ran, "takes 12 frames (the clip has 24)", "without --static")


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (["--input", "{clip}"], ["give one of --checkpoint FILE and --onnx FILE"]),
        (["--onnx", "{missing}", "--input", "{clip}"], ["ONNX model not found"]),
        (["--onnx", "{clip}", "--input", "{clip}"], ["is not a usable ONNX model"]),
        (["--checkpoint", "{missing}", "--input", "{clip}"], ["checkpoint not found"]),
        (["--checkpoint", "{ckpt}", "--input", "{missing}"], ["input not found"]),
        (["--checkpoint", "{ckpt}", "--input", "{joints17}"], ["takes 18 joints", "has 17"]),
        (["--onnx", "{onnx}", "--input", "{joints17}"], ["takes 18 joints", "has 17"]),
        (["--checkpoint", "{ckpt}", "--input", "{flat}"], ["shape (3, 12, 18)", "(C, T, V, M)"]),
        (["--checkpoint", "{ckpt}", "--input", "{text_npy}"], ["not a readable .npy"]),
        (["--checkpoint", "{ckpt}", "--input", "{nan}"], ["NaN"]),
        (["--checkpoint", "{ckpt}", "--input", "{clip}", "--top", "0"], ["--top"]),
        (["--onnx", "{onnx}", "--input", "{clip}", "--layout", "coco"], ["--checkpoint only"]),
        (["--onnx", "{onnx}", "--input", "{clip}", "--explain"], ["--explain", "gradient"]),
        (["--checkpoint", "{ckpt}", "--input", "{clip}", "--realtime"], ["applies to --stream"]),
        (["--checkpoint", "{ckpt}", "--input", "{clip}", "--max-people", "2"], ["--max-people"]),
    ],
)
def test_bad_input_gives_one_line(exports, checkpoint, tmp_path: Path, args, fragments) -> None:
    text_npy = tmp_path / "text.npy"
    text_npy.write_text("hello")
    paths = {
        "clip": save(tmp_path, "clip.npy", np.zeros((3, 12, 18, 2), np.float32)),
        "joints17": save(tmp_path, "j17.npy", np.zeros((3, 12, 17, 2), np.float32)),
        "flat": save(tmp_path, "flat.npy", np.zeros((3, 12, 18), np.float32)),
        "nan": save(tmp_path, "nan.npy", np.full((3, 12, 18, 2), np.nan, np.float32)),
        "text_npy": text_npy,
        "missing": tmp_path / "missing.file",
        "ckpt": checkpoint,
        "onnx": exports[11][0],
    }
    ran = stgcn_in_process("predict", *[a.format(**paths) for a in args])
    assert_one_line_error(ran, *fragments)


def test_a_bone_model_predicts_on_the_bones_of_the_clip(clip, tmp_path: Path) -> None:
    """The checkpoint's stream (--data-option modality=bone) is applied to a raw clip."""
    from stgcn.data.streams import apply_modality, parents
    from stgcn.model.layouts import get_layout
    from stgcn.networks.loading import load_model_and_checkpoint

    work = tmp_path / "bone"
    trained = run_stgcn(
        "run",
        "--epochs",
        "1",
        "--work-dir",
        str(work),
        "--data-option",
        "modality=bone",
        "--data-option",
        "train_size=16",
        "--data-option",
        "val_size=8",
        "--data-option",
        "frames=12",
        "--batch-size",
        "8",
    )
    assert trained.returncode == 0, trained.stderr
    best = work / "checkpoints" / "best.pth.tar"
    sample = save(tmp_path, "c.npy", clip)
    top = ranked(run_stgcn("predict", "--input", str(sample), "--checkpoint", str(best), "--json"))
    model, _ = load_model_and_checkpoint(str(best))
    parent = parents(get_layout(model.config()["layout"]))
    bones = torch.from_numpy(apply_modality(clip, "bone", parent, score=True))[None]
    with torch.no_grad():
        expected = model(bones).softmax(dim=1)[0]  # loaded in eval mode
        on_joints = model(torch.from_numpy(clip)[None]).softmax(dim=1)[0]
    printed = {row["class"]: row["probability"] for row in top}
    assert printed == pytest.approx({c: float(expected[c]) for c in printed}, abs=1e-6)
    # the stream makes a difference larger than that tolerance
    assert float((expected - on_joints).abs().max()) > 1e-5
