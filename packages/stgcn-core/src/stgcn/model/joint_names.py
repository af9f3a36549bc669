"""Which joints of a layout a set of named joints gives: the one rule by which a pose
estimator, a pose file format or any other skeleton source meets a layout.

No table of indices is written for a pair of joint sets: a layout joint is taken from
the source joint of the same name, or, for the few joints a layout has that sources
commonly lack (:data:`DERIVED`), made from two source joints. It lives in the model
layer, beside :class:`~stgcn.model.layouts.Layout`, so that both the plugin listing
(which layouts an estimator feeds) and the pose code (the maps themselves,
:mod:`stgcn.pose.joints`) ask the same question the same way.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from stgcn.model.layouts import Layout

#: joints a layout may need that a source can imply: the mean of two others (OpenPose's
#: neck between the shoulders, BODY_25's mid-hip between the hips)
DERIVED: Mapping[str, tuple[str, str]] = {
    "neck": ("left_shoulder", "right_shoulder"),
    "mid_hip": ("left_hip", "right_hip"),
}

#: joints named in one error line before the rest are counted ("and 13 more")
NAMED_IN_A_LINE = 5


def joint_sources(source: Sequence[str], layout: Layout) -> tuple[tuple[int, ...] | None, ...]:
    """For each joint of ``layout``, the indices in ``source`` it is made from: one (the
    joint of that name), two (a :data:`DERIVED` joint, the mean of both), or None where
    ``source`` gives neither."""
    where = {name: index for index, name in enumerate(source)}
    picked: list[tuple[int, ...] | None] = []
    for name in layout.joints:
        if name in where:
            picked.append((where[name],))
        elif name in DERIVED and all(part in where for part in DERIVED[name]):
            picked.append(tuple(where[part] for part in DERIVED[name]))
        else:
            picked.append(None)
    return tuple(picked)


def missing_joints(source: Sequence[str], layout: Layout) -> tuple[str, ...]:
    """The joints of ``layout`` that joints named ``source`` cannot give, in the layout's
    order (empty: the source feeds the layout, if the layout names its joints at all)."""
    sources = joint_sources(source, layout)
    return tuple(
        name for name, picked in zip(layout.joints, sources, strict=True) if picked is None
    )


def feeds(source: Sequence[str], layout: Layout) -> bool:
    """Whether joints named ``source`` give every joint of ``layout`` (a layout that
    names no joints is fed by nothing: there is no name to match)."""
    return bool(layout.joints) and not missing_joints(source, layout)


def quoted_names(names: Sequence[str]) -> str:
    """``'a', 'b'`` for an error line: at most :data:`NAMED_IN_A_LINE` names, then how
    many more, so that a 133-joint layout's refusal stays one readable line."""
    shown = ", ".join(repr(name) for name in names[:NAMED_IN_A_LINE])
    rest = len(names) - NAMED_IN_A_LINE
    return f"{shown} and {rest} more" if rest > 0 else shown
