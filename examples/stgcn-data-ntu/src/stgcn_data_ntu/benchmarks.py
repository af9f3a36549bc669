"""The two NTU RGB+D evaluation protocols: which samples train and which validate."""

from __future__ import annotations

from dataclasses import dataclass

from stgcn_data_ntu.sample_name import SampleName

#: performers whose samples train under the cross-subject protocol; the others validate
TRAINING_SUBJECTS = frozenset(
    (1, 2, 4, 5, 8, 9, 13, 14, 15, 16, 17, 18, 19, 25, 27, 28, 31, 34, 35, 38)
)
#: cameras whose samples train under the cross-view protocol; camera 1 validates
TRAINING_CAMERAS = frozenset((2, 3))


@dataclass(frozen=True)
class Benchmark:
    name: str
    description: str

    def split_of(self, sample: SampleName) -> str:
        if self.name == "xsub":
            return "train" if sample.performer in TRAINING_SUBJECTS else "val"
        return "train" if sample.camera in TRAINING_CAMERAS else "val"


XSUB = Benchmark("xsub", "cross-subject: 20 performers train, the other 20 validate")
XVIEW = Benchmark("xview", "cross-view: cameras 2 and 3 train, camera 1 validates")
BENCHMARKS = {benchmark.name: benchmark for benchmark in (XSUB, XVIEW)}
