"""``stgcn predict --stream``: the checks, the estimator and the run, and what it prints
(a line per clip as it comes, then a summary; ``--json``: JSON lines, the summary last)."""

from __future__ import annotations

import json
from pathlib import Path

import click
import numpy as np

from stgcn.errors import StgcnError, plugin_code
from stgcn_export.classifier import Classifier
from stgcn_export.video_prediction import (
    SkeletonRequest,
    window_plan,
)


def predict_stream(
    classifier: Classifier, request: SkeletonRequest, realtime: bool, show: bool
) -> None:
    from stgcn.plugins.registry import get_registry
    from stgcn.pose.inputs import check_estimator, estimator_options_for
    from stgcn.pose.skeletons import PoseSequence
    from stgcn.pose.video import native_stderr_aside
    from stgcn.records import POSE_ESTIMATORS, PoseOpenRequest
    from stgcn_export.streaming import FrameReader, StreamRun, StreamSettings, describe_summary

    layout, persons, window, stride = window_plan(classifier, request)
    render = request.render
    if render and Path(render).suffix.lower() != ".mp4":
        raise StgcnError(f"--render writes an mp4 video; {render} does not end in .mp4")
    source = Path(request.source)
    if render and Path(render).exists() and Path(render).resolve() == source.resolve():
        raise StgcnError(f"--render {render} is the input itself; choose another file")
    estimator = get_registry().get(POSE_ESTIMATORS, request.estimator)
    check_estimator(estimator, layout)
    max_people = request.max_people or persons
    settings = StreamSettings(
        layout, persons, window, stride, max_people, request.as_json, render, show, realtime
    )
    # one classifier thread: measured on this 2-core machine (docs/performance.md), the
    # default of a thread a core made torch's spinning OpenMP workers fight the estimator's
    # and the decoder's threads (0.3 frames/s against 12.7 with one)
    classifier.engine.use_threads(1)
    joints = tuple(estimator.joints)
    edges = [e for e in layout.edges if e[0] != e[1]]
    # the estimator's own code runs inside plugin_code: whatever it raises (a broken
    # install's import error, a bug on frame 900) is one line naming it, and the run's
    # own clean-up (the render finished, the reader stopped) still happens
    what = f"pose estimator {estimator.name!r}"
    with native_stderr_aside():
        reader = FrameReader(request.source, realtime)
        options = estimator_options_for(estimator, request.estimator_options, max_people)
        try:
            with plugin_code(what, estimator.plugin, "open"):
                model = estimator.open(PoseOpenRequest(options=options))
        except BaseException:
            reader.capture.release()  # its thread has not started: nothing else to stop
            raise
        estimated = 0
        try:

            def pose(image):  # type: ignore[no-untyped-def]
                nonlocal estimated
                with plugin_code(what, estimator.plugin, f"estimate (frame {estimated})"):
                    found = [np.asarray(p, dtype=np.float32) for p in model.estimate(image)]
                estimated += 1
                if not found:
                    return []
                raw = PoseSequence(joints, [found])
                return raw.to_layout(layout).frames[0]

            run = StreamRun(reader, pose, classifier, settings, edges, _emit)
            summary = run.run()
        finally:
            with plugin_code(what, estimator.plugin, "close"):
                model.close()
    if request.as_json:
        _emit(json.dumps({"summary": summary}))
    else:
        _emit(describe_summary(summary))
    if reader.failure is not None:
        raise StgcnError(reader.failure)


def _emit(line: str) -> None:
    click.echo(line)
    import sys

    sys.stdout.flush()
