"""Running the rules over a Snapshot: combine, build the reachability graph, check the facts each rule
needs (not evaluated, never passed; not applicable where no overlay runs), run per-host and snapshot
rules, order findings by impact, link them to the blocked flows they explain, and the verdict sentence."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path

import netsnap
from netsnap.combine.coverage import FactStatus, facts_of
from netsnap.combine.overlay import overlay_absent
from netsnap.engine.discovery import discover
from netsnap.engine.findings import (
    AnalysisResult,
    Finding,
    FlowVerdict,
    HostSummary,
    NotEvaluated,
    RuleRun,
    Severity,
)
from netsnap.engine.meta import RuleMeta
from netsnap.engine.rule import Rule, RuleContext
from netsnap.engine.select import select_rules
from netsnap.graph.reachability import ReachabilityGraph
from netsnap.model import Host, Snapshot
from netsnap.secgroups.model import SecurityGroups

MAX_TRACES = 40


def missing_facts(meta: RuleMeta, facts: dict[str, FactStatus]) -> list[FactStatus]:
    """The facts `meta` needs that the host lacks: each missing `requires` fact, and for each unmet
    `requires_any` group its facts."""
    missing = [facts[f] for f in meta.requires if not facts[f].present]
    for group in meta.requires_any:
        if not any(facts[f].present for f in group):
            missing.extend(facts[f] for f in group)
    return missing


def _why_missing(missing: list[FactStatus]) -> str:
    return "missing " + " | ".join(m.reason() for m in missing)


def rules_version(rules: Sequence[Rule]) -> str:
    digest = hashlib.sha256()
    for r in sorted(rules, key=lambda x: x.meta.id):
        digest.update(json.dumps(r.meta.model_dump(mode="json"), sort_keys=True).encode())
    return f"{netsnap.__version__}+{len(rules)}r.{digest.hexdigest()[:8]}"


def _run_one(rule: Rule, ctx: RuleContext) -> tuple[list[Finding], str | None]:
    try:
        return list(rule.check(ctx)), None
    except MemoryError:  # the process memory limit: give up this file, never retry in its handler
        raise
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
        sources_ok=sum(1 for s in host.sources.values() if s.understood),
        sources_missing=sorted(k for k, s in host.sources.items() if not s.usable),
        sources_partial=sorted(k for k, s in host.sources.items() if s.usable and not s.understood),
        unparsed_lines=sum(len(s.unparsed) for s in host.sources.values()),
    )


def sort_findings(findings: list[Finding]) -> list[Finding]:
    """The one finding order (every renderer keeps it): severity, then impact (most traffic broken first), then
    rule ID and key — stable and deterministic."""
    return sorted(findings, key=lambda f: (-f.severity.rank, -f.impact, f.rule, f.key))


def flow_verdicts(graph: ReachabilityGraph, findings: list[Finding]) -> list[FlowVerdict]:
    """Every required flow's answer, with the findings that explain its blockers (and those none does)."""
    by_check: dict[str, list[str]] = {}
    for f in findings:
        for c in f.checks:
            by_check.setdefault(c, []).append(f.anchor)
    out: list[FlowVerdict] = []
    for r in graph.flows():
        fl, t = r.flow, r.trace
        explained = list(dict.fromkeys(a for s in r.blockers for a in by_check.get(s.check, [])))
        unexplained = [s.check for s in r.blockers if s.check not in by_check]
        out.append(FlowVerdict(
            id=fl.id, kind=fl.kind, label=fl.label, src_host=fl.src_host, dst_host=fl.dst_host, src_ip=fl.src_ip,
            dst_ip=fl.dst_ip,
            proto=fl.proto, port=fl.port, verdict=t.verdict, disposition=t.disposition, reason=t.reason,
            blockers=r.blockers, doubts=r.doubts, assumptions=t.assumptions, explained_by=explained,
            unexplained=unexplained,
        ))
    return out


