"""PYSKL's released checkpoints in the catalogue (``stgcn_register_weights`` of this
package): every weight-file link of the model-zoo tables of PYSKL's
``configs/stgcn++/README.md`` and ``configs/ctrgcn/README.md``, each for a registered model
and layout, with the class count of its benchmark."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
import torch

from stgcn.model.contract import ModelSpec
from stgcn.networks.loading import build_named
from stgcn.plugins.layouts import layout_named
from stgcn.plugins.registry import get_registry
from stgcn.records import LAYOUTS, MODELS, WEIGHTS
from stgcn.testing.helpers import make_distribution, run_stgcn
from stgcn.testing.loopback import serve_file

PYSKL = "http://download.openmmlab.com/mmaction/pyskl/ckpt/"


def test_every_link_of_the_three_model_zoo_tables_is_catalogued_once() -> None:
    table = get_registry().table(WEIGHTS)
    pyskl = [record for record in table.values() if record.url.startswith(PYSKL)]
    models = Counter(record.model for record in pyskl)
    # two models, eight splits, four streams; ST-GCN: PYSKL's practice on the eight
    # splits, the original recipe on NTU-60's four
    assert models == {"stgcnpp": 8 * 4, "ctrgcn": 8 * 4, "stgcn-pyskl": (8 + 4) * 4}
    assert len({record.url for record in pyskl}) == len(pyskl)
    assert len({record.name for record in pyskl}) == len(pyskl)
    assert {get_registry().owner_of(WEIGHTS, r.name).distribution for r in pyskl} == {
        "stgcn-models"
    }


def test_an_entry_is_the_file_pyskl_links_with_what_it_is() -> None:
    table = get_registry().table(WEIGHTS)
    joint = table["stgcnpp-ntu60-xsub-3dkp-j"]
    assert joint.url == PYSKL + "stgcn++/stgcn++_ntu60_xsub_3dkp/j.pth"
    assert (
        joint.source
        == "https://github.com/kennymckormick/pyskl/blob/main/configs/stgcn++/README.md"
    )
    assert (joint.model, joint.layout, joint.num_class) == ("stgcnpp", "ntu-rgb+d", 60)
    assert "top-1 89.3" in joint.description  # the table's joint top-1 (issue 41's figure)
    hrnet = table["ctrgcn-ntu120-xset-hrnet-bm"]
    assert hrnet.url == PYSKL + "ctrgcn/ctrgcn_pyskl_ntu120_xset_hrnet/bm.pth"
    assert (hrnet.model, hrnet.layout, hrnet.num_class) == ("ctrgcn", "coco", 120)
    assert hrnet.cache_name == "ctrgcn-ntu120-xset-hrnet-bm.pth"  # not PYSKL's bm.pth
    # configs/stgcn/README.md: PYSKL's practice and the original recipe, one network
    practice = table["stgcn-pyskl-ntu60-xsub-3dkp-j"]
    assert practice.url == PYSKL + "stgcn/stgcn_pyskl_ntu60_xsub_3dkp/j.pth"
    assert practice.source.endswith("/configs/stgcn/README.md")
    assert (practice.model, practice.layout, practice.num_class) == ("stgcn-pyskl", "ntu-rgb+d", 60)
    assert "top-1 87.8" in practice.description  # issue 41's figure for PYSKL's recipe
    vanilla = table["stgcn-vanilla-ntu60-xsub-hrnet-b"]
    assert vanilla.url == PYSKL + "stgcn/stgcn_vanilla_ntu60_xsub_hrnet/b.pth"
    assert (vanilla.model, vanilla.layout) == ("stgcn-pyskl", "coco")
    assert "top-1 85.8" in vanilla.description
    assert table["stgcn-vanilla-ntu60-xsub-3dkp-j"].description.count("top-1 81.5") == 1


def test_every_catalogued_entry_names_a_registered_model_and_layout() -> None:
    registry = get_registry()
    for record in registry.table(WEIGHTS).values():
        assert record.model in registry.table(MODELS), record.name
        assert record.layout in registry.table(LAYOUTS), record.name


CATALOGUE = """
from stgcn.hookspecs import hookimpl
from stgcn.records import Weights

