"""`netsnap collector`: the read-only host collector that ships with netsnap, to give to a customer.

`--print` writes the script to stdout (`netsnap collector --print | ssh root@host sh -s -- --output /tmp`),
`--write DIR` saves it as DIR/netsnap-collect.sh; without either, how to use it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from netsnap.cli.command import NetsnapCommand, error_line

SCRIPT = "netsnap-collect.sh"

HOWTO = """\
The collector is one POSIX sh script (bash, dash, busybox ash). It only reads: no packages, no
module loading, no changes; secrets in flannel's files, unit, command line and logs are redacted.

  netsnap collector --write .                  # writes ./netsnap-collect.sh
  scp netsnap-collect.sh root@HOST:/tmp/       # or paste it: netsnap collector --print
  ssh root@HOST sh /tmp/netsnap-collect.sh --output /tmp
  netsnap collector --print | ssh root@HOST sh -s -- --output /tmp

Run it as root on every host involved (the failing pair, and one that works); it prints the bundle's
path last (/tmp/netsnap-HOST-TIME.tar.gz). Send those tarballs back, then:

  netsnap analyze master.tar.gz node1.tar.gz -o report.html

On the host, `sh netsnap-collect.sh --help` says what it reads and writes."""


def script_text() -> str:
    """The collector script as shipped in this installation."""
    from importlib.resources import files

    return files("netsnap.collectors").joinpath(SCRIPT).read_text(encoding="utf-8")


def collector(
    write: Annotated[
        Path | None, typer.Option("--write", metavar="DIR", help=f"Save the script as DIR/{SCRIPT} (executable).")
    ] = None,
    print_: Annotated[bool, typer.Option("--print", metavar="", help="Print the script to stdout.")] = False,
) -> None:
    """The host collector to send to a customer: print it, save it, or see how to run it.

    \b
    Examples:
      netsnap collector --write .
      netsnap collector --print | ssh root@node1 sh -s -- --output /tmp
    """
    if write is not None and print_:
        typer.echo(error_line("give --write DIR or --print, not both"), err=True)
        raise typer.Exit(code=2)
    if print_:
        typer.echo(script_text(), nl=False)
        return
    if write is None:
        typer.echo(HOWTO)
        return
    target = write / SCRIPT if write.is_dir() or not write.suffix else write
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(script_text(), encoding="utf-8")
        target.chmod(0o755)
    except OSError as exc:
        typer.echo(error_line(f"{target}: cannot write: {exc.strerror or exc}"), err=True)
        raise typer.Exit(code=2) from None
    typer.echo(str(target))
    typer.echo(f"run it as root on each host: sh {SCRIPT} --output /tmp (it prints the bundle's path last)",
               err=True)


def register(app: typer.Typer) -> None:
    app.command("collector", cls=NetsnapCommand)(collector)
