"""Several people and live sources with the real estimator on real photographs: track
ids that stay with each person (and a new one for someone new), ``stgcn predict --stream``
(JSON lines as the video plays, --realtime dropping what it cannot keep up with, the
render, --explain), ``predict --video`` with two people, and the one-line refusals."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from pose_helpers import (
    PEOPLE_HEIGHT,
    PEOPLE_WIDTH,
    TWO_FRAMES,
    TWO_WALKERS,
    Walker,
    assert_one_line_error,
    make_people_video,
    people_frame,
)

from stgcn.plugins.registry import get_registry
from stgcn.pose import OPENPOSE_18
from stgcn.pose.tracking import track_frames
from stgcn.pose.video import estimate_video
from stgcn.records import POSE_ESTIMATORS
from stgcn.testing.helpers import run_stgcn

NOSE = OPENPOSE_18.index("nose")


@pytest.fixture(scope="module")
def two_people(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The astronaut walking left and the cameraman walking right, side by side."""
    return make_people_video(tmp_path_factory.mktemp("two") / "two.mp4", TWO_FRAMES, TWO_WALKERS)


def tracked_noses(path: Path) -> dict[int, list[tuple[int, float]]]:
    """Each track's (frame, nose x) through the real estimator and the tracker."""
    estimator = get_registry().get(POSE_ESTIMATORS, "mediapipe")
    raw = estimate_video(path, estimator, {"max_people": "2"})
    skeletons = raw.to_layout("openpose")
    tracks: dict[int, list[tuple[int, float]]] = {}
    for frame, persons in enumerate(track_frames(skeletons.frames)):
        for person in persons:
            tracks.setdefault(person.track, []).append((frame, float(person.joints[NOSE, 0])))
    return tracks


def test_two_people_keep_their_tracks_and_move_their_way(two_people: Path) -> None:
    tracks = tracked_noses(two_people)
    assert len(tracks) == 2, tracks  # two ids for the whole clip: none lost, none swapped
    for seen in tracks.values():
        assert len(seen) >= TWO_FRAMES - 1
    by_start = sorted(tracks.values(), key=lambda seen: seen[0][1])
    for seen, walker in zip(by_start, sorted(TWO_WALKERS, key=lambda w: w.start), strict=True):
        frames = np.array([f for f, _ in seen])
        x = np.array([x for _, x in seen]) * PEOPLE_WIDTH
        slope = np.polyfit(frames, x, 1)[0]
        # each nose follows its own photograph's move (3 pixels a frame, left or right)
        assert slope == pytest.approx(walker.shift, abs=1.5), (walker.photo, slope)


def test_someone_leaving_and_someone_new(tmp_path: Path) -> None:
    walkers = (Walker("astronaut", 40, 4, leave=6), Walker("cameraman", 340, -4, enter=10))
    tracks = tracked_noses(make_people_video(tmp_path / "swap.mp4", 16, walkers))
    assert len(tracks) == 2, tracks
    first, second = sorted(tracks.values(), key=lambda seen: seen[0][0])
    assert max(f for f, _ in first) < 6 and min(f for f, _ in second) >= 10


def stream_lines(ran) -> tuple[list[dict], dict]:
    assert ran.returncode == 0, ran.stderr
    lines = [json.loads(line) for line in ran.stdout.splitlines()]
    return lines[:-1], lines[-1]["summary"]


