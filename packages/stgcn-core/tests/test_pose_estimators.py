"""The ``stgcn_register_pose_estimators`` hook (plugin API 1.3): registration through an
installed distribution, the listing, refusals, and that the core's pose code imports
neither OpenCV nor an estimator until a video is read."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from stgcn.errors import StgcnError
from stgcn.plugins import loading
from stgcn.plugins import registry as plugins
from stgcn.plugins.kinds import POSE_ESTIMATORS
from stgcn.plugins.listing import describe
from stgcn.pose import layouts_of
from stgcn.records import PoseEstimator, PoseOpenRequest
from stgcn.testing.helpers import make_distribution, run_stgcn

#: an estimator plugin as a third party writes one; its model finds one fixed person,
#: which is all the registry tests need (the real estimator is tested in tests-pose)
ESTIMATOR_PLUGIN = """
import numpy as np

from stgcn.hookspecs import hookimpl
from stgcn.pose import COCO_17
from stgcn.records import PoseEstimator

STGCN_API = ">=2,<3"


class Fixed:
    def estimate(self, image):
        return [np.full((17, 3), 0.5, np.float32)]

    def close(self):
        pass


@hookimpl
def stgcn_register_pose_estimators(register):
    register(PoseEstimator(name="fixed", open=lambda request: Fixed(), joints=COCO_17,
                           description="one person in the middle", max_persons=1))
"""

WRONG_RECORD = """
from stgcn.hookspecs import hookimpl


@hookimpl
def stgcn_register_pose_estimators(register):
    register({"name": "not-a-record"})
