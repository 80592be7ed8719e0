"""Compare the facts of a good and a bad host, and rank the differences by their effect on the
reachability graph.

A difference *explains* a finding only when the graph ties both to a blocked required flow: the
difference's bad-side line is consulted by the step that blocked the flow, or the difference quotes a
line the finding quotes and the finding names that flow's blocking step. A difference that touches no
blocked flow has "no effect on reachability": it is listed after those that do and counted apart (two
healthy hosts of one role that differ in harmless ACCEPT rules explain nothing)."""

from __future__ import annotations

import difflib
from collections import defaultdict
from collections.abc import Iterable, Sequence

from netsnap.diff.facts import host_facts
from netsnap.diff.model import Difference, DiffResult, Fact, FactKind
from netsnap.engine.findings import Finding, FlowVerdict
from netsnap.model.evidence import Evidence
from netsnap.model.host import Host

KIND_WEIGHT: dict[FactKind, int] = {
    "default-route": 60, "network": 55, "iptables-rules": 50, "iptables-policy": 50, "flannel-iface": 50,
    "vxlan": 45, "route": 40, "flannel-option": 35, "sysctl": 30, "policy-rule": 30, "mtu": 25,
    "finding": 20, "link-state": 10,
}


def _finding_facts(findings: Iterable[Finding], host: str) -> list[Fact]:
    return [
        Fact(kind="finding", key=f"{f.rule} {f.cause}", value=f.title, evidence=f.evidence[:3])
        for f in findings
        if host in f.hosts
    ]


def _summary(kind: FactKind, key: str, good: str | None, bad: str | None) -> str:
    if good is None:
        return f"{kind} {key}: only on the bad host ({bad})"
    if bad is None:
        return f"{kind} {key}: only on the good host ({good})"
    return f"{kind} {key}: good has {good}, bad has {bad}"


def _compare_sequences(kind: FactKind, key: str, good: list[Fact], bad: list[Fact]) -> Iterable[Difference]:
    a = [f.value for f in good]
    b = [f.value for f in bad]
    matcher = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        for i in range(i1, i2):
            yield _diff(kind, key, a[i], None, good[i], None, position=f"good position {i + 1}")
        for j in range(j1, j2):
            yield _diff(kind, key, None, b[j], None, bad[j], position=f"position {j + 1}")




def _diff(
    kind: FactKind,
    key: str,
    good: str | None,
    bad: str | None,
    good_fact: Fact | None,
    bad_fact: Fact | None,
    position: str = "",
) -> Difference:
    summary = _summary(kind, key, good, bad)
    if position:
        summary += f" at {position}"
    ev = (bad_fact.evidence if bad_fact else []) + (good_fact.evidence if good_fact else [])
    return Difference(kind=kind, key=key, host="", good_host="", good=good, bad=bad, summary=summary, evidence=ev)


def compare_hosts(good: Host, bad: Host, good_findings: Sequence[Finding] = (),
                  bad_findings: Sequence[Finding] = (), bad_flows: Sequence[FlowVerdict] = ()) -> list[Difference]:
    """Every meaningful difference between two hosts of the same role, ranked (most telling first)."""
    gfacts = host_facts(good) + _finding_facts(good_findings, good.name)
    bfacts = host_facts(bad) + _finding_facts(bad_findings, bad.name)
    by_key_g: dict[tuple[FactKind, str], list[Fact]] = defaultdict(list)
    by_key_b: dict[tuple[FactKind, str], list[Fact]] = defaultdict(list)
    for f in gfacts:
        by_key_g[(f.kind, f.key)].append(f)
    for f in bfacts:
        by_key_b[(f.kind, f.key)].append(f)
    diffs: list[Difference] = []
    for kind, key in sorted(set(by_key_g) | set(by_key_b)):
        g, b = by_key_g.get((kind, key), []), by_key_b.get((kind, key), [])
        if kind == "iptables-rules":
            diffs.extend(_compare_sequences(kind, key, g, b))
        elif not g:
            diffs.extend(_diff(kind, key, None, f.value, None, f) for f in b)
        elif not b:
            diffs.extend(_diff(kind, key, f.value, None, f, None) for f in g)
        elif g[0].value != b[0].value:
            diffs.append(_diff(kind, key, g[0].value, b[0].value, g[0], b[0]))
    out = [d.model_copy(update={"host": bad.name, "good_host": good.name}) for d in diffs]
    return rank(out, bad_findings, bad_flows)


