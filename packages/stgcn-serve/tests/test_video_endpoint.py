"""``POST /v1/predict/video`` of a real ``stgcn serve``: a video of two real people
(scikit-image's photographs) answered with exactly ``stgcn predict --video --json``'s
windows, through the real MediaPipe estimator; bad uploads each a 4xx JSON error with
one log line, and the next video is answered."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from pathlib import Path

import httpx
import pytest
from pictures import make_video
from serve_helpers import running_server

from stgcn.testing.helpers import run_stgcn

pytest.importorskip("mediapipe")
pytest.importorskip("cv2")

FRAMES = 12
WINDOW = ["--window", "6", "--stride", "3"]


def cut_off_upload(url: str, path: str) -> None:
    """A client that declares a million bytes, sends a thousand and hangs up."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as raw:
        head = f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n"
        raw.sendall(head.encode() + b"\0" * 1000)


async def post_together(url: str, bodies: list[bytes]) -> list[httpx.Response]:
    async with httpx.AsyncClient(timeout=300) as http:
        return await asyncio.gather(*(http.post(url, content=body) for body in bodies))


@pytest.mark.timeout(400)
def test_video_answers_equal_predict_video_json(checkpoint: Path, tmp_path: Path) -> None:
    video = make_video(tmp_path / "two.mp4", FRAMES)
    ran = run_stgcn("predict", "--video", str(video), "--checkpoint", str(checkpoint),
                    "--json", "--explain", *WINDOW)  # fmt: skip
    assert ran.returncode == 0, ran.stderr
    expected = json.loads(ran.stdout)
    assert len(expected["windows"]) == 3 and expected["frames_with_pose"] == FRAMES
    assert all(sorted(w["tracks"]) == [1, 2] for w in expected["windows"])  # both people
    white = make_video(tmp_path / "white.mp4", 4, walkers=())
    whole = video.read_bytes()
    args = ["--checkpoint", str(checkpoint), "--explain", *WINDOW, "--max-video-mb", "1"]
    with running_server(tmp_path, *args) as server, httpx.Client(timeout=300) as http:
        url = f"{server.url}/v1/predict/video"
        answer = http.post(url, content=whole, params={"filename": "two.mp4"})
        assert answer.status_code == 200, answer.text
        got = answer.json()
        bad = [
            ("truncated video", whole[: len(whole) // 3], {}, 422, "cannot read"),
            ("not a video", b"hello", {}, 422, "cannot read"),
            ("empty body", b"", {}, 400, "empty body"),
            ("nobody in it", white.read_bytes(), {}, 422, "no person found"),
            ("a window of 0", whole, {"window": "0"}, 422, "window must be"),
            ("oversized", b"\0" * (1024 * 1024 + 1), {}, 413, "at most"),
        ]
        for what, body, params, status, fragment in bad:
            logged = len(server.log_lines())
            refused = http.post(url, content=body, params=params)
            assert refused.status_code == status, (what, refused.text)
            assert fragment in refused.json()["error"], (what, refused.text)
            time.sleep(0.05)
            new = server.log_lines()[logged:]
            assert len(new) == 1 and f"{status} " in new[0], (what, new)
        # three videos at once: one estimated, one waiting, the third refused at once
        together = asyncio.run(post_together(url, [white.read_bytes()] * 3))
        cut_off_upload(server.url, "/v1/predict/video")
        # the query's window and stride override the server's
        again = http.post(url, content=whole, params={"window": "12", "stride": "12"})
        metrics = http.get(f"{server.url}/metrics").text
        assert server.process.poll() is None
    assert got == expected
    assert sorted(answer.status_code for answer in together) == [422, 422, 429]
    (refused,) = [answer for answer in together if answer.status_code == 429]
    assert refused.headers["retry-after"] == "5" and "retry later" in refused.json()["error"]
    assert again.status_code == 200, again.text
    assert [(w["start"], w["end"]) for w in again.json()["windows"]] == [(0, 12)]
    assert 'stgcn_serve_requests_total{route="/v1/predict/video",status="200"} 2' in metrics
    log = server.log.read_text()
    assert "Traceback" not in log and "hung up before the video ended" in log
