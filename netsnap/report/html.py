"""The self-contained HTML report: one file, no outside loads, readable without JavaScript.

Escaping: `Environment(autoescape=True)` (never extension-based selection), no `|safe` on bundle data,
embedded data only via `|tojson` in `<script type="application/json">`, links only http(s). The one
inline script is allowed by its sha256 in the Content-Security-Policy; nothing else may load or run.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping
from functools import cache
from urllib.parse import urlsplit

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from netsnap.engine.findings import AnalysisResult
from netsnap.model import Snapshot
from netsnap.report.inventory import host_inventory
from netsnap.report.json_output import build_output
from netsnap.report.topology import build_topology
from netsnap.report.view import category_states, severity_counts, verdict

SAFE_SCHEMES = ("http", "https")


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


def render_html(
    result: AnalysisResult,
    snapshot: Snapshot | None = None,
    *,
    raw_files: Mapping[str, Mapping[str, str]] | None = None,
    security_groups: Mapping[str, str] | None = None,
    comparison: Markup | None = None,
) -> str:
    """The report as one HTML document.

    `raw_files` maps a host name to {bundle member: text} for the raw-file appendix;
    `security_groups` maps a host name to a label (the export's file name) for the picture;
    `comparison` is the already-escaped "compared with" section of `netsnap.diff.html`.
    """
    findings = list(result.findings)
    traces, notes = list(result.traces), list[str]()
    topo = build_topology(snapshot, findings, traces, security_groups) if snapshot and snapshot.hosts else None
    hosts = snapshot.hosts if snapshot else []
    inventories = [host_inventory(i, h, (raw_files or {}).get(h.name)) for i, h in enumerate(hosts, start=1)]
    bundle_rows = [
        (h.name, h.collected_at or "unknown", h.sha256 or "unknown", h.collector_version or "unknown", h.kind,
         str(h.sources_ok), ", ".join(h.sources_missing) or "none", str(h.unparsed_lines))
        for h in result.hosts
    ]
    not_evaluated = [
        (n.rule, n.title, ", ".join(n.hosts), ", ".join(n.missing), n.reason)
        for n in sorted(result.not_evaluated, key=lambda n: (n.rule, n.hosts))
    ]
    return environment().get_template("report.html").render(
        csp=content_security_policy(),
        result=result,
        verdict=verdict(result),
        counts=severity_counts(result),
        bundle_rows=bundle_rows,
        topo=topo,
        findings=findings,
        not_evaluated=not_evaluated,
        categories=category_states(result.rule_runs),
        ran=sum(1 for r in result.rule_runs if r.status != "not-evaluated"),
        traces=traces,
        notes=notes,
        comparison=comparison,
        inventories=inventories,
        data=build_output(result).model_dump(mode="json"),
    )