STGCN_API = ">=2.3,<3"

@hookimpl
def stgcn_register_weights(register):
    register(Weights(name="fixture-stgcnpp", model="stgcnpp", url={url!r},
                     source="https://example.org/released", layout="openpose",
                     num_class=5, dataset="synthetic", size={size}))
"""


def test_a_pyskl_checkpoint_by_name_fine_tunes_on_other_classes(
    site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``stgcn run --weights NAME``: a PYSKL-format ST-GCN++ checkpoint (mmcv's ``meta``
    and ``state_dict``) of 5 classes, fetched from a server on 127.0.0.1 into the hub
    cache, trains on the synthetic set's 10 with no ``--model``: the head starts fresh,
    and the run says so; the learnt adjacency is the file's."""
    network = build_named("stgcnpp", ModelSpec(5, 3, layout_named("openpose")))
    state = {key: value.clone() for key, value in network.state_dict().items()}
    state["backbone.gcn.0.gcn.A"] += 0.25  # not what a fresh network starts from
    saved = tmp_path / "fixture.pth"
    torch.save({"meta": {"epoch": 16}, "state_dict": state}, saved)
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch-home"))
    with serve_file(saved.read_bytes()) as served:
        source = CATALOGUE.format(url=served.url, size=saved.stat().st_size)
        make_distribution(site, "stgcn-weights-fixture", "0.1", "fake_weights", source)
        work = tmp_path / "tuned"
        tuned = run_stgcn(
            "run", "--weights", "fixture-stgcnpp", "--epochs", "1",
            "--data-option", "train_size=8", "--data-option", "val_size=8",
            "--batch-size", "8", "--work-dir", str(work), site=site,
        )  # fmt: skip
    assert tuned.returncode == 0, tuned.stderr
    assert served.ranges == [""]
    said = tuned.stdout + tuned.stderr
    assert "kept fresh: cls_head.fc_cls.bias, cls_head.fc_cls.weight" in said
    checkpoint = torch.load(work / "checkpoints" / "best.pth.tar", weights_only=True)
    assert checkpoint["model_name"] == "stgcnpp"
    assert checkpoint["model"]["cls_head.fc_cls.weight"].shape[0] == 10
    file_graph = state["backbone.gcn.0.gcn.A"]
    tuned_graph = checkpoint["model"]["backbone.gcn.0.gcn.A"]
    torch.testing.assert_close(tuned_graph, file_graph, atol=1e-2, rtol=0)


STGCN_CATALOGUE = """
from stgcn.hookspecs import hookimpl
from stgcn.records import Weights

STGCN_API = ">=2.3,<3"

@hookimpl
def stgcn_register_weights(register):
    register(Weights(name="fixture-stgcn-pyskl", model="stgcn-pyskl", url={url!r},
                     source="https://example.org/released", layout="coco",
                     num_class=60, dataset="synthetic"))
"""


def test_a_pyskl_stgcn_file_by_name_is_described_as_pyskls_stgcn(
    site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``stgcn info NAME`` of a PYSKL ST-GCN file as mmcv writes it (numpy values in
    ``meta``), fetched from 127.0.0.1: read without unpickling code and claimed by
    ``stgcn-pyskl`` with no flag."""
    import numpy as np

    network = build_named("stgcn-pyskl", ModelSpec(60, 3, layout_named("coco")))
    meta = {"mmcv_version": "1.5.0", "hook_msgs": {"best_score": np.float64(0.89)}}
    saved = tmp_path / "j.pth"
    torch.save({"meta": meta, "state_dict": network.state_dict()}, saved)
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch-home"))
    with serve_file(saved.read_bytes()) as served:
        source = STGCN_CATALOGUE.format(url=served.url)
        make_distribution(site, "stgcn-weights-fixture", "0.1", "fake_weights", source)
        described = run_stgcn("info", "fixture-stgcn-pyskl", "--json", site=site)
    assert described.returncode == 0, described.stderr
    facts = json.loads(described.stdout)
    assert (facts["model"], facts["layout"], facts["joints"]) == ("stgcn-pyskl", "coco", 17)
