"""Sample names, ``SsssCcccPpppRrrrAaaa``: setup, camera, performer, replication, action."""

from __future__ import annotations

import re
from dataclasses import dataclass

from stgcn.errors import StgcnError

PATTERN = re.compile(r"S(\d{3})C(\d{3})P(\d{3})R(\d{3})A(\d{3})")
SUFFIX = ".skeleton"


@dataclass(frozen=True)
class SampleName:
    name: str
    setup: int
    camera: int
    performer: int
    replication: int
    action: int

    @property
    def label(self) -> int:
        """The class index: action numbers start at 1."""
        return self.action - 1


def parse_sample_name(name: str, num_class: int) -> SampleName:
    """The fields of a sample name (a file name's stem), checked; one-line error otherwise."""
    stem = name.removesuffix(SUFFIX)
    found = PATTERN.fullmatch(stem)
    if found is None:
        raise StgcnError(f"{name}: not an NTU sample name (SsssCcccPpppRrrrAaaa)")
    setup, camera, performer, replication, action = (int(part) for part in found.groups())
    if not 1 <= action <= num_class:
        raise StgcnError(f"{name}: action {action} outside 1..{num_class}")
    return SampleName(stem, setup, camera, performer, replication, action)