"""


def test_a_plugin_registers_a_pose_estimator(site) -> None:
    make_distribution(site, "stgcn-pose-fixed", "0.3", "fake_fixed", ESTIMATOR_PLUGIN)
    registry = plugins.get_registry()
    estimator = registry.get(POSE_ESTIMATORS, "fixed")
    assert isinstance(estimator, PoseEstimator) and estimator.max_persons == 1
    # its COCO-17 joints, matched by name, feed these layouts (openpose's neck derived)
    assert sorted(layouts_of(estimator.joints)) == ["coco", "openpose"]
    model = estimator.open(PoseOpenRequest({}))
    (person,) = model.estimate(None)
    assert person.shape == (17, 3)
    row = next(r for r in describe(registry) if r["name"] == "stgcn-pose-fixed")
    assert row["pose_estimators"] == [
        {
            "name": "fixed",
            "description": "one person in the middle",
            "layouts": ["coco", "openpose"],
            "max_persons": 1,
            "unavailable": None,
        }
    ]
    listing = run_stgcn("plugins", site=site)
    assert "  pose     fixed        coco, openpose layouts" in listing.stdout.splitlines()
    as_json = json.loads(run_stgcn("plugins", "--json", site=site).stdout)
    assert any(r["pose_estimators"] for r in as_json if r["name"] == "stgcn-pose-fixed")


def test_unknown_estimator_is_one_line(site) -> None:
    with pytest.raises(StgcnError, match="unknown pose estimator 'nope'; known pose estimators"):
        plugins.get_registry().get(POSE_ESTIMATORS, "nope")


def test_a_wrong_record_skips_only_that_plugin(site, capsys) -> None:
    make_distribution(site, "stgcn-pose-wrong", "0.1", "fake_wrong", WRONG_RECORD)
    make_distribution(site, "stgcn-pose-fixed", "0.3", "fake_fixed", ESTIMATOR_PLUGIN)
    registry = plugins.get_registry()
    assert "fixed" in registry.table(POSE_ESTIMATORS)
    assert "not-a-record" not in registry.table(POSE_ESTIMATORS)
    warning = capsys.readouterr().err
    assert "fake_wrong" in warning and "expects a PoseEstimator" in warning


def test_an_older_core_skips_the_estimator_plugin_with_a_reason(site, monkeypatch) -> None:
    make_distribution(site, "stgcn-pose-fixed", "0.3", "fake_fixed", ESTIMATOR_PLUGIN)
    monkeypatch.setattr(loading, "API_VERSION", "1.4")  # the version the loader checks
    registry = plugins.get_registry()
    info = next(i for i in registry.plugins if i.name == "fake_fixed")
    assert info.skipped == "needs stgcn plugin API >=2,<3, this stgcn-core has 1.4"


def test_the_pose_code_imports_no_opencv_until_a_video_is_read() -> None:
    code = (
        "import sys, stgcn.pose, stgcn.pose.video, stgcn.pose.extract, stgcn.pose.readers, "
        "stgcn.cli; print(sorted(m for m in ('cv2', 'mediapipe') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_without_opencv_a_video_is_one_line(tmp_path, monkeypatch) -> None:
    import builtins

    from stgcn.pose import video

    real_import = builtins.__import__

    def no_cv2(name, *args, **kwargs):
        if name == "cv2":
            raise ImportError("No module named 'cv2'")
        return real_import(name, *args, **kwargs)

    clip = tmp_path / "clip.mp4"
    clip.write_bytes(b"\0" * 16)
    monkeypatch.setattr(builtins, "__import__", no_cv2)
    with pytest.raises(StgcnError, match=r"needs OpenCV .*stgcn-core\[video\]"):
        video.video_facts(clip)


FAILING_ESTIMATOR = ESTIMATOR_PLUGIN.replace(
    "return [np.full((17, 3), 0.5, np.float32)]", "return [np.zeros((17, 3))[:, 5]]"
).replace('name="fixed"', 'name="faulty"')


def test_an_estimator_bug_is_one_line_naming_the_plugin(site, tmp_path) -> None:
    cv2 = pytest.importorskip("cv2")
    data = pytest.importorskip("skimage.data")
    from stgcn.errors import PluginError
    from stgcn.pose.video import estimate_video

    make_distribution(site, "stgcn-pose-faulty", "0.1", "fake_faulty", FAILING_ESTIMATOR)
    photo = cv2.resize(data.astronaut(), (128, 128))
    video = tmp_path / "astronaut.mp4"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"mp4v"), 5, (128, 128))
    for _ in range(3):
        writer.write(cv2.cvtColor(photo, cv2.COLOR_RGB2BGR))
    writer.release()
    estimator = plugins.get_registry().get(POSE_ESTIMATORS, "faulty")
    with pytest.raises(PluginError) as raised:
        estimate_video(video, estimator)
    assert str(raised.value) == (
        "pose estimator 'faulty' (plugin stgcn-pose-faulty) failed in estimate (frame 0): "
        "IndexError: index 5 is out of bounds for axis 1 with size 3; --debug shows the traceback"
    )
    assert isinstance(raised.value.__cause__, IndexError)


def test_max_people_reaches_the_estimators_people_option() -> None:
    from stgcn.pose import COCO_17
    from stgcn.pose.inputs import check_max_people, estimator_options_for

    def no_model(request):
        return None

    counting = PoseEstimator("counting", no_model, COCO_17, people_option="people")
    plain = PoseEstimator("plain", no_model, COCO_17)
    assert estimator_options_for(counting, {"speed": "1"}, 3) == {"speed": "1", "people": "3"}
    assert estimator_options_for(counting, {"people": "3"}, 3) == {"people": "3"}
    assert estimator_options_for(counting, {}, None) == {}
    assert estimator_options_for(plain, {"speed": "1"}, 3) == {"speed": "1"}
    with pytest.raises(StgcnError, match="--max-people 2 and --estimator-option people=3"):
        estimator_options_for(counting, {"people": "3"}, 2)
    check_max_people(None)
    check_max_people(1)
    with pytest.raises(StgcnError, match="--max-people must be at least 1, got 0"):
        check_max_people(0)


def test_an_estimator_that_cannot_run_here_is_refused_in_its_words() -> None:
    from stgcn.pose import COCO_17
    from stgcn.pose.inputs import check_estimator

    def no_model(request: PoseOpenRequest):
        raise AssertionError("never opened")

    reason = 'needs libfoo < 2, but libfoo 3.1 is installed: pip install "libfoo<2"'
    broken = PoseEstimator("broken", no_model, COCO_17, unavailable=lambda: reason)
    with pytest.raises(StgcnError) as refused:
        check_estimator(broken, "coco")
    assert str(refused.value) == f"pose estimator 'broken' cannot run here: {reason}"
    assert POSE_ESTIMATORS.text({"name": "broken", "unavailable": reason, "layouts": ["coco"]}) == (
        f"broken       unavailable: {reason}"
    )
    fine = PoseEstimator("fine", no_model, COCO_17, unavailable=lambda: None)
    check_estimator(fine, "coco")
