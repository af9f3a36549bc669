"""Several people a frame with the real models (``max_people``): scikit-image's astronaut
and cameraman side by side on video, walking apart, entering and leaving; and
``stgcn data extract --max-people`` writing them into Kinetics clips."""

from __future__ import annotations

import functools
import json
from pathlib import Path

import numpy as np
import pytest
from pose_helpers import (
    PEOPLE_HEIGHT,
    PEOPLE_WIDTH,
    PHOTO_SIZE,
    TWO_FRAMES,
    TWO_WALKERS,
    Walker,
    assert_one_line_error,
    make_people_video,
    people_frame,
)

from stgcn.errors import StgcnError
from stgcn.plugins.registry import get_registry
from stgcn.pose.skeletons import read_kinetics
from stgcn.pose.video import estimate_video
from stgcn.records import POSE_ESTIMATORS, PoseOpenRequest
from stgcn.testing.helpers import run_stgcn

NOSE, LEFT_SHOULDER, RIGHT_SHOULDER = 0, 11, 12


@pytest.fixture(scope="module")
def two_people_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("people")
    return make_people_video(folder / "two.mp4", TWO_FRAMES, TWO_WALKERS)


def over_photo(person: np.ndarray, walker: Walker, t: int) -> bool:
    """The person's nose lies over the walker's photograph in frame ``t``."""
    left = walker.left(t)
    assert left is not None
    return left / PEOPLE_WIDTH < person[NOSE, 0] < (left + PHOTO_SIZE) / PEOPLE_WIDTH


def test_the_plugin_says_it_finds_several_people() -> None:
    estimator = get_registry().get(POSE_ESTIMATORS, "mediapipe")
    assert estimator.max_persons is None and estimator.people_option == "max_people"


def test_two_people_at_their_places(two_people_video: Path) -> None:
    estimator = get_registry().get(POSE_ESTIMATORS, "mediapipe")
    raw = estimate_video(two_people_video, estimator, {"max_people": "2"})
    assert len(raw.frames) == TWO_FRAMES
    noses = np.zeros((TWO_FRAMES, 2))
    for t, persons in enumerate(raw.frames):
        assert len(persons) == 2, t
        # most salient first (summed score), as the core ranks people
        assert persons[0][:, 2].sum() >= persons[1][:, 2].sum()
        by_x = sorted(persons, key=lambda person: float(person[NOSE, 0]))
        for person, walker in zip(by_x, TWO_WALKERS, strict=True):
            assert person.shape == (33, 3) and person.dtype == np.float32
            assert over_photo(person, walker, t), (t, walker.photo, person[NOSE])
            assert person[NOSE, 2] > 0.5
        noses[t] = [by_x[0][NOSE, 0], by_x[1][NOSE, 0]]
    # the astronaut faces the camera upright: her left shoulder is on the image's right,
    # both below her nose (the cameraman bends to his camera: his nose is as low)
    for persons in raw.frames:
        astronaut = min(persons, key=lambda person: float(person[NOSE, 0]))
        assert astronaut[LEFT_SHOULDER, 0] > astronaut[RIGHT_SHOULDER, 0]
        assert astronaut[NOSE, 1] < astronaut[[LEFT_SHOULDER, RIGHT_SHOULDER], 1].min()
    # each nose follows its photograph: 3 pixels a frame, one left and one right
    steps = np.arange(TWO_FRAMES)
    for column, walker in enumerate(TWO_WALKERS):
        slope = np.polyfit(steps, noses[:, column] * PEOPLE_WIDTH, 1)[0]
        assert slope == pytest.approx(walker.shift, abs=1.0), walker.photo


def test_people_entering_and_leaving(tmp_path: Path) -> None:
    # the astronaut leaves after frame 5, the cameraman comes in at frame 3
    astronaut = Walker("astronaut", 60, -3, leave=6)
    cameraman = Walker("cameraman", 360, 3, enter=3)
    frames = 9
    video = make_people_video(tmp_path / "in-and-out.mp4", frames, (astronaut, cameraman))
    estimator = get_registry().get(POSE_ESTIMATORS, "mediapipe")
    raw = estimate_video(video, estimator, {"max_people": "2"})
    seen: dict[str, list[int]] = {"astronaut": [], "cameraman": []}
    for t, persons in enumerate(raw.frames):
        for person in persons:
            # every skeleton is one of the people in view, each found once
            (walker,) = [
                w
                for w in (astronaut, cameraman)
                if w.left(t) is not None and over_photo(person, w, t)
            ]
            seen[walker.photo].append(t)
    assert seen["astronaut"] == list(range(6))
    # the detector may need a frame to pick up a newcomer; from then on he is tracked
    assert seen["cameraman"] in (list(range(3, frames)), list(range(4, frames)))


def test_max_people_option() -> None:
    estimator = get_registry().get(POSE_ESTIMATORS, "mediapipe")
    for bad in ("0", "two"):
        with pytest.raises(StgcnError, match="max_people"):
            estimator.open(PoseOpenRequest({"max_people": bad}))


