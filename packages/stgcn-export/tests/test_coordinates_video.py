"""One coordinate convention per input (issue 40): a model trained on a PYSKL pickle,
whose reader scales pixels to [-1, 1], is given the same skeletons as a video's pose
estimates (pixels and the frame size, through the conversion ``predict --video``,
``--openpose``, ``--coco-results`` and ``--stream`` share) and gives the same
probabilities as for its own clips: the checkpoint recorded the convention, and the
video path applied it.

The skeletons go in as a COCO keypoint results file: the estimator-free way into the
video path (the same reader-to-window code a video's estimates take, tested without
OpenCV); videos themselves are tested in tests-pose.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from export_helpers import class_log_probabilities as log_probabilities
from export_helpers import predict_json as predict
from export_helpers import train_on_pickle
from stgcn_data_pyskl import dataset
from stgcn_data_pyskl.sample_files import make_annotations

from stgcn.pose.readers import read_coco_results
from stgcn.pose.tracking import track_frames, window_clips
from stgcn.records import NamedClipRequest
from stgcn.testing.helpers import stgcn_in_process

#: make_annotations' frame, and every clip's length (one window holds a whole clip)
WIDTH, HEIGHT = 1920, 1080
FRAMES = 24
OPTIONS = {"split": "xsub", "sampling": "window", "window": str(FRAMES)}
#: two epochs, so that the model's scores follow its input's scale. After one (two or three
#: steps of batch 4) its batch norms' running statistics still hold their initial values
#: and the reference initialisation's small weights leave almost no signal: the scores of
#: a clip and of the clip at half scale were 5e-5 apart (relative), within the comparison's
#: 1e-4, on an AVX2 EPYC; after two the log-probabilities differ about twofold. The
#: probabilities are then near 0 and 1, so the tests compare their logarithms
EPOCHS = 2


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict]:
    """(the pickle, the best checkpoint of one epoch on it, the pickle's contents)."""
    folder = tmp_path_factory.mktemp("coordinates")
    contents = make_annotations(
        12, dims=2, joints=17, frames=(FRAMES, FRAMES), max_persons=1, seed=3
    )
    path, checkpoint = train_on_pickle(contents, folder, OPTIONS, epochs=EPOCHS)
    return path, checkpoint, contents


def coco_results(annotation: dict, path: Path) -> Path:
    """The clip's pixels as a pose estimator's COCO results: one image a frame."""
    keypoints = annotation["keypoint"][0].astype(np.float64)  # (T, 17, 2), one person
    scores = annotation["keypoint_score"][0].astype(np.float64)
    entries = [
        {
            "image_id": frame,
            "category_id": 1,
            "keypoints": np.concatenate([keypoints[frame], scores[frame][:, None]], 1)
            .reshape(-1)
            .tolist(),
            "score": 1.0,
        }
        for frame in range(len(keypoints))
    ]
    path.write_text(json.dumps(entries))
    return path


def video_path(model: Path, results: Path) -> np.ndarray:
    document = predict(
        model,
        "--coco-results",
        str(results),
        "--frame-size",
        f"{WIDTH}x{HEIGHT}",
        "--window",
        str(FRAMES),
        "--stride",
        str(FRAMES),
    )
    (window,) = document["windows"]
    assert (window["start"], window["end"]) == (0, FRAMES)
    return log_probabilities(window["top5"])


def test_a_model_trained_on_a_pickle_sees_the_same_inputs_and_scores_from_a_video(
    trained: tuple[Path, Path, dict], tmp_path: Path
) -> None:
    path, checkpoint, contents = trained
    facts = torch.load(checkpoint, weights_only=True)["data_facts"]
    assert facts["coordinates"] == "pyskl" and facts["layout"] == "coco"
    val = contents["split"]["xsub_val"]
    annotations = {ann["frame_dir"]: ann for ann in contents["annotations"]}
    for name in val[:2]:
        results = coco_results(annotations[name], tmp_path / f"{name}.json")

        # the same inputs: the pickle's clip, and the window the video path builds
        clip = dataset.read_named_clip(NamedClipRequest(path, name, OPTIONS))
        skeletons = read_coco_results(results, (WIDTH, HEIGHT)).to_layout("coco")
        (window,) = window_clips(track_frames(skeletons.frames), 2, "pyskl")
        assert window.sample.shape == clip.shape == (3, FRAMES, 17, 2)
        assert np.abs(clip[:2]).max() > 0.5  # [-1, 1]: at reference scale it would be half
        np.testing.assert_allclose(window.sample, clip, atol=2e-6)

        # the same probabilities, through the commands
        pickled = log_probabilities(predict(checkpoint, "--input", f"{path}#{name}")["top"])
        from_video = video_path(checkpoint, results)
        assert np.exp(pickled).sum() == pytest.approx(1.0, abs=1e-5)
        np.testing.assert_allclose(from_video, pickled, rtol=1e-4, atol=1e-5)


def test_the_checkpoint_convention_is_what_the_video_path_applies(
    trained: tuple[Path, Path, dict], tmp_path: Path
) -> None:
    """The same model told it was trained in the reference's convention (half scale)
    scores the video's skeletons differently: the convention comes from the checkpoint."""
    path, checkpoint, contents = trained
    name = contents["split"]["xsub_val"][0]
    annotation = next(a for a in contents["annotations"] if a["frame_dir"] == name)
    results = coco_results(annotation, tmp_path / "clip.json")
    saved = torch.load(checkpoint, weights_only=True)
    saved["data_facts"]["coordinates"] = "reference"
    relabelled = tmp_path / "reference.pth.tar"
    torch.save(saved, relabelled)

    pickled = log_probabilities(predict(checkpoint, "--input", f"{path}#{name}")["top"])
    assert np.allclose(video_path(checkpoint, results), pickled, rtol=1e-4, atol=1e-5)
    assert not np.allclose(video_path(relabelled, results), pickled, rtol=0.1, atol=0.1)


def test_an_onnx_export_records_the_convention_and_predicts_a_video_alike(
    trained: tuple[Path, Path, dict], tmp_path: Path
) -> None:
    """The export carries the convention in its metadata (``stgcn.coordinates``), so that
    ``predict --onnx`` needs neither the checkpoint nor the dataset plugin to apply it."""
    import onnx

    path, checkpoint, contents = trained
    exported = tmp_path / "pyskl.onnx"
    ran = stgcn_in_process(
        "export",
        "onnx",
        "--checkpoint",
        str(checkpoint),
        "--output",
        str(exported),
        "--no-verify",
    )
    assert ran.returncode == 0, ran.stderr
    metadata = {p.key: p.value for p in onnx.load(exported).metadata_props}
    assert metadata["stgcn.coordinates"] == "pyskl"
    name = contents["split"]["xsub_val"][0]
    annotation = next(a for a in contents["annotations"] if a["frame_dir"] == name)
    results = coco_results(annotation, tmp_path / "clip.json")
    pickled = log_probabilities(predict(checkpoint, "--input", f"{path}#{name}")["top"])
    np.testing.assert_allclose(video_path(exported, results), pickled, rtol=1e-4, atol=1e-5)
