"""The typer application; command modules in this package register themselves."""

from __future__ import annotations

import importlib
import pkgutil
import sys
from typing import Annotated

import typer

import netsnap
import netsnap.cli

app = typer.Typer(
    name="netsnap",
    help="Offline analyzer for network dumps of container hosts.\n\n"
    "Exit codes: 0 nothing at or above --fail-on, 1 findings, 2 usage error or unreadable input.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
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
    """netsnap: find why traffic between container hosts breaks, from their dumps."""
    from netsnap.cli.common import end_session, start_session

    start_session(limit or [], as_program=ctx.obj == AS_PROGRAM)
    ctx.call_on_close(end_session)


def _register_commands() -> None:
    for info in sorted(pkgutil.iter_modules(netsnap.cli.__path__), key=lambda m: m.name):
        if info.name in ("app", "common"):
            continue
        module = importlib.import_module(f"netsnap.cli.{info.name}")
        register = getattr(module, "register", None)
        if callable(register):
            register(app)


_register_commands()


def main() -> None:
    """The `netsnap` program: the app with the memory ceiling on; running out of memory anywhere ends
    the command with one line (exit 2), never a traceback."""
    try:
        app(obj=AS_PROGRAM)
    except MemoryError:
        from netsnap.cli.common import memory_message

        sys.stderr.write(f"netsnap: error: {memory_message()}\n")
        sys.exit(2)
