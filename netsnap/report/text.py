"""Terminal output with rich: a summary table, then each finding with its evidence, why and fix.

Bundle text is always passed to rich as `Text` (never as markup), so `[bold]` in an iptables comment
prints as written. Colour only appears when the console is a terminal (rich decides).
"""

from __future__ import annotations

from rich.console import Console, Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from netsnap.engine.findings import AnalysisResult, Finding
from netsnap.report.view import category_states, severity_counts, verdict
from netsnap.trace.result import TraceResult

CONTROL = {c: f"\\x{c:02x}" for c in [*range(0x00, 0x09), *range(0x0B, 0x20), *range(0x7F, 0xA0)]}


def _clean(value: object) -> object:
    """Bundle text with terminal control characters (ESC, BEL, CR...) made visible as \\xNN."""
    if isinstance(value, str):
        return value.translate(CONTROL)
    if isinstance(value, list):
        return [_clean(v) for v in value]
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    return value


def terminal_safe(result: AnalysisResult) -> AnalysisResult:
    """A copy of `result` that cannot move the cursor, retitle the terminal or clear the screen."""
    return AnalysisResult.model_validate(_clean(result.model_dump()))


SEVERITY_STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan", "not evaluated": "magenta"}


def _summary(result: AnalysisResult) -> Table:
    table = Table(title="Severity counts", title_justify="left", show_lines=False, expand=False)
    table.add_column("error", justify="right", style=SEVERITY_STYLE["error"])
    table.add_column("warning", justify="right", style=SEVERITY_STYLE["warning"])
    table.add_column("info", justify="right", style=SEVERITY_STYLE["info"])
    table.add_column("not evaluated", justify="right", style=SEVERITY_STYLE["not evaluated"])
    counts = severity_counts(result)
    table.add_row(*(str(counts[k]) for k in ("error", "warning", "info", "not evaluated")))
    return table


def _hosts(result: AnalysisResult) -> Table:
    table = Table(title="Bundles analysed", title_justify="left")
    table.add_column("host", overflow="fold")
    table.add_column("collected", no_wrap=True)
    table.add_column("collector", overflow="fold")
    table.add_column("sha256", no_wrap=True)
    table.add_column("ok", justify="right")
    table.add_column("missing", justify="right")
    table.add_column("unparsed", justify="right")
    for h in result.hosts:
        table.add_row(
            Text(h.name),
            Text(h.collected_at or "?"),
            Text(h.collector_version or "?"),
            Text((h.sha256 or "?")[:8]),
            str(h.sources_ok),
            str(len(h.sources_missing)),
            str(h.unparsed_lines),
        )
    return table


def _finding(n: int, f: Finding) -> Panel:
    parts: list[RenderableType] = []
    head = Text()
    head.append(f.severity.value.upper(), style=SEVERITY_STYLE[f.severity.value])
    head.append(f"  {f.rule}  ")
    head.append(f.cause, style="bold")
    head.append("  hosts: ")
    head.append(", ".join(f.hosts))
    parts.append(head)
    if f.path:
        parts.append(Text(f"breaks: {f.path}"))
    parts.append(Text("evidence:", style="bold"))
    for e in f.evidence:
        line = Text("  ")
        line.append(f"{e.host} {e.file}:{e.line}" if e.line else f"{e.host} {e.file}", style="dim")
        line.append("  ")
        line.append(e.text)
        parts.append(line)
    parts.append(Text("why: ", style="bold") + Text(f.explanation))
    if f.remediation:
        parts.append(Text("fix:", style="bold"))
        parts.extend(Text("  " + r, style="green") for r in f.remediation)
    if f.references:
        parts.append(Text("references: ", style="bold") + Text("; ".join(f.references)))
    return Panel(Group(*parts), title=Text(f"{n}. {f.title}"), title_align="left", expand=True)


def _trace_lines(t: TraceResult, indent: str = "") -> list[Text]:
    """One line per trace; for a flow that does not get through, the steps that stop or blur it.

    The full hop-by-hop table with what each step consulted is in the HTML and JSON reports.
    """
    port = f":{t.port}" if t.port is not None else ""
    head = Text(f"{indent}{t.src_host} → {t.dst_ip} {t.proto}{port}: ")
    head.append(f"{t.verdict} ({t.disposition})", style="red" if t.verdict != "reachable" else "green")
    if t.share != 1.0:
        head.append(f" share {t.share:.0%}")
    if t.reason and t.verdict != "reachable":
        head.append(f" - {t.reason}")
    lines = [head]
    if t.verdict != "reachable":
        for step in t.hops:
            if step.action in ("deny", "unknown"):
                lines.append(Text(f"{indent}  {step.host}: {step.stage}: {step.action}: {step.detail}"))
    for b in t.branches:
        lines.extend(_trace_lines(b, indent + "  "))
    if t.reply is not None:
        reply = _trace_lines(t.reply, indent + "  ")
        reply[0] = Text(f"{indent}  reply: ") + reply[0][len(indent) + 2 :]
        lines.extend(reply)
    return lines


def render_text(result: AnalysisResult, console: Console) -> None:
    """Print the whole text report on `console`."""
    result = terminal_safe(result)
    console.print(Text(verdict(result), style="bold"))
    console.print(_summary(result))
    if result.hosts:
        console.print(_hosts(result))
    findings = list(result.findings)
    for n, f in enumerate(findings, start=1):
        console.print(_finding(n, f))
    if result.not_evaluated:
        table = Table(title="Not evaluated (a missing source is never a pass)", title_justify="left")
        for col in ("rule", "title", "hosts", "missing", "reason"):
            table.add_column(col)
        for ne in sorted(result.not_evaluated, key=lambda x: x.rule):
            table.add_row(Text(ne.rule), Text(ne.title), Text(", ".join(ne.hosts)), Text(", ".join(ne.missing)),
                          Text(ne.reason))
        console.print(table)
    for state in category_states(result.rule_runs):
        console.print(Text(state.sentence))
    traces, notes = list(result.traces), list[str]()
    if traces:
        console.print(Text("Traces", style="bold"))
        for t in traces:
            for line in _trace_lines(t):
                console.print(line)
    for note in notes:
        console.print(Text(note, style="dim"))
