"""``GET /v1/stream`` of a real ``stgcn serve``, driven by a real WebSocket client
(websockets): JPEG frames of two real people answered frame by frame with their tracked
skeletons and, every stride, the ``predict --stream --json --explain`` lines; frames a
slow client sends faster than they are processed dropped and counted, not queued; a
frame that is no picture, a text message and an oversized frame each answered with an
error message while the stream and the server go on; one stream too many refused."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import pytest
from pictures import jpeg, make_video, people_frame
from serve_helpers import running_server

from stgcn.testing.helpers import run_stgcn

pytest.importorskip("mediapipe")
pytest.importorskip("cv2")
websockets_sync = pytest.importorskip("websockets.sync.client")

WINDOW, STRIDE = 4, 2
FRAMES = 8


def receive(socket, seconds: float = 60) -> dict:
    return json.loads(socket.recv(timeout=seconds))


def stream_line_keys(checkpoint: Path, tmp_path: Path) -> set[str]:
    """The keys of ``stgcn predict --stream --json --explain``'s window lines."""
    video = make_video(tmp_path / "two.mp4", WINDOW)
    ran = run_stgcn("predict", "--stream", str(video), "--checkpoint", str(checkpoint),
                    "--json", "--explain", "--window", str(WINDOW))  # fmt: skip
    assert ran.returncode == 0, ran.stderr
    return set(json.loads(ran.stdout.splitlines()[0]))


@pytest.mark.timeout(400)
def test_stream_of_two_people(checkpoint: Path, tmp_path: Path) -> None:
    keys = stream_line_keys(checkpoint, tmp_path)
    frames = [jpeg(people_frame(t)) for t in range(FRAMES)]
    args = ["--checkpoint", str(checkpoint), "--explain", "--window", str(WINDOW),
            "--stride", str(STRIDE), "--max-frame-kb", "200", "--max-streams", "1"]  # fmt: skip
    with running_server(tmp_path, *args) as server:
        ws_url = server.url.replace("http://", "ws://") + "/v1/stream"
        with websockets_sync.connect(ws_url, max_size=None) as socket:
            hello = receive(socket)
            assert hello == {"type": "hello", "window": WINDOW, "stride": STRIDE, "max_people": 2}
            # frame by frame, each answer awaited: nothing dropped
            answers = []
            for data in frames:
                socket.send(data)
                answers.append(receive(socket))
            # bad frames: each an error message, and the stream goes on
            socket.send(b"not a picture")
            not_picture = receive(socket)
            socket.send("a text message")
            text = receive(socket)
            socket.send(b"\xff\xd8" + b"\0" * 300_000)
            oversized = receive(socket)
            socket.send(frames[0])
            after_errors = receive(socket)
            # one stream too many: refused, with a reason, while this one stays open
            with websockets_sync.connect(ws_url) as second:
                refused = receive(second)
                with pytest.raises(Exception):  # noqa: B017 - closed by the server (1013)
                    second.recv(timeout=10)
                assert second.close_code == 1013
            # a slow client: 30 frames at once, answers read only afterwards
            for t in range(30):
                socket.send(jpeg(people_frame(t % FRAMES)))
            burst = []
            while True:
                try:
                    message = receive(socket, 20)
                except TimeoutError:
                    break
                burst.append(message)
                if message["frame"] == FRAMES + 4 + 30 - 1:  # the last frame sent, answered
                    break
        # a client that sends and hangs up without reading: the server goes on
        wait_until_no_stream_is_open(server.url)  # the first one's estimator closed
        with websockets_sync.connect(ws_url) as leaving:
            receive(leaving)
            for data in frames[:5]:
                leaving.send(data)
        wait_until_no_stream_is_open(server.url)
        metrics = httpx.get(f"{server.url}/metrics").text
        assert httpx.get(f"{server.url}/healthz").status_code == 200
    assert [answer["type"] for answer in answers] == ["frame"] * FRAMES
    assert [answer["frame"] for answer in answers] == list(range(FRAMES))
    assert all(answer["dropped"] == 0 for answer in answers)
    for answer in answers:
        assert (answer["width"], answer["height"]) == (640, 320)
        assert sorted(person["track"] for person in answer["people"]) == [1, 2]
        for person in answer["people"]:
            assert len(person["joints"]) == 18 and len(person["joints"][0]) == 3
    labelled = [answer for answer in answers if answer["windows"]]
    # a window ends at the 4th frame processed, then every 2nd: frames 3, 5, 7
    assert [answer["frame"] for answer in labelled] == [3, 5, 7]
    for answer in labelled:
        (line,) = answer["windows"]  # the model takes two persons: one clip of both
        assert set(line) == keys
        assert sorted(line["tracks"]) == [1, 2] and line["frame"] == answer["frame"]
        assert len(line["top5"]) == 5 and line["top5"][0]["probability"] > 0
        importance = line["joint_importance"]
        assert len(importance) == 18 and max(importance) == 1.0
    assert not_picture == {"type": "error", "frame": FRAMES,
                           "error": "frame of 13 bytes is not a JPEG or PNG picture"}  # fmt: skip
    assert text["type"] == "error" and "binary message" in text["error"]
    assert oversized["type"] == "error" and "at most 204800" in oversized["error"]
    assert after_errors["type"] == "frame" and after_errors["frame"] == FRAMES + 3
    assert refused["type"] == "error" and "1 streams are open" in refused["error"]
    assert burst and all(message["type"] == "frame" for message in burst)
    dropped = burst[-1]["dropped"]
    assert dropped > 0 and len(burst) + dropped == 30, (len(burst), dropped)
    assert "stgcn_serve_frames_dropped_total" in metrics  # this burst's and the leaver's
    assert log_closed(server.log.read_text()) == 2, server.log.read_text()
    assert "stgcn_serve_frame_errors_total 3" in metrics
    assert "stgcn_serve_streams_open 0" in metrics
    log = server.log.read_text()
    assert "Traceback" not in log
    assert log.count("WEBSOCKET /v1/stream: frame ") == 3  # one line a bad frame


def log_closed(log: str) -> int:
    """Streams the log says were closed after their frames."""
    return sum(1 for line in log.splitlines() if "WEBSOCKET /v1/stream: closed after" in line)


def wait_until_no_stream_is_open(url: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while "stgcn_serve_streams_open 0" not in httpx.get(f"{url}/metrics").text:
        assert time.monotonic() < deadline, "a stream stayed open"
        time.sleep(0.2)