def verdict_sentence(findings: list[Finding], runs: list[RuleRun], flows: list[FlowVerdict]) -> str:
    """The summary line: what is broken, and what could not be checked (never an all-clear then)."""
    errors = [f for f in findings if f.severity == Severity.ERROR]
    warnings = [f for f in findings if f.severity == Severity.WARNING]
    passed = sum(1 for r in runs if r.status == "passed")
    not_run = [r for r in runs if r.status == "not-evaluated"]
    main_not_run = [r.rule for r in not_run if r.main]
    unexplained = [f for f in flows if f.verdict == "unreachable" and f.unexplained]
    undecided = [f for f in flows if f.verdict == "unknown"]
    tail = f"{passed} checks passed, {len(not_run)} could not run"
    if undecided:
        tail += f", {len(undecided)} required paths undecided"
    if unexplained:
        names = ", ".join(f.label for f in unexplained[:3])
        tail += f"; {len(unexplained)} blocked paths have no named cause ({names})"
    if not errors and not warnings:
        infos = len(findings)
        if main_not_run or unexplained:
            what = f"main checks could not run ({', '.join(main_not_run)})" if main_not_run else \
                "a required path is blocked"
            return f"NOT an all-clear: no errors or warnings found ({infos} notes), but {what}; {tail}."
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
    graph: ReachabilityGraph | None = None,
) -> AnalysisResult:
    """Combine the snapshot's facts, build its reachability graph, run every selected rule over it and
    return the AnalysisResult the renderers read.

    `rules` overrides discovery (tests); otherwise built-in rules, `rules_dirs` and entry points are used.
    `graph`, when given, is the snapshot's graph already built with the same security groups (the analyze
    command builds it once and draws the report's topology from it).
    Raises `netsnap.engine.discovery.RuleLoadError` (one-line message) for a broken extra rule file and
    `netsnap.engine.select.SelectorError` for an --only/--skip token that names no rule.
    """
    all_r = list(rules) if rules is not None else [lr.rule for lr in discover(rules_dirs)]
    selected = select_rules(all_r, only, skip)
    if graph is None:
        graph = ReachabilityGraph(snapshot, security_groups)
    snapshot = graph.snapshot  # completed: facts the bundles imply but do not hold, stated as assumptions
    facts = {h.name: facts_of(h) for h in snapshot.hosts}
    absent = {h.name: overlay_absent(h) for h in snapshot.hosts}
    findings: list[Finding] = []
    not_evaluated: list[NotEvaluated] = []
    runs: list[RuleRun] = []
    for rule in selected:
        meta = rule.meta
        ran_on: list[str] = []
        rule_findings: list[Finding] = []
        eligible: list[Host] = []
        inapplicable: list[str] = []
        for host in snapshot.hosts:
            if meta.applies == "overlay" and absent[host.name]:
                inapplicable.append(host.name)
                continue
            missing = missing_facts(meta, facts[host.name])
            if missing:
                not_evaluated.append(NotEvaluated(rule=meta.id, title=meta.title, hosts=[host.name],
                                                  missing=[m.fact for m in missing], reason=_why_missing(missing)))
            else:
                eligible.append(host)
        if meta.scope == "host":
            for host in eligible:
                ctx = RuleContext(snapshot, eligible, graph, host, security_groups)
                got, err = _run_one(rule, ctx)
                if err:
                    not_evaluated.append(NotEvaluated(rule=meta.id, title=meta.title, hosts=[host.name],
                                                      missing=[], reason=err))
                    continue
                ran_on.append(host.name)
                rule_findings.extend(got)
        elif len(eligible) < meta.min_hosts:
            if eligible or (not snapshot.hosts):
                not_evaluated.append(
                    NotEvaluated(
                        rule=meta.id, title=meta.title, hosts=[h.name for h in eligible], missing=[],
                        reason=f"needs at least {meta.min_hosts} hosts with the required facts, got {len(eligible)}",
                    )
                )
        else:
            ctx = RuleContext(snapshot, eligible, graph, None, security_groups)
            got, err = _run_one(rule, ctx)
            if err:
                not_evaluated.append(NotEvaluated(rule=meta.id, title=meta.title, hosts=[h.name for h in eligible],
                                                  missing=[], reason=err))
            else:
                ran_on = [h.name for h in eligible]
                rule_findings.extend(got)
        evaluated_everywhere = not any(n.rule == meta.id for n in not_evaluated)
        if rule_findings:
            status = "fired"
        elif ran_on and evaluated_everywhere:
            status = "passed"
        elif inapplicable and len(inapplicable) == len(snapshot.hosts):
            status = "not-applicable"
        elif ran_on:
            status = "passed"  # passed where it could run; the hosts it could not are listed as not evaluated
        else:
            status = "not-evaluated"
        runs.append(RuleRun(rule=meta.id, title=meta.title, cause=meta.cause, category=meta.category.value,
                            status=status, hosts=ran_on, main=meta.main,
                            not_applicable=inapplicable))
        findings.extend(rule_findings)
    findings = sort_findings(findings)
    flows = flow_verdicts(graph, findings)
    return AnalysisResult(
        netsnap_version=netsnap.__version__,
        rules_version=rules_version(selected),
        hosts=[host_summary(h) for h in snapshot.hosts],
        findings=findings,
        not_evaluated=not_evaluated,
        rule_runs=runs,
        flows=flows,
        traces=[r.trace for r in graph.flows()[:MAX_TRACES]],
        verdict=verdict_sentence(findings, runs, flows),
    )
