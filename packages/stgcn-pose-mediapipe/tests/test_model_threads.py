"""The one-person graph's models on several threads (``--estimator-option threads``):
the threads it starts, the landmarks it gives, and how many it takes by default."""

from __future__ import annotations

import multiprocessing
import sys
import threading
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from stgcn_pose_mediapipe.model import MOST_MODEL_THREADS, MediaPipePose, model_threads

from stgcn.system.cores import available_cores

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="counts the process's threads in /proc"
)


def mediapipe_threads() -> set[str]:
    """The ids of the process's threads that MediaPipe started: its graph's threads,
    named ``mediapipe/<id>``, and its models' XNNPACK workers, which take the name of the
    graph thread that starts them. Other threads come and go beside them (a transient
    thread named ``python`` was once among the new ones), and threads of earlier tests'
    estimators may end meanwhile: the new ids of these names are what a graph started."""
    tasks = Path("/proc/self/task")
    named = set()
    for task in tasks.iterdir():
        try:
            name = (task / "comm").read_text().strip()
        except OSError:  # the thread ended
            continue
        if name.startswith("mediapipe/"):
            named.add(task.name)
    return named


def test_the_pose_models_run_on_the_threads_asked_with_the_same_landmarks() -> None:
    from skimage import data

    photo = data.astronaut()
    started, skeletons = {}, {}
    for threads in (1, 3):
        # counted from before the graph is made: its calculators open (and may create
        # their delegates) in the graph's own threads, after the constructor returns
        before = mediapipe_threads()
        model = MediaPipePose({"threads": str(threads)})
        try:
            skeletons[threads] = model.estimate(photo)
            started[threads] = len(mediapipe_threads() - before)
        finally:
            model.close()
    # two models ran on the first frame (the detector, then the landmarks), each with a
    # pool of threads - 1 workers beside the graph's threads, which both counts hold
    assert started[3] - started[1] == 2 * (3 - 1)
    (one,), (three,) = skeletons[1], skeletons[3]
    np.testing.assert_allclose(three, one, atol=1e-6)
    assert (one[[0, 11, 12], 2] > 0.5).all()


def in_a_thread(requested: int) -> int:
    answers: list[int] = []
    thread = threading.Thread(target=lambda: answers.append(model_threads(requested)))
    thread.start()
    thread.join()
    return answers[0]


def test_the_default_is_the_cores_in_the_main_thread_of_the_first_process_only() -> None:
    assert model_threads(3) == 3
    assert model_threads(0) == min(available_cores(), MOST_MODEL_THREADS)
    # an estimator made in a thread or in a worker process has siblings sharing the cores
    assert in_a_thread(0) == 1
    assert in_a_thread(2) == 2
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        assert pool.submit(model_threads, 0).result() == 1
        assert pool.submit(model_threads, 2).result() == 2
