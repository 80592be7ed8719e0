"""The `Rule` base class, the context a rule's `check` receives, and helpers that build findings.

A rule module defines one subclass of `Rule` with a class attribute `meta: RuleMeta` and ends with
`rule = MyRule()`; discovery reads that module-level `rule`. Host-scoped rules get `ctx.host` set
(one host at a time); snapshot-scoped rules get `ctx.host = None` and iterate `ctx.hosts`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar

from netsnap.engine.findings import Confidence, Finding, Severity
from netsnap.engine.meta import RuleMeta
from netsnap.model import Host, Provenance, Record, Snapshot, Sysctl
from netsnap.model.evidence import Evidence
from netsnap.secgroups.model import SecurityGroups

if TYPE_CHECKING:
    from netsnap.engine.cluster import Cluster

MAX_EVIDENCE = 20


@dataclass
class RuleContext:
    """What a rule may look at. `hosts` are the hosts the rule can run on (their sources are present);
    `cluster` holds cross-host overlay facts computed once per run; `security_groups` is the loaded
    security-group exports (or None when none was given); `trace` is a trace engine when one is available."""

    snapshot: Snapshot
    hosts: list[Host]
    cluster: Cluster
    host: Host | None = None
    security_groups: SecurityGroups | None = None
    trace: object | None = None
    notes: list[str] = field(default_factory=list)

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
    """Quote one parsed record: its bundle file, line and raw text."""
    return Evidence(host=host.name, file=item.src.file, line=item.src.line, text=text if text is not None else item.raw)


def evidence_at(host: Host, src: Provenance | None, text: str, source: str | None = None) -> Evidence:
    """Quote a fact that has provenance but no Record (e.g. a chain policy or a subnet.env key)."""
    if src is None and source is not None:
        src = host.provenance(source)
    if src is None:
        return Evidence(host=host.name, file="(derived)", line=0, text=text)
    return Evidence(host=host.name, file=src.file, line=src.line, text=text)


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
        impact: int = 0,
    ) -> Finding:
        """Build a Finding with the rule's metadata filled in; evidence is capped at MAX_EVIDENCE lines."""
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
            impact=impact,
            key=_slug(key),
        )


def _slug(key: str) -> str:
    out = []
    for ch in key.lower():
        out.append(ch if ch.isalnum() or ch in "-_." else "-")
    return "-".join(p for p in "".join(out).split("-") if p)
