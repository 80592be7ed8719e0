"""`netsnap parse`: print the parsed model of bundles, with per-source parse accounting."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

import typer

from netsnap.cli.command import NetsnapCommand

if TYPE_CHECKING:
    from netsnap.model.host import Snapshot


class Format(StrEnum):
    TEXT = "text"
    JSON = "json"


def _text(snapshot: Snapshot, show_unparsed: bool) -> None:
    from rich import box
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from netsnap.report.text import safe

    console = Console(highlight=False)
    for host in snapshot.hosts:
        table = Table(title=safe(f"{host.name}  ({host.bundle.kind}: {host.bundle.path})"), title_justify="left",
                      title_style="bold", box=box.SIMPLE_HEAD, pad_edge=False)
        table.add_column("source", no_wrap=True)
        table.add_column("state", no_wrap=True)
        table.add_column("file", overflow="fold", ratio=1)
        table.add_column("parsed", justify="right", no_wrap=True)
        table.add_column("unparsed", justify="right", no_wrap=True)
        for st in host.sources.values():
            table.add_row(st.source, st.state.value, Text(safe(st.file or "-")), str(st.parsed),
                          str(len(st.unparsed)))
        console.print(table)
        if show_unparsed:
            for st in host.sources.values():
                for line in st.unparsed:
                    console.print(Text(safe(f"  unparsed {st.file}:{line.line}: {line.text}")), soft_wrap=True)


def register(app: typer.Typer) -> None:
    @app.command("parse", cls=NetsnapCommand)
    def parse_cmd(
        bundles: Annotated[list[str], typer.Argument(metavar="BUNDLE",
                                                     help="Bundles: tarballs, directories, sosreports.")],
        fmt: Annotated[Format, typer.Option("--format", metavar="text|json",
                                            help="text summary or the full JSON model")] = Format.TEXT,
        unparsed: Annotated[bool, typer.Option("--unparsed", metavar="",
                                               help="List every line no parser understood.")] = False,
    ) -> None:
        """Parse bundles into netsnap's model (JSON) or summarise what each parser understood (text).

        \b
        Examples:
          netsnap parse node1.tgz --unparsed
          netsnap parse node1.tgz --format json > node1.json
        """
        from netsnap.cli.common import load_snapshot_or_exit

        snapshot = load_snapshot_or_exit(bundles)
        if fmt is Format.JSON:
            typer.echo(snapshot.model_dump_json(indent=1))
        else:
            _text(snapshot, unparsed)