def _clip(output: Path) -> dict:
    (path,) = (output / "kinetics_train").glob("*.json")
    return json.loads(path.read_text())


def test_extract_writes_the_people_of_each_frame(two_people_video: Path, tmp_path: Path) -> None:
    videos = tmp_path / "videos" / "walking_apart"
    videos.mkdir(parents=True)
    (videos / "two.mp4").symlink_to(two_people_video)
    written = {}
    for count in (2, 1):
        output = tmp_path / f"set{count}"
        ran = run_stgcn(
            "data",
            "extract",
            "--videos",
            str(videos.parent),
            "--output",
            str(output),
            "--val-ratio",
            "0",
            "--workers",
            "1",
            "--max-people",
            str(count),
        )
        assert ran.returncode == 0, ran.stderr
        written[count] = _clip(output)
        assert json.loads((output / "extract.json").read_text())["max_people"] == count
    two, one = written[2]["data"], written[1]["data"]
    assert [entry["frame_index"] for entry in two] == list(range(TWO_FRAMES))
    assert [entry["frame_index"] for entry in one] == list(range(TWO_FRAMES))
    for t, entry in enumerate(two):
        skeletons = entry["skeleton"]
        assert len(skeletons) == 2
        assert all(len(s["pose"]) == 36 and len(s["score"]) == 18 for s in skeletons)
        # written most salient first, the order a model's two person slots take them in
        assert sum(skeletons[0]["score"]) >= sum(skeletons[1]["score"])
        by_x = sorted(skeletons, key=lambda s: s["pose"][0])
        for skeleton, walker in zip(by_x, TWO_WALKERS, strict=True):
            nose = np.array([skeleton["pose"][0], skeleton["pose"][1], skeleton["score"][0]])
            assert over_photo(nose[None], walker, t)
    # one person a frame: the one-person graph follows the person its detector ranks
    # first (the astronaut, facing the camera), one of the two, in every frame
    for t, entry in enumerate(one):
        (skeleton,) = entry["skeleton"]
        nose = np.array([skeleton["pose"][0], skeleton["pose"][1], skeleton["score"][0]])
        assert over_photo(nose[None], TWO_WALKERS[0], t), t
        same = [s for s in two[t]["skeleton"] if abs(s["pose"][0] - skeleton["pose"][0]) < 0.03]
        assert len(same) == 1, t
    # the clip reads back as a Kinetics clip of two people a frame
    (path,) = (tmp_path / "set2" / "kinetics_train").glob("*.json")
    assert all(len(persons) == 2 for persons in read_kinetics(path).frames)


@pytest.mark.parametrize(
    ("extra", "fragments"),
    [
        (["--max-people", "0"], ["--max-people must be at least 1, got 0"]),
        (["--max-people", "many"], ["'many' is not a valid integer"]),
        (
            ["--max-people", "2", "--estimator-option", "max_people=3"],
            ["--max-people 2 and --estimator-option max_people=3 disagree"],
        ),
    ],
)
def test_bad_max_people_is_one_line(tmp_path: Path, extra: list[str], fragments) -> None:
    videos = tmp_path / "videos" / "walking"
    videos.mkdir(parents=True)
    (videos / "clip.mp4").write_bytes(b"never opened: the options are checked first")
    output = tmp_path / "set"
    ran = run_stgcn(
        "data", "extract", "--videos", str(videos.parent), "--output", str(output), *extra
    )
    assert_one_line_error(ran, *fragments)
    assert not output.exists()


