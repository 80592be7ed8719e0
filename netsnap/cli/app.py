"""The typer application: the root options and the commands, each registered by its module.

Command modules import only the standard library and typer at module level (everything else inside
the command), so `netsnap --help` and `netsnap --version` stay fast.
"""

from __future__ import annotations

import importlib
from typing import Annotated

import typer

import netsnap
from netsnap.cli.command import NetsnapGroup

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


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit.")
    ] = False,
) -> None:
    pass


def _register_commands() -> None:
    for name in COMMANDS:
        importlib.import_module(f"netsnap.cli.{name}").register(app)


_register_commands()


def main() -> None:
    app(prog_name="netsnap")
