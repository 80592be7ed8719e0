"""Terminal output with rich, made to be read at 80 columns and copied from: no boxes around text, fix
commands, evidence lines and URLs printed whole (`soft_wrap`: the terminal folds them, nothing is
inserted), prose wrapped at words with a hanging indent, tables whose headers never break.

Order: the headline, the plain ranked summary (per cause: what breaks, where, the commands), the
`--baseline` comparison, the bundles, every finding, the required flows, what was not evaluated or not
applicable, the checks per category. `render_trace` prints one packet trace with coloured marks and a
legend. Bundle text is always passed to rich as `Text` (never as markup), so `[bold]` in an iptables
comment prints as written; control characters are shown as \\xNN. Colour only on a terminal.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from netsnap.engine.findings import AnalysisResult, Finding
from netsnap.report.view import (
    category_states,
    flow_rows,
    headline,
    is_comment,
    not_applicable,
    state_counts,
    summary_items,
)
from netsnap.trace.result import Step, TraceResult

if TYPE_CHECKING:
    from netsnap.diff.model import DiffResult

CONTROL = {c: f"\\x{c:02x}" for c in [*range(0x00, 0x09), *range(0x0B, 0x20), *range(0x7F, 0xA0)]}
SEVERITY_STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan", "not evaluated": "magenta",
                  "not applicable": "dim"}
STATE_STYLE = {"blocked": "bold red", "undecided": "yellow", "reachable": "green"}
INDENT = 4
MAX_COMPARISON = 5


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


def safe(text: str) -> str:
    return text.translate(CONTROL)


def _line(console: Console, text: Text, indent: int = 0) -> None:
    """One line printed whole: the terminal folds it, rich inserts no line break (copy-paste safe)."""
    console.print(Text(" " * indent) + text, soft_wrap=True)


def _prose(console: Console, rows: list[tuple[str, Text | str]], indent: int = INDENT) -> None:
    """Label/value rows, values wrapped at words under themselves (a hanging indent), no trailing spaces."""
    width = max((len(label) for label, _ in rows), default=0)
    for label, value in rows:
        text = value if isinstance(value, Text) else Text(value)
        lead = " " * indent + (f"{label:<{width}} " if width else "")
        room = max(20, console.width - len(lead))
        for n, line in enumerate(text.wrap(console, room)):
            line.rstrip()
            head = Text(lead if n == 0 else " " * len(lead))
            if n == 0 and label:
                head = Text(" " * indent) + Text(f"{label:<{width}}", style="bold") + Text(" ")
            console.print(head + line, soft_wrap=True)


def _counts(result: AnalysisResult) -> Text:
    text = Text()
    for n, (name, count) in enumerate(state_counts(result).items()):
        if n:
            text.append(" · ", style="dim")
        word = {"info": "note"}.get(name, name)
        label = word if name in ("not evaluated", "not applicable") else (word + ("" if count == 1 else "s"))
        text.append(f"{count} {label}", style=SEVERITY_STYLE[name] if count else "dim")
    return text


def _summary(console: Console, findings: list[Finding]) -> None:
    items = summary_items(findings)
    if not items:
        return
    console.print()
    console.print(Text("What to fix, most traffic first", style="bold underline"))
    for n, item in enumerate(items, start=1):
        _prose(console, [(f"{n:>2}.", Text(item.sentence, style=SEVERITY_STYLE[item.severity.value]))], indent=0)
        nums = ", ".join(str(findings.index(f) + 1) for f in findings if f.anchor in item.anchors)
        where = Text("breaks " + "; ".join(item.breaks) if item.breaks else "", style="dim")
        where.append(f"{' · ' if item.breaks else ''}finding {nums}", style="dim")
        _prose(console, [("", where)], indent=INDENT)
        if item.fix_note:
            _line(console, Text(item.fix_note, style="dim"), INDENT)
        for cmd in item.fix:
            _line(console, Text(cmd, style="green"), INDENT)


def _comparison(console: Console, diff: DiffResult, findings: list[Finding]) -> None:
    console.print()
    pairs = "; ".join(f"{b} with known-good {g}" for g, b in diff.pairs) or "no host paired"
    console.print(Text("Compared with a known-good host", style="bold underline"))
    effect = [d for d in diff.differences if d.effect]
    _prose(console, [("", Text(f"{pairs}: {len(effect)} differences touch a blocked flow, "
                               f"{diff.without_effect} have no effect on reachability."))], indent=1)
    for d in effect[:MAX_COMPARISON]:
        good = d.good if d.good is not None else "(absent)"
        bad = d.bad if d.bad is not None else "(absent)"
        numbers = [str(n) for n, f in enumerate(findings, start=1) if f.anchor in d.explains]
        _prose(console, [("•", Text(f"{d.kind} {d.key}: good {good}, bad {bad}" + (
            f" — explains finding {', '.join(numbers)}" if numbers else "")))], indent=1)
    if len(effect) > MAX_COMPARISON:
        _line(console, Text(f"… {len(effect) - MAX_COMPARISON} more (netsnap diff)", style="dim"), 3)


def _hosts(result: AnalysisResult) -> Table:
    table = Table(title="Bundles", title_justify="left", title_style="bold underline", box=box.SIMPLE_HEAD,
                  pad_edge=False)
    for name, kw in (("host", {"overflow": "fold", "ratio": 1}), ("collected (UTC)", {"no_wrap": True}),
                     ("sources ok", {"justify": "right", "no_wrap": True}),
                     ("missing", {"justify": "right", "no_wrap": True}),
                     ("unparsed", {"justify": "right", "no_wrap": True})):
        table.add_column(name, **kw)
    for h in result.hosts:
        when = (h.collected_at or "?").replace("T", " ").replace("+00:00", "").removesuffix("Z")
        table.add_row(Text(h.name), Text(when), str(h.sources_ok), str(len(h.sources_missing)),
                      str(h.unparsed_lines))
    return table


def _finding(console: Console, n: int, f: Finding) -> None:
    head = Text(f.severity.value.upper(), style=SEVERITY_STYLE[f.severity.value])
    head.append(f"  {f.rule}  ")
    head.append(f.title, style="bold")
    _prose(console, [(f"{n:>2}.", head)], indent=0)
    rows: list[tuple[str, Text | str]] = [
        ("cause", f"{f.cause} · confidence {f.confidence.value} · hosts {', '.join(f.hosts)}")]
    if f.path:
        rows.append(("breaks", f.path))
    rows.append(("why", f.explanation))
    for a in f.assumptions:
        rows.append(("assumed", a))
    _prose(console, rows)
    if f.evidence:
        _line(console, Text("evidence:", style="bold"), INDENT)
        for e in f.evidence:
            line = Text(f"{e.host} {e.file}:{e.line}" if e.line else f"{e.host} {e.file}", style="dim")
            line.append("  ")
            line.append(e.text)
            _line(console, line, INDENT + 2)
    if f.remediation:
        _line(console, Text("fix:", style="bold"), INDENT)
        for r in f.remediation:
            _line(console, Text(r, style="dim" if is_comment(r) else "green"), INDENT + 2)
    if f.references:
        _line(console, Text("references:", style="bold"), INDENT)
        for ref in f.references:
            _line(console, Text(ref), INDENT + 2)


def _flows(console: Console, result: AnalysisResult) -> None:
    rows = flow_rows(result)
    if not rows:
        return
    counts = {s: sum(1 for r in rows if r.state == s) for s in ("blocked", "undecided", "reachable")}
    console.print()
    console.print(Text(f"Required flows: {len(rows)} ({counts['blocked']} blocked, {counts['undecided']} "
                       f"undecided, {counts['reachable']} reachable)", style="bold underline"))
    for r in rows:
        head = Text()
        head.append(r.state.upper() if r.state != "reachable" else r.state, style=STATE_STYLE[r.state])
        head.append(f"  {r.flow.label}")
        if r.numbers:
            head.append(f"  (finding {', '.join(map(str, r.numbers))})", style="dim")
        _prose(console, [("", head)], indent=2)  # wrapped under itself, never back at column 0
        details: list[tuple[str, Text | str]] = [("at", a) for a in r.blocked_at[:4]]
        if r.flow.unexplained:
            details.append(("no finding names", ", ".join(r.flow.unexplained)))
        if details:
            _prose(console, details, indent=INDENT + 2)
    assumed = list(dict.fromkeys(a for r in rows for a in r.flow.assumptions))
    if assumed:
        console.print(Text("  These answers assume (the bundles do not say otherwise):", style="dim"))
        _prose(console, [("•", Text(a, style="dim")) for a in assumed], indent=INDENT)


def render_text(result: AnalysisResult, console: Console, comparison: DiffResult | None = None) -> None:
    """Print the whole text report on `console` (`comparison`: the --baseline diff, summarised near the top)."""
    result = terminal_safe(result)
    findings = list(result.findings)
    errors = any(f.severity.value == "error" for f in findings)
    console.print(Text(headline(result), style="bold red" if errors else "bold"))
    console.print(_counts(result))
    _summary(console, findings)
    if comparison is not None:
        _comparison(console, comparison, findings)
    if result.hosts:
        console.print()
        console.print(_hosts(result))
    if findings:
        console.print(Text("Findings", style="bold underline"))
    for n, f in enumerate(findings, start=1):
        _finding(console, n, f)
        console.print()
    _flows(console, result)
    if result.not_evaluated:
        console.print()
        console.print(Text("Not evaluated (a missing source is never a pass)", style="bold underline"))
        for ne in sorted(result.not_evaluated, key=lambda x: x.rule):
            _prose(console, [(ne.rule, Text(f"{ne.title} · {', '.join(ne.hosts)}: {ne.reason}"))], indent=2)
    na = not_applicable(result.rule_runs)
    if na:
        console.print()
        console.print(Text("Not applicable (the host runs no overlay)", style="bold underline"))
        for rule, title, hosts in na:
            _prose(console, [(rule, Text(f"{title} · {hosts}"))], indent=2)
    states = category_states(result.rule_runs)
    if states:
        console.print()
        console.print(Text("Checks by category", style="bold underline"))
        for state in states:
            _prose(console, [("", Text(state.sentence))], indent=1)
    if result.traces:
        console.print()
        console.print(Text("Hop-by-hop traces of these flows: the HTML report (-o report.html), the JSON output, "
                           "or `netsnap trace BUNDLE... --from HOST --to IP`.", style="dim"))


# ---------------------------------------------------------------------------------------- traces

MARK = {"permit": "+", "deny": "x", "unknown": "?", "forward": ">", "encapsulate": ">", "decapsulate": "<",
        "deliver": "*", "nat": "~", "info": "."}
MARK_STYLE = {"permit": "green", "deny": "bold red", "unknown": "bold yellow", "forward": "green",
              "encapsulate": "cyan", "decapsulate": "cyan", "deliver": "bold green", "nat": "magenta", "info": "dim"}
VERDICT_STYLE = {"reachable": "bold green", "unreachable": "bold red", "unknown": "bold yellow"}
LEGEND = (("+", "permit", "permitted"), (">", "forward", "forwarded or encapsulated"), ("<", "decapsulate",
          "decapsulated"), ("~", "nat", "NAT"), ("*", "deliver", "delivered"), (".", "info", "note"),
          ("?", "unknown", "undecided"), ("x", "deny", "stopped"))


def legend() -> Text:
    text = Text("legend: ", style="dim")
    for n, (mark, action, words) in enumerate(LEGEND):
        if n:
            text.append("  ")
        text.append(f"[{mark}]", style=MARK_STYLE[action])
        text.append(f" {words}")
    return text


def _steps(console: Console, steps: list[Step], indent: int) -> None:
    table = Table(box=None, show_header=False, pad_edge=False, padding=(0, 1))
    table.add_column(justify="right", no_wrap=True)
    table.add_column(no_wrap=True)
    table.add_column(no_wrap=True, max_width=14, overflow="ellipsis")
    table.add_column(overflow="fold", ratio=1)
    for n, s in enumerate(steps, start=1):
        detail = Text(safe(f"{s.stage}: {s.detail}"))
        for e in s.consulted:
            where = f"{e.file}:{e.line}" if e.line else (e.file or "-")
            detail.append(f"\n{safe(where)}  {safe(e.text)}", style="dim")
        table.add_row(f"{n}.", Text(f"[{MARK.get(s.action, ' ')}]", style=MARK_STYLE.get(s.action, "")),
                      Text(safe(s.host)), detail)
    grid = Table.grid()
    grid.add_column(width=indent)
    grid.add_column(overflow="fold")
    grid.add_row("", table)
    console.print(grid)


def _trace_one(console: Console, r: TraceResult, indent: int, title: str) -> None:
    what = f"{r.proto}{f' port {r.port}' if r.port else ''}{f' size {r.size}' if r.size else ''}"
    share = f" (share {r.share:.3g})" if r.share != 1.0 else ""
    pad = " " * indent
    console.print(Text(safe(f"{pad}{title}: {r.src_host} ({r.src_ip or '?'}) → {r.dst_ip} {what}{share}"),
                       style="bold"))
    verdict = Text(f"{pad}verdict: ")
    verdict.append(r.verdict.upper(), style=VERDICT_STYLE.get(r.verdict, ""))
    verdict.append(f" ({r.disposition})")
    console.print(verdict)
    if r.reason:
        _prose(console, [("reason:", Text(safe(r.reason)))], indent=indent)
    for a in r.assumptions:
        _prose(console, [("assumed:", Text(safe(a)))], indent=indent)
    _steps(console, r.hops, indent)
    if r.reply is not None:
        _trace_one(console, r.reply, indent + 2, "reply")


def render_trace(result: TraceResult, console: Console) -> None:
    """One packet trace (and its reply, and every branch of a split flow) with a legend of the marks."""
    console.print(legend())
    if not result.branches:
        _trace_one(console, result, 0, "trace")
        return
    head = Text(safe(f"trace: {result.src_host} → {result.dst_ip} {result.proto}: {len(result.branches)} "
                     f"branches, verdict "))
    head.append(result.verdict.upper(), style=VERDICT_STYLE.get(result.verdict, ""))
    console.print(head)
    if result.reason:
        _prose(console, [("reason:", Text(safe(result.reason)))], indent=0)
    for i, b in enumerate(result.branches, start=1):
        console.print()
        _trace_one(console, b, 2, f"branch {i}")