Line = tuple[str, str, int]


def _lines(evidence: Iterable[Evidence]) -> set[Line]:
    return {(e.host, e.file, e.line) for e in evidence if e.line}


def rank(diffs: list[Difference], bad_findings: Sequence[Finding],
         bad_flows: Sequence[FlowVerdict] = ()) -> list[Difference]:
    """Mark what each difference does to the bad side's blocked flows (see the module docstring); order:
    differences with an effect first, the most telling (blocking step, severity, impact) first."""
    blocked = [f for f in bad_flows if f.verdict == "unreachable"]
    by_check: dict[str, list[Finding]] = {}
    for f in bad_findings:
        for c in f.checks:
            by_check.setdefault(c, []).append(f)
    ranked: list[Difference] = []
    for d in diffs:
        ev = _lines(d.evidence)
        explains: dict[str, Finding] = {}
        paths: list[str] = []
        if d.kind != "finding" and ev:
            for flow in blocked:
                on_step = [s for s in flow.blockers if ev & _lines(s.consulted)]
                if on_step:
                    paths.append(f"{flow.label} ({on_step[0].detail})")
                    for s in on_step:
                        explains.update((f.anchor, f) for f in by_check.get(s.check, []))
                for s in flow.blockers:
                    for f in by_check.get(s.check, []):
                        if d.host in f.hosts and ev & _lines(f.evidence):
                            explains[f.anchor] = f
        effect = bool(explains or paths)
        weight = KIND_WEIGHT[d.kind]
        explanation = ""
        if explains:
            top = max(explains.values(), key=lambda f: (f.severity.rank, f.impact))
            weight += 1000 + 100 * top.severity.rank + min(top.impact, 99)
            names = ", ".join(sorted({f"{f.rule} ({f.cause})" for f in explains.values()}))
            explanation = f"This difference explains {names} on {d.host}: {top.title}."
        if paths:
            weight += 0 if explains else 1000
            explanation = f"{explanation} It is on the step that blocks: {'; '.join(paths[:3])}.".strip()
        if not effect:
            explanation = "No effect on reachability: no required flow's blocking step involves it."
        ranked.append(d.model_copy(update={
            "explains": sorted(explains), "paths": paths, "effect": effect, "weight": weight,
            "explanation": explanation}))
    ranked.sort(key=lambda d: (not d.effect, -d.weight, d.kind, d.key, d.bad or "", d.good or ""))
    return ranked


def pair_hosts(good: Sequence[Host], bad: Sequence[Host]) -> list[tuple[Host, Host]]:
    """Pair bad hosts with good ones: same host name first, then the rest in the order given.

    A good host serves one bad host; bad hosts left without a partner are not compared (with one
    known-good master as `--baseline`, the nodes of the analysed cluster are not diffed against it).
    """
    free = list(good)
    pairs: dict[int, Host] = {}
    for i, b in enumerate(bad):
        match = next((g for g in free if g.identity.hostname == b.identity.hostname), None)
        if match is not None:
            pairs[i] = match
            free.remove(match)
    for i, _ in enumerate(bad):
        if i not in pairs and free:
            pairs[i] = free.pop(0)
    return [(pairs[i], b) for i, b in enumerate(bad) if i in pairs]


def diff_snapshots(good: Sequence[Host], bad: Sequence[Host], good_findings: Sequence[Finding] = (),
                   bad_findings: Sequence[Finding] = (), bad_flows: Sequence[FlowVerdict] = ()) -> DiffResult:
    pairs = pair_hosts(good, bad)
    diffs: list[Difference] = []
    for g, b in pairs:
        diffs.extend(compare_hosts(g, b, good_findings, bad_findings, bad_flows))
    diffs.sort(key=lambda d: (not d.effect, -d.weight, d.host, d.kind, d.key, d.bad or "", d.good or ""))
    return DiffResult(
        good=[h.name for h in good], bad=[h.name for h in bad],
        pairs=[(g.name, b.name) for g, b in pairs], differences=diffs,
    )