def test_crops_are_squares_inside_the_frame() -> None:
    from stgcn_pose_mediapipe.people import CROP_MARGIN, crop_box, moved

    person = np.array([[300.0, 150.0, 1.0], [360.0, 350.0, 1.0]])
    x, y, side = crop_box(person, 640, 480)
    # the landmarks' box (60 x 200), square about its centre (330, 250), enlarged
    assert side == round(200 * CROP_MARGIN) and (x, y) == (330 - side // 2, 250 - side // 2)
    # a body taller than the frame: a square as tall as the frame, moved inside it
    tall = np.array([[600.0, -100.0, 1.0], [630.0, 700.0, 1.0]])
    assert crop_box(tall, 640, 480) == (160, 0, 480)
    # the crop stays while its person moves a little, follows when they move more
    assert not moved((0, 0, 300), (20, 0, 300))
    assert moved((0, 0, 300), (40, 0, 300)) and moved((0, 0, 300), (0, 0, 400))


def test_tracked_people_skip_the_search_and_match_the_tiles(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from stgcn_pose_mediapipe import people

    searches = []
    search = people.TiledPeople.tile_calls

    def counted(self, image):
        searches.append(1)
        return search(self, image)

    tracked = people.MediaPipePeople(2, 0.5, 0.5)
    tiled = people.TiledPeople(2, (0.5, 0.5))
    apart = []
    try:
        for t in range(TWO_FRAMES):
            image = people_frame(t, TWO_WALKERS)
            reference = sorted(tiled.estimate(image), key=lambda person: float(person[NOSE, 0]))
            with monkeypatch.context() as patch:
                patch.setattr(people.TiledPeople, "tile_calls", counted)
                ours = sorted(tracked.estimate(image), key=lambda person: float(person[NOSE, 0]))
            assert len(ours) == 2, t
            for person, walker in zip(ours, TWO_WALKERS, strict=True):
                assert over_photo(person, walker, t), (t, walker.photo)
            pairs = zip(ours, reference, strict=True)
            apart.append([abs(a[NOSE, 0] - b[NOSE, 0]) for a, b in pairs])
    finally:
        tracked.close()
        tiled.close()
    # the whole frame is searched in the first frame only: each person is then followed
    # on their crop alone
    assert len(searches) == 1
    # and the noses stay where the tiles put them (measured: within 5 pixels of the 640)
    assert np.max(apart) * PEOPLE_WIDTH < 12, np.max(apart) * PEOPLE_WIDTH


def test_landmarkers_run_their_calls_at_once_in_order(monkeypatch: pytest.MonkeyPatch) -> None:
    import threading

    from stgcn_pose_mediapipe import people

    monkeypatch.setattr(people, "available_cores", lambda: 2)
    both = threading.Barrier(2, timeout=30)

    def meet(item: int) -> tuple[int, str]:
        # one after the other, the first call waits alone and the barrier breaks
        both.wait()
        return item * 10, threading.current_thread().name

    landmarkers = people.Landmarkers()
    try:
        results = landmarkers.run([functools.partial(meet, 1), functools.partial(meet, 2)])
    finally:
        landmarkers.close()
    assert [value for value, _ in results] == [10, 20]
    assert all(thread.startswith("landmarker") for _, thread in results)
    # on one core, or for one call, in the caller's thread
    monkeypatch.setattr(people, "available_cores", lambda: 1)
    alone = people.Landmarkers()
    here = [lambda: threading.current_thread().name] * 2
    assert alone.run(here) == ["MainThread"] * 2
    alone.close()


def test_tracks_followed_at_once_give_the_skeletons_of_one_after_the_other(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import threading

    from stgcn_pose_mediapipe import people

    follow = people.Track.follow

    def recorded(self, image):
        threads.add(threading.current_thread().name)
        return follow(self, image)

    monkeypatch.setattr(people.Track, "follow", recorded)
    skeletons = {}
    for cores in (1, 2):
        threads: set[str] = set()
        monkeypatch.setattr(people, "available_cores", lambda cores=cores: cores)
        model = people.MediaPipePeople(2, 0.5, 0.5)
        try:
            skeletons[cores] = [model.estimate(people_frame(t, TWO_WALKERS)) for t in range(6)]
        finally:
            model.close()
        ran_in = {name.startswith("landmarker") for name in threads}
        assert ran_in == {cores == 2}, threads
    # the same people, the same landmarks to the bit: each landmarker's own results
    assert [len(frame) for frame in skeletons[2]] == [2] * 6
    for serial, concurrent in zip(skeletons[1], skeletons[2], strict=True):
        assert len(serial) == len(concurrent)
        for a, b in zip(serial, concurrent, strict=True):
            np.testing.assert_array_equal(a, b)


def test_one_person_in_view_is_followed_and_hidden_from_the_search(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With room for two and one in view, the frame is searched every frame, but the
    tiles see the tracked person blacked out (so that they find nobody and run no
    landmark model on them), at once with the person's own crop."""
    from stgcn_pose_mediapipe import people

    alone = (Walker("astronaut", 200, 2),)
    searched, batches = [], []
    tile_calls, run = people.TiledPeople.tile_calls, people.Landmarkers.run

    def recorded_tiles(self, image):
        calls = tile_calls(self, image)
        searched.append(image)
        return [functools.partial(found, call) for call in calls]

    def found(call):
        people_found = call()
        finds.append(len(people_found))
        return people_found

    def recorded_run(self, calls):
        batches.append(len(calls))
        return run(self, calls)

    finds: list[int] = []
    monkeypatch.setattr(people.TiledPeople, "tile_calls", recorded_tiles)
    monkeypatch.setattr(people.Landmarkers, "run", recorded_run)
    model = people.MediaPipePeople(2, 0.5, 0.5)
    try:
        frames = [model.estimate(people_frame(t, alone)) for t in range(5)]
    finally:
        model.close()
    tiles = len(people.tile_offsets(PEOPLE_WIDTH, PEOPLE_HEIGHT))
    # every frame searched (room for one more); from the second on, with the person's
    # crop in the same batch of calls, and the tiles finding nobody
    assert len(searched) == 5 and batches == [tiles] + [1 + tiles] * 4
    assert finds[:tiles].count(0) < tiles and finds[tiles:] == [0] * (4 * tiles)
    for t, persons in enumerate(frames):
        (person,) = persons
        assert over_photo(person, alone[0], t), t
        if t > 0:
            # the person's nose (from the track) lies in the black the tiles saw
            image = searched[t]
            x, y = (person[NOSE, :2] * (PEOPLE_WIDTH, PEOPLE_HEIGHT)).astype(int)
            assert not image[y - 5 : y + 5, x - 5 : x + 5].any(), t
