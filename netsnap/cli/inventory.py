"""`netsnap inventory`: per bundle, which sources were found, which are missing and why, and problems."""

from __future__ import annotations

import json
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any

import typer

from netsnap.cli.command import NetsnapCommand

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

MAX_PROBLEMS_SHOWN = 40

_STYLE = {
    "ok": "green",
    "truncated": "yellow",
    "not collected": "dim",
    "empty": "yellow",
    "command missing": "red",
    "failed": "red",
    "timed out": "red",
    "unreadable": "red",
}


class Format(StrEnum):
    TEXT = "text"
    JSON = "json"


def _text(console: Console, inv: dict[str, Any]) -> None:
    from netsnap.bundle.members import human_size

    title = f"{inv['host']}  ({inv['kind']}: {inv['path']})"
    console.print(title, style="bold", markup=False)
    facts = [f"sha256 {inv['sha256']}" if inv["sha256"] else None,
             f"collected {inv['collected_at']}" if inv["collected_at"] else None,
             _collector(inv),
             f"{inv['redactions']} redactions" if inv["redactions"] else None]
    console.print("  " + ", ".join(f for f in facts if f), markup=False)
    console.print(f"  {inv['found']} sources found, {inv['missing']} missing", markup=False)
    usable = ("ok", "truncated")
    found = [r for r in inv["sources"] if r["state"] in usable]
    # "not collected" with a reason (sos skipped the command) is shown with it; plain absence is only named
    absent = [r for r in inv["sources"] if r["state"] not in usable and (r["state"] != "not collected" or r["notes"])]
    never = [r["id"] for r in inv["sources"] if r["state"] == "not collected" and not r["notes"]]
    if found:
        table = _table("found", ("source", "state", "file", "size", "notes"))
        for row in found:
            size = human_size(row["size"]) if row["size"] else "0 bytes"
            table.add_row(row["id"], _state(row["state"]), _escape(row["file"]), size, _escape(_notes(row)))
        console.print(table)
    if absent:
        table = _table("missing", ("source", "why", "file", "exit", "notes"))
        for row in absent:
            exit_code = "-" if row["exit_code"] is None else str(row["exit_code"])
            table.add_row(row["id"], _state(row["state"]), _escape(row["file"] or "-"), exit_code,
                          _escape(_notes(row)))
        console.print(table)
    if never:
        console.print("  not collected: " + ", ".join(never), markup=False)
    for ns in inv["namespaces"]:
        console.print(f"  other network namespace {ns['name']} (kept apart, not analysed): {len(ns['files'])} files",
                      markup=False)
    problems: list[str] = inv["problems"]
    if problems:
        console.print("  problems:", markup=False)
        for problem in problems[:MAX_PROBLEMS_SHOWN]:
            console.print(f"    - {problem}", markup=False)
        if len(problems) > MAX_PROBLEMS_SHOWN:
            console.print(f"    ... and {len(problems) - MAX_PROBLEMS_SHOWN} more (see --format json)", markup=False)
    console.print()


def _collector(inv: dict[str, Any]) -> str | None:
    version = inv["collector_version"]
    if not version:
        return None
    return f"by netsnap-collect {version}" if inv["kind"] == "collector" else f"by {version}"


def _table(title: str, columns: tuple[str, ...]) -> Table:
    """Headers never break (every column but `notes` keeps its width); notes wrap at words."""
    from rich import box
    from rich.table import Table

    table = Table(title=title, title_justify="left", title_style="bold", box=box.SIMPLE_HEAD, pad_edge=False,
                  show_edge=False)
    for col in columns:
        if col == "notes":
            table.add_column(col, overflow="fold", ratio=1, min_width=12)
        elif col == "file":
            table.add_column(col, overflow="fold", ratio=1, min_width=10)
        else:
            table.add_column(col, no_wrap=True, justify="right" if col in ("size", "exit") else "left")
    return table


def _state(state: str) -> str:
    style = _STYLE.get(state)
    return f"[{style}]{state}[/]" if style else state


def _notes(row: dict[str, Any]) -> str:
    notes: list[str] = list(row["notes"])
    if row["command"]:
        notes.insert(0, f"command: {row['command']}")
    return "; ".join(notes)


def _escape(text: str) -> str:
    return text.replace("[", "\\[")


def register(app: typer.Typer) -> None:
    @app.command("inventory", cls=NetsnapCommand)
    def inventory_cmd(
        bundles: Annotated[list[str], typer.Argument(metavar="BUNDLE",
                                                     help="Bundles: tarballs, directories, sosreports, loose files.")],
        fmt: Annotated[Format, typer.Option("--format", metavar="text|json",
                                            help="text tables or stable JSON")] = Format.TEXT,
    ) -> None:
        """Show what each bundle holds: sources found, missing ones and why, and bundle problems.

        \b
        Examples:
          netsnap inventory node1.tgz
          netsnap inventory sosreport-node1.tar.xz --format json
        """
        from rich.console import Console

        from netsnap.bundle.inventory import inventory
        from netsnap.bundle.model import BundleError
        from netsnap.bundle.reader import open_bundles
        from netsnap.cli.common import current_limits, fail

        inventories: list[dict[str, Any]] = []
        for path in bundles:
            try:
                inventories.extend(inventory(b) for b in open_bundles(path, current_limits()))
            except BundleError as exc:
                fail(str(exc))
        if fmt is Format.JSON:
            typer.echo(json.dumps({"bundles": inventories}, indent=1, sort_keys=True))
            return
        console = Console(highlight=False)
        for inv in inventories:
            _text(console, inv)
