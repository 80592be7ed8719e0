"""The `Rule` base class, the context a rule's `check` receives, and helpers that build findings.

A rule module defines one subclass of `Rule` with a class attribute `meta: RuleMeta` and ends with
`rule = MyRule()`; discovery reads that module-level `rule`. Host-scoped rules get `ctx.host` set
(one host at a time); snapshot-scoped rules get `ctx.host = None` and iterate `ctx.hosts`. Every rule
reads the snapshot's reachability graph (`ctx.graph`): the combined facts, the required flows and what
blocks them.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar

from netsnap.engine.causes import CAUSES
from netsnap.engine.findings import Confidence, Finding, Severity
from netsnap.engine.meta import RuleMeta
from netsnap.model import Host, Provenance, Record, Snapshot, Sysctl, quote, quote_at
from netsnap.model.evidence import Evidence
from netsnap.secgroups.model import SecurityGroups

if TYPE_CHECKING:
    from netsnap.combine.overlay import Cluster
    from netsnap.graph.reachability import ReachabilityGraph

MAX_EVIDENCE = 20


@dataclass
class RuleContext:
    """What a rule may look at. `hosts` are the hosts the rule can run on (they hold the facts it needs);
    `graph` is the snapshot's reachability graph (combined facts, required flows and their blockers);
    `security_groups` is the loaded security-group exports (or None when none was given)."""

    snapshot: Snapshot
    hosts: list[Host]
    graph: ReachabilityGraph
    host: Host | None = None
    security_groups: SecurityGroups | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def cluster(self) -> Cluster:
        """The snapshot's overlay facts (the graph's; computed once)."""
        return self.graph.cluster

    @property
    def the_host(self) -> Host:
        """The host of a host-scoped run (raises in a snapshot-scoped rule: a programming error)."""
        if self.host is None:
            raise RuntimeError("the_host used in a snapshot-scoped rule")
        return self.host


def iface_sysctl(host: Host, iface: str, key: str) -> Sysctl | None:
    """`net.ipv4.conf.<iface>.<key>`; sysctl -a writes dots in interface names as slashes (flannel/1)."""
    return host.sysctls.get(f"net.ipv4.conf.{iface}.{key}") or host.sysctls.get(
        f"net.ipv4.conf.{iface.replace('.', '/')}.{key}"
    )


def evidence(host: Host, item: Record, text: str | None = None) -> Evidence:
    """Quote one parsed record of `host` (see `netsnap.model.evidence.quote`)."""
    return quote(host.name, item, text)


def evidence_at(host: Host, src: Provenance | None, text: str, source: str | None = None) -> Evidence:
    """Quote a fact of `host` that has provenance but no Record; without provenance, the file of
    `source` when given, else `(derived)`."""
    if src is None and source is not None:
        src = host.provenance(source)
    return quote_at(host.name, src, text)


class Rule(ABC):
    """Base of every rule. Subclasses set `meta` and implement `check`."""

    meta: ClassVar[RuleMeta]

    @abstractmethod
    def check(self, ctx: RuleContext) -> Iterable[Finding]:
        """Yield one Finding per proven cause (nothing when the rule passes)."""

    def finding(
        self,
        *,
        hosts: Sequence[str],
        explanation: str,
        evidence: Sequence[Evidence] = (),
        remediation: Sequence[str] = (),
        key: str = "",
        title: str | None = None,
        severity: Severity | None = None,
        confidence: Confidence | None = None,
        path: str | None = None,
        impact: int | None = None,
        checks: Sequence[str] = (),
        assumptions: Sequence[str] = (),
    ) -> Finding:
        """Build a Finding with the rule's metadata filled in (impact: the cause's unless given); evidence is
        capped at MAX_EVIDENCE lines. `checks` are the trace checks (Step.check) the finding explains."""
        ev = list(evidence)
        if len(ev) > MAX_EVIDENCE:
            dropped = len(ev) - MAX_EVIDENCE
            ev = [*ev[:MAX_EVIDENCE], Evidence(host=ev[0].host, file="(truncated)", text=f"... {dropped} more lines")]
        return Finding(
            rule=self.meta.id,
            cause=self.meta.cause,
            severity=severity or self.meta.severity,
            confidence=confidence or self.meta.confidence,
            title=title or self.meta.title,
            hosts=list(dict.fromkeys(hosts)),
            explanation=explanation,
            evidence=ev,
            remediation=list(remediation),
            references=list(self.meta.references),
            path=path,
            impact=CAUSES[self.meta.cause].impact if impact is None else impact,
            key=_slug(key),
            checks=list(dict.fromkeys(checks)),
            assumptions=list(dict.fromkeys(assumptions)),
        )


def _slug(key: str) -> str:
    out = []
    for ch in key.lower():
        out.append(ch if ch.isalnum() or ch in "-_." else "-")
    return "-".join(p for p in "".join(out).split("-") if p)
