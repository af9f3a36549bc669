"""``stgcn data``: ``list`` the datasets, ``extract`` skeletons from videos or pose
files, and the shared ``convert`` group that dataset plugins add their converters to."""

from __future__ import annotations

import os

import click

from stgcn.commands import group
from stgcn.commands.options import (
    estimator_options,
    frame_size_for,
    frame_size_option,
    max_people_option,
    one_input,
)
from stgcn.errors import StgcnError
from stgcn.plugins.hookspecs import hookimpl
from stgcn.plugins.settings import parse_pairs


@click.command("list")
def data_list() -> None:
    """The installed datasets."""
    from stgcn.plugins.kinds import DATASETS
    from stgcn.plugins.registry import get_registry

    for name, dataset in sorted(get_registry().table(DATASETS).items()):
        path = "needs --data-path" if dataset.needs_data_path else "built in, no files"
        classes = f"{dataset.num_class:>4} classes" if dataset.num_class else "classes from data"
        click.echo(f"{name:<14} {classes}  {path}  {dataset.description}")
        if dataset.presets:
            click.echo(f"{'':<14} presets: {', '.join(sorted(dataset.presets))}")


@click.command("extract")
@click.option("--videos", type=click.Path(), help="Folder of class subfolders of videos.")
@click.option(
    "--openpose",
    type=click.Path(),
    help="Folder of class subfolders, each clip a folder of OpenPose *_keypoints.json.",
)
@click.option(
    "--coco-results",
    type=click.Path(),
    help="Folder of class subfolders, each clip a COCO keypoint results .json file.",
)
@click.option("--output", required=True, type=click.Path(), help="Folder for the training set.")
@estimator_options("--videos")
@frame_size_option("With --openpose or --coco-results: the video's size in pixels (e.g. 1280x720).")
@max_people_option(2, "People a frame to keep (the most salient), and to look for in videos.")
@click.option(
    "--layout",
    default=None,
    help="The skeleton layout to write: any registered one whose joints the estimator "
    "(or the files) give, matched by name. Default: the estimator's own "
    "(mediapipe-hands: mediapipe-hand), else openpose.",
)
@click.option(
    "--val-ratio",
    type=float,
    default=0.2,
    show_default=True,
    help="Share of each class for validation (chosen by a hash of the name).",
)
@click.option("--val-list", type=click.Path(), help="File naming the validation clips instead.")
@click.option(
    "--workers",
    type=int,
    default=min(4, os.cpu_count() or 1),
    show_default=True,
    help="Parallel worker processes.",
)
def data_extract(
    videos: str | None,
    openpose: str | None,
    coco_results: str | None,
    output: str,
    estimator: str,
    estimator_option: tuple[str, ...],
    frame_size: str | None,
    max_people: int,
    layout: str | None,
    val_ratio: float,
    val_list: str | None,
    workers: int,
) -> None:
    """Class subfolders of videos (or skeleton files) to a training set for stgcn run.

    Writes a Kinetics-skeleton tree (kinetics_train/, kinetics_val/ and their label
    files) that `stgcn run --dataset kinetics-json --data-path OUTPUT` trains on
    (pip install stgcn-data-kinetics; openpose layout), and, for any layout (hands:
    --estimator mediapipe-hands writes its mediapipe-hand layout), a PYSKL annotation pickle,
    OUTPUT/pyskl_annotations.pkl, that `stgcn run --dataset pyskl --data-path` trains on
    (pip install stgcn-data-pyskl); a second run skips clips already extracted.
    """
    from stgcn.pose.extract import ExtractRequest, describe_extraction, extract, unusable

    kind, root = one_input(
        ("video", "--videos DIR", videos),
        ("openpose", "--openpose DIR", openpose),
        ("coco-results", "--coco-results DIR", coco_results),
    )
    size = frame_size_for(kind, frame_size)
    request = ExtractRequest(
        root,
        output,
        kind=kind,
        estimator=estimator,
        estimator_options=parse_pairs(estimator_option, "--estimator-option"),
        frame_size=size,
        val_ratio=val_ratio,
        val_list=val_list,
        workers=workers,
        layout=layout,
        max_people=max_people,
    )
    result = extract(request)
    for line in describe_extraction(result):
        click.echo(line)
    if result["failed"] and not result["extracted"] and not result["skipped"]:
        raise StgcnError(f"no clip could be extracted ({len(result['failed'])} failed)")
    problem = unusable(result)
    if problem is not None:
        raise StgcnError(problem)


@hookimpl
def stgcn_register_commands(cli: click.Group) -> None:
    data = group(cli, "data")
    data.add_command(data_list)
    data.add_command(data_extract)
    group(cli, "data", "convert")
