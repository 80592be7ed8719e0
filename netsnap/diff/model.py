"""Facts extracted for comparison, and the differences found between two sides."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from netsnap.model.evidence import Evidence

FactKind = Literal[
    "network",
    "default-route",
    "route",
    "policy-rule",
    "iptables-policy",
    "iptables-rules",
    "sysctl",
    "mtu",
    "link-state",
    "vxlan",
    "flannel-option",
    "flannel-iface",
    "finding",
]


class Fact(BaseModel):
    """One comparable, role-normalised fact about a host (e.g. "default routes: dev eth1 via ...")."""

    model_config = ConfigDict(extra="forbid")

    kind: FactKind
    key: str
    value: str
    evidence: list[Evidence] = Field(default_factory=list)


class Difference(BaseModel):
    """A fact that differs: `good`/`bad` are the normalised values (None = absent on that side)."""

    model_config = ConfigDict(extra="forbid")

    kind: FactKind
    key: str
    host: str
    good_host: str
    good: str | None
    bad: str | None
    summary: str
    explains: list[str] = Field(default_factory=list)  # anchors of the findings it explains
    paths: list[str] = Field(default_factory=list)  # blocked required flows whose blocking step it is on
    effect: bool = False  # it touches a blocked required flow (else: "no effect on reachability")
    explanation: str = ""
    evidence: list[Evidence] = Field(default_factory=list)
    weight: int = 0


class DiffResult(BaseModel):
    model_config = ConfigDict(extra="forbid")

    good: list[str]
    bad: list[str]
    pairs: list[tuple[str, str]]
    differences: list[Difference] = Field(default_factory=list)
    ignored: list[str] = Field(default_factory=list)

    @property
    def without_effect(self) -> int:
        """How many differences have no effect on reachability."""
        return sum(1 for d in self.differences if not d.effect)
