"""``stgcn eval --split train`` is no training: the dataset is told so
(``BuildRequest.training``) and gives its evaluation clips, and the core does not
augment; two evaluations agree."""

from __future__ import annotations

import json
from pathlib import Path

from stgcn.testing.helpers import TINY_RUN, make_distribution, run_stgcn

#: a dataset over the synthetic clips with a random training perturbation (as a random
#: window would be), applied only where it is told it trains
JITTER = """
import dataclasses

import numpy as np
import torch

from stgcn.data.synthetic_plugin import SYNTHETIC, build as synthetic_build
from stgcn.hookspecs import hookimpl
from stgcn.records import Dataset

STGCN_API = ">=2,<3"
OPTIONS = {"train_size": "8", "val_size": "8", "frames": "12"}


class Jitter:
    def __init__(self, request):
        self.clips = synthetic_build(dataclasses.replace(request, options=OPTIONS))
        self.training = request.training

    def __len__(self):
        return len(self.clips)

    def __getitem__(self, index):
        clip, label = self.clips[index]
        if self.training:
            noise = np.random.normal(0.0, 0.5, tuple(clip.shape)).astype("float32")
            clip = clip + torch.from_numpy(noise)
        return clip, label


def build(request):
    return Jitter(request)


@hookimpl
def stgcn_register_datasets(register):
    common = dict(num_class=SYNTHETIC.num_class, num_person=SYNTHETIC.num_person,
                  needs_data_path=False)
    register(Dataset(name="jitter", build=build, **common))
"""


def _eval(site: Path, checkpoint: Path, *args: str) -> dict:
    done = run_stgcn(
        "eval", "--checkpoint", str(checkpoint), "--split", "train", "--json", *args, site=site
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_eval_of_the_training_split_gives_the_same_result_twice(site, tmp_path: Path) -> None:
    make_distribution(site, "stgcn-jitter", "1.0", "fake_jitter", JITTER)
    work = tmp_path / "run"
    # random scaling of the training clips: the core's augmentation
    trained = run_stgcn(
        "run",
        *TINY_RUN,
        "--work-dir",
        str(work),
        "--data-option",
        "random_scale=0.3",
        site=site,
    )
    assert trained.returncode == 0, trained.stderr
    checkpoint = work / "checkpoints" / "latest.pth.tar"
    synthetic = [_eval(site, checkpoint) for _ in range(2)]
    assert synthetic[0] == synthetic[1]
    told = _eval(site, checkpoint, "--dataset", "jitter")
    # told it does not train, it gives the plain clips: the synthetic split's figures,
    # which the core did not scale either
    assert told == synthetic[0]
    assert _eval(site, checkpoint, "--dataset", "jitter") == told
