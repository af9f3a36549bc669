"""Bad input never takes ``stgcn serve`` down: each bad request gets a JSON error with
a 4xx status and one log line, and the next good request is answered."""

from __future__ import annotations

import contextlib
import io
import json
import socket
import time
from pathlib import Path

import httpx
import numpy as np
import pytest
from serve_helpers import running_server


def npy_bytes(array: np.ndarray) -> bytes:
    out = io.BytesIO()
    np.save(out, array)
    return out.getvalue()


def as_json(array: np.ndarray | list[object]) -> bytes:
    listed = array.tolist() if isinstance(array, np.ndarray) else array
    return json.dumps({"skeleton": listed}).encode()


def bad_requests(clip: np.ndarray) -> list[tuple[str, bytes, int, str]]:
    """(what, body, status, a fragment of the error) for each kind of bad body."""
    seventeen = clip[:, :, :17]
    with_nan = clip.copy()
    with_nan[0, 0, 0, 0] = np.nan
    whole = npy_bytes(clip)
    return [
        ("malformed JSON", b'{"skeleton": [[1, 2', 400, "neither a .npy array nor JSON"),
        ("not an object", b"[1, 2, 3]", 422, '{"skeleton": [...]}'),
        ("no skeleton", b'{"clip": []}', 422, '{"skeleton": [...]}'),
        ("empty body", b"", 400, "empty body"),
        ("ragged lists", as_json([[[[1.0]]], [[[1.0, 2.0]]]]), 422, "not a (C, T, V, M) array"),
        ("words", as_json([[[["a"]]]]), 422, "not a (C, T, V, M) array"),
        ("three axes", as_json(clip[0]), 422, "expected one sample (C, T, V, M)"),
        ("17 joints (JSON)", as_json(seventeen), 422, "18 joints (the clip has 17)"),
        ("17 joints (.npy)", npy_bytes(seventeen), 422, "18 joints (the clip has 17)"),
        ("4 channels", npy_bytes(np.concatenate([clip, clip[:1]])), 422, "3 channels"),
        ("NaN (JSON)", b'{"skeleton": [[[[NaN]]]]}', 422, "NaN or infinite"),
        ("NaN (.npy)", npy_bytes(with_nan), 422, "NaN or infinite"),
        ("truncated .npy", whole[: len(whole) // 2], 400, "not a readable .npy array"),
        ("truncated header", whole[:40], 400, "not a readable .npy array"),
        ("object .npy", npy_bytes(np.array([None, 1], dtype=object)), 400, "not a readable"),
        ("oversized body", b"0" * 70_000, 413, "at most"),
    ]


def cut_off_upload(url: str) -> None:
    """A client that declares 10,000 bytes, sends 100 and hangs up."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as raw:
        head = (
            "POST /v1/predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\n"
            "Content-Length: 10000\r\n\r\n"
        )
        raw.sendall(head.encode() + b"\x93NUMPY" + b"0" * 94)


@pytest.mark.timeout(240)
def test_bad_input_then_a_good_request(checkpoint: Path, clip: Path, tmp_path: Path) -> None:
    sample = np.load(clip)
    good = clip.read_bytes()
    # 64 KiB: room for the clip (about 3.5 KB), not for the oversized body
    args = ["--checkpoint", str(checkpoint), "--max-body-mb", str(64 / 1024)]
    with running_server(tmp_path, *args) as server, httpx.Client(timeout=30) as http:
        predict = f"{server.url}/v1/predict"
        for what, body, status, fragment in bad_requests(sample):
            logged = len(server.log_lines())
            answer = http.post(predict, content=body)
            assert answer.status_code == status, (what, answer.text)
            assert fragment in answer.json()["error"], (what, answer.text)
            time.sleep(0.05)  # the log line is written before the answer; let it land
            new = server.log_lines()[logged:]
            assert len(new) == 1 and f"{status} " in new[0], (what, new)
            assert http.post(predict, content=good).status_code == 200, what
        # a streamed body with no Content-Length is cut off at the limit too
        chunks = (b"0" * 16_384 for _ in range(8))
        assert http.post(predict, content=chunks).status_code == 413
        for method, path, status in (("GET", "/v1/predict", 405), ("GET", "/nowhere", 404)):
            answer = http.request(method, f"{server.url}{path}")
            assert answer.status_code == status and "error" in answer.json()
        cut_off_upload(server.url)
        answer = http.post(predict, content=good)
        assert answer.status_code == 200 and len(answer.json()["top"]) == 5
        assert server.process.poll() is None
    assert "Traceback" not in server.log.read_text()
    assert "hung up before the body ended" in server.log.read_text()


@pytest.mark.timeout(240)
def test_without_the_estimator_clips_are_still_served(
    clip: Path, onnx_file: Path, tmp_path: Path
) -> None:
    """An estimator that is not installed turns the picture routes off, saying why (501,
    and the stream's error message and close), and nothing else."""
    args = ["--onnx", str(onnx_file), "--estimator", "nosuch"]
    with running_server(tmp_path, *args) as server, httpx.Client(timeout=30) as http:
        video = http.post(f"{server.url}/v1/predict/video", content=b"\0" * 100)
        clip_answer = http.post(f"{server.url}/v1/predict", content=clip.read_bytes())
        page = http.get(f"{server.url}/")
        stream_error = None
        with contextlib.suppress(ImportError):
            from websockets.sync.client import connect

            with connect(server.url.replace("http://", "ws://") + "/v1/stream") as socket:
                stream_error = json.loads(socket.recv(timeout=30))
                with pytest.raises(Exception):  # noqa: B017 - closed by the server
                    socket.recv(timeout=30)
    assert video.status_code == 501, video.text
    assert "pose estimator 'nosuch' is not installed" in video.json()["error"]
    assert clip_answer.status_code == 200 and page.status_code == 200
    if stream_error is not None:
        assert stream_error["type"] == "error" and "'nosuch'" in stream_error["error"]
    assert "'nosuch' is not installed" in server.log.read_text()
