"""Routes (all tables, all types) and policy-routing rules."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from netsnap.model.base import Record

IPAddress = IPv4Address | IPv6Address
IPNetwork = IPv4Network | IPv6Network

RouteType = Literal[
    "unicast", "local", "broadcast", "multicast", "blackhole", "unreachable", "prohibit", "throw", "nat", "anycast"
]
RouteOrigin = Literal["ip-route", "route-n", "proc-net-route"]


class NextHop(BaseModel):
    """One leg of a multipath route (`nexthop via A dev X weight W`)."""

    model_config = ConfigDict(extra="forbid")

    gateway: IPAddress | None = None
    dev: str | None = None
    weight: int = 1
    onlink: bool = False
    dead: bool = False
    linkdown: bool = False


class Route(Record):
    """One route, normalised from `ip route show table all`, `route -n` or `/proc/net/route`.

    `table` is the name `ip route` prints ("main", "local", or a number as text); `route -n`
    and `/proc/net/route` only show the main table. `flags` keeps `route -n`'s flag letters.
    """

    origin: RouteOrigin
    table: str = "main"
    type: RouteType = "unicast"
    dst: IPNetwork
    gateway: IPAddress | None = None
    dev: str | None = None
    proto: str | None = None
    scope: str | None = None
    prefsrc: IPAddress | None = None
    metric: int = 0
    onlink: bool = False
    linkdown: bool = False
    dead: bool = False
    flags: str = ""
    nexthops: list[NextHop] = Field(default_factory=list)
    extra: dict[str, str] = Field(default_factory=dict)

    @property
    def is_default(self) -> bool:
        return self.dst.prefixlen == 0


class PolicyRule(Record):
    """One `ip rule` line: `PRIO: [not] from X [to Y] [iif I] [oif O] [fwmark M] lookup T`."""

    priority: int
    invert: bool = False
    from_net: IPNetwork | None = None
    to_net: IPNetwork | None = None
    iif: str | None = None
    oif: str | None = None
    fwmark: str | None = None
    action: Literal["lookup", "goto", "blackhole", "unreachable", "prohibit", "nop"] = "lookup"
    table: str | None = None
    extra: dict[str, str] = Field(default_factory=dict)
