"""Running the rules over a Snapshot: source checks (not evaluated, never passed), per-host and snapshot
rules, ordering by impact, traces for the host pairs that matter, and the verdict sentence."""

from __future__ import annotations

import hashlib
import importlib
import json
from collections.abc import Iterable, Sequence
from pathlib import Path

import netsnap
from netsnap.engine.cluster import Cluster
from netsnap.engine.discovery import discover
from netsnap.engine.findings import AnalysisResult, Finding, HostSummary, NotEvaluated, RuleRun, Severity
from netsnap.engine.meta import RuleMeta
from netsnap.engine.rule import Rule, RuleContext
from netsnap.model import Host, Snapshot
from netsnap.secgroups.model import SecurityGroups

MAX_TRACES = 20


def missing_sources(meta: RuleMeta, host: Host) -> list[str]:
    """Sources `meta` needs that `host` lacks: each missing `requires` id, and each unmet `requires_any`
    group written as "a or b or c"."""
    missing = [s for s in meta.requires if not host.has(s)]
    for group in meta.requires_any:
        if not any(host.has(s) for s in group):
            missing.append(" or ".join(group))
    return missing


def _why_missing(host: Host, missing: list[str]) -> str:
    parts = []
    for entry in missing:
        states = []
        for sid in entry.split(" or "):
            st = host.sources.get(sid)
            state = st.state.value if st else "not collected"
            states.append(f"{sid}: {state}")
        parts.append("; ".join(states))
    return "missing sources (" + "; ".join(parts) + ")"


def select_rules(rules: Sequence[Rule], only: Iterable[str] = (), skip: Iterable[str] = ()) -> list[Rule]:
    """Filter by rule ID, name or cause (case-insensitive)."""
    only_s = {o.strip().lower() for o in only if o.strip()}
    skip_s = {s.strip().lower() for s in skip if s.strip()}

    def keys(r: Rule) -> set[str]:
        return {r.meta.id.lower(), r.meta.name, r.meta.cause}

    out = [r for r in rules if not only_s or keys(r) & only_s]
    return [r for r in out if not keys(r) & skip_s]


def rules_version(rules: Sequence[Rule]) -> str:
    digest = hashlib.sha256()
    for r in sorted(rules, key=lambda x: x.meta.id):
        digest.update(json.dumps(r.meta.model_dump(mode="json"), sort_keys=True).encode())
    return f"{netsnap.__version__}+{len(rules)}r.{digest.hexdigest()[:8]}"


def _trace_engine(snapshot: Snapshot, security_groups: SecurityGroups | None) -> object | None:
    try:
        mod = importlib.import_module("netsnap.trace.engine")
        engine_cls = mod.TraceEngine
        return engine_cls(snapshot, security_groups)  # type: ignore[no-any-return]
    except Exception:  # the trace engine is optional for the rules; its absence only removes traces
        return None


def _run_one(rule: Rule, ctx: RuleContext) -> tuple[list[Finding], str | None]:
    try:
        return list(rule.check(ctx)), None
    except Exception as exc:  # one broken rule must not hide the others' findings
        return [], f"rule failed: {type(exc).__name__}: {exc}"


def host_summary(host: Host) -> HostSummary:
    return HostSummary(
        name=host.name,
        bundle=host.bundle.path,
        kind=host.bundle.kind,
        sha256=host.bundle.sha256,
        collector_version=host.bundle.collector_version,
        collected_at=host.bundle.collected_at.isoformat() if host.bundle.collected_at else None,
        sources_ok=sum(1 for s in host.sources.values() if s.usable),
        sources_missing=sorted(k for k, s in host.sources.items() if not s.usable),
        unparsed_lines=sum(len(s.unparsed) for s in host.sources.values()),
    )


def sort_findings(findings: list[Finding]) -> list[Finding]:
    """Most traffic broken first: impact, then severity, then rule ID and key (stable and deterministic)."""
    return sorted(findings, key=lambda f: (-f.impact, -f.severity.rank, f.rule, f.key))


def _traces(snapshot: Snapshot, cluster: Cluster, engine: object | None) -> list[dict[str, object]]:
    if engine is None:
        return []
    out: list[dict[str, object]] = []
    for src in snapshot.hosts:
        for dst in snapshot.hosts:
            if src is dst or len(out) >= MAX_TRACES:
                continue
            lease = cluster.of(dst).lease
            if lease is None or not cluster.of(src).has_flannel:
                continue
            target = str(lease.network_address + 1)
            try:
                res = engine.trace(src.name, target, "icmp", None)  # type: ignore[attr-defined]
                out.append(res.model_dump(mode="json"))
            except Exception as exc:  # a trace failure must not lose the findings
                out.append({"src_host": src.name, "dst_ip": target, "error": f"{type(exc).__name__}: {exc}"})
    return out


