"""``stgcn data extract``: a folder of class subfolders of videos (or of OpenPose
folders, or of COCO results files) to a training set.

The set is written twice. First a Kinetics-skeleton release tree (REFERENCE §3):
``kinetics_train/`` and ``kinetics_val/`` with one JSON clip per video, and
``kinetics_{train,val}_label.json`` naming each clip's class; the ``kinetics-json``
dataset of stgcn-data-kinetics trains on it with its classes taken from those label
files. Why this format: it is the one the
reference checkpoints were trained on, so the values a model sees in training are
exactly those ``stgcn predict --video`` gives it (x, y minus 0.5, zero where undetected);
one file per video makes the extraction resumable (a finished clip is a file, written
under a temporary name and renamed); and it is plain JSON that other tools already read.
Second, for skeletons of any layout (the Kinetics JSON is read for OpenPose's 18 joints
only), a PYSKL annotation pickle (:mod:`stgcn.pose.pyskl_pickle`), which the ``pyskl``
dataset of stgcn-data-pyskl trains on: hands, whole bodies, any registered layout.

Each video is extracted in a worker process (the estimator's model is loaded there); a
video that cannot be read is reported and skipped, the others go on. A second run skips
the clips already written, and retries the ones that failed.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import re
import sys
from collections.abc import Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from stgcn.errors import StgcnError, first_line
from stgcn.plugins.layouts import resolve_layout
from stgcn.pose.inputs import (
    SkeletonInput,
    check_estimator,
    check_file_joints,
    check_max_people,
    estimator_options_for,
    read_skeletons,
)
from stgcn.pose.pyskl_pickle import (
    CLASS_NAMES,
    CLIPS,
    PICKLE,
    annotation,
    save_clip,
    write_pickle,
)
from stgcn.pose.skeletons import write_json

if TYPE_CHECKING:
    from stgcn.plugins.records import PoseEstimator

#: the record of what an output folder holds: a resumed run must extract the same way
MANIFEST = "extract.json"
SPLITS = ("train", "val")
#: people a frame written by default: the two a Kinetics model takes (its num_person),
#: the most salient (highest summed score) first, as in the release's clips
KINETICS_PEOPLE = 2
#: the layout written where neither ``--layout`` nor the estimator names one: the
#: Kinetics data's, which the reference checkpoints and ``kinetics-json`` take
DEFAULT_LAYOUT = "openpose"


@dataclass(frozen=True)
class Item:
    """One clip to extract: its source, its class and split, its clip id."""

    path: Path
    relative: str
    label: str
    label_index: int
    split: str
    clip_id: str


def _clip_id(label: str, stem: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", f"{label}__{stem}")


def _is_item(kind: str, path: Path) -> bool:
    from stgcn.pose.video import VIDEO_SUFFIXES

    if path.name.startswith("."):
        return False
    if kind == "video":
        return path.is_file() and path.suffix.lower() in VIDEO_SUFFIXES
    if kind == "openpose":
        return path.is_dir()
    return path.is_file() and path.suffix.lower() == ".json"


def list_items(
    root: Path, kind: str, val_ratio: float, val_list: Path | None
) -> tuple[list[str], list[Item]]:
    """The classes (sorted subfolder names) and every clip with its split.

    A ratio puts, in each class, the clips whose name hashes lowest into ``val``: the
    choice depends on the name alone, so adding videos later moves none of the others.
    A list names the validation clips as ``class/name`` (or the name alone), one a line.
    """
    if not root.is_dir():
        raise StgcnError(f"input folder not found: {root}")
    classes = sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not classes:
        raise StgcnError(f"{root} holds no class subfolders (one folder of clips per class)")
    listed: set[str] | None = None
    if val_list is not None:
        if not val_list.is_file():
            raise StgcnError(f"--val-list file not found: {val_list}")
        listed = {
            line.strip().replace("\\", "/")
            for line in val_list.read_text(encoding="utf-8").splitlines()
            if line.strip() and not line.startswith("#")
        }
    items: list[Item] = []
    seen: dict[str, str] = {}
    used: set[str] = set()
    for index, label in enumerate(classes):
        paths = sorted(p for p in (root / label).iterdir() if _is_item(kind, p))
        if not paths:
            raise StgcnError(f"class folder {root / label} holds no clips of this kind ({kind})")
        digests = sorted(
            paths, key=lambda p: hashlib.sha1(f"{label}/{p.name}".encode()).hexdigest()
        )
        count = round(val_ratio * len(paths))
        if val_ratio > 0 and count == 0 and len(paths) > 1:
            count = 1
        by_ratio = set(digests[:count])
        for path in paths:
            relative = f"{label}/{path.name}"
            if listed is not None:
                chosen = relative in listed or path.name in listed
                used.update({relative, path.name} & listed)
            else:
                chosen = path in by_ratio
            clip_id = _clip_id(label, path.stem if kind != "openpose" else path.name)
            if clip_id in seen:
                raise StgcnError(
                    f"{relative} and {seen[clip_id]} would share the clip id {clip_id}"
                )
            seen[clip_id] = relative
            split = "val" if chosen else "train"
            items.append(Item(path, relative, label, index, split, clip_id))
    if listed is not None and listed - used:
        raise StgcnError(f"--val-list names {sorted(listed - used)[0]!r}, which is not in {root}")
    return classes, items


def _manifest(output: Path, settings: Mapping[str, Any]) -> None:
    """Refuse to resume into a folder extracted another way (other classes, split,
    estimator or layout): its clips' labels and splits would no longer agree."""
    path = output / MANIFEST
    if path.is_file():
        try:
            before = json.loads(path.read_text(encoding="utf-8"))
        except ValueError:
            raise StgcnError(f"{path} is not valid JSON; extract into a new folder") from None
        # a folder extracted before --max-people existed holds one person a frame
        before.setdefault("max_people", 1)
        for key, value in settings.items():
            if before.get(key) != value:
                raise StgcnError(
                    f"{output} was extracted with another {key} ({before.get(key)!r}, now "
                    f"{value!r}); extract into a new folder or use the same settings"
                )
    elif any((output / f"kinetics_{split}").exists() for split in SPLITS):
        raise StgcnError(f"{output} holds clips but no {MANIFEST}; extract into a new folder")


