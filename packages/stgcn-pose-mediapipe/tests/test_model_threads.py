"""The one-person graph's models on several threads (``--estimator-option threads``):
the threads it starts, the landmarks it gives, and how many it takes by default."""

from __future__ import annotations

import multiprocessing
import os
import sys
import threading
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pytest
from stgcn_pose_mediapipe.model import MOST_MODEL_THREADS, MediaPipePose, model_threads

from stgcn.system.cores import available_cores

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="counts the process's threads in /proc"
)


def native_threads() -> int:
    """The process's threads, those started by native code included."""
    return len(os.listdir("/proc/self/task"))


def test_the_pose_models_run_on_the_threads_asked_with_the_same_landmarks() -> None:
    from skimage import data

    photo = data.astronaut()
    started, skeletons = {}, {}
    for threads in (1, 3):
        model = MediaPipePose({"threads": str(threads)})
        try:
            before = native_threads()
            skeletons[threads] = model.estimate(photo)
            started[threads] = native_threads() - before
        finally:
            model.close()
    # two models ran on the first frame (the detector, then the landmarks), each starting
    # a pool of threads - 1 workers beside the graph's own thread as it first runs
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
