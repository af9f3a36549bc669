"""The ``stgcn data convert ntu`` command."""

from __future__ import annotations

import click

from stgcn_data_ntu.benchmarks import BENCHMARKS
from stgcn_data_ntu.skeleton_file import MAX_FRAMES


@click.command("ntu")
@click.option(
    "--input", "input_folder", required=True, metavar="RAW", help="Folder of .skeleton files."
)
@click.option(
    "--output", "output_folder", required=True, metavar="OUT", help="Writes OUT/xsub, OUT/xview."
)
@click.option(
    "--benchmark",
    "benchmarks",
    multiple=True,
    type=click.Choice(sorted(BENCHMARKS)),
    help="Protocol to convert for; repeatable (default: both).",
)
@click.option("--ignore", metavar="FILE", help="Sample names to leave out, one a line.")
@click.option("--max-frames", type=int, default=MAX_FRAMES, show_default=True)
@click.option("--overwrite", is_flag=True, help="Replace converted files already in OUT.")
def convert_ntu(
    input_folder: str,
    output_folder: str,
    benchmarks: tuple[str, ...],
    ignore: str | None,
    max_frames: int,
    overwrite: bool,
) -> None:
    """Convert NTU RGB+D 60 .skeleton files into train/val_data.npy and _label.pkl."""
    from stgcn.errors import StgcnError
    from stgcn_data_ntu.convert import convert_release

    if max_frames < 1:
        raise StgcnError("--max-frames must be positive")
    result = convert_release(
        input_folder,
        output_folder,
        benchmarks or tuple(sorted(BENCHMARKS)),
        ignore=ignore,
        max_frames=max_frames,
        overwrite=overwrite,
    )
    for part, count in result.samples.items():
        click.echo(f"{part}: {count} samples")
    click.echo(f"wrote {result.output}")
