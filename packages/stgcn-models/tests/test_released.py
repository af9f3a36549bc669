"""PYSKL's released checkpoints in the catalogue (``stgcn_register_weights`` of this
package): every weight-file link of the model-zoo tables of PYSKL's
``configs/stgcn++/README.md`` and ``configs/ctrgcn/README.md``, each for a registered model
and layout, with the class count of its benchmark."""

from __future__ import annotations

from stgcn.plugins.registry import get_registry
from stgcn.records import LAYOUTS, MODELS, WEIGHTS

PYSKL = "http://download.openmmlab.com/mmaction/pyskl/ckpt/"


def test_every_link_of_both_model_zoo_tables_is_catalogued_once() -> None:
    table = get_registry().table(WEIGHTS)
    pyskl = [record for record in table.values() if record.url.startswith(PYSKL)]
    assert len(pyskl) == 2 * 8 * 4  # two models, eight splits, four streams
    assert len({record.url for record in pyskl}) == len(pyskl)
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


def test_every_catalogued_entry_names_a_registered_model_and_layout() -> None:
    registry = get_registry()
    for record in registry.table(WEIGHTS).values():
        assert record.model in registry.table(MODELS), record.name
        assert record.layout in registry.table(LAYOUTS), record.name