def clip_path(output: Path, item: Item) -> Path:
    return output / f"kinetics_{item.split}" / f"{item.clip_id}.json"


def arrays_path(output: Path, item: Item) -> Path:
    """Where a clip's tracked keypoints for the PYSKL pickle are kept."""
    return output / CLIPS / f"{item.clip_id}.npz"


def extract_one(task: tuple[Any, ...]) -> tuple[str, str, int, int]:
    """One clip, in a worker: ``(status, message, frames, frames with a pose)``, status
    "done" or "failed"; never raises, so that one broken video stops nothing."""
    source, layout, target, arrays, label, label_index = task
    try:
        estimator = _estimator(source.estimator) if source.kind == "video" else None
        skeletons = read_skeletons(source, layout, estimator=estimator)
        # the arrays first: a clip whose JSON exists (the mark of a finished clip) has both
        save_clip(arrays, skeletons, source.max_people or KINETICS_PEOPLE)
        write_json(target, skeletons.to_kinetics(label, label_index))
        return "done", "", len(skeletons.frames), skeletons.frames_with_pose
    except StgcnError as error:
        return "failed", first_line(error), 0, 0
    except Exception as error:  # a decoder's or an estimator's own failure on this file
        return "failed", f"{type(error).__name__}: {first_line(error)}", 0, 0


def _estimator(name: str) -> PoseEstimator:
    """The estimator named ``name`` in this process's registry: ``extract`` is a command's
    whole job and each worker process an entry point of its own, loading the plugins."""
    from stgcn.plugins.kinds import POSE_ESTIMATORS
    from stgcn.plugins.registry import get_registry

    return get_registry().get(POSE_ESTIMATORS, name)


def _has_pose(path: Path) -> bool:
    try:
        return bool(json.loads(path.read_text(encoding="utf-8")).get("data"))
    except (ValueError, AttributeError):
        return False


def _write_labels(output: Path, items: Sequence[Item]) -> dict[str, int]:
    counts = {}
    for split in SPLITS:
        entries = {}
        for item in items:
            path = clip_path(output, item)
            if item.split == split and path.is_file():
                entries[item.clip_id] = {
                    "has_skeleton": _has_pose(path),
                    "label": item.label,
                    "label_index": item.label_index,
                }
        (output / f"kinetics_{split}").mkdir(parents=True, exist_ok=True)
        write_json(output / f"kinetics_{split}_label.json", entries)
        counts[split] = sum(1 for entry in entries.values() if entry["has_skeleton"])
    return counts


