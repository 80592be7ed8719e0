"""The result of a packet trace: steps with provenance, a disposition, a three-valued verdict."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from netsnap.model.evidence import Evidence
from netsnap.model.unchecked import fast_record

Verdict = Literal["reachable", "unreachable", "unknown"]
Disposition = Literal[
    "delivered",
    "denied-out",
    "denied-in",
    "no-route",
    "null-routed",
    "neighbour-unreachable",
    "loop",
    "insufficient-info",
    "mtu-exceeded",
]
StepAction = Literal["permit", "deny", "forward", "encapsulate", "decapsulate", "deliver", "nat", "unknown", "info"]


class PacketInfo(BaseModel):
    """The packet as a deny step saw it (what a fix must let through). `outer` marks the encapsulating UDP
    packet of an overlay flow."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    src: str | None = None
    dst: str
    proto: str
    sport: int | None = None
    dport: int | None = None
    iif: str | None = None
    oif: str | None = None
    outer: bool = False


class Step(BaseModel):
    """One thing the packet went through on one host, and what was consulted to decide it."""

    model_config = ConfigDict(extra="forbid")

    host: str
    stage: str  # e.g. "OUTPUT filter", "route", "vxlan encap", "security group egress", "INPUT filter"
    action: StepAction
    detail: str
    consulted: list[Evidence] = Field(default_factory=list)
    check: str = ""  # a stable key of the check that decided (deny steps): findings name it, bypasses use it
    packet: PacketInfo | None = None  # on deny steps: the packet that was stopped


def make_step(
    host: str, stage: str, action: StepAction, detail: str, consulted: list[Evidence], check: str = "",
    packet: PacketInfo | None = None,
) -> Step:
    """A Step from values the trace engine already typed (no validation pass: this is the hot loop).

    Equal to `Step(host=..., ...)` with every field set; `consulted` is copied, as validation would."""
    return fast_record(Step, {"host": host, "stage": stage, "action": action, "detail": detail,
                              "consulted": list(consulted), "check": check, "packet": packet})


class Doubt(BaseModel):
    """An undecidable point of a trace: what the truth might be instead (`deny`: the packet went on but may be
    stopped here; `pass`: it was stopped but may pass), why, and the check it concerns."""

    model_config = ConfigDict(extra="forbid")

    could: Literal["deny", "pass"]
    reason: str
    check: str = ""


class TraceResult(BaseModel):
    """One traced flow (or one branch of a forked flow, with its `share` of the traffic).

    `size` is the IP packet size traced with DF set (None: MTUs not checked). With `branches`, the
    top-level verdict is "reachable" only if every branch is, "unreachable" if any branch certainly
    fails (the reason gives the delivered share), else "unknown"; its `hops` are the first branch's.
    `reply` is the ICMP/TCP reply's own trace; a failing reply makes the flow fail. `assumptions` lists
    what the trace took as true without the bundle holding it (a neighbour entry flannel programs, a
    host without a cloud security group...).
    "mtu-exceeded" is a packet larger than an interface MTU on the path (DF set, or a frame dropped
    on receive).
    """

    model_config = ConfigDict(extra="forbid")

    src_host: str
    src_ip: str | None = None
    dst_ip: str
    proto: Literal["icmp", "tcp", "udp"] = "icmp"
    port: int | None = None
    size: int | None = None
    verdict: Verdict
    disposition: Disposition
    reason: str = ""
    share: float = 1.0
    hops: list[Step] = Field(default_factory=list)
    branches: list[TraceResult] = Field(default_factory=list)
    reply: TraceResult | None = None
    assumptions: list[str] = Field(default_factory=list)  # facts the bundles imply but do not hold
    doubts: list[Doubt] = Field(default_factory=list)  # undecidable points on the path (an "unknown" verdict's cause)

    def deciding_step(self) -> Step | None:
        """The step that ended a failed trace (its last deny or unknown step), None for a delivered one."""
        if self.verdict == "reachable":
            return None
        for s in reversed(self.hops):
            if s.action in ("deny", "unknown"):
                return s
        return self.hops[-1] if self.hops else None
