"""``POST /v1/predict`` of a real ``stgcn serve`` answers exactly as ``stgcn predict
--json`` does on the same clip and model, for both engines; ``/v1/model``, ``/healthz``
and ``/metrics`` say what they should."""

from __future__ import annotations

import asyncio
import io
import json
import socket
import subprocess
from pathlib import Path

import httpx
import numpy as np
import pytest
from serve_helpers import running_server, serve_environment

from stgcn.data.synthetic import CLASS_NAMES
from stgcn.testing.helpers import STGCN, run_stgcn


@pytest.mark.timeout(240)
@pytest.mark.parametrize("engine", ["checkpoint", "onnx"])
def test_answers_equal_predict_json(engine, checkpoint, onnx_file, clip, tmp_path) -> None:
    model = (
        ["--checkpoint", str(checkpoint)] if engine == "checkpoint" else ["--onnx", str(onnx_file)]
    )
    ran = run_stgcn("predict", *model, "--input", str(clip), "--json")
    assert ran.returncode == 0, ran.stderr
    expected = json.loads(ran.stdout)
    expected["input"] = "clip.npy"  # predict names the path it read; the request names it so
    as_json = {"skeleton": np.load(clip).tolist()}
    with running_server(tmp_path, *model) as server:
        by_npy = httpx.post(
            f"{server.url}/v1/predict", params={"input": "clip.npy"}, content=clip.read_bytes()
        )
        by_json = httpx.post(f"{server.url}/v1/predict?input=clip.npy", json=as_json)
        facts = httpx.get(f"{server.url}/v1/model").json()
        health = httpx.get(f"{server.url}/healthz")
        described = httpx.get(f"{server.url}/openapi.json").json()
        # every route the document describes is served, with the methods it names
        for path, methods in described["paths"].items():
            for method in methods:
                probe = httpx.request(method, f"{server.url}{path}", content=b"")
                assert probe.status_code not in (404, 405), (method, path)
        metrics = httpx.get(f"{server.url}/metrics").text
    for answer in (by_npy, by_json):
        assert answer.status_code == 200, answer.text
        got = answer.json()
        assert got.keys() == expected.keys()
        assert {k: v for k, v in got.items() if k != "top"} == {
            k: v for k, v in expected.items() if k != "top"
        }
        assert [(r["class"], r["name"]) for r in got["top"]] == [
            (r["class"], r["name"]) for r in expected["top"]
        ]
        for mine, theirs in zip(got["top"], expected["top"], strict=True):
            assert mine["probability"] == pytest.approx(theirs["probability"], abs=1e-6)
    assert expected["engine"] == ("pytorch" if engine == "checkpoint" else "onnxruntime")
    assert facts["engine"] == expected["engine"] and facts["dataset"] == "synthetic"
    assert facts["classes"] == list(CLASS_NAMES) and facts["num_class"] == len(CLASS_NAMES)
    assert (facts["layout"], facts["channels"], facts["joints"]) == ("openpose", 3, 18)
    assert health.status_code == 200 and health.json() == {"status": "ok"}
    assert described["openapi"].startswith("3.1")
    assert set(described["paths"]) == {
        "/", "/v1/predict", "/v1/predict/video", "/v1/model", "/healthz", "/metrics",
        "/openapi.json",
    }  # fmt: skip
    assert 'route="/openapi.json",status="200"' in metrics
    assert 'stgcn_serve_requests_total{route="/v1/predict",status="200"} 2' in metrics
    assert 'stgcn_serve_requests_total{route="/v1/predict",status="400"} 1' in metrics
    assert 'stgcn_serve_request_seconds_count{route="/v1/predict"} 3' in metrics
    assert "stgcn_serve_queue_depth 0" in metrics
    assert "stgcn_serve_batched_clips_total 2" in metrics


@pytest.mark.timeout(240)
def test_bad_command_lines_are_one_line_errors(checkpoint: Path, tmp_path: Path) -> None:
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    port = str(taken.getsockname()[1])
    model = ["--checkpoint", str(checkpoint)]
    cases = [
        ([], "give one of --checkpoint FILE and --onnx FILE"),
        (["--onnx", str(tmp_path / "missing.onnx")], "ONNX model not found"),
        ([*model, "--max-batch", "0"], "--max-batch must be at least 1"),
        ([*model, "--port", port], f"cannot listen on 127.0.0.1:{port}"),
    ]
    for args, fragment in cases:
        ran = subprocess.run(
            [*STGCN, "serve", *args], capture_output=True, text=True, env=serve_environment(),
            timeout=120,
        )  # fmt: skip
        lines = ran.stderr.strip().splitlines()
        assert ran.returncode != 0 and len(lines) == 1, ran.stderr
        assert lines[0].startswith("stgcn: error: ") and fragment in lines[0], lines[0]
    taken.close()


async def post_together(url: str, bodies: list[bytes]) -> list[httpx.Response]:
    async with httpx.AsyncClient(timeout=60) as http:
        return await asyncio.gather(*(http.post(url, content=body) for body in bodies))


@pytest.mark.timeout(240)
def test_clips_of_other_shapes_in_one_window(checkpoint: Path, tmp_path: Path) -> None:
    """Clips of 12 and 20 frames, and of 1 and 2 persons, arriving within one
    collection window are run in batches of one shape each, and every clip gets the
    answer it gets alone."""
    from stgcn.data.synthetic import generate

    data, _ = generate(6, seed=7, frames=20)
    clips = [data[0][:, :12], data[1][:, :12], data[2], data[3], data[4][..., :1], data[5]]
    bodies = []
    for array in clips:
        out = io.BytesIO()
        np.save(out, np.ascontiguousarray(array))
        bodies.append(out.getvalue())
    args = ["--checkpoint", str(checkpoint), "--batch-window-ms", "300"]
    with running_server(tmp_path, *args) as server:
        predict = f"{server.url}/v1/predict"
        together = asyncio.run(post_together(predict, bodies))
        metrics = httpx.get(f"{server.url}/metrics").text
        alone = [httpx.post(predict, content=body) for body in bodies]
    for mine, single in zip(together, alone, strict=True):
        assert mine.status_code == 200 and single.status_code == 200, mine.text + single.text
        got, expected = mine.json()["top"], single.json()["top"]
        assert [row["class"] for row in got] == [row["class"] for row in expected]
        for row, other in zip(got, expected, strict=True):
            assert row["probability"] == pytest.approx(other["probability"], abs=1e-6)
    assert "stgcn_serve_batched_clips_total 6" in metrics
    # three shapes: 12 frames (2 clips), 20 frames of 2 persons (3), 20 frames of 1 (1)
    runs = int(metrics.split("\nstgcn_serve_batches_total ")[1].split()[0])
    assert 3 <= runs < 6, metrics
