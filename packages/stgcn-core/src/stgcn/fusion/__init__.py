"""Score files and their fusion: ``stgcn eval --save-scores`` and ``stgcn fuse``.

Models of several streams (joints, bones, their motion) are combined by adding their
per-class scores, weighted. Done carelessly this silently compares the wrong samples:
files written in different sample orders, or over different sets, still add up. So a
score file carries its samples' ids and labels, and fusion aligns by id and refuses
files that disagree.
"""

from stgcn.fusion.fuse import FusedResult, fuse, parse_weights
from stgcn.fusion.scores import ScoreFile, load_scores, save_scores, scores_path

__all__ = [
    "FusedResult",
    "ScoreFile",
    "fuse",
    "load_scores",
    "parse_weights",
    "save_scores",
    "scores_path",
]
