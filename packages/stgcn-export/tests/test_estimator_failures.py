"""A pose estimator that raises, while it opens or on a frame, is one ``stgcn: error:``
line naming it on every path of ``stgcn predict`` (``--stream`` and ``--video``), and
what was already written stays whole: the JSON lines printed so far, the render of the
frames done. The estimators here are a third party's plugin with a bug; decoding the
video needs OpenCV (the ``video`` extra, installed in the tests-pose session)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from export_helpers import bar_video, frames_in

from stgcn.testing.helpers import make_distribution, stgcn_in_process

cv2 = pytest.importorskip("cv2")

#: estimators of one person in the middle that fail as a broken install or a bug would
BROKEN_ESTIMATORS = """
import numpy as np

from stgcn.hookspecs import hookimpl
from stgcn.pose import COCO_17
from stgcn.records import PoseEstimator

STGCN_API = ">=2,<3"


class MidwayFailure:
    def __init__(self):
        self.frames = 0

    def estimate(self, image):
        if self.frames == 6:
            raise ValueError("frame too dark to see anyone")
        self.frames += 1
        person = np.full((17, 3), 0.5, np.float32)
        person[:, 0] += np.linspace(-0.2, 0.2, 17)
        return [person]

    def close(self):
        pass


def broken_install(request):
    # what a pose model file parsed by the wrong protobuf did: the bytes in one line
    raise TypeError("Couldn't parse file content! " + repr(bytes(range(256)) * 4000))


def estimator(name, open):
    return PoseEstimator(name=name, open=open, joints=COCO_17, max_persons=1)


@hookimpl
def stgcn_register_pose_estimators(register):
    register(estimator("midway", lambda request: MidwayFailure()))
    register(estimator("unopenable", broken_install))
"""

FRAMES = 10


@pytest.fixture
def video(tmp_path: Path) -> Path:
    """A 10-frame mp4 (64x64, 5 frames a second) of a bar sliding to the right."""
    return bar_video(tmp_path / "clip.mp4", FRAMES)


@pytest.fixture
def broken(site: Path) -> Path:
    make_distribution(site, "stgcn-pose-broken", "0.1", "fake_broken_pose", BROKEN_ESTIMATORS)
    return site


def one_error_line(ran, *fragments: str) -> str:
    assert ran.returncode == 1, ran.stdout
    lines = ran.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("stgcn: error: "), ran.stderr[:2000]
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


def test_a_frame_failing_in_a_stream_is_one_line_and_the_outputs_stay_whole(
    broken, checkpoint, video, tmp_path
) -> None:
    render = tmp_path / "labelled.mp4"
    ran = stgcn_in_process(
        "predict",
        "--checkpoint",
        str(checkpoint),
        "--stream",
        str(video),
        "--estimator",
        "midway",
        "--window",
        "4",
        "--stride",
        "2",
        "--json",
        "--render",
        str(render),
    )
    one_error_line(
        ran,
        "pose estimator 'midway' (plugin stgcn-pose-broken) failed in estimate (frame 6): "
        "ValueError: frame too dark to see anyone; --debug shows the traceback",
    )
    # the windows ending at frames 4 and 6 were printed, each a whole JSON line, and no
    # summary claims the stream ended
    printed = [json.loads(line) for line in ran.stdout.splitlines()]
    assert [line["frame"] for line in printed] == [3, 5], printed
    assert all(len(line["top5"]) == 5 for line in printed)
    # the render holds the six frames labelled before the failure, as a whole video
    assert frames_in(render) == 6
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["clip.mp4", "labelled.mp4", "site"]
    ), "a temporary file was left"


def test_an_estimator_failing_to_open_is_one_line_on_stream_and_video(
    broken, checkpoint, video, tmp_path
) -> None:
    render = tmp_path / "labelled.mp4"
    for kind in ("--stream", "--video"):
        ran = stgcn_in_process(
            "predict",
            "--checkpoint",
            str(checkpoint),
            kind,
            str(video),
            "--estimator",
            "unopenable",
            "--render",
            str(render),
        )
        line = one_error_line(
            ran,
            "pose estimator 'unopenable' (plugin stgcn-pose-broken) failed in open: TypeError: "
            "Couldn't parse file content! b'",
            "more characters); --debug shows the traceback",
        )
        assert len(line) < 500, f"{kind}: the model's bytes were printed"
        assert not render.exists(), kind


def test_a_frame_failing_in_a_video_is_one_line_and_writes_nothing(
    broken, checkpoint, video, tmp_path
) -> None:
    render, skeleton = tmp_path / "labelled.mp4", tmp_path / "skeleton.json"
    ran = stgcn_in_process(
        "predict",
        "--checkpoint",
        str(checkpoint),
        "--video",
        str(video),
        "--estimator",
        "midway",
        "--render",
        str(render),
        "--save-skeleton",
        str(skeleton),
        "--json",
    )
    one_error_line(ran, "pose estimator 'midway'", "failed in estimate (frame 6): ValueError")
    assert ran.stdout == ""
    assert not render.exists() and not skeleton.exists()
