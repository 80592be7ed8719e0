"""`netsnap parse`: print the parsed model of bundles, with per-source parse accounting."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from netsnap.cli.common import OutputFormat, load_snapshot_or_exit
from netsnap.model.host import Snapshot


def _text(snapshot: Snapshot, show_unparsed: bool) -> None:
    console = Console(highlight=False)
    for host in snapshot.hosts:
        table = Table(title=f"{host.name}  ({host.bundle.kind}: {host.bundle.path})", title_justify="left")
        for col in ("source", "state", "file", "parsed", "unparsed"):
            table.add_column(col)
        for st in host.sources.values():
            table.add_row(st.source, st.state.value, st.file or "-", str(st.parsed), str(len(st.unparsed)))
        console.print(table)
        if show_unparsed:
            for st in host.sources.values():
                for line in st.unparsed:
                    console.print(f"  unparsed {st.file}:{line.line}: {line.text}", markup=False)


def register(app: typer.Typer) -> None:
    @app.command("parse")
    def parse_cmd(
        bundles: Annotated[list[str], typer.Argument(help="Bundles: tarballs, directories, sosreports.")],
        fmt: Annotated[OutputFormat, typer.Option("--format", help="text summary or the full JSON model")] = (
            OutputFormat.TEXT
        ),
        unparsed: Annotated[bool, typer.Option("--unparsed", help="List every line no parser understood.")] = False,
    ) -> None:
        """Parse bundles into netsnap's model (JSON) or summarise what each parser understood (text)."""
        snapshot = load_snapshot_or_exit(bundles)
        if fmt is OutputFormat.JSON:
            typer.echo(snapshot.model_dump_json(indent=1))
        else:
            _text(snapshot, unparsed)
