"""Input streams: the joints themselves, their bones, and the motion of either.

``--data-option modality=joint|bone|joint_motion|bone_motion`` works for every
dataset, built-in or third-party, and every layout, custom ones included: the core
takes the option before the dataset sees its options, and turns each clip (in the
DataLoader) or each batch (on an accelerator) into the stream asked for.
"""

from stgcn.data.streams.modality import (
    MODALITIES,
    apply_modality,
    bones,
    motion,
    parents,
)
from stgcn.data.streams.splits import Stream, StreamSplit, build_split, split_options

__all__ = [
    "MODALITIES",
    "Stream",
    "StreamSplit",
    "apply_modality",
    "bones",
    "build_split",
    "motion",
    "parents",
    "split_options",
]
