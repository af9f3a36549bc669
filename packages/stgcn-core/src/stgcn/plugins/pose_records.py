"""A pose estimator plugin's record (:class:`PoseEstimator`) and the model it opens for a
video (:class:`PoseModel`); re-exported by :mod:`stgcn.plugins.records` and
:mod:`stgcn.records`, where plugins import them."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    import numpy as np


@runtime_checkable
class PoseModel(Protocol):
    """A pose estimator opened for one video: frames in, skeletons out.

    ``estimate`` takes one RGB image ``(height, width, 3)`` uint8 (OpenCV reads BGR:
    the caller converts) and returns one float32 array ``(joints, 3)`` per person found,
    x and y as fractions of the image width and height (0 at the left and top) and a
    score in [0, 1], in the estimator's own joint order (:attr:`PoseEstimator.joints`);
    an empty list when nobody is found. Frames come in video order, so a tracking
    estimator may use the previous ones.
    """

    def estimate(self, image: np.ndarray) -> Sequence[np.ndarray]: ...

    def close(self) -> None:
        """Free the model (called once, also after a failure)."""
        ...


@dataclass(frozen=True)
class PoseOpenRequest:
    """What ``PoseEstimator.open`` is asked for: a model for one video (plugin API 2.0).
    New fields come with defaults, so an estimator reading the ones it knows keeps
    working."""

    #: the ``--estimator-option KEY=VALUE`` pairs as strings (the core's ``--max-people``
    #: among them, under the record's ``people_option``)
    options: Mapping[str, str]


@dataclass(frozen=True)
class PoseEstimator:
    """Turns video frames into skeletons (``stgcn predict --video``, ``stgcn data
    extract``).

    ``open(request)`` returns a :class:`PoseModel` for one video; ``request`` is a
    :class:`PoseOpenRequest`, whose ``options`` are the ``--estimator-option KEY=VALUE``
    pairs as strings (refuse an unknown key with StgcnError). ``joints`` names the
    estimator's own joints, in the order ``estimate`` returns them, with the names the
    layouts use (``Layout.joints``; :mod:`stgcn.pose` has the built-in sets, e.g.
    ``MEDIAPIPE_HAND_21``, ``COCO_17``). That is all an estimator says about its
    skeletons: the core brings them to whatever layout a model was trained on by joint
    name (a layout's joint from the estimator's joint of the same name; OpenPose's
    ``neck`` and BODY_25's ``mid_hip``, where the estimator lacks them, from the two
    shoulders or hips), and refuses, before any frame is read, a layout one of whose
    joints the estimator cannot give.
    ``max_persons`` is the most people ``estimate`` returns for one frame: 1 for a
    single-person estimator, None when it finds any number. ``people_option`` names the
    ``--estimator-option`` key (a whole number) that sets how many people it looks for;
    the core's ``--max-people N`` sets it to N. Without one (None) the estimator returns
    whom it finds and the core keeps the N most salient (highest summed score).
    ``subject`` is what one of its skeletons is of, as messages name it ("no hand
    found in clip.mp4"): ``"person"`` for bodies, ``"hand"`` for a hand estimator.
    ``unavailable()``, where given, says cheaply (without loading a model) why the
    estimator cannot run in this environment, in one line with the fix, or None:
    ``stgcn plugins`` shows it, and every command refuses the estimator with it before
    any video is opened, instead of failing deep inside the estimator's library.
    Opening may be slow (a model loads); creating the record must not.
    """

    name: str
    open: Callable[[PoseOpenRequest], PoseModel]
    joints: Sequence[str]
    description: str = ""
    max_persons: int | None = None
    people_option: str | None = None
    #: what one skeleton is of, in messages: "person", "hand" (a singular noun)
    subject: str = "person"
    #: why it cannot run here (one line with the fix), or None; checked before any work
    unavailable: Callable[[], str | None] | None = None
    #: the layout ``stgcn data extract`` writes when no ``--layout`` is given (None:
    #: ``openpose``, the Kinetics data's): a hand estimator's hand layout
    default_layout: str | None = None
    #: the distribution that registered this record (named in a plugin's error line): the
    #: registry fills it in, a plugin leaves it out
    plugin: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        """Joint names are how the core matches an estimator to a layout: a string (a
        layout's name, say) or a name given twice would match nothing or the wrong joint,
        so either is refused when the record is made, naming the estimator."""
        if isinstance(self.joints, str):
            raise ValueError(
                f"pose estimator {self.name!r}: joints must be its joint names, in order "
                "(e.g. stgcn.pose.MEDIAPIPE_HAND_21), not one string"
            )
        repeated = sorted({name for name in self.joints if list(self.joints).count(name) > 1})
        if repeated:
            raise ValueError(
                f"pose estimator {self.name!r}: joint names repeated: {', '.join(repeated)}"
            )
