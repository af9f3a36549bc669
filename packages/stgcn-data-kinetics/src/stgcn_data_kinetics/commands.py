"""The ``stgcn data convert kinetics`` command."""

from __future__ import annotations

import click

from stgcn_data_kinetics.clip import MAX_FRAME, NUM_PERSON_IN, NUM_PERSON_OUT, ClipShape


@click.command("kinetics")
@click.option(
    "--input",
    "input_root",
    required=True,
    metavar="RAW",
    help="Release tree: kinetics_train/, kinetics_val/, kinetics_{train,val}_label.json.",
)
@click.option(
    "--output", "output_root", required=True, metavar="OUT", help="Folder for the four files."
)
@click.option("--max-frame", type=int, default=MAX_FRAME, show_default=True, help="Frames kept.")
@click.option(
    "--num-person-in",
    type=int,
    default=NUM_PERSON_IN,
    show_default=True,
    help="Skeletons read per frame.",
)
@click.option(
    "--num-person-out",
    type=int,
    default=NUM_PERSON_OUT,
    show_default=True,
    help="Persons kept per frame, the highest summed score first.",
)
@click.option("--workers", type=int, help="Worker processes (default: every core).")
@click.option("--overwrite", is_flag=True, help="Replace converted files already in OUT.")
def convert_kinetics(
    input_root: str,
    output_root: str,
    max_frame: int,
    num_person_in: int,
    num_person_out: int,
    workers: int | None,
    overwrite: bool,
) -> None:
    """Convert a Kinetics-skeleton release tree into train/val_data.npy and _label.pkl.

    Clips without skeletons are left out. Files are written under temporary names and
    renamed only when all four are complete.
    """
    from stgcn_data_kinetics.convert import convert_release

    result = convert_release(
        input_root,
        output_root,
        ClipShape(max_frame, num_person_in, num_person_out),
        workers=workers,
        overwrite=overwrite,
    )
    for split, count in result.clips.items():
        click.echo(
            f"{split}: {count} clips ({result.without_skeleton[split]} without skeletons left out)"
        )
    click.echo(f"wrote {result.output} ({result.workers} worker processes)")
