"""The ``stgcn`` command: the root group, its entry point and the one-line error policy.

Every command, the built-in ones included, is added by a plugin's
``stgcn_register_commands`` hook (the built-ins live in :mod:`stgcn.commands`). A
mistake the user can make ends in one line on stderr and a non-zero exit; ``--debug``
(or ``STGCN_DEBUG=1``) shows the traceback instead.
"""

from __future__ import annotations

import os

# Set before torch is first imported. torch otherwise imports every installed device
# extension (torch-npu, say) while it loads, and one whose native libraries are missing
# (torch-npu without the CANN toolkit) makes `import torch` itself fail. Backends
# import their own device extension when they start.
os.environ.setdefault("TORCH_DEVICE_BACKEND_AUTOLOAD", "0")

import sys

import click

from stgcn.errors import StgcnError, first_line


def _show_versions(ctx: click.Context, _option: click.Parameter, shown: bool) -> None:
    """Print the core's version and the plugin API's, then each installed stgcn
    distribution (by name, or by its ``stgcn`` entry points: a third party's plugin), so
    that a bug report says which packages met; then exit. The packages are released with
    one version, but any may be upgraded alone within its ``stgcn-core`` range."""
    if not shown:
        return
    from importlib import metadata

    from stgcn import __version__
    from stgcn.plugins.loading import API_VERSION

    found: dict[str, str] = {}
    for dist in metadata.distributions():
        name = (dist.metadata["Name"] or "").lower().replace("_", "-")
        is_plugin = any(point.group == "stgcn" for point in dist.entry_points)
        if (name.startswith("stgcn") or is_plugin) and name not in found:
            found[name] = dist.version
    click.echo(f"stgcn {__version__}, plugin API {API_VERSION}")
    width = max(map(len, found), default=0)
    for name in sorted(found):
        click.echo(f"  {name:<{width}}  {found[name]}")
    ctx.exit()


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--debug", is_flag=True, help="Show tracebacks instead of one-line errors.")
@click.option(
    "--quiet", is_flag=True, help="No progress and no per-epoch lines: warnings, errors, results."
)
@click.option(
    "--version",
    is_flag=True,
    is_eager=True,
    expose_value=False,
    callback=_show_versions,
    help="Show the version of every installed stgcn package and the plugin API's.",
)
@click.pass_context
def cli(ctx: click.Context, debug: bool, quiet: bool) -> None:
    """ST-GCN skeleton action recognition: train, evaluate, benchmark."""
    if debug:
        os.environ["STGCN_DEBUG"] = "1"
    if quiet:  # an environment variable, so that worker processes are quiet too
        os.environ["STGCN_QUIET"] = "1"


def build_cli() -> click.Group:
    """The root group with every plugin's commands added (the built-ins among them),
    then ``stgcn export NAME`` for each registered exporter. Made anew on each call, so
    that a process that builds it twice (the tests' in-process runs, after a plugin was
    installed) notes each plugin's commands as a fresh ``stgcn`` does."""
    from stgcn.commands.export import wire_exporters
    from stgcn.plugins.command_hooks import register_commands
    from stgcn.plugins.registry import get_plugin_manager, get_registry

    root = click.Group(
        cli.name,
        params=list(cli.params),
        callback=cli.callback,
        help=cli.help,
        context_settings=dict(cli.context_settings),
    )
    registry = get_registry()
    register_commands(get_plugin_manager(), registry, root)
    wire_exporters(root, registry)
    return root


def _fail(message: str, code: int = 1) -> None:
    click.echo(f"stgcn: error: {message}", err=True)
    sys.exit(code)


def main(argv: list[str] | None = None) -> None:
    debug = os.environ.get("STGCN_DEBUG") == "1" or "--debug" in (argv or sys.argv[1:])
    if any("\x00" in arg for arg in (sys.argv[1:] if argv is None else argv)):
        # only a program calling main() can pass one (a shell cannot): no path takes it
        _fail("an argument holds a NUL byte, which no path or value can")
    try:
        group = build_cli()
        group.main(args=argv, prog_name="stgcn", standalone_mode=False)
    except StgcnError as error:
        if debug:
            raise
        code = getattr(error, "exit_code", 1)
        if code != 1:  # a run stopped by a signal after saving: not a mistake
            click.echo(f"stgcn: {first_line(error)}", err=True)
            sys.exit(code)
        _fail(first_line(error))
    except OSError as error:
        # a path the user gave that cannot be read or written: no traceback for that
        if debug:
            raise
        _fail(f"{error.strerror or error}: {error.filename}" if error.filename else str(error))
    except click.exceptions.Abort:
        _fail("aborted", 130)
    except click.ClickException as error:
        if debug:
            raise
        hint = ""
        ctx = getattr(error, "ctx", None)
        if isinstance(error, click.UsageError) and ctx is not None:
            hint = f" (see {ctx.command_path} --help)"
        _fail(error.format_message() + hint, error.exit_code)
    except KeyboardInterrupt:
        _fail("interrupted", 130)


if __name__ == "__main__":
    main()
