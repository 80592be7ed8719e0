"""`netsnap schema [--output model|analyze]`: print a JSON Schema.

`model` (the default) is the Snapshot model every layer shares; `analyze` is the JSON that
`netsnap analyze --format json` prints.
"""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Annotated

import typer

from netsnap.cli.command import NetsnapCommand


class SchemaOf(StrEnum):
    MODEL = "model"
    ANALYZE = "analyze"


def schema_text(of: SchemaOf) -> str:
    from netsnap.model import Snapshot
    from netsnap.report.json_output import analyze_schema

    data = Snapshot.model_json_schema() if of is SchemaOf.MODEL else analyze_schema()
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def schema(
    output: Annotated[
        SchemaOf, typer.Option("--output", metavar="model|analyze",
                               help="model: the Snapshot model; analyze: the analyze JSON output.")
    ] = SchemaOf.MODEL,
) -> None:
    """Print the JSON Schema of the parsed model or of `netsnap analyze --format json`."""
    typer.echo(schema_text(output), nl=False)


def register(app: typer.Typer) -> None:
    app.command("schema", cls=NetsnapCommand)(schema)
