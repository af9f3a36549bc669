"""``stgcn eval --split train`` is no training: a dataset that declares ``build_training``
(plugin API 1.4) is told so and gives its evaluation clips, one written before draws
from fixed seeds, and the core does not augment; two evaluations agree."""

from __future__ import annotations

import json
from pathlib import Path

from stgcn.testing.helpers import TINY_RUN, make_distribution, run_stgcn

#: two datasets over the synthetic clips with a random training perturbation (as a
#: random window would be): one told whether it trains, one from before 1.4
JITTER = """
import numpy as np
import torch

from stgcn.data.synthetic_plugin import SYNTHETIC, build as synthetic_build
from stgcn.hookspecs import hookimpl
from stgcn.records import Dataset

STGCN_API = ">=1,<2"
OPTIONS = {"train_size": "8", "val_size": "8", "frames": "12"}


class Jitter:
    def __init__(self, split, training):
        self.clips = synthetic_build(split, None, OPTIONS)
        self.training = training

    def __len__(self):
        return len(self.clips)

    def __getitem__(self, index):
        clip, label = self.clips[index]
        if self.training:
            noise = np.random.normal(0.0, 0.5, tuple(clip.shape)).astype("float32")
            clip = clip + torch.from_numpy(noise)
        return clip, label


def build(split, data_path, options, training=None):
    return Jitter(split, split == "train" if training is None else training)


def build_before_1_4(split, data_path, options):
    return Jitter(split, split == "train")


@hookimpl
def stgcn_register_datasets(register):
    common = dict(num_class=SYNTHETIC.num_class, num_person=SYNTHETIC.num_person,
                  needs_data_path=False)
    register(Dataset(name="jitter", build=build, build_training=True, **common))
    register(Dataset(name="jitter-old", build=build_before_1_4, **common))
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
    old = [_eval(site, checkpoint, "--dataset", "jitter-old") for _ in range(2)]
    assert old[0] == old[1]
