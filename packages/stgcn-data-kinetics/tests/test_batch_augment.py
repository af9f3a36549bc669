"""The batched random_choose/random_move against the per-clip reference functions.

The per-clip functions draw from a numpy generator; here they are handed the batched
path's own draws through a generator that replays them, so both compute from the same
random choices and must give the same clips.
"""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
import torch
from stgcn_data_kinetics import augment, batch_augment
from stgcn_data_kinetics.sample_trees import make_converted_tree

from stgcn.records import AugmentRequest


class ReplayedDraws:
    """Stands in for ``numpy.random.Generator``: returns the given values in order."""

    def __init__(self, *values) -> None:
        self.values = list(values)

    def integers(self, *args, **kwargs):
        return self.values.pop(0)

    def choice(self, *args, **kwargs):
        return self.values.pop(0)


def clips(count: int, frames: int, seed: int = 0) -> torch.Tensor:
    rng = np.random.default_rng(seed)
    return torch.from_numpy(rng.uniform(-0.5, 0.5, (count, 3, frames, 18, 2)).astype(np.float32))


@pytest.mark.parametrize("frames", [20, 12, 7])
def test_random_choose_matches_per_clip_reference(frames: int) -> None:
    data, window = clips(6, frames), 12
    generator = torch.Generator().manual_seed(1)
    offsets = batch_augment.draw_offsets(6, frames, window, generator)
    batched = batch_augment.choose_windows(data, window, offsets)
    assert batched.shape == (6, 3, window, 18, 2)
    for i in range(6):
        expected = augment.random_choose(data[i].numpy(), window, ReplayedDraws(int(offsets[i])))
        np.testing.assert_array_equal(batched[i].numpy(), expected)
    if frames != window:
        assert len(set(offsets.tolist())) > 1  # independent draws per clip


def test_random_move_matches_per_clip_reference() -> None:
    data = clips(5, 30, seed=2)
    moves = batch_augment.draw_moves(5, torch.Generator().manual_seed(3))
    batched = batch_augment.apply_moves(data, moves)
    for i in range(5):
        draws = ReplayedDraws(
            moves.angles_degrees[i].numpy(), moves.scales[i].numpy(), moves.shifts[i].numpy()
        )
        expected = augment.random_move(data[i].numpy(), draws)
        np.testing.assert_allclose(batched[i].numpy(), expected, rtol=1e-6, atol=1e-7)
    np.testing.assert_array_equal(batched[:, 2].numpy(), data[:, 2].numpy())  # scores untouched


def test_float32_on_accelerators_matches_the_float64_cpu_path() -> None:
    """Accelerators compute the move in float32 (an NPU has no float64): for the same
    draws it stays within 1e-6 (measured: 1.5e-7) of the CPU's float64 result, on coordinates in the
    converted arrays' range [-0.5, 0.5] and the largest scale and shift drawn."""
    data = clips(64, 300, seed=4)
    moves = batch_augment.draw_moves(64, torch.Generator().manual_seed(5))
    exact = batch_augment.apply_moves(data, moves)
    single = batch_augment.apply_moves(data, moves, torch.float32)
    assert batch_augment.compute_dtype(torch.device("cpu")) == torch.float64
    assert batch_augment.compute_dtype(torch.device("meta")) == torch.float32
    assert single.dtype == exact.dtype == torch.float32
    torch.testing.assert_close(single, exact, rtol=0, atol=1e-6)
    assert not torch.equal(single, exact)  # the two paths really differ in precision


def test_draws_on_the_cpu_are_not_copied() -> None:
    offsets = torch.arange(4)
    assert batch_augment.to_device(offsets, torch.device("cpu")) is offsets


def test_draws_use_every_candidate() -> None:
    moves = batch_augment.draw_moves(400, torch.Generator().manual_seed(0))
    assert set(moves.angles_degrees.flatten().tolist()) == set(augment.ANGLES_DEGREES)
    assert set(moves.scales.flatten().tolist()) == set(augment.SCALES)
    assert set(np.round(moves.shifts.flatten().numpy(), 6)) == set(augment.SHIFTS)


def test_seed_reproduces_the_batch() -> None:
    data = clips(4, 40)
    options = {"window": "16"}
    torch.manual_seed(7)
    first = batch_augment.augment_batch(AugmentRequest(data, options))
    torch.manual_seed(7)
    again = batch_augment.augment_batch(AugmentRequest(data, options))
    torch.manual_seed(8)
    other = batch_augment.augment_batch(AugmentRequest(data, options))
    assert torch.equal(first, again) and not torch.equal(first, other)
    assert first.shape == (4, 3, 16, 18, 2)


def test_bench_with_data_times_both_paths(tmp_path) -> None:
    tree = make_converted_tree(tmp_path / "tree", train=8, val=2, frames=40)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "stgcn",
            "bench",
            "--frames",
            "8",
            "--batch-size",
            "2",
            "--steps",
            "2",
            "--warmup",
            "1",
            "--with-data",
            str(tree),
            "--dataset",
            "kinetics",
            "--data-option",
            "window=16",
            "--workers",
            "0",
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)["data"]
    assert data["dataset"] == "kinetics"
    assert data["per_clip_samples_per_s"] > 0 and data["batched_samples_per_s"] > 0