def _write_pyskl(output: Path, classes: Sequence[str], items: Sequence[Item]) -> bool:
    """The PYSKL pickle of every clip extracted with a skeleton (splits ``train`` and
    ``val``) and its class names; False, and no file, when there is no such clip."""
    chosen = [
        item
        for item in items
        if clip_path(output, item).is_file()
        and arrays_path(output, item).is_file()
        and _has_pose(clip_path(output, item))
    ]
    if not chosen:
        return False
    splits = {split: [i.clip_id for i in chosen if i.split == split] for split in SPLITS}
    clips = (annotation(arrays_path(output, i), i.clip_id, i.label_index) for i in chosen)
    write_pickle(output / PICKLE, clips, splits)
    (output / CLASS_NAMES).write_text("".join(f"{name}\n" for name in classes), encoding="utf-8")
    return True


def _tell(line: str) -> None:
    """A line for the person watching (stderr: stdout is the command's result)."""
    print(line, file=sys.stderr, flush=True)


@dataclass(frozen=True)
class ExtractRequest:
    """What ``stgcn data extract`` asks: the input folder (``root``, class subfolders of
    clips of ``kind``: video, openpose or coco-results) and the ``output`` folder; for
    videos the pose ``estimator`` and its options, for skeleton files the ``frame_size``
    they were measured in; the validation split (``val_ratio``, or ``val_list`` naming
    its clips), the ``workers``, the skeleton ``layout`` (any registered layout whose
    joints the estimator or the files give, matched by name; None: the estimator's
    ``default_layout``, else ``openpose``, :meth:`target_layout`) and at most
    ``max_people`` people a frame."""

    root: str | os.PathLike[str]
    output: str | os.PathLike[str]
    kind: str = "video"
    estimator: str = "mediapipe"
    estimator_options: Mapping[str, str] | None = None
    frame_size: tuple[int, int] | None = None
    val_ratio: float = 0.2
    val_list: str | os.PathLike[str] | None = None
    workers: int = 1
    layout: str | None = None
    max_people: int = KINETICS_PEOPLE

    def target_layout(self) -> str:
        """The layout written: the one asked for; else, for videos, the estimator's own
        (``PoseEstimator.default_layout``: a hand estimator's hand layout); else
        ``openpose``, the Kinetics data's."""
        if self.layout is not None:
            return self.layout
        if self.kind == "video":
            return _estimator(self.estimator).default_layout or DEFAULT_LAYOUT
        return DEFAULT_LAYOUT

    def check(self) -> None:
        """Refuse settings no extraction can take, each in one line naming its option."""
        if not 0 <= self.val_ratio < 1:
            raise StgcnError(f"--val-ratio must be in [0, 1), got {self.val_ratio}")
        if self.workers < 1:
            raise StgcnError("--workers must be at least 1")
        check_max_people(self.max_people)
        layout = self.target_layout()
        resolve_layout(layout)  # an unknown name: one line, before anything else
        if self.kind == "video":
            estimator = _estimator(self.estimator)
            check_estimator(estimator, layout)
            estimator_options_for(estimator, self.estimator_options or {}, self.max_people)
        elif self.frame_size is None:
            raise StgcnError(
                f"--{self.kind} files hold pixel coordinates: give --frame-size WIDTHxHEIGHT"
            )
        else:
            check_file_joints(self.kind, layout)