def test_stream_two_people_as_json(two_people: Path, checkpoint, tmp_path: Path) -> None:
    rendered = tmp_path / "seen.mp4"
    ran = run_stgcn(
        "predict",
        "--stream",
        str(two_people),
        "--checkpoint",
        str(checkpoint),
        "--json",
        "--window",
        "6",
        "--stride",
        "3",
        "--render",
        str(rendered),
        "--explain",
    )
    windows, summary = stream_lines(ran)
    # the model takes two persons: one clip a window holding both tracks, ends at 5, 8, 11
    assert [w["frame"] for w in windows] == [5, 8, 11]
    assert {tuple(sorted(w["tracks"])) for w in windows} == {(1, 2)}
    for window in windows:
        assert window["time"] == pytest.approx(window["frame"] / 30, abs=1e-3)
        x1, y1, x2, y2 = window["box"]
        assert 0 <= x1 < x2 <= PEOPLE_WIDTH and 0 <= y1 < y2 <= PEOPLE_HEIGHT
        assert [sorted(row) for row in window["top5"]] == [["class", "name", "probability"]] * 5
        importance = window["joint_importance"]
        assert len(importance) == 18 and max(importance) == 1.0 and min(importance) >= 0
    assert summary["frames"] == summary["processed"] == TWO_FRAMES
    assert summary["dropped"] == 0 and summary["tracks"] == 2 and summary["windows"] == 3
    parts = {"decode", "pose", "tracking", "classification"}
    assert summary["mean_latency_s"] > 0
    assert set(summary["ms_per_frame"]) == set(summary["cpu_ms_per_frame"]) == parts
    import cv2

    capture = cv2.VideoCapture(str(rendered))
    frames = []
    while (read := capture.read())[0]:
        frames.append(read[1])
    capture.release()
    assert len(frames) == TWO_FRAMES
    plain = cv2.cvtColor(people_frame(TWO_FRAMES - 1, TWO_WALKERS), cv2.COLOR_RGB2BGR)
    drawn = np.abs(frames[-1].astype(int) - plain.astype(int)).sum(axis=2) > 60
    assert drawn[:, : PEOPLE_WIDTH // 2].sum() > 200 and drawn[:, PEOPLE_WIDTH // 2 :].sum() > 200


def test_realtime_drops_what_it_cannot_keep_up_with(checkpoint, tmp_path: Path) -> None:
    """A file played at 300 frames a second: no machine estimates poses that fast, so
    --realtime drops frames and says how many; without it nothing is dropped."""
    import cv2

    path = tmp_path / "fast.mp4"
    writer = cv2.VideoWriter(
        str(path), cv2.VideoWriter_fourcc(*"mp4v"), 300.0, (PEOPLE_WIDTH, PEOPLE_HEIGHT)
    )
    walkers = TWO_WALKERS[:1]
    for t in range(40):
        writer.write(cv2.cvtColor(people_frame(t, walkers), cv2.COLOR_RGB2BGR))
    writer.release()
    common = ["--checkpoint", str(checkpoint), "--window", "4", "--max-people", "1"]
    ran = run_stgcn("predict", "--stream", str(path), "--realtime", *common)
    assert ran.returncode == 0, ran.stderr
    summary = ran.stdout.splitlines()[-1]
    dropped = int(summary.split(" dropped")[0].rsplit(" ", 1)[1])
    assert summary.startswith("stream ended: 40 frames, ") and dropped > 0, summary
    assert f"{40 - dropped} processed" in summary
    _, plain = stream_lines(run_stgcn("predict", "--stream", str(path), "--json", *common))
    assert plain["dropped"] == 0 and plain["processed"] == 40


def test_predict_video_with_two_people(two_people: Path, checkpoint) -> None:
    ran = run_stgcn(
        "predict",
        "--video",
        str(two_people),
        "--checkpoint",
        str(checkpoint),
        "--json",
        "--window",
        "6",
        "--stride",
        "6",
    )
    assert ran.returncode == 0, ran.stderr
    windows = json.loads(ran.stdout)["windows"]
    assert [(w["start"], w["end"]) for w in windows] == [(0, 6), (6, 12)]
    assert all(sorted(w["tracks"]) == [1, 2] for w in windows)


def test_bad_sources_are_one_line(checkpoint, tmp_path: Path) -> None:
    import cv2

    common = ["--checkpoint", str(checkpoint), "--window", "4"]
    missing = run_stgcn("predict", "--stream", str(tmp_path / "none.mp4"), *common)
    assert_one_line_error(missing, "stream source not found")
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"not a video")
    assert_one_line_error(run_stgcn("predict", "--stream", str(junk), *common), "cannot open")
    shown = run_stgcn(
        "predict",
        "--stream",
        str(junk),
        "--show",
        *common,
        env={"DISPLAY": "", "WAYLAND_DISPLAY": ""},
    )
    assert_one_line_error(shown, "--show needs a display")
    # a video cut short: what was read is labelled and rendered, then one line
    whole = tmp_path / "whole.avi"
    writer = cv2.VideoWriter(
        str(whole), cv2.VideoWriter_fourcc(*"MJPG"), 30.0, (PEOPLE_WIDTH, PEOPLE_HEIGHT)
    )
    for t in range(16):
        writer.write(cv2.cvtColor(people_frame(t, TWO_WALKERS[:1]), cv2.COLOR_RGB2BGR))
    writer.release()
    cut = tmp_path / "cut.avi"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    rendered = tmp_path / "cut.mp4"
    ended = run_stgcn("predict", "--stream", str(cut), "--json", "--render", str(rendered), *common)
    assert_one_line_error(ended, "ended early", "of its 16 frames")
    *windows, last = [json.loads(line) for line in ended.stdout.splitlines()]
    read = last["summary"]["frames"]
    assert 0 < read < 16 and windows
    capture = cv2.VideoCapture(str(rendered))
    assert int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) == read
    capture.release()


def test_ctrl_c_ends_with_a_summary(checkpoint, tmp_path: Path) -> None:
    """SIGINT while a file plays in real time: the labels so far, the summary (marked
    interrupted) as the last JSON line, exit 0, and a whole rendered video."""
    import signal
    import subprocess
    import time

    import cv2

    from stgcn.testing.helpers import STGCN, command_environment

    source = make_people_video(tmp_path / "long.mp4", 150, TWO_WALKERS[:1])
    rendered = tmp_path / "seen.mp4"
    process = subprocess.Popen(
        [
            *STGCN,
            "predict",
            "--stream",
            str(source),
            "--realtime",
            "--json",
            "--checkpoint",
            str(checkpoint),
            "--window",
            "4",
            "--stride",
            "2",
            "--max-people",
            "1",
            "--render",
            str(rendered),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=command_environment(),
    )
    assert process.stdout is not None
    first = process.stdout.readline()  # a window was labelled: the stream is running
    assert json.loads(first)["top5"], first
    time.sleep(0.5)
    process.send_signal(signal.SIGINT)
    rest, errors = process.communicate(timeout=120)
    assert process.returncode == 0, errors
    *windows, last = [json.loads(line) for line in rest.splitlines()]
    summary = last["summary"]
    assert summary["interrupted"] is True and 0 < summary["frames"] < 150
    frames = [window["frame"] for window in windows]
    assert frames == sorted(frames) and summary["windows"] == len(windows) + 1
    capture = cv2.VideoCapture(str(rendered))
    assert int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) == summary["processed"]
    capture.release()
