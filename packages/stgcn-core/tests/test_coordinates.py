"""The coordinate conventions (stgcn.data.coordinates) against numbers worked by hand,
and the convention's way through a dataset record, its facts and a checkpoint."""

from __future__ import annotations

import numpy as np
import pytest

from stgcn.data.coordinates import (
    CONVENTIONS,
    FRACTIONS,
    PYSKL,
    REFERENCE,
    coordinate_convention,
    normalise_keypoints,
)
from stgcn.data.facts import check_facts, coordinates_of, facts_of, from_checkpoint
from stgcn.errors import StgcnError
from stgcn.model.checkpoint import Checkpoint
from stgcn.pose.skeletons import model_values
from stgcn.records import DataFacts, Dataset

#: a 1280x720 frame: the centre, the top left corner, an undetected joint (score 0 at
#: pixel 0, 0), a joint off to the right and down, and one missed but given a position
PIXELS = np.array(
    [
        [640.0, 360.0, 0.9],
        [0.0, 0.0, 0.5],
        [0.0, 0.0, 0.0],
        [960.0, 540.0, 1.0],
        [320.0, 180.0, 0.0],
    ],
    dtype=np.float32,
)
FRAME = (1280, 720)


def test_reference_is_a_fraction_of_the_frame_minus_a_half_zero_where_undetected() -> None:
    got = normalise_keypoints(PIXELS, FRAME, REFERENCE)
    # 640/1280 - 0.5 = 0; 0/1280 - 0.5 = -0.5; 960/1280 - 0.5 = 0.25, 540/720 - 0.5 = 0.25
    expected = np.array(
        [
            [0.0, 0.0, 0.9],
            [-0.5, -0.5, 0.5],
            [0.0, 0.0, 0.0],
            [0.25, 0.25, 1.0],
            [0.0, 0.0, 0.0],  # score 0: its position is dropped, as the reference does
        ],
        dtype=np.float32,
    )
    np.testing.assert_array_equal(got, expected)
    assert got.dtype == np.float32 and got.shape == PIXELS.shape


def test_pyskl_spans_the_frame_from_minus_one_to_one_and_keeps_every_position() -> None:
    got = normalise_keypoints(PIXELS, FRAME, PYSKL)
    # (640 - 640) / 640 = 0; (0 - 640) / 640 = -1; (960 - 640) / 640 = 0.5,
    # (540 - 360) / 360 = 0.5; (320 - 640) / 640 = -0.5, (180 - 360) / 360 = -0.5
    expected = np.array(
        [
            [0.0, 0.0, 0.9],
            [-1.0, -1.0, 0.5],
            [-1.0, -1.0, 0.0],
            [0.5, 0.5, 1.0],
            [-0.5, -0.5, 0.0],
        ],
        dtype=np.float32,
    )
    np.testing.assert_array_equal(got, expected)


def test_fractions_of_the_frame_give_what_the_pixels_give() -> None:
    fractions = PIXELS / np.array([*FRAME, 1], np.float32)
    for name in CONVENTIONS:
        np.testing.assert_allclose(
            normalise_keypoints(fractions, FRACTIONS, name),
            normalise_keypoints(PIXELS, FRAME, name),
            atol=1e-7,
        )


def test_the_input_is_left_as_it_was_and_any_leading_axes_are_taken() -> None:
    before = PIXELS.copy()
    clips = np.broadcast_to(PIXELS, (2, 3, *PIXELS.shape))
    got = normalise_keypoints(clips, FRAME, PYSKL)
    np.testing.assert_array_equal(PIXELS, before)
    assert got.shape == (2, 3, 5, 3)
    np.testing.assert_array_equal(got[1, 2], normalise_keypoints(PIXELS, FRAME, PYSKL))


def test_an_unknown_convention_is_one_line_naming_the_known_ones() -> None:
    with pytest.raises(
        StgcnError, match=r"unknown coordinate convention 'half'; known: pyskl, reference"
    ):
        normalise_keypoints(PIXELS, FRAME, "half")
    with pytest.raises(ValueError, match="not"):
        normalise_keypoints(PIXELS[:, :2], FRAME, REFERENCE)
    assert coordinate_convention(PYSKL).name == PYSKL


def test_a_video_skeleton_becomes_model_channels_in_the_model_convention() -> None:
    """The pose path's conversion (``predict --video``, pose files, ``--stream``): a
    skeleton in fractions of the frame to channels ``(3, V)``."""
    fractions = PIXELS / np.array([*FRAME, 1], np.float32)
    reference, pyskl = model_values(fractions), model_values(fractions, PYSKL)
    assert reference.shape == pyskl.shape == (3, 5)
    np.testing.assert_allclose(
        reference.T, normalise_keypoints(PIXELS, FRAME, REFERENCE), atol=1e-7
    )
    np.testing.assert_allclose(pyskl.T, normalise_keypoints(PIXELS, FRAME, PYSKL), atol=1e-7)
    np.testing.assert_allclose(pyskl[:2, 3], [0.5, 0.5])


def _record(**changes: object) -> Dataset:
    return Dataset(name="toy", num_class=3, build=lambda request: [], **changes)  # type: ignore[arg-type]


def test_a_dataset_declares_its_convention_and_its_facts_record_it() -> None:
    assert _record().coordinates == REFERENCE
    assert facts_of(_record())["coordinates"] == REFERENCE
    assert facts_of(_record(coordinates=PYSKL))["coordinates"] == PYSKL
    assert _record().with_facts(DataFacts(coordinates=PYSKL)).coordinates == PYSKL
    with pytest.raises(StgcnError, match="coordinates 'metres' is none of pyskl, reference"):
        check_facts(_record(coordinates="metres"))


def _checkpoint(facts: dict | None) -> Checkpoint:
    return Checkpoint(weights={}, model_config={}, run_config={"dataset": "toy"}, data_facts=facts)


def test_a_checkpoint_records_the_convention_and_an_older_one_reads_as_the_reference() -> None:
    pyskl = _record(coordinates=PYSKL)
    saved = _checkpoint(facts_of(pyskl))
    assert saved.to_dict()["data_facts"]["coordinates"] == PYSKL
    # the checkpoint's record wins over the dataset installed now, and stands alone
    assert from_checkpoint(_record(), saved).coordinates == PYSKL
    assert coordinates_of(_record(), saved) == PYSKL
    assert coordinates_of(None, saved) == PYSKL

    older = facts_of(_record())
    del older["coordinates"]  # a checkpoint written before conventions were recorded
    for old in (_checkpoint(older), _checkpoint(None), Checkpoint(weights={})):
        assert from_checkpoint(_record(), old).coordinates == REFERENCE
        assert coordinates_of(_record(), old) == REFERENCE
        assert coordinates_of(None, old) == REFERENCE
    # a dataset that declares another convention was read that way before, too
    assert coordinates_of(pyskl, _checkpoint(older)) == PYSKL