def extract(request: ExtractRequest) -> dict[str, Any]:
    """Extract every clip not yet extracted, at most ``max_people`` people a frame; the
    figures of the run."""
    from stgcn.loggers.progress import Progress, quiet

    request.check()
    root, output = Path(request.root), Path(request.output)
    kind, estimator, layout = request.kind, request.estimator, request.target_layout()
    val_list, max_people = request.val_list, request.max_people
    if output.resolve() == root.resolve() or root.resolve() in output.resolve().parents:
        raise StgcnError(f"--output {output} is inside the input folder; choose another")
    listing = Path(val_list) if val_list else None
    classes, items = list_items(root, kind, request.val_ratio, listing)
    settings = {
        "classes": classes,
        "source": kind,
        "estimator": estimator if kind == "video" else None,
        "layout": layout,
        "max_people": max_people,
        "val_ratio": None if val_list else request.val_ratio,
        "val_list": sorted(i.relative for i in items if i.split == "val") if val_list else None,
    }
    _manifest(output, settings)
    output.mkdir(parents=True, exist_ok=True)
    write_json(output / MANIFEST, settings)
    todo = [item for item in items if not clip_path(output, item).is_file()]
    skipped = len(items) - len(todo)
    if skipped and not quiet():
        _tell(f"{skipped} of {len(items)} clips already extracted in {output}; skipping them")
    failed: dict[str, str] = {}
    no_pose: list[str] = []
    subject = _estimator(estimator).subject if kind == "video" else "person"
    progress = Progress(len(todo), "extract", unit="clips")

    def finished(item: Item, result: tuple[str, str, int, int]) -> None:
        status, message, frames, with_pose = result
        if status == "failed":
            failed[item.relative] = message
            _tell(f"stgcn: warning: skipped {item.relative}: {message}")
        elif with_pose == 0:
            no_pose.append(item.relative)
            _tell(f"stgcn: warning: no {subject} found in {item.relative} ({frames} frames)")
        progress.update(clip=item.relative)

    def task(item: Item) -> tuple[Any, ...]:
        options = dict(request.estimator_options or {})
        source = SkeletonInput(kind, item.path, estimator, options, request.frame_size, max_people)
        target = clip_path(output, item)
        return source, layout, target, arrays_path(output, item), item.label, item.label_index

    workers = request.workers
    try:
        if workers == 1 or len(todo) <= 1:
            for item in todo:
                finished(item, extract_one(task(item)))
        else:
            context = multiprocessing.get_context("spawn")
            with ProcessPoolExecutor(min(workers, len(todo)), mp_context=context) as pool:
                futures: dict[Future[Any], Item] = {
                    pool.submit(extract_one, task(item)): item for item in todo
                }
                for future in as_completed(futures):
                    finished(futures[future], future.result())
    finally:
        progress.close()
        counts = _write_labels(output, items)
        pickled = _write_pyskl(output, classes, items)
    return {
        "output": str(output),
        "classes": classes,
        "clips": len(items),
        "extracted": len(todo) - len(failed),
        "skipped": skipped,
        "layout": layout,
        "failed": failed,
        "no_pose": no_pose,
        "train": counts["train"],
        "val": counts["val"],
        "subject": subject,
        "pickle": str(output / PICKLE) if pickled else None,
    }


def describe_extraction(result: Mapping[str, Any]) -> list[str]:
    """The lines ``stgcn data extract`` prints for what :func:`extract` returned: what
    was extracted, and how to train on it where there is a training clip (where there is
    none, :func:`unusable` says why, and the command fails)."""
    failed = f", {len(result['failed'])} failed (skipped)" if result["failed"] else ""
    subject = result.get("subject", "person")
    empty = f", {len(result['no_pose'])} without a {subject}" if result["no_pose"] else ""
    lines = [
        f"extracted {result['extracted']} clips ({result['skipped']} already done{failed}"
        f"{empty}) into {result['output']}: {result['train']} training and {result['val']} "
        f"validation clips of {len(result['classes'])} classes",
    ]
    if unusable(result) is not None:
        return lines
    if result["layout"] == "openpose":
        lines.append(
            f"train with: stgcn run --dataset kinetics-json --data-path {result['output']}"
        )
    elif result.get("pickle"):
        names = Path(result["output"]) / CLASS_NAMES
        lines.append(
            f"train with: stgcn run --dataset pyskl --data-path {result['pickle']} "
            f"--data-option classes={names}"
        )
    return lines


def unusable(result: Mapping[str, Any]) -> str | None:
    """Why what :func:`extract` returned cannot be trained on (no training clip with a
    skeleton), in one line; None when it can."""
    if result["train"] > 0:
        return None
    subject = result.get("subject", "person")
    usable = result["train"] + result["val"]
    if usable:
        return (
            f"no usable training clip in {result['output']}: the {usable} clips with a "
            f"{subject} are all in the validation split (lower --val-ratio or add videos)"
        )
    reasons = []
    if result["no_pose"]:
        reasons.append(f"no {subject} found in {len(result['no_pose'])}")
    if result["failed"]:
        reasons.append(f"{len(result['failed'])} failed")
    why = f" ({', '.join(reasons)} of {result['clips']})" if reasons else ""
    return f"no usable clip in {result['output']}{why}: nothing to train on"
