"""Compare the facts of a good and a bad host, and rank the differences by what they explain."""

from __future__ import annotations

import difflib
from collections import defaultdict
from collections.abc import Iterable, Sequence

from netsnap.diff.facts import host_facts
from netsnap.diff.model import Difference, DiffResult, Fact, FactKind
from netsnap.engine.findings import Finding
from netsnap.model.host import Host
from netsnap.trace.result import TraceResult

# Which causes a kind of difference can plausibly explain (used when evidence lines do not overlap).
EXPLAINS: dict[FactKind, tuple[str, ...]] = {
    "default-route": ("duplicate-default-route", "flannel-wrong-iface"),
    "network": ("flannel-wrong-iface", "duplicate-subnet-route", "cidr-overlap"),
    "route": ("duplicate-subnet-route", "missing-peer-route", "cidr-overlap"),
    "policy-rule": ("rp-filter-strict",),
    "iptables-policy": ("forward-policy-drop",),
    "iptables-rules": ("iptables-reject", "forward-policy-drop", "vxlan-port-blocked"),
    "mtu": ("mtu-mismatch",),
    "vxlan": ("vxlan-port-mismatch", "flannel-wrong-iface"),
    "flannel-option": ("flannel-wrong-iface", "flannel-config-ignored"),
    "flannel-iface": ("flannel-wrong-iface",),
    "sysctl": (),
    "link-state": (),
    "finding": (),
}
SYSCTL_CAUSES = {
    "ip_forward": "ip-forward-disabled",
    "rp_filter": "rp-filter-strict",
    "bridge-nf-call": "br-netfilter-missing",
    "conntrack": "conntrack-full",
}
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
                  bad_findings: Sequence[Finding] = (), bad_traces: Sequence[TraceResult] = ()) -> list[Difference]:
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
    return rank(out, bad_findings, bad_traces)


def _causes_for(diff: Difference) -> tuple[str, ...]:
    if diff.kind == "sysctl":
        return tuple(c for frag, c in SYSCTL_CAUSES.items() if frag in diff.key)
    return EXPLAINS[diff.kind]


def _trace_lines(trace: TraceResult) -> set[tuple[str, str, int]]:
    lines = {(e.host, e.file, e.line) for hop in trace.hops for e in hop.consulted if e.line}
    for branch in trace.branches:
        lines |= _trace_lines(branch)
    if trace.reply is not None:
        lines |= _trace_lines(trace.reply)
    return lines


def _failing_paths(traces: Sequence[TraceResult]) -> list[tuple[str, set[tuple[str, str, int]]]]:
    """(label, bundle lines consulted) of every trace on the bad side that does not get through."""
    return [
        (f"trace {t.src_host} → {t.dst_ip} ({t.disposition})", _trace_lines(t))
        for t in traces
        if t.verdict != "reachable"
    ]


def rank(diffs: list[Difference], bad_findings: Sequence[Finding],
         bad_traces: Sequence[TraceResult] = ()) -> list[Difference]:
    """Mark which bad-side findings (and failing traces) each difference explains; order: explaining first.

    A difference explains a finding when its bad-side evidence quotes a line the finding quotes, or its
    kind can cause the finding's cause; it explains a failing trace when the trace consulted its line.
    """
    failing = _failing_paths(bad_traces)
    ranked: list[Difference] = []
    for d in diffs:
        ev = {(e.host, e.file, e.line) for e in d.evidence if e.line}
        explains: list[Finding] = []
        for f in bad_findings:
            if d.kind == "finding" or d.host not in f.hosts:
                continue
            overlap = any((e.host, e.file, e.line) in ev for e in f.evidence if e.line)
            if overlap or f.cause in _causes_for(d):
                explains.append(f)
        paths = [] if d.kind == "finding" else [label for label, lines in failing if ev & lines]
        weight = KIND_WEIGHT[d.kind]
        explanation = ""
        if explains:
            top = max(explains, key=lambda f: (f.severity.rank, f.impact))
            weight += 1000 + 100 * top.severity.rank + min(top.impact, 99)
            names = ", ".join(sorted({f"{f.rule} ({f.cause})" for f in explains}))
            explanation = f"This difference explains {names} on {d.host}: {top.title}."
        if paths:
            weight += 0 if explains else 1000  # being on a failing path ranks like explaining a finding
            on_path = f"It lies on the failing path: {'; '.join(paths)}."
            explanation = f"{explanation} {on_path}".strip()
        ranked.append(d.model_copy(update={
            "explains": sorted({f.anchor for f in explains}) + paths, "weight": weight,
            "explanation": explanation}))
    ranked.sort(key=lambda d: (-d.weight, d.kind, d.key, d.bad or "", d.good or ""))
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
                   bad_findings: Sequence[Finding] = (), bad_traces: Sequence[TraceResult] = ()) -> DiffResult:
    pairs = pair_hosts(good, bad)
    diffs: list[Difference] = []
    for g, b in pairs:
        diffs.extend(compare_hosts(g, b, good_findings, bad_findings, bad_traces))
    diffs.sort(key=lambda d: (-d.weight, d.host, d.kind, d.key, d.bad or "", d.good or ""))
    return DiffResult(
        good=[h.name for h in good], bad=[h.name for h in bad],
        pairs=[(g.name, b.name) for g, b in pairs], differences=diffs,
    )
