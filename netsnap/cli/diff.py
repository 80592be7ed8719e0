"""`netsnap diff`: what differs between a known-good and a failing host, ranked by what it explains."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from netsnap.cli.common import fail, load_snapshot_or_exit
from netsnap.diff.compare import diff_snapshots
from netsnap.diff.model import DiffResult
from netsnap.engine.findings import Finding, FlowVerdict
from netsnap.model.host import Snapshot


class DiffFormat(StrEnum):
    TEXT = "text"
    JSON = "json"
    HTML = "html"


def _analyse(snapshot: Snapshot) -> tuple[list[Finding], list[FlowVerdict]]:
    from netsnap.engine.run import run_rules

    result = run_rules(snapshot)
    return list(result.findings), list(result.flows)


def _text(result: DiffResult) -> None:
    console = Console(highlight=False)
    pairs = ", ".join(f"{g} (good) vs {b} (bad)" for g, b in result.pairs)
    if not result.differences:
        console.print(f"No meaningful difference: {pairs}.", markup=False)
        return
    console.print(f"{len(result.differences)} differences, most telling first ({result.without_effect} with no "
                  f"effect on reachability, listed last): {pairs}", markup=False)
    for n, d in enumerate(result.differences, start=1):
        console.print(f"{n:>3}. [{d.kind}] {d.key}", markup=False, style="bold" if d.explains else None)
        console.print(f"       good: {d.good if d.good is not None else '(absent)'}", markup=False)
        console.print(f"       bad:  {d.bad if d.bad is not None else '(absent)'}", markup=False)
        if d.explanation:
            console.print(f"       {d.explanation}", markup=False)
        for ev in d.evidence[:2]:
            console.print(f"       {ev.host} {ev.file}:{ev.line}: {ev.text.strip()}", markup=False)


def register(app: typer.Typer) -> None:
    @app.command("diff")
    def diff_cmd(
        bundles: Annotated[list[str] | None, typer.Argument(help="GOOD BAD (one bundle each).")] = None,
        good: Annotated[list[str] | None, typer.Option("--good", help="Known-good bundle (repeatable).")] = None,
        bad: Annotated[list[str] | None, typer.Option("--bad", help="Failing bundle (repeatable).")] = None,
        fmt: Annotated[DiffFormat, typer.Option("--format", help="text, json or html")] = DiffFormat.TEXT,
        output: Annotated[Path | None, typer.Option("-o", "--output", help="Write to this file.")] = None,
        no_rules: Annotated[bool, typer.Option("--no-rules", help="Compare state only; run no rules.")] = False,
    ) -> None:
        """Compare a known-good host with a failing one; differences that explain a finding come first."""
        good_paths, bad_paths = list(good or []), list(bad or [])
        positional = list(bundles or [])
        if positional:
            if good_paths or bad_paths or len(positional) != 2:
                fail("give GOOD BAD as two arguments, or use --good/--bad (repeatable)")
            good_paths, bad_paths = [positional[0]], [positional[1]]
        if not good_paths or not bad_paths:
            fail("need at least one good and one bad bundle")
        good_snap = load_snapshot_or_exit(good_paths)
        bad_snap = load_snapshot_or_exit(bad_paths)
        good_findings, _ = ([], []) if no_rules else _analyse(good_snap)
        bad_findings, bad_flows = ([], []) if no_rules else _analyse(bad_snap)
        result = diff_snapshots(good_snap.hosts, bad_snap.hosts, good_findings, bad_findings, bad_flows)
        if fmt is DiffFormat.TEXT and output is None:
            _text(result)
        else:
            if fmt is DiffFormat.HTML:
                from netsnap.diff.html import render_diff_html

                text = render_diff_html(result)
            else:
                text = result.model_dump_json(indent=1) + "\n"
            if output is None:
                typer.echo(text, nl=False)
            else:
                try:
                    output.write_text(text, encoding="utf-8")
                except OSError as exc:
                    fail(f"{output}: cannot write: {exc.strerror or exc}")
        if result.differences:
            raise typer.Exit(code=1)
