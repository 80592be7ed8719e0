"""The typer application; command modules in this package register themselves."""

from __future__ import annotations

import importlib
import pkgutil
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


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit.")
    ] = False,
) -> None:
    """netsnap: find why traffic between container hosts breaks, from their dumps."""


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
    app()
