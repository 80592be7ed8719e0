"""The typer application: the root options and the commands, each registered by its module.

Command modules import only the standard library and typer at module level (everything else inside
the command), so `netsnap --help` and `netsnap --version` stay fast.
"""

from __future__ import annotations

import importlib
import sys
from typing import Annotated

import typer

import netsnap
from netsnap.cli.command import LIMITS_KEY, PROGRAM_KEY, NetsnapGroup

#: command modules in the order `netsnap --help` lists them
COMMANDS = ("analyze", "trace", "diff", "inventory", "parse", "rules", "collector", "schema")

app = typer.Typer(
    name="netsnap",
    cls=NetsnapGroup,
    help="Find why traffic between container hosts breaks, offline, from their network dumps.\n\n"
    "\b\nExamples:\n"
    "  netsnap collector --write .          # the script to run on each host (as root)\n"
    "  netsnap analyze master.tgz node1.tgz -o report.html\n"
    "  netsnap trace master.tgz node1.tgz --from master --to 172.18.5.2\n"
    "  netsnap rules explain NS301\n\n"
    "Exit codes: 0 nothing at or above --fail-on, 1 findings, 2 usage error or unreadable input.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode=None,
    context_settings={"max_content_width": 100, "help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"netsnap {netsnap.__version__}")
        raise typer.Exit()


AS_PROGRAM = "netsnap-program"  # ctx.obj when run as the `netsnap` program (not a test's CliRunner)


@app.callback()
def _root(
    ctx: typer.Context,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit.")
    ] = False,
    limit: Annotated[
        list[str] | None,
        typer.Option("--limit", metavar="NAME=VALUE", help="Raise a limit on what is read, for a trusted large "
                     "input (repeat; docs/limits.md): e.g. --limit file-size=256M --limit members=100k."),
    ] = None,
) -> None:
    # the session (limits, memory cap) starts when a command runs (NetsnapCommand.invoke), not for --help
    ctx.meta[LIMITS_KEY] = limit or []
    ctx.meta[PROGRAM_KEY] = ctx.obj == AS_PROGRAM


def _register_commands() -> None:
    for name in COMMANDS:
        importlib.import_module(f"netsnap.cli.{name}").register(app)


_register_commands()


def main() -> None:
    """The `netsnap` program: the app with the memory ceiling on; running out of memory anywhere ends
    the command with one line (exit 2), never a traceback."""
    try:
        app(prog_name="netsnap", obj=AS_PROGRAM)
    except MemoryError:
        from netsnap.cli.common import memory_message

        sys.stderr.write(f"netsnap: error: {memory_message()}\n")
        sys.exit(2)
