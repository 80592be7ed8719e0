"""Rule documentation, ruff-style: `netsnap rules explain ID` and the generated `docs/rules.md`."""

from __future__ import annotations

from collections.abc import Sequence

from netsnap.combine.coverage import CARRIERS
from netsnap.engine.meta import RuleMeta
from netsnap.engine.rule import Rule
from netsnap.sources import BY_ID, FACTS

SECTIONS = ("What it does", "Why is this bad?", "Example", "Fix", "References")


def _fact_text(fact: str) -> str:
    sources = ", ".join(f"`{BY_ID[s].command}`" for s in CARRIERS[fact] if s in BY_ID)
    return f"{FACTS[fact]} (from {sources})"


def _requires_text(meta: RuleMeta) -> str:
    parts = [_fact_text(f) for f in meta.requires]
    for group in meta.requires_any:
        parts.append("one of: " + "; ".join(_fact_text(f) for f in group))
    text = "; ".join(parts) if parts else "nothing"
    return text + (" · applies to hosts that run an overlay" if meta.applies == "overlay" else "")


def explain(meta: RuleMeta, heading: str = "#") -> str:
    """The full doc of one rule as Markdown; `heading` is the level of the rule's own heading."""
    sub = heading + "#"
    refs = "\n".join(f"- {r}" for r in meta.references) or "- (none)"
    return (
        f"{heading} {meta.id} {meta.name}: {meta.title}\n\n"
        f"Cause `{meta.cause}` · severity {meta.severity.value} · confidence {meta.confidence.value} · "
        f"category {meta.category.value} · scope {meta.scope} · since {meta.since}\n\n"
        f"Requires: {_requires_text(meta)}\n\n"
        f"{sub} What it does\n\n{meta.what.strip()}\n\n"
        f"{sub} Why is this bad?\n\n{meta.why.strip()}\n\n"
        f"{sub} Example\n\n{meta.example.strip()}\n\n"
        f"{sub} Fix\n\n{meta.fix.strip()}\n\n"
        f"{sub} References\n\n{refs}\n"
    )


def rules_markdown(rules: Sequence[Rule]) -> str:
    """The whole of docs/rules.md (deterministic: sorted by ID, no dates)."""
    metas = sorted((r.meta for r in rules), key=lambda m: m.id)
    lines = [
        "# netsnap rules",
        "",
        "Generated from the rules by `netsnap rules docs` (`make docs`); do not edit by hand.",
        "",
        "Each rule has a stable ID (NS1xx routing, NS2xx firewall, NS3xx flannel/overlay, NS4xx kernel) and a "
        "`cause` from a fixed vocabulary. A rule requires *facts* (routes, firewall, link details...), whatever "
        "command supplied them; a rule whose facts are missing from a bundle, or were read from a file netsnap "
        "understood only partly, is reported as *not evaluated*, never as passed. Extra rules: `--rules-dir DIR` "
        "(one `*.py` per rule, ending with "
        "`rule = MyRule()`) or the `netsnap.rules` entry-point group.",
        "",
        "| ID | name | cause | severity | category | title |",
        "|---|---|---|---|---|---|",
    ]
    for m in metas:
        lines.append(
            f"| [{m.id}](#{m.id.lower()}-{m.name}) | {m.name} | `{m.cause}` | {m.severity.value} | "
            f"{m.category.value} | {m.title} |"
        )
    lines.append("")
    body = "\n".join(lines)
    for m in metas:
        body += "\n" + explain(m, heading="##")
    return body
