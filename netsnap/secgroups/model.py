"""The normalised security-group model every provider export becomes."""

from __future__ import annotations

from ipaddress import IPv4Network, IPv6Network
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from netsnap.model.base import Provenance

Direction = Literal["ingress", "egress"]
Action = Literal["allow", "deny"]
BOTH_DIRECTIONS: tuple[Direction, Direction] = ("ingress", "egress")
Provider = Literal["neutron-osc", "neutron", "huawei-v3", "aws", "alibaba", "native"]

# Providers whose rules carry a priority and may deny: first match by (priority, deny first) wins.
ORDERED_PROVIDERS: frozenset[str] = frozenset({"huawei-v3", "alibaba", "native"})


class PortRange(BaseModel):
    """An inclusive port interval."""

    model_config = ConfigDict(frozen=True)

    lo: int
    hi: int

    def contains(self, port: int) -> bool:
        return self.lo <= port <= self.hi

    def __str__(self) -> str:
        return str(self.lo) if self.lo == self.hi else f"{self.lo}-{self.hi}"


class SGRule(BaseModel):
    """One rule of one group, whatever the provider.

    `protocol` is a lower-case name (`tcp`, `udp`, `icmp`, ...) or an IP protocol number as text;
    None means any protocol. `ports` None means all ports. `remote_cidr` and `remote_group` are
    exclusive; both None (and no `remote_other`) means any remote. `remote_other` names a remote
    netsnap cannot resolve (an address group, a prefix list): matching it is undecidable.
    """

    model_config = ConfigDict(extra="forbid")

    provider: str
    group_id: str
    group_name: str = ""
    direction: Direction
    ethertype: Literal[4, 6] = 4
    protocol: str | None = None
    ports: list[PortRange] | None = None
    icmp_type: int | None = None
    icmp_code: int | None = None
    remote_cidr: IPv4Network | IPv6Network | None = None
    remote_group: str | None = None
    remote_other: str | None = None
    action: Action = "allow"
    priority: int | None = None
    rule_id: str = ""
    description: str = ""
    src: Provenance
    raw: str = ""

    def describe(self) -> str:
        """Short human form, e.g. `ingress udp 8472 from 192.168.0.0/24 allow`."""
        proto = self.protocol or "any"
        ports = ",".join(str(p) for p in self.ports) if self.ports else ""
        if self.protocol == "icmp" and self.icmp_type is not None:
            ports = f"type {self.icmp_type}"
        remote = str(self.remote_cidr or "") or (f"group {self.remote_group}" if self.remote_group else "")
        remote = remote or self.remote_other or "any"
        word = "from" if self.direction == "ingress" else "to"
        prio = f" priority {self.priority}" if self.priority is not None else ""
        return " ".join(x for x in (self.direction, proto, ports, word, remote, self.action) if x) + prio


class SecurityGroupSet(BaseModel):
    """The rules of one export file: one or several groups of one provider.

    `groups` lists the group ids the file describes (in file order: Huawei matches groups by
    sequence). `stateful` False only when the export says so (Neutron `stateful: false`).
    `directions` are those the export describes: an old `openstack security group rule list`
    without a Direction column lists ingress rules only, so its egress is unknown, not denied.
    """

    model_config = ConfigDict(extra="forbid")

    provider: str
    file: str
    groups: list[str] = Field(default_factory=list)
    rules: list[SGRule] = Field(default_factory=list)
    stateful: bool = True
    directions: list[Direction] = Field(default_factory=lambda: list(BOTH_DIRECTIONS))

    @property
    def ordered(self) -> bool:
        return self.provider in ORDERED_PROVIDERS

    def has_direction(self, direction: Direction) -> bool:
        return any(r.direction == direction for r in self.rules)


class SecurityGroups(BaseModel):
    """Security-group exports attached to hosts (keyed by host name).

    `default` says what a host without an export means: "unknown" (it may sit behind a cloud
    security group nobody exported; crossing it is undecidable) or "open" (no security groups,
    e.g. bare metal or a lab).
    """

    model_config = ConfigDict(extra="forbid")

    attached: dict[str, list[SecurityGroupSet]] = Field(default_factory=dict)
    default: Literal["unknown", "open"] = "unknown"

    def for_host(self, host: str) -> list[SecurityGroupSet] | None:
        return self.attached.get(host)

    def members(self, group_id: str) -> list[str]:
        """Host names with `group_id` attached."""
        return [h for h, sets in self.attached.items() if any(group_id in s.groups for s in sets)]
