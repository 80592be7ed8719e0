"""`netsnap diff`: what differs between a known-good and a failing host, ranked by its effect on the
failing side's blocked flows; differences with no effect on reachability come last, counted apart.

Both sides are labelled (host and bundle); a known-good host with the same name as a failing one is
called `NAME (good)` so every evidence line says which side it is from.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from netsnap.cli.command import NetsnapCommand, error_line
from netsnap.cli.formats import Format, UsageProblem, output_format

if TYPE_CHECKING:
    from netsnap.diff.model import DiffResult
    from netsnap.engine.findings import Finding, FlowVerdict
    from netsnap.model.host import Snapshot


def label_good_side(good: Snapshot, bad: Snapshot) -> Snapshot:
    """`good` with each host whose name a bad host also has renamed `NAME (good)` (before any rule runs, so
    findings and evidence carry the new name)."""
    taken = {h.name for h in bad.hosts}
    if not taken & {h.name for h in good.hosts}:
        return good
    return good.model_copy(update={"hosts": [
        h.model_copy(update={"name": f"{h.name} (good)"}) if h.name in taken else h for h in good.hosts]})


def sides(good: Snapshot, bad: Snapshot) -> dict[str, str]:
    """Host name -> `good`/`bad` and its bundle, for the headers of the text and HTML diffs."""
    out = {h.name: f"good: {h.name} ({h.bundle.path})" for h in good.hosts}
    out.update({h.name: f"bad: {h.name} ({h.bundle.path})" for h in bad.hosts})
    return out


def _analyse(snapshot: Snapshot) -> tuple[list[Finding], list[FlowVerdict]]:
    from netsnap.engine.run import run_rules

    result = run_rules(snapshot)
    return list(result.findings), list(result.flows)


def _text(result: DiffResult, labels: dict[str, str], top: int | None) -> None:
    from rich.console import Console
    from rich.text import Text

    from netsnap.report.text import safe

    console = Console(highlight=False)
    for g, b in result.pairs:
        console.print(Text(safe(f"{labels.get(b, b)}  vs  {labels.get(g, g)}")), soft_wrap=True)
    if not result.differences:
        console.print("No meaningful difference.")
        return
    effect = [d for d in result.differences if d.effect]
    console.print(Text(f"{len(effect)} differences touch a blocked flow (most telling first); "
                       f"{result.without_effect} have no effect on reachability (listed after them)", style="bold"),
                  soft_wrap=True)
    shown = result.differences[:top] if top is not None else result.differences
    for n, d in enumerate(shown, start=1):
        if n == len(effect) + 1:
            console.print(Text(f"No effect on reachability ({result.without_effect})", style="bold underline"))
        head = Text(f"{n:>3}. ", style="bold" if d.effect else "")
        head.append(safe(f"[{d.kind}] {d.key}"), style="bold" if d.effect else "")
        console.print(head, soft_wrap=True)
        console.print(Text(safe(f"       good: {d.good if d.good is not None else '(absent)'}")), soft_wrap=True)
        console.print(Text(safe(f"       bad:  {d.bad if d.bad is not None else '(absent)'}")), soft_wrap=True)
        if d.explanation:
            console.print(Text(safe(f"       {d.explanation}"), style="dim" if not d.effect else ""), soft_wrap=True)
        for ev in d.evidence[:2]:
            console.print(Text(safe(f"       {ev.host} {ev.file}:{ev.line}: {ev.text.strip()}"), style="dim"),
                          soft_wrap=True)
    if len(shown) < len(result.differences):
        console.print(Text(f"… {len(result.differences) - len(shown)} more (without --top)", style="dim"))


def diff_cmd(
    bundles: Annotated[list[str] | None, typer.Argument(metavar="GOOD BAD", help="One bundle each.")] = None,
    good: Annotated[list[str] | None, typer.Option("--good", metavar="BUNDLE",
                                                   help="Known-good bundle (repeatable).")] = None,
    bad: Annotated[list[str] | None, typer.Option("--bad", metavar="BUNDLE",
                                                  help="Failing bundle (repeatable).")] = None,
    fmt: Annotated[Format | None, typer.Option("--format", "-f", metavar="text|json|html",
                                               help="Output format (default: from the -o suffix, else text).")] = None,
    output: Annotated[Path | None, typer.Option("-o", "--output", metavar="FILE",
                                                help="Write to FILE (.html, .json, .txt).")] = None,
    top: Annotated[int | None, typer.Option("--top", metavar="N",
                                            help="Show only the N most telling differences.")] = None,
    no_rules: Annotated[bool, typer.Option("--no-rules", metavar="", help="Compare state only; run no rules.")] = False,
) -> None:
    """Compare a known-good host with a failing one; differences that explain a blocked flow come first.

    \b
    Examples:
      netsnap diff good-master.tgz bad-master.tgz
      netsnap diff good-master.tgz bad-master.tgz --top 5 -o diff.html
      netsnap diff --good node2.tgz --bad node1.tgz --bad master.tgz

    Exit codes: 0 no difference, 1 differences, 2 usage error or unreadable input.
    """
    from netsnap.cli.common import fail, load_snapshot_or_exit
    from netsnap.diff.compare import diff_snapshots

    try:
        fmt = output_format(fmt, output)
    except UsageProblem as exc:
        fail(str(exc))
    if top is not None and top < 1:
        fail(f"--top {top}: give a positive number of differences")
    good_paths, bad_paths = list(good or []), list(bad or [])
    positional = list(bundles or [])
    if positional:
        if good_paths or bad_paths or len(positional) != 2:
            fail("give GOOD BAD as two arguments, or use --good/--bad (repeatable)")
        good_paths, bad_paths = [positional[0]], [positional[1]]
    if not good_paths or not bad_paths:
        fail("need at least one good and one bad bundle")
    bad_snap = load_snapshot_or_exit(bad_paths)
    good_snap = label_good_side(load_snapshot_or_exit(good_paths), bad_snap)
    good_findings, _ = ([], []) if no_rules else _analyse(good_snap)
    bad_findings, bad_flows = ([], []) if no_rules else _analyse(bad_snap)
    result = diff_snapshots(good_snap.hosts, bad_snap.hosts, good_findings, bad_findings, bad_flows)
    labels = sides(good_snap, bad_snap)
    if fmt is Format.TEXT and output is None:
        _text(result, labels, top)
    else:
        if fmt is Format.HTML:
            from netsnap.diff.html import render_diff_html

            text = render_diff_html(result, labels=labels, findings=bad_findings, top=top)
        elif fmt is Format.JSON:
            shown = result if top is None else result.model_copy(update={"differences": result.differences[:top]})
            text = shown.model_dump_json(indent=1) + "\n"
        else:
            import contextlib
            import io

            buffer = io.StringIO()
            with contextlib.redirect_stdout(buffer):
                _text(result, labels, top)
            text = buffer.getvalue()
        if output is None:
            typer.echo(text, nl=False)
        else:
            try:
                output.write_text(text, encoding="utf-8")
            except OSError as exc:
                typer.echo(error_line(f"{output}: cannot write: {exc.strerror or exc}"), err=True)
                raise typer.Exit(code=2) from None
    if result.differences:
        raise typer.Exit(code=1)


def register(app: typer.Typer) -> None:
    app.command("diff", cls=NetsnapCommand)(diff_cmd)
