"""``GET /openapi.json``: the API described in OpenAPI 3.1, so that clients can be
generated and the routes read without the source. Written out by hand (Starlette has no
schema generator of its own worth the name), beside the routes it describes: a test
holds the two to the same paths and methods."""

from __future__ import annotations

from typing import Any

_ERROR = {
    "description": "the request cannot be answered: one line why",
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "properties": {"error": {"type": "string"}},
                "required": ["error"],
            }
        }
    },
}

_RANKED_CLASS = {
    "type": "object",
    "properties": {
        "class": {"type": "integer", "description": "the class's index"},
        "name": {"type": ["string", "null"], "description": "its name, where known"},
        "probability": {"type": "number"},
    },
    "required": ["class", "name", "probability"],
}

_PREDICTION = {
    "type": "object",
    "description": "stgcn predict --input CLIP --json's document",
    "properties": {
        "input": {"type": "string", "description": "the query's input, else 'request'"},
        "engine": {"type": "string", "enum": ["pytorch", "onnxruntime"]},
        "dataset": {"type": ["string", "null"]},
        "top": {"type": "array", "items": _RANKED_CLASS, "description": "likeliest first"},
    },
    "required": ["input", "engine", "dataset", "top"],
}

_SKELETON = {
    "type": "object",
    "properties": {
        "skeleton": {
            "type": "array",
            "description": "the clip (C, T, V, M) as nested lists of numbers",
        }
    },
    "required": ["skeleton"],
}


_VIDEO = {
    "type": "object",
    "description": "stgcn predict --video VIDEO --json's document",
    "properties": {
        "frames": {"type": "integer"},
        "frames_with_pose": {"type": "integer"},
        "windows": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "start": {"type": "integer"},
                    "end": {"type": "integer", "description": "one past the window's last frame"},
                    "track": {"type": ["integer", "null"]},
                    "tracks": {"type": "array", "items": {"type": "integer"}},
                    "top5": {"type": "array", "items": _RANKED_CLASS},
                    "joint_importance": {"type": "array", "items": {"type": "number"}},
                },
            },
        },
    },
    "required": ["frames", "frames_with_pose", "windows"],
}

#: OpenAPI has no words for a WebSocket: the stream is described in the document's text
STREAM_DESCRIPTION = (
    "GET /v1/stream is a WebSocket (query: window, stride, max_people). Send each camera "
    'frame as one binary message (JPEG or PNG); the server answers {"type": "hello"} once, '
    'then each frame it processes with {"type": "frame", "frame", "width", "height", '
    '"people": [{"track", "joints", "box"}], "windows": [stgcn predict --stream --json '
    'lines], "dropped", "received"}, and a frame it cannot use with {"type": "error", '
    '"frame", "error"}. Frames that arrive while one waits replace it (counted as dropped).'
)


def _json(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def openapi_document(title: str) -> dict[str, Any]:
    """The document, ``title`` naming the model served."""
    predict = {
        "summary": "Classify one clip",
        "parameters": [
            {
                "name": "input",
                "in": "query",
                "required": False,
                "schema": {"type": "string"},
                "description": "what the answer's input field says",
            }
        ],
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": _SKELETON},
                "application/octet-stream": {
                    "schema": {"type": "string", "format": "binary"},
                    "description": "a .npy file (C, T, V, M) or (1, C, T, V, M)",
                },
            },
        },
        "responses": {
            "200": _json("the ranked classes", _PREDICTION),
            **{status: _ERROR for status in ("400", "413", "422")},
            "429": {**_ERROR, "headers": {"Retry-After": {"schema": {"type": "integer"}}}},
        },
    }
    windows = [
        {
            "name": name,
            "in": "query",
            "required": False,
            "schema": {"type": "integer", "minimum": 1},
            "description": description,
        }
        for name, description in (
            ("window", "frames a window (default: the server's --window)"),
            ("stride", "frames between windows (default: half the window)"),
            ("max_people", "people followed a frame (default: the model's persons)"),
        )
    ]
    video = {
        "summary": "Classify a video: per track and window, as stgcn predict --video --json",
        "parameters": [
            *windows,
            {
                "name": "filename",
                "in": "query",
                "required": False,
                "schema": {"type": "string"},
                "description": "the file's name; its suffix (.mp4, .avi, ...) names the container",
            },
        ],
        "requestBody": {
            "required": True,
            "content": {
                "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}
            },
        },
        "responses": {
            "200": _json("the windows", _VIDEO),
            **{status: _ERROR for status in ("400", "413", "422", "501")},
            "429": {**_ERROR, "headers": {"Retry-After": {"schema": {"type": "integer"}}}},
        },
    }
    plain = {"200": {"description": "Prometheus text", "content": {"text/plain": {}}}}
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": "1", "description": STREAM_DESCRIPTION},
        "paths": {
            "/": {
                "get": {
                    "summary": "The web page that labels the browser's camera live",
                    "responses": {"200": {"description": "HTML", "content": {"text/html": {}}}},
                }
            },
            "/v1/predict": {"post": predict},
            "/v1/predict/video": {"post": video},
            "/v1/model": {
                "get": {
                    "summary": "The model: engine, dataset, classes, layout, frames, input",
                    "responses": {"200": _json("the model's facts", {"type": "object"})},
                }
            },
            "/healthz": {
                "get": {
                    "summary": "Ready: the model is loaded",
                    "responses": {"200": _json("ok", {"type": "object"})},
                }
            },
            "/metrics": {"get": {"summary": "Prometheus metrics", "responses": plain}},
            "/openapi.json": {
                "get": {
                    "summary": "This document",
                    "responses": {"200": _json("OpenAPI 3.1", {"type": "object"})},
                }
            },
        },
    }