def verdict_sentence(findings: list[Finding], not_evaluated: list[NotEvaluated], passed: int) -> str:
    errors = [f for f in findings if f.severity == Severity.ERROR]
    warnings = [f for f in findings if f.severity == Severity.WARNING]
    tail = f"{passed} rules passed, {len({n.rule for n in not_evaluated})} not evaluated"
    if not errors and not warnings:
        infos = len(findings)
        return f"No errors or warnings ({infos} notes); {tail}."
    serious = sort_findings(errors + warnings)
    by_path: dict[str, list[Finding]] = {}
    for f in serious:
        if f.path:
            by_path.setdefault(f.path, []).append(f)
    head = f"{len(errors)} errors, {len(warnings)} warnings"
    shared = {p: fs for p, fs in by_path.items() if len(dict.fromkeys(f.cause for f in fs)) > 1}
    if shared:
        path, on_path = max(shared.items(), key=lambda kv: (len(kv[1]), -min(serious.index(f) for f in kv[1])))
        shared_causes = list(dict.fromkeys(f.cause for f in on_path))
        return f"{head}. {len(shared_causes)} causes on {path}: {', '.join(shared_causes)}; {tail}."
    return f"{head}: {', '.join(dict.fromkeys(f.cause for f in serious))}; {tail}."


def run_rules(
    snapshot: Snapshot,
    *,
    security_groups: SecurityGroups | None = None,
    rules_dirs: Sequence[str | Path] = (),
    only: Sequence[str] = (),
    skip: Sequence[str] = (),
    rules: Sequence[Rule] | None = None,
) -> AnalysisResult:
    """Run every selected rule over `snapshot` and return the AnalysisResult the renderers read.

    `rules` overrides discovery (tests); otherwise built-in rules, `rules_dirs` and entry points are used.
    Raises `netsnap.engine.discovery.RuleLoadError` (one-line message) for a broken extra rule file.
    """
    all_r = list(rules) if rules is not None else [lr.rule for lr in discover(rules_dirs)]
    selected = select_rules(all_r, only, skip)
    cluster = Cluster(snapshot)
    engine = _trace_engine(snapshot, security_groups) if snapshot.hosts else None
    findings: list[Finding] = []
    not_evaluated: list[NotEvaluated] = []
    runs: list[RuleRun] = []
    for rule in selected:
        meta = rule.meta
        ran_on: list[str] = []
        rule_findings: list[Finding] = []
        eligible: list[Host] = []
        for host in snapshot.hosts:
            missing = missing_sources(meta, host)
            if missing:
                not_evaluated.append(
                    NotEvaluated(
                        rule=meta.id, title=meta.title, hosts=[host.name], missing=missing,
                        reason=_why_missing(host, missing),
                    )
                )
            else:
                eligible.append(host)
        if meta.scope == "host":
            for host in eligible:
                ctx = RuleContext(snapshot, eligible, cluster, host, security_groups, engine)
                got, err = _run_one(rule, ctx)
                if err:
                    not_evaluated.append(NotEvaluated(rule=meta.id, title=meta.title, hosts=[host.name],
                                                      missing=[], reason=err))
                    continue
                ran_on.append(host.name)
                rule_findings.extend(got)
        elif len(eligible) < meta.min_hosts:
            if eligible or not snapshot.hosts:
                not_evaluated.append(
                    NotEvaluated(
                        rule=meta.id, title=meta.title, hosts=[h.name for h in eligible], missing=[],
                        reason=f"needs at least {meta.min_hosts} hosts with the required sources, got {len(eligible)}",
                    )
                )
        else:
            ctx = RuleContext(snapshot, eligible, cluster, None, security_groups, engine)
            got, err = _run_one(rule, ctx)
            if err:
                not_evaluated.append(NotEvaluated(rule=meta.id, title=meta.title, hosts=[h.name for h in eligible],
                                                  missing=[], reason=err))
            else:
                ran_on = [h.name for h in eligible]
                rule_findings.extend(got)
        status = "fired" if rule_findings else ("passed" if ran_on else "not-evaluated")
        runs.append(RuleRun(rule=meta.id, title=meta.title, cause=meta.cause, category=meta.category.value,
                            status=status, hosts=ran_on))
        findings.extend(rule_findings)
    findings = sort_findings(findings)
    passed = sum(1 for r in runs if r.status == "passed")
    return AnalysisResult(
        netsnap_version=netsnap.__version__,
        rules_version=rules_version(selected),
        hosts=[host_summary(h) for h in snapshot.hosts],
        findings=findings,
        not_evaluated=not_evaluated,
        rule_runs=runs,
        traces=_traces(snapshot, cluster, engine),
        verdict=verdict_sentence(findings, not_evaluated, passed),
    )
