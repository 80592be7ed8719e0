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


class Step(BaseModel):
    """One thing the packet went through on one host, and what was consulted to decide it."""

    model_config = ConfigDict(extra="forbid")

    host: str
    stage: str  # e.g. "OUTPUT filter", "route", "vxlan encap", "security group egress", "INPUT filter"
    action: StepAction
    detail: str
    consulted: list[Evidence] = Field(default_factory=list)


def make_step(host: str, stage: str, action: StepAction, detail: str, consulted: list[Evidence]) -> Step:
    """A Step from values the trace engine already typed (no validation pass: this is the hot loop).

    Equal to `Step(host=..., ...)` with every field set; `consulted` is copied, as validation would."""
    return fast_record(Step, {"host": host, "stage": stage, "action": action, "detail": detail,
                              "consulted": list(consulted)})


class TraceResult(BaseModel):
    """One traced flow (or one branch of a forked flow, with its `share` of the traffic).

    `size` is the IP packet size traced with DF set (None: MTUs not checked). With `branches`, the
    top-level verdict is "reachable" only if every branch is, "unreachable" if any branch certainly
    fails (the reason gives the delivered share), else "unknown"; its `hops` are the first branch's.
    `reply` is the ICMP/TCP reply's own trace; a failing reply makes the flow fail.
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
