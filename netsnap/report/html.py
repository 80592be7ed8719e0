"""The self-contained HTML report: one file, no outside loads, readable without JavaScript, printable.

Order: the case header (hosts, generation time, netsnap version, the command line), the plain ranked
summary (per cause what breaks and the fix), the `--baseline` comparison in brief, a compact findings
table, the required flows, the topology (drawn from the reachability graph), every finding (evidence,
why, one copyable block per fix command, references), the full comparison, what was not evaluated or
not applicable, the traces, and the appendix (bundles, capped per-host inventory, raw files). Print
keeps the summary, findings, flows and traces; the appendix prints only on request.

Escaping: `Environment(autoescape=True)` (never extension-based selection), no `|safe` on bundle data,
embedded data only via `|tojson` in `<script type="application/json">`, links only http(s). The one
inline script is allowed by its sha256 in the Content-Security-Policy; nothing else may load or run.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from jinja2 import Environment, PackageLoader, StrictUndefined

from netsnap.engine.findings import AnalysisResult, Finding
from netsnap.model import Snapshot
from netsnap.report.inventory import Caps, host_inventory
from netsnap.report.json_output import build_output
from netsnap.report.topology import build_topology
from netsnap.report.view import (
    category_states,
    flow_rows,
    headline,
    is_comment,
    not_applicable,
    not_cleared,
    state_counts,
    summary_items,
)

if TYPE_CHECKING:
    from netsnap.diff.model import DiffResult
    from netsnap.graph.reachability import ReachabilityGraph

SAFE_SCHEMES = ("http", "https")
MAX_COMPARISON_SUMMARY = 3


@dataclass(frozen=True)
class ReportContext:
    """What the header says about this run: when (`SOURCE_DATE_EPOCH` honoured by the caller), the command
    line (secrets redacted), and whether the appendix is embedded whole."""

    generated_at: str | None = None
    command: str | None = None
    full_appendix: bool = False


def is_safe_url(value: object) -> bool:
    """True for absolute http(s) URLs with a host and no whitespace or quotes; everything else is text."""
    if not isinstance(value, str) or any(c.isspace() or c in "\"'<>`\\" for c in value):
        return False
    try:
        parts = urlsplit(value)
    except ValueError:
        return False
    return parts.scheme.lower() in SAFE_SCHEMES and bool(parts.netloc)


@cache
def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("netsnap.report", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        keep_trailing_newline=True,
    )
    env.tests["is_safe_url"] = is_safe_url
    env.filters["is_safe_url"] = is_safe_url
    env.tests["comment"] = is_comment
    return env


def _sha256_source(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii") + "'"


def content_security_policy() -> str:
    """Nothing loads from anywhere; only the report's own inline script (by hash) runs."""
    script = environment().get_template("report.js").render()
    return (
        "default-src 'none'; style-src 'unsafe-inline'; "
        f"script-src {_sha256_source(script)}; base-uri 'none'; form-action 'none'"
    )


def fix_blocks(f: Finding) -> list[tuple[str, str]]:
    """The remediation as ("note", text) and ("cmd", command) blocks: one copyable block per command."""
    return [("note" if is_comment(line) else "cmd", line) for line in f.remediation]


def render_html(
    result: AnalysisResult,
    snapshot: Snapshot | None = None,
    *,
    raw_files: Mapping[str, Mapping[str, str]] | None = None,
    security_groups: Mapping[str, str] | None = None,
    comparison: DiffResult | None = None,
    graph: ReachabilityGraph | None = None,
    context: ReportContext | None = None,
) -> str:
    """The report as one HTML document.

    `raw_files` maps a host name to {bundle member: text} for the raw-file appendix; `security_groups`
    maps a host name to a label (the export's file name) for the picture; `comparison` is the
    `--baseline` diff; `graph` the snapshot's reachability graph (built here from `snapshot` when not
    given: the topology is drawn from it).
    """
    ctx = context or ReportContext()
    findings = list(result.findings)
    hosts = snapshot.hosts if snapshot else []
    if graph is None and hosts:
        from netsnap.graph.reachability import ReachabilityGraph

        graph = ReachabilityGraph(snapshot) if snapshot is not None else None
    topo = build_topology(graph, findings, security_groups) if graph is not None and hosts else None
    caps = Caps.full() if ctx.full_appendix else Caps.default()
    inventories = [host_inventory(i, h, (raw_files or {}).get(h.name), caps) for i, h in enumerate(hosts, start=1)]
    section = None
    effect: list[object] = []
    if comparison is not None:
        from netsnap.diff.html import render_diff_section

        section = render_diff_section(comparison, _sides(snapshot, comparison))
        effect = [d for d in comparison.differences if d.effect]
    traces = list(result.traces)
    flow_traces = {fl.id: traces[i] for i, fl in enumerate(result.flows) if i < len(traces)}
    return environment().get_template("report.html").render(
        csp=content_security_policy(),
        result=result,
        headline=headline(result),
        not_cleared=not_cleared(result),
        counts=state_counts(result),
        summary=summary_items(findings),
        ctx=ctx,
        topo=topo,
        findings=findings,
        numbers={f.anchor: n for n, f in enumerate(findings, start=1)},
        fix_blocks=fix_blocks,
        flows=flow_rows(result),
        flow_traces=flow_traces,
        extra_traces=[] if result.flows else traces,  # traces of no listed flow (a result built by hand)
        not_evaluated=sorted(result.not_evaluated, key=lambda n: (n.rule, n.hosts)),
        not_applicable=not_applicable(result.rule_runs),
        categories=category_states(result.rule_runs),
        comparison=comparison,
        comparison_section=section,
        comparison_effect=effect[:MAX_COMPARISON_SUMMARY],
        comparison_effect_count=len(effect),
        inventories=inventories,
        capped=caps.capped,
        data=build_output(result).model_dump(mode="json"),
    )


def _sides(snapshot: Snapshot | None, comparison: DiffResult) -> dict[str, str]:
    """`bad: HOST (bundle)` for the analysed hosts; the known-good side by name."""
    out = {g: f"good: {g}" for g in comparison.good}
    for h in snapshot.hosts if snapshot else []:
        out[h.name] = f"bad: {h.name} ({h.bundle.path})"
    return out
