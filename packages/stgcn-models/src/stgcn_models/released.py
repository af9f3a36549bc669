"""PYSKL's released ST-GCN++, CTR-GCN and ST-GCN checkpoints, by name (``stgcn weights
list``).

Each entry is one weight file that PYSKL's model-zoo tables link
(``configs/stgcn++/README.md``, ``configs/ctrgcn/README.md`` and
``configs/stgcn/README.md`` of kennymckormick/pyskl): one model, one of eight splits and
annotations (NTU RGB+D 60 X-Sub and X-View, NTU RGB+D 120 X-Sub and X-Set, each from the
official 3D skeletons or from HRNet's 2D ones) and one of four input streams. A name is
the model, PYSKL's config folder and the stream: ``stgcnpp-ntu60-xsub-3dkp-j`` is
``stgcn++_ntu60_xsub_3dkp/j.pth``. PYSKL's ST-GCN comes in two practices, PYSKL's
(``stgcn-pyskl-ntu60-xsub-3dkp-j``: ``stgcn_pyskl_ntu60_xsub_3dkp/j.pth``, all eight
splits) and the original recipe (``stgcn-vanilla-ntu60-xsub-3dkp-j``, NTU-60 only): both
are the model ``stgcn-pyskl``, PYSKL's network, which its files need (not the core's
reference ``stgcn``). PYSKL publishes no sizes or digests, so none are checked.
"""

from __future__ import annotations

from stgcn.records import Weights

STORE = "http://download.openmmlab.com/mmaction/pyskl/ckpt"
README = "https://github.com/kennymckormick/pyskl/blob/main/configs/{folder}/README.md"
#: PYSKL's stream files and the modality each is (``--data-option modality=...``)
STREAMS = (("j", "joint"), ("b", "bone"), ("jm", "joint_motion"), ("bm", "bone_motion"))
#: the annotation a config folder ends with: the layout it has, and its name in words
ANNOTATIONS = {"3dkp": ("ntu-rgb+d", "3D skeletons"), "hrnet": ("coco", "HRNet 2D skeletons")}

#: the start of an entry's name -> (the model, PYSKL's folder, its config folders'
#: prefix, the files in words)
MODELS = {
    "stgcnpp": ("stgcnpp", "stgcn++", "stgcn++_", "ST-GCN++"),
    "ctrgcn": ("ctrgcn", "ctrgcn", "ctrgcn_pyskl_", "CTR-GCN"),
    "stgcn-pyskl": ("stgcn-pyskl", "stgcn", "stgcn_pyskl_", "ST-GCN (PYSKL's practice)"),
    "stgcn-vanilla": ("stgcn-pyskl", "stgcn", "stgcn_vanilla_", "ST-GCN (original recipe)"),
}
#: the start of a name -> split and annotation -> the top-1 of the joint, bone,
#: joint-motion and bone-motion streams, as the model-zoo table gives them (each a link
#: to its file)
TOP1: dict[str, dict[str, tuple[float, float, float, float]]] = {
    "stgcnpp": {
        "ntu60_xsub_3dkp": (89.3, 90.1, 87.5, 87.3),
        "ntu60_xsub_hrnet": (89.3, 92.3, 84.0, 88.8),
        "ntu60_xview_3dkp": (95.6, 95.5, 94.3, 93.8),
        "ntu60_xview_hrnet": (97.4, 97.2, 93.4, 95.4),
        "ntu120_xsub_3dkp": (83.2, 85.6, 80.4, 81.5),
        "ntu120_xsub_hrnet": (84.4, 84.8, 76.4, 81.1),
        "ntu120_xset_3dkp": (85.6, 87.5, 84.3, 83.0),
        "ntu120_xset_hrnet": (88.1, 88.5, 82.6, 84.1),
    },
    "ctrgcn": {
        "ntu60_xsub_3dkp": (89.6, 90.0, 88.0, 87.5),
        "ntu60_xsub_hrnet": (90.6, 92.7, 89.4, 90.3),
        "ntu60_xview_3dkp": (95.6, 95.4, 94.4, 93.6),
        "ntu60_xview_hrnet": (96.9, 97.6, 94.8, 95.6),
        "ntu120_xsub_3dkp": (84.0, 85.9, 81.1, 82.2),
        "ntu120_xsub_hrnet": (82.2, 84.6, 82.3, 82.1),
        "ntu120_xset_3dkp": (85.9, 87.4, 84.1, 83.9),
        "ntu120_xset_hrnet": (84.5, 88.6, 85.6, 85.6),
    },
    "stgcn-pyskl": {
        "ntu60_xsub_3dkp": (87.8, 88.6, 85.8, 86.2),
        "ntu60_xsub_hrnet": (89.0, 91.2, 86.7, 87.8),
        "ntu60_xview_3dkp": (95.5, 95.0, 93.7, 92.8),
        "ntu60_xview_hrnet": (98.0, 96.5, 95.6, 95.4),
        "ntu120_xsub_3dkp": (82.1, 83.7, 80.3, 80.6),
        "ntu120_xsub_hrnet": (80.1, 83.4, 78.6, 79.8),
        "ntu120_xset_3dkp": (84.5, 85.8, 82.7, 83.0),
        "ntu120_xset_hrnet": (84.2, 87.7, 82.5, 83.5),
    },
    "stgcn-vanilla": {
        "ntu60_xsub_3dkp": (81.5, 81.0, 79.9, 81.2),
        "ntu60_xsub_hrnet": (85.7, 85.8, 81.6, 83.9),
        "ntu60_xview_3dkp": (90.1, 87.7, 88.8, 88.3),
        "ntu60_xview_hrnet": (92.4, 90.0, 92.0, 86.5),
    },
}


def released_weights() -> list[Weights]:
    """Every catalogued checkpoint of PYSKL's three models (64 of ST-GCN++ and CTR-GCN,
    48 of ST-GCN)."""
    return [
        _entry(start, split, stream, top1)
        for start, splits in TOP1.items()
        for split, tops in splits.items()
        for stream, top1 in zip(STREAMS, tops, strict=True)
    ]


def _entry(start: str, split: str, stream: tuple[str, str], top1: float) -> Weights:
    model, folder, prefix, words = MODELS[start]
    benchmark, protocol, annotation = split.split("_")
    layout, skeletons = ANNOTATIONS[annotation]
    short, modality = stream
    config = f"{prefix}{split}"
    return Weights(
        name=f"{start}-{split.replace('_', '-')}-{short}",
        model=model,
        url=f"{STORE}/{folder}/{config}/{short}.pth",
        source=README.format(folder=folder),
        layout=layout,
        num_class=int(benchmark.removeprefix("ntu")),
        dataset=f"{benchmark}-{protocol}",
        description=(
            f"PYSKL's {words}, {modality} stream of {skeletons} (modality={modality}), "
            f"top-1 {top1} as published (config {folder}/{config})"
        ),
    )
