"""``stgcn report``: curves, a confusion matrix and a summary of a run."""

from __future__ import annotations

import click

from stgcn.plugins.hookspecs import hookimpl


@click.command()
@click.argument("run_dir", metavar="RUN_DIR")
@click.option("--output", help="Folder for the report (default: RUN_DIR/report).")
@click.option("--no-confusion", is_flag=True, help="Skip evaluating the best checkpoint.")
@click.option("--backend", help="Backend for the confusion matrix's evaluation (default: cpu).")
def report(run_dir: str, output: str | None, no_confusion: bool, backend: str | None) -> None:
    """Curves, a confusion matrix and a summary of a run (finished or still running)."""
    from stgcn.reports import write_report

    summary = write_report(run_dir, output, confusion=not no_confusion, backend=backend or "cpu")
    click.echo(f"wrote {summary} and its images in {summary.parent}")


@hookimpl
def stgcn_register_commands(cli: click.Group) -> None:
    cli.add_command(report)
